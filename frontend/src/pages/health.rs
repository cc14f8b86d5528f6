//! The header badge showing whether the server and its database answer.

use leptos::prelude::*;

use crate::api;
use crate::i18n::{self, Text, fill, tr};

/// Fetches `/healthz` once and shows the result.
#[component]
pub fn HealthBadge() -> impl IntoView {
    let health = LocalResource::new(api::health);
    let lang = i18n::lang();
    view! {
        <Suspense fallback=|| view! { <span class="badge" data-testid="health">{tr(Text::HealthConnecting)}</span> }>
            {move || health.get().map(|r| match r {
                Ok(h) if h.status == "ok" => view! {
                    <span class="badge ok" data-testid="health" title=format!("v{}", h.version)>{tr(Text::HealthOk)}</span>
                }.into_any(),
                Ok(h) => view! {
                    <span class="badge bad" data-testid="health">
                        {move || fill(Text::HealthDegraded.text(lang.get()), &[&h.status])}
                    </span>
                }.into_any(),
                Err(e) => view! {
                    <span class="badge bad" data-testid="health">
                        {move || fill(Text::HealthUnreachable.text(lang.get()), &[&e.describe(lang.get())])}
                    </span>
                }.into_any(),
            })}
        </Suspense>
    }
}
