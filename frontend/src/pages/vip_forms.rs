//! The recharge part shared by the VIP add and renew forms: quantity, payment, optional dates,
//! and a live preview of the period the server will compute (the protocol crate's own
//! `renewal_period`, run in the browser, so the preview cannot drift from the server).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use protocol::pyun::VipType;
use protocol::vip::{RenewalError, parse_yuan, renewal_period};

use crate::api::{ApiError, RechargeInput};
use crate::format::{shanghai_day_end, shanghai_day_start};
use crate::i18n::{self, Text, fill, tr};
use crate::pages::vip_labels::{PAY_TYPES, needs_dates};
use crate::ui::{DateInput, Field, TextInput};

/// The recharge inputs of a form, as typed.
#[derive(Clone, Copy)]
pub(crate) struct RechargeFields {
    quantity: RwSignal<String>,
    pay_type: RwSignal<String>,
    value: RwSignal<String>,
    amount: RwSignal<String>,
    start: RwSignal<String>,
    end: RwSignal<String>,
}

/// Why the protocol crate could compute no period, in the reader's language.
fn renewal_error_text(e: &RenewalError) -> Text {
    match e {
        RenewalError::ZeroQuantity => Text::RenewalZeroQuantity,
        RenewalError::OutOfRange => Text::RenewalOutOfRange,
    }
}

/// Both dates (`yyyy-MM-dd`), neither, or why one alone or a reversed pair is refused.
fn date_pair(start: &str, end: &str) -> Result<Option<(String, String)>, Text> {
    match (start.trim(), end.trim()) {
        ("", "") => Ok(None),
        (s, e) if s.is_empty() || e.is_empty() => Err(Text::DatesBothOrNeither),
        // Both are `yyyy-MM-dd`, so text order is date order.
        (s, e) if e < s => Err(Text::EndBeforeStart),
        (s, e) => Ok(Some((s.to_owned(), e.to_owned()))),
    }
}

fn invalid(what: Text, detail: impl Into<String>) -> ApiError {
    ApiError::Invalid {
        what,
        detail: detail.into(),
    }
}

impl RechargeFields {
    /// Empty fields: one unit, paid in cash, nothing charged.
    pub(crate) fn new() -> RechargeFields {
        RechargeFields {
            quantity: RwSignal::new("1".to_owned()),
            pay_type: RwSignal::new("1".to_owned()),
            value: RwSignal::new(String::new()),
            amount: RwSignal::new(String::new()),
            start: RwSignal::new(String::new()),
            end: RwSignal::new(String::new()),
        }
    }

    /// Back to the starting values, after a recharge went through.
    pub(crate) fn reset(self) {
        self.quantity.set("1".to_owned());
        self.pay_type.set("1".to_owned());
        for field in [self.value, self.amount, self.start, self.end] {
            field.set(String::new());
        }
    }

    /// Checks the fields as the server would and builds the request part; `current_end` is the
    /// record's validity end (`None` for a new record), for the period check.
    pub(crate) fn read(
        self,
        vip_type: VipType,
        current_end: Option<DateTime<Utc>>,
    ) -> Result<RechargeInput, ApiError> {
        let typed = self.quantity.get_untracked();
        let quantity = typed
            .trim()
            .parse::<u32>()
            .map_err(|_| invalid(Text::VipQuantityInvalid, typed.trim()))?;
        let amount = self.amount.get_untracked();
        let pay_value_fen = if amount.trim().is_empty() {
            0
        } else {
            parse_yuan(amount.trim()).map_err(|e| invalid(Text::AmountInvalid, e))?
        };
        if pay_value_fen < 0 {
            return Err(invalid(Text::AmountInvalid, amount.trim()));
        }
        let dates = date_pair(&self.start.get_untracked(), &self.end.get_untracked())
            .map_err(|what| invalid(what, ""))?;
        let (start, end) = match dates {
            None if needs_dates(vip_type) => return Err(invalid(Text::PeriodRequired, "")),
            None => {
                renewal_period(vip_type, quantity, current_end, Utc::now())
                    .map_err(|e| invalid(renewal_error_text(&e), ""))?;
                (None, None)
            }
            Some((s, e)) => (
                Some(shanghai_day_start(&s, 0).map_err(|w| invalid(w, s.as_str()))?),
                Some(shanghai_day_end(&e).map_err(|w| invalid(w, e.as_str()))?),
            ),
        };
        let value = self.value.get_untracked().trim().to_owned();
        Ok(RechargeInput {
            quantity,
            pay_type: self.pay_type.get_untracked().parse().unwrap_or(1),
            value: (!value.is_empty()).then_some(value),
            pay_value_fen,
            start,
            end,
        })
    }

