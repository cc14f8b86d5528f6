//! One stay at /sessions/:id (PROTOCOLS.md §5.1): entry and exit, the tariff in words, the VIP
//! record, every discount with what it is worth now, every payment, what the car owes — and,
//! while it is parked, what it would owe later, priced here by `protocol::ledger::figure`, the
//! function the server bills with. Property managers and admins may waive part of the fee.

use chrono::{DateTime, TimeDelta, Utc};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use protocol::ledger::{self, DiscountKind, Figure};
use protocol::vip::parse_yuan;

use crate::api::{self, ApiError, Role, StayDetail, StayDiscount, StayPayment};
use crate::format::{describe_tariff, shanghai_minutes, yuan};
use crate::i18n::{self, Lang, Text, fill, tr};
use crate::pages::coupons::badge;
use crate::pages::layout::{guarded, session};
use crate::pages::sessions::STATES;
use crate::pages::traffic_dashboard::source_name;
use crate::pages::{error_line, loading};
use crate::ui::{
    Badge, EmptyState, Field, PageHeader, Question, Table, TextInput, ToastKind, Tone, confirm,
    toast,
};

/// How far ahead the growth table prices the stay, in minutes from now.
const AHEAD: [i64; 5] = [15, 30, 60, 120, 240];

/// The kinds a waiver may take (a `free_window` belongs to a plate, not to one stay).
const WAIVER_KINDS: [(&str, Text); 4] = [
    ("amount", Text::KindAmount),
    ("minutes", Text::KindMinutes),
    ("free", Text::KindFree),
    ("percent", Text::KindPercent),
];

/// The stay's page.
#[component]
pub fn StayPage() -> impl IntoView {
    guarded("stay", stay_page)
}

