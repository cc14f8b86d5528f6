//! The header badge showing whether the server and its database answer.

use leptos::prelude::*;

use crate::api;

/// Fetches `/healthz` once and shows the result.
#[component]
pub fn HealthBadge() -> impl IntoView {
    let health = LocalResource::new(api::health);
    view! {
        <Suspense fallback=|| view! { <span class="badge" data-testid="health">"连接中…"</span> }>
            {move || health.get().map(|r| match r {
                Ok(h) if h.status == "ok" => view! {
                    <span class="badge ok" data-testid="health" title=format!("v{}", h.version)>"服务正常"</span>
                }.into_any(),
                Ok(h) => view! {
                    <span class="badge bad" data-testid="health">{format!("服务异常: {}", h.status)}</span>
                }.into_any(),
                Err(e) => view! {
                    <span class="badge bad" data-testid="health">{format!("无法连接: {}", e.0)}</span>
                }.into_any(),
            })}
        </Suspense>
    }
}