    /// The inputs; test ids are `{prefix}-quantity`, `-pay-type`, `-value`, `-amount`,
    /// `-start`, `-end`.
    pub(crate) fn view(self, prefix: &'static str) -> impl IntoView {
        let id = move |field: &str| format!("{prefix}-{field}");
        let text_input = move |label: Text,
                               field: &'static str,
                               signal: RwSignal<String>,
                               kind: &'static str| {
            view! { <Field label=label><TextInput value=signal kind=kind test_id=id(field) /></Field> }
        };
        let date_input = move |label: Text, field: &'static str, signal: RwSignal<String>| {
            view! { <Field label=label><DateInput value=signal test_id=id(field) /></Field> }
        };
        let pay_type = self.pay_type;
        view! {
            {text_input(Text::VipQuantity, "quantity", self.quantity, "number")}
            <Field label=Text::PayType>
                <select data-testid=id("pay-type") on:change=move |ev| pay_type.set(event_target_value(&ev))>
                    {PAY_TYPES.into_iter().map(|(code, label)| view! {
                        <option value=code.to_string() selected=move || pay_type.get() == code.to_string()>{tr(label)}</option>
                    }).collect_view()}
                </select>
            </Field>
            {text_input(Text::AmountYuan, "amount", self.amount, "text")}
            {text_input(Text::FaceValue, "value", self.value, "text")}
            {date_input(Text::PeriodStart, "start", self.start)}
            {date_input(Text::PeriodEnd, "end", self.end)}
        }
    }

    /// The period the server will record, recomputed as the fields change
    /// (test id `{prefix}-period`, `data-ok` says whether one could be computed).
    pub(crate) fn preview(
        self,
        prefix: &'static str,
        vip_type: Signal<Option<VipType>>,
        current_end: Signal<Option<DateTime<Utc>>>,
    ) -> impl IntoView {
        let lang = i18n::lang();
        let text = Memo::new(move |_| {
            let t = vip_type.get()?;
            let (start, end) = (self.start.get(), self.end.get());
            let lang = lang.get();
            match date_pair(&start, &end) {
                Err(what) => return Some(Err(what.text(lang).to_owned())),
                Ok(Some((s, e))) => return Some(Ok(fill(Text::PeriodGiven.text(lang), &[&s, &e]))),
                Ok(None) => {}
            }
            let Ok(quantity) = self.quantity.get().trim().parse::<u32>() else {
                return Some(Err(Text::VipQuantityInvalid.text(lang).to_owned()));
            };
            Some(
                match renewal_period(t, quantity, current_end.get(), Utc::now()) {
                    Ok(Some(p)) => Ok(fill(
                        Text::PeriodComputed.text(lang),
                        &[
                            &protocol::time::format_mallcoo(p.start),
                            &protocol::time::format_mallcoo(p.end),
                        ],
                    )),
                    Ok(None) => Err(Text::PeriodRequired.text(lang).to_owned()),
                    Err(e) => Err(renewal_error_text(&e).text(lang).to_owned()),
                },
            )
        });
        move || {
            text.get().map(|result| {
                let ok = result.is_ok();
                let shown = result.unwrap_or_else(|e| e);
                view! {
                    <p class="hint" class:ok=ok class:error=!ok data-testid=format!("{prefix}-period") data-ok=ok.to_string()>
                        {shown}
                    </p>
                }
            })
        }
    }
}
