//! Form fields: a label, the input, a hint and an inline error, and date inputs that read and
//! show `2026-12-06` / `2026-12-06 08:58` whatever the browser's locale.
//!
//! A native `<input type=date>` shows the date in the browser's locale (`12/06/2026` in an
//! en-US Chromium), so dates are text inputs with a placeholder, a `pattern` and a chrono check.

use chrono::{NaiveDate, NaiveDateTime};
use leptos::prelude::*;

use crate::i18n::{Text, tr};

/// The date format every date input takes and every date is shown in.
const DATE_FORMAT: &str = "%Y-%m-%d";
/// The date-and-time format (to the minute) inputs take and times are shown in.
const DATE_TIME_FORMAT: &str = "%Y-%m-%d %H:%M";

/// Reads `2026-12-06` exactly (four-digit year, two-digit month and day).
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    (s.len() == "2026-12-06".len())
        .then(|| NaiveDate::parse_from_str(s, DATE_FORMAT).ok())
        .flatten()
}

/// Reads `2026-12-06 08:58` (a `T` instead of the space is taken too).
pub(crate) fn parse_date_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim().replacen('T', " ", 1);
    (s.len() == "2026-12-06 08:58".len())
        .then(|| NaiveDateTime::parse_from_str(&s, DATE_TIME_FORMAT).ok())
        .flatten()
}

/// A labelled form field: label, the input (children), a hint, an inline error.
///
/// The whole field is a `<label>`, so a click on the text focuses the input without ids; a
/// group of checkboxes takes `group=true` (a `role=group` box named by the label instead).
/// Give the input `invalid` (or `aria-invalid`) when `error` is set.
///
/// ```ignore
/// <Field label=Text::Name hint=Text::ParkCodeHint error=move || name_error.get() error_test_id="park-name-error">
///     <TextInput value=name test_id="park-name" invalid=move || name_error.get().is_some() />
/// </Field>
/// <Field label=Text::Parks group=true><div class="checks">…</div></Field>
/// ```
#[component]
pub(crate) fn Field(
    /// The label.
    label: Text,
    /// A line of help under the input.
    #[prop(optional)]
    hint: Option<Text>,
    /// What is wrong with the value, shown under it in red.
    #[prop(into, optional)]
    error: Signal<Option<Text>>,
    /// `data-testid` of the inline error.
    #[prop(optional)]
    error_test_id: Option<&'static str>,
    /// A group of inputs (checkboxes) rather than one.
    #[prop(optional)]
    group: bool,
    /// The input(s).
    children: Children,
) -> impl IntoView {
    let parts = move |children: Children| {
        view! {
            <span class="field-label">{tr(label)}</span>
            {children()}
            {hint.map(|h| view! { <span class="field-hint">{tr(h)}</span> })}
            {move || error.get().map(|e| view! {
                <span class="field-error" role="alert" data-testid=error_test_id>{tr(e)}</span>
            })}
        }
    };
    if group {
        view! { <div class="field" role="group" aria-label=tr(label)>{parts(children)}</div> }
            .into_any()
    } else {
        view! { <label class="field">{parts(children)}</label> }.into_any()
    }
}

/// A text input bound to `value`; more attributes go through `{..}`.
///
/// ```ignore
/// <TextInput value=name test_id="user-username" />
/// <TextInput value=password test_id="user-password" kind="password" {..} autocomplete="new-password" />
/// ```
/// `{..}` right after a path or variable (`test_id=id {..}`) parses as a struct literal: put a
/// literal-valued prop just before it.
#[component]
pub(crate) fn TextInput(
    /// The text, kept in step both ways.
    value: RwSignal<String>,
    /// `data-testid` of the input.
    #[prop(into, optional)]
    test_id: Option<String>,
    /// `type`: `text` (default), `password`, `search`…
    #[prop(optional)]
    kind: Option<&'static str>,
    /// Grey text shown while empty.
    #[prop(optional)]
    placeholder: Option<Text>,
    /// Marks the input as wrong (`aria-invalid`, red border).
    #[prop(into, optional)]
    invalid: Signal<bool>,
    /// The phone keyboard to show: `numeric`, `decimal`…
    #[prop(optional)]
    inputmode: Option<&'static str>,
) -> impl IntoView {
    view! {
        <input type=kind.unwrap_or("text") data-testid=test_id inputmode=inputmode
            placeholder=placeholder.map(tr)
            aria-invalid=move || invalid.get().then_some("true")
            prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
    }
}

/// A date typed as `2026-12-06`; says so under the input when the text is not such a date.
///
/// ```ignore
/// <Field label=Text::From><DateInput value=from test_id="coupon-filter-from" /></Field>
/// // then: ui::parse_date(&from.get()) -> Option<NaiveDate>
/// ```
#[component]
pub(crate) fn DateInput(
    /// The text, `2026-12-06` or empty.
    value: RwSignal<String>,
    /// `data-testid` of the input; the format error is `{test_id}-error`.
    #[prop(into, optional)]
    test_id: Option<String>,
) -> impl IntoView {
    formatted_input(
        value,
        test_id,
        r"\d{4}-\d{2}-\d{2}",
        "2026-12-06",
        Text::DateFormatError,
        |s| parse_date(s).is_some(),
    )
}

/// A date and time typed as `2026-12-06 08:58`; says so when the text is not one.
///
/// ```ignore
/// <Field label=Text::EntryTime><DateTimeInput value=entry test_id="try-entry" /></Field>
/// // then: ui::parse_date_time(&entry.get()) -> Option<NaiveDateTime>
/// ```
#[component]
pub(crate) fn DateTimeInput(
    /// The text, `2026-12-06 08:58` or empty.
    value: RwSignal<String>,
    /// `data-testid` of the input; the format error is `{test_id}-error`.
    #[prop(into, optional)]
    test_id: Option<String>,
) -> impl IntoView {
    formatted_input(
        value,
        test_id,
        r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}",
        "2026-12-06 08:58",
        Text::DateTimeFormatError,
        |s| parse_date_time(s).is_some(),
    )
}

/// A text input for a fixed format, flagged once the user leaves it with a wrong text.
fn formatted_input(
    value: RwSignal<String>,
    test_id: Option<String>,
    pattern: &'static str,
    example: &'static str,
    problem: Text,
    valid: fn(&str) -> bool,
) -> impl IntoView {
    // Flag only after a change is committed (blur, Enter): not at every half-typed digit.
    let committed = RwSignal::new(false);
    let wrong = move || committed.get() && value.with(|v| !v.trim().is_empty() && !valid(v));
    let error_id = test_id.as_ref().map(|t| format!("{t}-error"));
    view! {
        <input type="text" class="date" autocomplete="off" spellcheck="false"
            pattern=pattern placeholder=example maxlength=example.len().to_string()
            data-testid=test_id
            aria-invalid=move || wrong().then_some("true")
            prop:value=value
            on:input=move |ev| value.set(event_target_value(&ev))
            on:change=move |_| committed.set(true) />
        {move || wrong().then(|| view! {
            <span class="field-error" role="alert" data-testid=error_id.clone()>{tr(problem)}</span>
        })}
    }
}
