//! ParkBridge admin UI: a client-side Leptos app that reuses the `protocol` crate in wasm.

mod api;
mod format;
pub mod pages;

use leptos::prelude::*;

/// The whole application: header with the server's health, then the current page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <header>
            <h1>"ParkBridge 停车对接网关"</h1>
            <pages::health::HealthBadge />
        </header>
        <main>
            <pages::fee_preview::FeePreview />
        </main>
    }
}
