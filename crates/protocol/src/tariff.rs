//! The tariff model of PROTOCOLS.md §5: what a car park charges, as stored (JSON) and edited in the admin UI.
//!
//! A tariff is plain data; [`Tariff::validate`] says whether it can be priced. The pricing itself
//! lives in [`crate::fee`], which validates before it computes, so an unvalidated tariff can never
//! make it loop or panic.

use serde::{Deserialize, Serialize};

mod day_time;
pub mod depict;
pub use day_time::{DayTime, DayTimeError};

/// Minutes in a day, the length of a cycle and of the period clock.
pub(crate) const DAY_MINUTES: i64 = 24 * 60;

/// A car park's tariff: free time, grace after payment, a per-cycle cap and the pricing proper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    /// A stay of at most this many minutes costs 0 (a longer stay is charged from entry).
    #[serde(default)]
    pub free_minutes: u32,
    /// Minutes a car may stay after its latest payment without owing more (PROTOCOLS.md §2.3).
    #[serde(default = "default_grace_minutes")]
    pub grace_minutes: u32,
    /// Most a 24 h cycle (counted from entry) may cost, in fen; `None` for no cap.
    #[serde(default)]
    pub cycle_cap: Option<i64>,
    /// How the minutes of one cycle are priced.
    pub pricing: Pricing,
}

/// The default grace after payment, 15 minutes (PROTOCOLS.md §2.3).
fn default_grace_minutes() -> u32 {
    15
}

/// The two pricing shapes of §5; the JSON carries `"kind": "simple" | "time_of_day"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pricing {
    /// A first block, then fixed units, whatever the time of day.
    Simple(SimplePricing),
    /// Units priced by the period of the day (Asia/Shanghai) in which they start.
    TimeOfDay(TimeOfDayPricing),
}

/// First block then units: `first_minutes` for `first_price`, then every started `unit_minutes` for `unit_price`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimplePricing {
    /// Length of the first block; 0 means there is none and units start at once.
    pub first_minutes: u32,
    /// Price of the first block, due as soon as any part of it has started.
    pub first_price: i64,
    /// Length of one unit after the first block (≥ 1).
    pub unit_minutes: u32,
    /// Price of every started unit.
    pub unit_price: i64,
}

/// Day periods with their own unit and cap, plus an optional first block at the start of each cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeOfDayPricing {
    /// Charged at the start of every cycle before the periods' units begin.
    #[serde(default)]
    pub first: Option<FirstBlock>,
    /// Periods covering the 24 h of the day exactly once (order does not matter).
    pub periods: Vec<Period>,
}

/// A first block: the first `minutes` of a cycle cost `price`, whatever part of them is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstBlock {
    /// Length of the block (≥ 1).
    pub minutes: u32,
    /// Price of the block.
    pub price: i64,
}

/// One period of the day, `[start, end)` in Asia/Shanghai wall-clock time; it wraps midnight when `end ≤ start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First minute of the period.
    pub start: DayTime,
    /// First minute after the period; equal to `start` for a single period covering the whole day.
    pub end: DayTime,
    /// Length of one unit that starts in this period (≥ 1).
    pub unit_minutes: u32,
    /// Price of every unit that starts in this period.
    pub unit_price: i64,
    /// Most one occurrence of the period (e.g. one night) may cost within a cycle; `None` for no cap.
    #[serde(default)]
    pub period_cap: Option<i64>,
}

/// Why a tariff cannot be priced; the message names the offending field for the admin UI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    /// A unit or first block of zero minutes would never end.
    #[error("{field} must be at least 1 minute")]
    ZeroMinutes {
        /// Path of the field, e.g. `pricing.periods[1].unit_minutes`.
        field: String,
    },
    /// Prices and caps are amounts in fen and cannot be negative.
    #[error("{field} must not be negative (got {value} fen)")]
    Negative {
        /// Path of the field, e.g. `cycle_cap`.
        field: String,
        /// The value found.
        value: i64,
    },
    /// A price for a first block of zero minutes is ambiguous: no part of the block can start.
    #[error("pricing.first_price must be 0 when pricing.first_minutes is 0 (got {0} fen)")]
    PriceWithoutFirstBlock(i64),
    /// A time-of-day tariff without periods prices nothing.
    #[error("a time-of-day tariff needs at least one period")]
    NoPeriods,
    /// Two periods claim the same minutes.
    #[error("periods {first} and {second} overlap")]
    Overlap {
        /// One period, as `HH:MM–HH:MM`.
        first: String,
        /// The other period, as `HH:MM–HH:MM`.
        second: String,
    },
    /// Some minutes of the day belong to no period.
    #[error("no period covers {from}–{to}")]
    Gap {
        /// First uncovered minute.
        from: DayTime,
        /// First covered minute after the gap.
        to: DayTime,
    },
}

