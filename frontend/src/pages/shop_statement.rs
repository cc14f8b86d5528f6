//! A shop's statement (对账单) at /shops/:id/statement?month=YYYY-MM: for one Shanghai month,
//! its validations per offer and way given (plate at the till, QR code), by state, with their
//! worth in yuan, the totals, and the same as CSV in UTF-8 or GBK for billing the shop.

use chrono::{Months, NaiveDate, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{self, ApiError, CouponProduct, Statement, StatementCounts, StatementLine};
use crate::format::yuan;
use crate::i18n::{self, Lang, Text, fill, tr};
use crate::pages::layout::guarded;
use crate::pages::shop_offers::gives_words;
use crate::pages::{error_line, loading};
use crate::ui::{EmptyState, Field, PageHeader, Table};

/// The statement page of the shop in the path.
#[component]
pub fn ShopStatementPage() -> impl IntoView {
    guarded("shop-statement", || {
        let params = use_params_map();
        move || match params
            .with(|p| p.get("id"))
            .and_then(|s| s.parse::<i64>().ok())
        {
            Some(id) => statement_page(id).into_any(),
            None => view! { <p class="error" data-testid="not-found">{tr(Text::PageNotFound)}</p> }
                .into_any(),
        }
    })
}

/// The first day of a `YYYY-MM` month, if the text is one.
fn month_start(typed: &str) -> Option<NaiveDate> {
    let t = typed.trim();
    (t.len() == "2026-12".len())
        .then(|| NaiveDate::parse_from_str(&format!("{t}-01"), "%Y-%m-%d").ok())
        .flatten()
}

/// The current month in Asia/Shanghai, `YYYY-MM`.
fn this_month() -> String {
    protocol::time::to_shanghai(Utc::now())
        .format("%Y-%m")
        .to_string()
}

/// The month `delta` months from `month` (`YYYY-MM`), if it reads as one.
fn shift(month: &str, delta: i32) -> Option<String> {
    let start = month_start(month)?;
    let moved = if delta < 0 {
        start.checked_sub_months(Months::new(delta.unsigned_abs()))
    } else {
        start.checked_add_months(Months::new(delta.unsigned_abs()))
    }?;
    Some(moved.format("%Y-%m").to_string())
}

fn statement_page(id: i64) -> impl IntoView {
    let lang = i18n::lang();
    let first = use_query_map()
        .get_untracked()
        .get("month")
        .filter(|m| month_start(m).is_some())
        .unwrap_or_else(this_month);
    let month = RwSignal::new(first.clone());
    let typed = RwSignal::new(first);
    let typed_wrong = RwSignal::new(false);
    let statement = RwSignal::new(None::<Statement>);
    let products = RwSignal::new(Vec::<CouponProduct>::new());
    let error = RwSignal::new(None::<ApiError>);
    let loaded = RwSignal::new(false);
    Effect::new(move |_| {
        let m = month.get();
        statement.set(None);
        error.set(None);
        loaded.set(false);
        spawn_local(async move {
            let answer = api::statement(id, &m).await;
            if month.try_get_untracked().as_deref() != Some(m.as_str()) {
                return;
            }
            loaded.set(true);
            match answer {
                Ok(s) => {
                    let park = s.shop.park_id();
                    statement.set(Some(s));
                    // Names the P云 lines' products; without them they read `#id`.
                    if products.with_untracked(Vec::is_empty)
                        && let Some(park) = park
                        && let Ok(config) = api::coupon_config(park).await
                    {
                        let _ = products.try_set(config.products);
                    }
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });
    let go = move |delta: i32| {
        if let Some(m) = shift(&month.get_untracked(), delta) {
            typed.set(m.clone());
            typed_wrong.set(false);
            month.set(m);
        }
    };
    let typed_changed = move |_| match month_start(&typed.get_untracked()) {
        Some(start) => {
            typed_wrong.set(false);
            month.set(start.format("%Y-%m").to_string());
        }
        None => typed_wrong.set(true),
    };
    let detail = Signal::derive(move || {
        statement.with(|s| {
            s.as_ref()
                .map(|s| format!("{} · {} · {}", s.shop.name(), s.park_name, s.month))
                .unwrap_or_else(|| format!("#{id}"))
        })
    });
    let back = move || {
        statement.with(|s| match s.as_ref().and_then(|s| s.shop.park_id()) {
            Some(park) => format!("/shops?park={park}"),
            None => "/shops".to_owned(),
        })
    };
    let link = move |gbk: bool, label: Text, test_id: &'static str| {
        view! {
            <a href=move || api::statement_csv_url(id, &month.get(), gbk) download="" data-testid=test_id>
                {move || label.text(lang.get())}
            </a>
        }
    };
    view! {
        <section>
            <PageHeader title=Text::StatementTitle detail=detail test_id="statement-title">
                <A href=move || back() {..} data-testid="statement-back">{tr(Text::BackToShops)}</A>
            </PageHeader>
            <div class="filters">
                <Field label=Text::StatementMonth error=Signal::derive(move || typed_wrong.get().then_some(Text::MonthFormatError))
                    error_test_id="statement-month-error">
                    <input type="text" class="date" data-testid="statement-month" placeholder="2026-12"
                        maxlength="7" inputmode="numeric" autocomplete="off"
                        aria-invalid=move || typed_wrong.get().then_some("true")
                        prop:value=typed on:input=move |ev| typed.set(event_target_value(&ev))
                        on:change=typed_changed />
                </Field>
                <div class="actions">
                    <button type="button" data-testid="statement-prev" on:click=move |_| go(-1)>{tr(Text::PrevMonth)}</button>
                    <button type="button" data-testid="statement-next" on:click=move |_| go(1)>{tr(Text::NextMonth)}</button>
                </div>
            </div>
            <div class="actions">
                {link(false, Text::StatementCsv, "statement-csv")}
                {link(true, Text::StatementCsvGbk, "statement-csv-gbk")}
            </div>
        </section>
        <section>
            {error_line(error, "statement-error")}
            {move || (!loaded.get()).then(loading)}
            {move || statement.get().map(|s| statement_table(s, products))}
        </section>
    }
}

/// Worth in yuan, with how many given validations have no known worth.
fn worth_words(c: &StatementCounts, lang: Lang) -> String {
    let shown = yuan(c.worth_fen);
    if c.worth_missing > 0 {
        let missing = fill(
            Text::WorthMissing.text(lang),
            &[&c.worth_missing.to_string()],
        );
        format!("{shown}（{missing}）")
    } else {
        shown
    }
}

/// The counts' cells, in the table's column order; `prefix` names their test ids.
fn count_cells(c: StatementCounts, prefix: String) -> impl IntoView {
    let lang = i18n::lang();
    let cell = |label: Text, n: i64, what: &str| {
        view! { <td data-label=tr(label) data-testid=format!("{prefix}-{what}")>{n}</td> }
    };
    view! {
        {cell(Text::CountDelivered, c.delivered, "delivered")}
        {cell(Text::CountPending, c.pending, "pending")}
        {cell(Text::CountRefused, c.refused, "refused")}
        {cell(Text::CountUnknown, c.unknown, "unknown")}
        <td data-label=tr(Text::Worth) data-testid=format!("{prefix}-worth") data-fen=c.worth_fen.to_string()>
            {move || worth_words(&c, lang.get())}
        </td>
    }
}

fn statement_table(s: Statement, products: RwSignal<Vec<CouponProduct>>) -> impl IntoView {
    if s.lines.is_empty() {
        return view! { <EmptyState test_id="statement-empty" text=Text::StatementEmpty /> }
            .into_any();
    }
    let totals = s.totals;
    view! {
        <Table test_id="statement-lines" columns=vec![
            Text::ShopOffers, Text::ValidationKind, Text::OfferGives, Text::CountDelivered,
            Text::CountPending, Text::CountRefused, Text::CountUnknown, Text::Worth,
        ]>
            {s.lines.into_iter().map(|l| line_row(l, products)).collect_view()}
            <tr class="total" data-testid="statement-totals">
                <td data-label=tr(Text::ShopOffers)><strong>{tr(Text::StatementTotals)}</strong></td>
                <td data-label=tr(Text::ValidationKind)></td>
                <td data-label=tr(Text::OfferGives)></td>
                {count_cells(totals, "statement-total".to_owned())}
            </tr>
        </Table>
    }
    .into_any()
}

fn line_row(l: StatementLine, products: RwSignal<Vec<CouponProduct>>) -> impl IntoView {
    let lang = i18n::lang();
    let kind = match l.kind.as_str() {
        "plate" => Some(Text::ValidationPlate),
        "qr_token" => Some(Text::ValidationQr),
        _ => None,
    };
    let raw_kind = l.kind.clone();
    let (product, discount) = (l.product_id, l.discount.clone());
    let gives = move || products.with(|p| gives_words(product, discount.as_ref(), p, lang.get()));
    let prefix = format!("statement-line-{}-{}", l.offer_id, l.kind);
    let row_id = prefix.clone();
    view! {
        <tr data-testid=row_id>
            <td data-label=tr(Text::ShopOffers)>{l.offer_name.clone()}</td>
            <td data-label=tr(Text::ValidationKind) data-kind=l.kind.clone()>
                {move || kind.map_or_else(|| raw_kind.clone(), |k| k.text(lang.get()).to_owned())}
            </td>
            <td data-label=tr(Text::OfferGives)>{gives}</td>
            {count_cells(l.counts, prefix)}
        </tr>
    }
}
