//! The mall staff's traffic dashboard (`/traffic`): a car park and a range of days, entries and
//! exits per hour, occupancy over time, cars inside now (with free spaces and occupancy when the
//! car park's spaces are configured), payments by channel, discounts by source and totals.
//!
//! It re-reads the figures every 10 s by itself. The figures shown stay until the new ones
//! arrive (no "loading" in between, so nothing flickers); a generation number drops answers to
//! a choice since replaced. `?park=&from=&to=` in the address choose the first view.

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use crate::api::{self, ApiError, ChannelPayments, SourceDiscounts, Traffic};
use crate::format::{shanghai_date, yuan};
use crate::i18n::{self, Text, fill, tr};
use crate::pages::layout::guarded;
use crate::pages::traffic_charts::{Present, bar_chart, occupancy_chart};
use crate::pages::vip_labels::{chosen_park, park_select};
use crate::pages::{error_line, every, local_time};
use crate::ui::{DateInput, EmptyState, Field, PageHeader, Table, parse_date};

/// How often the dashboard reads the figures again.
const REFRESH: Duration = Duration::from_secs(10);

/// The traffic dashboard page.
#[component]
pub fn TrafficPage() -> impl IntoView {
    guarded("traffic", dashboard)
}

/// What is shown and how it is loaded.
#[derive(Clone, Copy)]
struct Dashboard {
    park: RwSignal<Option<i64>>,
    from: RwSignal<String>,
    to: RwSignal<String>,
    data: RwSignal<Option<Traffic>>,
    generation: RwSignal<u64>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
}

impl Dashboard {
    fn load(self) {
        let Some(park) = self.park.get_untracked() else {
            return;
        };
        let (from, to) = (self.from.get_untracked(), self.to.get_untracked());
        let generation = self.generation.get_untracked() + 1;
        self.generation.set(generation);
        self.busy.set(true);
        spawn_local(async move {
            let answer = api::traffic(park, &from, &to).await;
            if self.generation.try_get_untracked() != Some(generation) {
                return;
            }
            self.busy.set(false);
            match answer {
                Ok(t) => {
                    self.error.set(None);
                    self.data.set(Some(t));
                }
                Err(e) => self.error.set(Some(e)),
            }
        });
    }

    /// Sets the range to the `days` days ending `back` days before today.
    fn last_days(self, days: u64, back: u64) {
        let today = today();
        let to = today - Days::new(back);
        self.from
            .set((to - Days::new(days.saturating_sub(1))).to_string());
        self.to.set(to.to_string());
    }
}

fn today() -> NaiveDate {
    NaiveDate::parse_from_str(&shanghai_date(Utc::now()), "%Y-%m-%d").unwrap_or_default()
}

fn dashboard() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let day = |key: &str| {
        query
            .get(key)
            .filter(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
    };
    let from = day("from").unwrap_or_else(|| today().to_string());
    let to = day("to").unwrap_or_else(|| from.clone());
    let parks = LocalResource::new(api::parks);
    let park_list = Signal::derive(move || parks.get().and_then(Result::ok).unwrap_or_default());
    let d = Dashboard {
        park: chosen_park(park_list),
        from: RwSignal::new(from),
        to: RwSignal::new(to),
        data: RwSignal::new(None),
        generation: RwSignal::new(0),
        busy: RwSignal::new(false),
        error: RwSignal::new(None),
    };
    Effect::new(move |_| {
        d.park.track();
        d.from.track();
        d.to.track();
        // Another car park or range: the old figures would mislead, so they go at once.
        d.data.set(None);
        d.load();
    });
    every(REFRESH, move || {
        if d.busy.try_get_untracked() == Some(false) {
            d.load();
        }
    });
    // The kit's text input shows `2026-12-06` in any locale; the range follows only whole
    // dates, so a half-typed one does not reload the figures.
    let date_input = |value: RwSignal<String>, label: Text, test_id: &'static str| {
        let typed = RwSignal::new(value.get_untracked());
        Effect::new(move |_| typed.set(value.get()));
        Effect::new(move |_| {
            let text = typed.get();
            if parse_date(&text).is_some() && value.get_untracked() != text {
                value.set(text);
            }
        });
        view! { <Field label=label><DateInput value=typed test_id=test_id /></Field> }
    };
    view! {
        <section class="dashboard">
            <PageHeader title=Text::TrafficTitle />
            {move || parks.get().and_then(Result::err).map(|e| error_line(RwSignal::new(Some(e)), "traffic-parks-error"))}
            <div class="filters">
                {park_select(park_list, d.park, "traffic-park")}
                {date_input(d.from, Text::FromDay, "traffic-from")}
                {date_input(d.to, Text::ToDay, "traffic-to")}
                <div class="field quick-days">
                    <button type="button" data-testid="traffic-today" on:click=move |_| d.last_days(1, 0)>{tr(Text::Today)}</button>
                    " "
                    <button type="button" data-testid="traffic-yesterday" on:click=move |_| d.last_days(1, 1)>{tr(Text::Yesterday)}</button>
                    " "
                    <button type="button" data-testid="traffic-last7" on:click=move |_| d.last_days(7, 0)>{tr(Text::Last7Days)}</button>
                </div>
            </div>
            {error_line(d.error, "traffic-error")}
            {move || d.data.get().map(figures)}
        </section>
    }
}

