//! ParkBridge admin UI: a client-side Leptos app that reuses the `protocol` crate in wasm.

mod api;
mod format;
pub mod i18n;
pub mod pages;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use i18n::{Text, tr};
use pages::layout::{Layout, provide_session};

/// The whole application: header (title, language, health), then the routed page.
#[component]
pub fn App() -> impl IntoView {
    i18n::provide_language();
    provide_session();
    let lang = i18n::lang();
    // The tab title follows the language too.
    Effect::new(move |_| document().set_title(Text::AppTitle.text(lang.get())));
    view! {
        <Router>
            <header>
                <h1 data-testid="app-title">{tr(Text::AppTitle)}</h1>
                <pages::health::HealthBadge />
                <i18n::LanguageSwitch />
            </header>
            <main>
                <Routes fallback=|| view! { <p class="error" data-testid="not-found">{tr(Text::PageNotFound)}</p> }>
                    <Route path=path!("/login") view=pages::login::LoginPage />
                    <ParentRoute path=path!("") view=Layout>
                        <Route path=path!("") view=|| view! { <Redirect path="/parks" /> } />
                        <Route path=path!("parks") view=pages::parks::ParksPage />
                        <Route path=path!("parks/:id/coupons") view=pages::coupon_settings::CouponSettingsPage />
                        <Route path=path!("parks/:id/tariff") view=pages::tariff_editor::TariffEditorPage />
                        <Route path=path!("traffic") view=pages::traffic_dashboard::TrafficPage />
                        <Route path=path!("sessions") view=pages::sessions::SessionsPage />
                        <Route path=path!("coupons") view=pages::coupons::CouponsPage />
                        <Route path=path!("credentials") view=pages::credentials::CredentialsPage />
                        <Route path=path!("users") view=pages::users::UsersPage />
                        <Route path=path!("api-keys") view=pages::api_keys::ApiKeysPage />
                        <Route path=path!("audit") view=pages::audit::AuditPage />
                        <Route path=path!("preview") view=pages::fee_preview::FeePreview />
                        <Route path=path!("vip") view=pages::vip_list::VipPage />
                        // Before `vip/:id`, so "import" is never read as a record id.
                        <Route path=path!("vip/import") view=pages::vip_import::VipImportPage />
                        <Route path=path!("vip/:id") view=pages::vip_record::VipRecordPage />
                    </ParentRoute>
                </Routes>
            </main>
        </Router>
    }
}