fn stay_page() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok())));
    let detail = RwSignal::new(None::<StayDetail>);
    let error = RwSignal::new(None::<ApiError>);
    // Copy, so the waiver form can read the stay again after it recorded one.
    let load = move || {
        let Some(Some(sid)) = id.try_get_untracked() else {
            error.set(Some(ApiError::Invalid {
                what: Text::NotFoundError,
                detail: String::new(),
            }));
            return;
        };
        spawn_local(async move {
            let answer = api::stay(sid).await;
            if id.try_get_untracked() != Some(Some(sid)) {
                return;
            }
            match answer {
                Ok(d) => {
                    error.set(None);
                    detail.set(Some(d));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    Effect::new(move |_| {
        id.track();
        detail.set(None);
        load();
    });
    // Memos, so the sections below are built once and the waiver form keeps what is typed.
    let loaded = Memo::new(move |_| detail.with(Option::is_some));
    let open = Memo::new(move |_| detail.with(|d| d.as_ref().is_some_and(is_open)));
    let may_waive = session()
        .get_untracked()
        .is_some_and(|u| matches!(u.role, Role::Admin | Role::PropertyManager));
    let car = Signal::derive(move || detail.with(|d| d.as_ref().map(car_of).unwrap_or_default()));
    let back = move || {
        detail.with(|d| match d {
            Some(d) => format!("/sessions?park={}", d.park.id),
            None => "/sessions".to_owned(),
        })
    };
    view! {
        <section>
            <PageHeader title=Text::StayTitle detail=car test_id="stay-title">
                <A href=move || back() {..} data-testid="stay-back">{tr(Text::StayBack)}</A>
            </PageHeader>
            {error_line(error, "stay-error")}
            {move || (detail.with(Option::is_none) && error.with(Option::is_none)).then(loading)}
            {move || detail.get().map(|d| stay_fields(&d))}
        </section>
        {move || detail.get().map(|d| figure_section(&d))}
        {move || detail.get().filter(is_open).map(|d| growth_section(&d, Utc::now()))}
        {move || loaded.get().then(|| discounts_section(detail))}
        {move || loaded.get().then(|| payments_section(detail))}
        {move || (may_waive && open.get()).then(|| waiver_form(id, car, load))}
    }
}

fn is_open(d: &StayDetail) -> bool {
    d.session.state == "open"
}

/// The plate, or the ticket number of a plate-less car.
fn car_of(d: &StayDetail) -> String {
    d.session
        .plate
        .clone()
        .or_else(|| d.session.barcode.clone())
        .unwrap_or_default()
}

/// A time with its gate, `2026-12-06 08:58 · 道口：东1`.
fn at_gate(t: Option<DateTime<Utc>>, gate: Option<String>, lang: Lang) -> String {
    let mut s = t.map(shanghai_minutes).unwrap_or_else(|| "—".to_owned());
    if let Some(g) = gate {
        s.push_str(" · ");
        s.push_str(&fill(Text::Gate.text(lang), &[&g]));
    }
    s
}

fn stay_fields(d: &StayDetail) -> impl IntoView + use<> {
    let lang = i18n::lang();
    let s = d.session.clone();
    let state_label = STATES.iter().find(|(c, _)| *c == s.state).map(|(_, l)| *l);
    let tariff = d.tariff.clone();
    let vip = d.vip.clone();
    let minutes = d.figure.parking_minutes.to_string();
    let entry = move || at_gate(Some(s.entry_at), s.entry_gate.clone(), lang.get());
    let exit = move || at_gate(s.exit_at, s.exit_gate.clone(), lang.get());
    view! {
        <dl class="detail-list" data-testid="stay-detail" data-id=d.session.id.to_string()
            data-state=d.session.state.clone()>
            <dt>{tr(Text::Plate)}</dt><dd data-testid="stay-plate">{car_of(d)}</dd>
            <dt>{tr(Text::Park)}</dt><dd data-testid="stay-park">{format!("{} {}", d.park.code, d.park.name)}</dd>
            <dt>{tr(Text::EntryAt)}</dt><dd data-testid="stay-entry">{entry}</dd>
            <dt>{tr(Text::ExitAt)}</dt><dd data-testid="stay-exit">{exit}</dd>
            <dt>{tr(Text::State)}</dt><dd>{badge(&d.session.state, state_label, "stay-state")}</dd>
            <dt>{tr(Text::ParkingMinutes)}</dt>
            <dd data-testid="stay-minutes">{move || fill(Text::MinutesValue.text(lang.get()), &[&minutes])}</dd>
            <dt>{tr(Text::Tariff)}</dt><dd data-testid="stay-tariff">{move || describe_tariff(&tariff, lang.get())}</dd>
            <dt>{tr(Text::VipTitle)}</dt>
            <dd data-testid="stay-vip">{move || match &vip {
                Some(v) => format!("{} ({} – {})", v.label, shanghai_minutes(v.valid_from), shanghai_minutes(v.valid_until)),
                None => Text::NoVip.text(lang.get()).to_owned(),
            }}</dd>
        </dl>
    }
}

/// What the car owes now (or owed at its exit): the server's figure, the owed amount large.
fn figure_section(d: &StayDetail) -> impl IntoView + use<> {
    let f = d.figure.clone();
    let title = if is_open(d) {
        Text::FigureNow
    } else {
        Text::FigureAtExit
    };
    let amount = |test_id: &'static str, fen: i64| {
        view! { <td data-testid=test_id data-fen=fen.to_string()>{yuan(fen)}</td> }
    };
    view! {
        <section data-testid="stay-figure">
            <h3>{tr(title)}</h3>
            <p class="muted">{tr(Text::Owed)}</p>
            <div class="fee" data-testid="stay-owed" data-fen=f.owed_fen.to_string()>{yuan(f.owed_fen)}</div>
            <table>
                <tr><th>{tr(Text::Charge)}</th>{amount("stay-charge", f.charge_fen)}</tr>
                <tr><th>{tr(Text::Discounts)}</th>{amount("stay-worth", f.discount_worth_fen)}</tr>
                <tr><th>{tr(Text::Paid)}</th>{amount("stay-paid", f.paid_fen)}</tr>
                <tr><th>{tr(Text::QueryTime)}</th><td data-testid="stay-billing-time">{shanghai_minutes(f.billing_time)}</td></tr>
            </table>
        </section>
    }
}

/// The stay priced at each of `AHEAD` after `now`, with the inputs the server priced it with
/// (what is paid stays as it is; the figure above shows it).
fn growth(d: &StayDetail, now: DateTime<Utc>) -> Vec<(i64, DateTime<Utc>, Option<Figure>)> {
    let inputs = d.ledger_inputs();
    let stay = ledger::Stay {
        entry: d.session.entry_at,
        tariff: &d.tariff,
        vip: inputs.vip.as_ref(),
        discounts: &inputs.discounts,
        payments: &inputs.payments,
    };
    AHEAD
        .iter()
        .map(|&m| {
            let at = now + TimeDelta::minutes(m);
            // A browser clock behind the car's entry has nothing to price.
            (m, at, ledger::figure(&stay, at).ok())
        })
        .collect()
}

fn growth_section(d: &StayDetail, now: DateTime<Utc>) -> impl IntoView + use<> {
    let lang = i18n::lang();
    let rows = growth(d, now)
        .into_iter()
        .map(|(m, at, figure)| {
            let when = move || {
                let label = if m < 60 {
                    fill(Text::InMinutes.text(lang.get()), &[&m.to_string()])
                } else {
                    fill(Text::InHours.text(lang.get()), &[&(m / 60).to_string()])
                };
                format!("{label} · {}", shanghai_minutes(at))
            };
            let cell = |f: &Option<Figure>, pick: fn(&Figure) -> i64| {
                f.as_ref()
                    .map(|f| yuan(pick(f)))
                    .unwrap_or_else(|| "—".to_owned())
            };
            let minutes = figure.as_ref().map(|f| f.parking_minutes.to_string());
            let owed = figure.as_ref().map(|f| f.owed.to_string());
            view! {
                <tr data-testid=format!("stay-growth-{m}") data-at=at.to_rfc3339() data-owed=owed>
                    <td data-label=tr(Text::At) class="small" data-testid="growth-at">{when}</td>
                    <td data-label=tr(Text::ParkingMinutes) data-testid="growth-minutes">
                        {move || minutes.as_ref().map(|n| fill(Text::MinutesValue.text(lang.get()), &[n])).unwrap_or_else(|| "—".to_owned())}
                    </td>
                    <td data-label=tr(Text::Charge) data-testid="growth-charge">{cell(&figure, |f| f.charge)}</td>
                    <td data-label=tr(Text::Discounts) data-testid="growth-worth">{cell(&figure, |f| f.discount_worth)}</td>
                    <td data-label=tr(Text::Owed) data-testid="growth-owed">{cell(&figure, |f| f.owed)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section data-testid="stay-growth-section">
            <h3>{tr(Text::GrowthTitle)}</h3>
            <p class="muted small">{tr(Text::GrowthHint)}</p>
            <Table test_id="stay-growth" columns=vec![
                Text::At, Text::ParkingMinutes, Text::Charge, Text::Discounts, Text::Owed,
            ]>
                {rows}
            </Table>
        </section>
    }
}

fn discounts_section(detail: RwSignal<Option<StayDetail>>) -> impl IntoView {
    let rows = move || detail.with(|d| d.as_ref().map(|d| d.discounts.clone()).unwrap_or_default());
    view! {
        <section>
            <h3>{tr(Text::Discounts)}</h3>
            <Table test_id="stay-discounts" columns=vec![
                Text::Source, Text::Name, Text::DiscountValue, Text::WorthNow, Text::State,
                Text::GrantedBy, Text::ReasonColumn, Text::GrantedAt,
            ]>
                <For each=rows key=|d| (d.id, d.state.clone(), d.worth_now_fen) let(d)>
                    {discount_row(d)}
                </For>
            </Table>
            {move || rows().is_empty().then(|| view! { <EmptyState test_id="stay-discounts-empty" /> })}
        </section>
    }
}

/// `50%`, `12.5%` for per mille values.
pub(crate) fn percent(per_mille: i64) -> String {
    if per_mille % 10 == 0 {
        format!("{}%", per_mille / 10)
    } else {
        format!("{}.{}%", per_mille / 10, per_mille % 10)
    }
}

/// A discount's kind and value in words: `金额 · ¥3.00`, `时长 · 60 分钟`, `全免`.
fn kind_words(kind: DiscountKind, lang: Lang) -> String {
    let minutes = |m: i64| fill(Text::MinutesValue.text(lang), &[&m.to_string()]);
    let (name, value) = match kind {
        DiscountKind::Amount(fen) => (Text::KindAmount, Some(yuan(fen))),
        DiscountKind::Minutes(m) => (Text::KindMinutes, Some(minutes(m))),
        DiscountKind::Free => (Text::KindFree, None),
        DiscountKind::Percent(pm) => (Text::KindPercent, Some(percent(pm))),
        DiscountKind::FreeWindow(m) => (Text::KindFreeWindow, Some(minutes(m))),
    };
    match value {
        Some(v) => format!("{} · {v}", name.text(lang)),
        None => name.text(lang).to_owned(),
    }
}

/// Who recorded a discount: a person's name, an API key's prefix, or P云.
fn granted_by(created_by: &str, lang: Lang) -> String {
    if let Some(user) = created_by.strip_prefix("user:") {
        user.to_owned()
    } else if let Some(prefix) = created_by.strip_prefix("apikey:") {
        fill(Text::ByApiKey.text(lang), &[prefix])
    } else if created_by == "pyun" {
        "P云".to_owned()
    } else {
        created_by.to_owned()
    }
}

fn discount_row(d: StayDiscount) -> impl IntoView {
    let lang = i18n::lang();
    let kind = d.ledger_kind();
    let raw_kind = format!("{} {}", d.kind, d.value);
    let (tone, state) = match d.state.as_str() {
        "active" => (Tone::Ok, Some(Text::DiscountActive)),
        "used" => (Tone::Info, Some(Text::DiscountUsed)),
        "revoked" => (Tone::Neutral, Some(Text::DiscountRevoked)),
        _ => (Tone::Neutral, None),
    };
    let raw_state = d.state.clone();
    let source = source_name(&d.source);
    let raw_source = d.source.clone();
    let created_by = d.created_by.clone();
    view! {
        <tr data-testid=format!("stay-discount-{}", d.id) data-source=d.source.clone()
            data-kind=d.kind.clone() data-value=d.value.to_string() data-state=d.state.clone()
            class:revoked=d.state == "revoked">
            <td data-label=tr(Text::Source) data-testid="discount-source">
                {move || source.map(|s| s.text(lang.get()).to_owned()).unwrap_or_else(|| raw_source.clone())}
            </td>
            <td data-label=tr(Text::Name) data-testid="discount-label">{d.label.clone()}</td>
            <td data-label=tr(Text::DiscountValue) data-testid="discount-value">
                {move || kind.map(|k| kind_words(k, lang.get())).unwrap_or_else(|| raw_kind.clone())}
            </td>
            <td data-label=tr(Text::WorthNow) data-testid="discount-worth"
                data-fen=d.worth_now_fen.map(|f| f.to_string())>
                {d.worth_now_fen.map(yuan).unwrap_or_else(|| "—".to_owned())}
            </td>
            <td data-label=tr(Text::State)>
                <Badge tone=tone test_id="discount-state" {..} data-state=d.state.clone()>
                    {move || state.map(|s| s.text(lang.get()).to_owned()).unwrap_or_else(|| raw_state.clone())}
                </Badge>
            </td>
            <td data-label=tr(Text::GrantedBy) data-testid="discount-by">{move || granted_by(&created_by, lang.get())}</td>
            <td data-label=tr(Text::ReasonColumn) data-testid="discount-reason">{d.reason.clone().unwrap_or_default()}</td>
            <td data-label=tr(Text::GrantedAt) class="small" data-testid="discount-at">{shanghai_minutes(d.granted_at)}</td>
        </tr>
    }
}

fn payments_section(detail: RwSignal<Option<StayDetail>>) -> impl IntoView {
    let rows = move || detail.with(|d| d.as_ref().map(|d| d.payments.clone()).unwrap_or_default());
    view! {
        <section>
            <h3>{tr(Text::PaymentsTitle)}</h3>
            <Table test_id="stay-payments" columns=vec![
                Text::PayChannel, Text::OrderNo, Text::PaidAmount, Text::DeductionAmount, Text::PayTime,
            ]>
                <For each=rows key=|p| p.id let(p)>
                    {payment_row(p)}
                </For>
            </Table>
            {move || rows().is_empty().then(|| view! { <EmptyState test_id="stay-payments-empty" /> })}
        </section>
    }
}

fn payment_row(p: StayPayment) -> impl IntoView {
    let lang = i18n::lang();
    let channel = p.channel.clone();
    let label = match channel.as_str() {
        "mallcoo" => Some(Text::ChannelMallcoo),
        "pyun" => Some(Text::ChannelPyun),
        _ => None,
    };
    view! {
        <tr data-testid=format!("stay-payment-{}", p.id)>
            <td data-label=tr(Text::PayChannel) data-testid="payment-channel" data-channel=p.channel.clone()>
                {move || label.map_or_else(|| channel.clone(), |l| l.text(lang.get()).to_owned())}
            </td>
            <td data-label=tr(Text::OrderNo)><code data-testid="payment-order">{p.order_no.clone()}</code></td>
            <td data-label=tr(Text::PaidAmount) data-testid="payment-amount" data-fen=p.amount_fen.to_string()>{yuan(p.amount_fen)}</td>
            <td data-label=tr(Text::DeductionAmount) data-testid="payment-deduction" data-fen=p.deduction_fen.to_string()>{yuan(p.deduction_fen)}</td>
            <td data-label=tr(Text::PayTime) class="small" data-testid="payment-time">{shanghai_minutes(p.pay_time)}</td>
        </tr>
    }
}

/// Per mille from a percentage typed by a person: `50` → 500, `12.5` → 125 (one decimal at most).
fn per_mille(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('%').trim_end();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || frac.len() > 1 || !digits(frac) {
        return None;
    }
    let tenth = frac.parse::<i64>().unwrap_or(0);
    int.parse::<i64>().ok()?.checked_mul(10)?.checked_add(tenth)
}

/// The discount a person typed (a waiver, a shop's offer), checked with the ranges the server
/// checks (`DiscountKind`): an amount in yuan, whole minutes, a percentage with one decimal.
pub(crate) fn read_waiver(kind: &str, value: &str) -> Result<DiscountKind, Text> {
    let (number, problem) = match kind {
        "free" => return Ok(DiscountKind::Free),
        "amount" => (parse_yuan(value).ok(), Text::WaiverAmountInvalid),
        "minutes" => (value.trim().parse::<i64>().ok(), Text::WaiverMinutesInvalid),
        _ => (per_mille(value), Text::WaiverPercentInvalid),
    };
    number
        .and_then(|n| DiscountKind::from_parts(kind, Some(n)).ok())
        .ok_or(problem)
}

/// 人工减免: kind, value and reason, a confirmation, then the stay read again.
fn waiver_form(
    id: Memo<Option<i64>>,
    car: Signal<String>,
    reload: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let lang = i18n::lang();
    let kind = RwSignal::new("amount".to_owned());
    let value = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let value_error = RwSignal::new(None::<Text>);
    let reason_error = RwSignal::new(None::<Text>);
    let error = RwSignal::new(None::<ApiError>);
    let sending = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let waiver = read_waiver(&kind.get_untracked(), &value.get_untracked());
        let why = reason.get_untracked().trim().to_owned();
        value_error.set(waiver.err());
        reason_error.set(why.is_empty().then_some(Text::ReasonRequired));
        let (Ok(waiver), false, Some(sid)) = (waiver, why.is_empty(), id.get_untracked()) else {
            return;
        };
        let question = Question::new(Text::WaiverConfirm)
            .arg(car.get_untracked())
            .arg(kind_words(waiver, lang.get_untracked()))
            .arg(why.clone())
            .yes(Text::Waive);
        confirm(question, move || {
            sending.set(true);
            spawn_local(async move {
                let answer = api::waive(sid, &waiver, &why).await;
                let _ = sending.try_set(false);
                match answer {
                    Ok(_) => {
                        let _ = value.try_set(String::new());
                        let _ = reason.try_set(String::new());
                        toast(ToastKind::Done(Text::WaiverAdded), "stay-waiver-done");
                        reload();
                    }
                    Err(e) => {
                        let _ = error.try_set(Some(e));
                    }
                }
            });
        });
    };
    // The value's field follows the kind: its label and keyboard change, `free` has none.
    let value_field = move || {
        let (label, inputmode) = match kind.get().as_str() {
            "free" => return None,
            "amount" => (Text::AmountYuan, "decimal"),
            "minutes" => (Text::WaiverMinutes, "numeric"),
            _ => (Text::WaiverPercent, "decimal"),
        };
        Some(view! {
            <Field label=label error=value_error error_test_id="waiver-value-error">
                <TextInput value=value test_id="waiver-value" inputmode=inputmode
                    invalid=move || value_error.get().is_some() />
            </Field>
        })
    };
    view! {
        <section>
            <form data-testid="stay-waiver-form" on:submit=submit>
                <h3>{tr(Text::WaiverTitle)}</h3>
                <div class="fields">
                    <Field label=Text::Kind>
                        <select data-testid="waiver-kind" on:change=move |ev| {
                            kind.set(event_target_value(&ev));
                            value_error.set(None);
                        }>
                            {WAIVER_KINDS.into_iter().map(|(code, label)| view! {
                                <option value=code selected=move || kind.get() == code>{tr(label)}</option>
                            }).collect_view()}
                        </select>
                    </Field>
                    {value_field}
                    <Field label=Text::WaiverReason error=reason_error error_test_id="waiver-reason-error">
                        <TextInput value=reason test_id="waiver-reason" invalid=move || reason_error.get().is_some() />
                    </Field>
                </div>
                <div class="actions">
                    <button type="submit" data-testid="waiver-submit" disabled=move || sending.get()>{tr(Text::Waive)}</button>
                </div>
                {error_line(error, "stay-waiver-error")}
            </form>
        </section>
    }
}