/// One period placed on the day's clock, in seconds, as the pricing walks it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span<'a> {
    /// Seconds after local midnight at which the period begins.
    pub(crate) start_sec: i64,
    /// Length of the period in seconds (1 minute to 24 h).
    pub(crate) len_sec: i64,
    /// The period itself.
    pub(crate) period: &'a Period,
}

/// A validated tariff, with a time-of-day tariff's periods sorted by start for lookup.
#[derive(Debug, Clone)]
pub(crate) struct Prepared<'a> {
    /// The tariff, known to be valid.
    pub(crate) tariff: &'a Tariff,
    /// Periods sorted by start; empty for a simple tariff.
    pub(crate) spans: Vec<Span<'a>>,
}

impl Tariff {
    /// The worked example of PROTOCOLS.md §5: free 15, first 60 min 1000, every 30 min 300, cycle cap 5000, grace 15.
    pub fn example() -> Self {
        Tariff {
            free_minutes: 15,
            grace_minutes: 15,
            cycle_cap: Some(5000),
            pricing: Pricing::Simple(SimplePricing {
                first_minutes: 60,
                first_price: 1000,
                unit_minutes: 30,
                unit_price: 300,
            }),
        }
    }

    /// Checks everything the pricing relies on: units ≥ 1 min, no negative amount, periods covering the day once.
    pub fn validate(&self) -> Result<(), TariffError> {
        self.prepare().map(|_| ())
    }

    /// Validates and sorts the periods once, so a quote pricing several stays does it once.
    pub(crate) fn prepare(&self) -> Result<Prepared<'_>, TariffError> {
        non_negative_opt("cycle_cap", self.cycle_cap)?;
        let spans = match &self.pricing {
            Pricing::Simple(p) => {
                positive("pricing.unit_minutes", p.unit_minutes)?;
                non_negative("pricing.first_price", p.first_price)?;
                non_negative("pricing.unit_price", p.unit_price)?;
                if p.first_minutes == 0 && p.first_price != 0 {
                    return Err(TariffError::PriceWithoutFirstBlock(p.first_price));
                }
                Vec::new()
            }
            Pricing::TimeOfDay(p) => {
                if let Some(first) = &p.first {
                    positive("pricing.first.minutes", first.minutes)?;
                    non_negative("pricing.first.price", first.price)?;
                }
                for (i, period) in p.periods.iter().enumerate() {
                    let field = |name: &str| format!("pricing.periods[{i}].{name}");
                    positive(&field("unit_minutes"), period.unit_minutes)?;
                    non_negative(&field("unit_price"), period.unit_price)?;
                    non_negative_opt(&field("period_cap"), period.period_cap)?;
                }
                day_spans(&p.periods)?
            }
        };
        Ok(Prepared {
            tariff: self,
            spans,
        })
    }
}

/// Sorts the periods by start and checks that each ends exactly where the next one begins.
fn day_spans(periods: &[Period]) -> Result<Vec<Span<'_>>, TariffError> {
    if periods.is_empty() {
        return Err(TariffError::NoPeriods);
    }
    let mut spans: Vec<Span<'_>> = periods
        .iter()
        .map(|p| {
            let len = (p.end.clock_minutes() - p.start.clock_minutes()).rem_euclid(DAY_MINUTES);
            Span {
                start_sec: p.start.clock_minutes() * 60,
                // `start == end` is the whole day: the only reading that is not an empty period.
                len_sec: if len == 0 { DAY_MINUTES } else { len } * 60,
                period: p,
            }
        })
        .collect();
    spans.sort_by_key(|s| s.start_sec);
    let label = |s: &Span<'_>| format!("{}–{}", s.period.start, s.period.end);
    for (i, span) in spans.iter().enumerate() {
        let next = &spans[(i + 1) % spans.len()];
        // Distance to the next start around the clock; a lone period must reach its own start.
        let mut room = (next.start_sec - span.start_sec).rem_euclid(DAY_MINUTES * 60);
        if room == 0 && spans.len() == 1 {
            room = DAY_MINUTES * 60;
        }
        if span.len_sec > room || room == 0 {
            return Err(TariffError::Overlap {
                first: label(span),
                second: label(next),
            });
        }
        if span.len_sec < room {
            let end_min = (span.start_sec + span.len_sec) / 60;
            return Err(TariffError::Gap {
                from: DayTime::from_clock_minutes(end_min),
                to: DayTime::from_clock_minutes(next.start_sec / 60),
            });
        }
    }
    Ok(spans)
}

fn positive(field: &str, minutes: u32) -> Result<(), TariffError> {
    if minutes == 0 {
        return Err(TariffError::ZeroMinutes {
            field: field.to_owned(),
        });
    }
    Ok(())
}

fn non_negative(field: &str, value: i64) -> Result<(), TariffError> {
    if value < 0 {
        return Err(TariffError::Negative {
            field: field.to_owned(),
            value,
        });
    }
    Ok(())
}