fn figures(t: Traffic) -> impl IntoView {
    let lang = i18n::lang();
    let total = |label: Text, value: i64, test_id: &'static str| {
        view! {
            <div class="total">
                <div class="muted small">{tr(label)}</div>
                <div class="figure" data-testid=test_id>{value}</div>
            </div>
        }
    };
    let updated = local_time(&t.generated_at);
    // Read at each render: the 10 s refresh moves the charts' end along with the clock.
    let now = Present::at(Utc::now());
    view! {
        <div class="totals" data-testid="traffic-totals" data-from=t.from.clone() data-to=t.to.clone()>
            {total(Text::EntriesTotal, t.totals.entries, "traffic-in-total")}
            {total(Text::ExitsTotal, t.totals.exits, "traffic-out-total")}
            {total(Text::InsideNow, t.inside_now, "traffic-inside-now")}
            {spaces(&t)}
        </div>
        <h3>{tr(Text::EntriesExitsPerHour)}</h3>
        <p class="small legend"><span class="key key-in"></span>{tr(Text::EntriesTotal)}" "<span class="key key-out"></span>{tr(Text::ExitsTotal)}</p>
        {bar_chart(&t.hours, &now)}
        <h3>{tr(Text::OccupancyOverTime)}</h3>
        {occupancy_chart(&t.hours, &now)}
        <div class="side-by-side">
            <div>
                <h3>{tr(Text::PaymentsByChannel)}</h3>
                {payments(t.payments_by_channel)}
            </div>
            <div>
                <h3>{tr(Text::DiscountsBySource)}</h3>
                {discounts(t.discounts_by_source)}
            </div>
        </div>
        <p class="muted small" data-testid="traffic-updated">
            {move || fill(Text::RefreshedAt.text(lang.get()), &[&updated])}
        </p>
    }
}

/// Free spaces (out of how many) and occupancy, only when the car park's spaces are configured:
/// without them there is nothing to compare the cars inside with.
fn spaces(t: &Traffic) -> Option<AnyView> {
    let lang = i18n::lang();
    let total = t.total_spaces?;
    let free = t.free_now.unwrap_or_default();
    let occupancy = t
        .occupancy_percent
        .map_or_else(|| "—".to_owned(), |p| format!("{p}%"));
    Some(view! {
        <div class="total">
            <div class="muted small">{tr(Text::FreeSpaces)}</div>
            <div class="figure" data-testid="traffic-free-now">{free}</div>
            <div class="muted small" data-testid="traffic-total-spaces" data-spaces=total.to_string()>
                {move || fill(Text::OfSpaces.text(lang.get()), &[&total.to_string()])}
            </div>
        </div>
        <div class="total">
            <div class="muted small">{tr(Text::OccupancyNow)}</div>
            <div class="figure" data-testid="traffic-occupancy-now">{occupancy}</div>
        </div>
    }
    .into_any())
}

