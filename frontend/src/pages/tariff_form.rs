//! The tariff form's state: one text signal per field, read into a `protocol::tariff::Tariff`
//! (amounts typed in 元, converted exactly to fen) and validated by the protocol crate, as the
//! server will validate it.

use leptos::prelude::*;
use protocol::tariff::{
    DayTime, FirstBlock, Period, Pricing, SimplePricing, Tariff, TimeOfDayPricing,
};
use protocol::vip::{format_yuan, parse_yuan};

use crate::i18n::{Lang, Text};

/// Why the form does not make a tariff: a field (label) and what is wrong, or the protocol
/// crate's own verdict on the whole.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FormError {
    /// A field and its problem (a `Text`, plus detail that may be empty).
    Field(Text, Text, String),
    /// `Tariff::validate` refused it.
    Invalid(String),
}

impl FormError {
    /// The message to show.
    pub(crate) fn describe(&self, lang: Lang) -> String {
        match self {
            FormError::Field(field, problem, detail) if detail.is_empty() => {
                format!("{}: {}", field.text(lang), problem.text(lang))
            }
            FormError::Field(field, problem, detail) => {
                format!("{}: {} ({detail})", field.text(lang), problem.text(lang))
            }
            FormError::Invalid(detail) => format!("{}: {detail}", Text::TariffInvalid.text(lang)),
        }
    }
}

/// One period row of a time-of-day tariff.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeriodFields {
    /// Stable key for the row list.
    pub(crate) key: u64,
    /// `HH:MM`.
    pub(crate) start: RwSignal<String>,
    /// `HH:MM`.
    pub(crate) end: RwSignal<String>,
    /// Minutes per unit.
    pub(crate) unit_minutes: RwSignal<String>,
    /// 元 per unit.
    pub(crate) unit_price: RwSignal<String>,
    /// 元 cap per occurrence; empty for none.
    pub(crate) cap: RwSignal<String>,
}

/// Every field of the form, as typed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TariffForm {
    /// Minutes free.
    pub(crate) free_minutes: RwSignal<String>,
    /// Minutes of grace after a payment.
    pub(crate) grace_minutes: RwSignal<String>,
    /// 元 per 24 h cycle; empty for none.
    pub(crate) cycle_cap: RwSignal<String>,
    /// Whether the pricing is by time of day.
    pub(crate) time_of_day: RwSignal<bool>,
    /// Simple: first block minutes.
    pub(crate) first_minutes: RwSignal<String>,
    /// Simple: first block 元.
    pub(crate) first_price: RwSignal<String>,
    /// Simple: unit minutes.
    pub(crate) unit_minutes: RwSignal<String>,
    /// Simple: unit 元.
    pub(crate) unit_price: RwSignal<String>,
    /// Time of day: whether a first block applies.
    pub(crate) tod_first: RwSignal<bool>,
    /// Time of day: first block minutes.
    pub(crate) tod_first_minutes: RwSignal<String>,
    /// Time of day: first block 元.
    pub(crate) tod_first_price: RwSignal<String>,
    /// Time of day: the periods.
    pub(crate) periods: RwSignal<Vec<PeriodFields>>,
    next_key: StoredValue<u64>,
}

fn text(s: impl ToString) -> RwSignal<String> {
    RwSignal::new(s.to_string())
}

fn yuan_text(fen: i64) -> RwSignal<String> {
    text(format_yuan(fen))
}

fn cap_text(fen: Option<i64>) -> RwSignal<String> {
    text(fen.map(format_yuan).unwrap_or_default())
}

impl TariffForm {
    /// A form showing `t`; the pricing shape not in use starts from sensible values.
    pub(crate) fn of(t: &Tariff) -> TariffForm {
        // The pricing of `Tariff::example()` (PROTOCOLS.md §5's worked example).
        let example = SimplePricing {
            first_minutes: 60,
            first_price: 1000,
            unit_minutes: 30,
            unit_price: 300,
        };
        let simple = match &t.pricing {
            Pricing::Simple(p) => p.clone(),
            Pricing::TimeOfDay(_) => example.clone(),
        };
        let (tod_first, periods) = match &t.pricing {
            Pricing::TimeOfDay(p) => (p.first.clone(), p.periods.clone()),
            Pricing::Simple(_) => (None, default_periods()),
        };
        let form = TariffForm {
            free_minutes: text(t.free_minutes),
            grace_minutes: text(t.grace_minutes),
            cycle_cap: cap_text(t.cycle_cap),
            time_of_day: RwSignal::new(matches!(t.pricing, Pricing::TimeOfDay(_))),
            first_minutes: text(simple.first_minutes),
            first_price: yuan_text(simple.first_price),
            unit_minutes: text(simple.unit_minutes),
            unit_price: yuan_text(simple.unit_price),
            tod_first: RwSignal::new(tod_first.is_some()),
            tod_first_minutes: text(tod_first.as_ref().map_or(60, |f| f.minutes)),
            tod_first_price: yuan_text(tod_first.as_ref().map_or(example.first_price, |f| f.price)),
            periods: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(0),
        };
        for p in &periods {
            form.add_period(p);
        }
        form
    }

