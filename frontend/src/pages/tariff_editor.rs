//! The tariff editor of one car park (`/parks/:id/tariff`): a form in 元 and minutes, checked by
//! the protocol crate as you type, with a live table of fees for typical stays and an
//! entry/exit pair to try — all priced by `protocol::quote`, the function the server bills with.

use chrono::{DateTime, TimeDelta, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use protocol::quote::{Session, quote};
use protocol::tariff::Tariff;

use crate::api::{self, ApiError, Park};
use crate::format::{describe_tariff, parse_shanghai, shanghai_minutes, yuan};
use crate::i18n::{self, Lang, Text, fill, tr};
use crate::pages::layout::guarded;
use crate::pages::tariff_form::{FormError, PeriodFields, TariffForm};
use crate::pages::{error_line, loading};
use crate::ui::{DateTimeInput, Field, PageHeader, Table, TextInput, ToastKind, toast};

/// Stays of the preview table, in minutes: short visits to a day and more, around the cycle edge.
pub(crate) const PREVIEW_MINUTES: [i64; 13] = [
    15, 30, 60, 90, 120, 180, 240, 360, 480, 720, 1440, 1450, 2880,
];

/// The sample entry of the preview table: a Monday 08:00 in Shanghai, so a time-of-day tariff's
/// day period comes first.
const SAMPLE_ENTRY: &str = "2026-01-05 08:00:00";

/// The tariff editor page.
#[component]
pub fn TariffEditorPage() -> impl IntoView {
    guarded("tariff", || {
        let params = use_params_map();
        move || match params
            .with(|p| p.get("id"))
            .and_then(|s| s.parse::<i64>().ok())
        {
            Some(id) => editor_page(id).into_any(),
            None => view! { <p class="error" data-testid="not-found">{tr(Text::PageNotFound)}</p> }
                .into_any(),
        }
    })
}

fn editor_page(id: i64) -> impl IntoView {
    let park = LocalResource::new(move || api::park(id));
    let name = Signal::derive(move || {
        park.get()
            .and_then(Result::ok)
            .map(|p| format!("{} {}", p.code, p.name))
            .unwrap_or_default()
    });
    view! {
        <section>
            <PageHeader title=Text::EditTariff detail=name test_id="tariff-title">
                <A href="/parks">{tr(Text::ParksTitle)}</A>
            </PageHeader>
            {move || park.get().map(|r| match r {
                Ok(p) => editor(p).into_any(),
                Err(e) => error_line(RwSignal::new(Some(e)), "tariff-load-error").into_any(),
            }).unwrap_or_else(|| loading().into_any())}
        </section>
    }
}

/// Length of a stay in words: `1 小时 30 分钟`.
fn duration_text(minutes: i64, lang: Lang) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    let hours = fill(Text::HoursValue.text(lang), &[&h.to_string()]);
    let mins = fill(Text::MinutesValue.text(lang), &[&m.to_string()]);
    match (h, m) {
        (0, _) => mins,
        (_, 0) => hours,
        _ => format!("{hours} {mins}"),
    }
}

/// The fee `quote` gives a stay from `entry` to `exit` with nothing paid: (minutes, fen).
fn fee_of(
    tariff: &Tariff,
    entry: DateTime<Utc>,
    exit: DateTime<Utc>,
) -> Result<(i64, i64), protocol::quote::QuoteError> {
    let q = quote(&Session { entry, tariff }, &[], None, exit, 0, 0)?;
    Ok((q.parking_minutes, q.unpaid))
}

