//! The signed-in pages, fetched in five groups on first use rather than with the first download.
//!
//! Each group is one split point (`wasm_split`, what Leptos' `#[lazy]` expands to): the build's
//! split step (`crates/xtask/src/bin/wasm_bindgen_split.rs`) moves the code only that group reaches into a
//! wasm file of its own, and code several groups share into chunks they load together. The
//! sign-in page, the frame and what every page uses stay in the main module, which is all the
//! first render needs. Groups rather than single pages keep a first visit to a handful of
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

/// Car parks and what is set per car park (the landing page after sign-in).
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
pub(crate) enum ParkPage {
    List,
    CouponSettings,
    Tariff,
    FeePreview,
}

#[wasm_split(park_pages, wasm_split_path = ::leptos::wasm_split, fallible)]
fn park_pages(page: ParkPage) -> Result<AnyView, NotLoaded> {
    Ok(match page {
        ParkPage::List => pages::parks::ParksPage().into_any(),
        ParkPage::CouponSettings => pages::coupon_settings::CouponSettingsPage().into_any(),
        ParkPage::Tariff => pages::tariff_editor::TariffEditorPage().into_any(),
        ParkPage::FeePreview => pages::fee_preview::FeePreview().into_any(),
    })
}

/// The coupon requests and their outcomes.
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
pub(crate) enum CouponPage {
    Records,
}

#[wasm_split(coupon_pages, wasm_split_path = ::leptos::wasm_split, fallible)]
fn coupon_pages(page: CouponPage) -> Result<AnyView, NotLoaded> {
    Ok(match page {
        CouponPage::Records => pages::coupons::CouponsPage().into_any(),
    })
}

/// Fixed-car (VIP) records, their import and one record.
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
pub(crate) enum VipPage {
    List,
    Import,
    Record,
}

#[wasm_split(vip_pages, wasm_split_path = ::leptos::wasm_split, fallible)]
fn vip_pages(page: VipPage) -> Result<AnyView, NotLoaded> {
    Ok(match page {
        VipPage::List => pages::vip_list::VipPage().into_any(),
        VipPage::Import => pages::vip_import::VipImportPage().into_any(),
        VipPage::Record => pages::vip_record::VipRecordPage().into_any(),
    })
}

/// The traffic dashboard and the parking sessions (mall staff).
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
pub(crate) enum TrafficPage {
    Dashboard,
    Sessions,
}

#[wasm_split(traffic_pages, wasm_split_path = ::leptos::wasm_split, fallible)]
fn traffic_pages(page: TrafficPage) -> Result<AnyView, NotLoaded> {
    Ok(match page {
        TrafficPage::Dashboard => pages::traffic_dashboard::TrafficPage().into_any(),
        TrafficPage::Sessions => pages::sessions::SessionsPage().into_any(),
    })
}

/// Administration: credentials, users, API keys, the audit log.
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
pub(crate) enum AdminPage {
    Credentials,
    Users,
    ApiKeys,
    Audit,
}

#[wasm_split(admin_pages, wasm_split_path = ::leptos::wasm_split, fallible)]
fn admin_pages(page: AdminPage) -> Result<AnyView, NotLoaded> {
    Ok(match page {
        AdminPage::Credentials => pages::credentials::CredentialsPage().into_any(),
        AdminPage::Users => pages::users::UsersPage().into_any(),
        AdminPage::ApiKeys => pages::api_keys::ApiKeysPage().into_any(),
        AdminPage::Audit => pages::audit::AuditPage().into_any(),
    })
}

/// A route type whose view is one page of a lazily loaded group.
macro_rules! lazy_route {
    ($route:ident => $group:ident($page:expr)) => {
        #[doc = concat!("The route showing `", stringify!($page), "`.")]
        pub(crate) struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                $group($page).await.unwrap_or_else(|NotLoaded| not_loaded())
            }
        }
    };
}

lazy_route!(ParksRoute => park_pages(ParkPage::List));
lazy_route!(CouponSettingsRoute => park_pages(ParkPage::CouponSettings));
lazy_route!(TariffEditorRoute => park_pages(ParkPage::Tariff));
lazy_route!(FeePreviewRoute => park_pages(ParkPage::FeePreview));
lazy_route!(CouponsRoute => coupon_pages(CouponPage::Records));
lazy_route!(VipRoute => vip_pages(VipPage::List));
lazy_route!(VipImportRoute => vip_pages(VipPage::Import));
lazy_route!(VipRecordRoute => vip_pages(VipPage::Record));
lazy_route!(TrafficRoute => traffic_pages(TrafficPage::Dashboard));
lazy_route!(SessionsRoute => traffic_pages(TrafficPage::Sessions));
lazy_route!(CredentialsRoute => admin_pages(AdminPage::Credentials));
lazy_route!(UsersRoute => admin_pages(AdminPage::Users));
lazy_route!(ApiKeysRoute => admin_pages(AdminPage::ApiKeys));
lazy_route!(AuditRoute => admin_pages(AdminPage::Audit));