    /// Appends a period row showing `p`.
    pub(crate) fn add_period(&self, p: &Period) {
        self.push_row(PeriodFields {
            key: 0,
            start: text(p.start),
            end: text(p.end),
            unit_minutes: text(p.unit_minutes),
            unit_price: yuan_text(p.unit_price),
            cap: cap_text(p.period_cap),
        });
    }

    /// Appends an empty period row (00:00–00:00, 60 min at 1.00 元) for the person to fill in.
    pub(crate) fn add_blank_period(&self) {
        self.push_row(PeriodFields {
            key: 0,
            start: text("00:00"),
            end: text("00:00"),
            unit_minutes: text(60),
            unit_price: text("1.00"),
            cap: text(""),
        });
    }

    fn push_row(&self, mut row: PeriodFields) {
        row.key = self.next_key.get_value();
        self.next_key.set_value(row.key + 1);
        self.periods.update(|rows| rows.push(row));
    }

    /// Removes the period row `key`.
    pub(crate) fn remove_period(&self, key: u64) {
        self.periods.update(|rows| rows.retain(|r| r.key != key));
    }

    /// The tariff the fields describe, validated; tracks every field it reads.
    pub(crate) fn tariff(&self) -> Result<Tariff, FormError> {
        let pricing = if self.time_of_day.get() {
            let first = if self.tod_first.get() {
                Some(FirstBlock {
                    minutes: minutes(Text::FirstMinutes, self.tod_first_minutes)?,
                    price: fen(Text::FirstPrice, self.tod_first_price)?,
                })
            } else {
                None
            };
            let periods = self
                .periods
                .get()
                .iter()
                .map(PeriodFields::period)
                .collect::<Result<Vec<_>, _>>()?;
            Pricing::TimeOfDay(TimeOfDayPricing { first, periods })
        } else {
            Pricing::Simple(SimplePricing {
                first_minutes: minutes(Text::FirstMinutes, self.first_minutes)?,
                first_price: fen(Text::FirstPrice, self.first_price)?,
                unit_minutes: minutes(Text::UnitMinutes, self.unit_minutes)?,
                unit_price: fen(Text::UnitPrice, self.unit_price)?,
            })
        };
        let tariff = Tariff {
            free_minutes: minutes(Text::FreeTime, self.free_minutes)?,
            grace_minutes: minutes(Text::GraceMinutes, self.grace_minutes)?,
            cycle_cap: optional_fen(Text::CycleCap, self.cycle_cap)?,
            pricing,
        };
        tariff
            .validate()
            .map_err(|e| FormError::Invalid(e.to_string()))?;
        Ok(tariff)
    }
}

impl PeriodFields {
    fn period(&self) -> Result<Period, FormError> {
        let time = |field: Text, s: RwSignal<String>| {
            s.get()
                .trim()
                .parse::<DayTime>()
                .map_err(|_| FormError::Field(field, Text::DayTimeInvalid, String::new()))
        };
        Ok(Period {
            start: time(Text::TodStart, self.start)?,
            end: time(Text::TodEnd, self.end)?,
            unit_minutes: minutes(Text::UnitMinutes, self.unit_minutes)?,
            unit_price: fen(Text::UnitPrice, self.unit_price)?,
            period_cap: optional_fen(Text::PeriodCap, self.cap)?,
        })
    }
}

/// Day 07:00–19:00 and night 19:00–07:00, the shape most car parks use, as a starting point.
fn default_periods() -> Vec<Period> {
    let (Some(day), Some(night)) = (DayTime::new(7, 0), DayTime::new(19, 0)) else {
        return Vec::new();
    };
    vec![
        Period {
            start: day,
            end: night,
            unit_minutes: 30,
            unit_price: 300,
            period_cap: None,
        },
        Period {
            start: night,
            end: day,
            unit_minutes: 60,
            unit_price: 100,
            period_cap: Some(1000),
        },
    ]
}

fn minutes(field: Text, s: RwSignal<String>) -> Result<u32, FormError> {
    s.get()
        .trim()
        .parse::<u32>()
        .map_err(|_| FormError::Field(field, Text::WholeMinutes, String::new()))
}

fn fen(field: Text, s: RwSignal<String>) -> Result<i64, FormError> {
    parse_yuan(&s.get()).map_err(|e| FormError::Field(field, Text::AmountInvalid, e))
}

fn optional_fen(field: Text, s: RwSignal<String>) -> Result<Option<i64>, FormError> {
    if s.with(|v| v.trim().is_empty()) {
        Ok(None)
    } else {
        fen(field, s).map(Some)
    }
}