fn editor(park: Park) -> impl IntoView {
    let lang = i18n::lang();
    let initial = park
        .tariff
        .clone()
        .and_then(|t| serde_json::from_value::<Tariff>(t).ok())
        .unwrap_or_else(Tariff::example);
    let form = TariffForm::of(&initial);
    let tariff = Memo::new(move |_| form.tariff());
    let error = RwSignal::new(None::<ApiError>);
    let id = park.id;
    let save = move |_| {
        let Ok(t) = tariff.get_untracked() else {
            return;
        };
        error.set(None);
        spawn_local(async move {
            match api::set_tariff(id, &t).await {
                Ok(_) => toast(ToastKind::Saved, "tariff-saved"),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="tariff-editor" data-testid="tariff-editor">
            {general_fields(form)}
            {pricing_fields(form)}
            <p data-testid="tariff-check" data-valid=move || tariff.with(Result::is_ok).to_string()
                class=move || if tariff.with(Result::is_ok) { "ok" } else { "error" }>
                {move || match tariff.get() {
                    Ok(t) => describe_tariff(&t, lang.get()),
                    Err(e) => e.describe(lang.get()),
                }}
            </p>
            <div class="actions">
                <button data-testid="tariff-save" disabled=move || tariff.with(Result::is_err) on:click=save>
                    {tr(Text::Save)}
                </button>
            </div>
            {error_line(error, "tariff-save-error")}
        </div>
        {preview_table(tariff)}
        {try_pair(tariff)}
    }
}

/// A labelled number (元 or minutes) bound to `value`.
fn input(label: Text, value: RwSignal<String>, test_id: String) -> impl IntoView {
    view! {
        <Field label=label>
            <TextInput value=value test_id=test_id inputmode="decimal" />
        </Field>
    }
}

fn general_fields(form: TariffForm) -> impl IntoView {
    view! {
        <div class="filters">
            {input(Text::FreeTime, form.free_minutes, "tariff-free-minutes".into())}
            {input(Text::GraceMinutes, form.grace_minutes, "tariff-grace-minutes".into())}
            {input(Text::CycleCap, form.cycle_cap, "tariff-cycle-cap".into())}
            <Field label=Text::PricingKind>
                <select data-testid="tariff-kind"
                    on:change=move |ev| form.time_of_day.set(event_target_value(&ev) == "time_of_day")>
                    <option value="simple" selected=move || !form.time_of_day.get()>{tr(Text::PricingSimple)}</option>
                    <option value="time_of_day" selected=move || form.time_of_day.get()>{tr(Text::PricingTimeOfDay)}</option>
                </select>
            </Field>
        </div>
    }
}

fn pricing_fields(form: TariffForm) -> impl IntoView {
    move || {
        if form.time_of_day.get() {
            time_of_day_fields(form).into_any()
        } else {
            view! {
                <div class="filters" data-testid="tariff-simple">
                    {input(Text::FirstMinutes, form.first_minutes, "tariff-first-minutes".into())}
                    {input(Text::FirstPrice, form.first_price, "tariff-first-price".into())}
                    {input(Text::UnitMinutes, form.unit_minutes, "tariff-unit-minutes".into())}
                    {input(Text::UnitPrice, form.unit_price, "tariff-unit-price".into())}
                </div>
            }
            .into_any()
        }
    }
}

fn time_of_day_fields(form: TariffForm) -> impl IntoView {
    let add = move |_| form.add_blank_period();
    let rows = move || {
        form.periods
            .get()
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
    };
    view! {
        <div data-testid="tariff-time-of-day">
            <div class="filters">
                <label class="check">
                    <input type="checkbox" data-testid="tariff-tod-first" prop:checked=form.tod_first
                        on:change=move |ev| form.tod_first.set(event_target_checked(&ev)) />
                    {tr(Text::FirstBlock)}
                </label>
                {input(Text::FirstMinutes, form.tod_first_minutes, "tariff-tod-first-minutes".into())}
                {input(Text::FirstPrice, form.tod_first_price, "tariff-tod-first-price".into())}
            </div>
            <Table test_id="tariff-periods" columns=vec![
                Text::TodStart, Text::TodEnd, Text::UnitMinutes, Text::UnitPrice, Text::PeriodCap, Text::Actions,
            ]>
                <For each=rows key=|(i, p)| (*i, p.key) let(row)>
                    {period_row(form, row.0, row.1)}
                </For>
            </Table>
            <button type="button" data-testid="period-add" on:click=add>{tr(Text::AddPeriod)}</button>
        </div>
    }
}

fn period_row(form: TariffForm, i: usize, p: PeriodFields) -> impl IntoView {
    let cell = |value: RwSignal<String>, name: &str, label: Text| {
        let test_id = format!("period-{i}-{name}");
        view! {
            <td data-label=tr(label)><input data-testid=test_id prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) /></td>
        }
    };
    view! {
        <tr data-testid=format!("period-{i}")>
            {cell(p.start, "start", Text::TodStart)}
            {cell(p.end, "end", Text::TodEnd)}
            {cell(p.unit_minutes, "unit-minutes", Text::UnitMinutes)}
            {cell(p.unit_price, "unit-price", Text::UnitPrice)}
            {cell(p.cap, "cap", Text::PeriodCap)}
            <td data-label=tr(Text::Actions)><button type="button" data-testid=format!("period-remove-{i}")
                on:click=move |_| form.remove_period(p.key)>{tr(Text::Remove)}</button></td>
        </tr>
    }
}

fn preview_table(tariff: Memo<Result<Tariff, FormError>>) -> impl IntoView {
    let lang = i18n::lang();
    let entry = protocol::time::parse_mallcoo(SAMPLE_ENTRY).unwrap_or_default();
    view! {
        <div class="result">
            <h3>{tr(Text::TariffPreview)}</h3>
            <p class="muted small">{move || fill(Text::SampleEntry.text(lang.get()), &[&SAMPLE_ENTRY[..16]])}</p>
            <table data-testid="tariff-preview">
                <thead><tr><th>{tr(Text::StayLength)}</th><th>{tr(Text::Fee)}</th></tr></thead>
                <tbody>
                    {PREVIEW_MINUTES.into_iter().map(|m| {
                        let fee = move || tariff
                            .with(|t| t.as_ref().ok().and_then(|t| fee_of(t, entry, entry + TimeDelta::minutes(m)).ok()))
                            .map(|(_, fen)| fen);
                        view! {
                            <tr>
                                <td>{move || duration_text(m, lang.get())}</td>
                                <td data-testid=format!("preview-fee-{m}")
                                    data-fen=move || fee().map(|f| f.to_string()).unwrap_or_default()>
                                    {move || fee().map(yuan).unwrap_or_else(|| "—".to_owned())}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A kit date-time input's `2026-12-06 08:58`, read as Shanghai time.
fn parse_local(input: &str) -> Result<DateTime<Utc>, Text> {
    parse_shanghai(&input.replacen('T', " ", 1))
}

fn try_pair(tariff: Memo<Result<Tariff, FormError>>) -> impl IntoView {
    let lang = i18n::lang();
    let now = Utc::now();
    let entry = RwSignal::new(shanghai_minutes(now - TimeDelta::minutes(150)));
    let exit = RwSignal::new(shanghai_minutes(now));
    let result = move || -> Result<(i64, i64), String> {
        let l = lang.get();
        let describe = |field: Text, e: Text| format!("{}: {}", field.text(l), e.text(l));
        let entry = parse_local(&entry.get()).map_err(|e| describe(Text::EntryTime, e))?;
        let exit = parse_local(&exit.get()).map_err(|e| describe(Text::ExitTime, e))?;
        if exit < entry {
            return Err(Text::ExitBeforeEntry.text(l).to_owned());
        }
        let t = tariff.get().map_err(|e| e.describe(l))?;
        fee_of(&t, entry, exit).map_err(|e| e.to_string())
    };
    view! {
        <div class="result">
            <h3>{tr(Text::TryStay)}</h3>
            <div class="filters">
                <Field label=Text::EntryTime><DateTimeInput value=entry test_id="try-entry" /></Field>
                <Field label=Text::ExitTime><DateTimeInput value=exit test_id="try-exit" /></Field>
            </div>
            {move || match result() {
                Ok((minutes, fen)) => view! {
                    <p>
                        <span data-testid="try-minutes" data-minutes=minutes.to_string()>{duration_text(minutes, lang.get())}</span>
                        " · "
                        <strong class="fee" data-testid="try-fee" data-fen=fen.to_string()>{yuan(fen)}</strong>
                    </p>
                }.into_any(),
                Err(e) => view! { <p class="error" data-testid="try-error">{e}</p> }.into_any(),
            }}
        </div>
    }
}
