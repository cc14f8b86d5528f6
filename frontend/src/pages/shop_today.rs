//! The shop's day: each offer's count against its daily quota (and its month's budget), and
//! today's validations, newest first — plate or QR code, offer, state with P云's reason.

use leptos::prelude::*;

use crate::api::{OfferUse, Validation};
use crate::format::shanghai_minutes;
use crate::i18n::{self, Text, tr};
use crate::pages::shop::use_text;
use crate::ui::{Badge, EmptyState, Table, Tone};

/// Today's use per offer and the history.
pub(crate) fn today_section(
    offers: Signal<Vec<OfferUse>>,
    history: RwSignal<Vec<Validation>>,
) -> impl IntoView {
    let lang = i18n::lang();
    let uses = move || {
        offers
            .get()
            .into_iter()
            .map(|o| {
                let full = o.used_today >= o.daily_quota;
                let (id, used, quota, name) = (o.id, o.used_today, o.daily_quota, o.name.clone());
                view! {
                    <li class="use" class:full=full data-testid=format!("shop-use-{id}")
                        data-used=used.to_string() data-quota=quota.to_string()>
                        <span class="offer-name">{name}</span>
                        <span class="offer-use">{move || use_text(&o, lang.get())}</span>
                    </li>
                }
            })
            .collect_view()
    };
    let rows = move || {
        history
            .get()
            .into_iter()
            .map(|v| history_row(v, offers))
            .collect_view()
    };
    view! {
        <section class="shop-today" data-testid="shop-today">
            <h3>{tr(Text::ShopTodayTitle)}</h3>
            <ul class="uses" data-testid="shop-uses">{uses}</ul>
            <h3>{tr(Text::ShopHistory)}</h3>
            <Show when=move || history.with(|h| !h.is_empty())
                fallback=|| view! { <EmptyState test_id="shop-history-empty" /> }>
                <Table test_id="shop-history"
                    columns=vec![Text::ShopTime, Text::ShopWhat, Text::ShopOffer, Text::State]>
                    {rows}
                </Table>
            </Show>
        </section>
    }
}

/// One validation: its time (Shanghai, to the minute), plate or 二维码, offer and state.
fn history_row(v: Validation, offers: Signal<Vec<OfferUse>>) -> impl IntoView {
    let at = shanghai_minutes(v.created_at);
    let time = at
        .split_once(' ')
        .map_or(at.as_str(), |(_, t)| t)
        .to_owned();
    let what = match v.plate.clone() {
        Some(p) => view! { <span>{p}</span> }.into_any(),
        None => view! { <span>{tr(Text::ShopQrKind)}</span> }.into_any(),
    };
    let offer = if v.offer_name.is_empty() {
        offers.with_untracked(|o| {
            o.iter()
                .find(|o| o.id == v.offer_id)
                .map(|o| o.name.clone())
                .unwrap_or_default()
        })
    } else {
        v.offer_name.clone()
    };
    let (tone, label) = match v.state.as_str() {
        "delivered" => (Tone::Ok, Text::StateDelivered),
        "pending" => (Tone::Info, Text::ShopStatePending),
        "refused" => (Tone::Danger, Text::StateRejected),
        _ => (Tone::Warn, Text::StateUnknown),
    };
    view! {
        <tr data-testid=format!("shop-history-{}", v.id) data-state=v.state.clone() data-kind=v.kind.clone()>
            <td data-label=tr(Text::ShopTime) class="nowrap">{time}</td>
            <td data-label=tr(Text::ShopWhat)>{what}</td>
            <td data-label=tr(Text::ShopOffer)>{offer}</td>
            <td data-label=tr(Text::State)>
                <Badge tone=tone>{tr(label)}</Badge>
                {v.reason.clone().filter(|r| !r.is_empty()).map(|r| view! { <span class="small muted reason">" "{r}</span> })}
            </td>
        </tr>
    }
}
