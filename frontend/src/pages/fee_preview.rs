//! Live fee preview: the protocol crate's `quote` running in the browser on a sample tariff.

use chrono::{TimeDelta, Utc};
use leptos::prelude::*;
use protocol::quote::{Quote, Session, quote};
use protocol::tariff::Tariff;

use crate::format::{parse_shanghai, shanghai_minutes, yuan};

/// Entry time, query time and Mallcoo's free minutes in; the quote out, recomputed as you type.
#[component]
pub fn FeePreview() -> impl IntoView {
    let tariff = Tariff::example();
    let now = Utc::now();
    let entry = RwSignal::new(shanghai_minutes(now - TimeDelta::minutes(90)));
    let query = RwSignal::new(shanghai_minutes(now));
    let free_minutes = RwSignal::new("0".to_owned());

    let result = Memo::new(move |_| -> Result<Quote, String> {
        let entry = parse_shanghai(&entry.get()).map_err(|e| format!("入场时间: {e}"))?;
        let now = parse_shanghai(&query.get()).map_err(|e| format!("计费时间: {e}"))?;
        let free = free_minutes
            .get()
            .trim()
            .parse::<u32>()
            .map_err(|_| "免费时长须为非负整数分钟".to_owned())?;
        let tariff = Tariff::example();
        quote(
            &Session {
                entry,
                tariff: &tariff,
            },
            &[],
            None,
            now,
            free,
            0,
        )
        .map_err(|e| match e {
            protocol::quote::QuoteError::NowBeforeEntry { .. } => "计费时间早于入场时间".to_owned(),
            other => other.to_string(),
        })
    });

    view! {
        <section>
            <h2>"停车费预览"</h2>
            <p>{describe(&tariff)}</p>
            <label for="entry-time">"入场时间"</label>
            <input id="entry-time" data-testid="entry-time" placeholder="2026-11-23 08:30"
                prop:value=entry on:input=move |ev| entry.set(event_target_value(&ev)) />
            <label for="query-time">"计费时间"</label>
            <input id="query-time" data-testid="query-time" placeholder="2026-11-23 10:00"
                prop:value=query on:input=move |ev| query.set(event_target_value(&ev)) />
            <label for="free-minutes">"猫酷免费时长（分钟）"</label>
            <input id="free-minutes" data-testid="free-minutes" inputmode="numeric"
                prop:value=free_minutes on:input=move |ev| free_minutes.set(event_target_value(&ev)) />
            {move || match result.get() {
                Ok(q) => view! {
                    <div class="fee" data-testid="fee-total">{yuan(q.total)}</div>
                    <table>
                        <tr><th>"停车时长"</th><td data-testid="parking-minutes">{format!("{} 分钟", q.parking_minutes)}</td></tr>
                        <tr><th>"优惠抵扣"</th><td data-testid="deduction">{yuan(q.deduction)}</td></tr>
                        <tr><th>"本次应付"</th><td data-testid="unpaid">{yuan(q.unpaid)}</td></tr>
                    </table>
                }.into_any(),
                Err(e) => view! { <p class="error" data-testid="fee-error">{e}</p> }.into_any(),
            }}
        </section>
    }
}

/// One line describing the sample tariff, computed from it so the text cannot drift.
fn describe(t: &Tariff) -> String {
    use protocol::tariff::Pricing;
    let cap = t
        .cycle_cap
        .map(|c| format!("，每 24 小时封顶 {}", yuan(c)))
        .unwrap_or_default();
    match &t.pricing {
        Pricing::Simple(p) => format!(
            "示例收费标准：{} 分钟内免费；首 {} 分钟 {}，之后每 {} 分钟 {}{cap}。",
            t.free_minutes,
            p.first_minutes,
            yuan(p.first_price),
            p.unit_minutes,
            yuan(p.unit_price)
        ),
        Pricing::TimeOfDay(p) => format!(
            "示例收费标准：分时段计费，共 {} 个时段{cap}。",
            p.periods.len()
        ),
    }
}
