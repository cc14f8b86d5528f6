//! Live fee preview: the protocol crate's ledger running in the browser on a sample tariff, with
//! Mallcoo's amounts as GetParkingPaymentInfo would answer them (PROTOCOLS.md §2.2).

use chrono::{TimeDelta, Utc};
use leptos::prelude::*;
use protocol::ledger::{MallcooAmounts, Stay, mallcoo_amounts};
use protocol::tariff::Tariff;

use crate::format::{describe_tariff, parse_shanghai, shanghai_minutes, yuan};
use crate::i18n::{self, Lang, Text, fill, tr};
use crate::pages::layout::guarded;
use crate::ui::{DateTimeInput, Field, PageHeader, TextInput};

/// Why no quote could be shown.
#[derive(Debug, Clone, PartialEq)]
enum PreviewError {
    /// A field (label) and what is wrong with it.
    Field(Text, Text),
    /// A rule broken by the inputs together.
    Rule(Text),
    /// The protocol crate's own explanation.
    Other(String),
}

impl PreviewError {
    fn describe(&self, lang: Lang) -> String {
        match self {
            PreviewError::Field(field, problem) => {
                format!("{}: {}", field.text(lang), problem.text(lang))
            }
            PreviewError::Rule(key) => key.text(lang).to_owned(),
            PreviewError::Other(s) => s.clone(),
        }
    }
}

/// Entry time, query time and Mallcoo's free minutes in; the quote out, recomputed as you type.
#[component]
pub fn FeePreview() -> impl IntoView {
    guarded("preview", preview)
}

fn preview() -> impl IntoView {
    let lang = i18n::lang();
    let now = Utc::now();
    let entry = RwSignal::new(shanghai_minutes(now - TimeDelta::minutes(90)));
    let query = RwSignal::new(shanghai_minutes(now));
    let free_minutes = RwSignal::new("0".to_owned());

    let result = Memo::new(move |_| -> Result<MallcooAmounts, PreviewError> {
        let entry =
            parse_shanghai(&entry.get()).map_err(|e| PreviewError::Field(Text::EntryTime, e))?;
        let now =
            parse_shanghai(&query.get()).map_err(|e| PreviewError::Field(Text::QueryTime, e))?;
        let free = free_minutes
            .get()
            .trim()
            .parse::<u32>()
            .map_err(|_| PreviewError::Rule(Text::FreeMinutesInvalid))?;
        let tariff = Tariff::example();
        let stay = Stay {
            entry,
            tariff: &tariff,
            vip: None,
            discounts: &[],
            payments: &[],
        };
        mallcoo_amounts(&stay, now, free, 0).map_err(|e| match e {
            protocol::quote::QuoteError::NowBeforeEntry { .. } => {
                PreviewError::Rule(Text::NowBeforeEntry)
            }
            other => PreviewError::Other(other.to_string()),
        })
    });

    view! {
        <section>
            <PageHeader title=Text::PreviewTitle />
            <p class="muted" data-testid="tariff-description">{move || format!("{}{}", Text::SampleTariff.text(lang.get()), describe_tariff(&Tariff::example(), lang.get()))}</p>
            <div class="filters">
                <Field label=Text::EntryTime><DateTimeInput value=entry test_id="entry-time" /></Field>
                <Field label=Text::QueryTime><DateTimeInput value=query test_id="query-time" /></Field>
                <Field label=Text::FreeMinutes>
                    <TextInput value=free_minutes test_id="free-minutes" inputmode="numeric" />
                </Field>
            </div>
            {move || match result.get() {
                Ok(q) => view! {
                    <div class="fee" data-testid="fee-total">{yuan(q.total)}</div>
                    <table>
                        <tr>
                            <th>{tr(Text::ParkingMinutes)}</th>
                            <td data-testid="parking-minutes">
                                {move || fill(Text::MinutesValue.text(lang.get()), &[&q.figure.parking_minutes.to_string()])}
                            </td>
                        </tr>
                        <tr><th>{tr(Text::Deduction)}</th><td data-testid="deduction">{yuan(q.deduction)}</td></tr>
                        <tr><th>{tr(Text::Unpaid)}</th><td data-testid="unpaid">{yuan(q.unpaid)}</td></tr>
                        <tr><th>{tr(Text::MallcooCollects)}</th><td data-testid="mallcoo-collects">{yuan(q.unpaid - q.deduction)}</td></tr>
                    </table>
                }.into_any(),
                Err(e) => view! {
                    <p class="error" data-testid="fee-error">{move || e.describe(lang.get())}</p>
                }.into_any(),
            }}
        </section>
    }
}
