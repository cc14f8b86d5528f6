//! ParkBridge admin UI: a client-side Leptos app that reuses the `protocol` crate in wasm.

mod api;
mod format;
pub mod i18n;
mod lazy_pages;
pub mod pages;
mod ui;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, path};

use i18n::{Text, tr};
use lazy_pages as lazy;
use pages::layout::{Layout, provide_session};

/// The whole application: header (title, language, health), then the routed page.
#[component]
pub fn App() -> impl IntoView {
    i18n::provide_language();
    provide_session();
    ui::provide();
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
                        <Route path=path!("") view=pages::layout::Home />
                        <Route path=path!("shop") view={Lazy::<lazy::ShopRoute>::new()} />
                        <Route path=path!("parks") view={Lazy::<lazy::ParksRoute>::new()} />
                        <Route path=path!("parks/:id/coupons") view={Lazy::<lazy::CouponSettingsRoute>::new()} />
                        <Route path=path!("parks/:id/tariff") view={Lazy::<lazy::TariffEditorRoute>::new()} />
                        <Route path=path!("parks/:id/pyun") view={Lazy::<lazy::PyunGatewayRoute>::new()} />
                        <Route path=path!("shops") view={Lazy::<lazy::ShopsRoute>::new()} />
                        <Route path=path!("shops/:id/statement") view={Lazy::<lazy::ShopStatementRoute>::new()} />
                        <Route path=path!("traffic") view={Lazy::<lazy::TrafficRoute>::new()} />
                        <Route path=path!("sessions") view={Lazy::<lazy::SessionsRoute>::new()} />
                        <Route path=path!("sessions/:id") view={Lazy::<lazy::StayRoute>::new()} />
                        <Route path=path!("coupons") view={Lazy::<lazy::CouponsRoute>::new()} />
                        <Route path=path!("credentials") view={Lazy::<lazy::CredentialsRoute>::new()} />
                        <Route path=path!("users") view={Lazy::<lazy::UsersRoute>::new()} />
                        <Route path=path!("api-keys") view={Lazy::<lazy::ApiKeysRoute>::new()} />
                        <Route path=path!("audit") view={Lazy::<lazy::AuditRoute>::new()} />
                        <Route path=path!("problems") view={Lazy::<lazy::ProblemsRoute>::new()} />
                        <Route path=path!("alerts") view={Lazy::<lazy::AlertChannelsRoute>::new()} />
                        <Route path=path!("preview") view={Lazy::<lazy::FeePreviewRoute>::new()} />
                        <Route path=path!("vip") view={Lazy::<lazy::VipRoute>::new()} />
                        // Before `vip/:id`, so "import" is never read as a record id.
                        <Route path=path!("vip/import") view={Lazy::<lazy::VipImportRoute>::new()} />
                        <Route path=path!("vip/:id") view={Lazy::<lazy::VipRecordRoute>::new()} />
                    </ParentRoute>
                </Routes>
            </main>
            <ui::ToastHost />
            <ui::ConfirmHost />
        </Router>
    }
}