/// A discount's source (`api`, `waiver`, `pyun`, `shop`) by its name; the stay's page uses it too.
pub(crate) fn source_name(source: &str) -> Option<Text> {
    match source {
        "api" => Some(Text::DiscountByApi),
        "waiver" => Some(Text::DiscountByWaiver),
        "pyun" => Some(Text::DiscountByPyun),
        "shop" => Some(Text::DiscountByShop),
        _ => None,
    }
}

/// One row per source, zeros included (the server answers all four), so the table keeps its
/// shape from one range to the next.
fn discounts(rows: Vec<SourceDiscounts>) -> impl IntoView {
    let lang = i18n::lang();
    view! {
        <Table test_id="discounts-table" columns=vec![
            Text::DiscountSource, Text::DiscountsGranted, Text::DiscountsUsedWorth,
        ]>
            {rows.into_iter().map(|r| {
                let label = source_name(&r.source);
                let source = r.source.clone();
                view! {
                    <tr data-testid=format!("discount-{}", r.source)>
                        <td data-label=tr(Text::DiscountSource)>
                            {move || label.map_or_else(|| source.clone(), |l| l.text(lang.get()).to_owned())}
                        </td>
                        <td data-label=tr(Text::DiscountsGranted) data-testid="discount-granted">{r.granted}</td>
                        <td data-label=tr(Text::DiscountsUsedWorth) data-testid="discount-worth" data-fen=r.used_worth_fen.to_string()>{yuan(r.used_worth_fen)}</td>
                    </tr>
                }
            }).collect_view()}
        </Table>
    }
}

/// Test ids of P云's rows end in `-pyun`; Mallcoo's keep their ids.
fn pyun_suffix(channel: &str) -> &'static str {
    if channel == "pyun" { "-pyun" } else { "" }
}

fn channel_name(code: i64) -> Option<Text> {
    match code {
        0 => Some(Text::ChannelOnline),
        1 => Some(Text::ChannelOffline),
        _ => None,
    }
}

fn pay_type_name(code: i64) -> Option<Text> {
    match code {
        0 => Some(Text::PayZero),
        1 => Some(Text::PayAlipay),
        2 => Some(Text::PayUnionPay),
        3 => Some(Text::PayWechat),
        _ => None,
    }
}

fn payments(rows: Vec<ChannelPayments>) -> impl IntoView {
    let lang = i18n::lang();
    let name = move |label: Option<Text>, code: i64| {
        move || label.map_or_else(|| code.to_string(), |l| l.text(lang.get()).to_owned())
    };
    if rows.is_empty() {
        return view! { <EmptyState test_id="payments-empty" text=Text::NoPayments /> }.into_any();
    }
    view! {
        <Table test_id="payments-table" columns=vec![
            Text::PayChannel, Text::PayMethod, Text::PaymentCount, Text::PaidAmount, Text::DeductionAmount,
        ]>
            {rows.into_iter().map(|r| view! {
                <tr data-testid=format!("payment-{}-{}{}", r.pay_channel, r.pay_type, pyun_suffix(&r.channel))>
                    <td data-label=tr(Text::PayChannel)>
                        // P云 is a brand: the same name in every language.
                        {(r.channel == "pyun").then_some("P云 ")}
                        {name(channel_name(r.pay_channel), r.pay_channel)}
                    </td>
                    <td data-label=tr(Text::PayMethod)>{name(pay_type_name(r.pay_type), r.pay_type)}</td>
                    <td data-label=tr(Text::PaymentCount) data-testid="payment-count">{r.count}</td>
                    <td data-label=tr(Text::PaidAmount) data-testid="payment-amount" data-fen=r.amount_fen.to_string()>{yuan(r.amount_fen)}</td>
                    <td data-label=tr(Text::DeductionAmount) data-testid="payment-deduction">{yuan(r.deduction_fen)}</td>
                </tr>
            }).collect_view()}
        </Table>
    }
    .into_any()
}
