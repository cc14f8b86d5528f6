//! The header badge showing whether the server and its database answer.

use leptos::prelude::*;

use crate::api;
use crate::i18n::{self, Text, fill, tr};
use crate::ui::{Badge, Tone};

/// Fetches `/healthz` once and shows the result as a kit badge (dark text on a light tint,
/// readable on the dark header).
#[component]
pub fn HealthBadge() -> impl IntoView {
    let health = LocalResource::new(api::health);
    let lang = i18n::lang();
    view! {
        <Suspense fallback=|| view! { <Badge tone=Tone::Neutral test_id="health">{tr(Text::HealthConnecting)}</Badge> }>
            {move || health.get().map(|r| match r {
                Ok(h) if h.status == "ok" => view! {
                    <Badge tone=Tone::Ok test_id="health" {..} title=format!("v{}", h.version)>{tr(Text::HealthOk)}</Badge>
                }.into_any(),
                Ok(h) => view! {
                    <Badge tone=Tone::Danger test_id="health">
                        {move || fill(Text::HealthDegraded.text(lang.get()), &[&h.status])}
                    </Badge>
                }.into_any(),
                Err(e) => view! {
                    <Badge tone=Tone::Danger test_id="health">
                        {move || fill(Text::HealthUnreachable.text(lang.get()), &[&e.describe(lang.get())])}
                    </Badge>
                }.into_any(),
            })}
        </Suspense>
    }
}