fn non_negative_opt(field: &str, value: Option<i64>) -> Result<(), TariffError> {
    value.map_or(Ok(()), |v| non_negative(field, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(start: &str, end: &str) -> Period {
        Period {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            unit_minutes: 30,
            unit_price: 200,
            period_cap: None,
        }
    }

    fn time_of_day(periods: Vec<Period>) -> Tariff {
        Tariff {
            pricing: Pricing::TimeOfDay(TimeOfDayPricing {
                first: None,
                periods,
            }),
            ..Tariff::example()
        }
    }

    #[test]
    fn example_is_valid_and_round_trips_through_json() {
        let t = Tariff::example();
        t.validate().unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains(r#""kind":"simple""#), "{json}");
        assert_eq!(serde_json::from_str::<Tariff>(&json).unwrap(), t);
    }

    #[test]
    fn stored_time_of_day_json_reads_with_defaults() {
        let t: Tariff = serde_json::from_str(
            r#"{"cycle_cap": 3000, "pricing": {"kind": "time_of_day", "periods": [
                {"start": "07:00", "end": "19:00", "unit_minutes": 30, "unit_price": 200, "period_cap": 2000},
                {"start": "19:00", "end": "07:00", "unit_minutes": 60, "unit_price": 100}]}}"#,
        )
        .unwrap();
        assert_eq!(t.grace_minutes, 15);
        assert_eq!(t.free_minutes, 0);
        t.validate().unwrap();
        let again: Tariff = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(again, t);
    }

    #[test]
    fn misspelt_fields_are_rejected_not_ignored() {
        let json = r#"{"cyclecap": 1, "pricing": {"kind": "simple", "first_minutes": 0,
            "first_price": 0, "unit_minutes": 30, "unit_price": 1}}"#;
        assert!(serde_json::from_str::<Tariff>(json).is_err());
        let json = r#"{"pricing": {"kind": "simple", "first_minutes": 0, "first_price": 0,
            "unit_minutes": 30, "unit_price": 1, "unit_prize": 2}}"#;
        assert!(serde_json::from_str::<Tariff>(json).is_err());
    }

    #[test]
    fn periods_must_cover_the_day_exactly_once() {
        time_of_day(vec![period("19:00", "07:00"), period("07:00", "19:00")])
            .validate()
            .unwrap();
        time_of_day(vec![period("00:00", "24:00")])
            .validate()
            .unwrap();
        time_of_day(vec![period("06:30", "06:30")])
            .validate()
            .unwrap();
        assert_eq!(
            time_of_day(vec![period("07:00", "19:00"), period("19:30", "07:00")]).validate(),
            Err(TariffError::Gap {
                from: "19:00".parse().unwrap(),
                to: "19:30".parse().unwrap()
            })
        );
        let overlap = time_of_day(vec![period("07:00", "19:30"), period("19:00", "07:00")]);
        assert_eq!(
            overlap.validate().unwrap_err().to_string(),
            "periods 07:00–19:30 and 19:00–07:00 overlap"
        );
        let twice = time_of_day(vec![period("07:00", "19:00"), period("07:00", "19:00")]);
        assert!(matches!(twice.validate(), Err(TariffError::Overlap { .. })));
        let whole_and_more = time_of_day(vec![period("00:00", "00:00"), period("07:00", "08:00")]);
        assert!(matches!(
            whole_and_more.validate(),
            Err(TariffError::Overlap { .. })
        ));
        assert_eq!(
            time_of_day(vec![period("07:00", "19:00")]).validate(),
            Err(TariffError::Gap {
                from: "19:00".parse().unwrap(),
                to: "07:00".parse().unwrap()
            })
        );
        assert_eq!(time_of_day(vec![]).validate(), Err(TariffError::NoPeriods));
    }

    #[test]
    fn bad_amounts_and_units_name_their_field() {
        let mut t = Tariff::example();
        t.cycle_cap = Some(-1);
        assert_eq!(
            t.validate().unwrap_err().to_string(),
            "cycle_cap must not be negative (got -1 fen)"
        );
        let mut p = period("00:00", "00:00");
        p.unit_minutes = 0;
        assert_eq!(
            time_of_day(vec![p]).validate().unwrap_err().to_string(),
            "pricing.periods[0].unit_minutes must be at least 1 minute"
        );
        let mut p = period("00:00", "00:00");
        p.period_cap = Some(-5);
        assert!(matches!(
            time_of_day(vec![p]).validate(),
            Err(TariffError::Negative { .. })
        ));
        let t = Tariff {
            pricing: Pricing::Simple(SimplePricing {
                first_minutes: 0,
                first_price: 100,
                unit_minutes: 30,
                unit_price: 100,
            }),
            ..Tariff::example()
        };
        assert_eq!(t.validate(), Err(TariffError::PriceWithoutFirstBlock(100)));
    }
}
