//! The signed-in pages, fetched in eight groups on first use rather than with the first download.
//!
//! Each group is one split point (`wasm_split`, what Leptos' `#[lazy]` expands to): the build's
//! split step (`crates/xtask/src/bin/wasm_bindgen_split.rs`) moves the code only that group reaches into a
//! wasm file of its own, and code several groups share into chunks they load together. The
//! sign-in page, the frame and what every page uses stay in the main module, which is all the
//! first render needs. Groups rather than single pages keep a group's first visit to 14–16
//! requests (per-page points made 215 shared chunks, up to 138 requests for one page).
//!
//! A group that cannot be fetched (network down, a server upgraded under an open tab) shows
//! `Text::PageLoadFailed` in the frame instead of stopping the app, and opening the page again
//! retries: the points are `fallible`, which Leptos' `#[lazy]` does not offer.

use leptos::prelude::*;
use leptos::wasm_split::{SplitLoaderError, wasm_split};
use leptos_router::LazyRoute;

use crate::i18n::{Text, tr};
use crate::pages;

/// A page whose group could not be fetched.
#[derive(Debug)]
pub(crate) struct NotLoaded;

impl From<SplitLoaderError> for NotLoaded {
    fn from(_: SplitLoaderError) -> Self {
        NotLoaded
    }
}

/// What a page shows when its group could not be fetched.
fn not_loaded() -> AnyView {
    view! { <p class="error" data-testid="page-load-failed">{tr(Text::PageLoadFailed)}</p> }
        .into_any()
}

/// Declares a group: its enum of pages, its split point, and one route type per page.
macro_rules! page_group {
    (
        $(#[$doc:meta])*
        $group:ident: $kind:ident { $($page:ident => $route:ident = $view:path,)* }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        #[repr(u8)]
        pub(crate) enum $kind {
            $($page,)*
        }

        #[wasm_split($group, wasm_split_path = ::leptos::wasm_split, fallible)]
        fn $group(page: $kind) -> Result<AnyView, NotLoaded> {
            Ok(match page {
                $($kind::$page => $view().into_any(),)*
            })
        }

        $(
            #[doc = concat!("The route of `", stringify!($view), "`.")]
            pub(crate) struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    $group($kind::$page).await.unwrap_or_else(|NotLoaded| not_loaded())
                }
            }
        )*
    };
}

page_group! {
    /// Car parks and what is set per car park (the landing page after sign-in).
    park_pages: ParkPage {
        List => ParksRoute = pages::parks::ParksPage,
        CouponSettings => CouponSettingsRoute = pages::coupon_settings::CouponSettingsPage,
        Tariff => TariffEditorRoute = pages::tariff_editor::TariffEditorPage,
        PyunGateway => PyunGatewayRoute = pages::pyun_gateway::PyunGatewayPage,
        FeePreview => FeePreviewRoute = pages::fee_preview::FeePreview,
    }
}

page_group! {
    /// The car parks' shops, their offers and statements (issue 17).
    shop_admin_pages: ShopAdminPage {
        List => ShopsRoute = pages::shops::ShopsPage,
        Statement => ShopStatementRoute = pages::shop_statement::ShopStatementPage,
    }
}

page_group! {
    /// The coupon requests and their outcomes.
    coupon_pages: CouponPage {
        Records => CouponsRoute = pages::coupons::CouponsPage,
    }
}

page_group! {
    /// Fixed-car (VIP) records, their import and one record.
    vip_pages: VipPage {
        List => VipRoute = pages::vip_list::VipPage,
        Import => VipImportRoute = pages::vip_import::VipImportPage,
        Record => VipRecordRoute = pages::vip_record::VipRecordPage,
    }
}

page_group! {
    /// The traffic dashboard, the parking sessions and one stay (mall staff).
    traffic_pages: TrafficPage {
        Dashboard => TrafficRoute = pages::traffic_dashboard::TrafficPage,
        Sessions => SessionsRoute = pages::sessions::SessionsPage,
        Stay => StayRoute = pages::stay::StayPage,
    }
}

page_group! {
    /// A merchant's till (issue 17): the only page a merchant opens, so only merchants fetch it
    /// and its QR encoder.
    shop_pages: ShopPage {
        Desk => ShopRoute = pages::shop::ShopDeskPage,
    }
}

page_group! {
    /// Alerting (issue 18): the problems (admins and managers, opened from the header's count)
    /// and the channels they are sent to (admins).
    alert_pages: AlertPage {
        Problems => ProblemsRoute = pages::problems::ProblemsPage,
        Channels => AlertChannelsRoute = pages::alert_channels::AlertChannelsPage,
    }
}

page_group! {
    /// Administration: credentials, users, API keys, the audit log.
    admin_pages: AdminPage {
        Credentials => CredentialsRoute = pages::credentials::CredentialsPage,
        Users => UsersRoute = pages::users::UsersPage,
        ApiKeys => ApiKeysRoute = pages::api_keys::ApiKeysPage,
        Audit => AuditRoute = pages::audit::AuditPage,
    }
}
