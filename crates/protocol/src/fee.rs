//! The fee of one stay under a tariff, exactly as PROTOCOLS.md §5 defines it.
//!
//! Semantics fixed here (the digest's wording, made precise):
//! - The stay is measured in whole minutes, rounded **up** (`stay_minutes`).
//! - `free_minutes` applies to the whole stay only: a stay of at most `free_minutes` costs 0, a
//!   longer one is charged from entry. It is *not* applied again to later cycles.
//! - The stay is cut into 24 h cycles counted from entry; each is priced as a fresh stay of its own
//!   length (so a later cycle's partial stay pays the first block again) and capped by `cycle_cap`.
//!   Asia/Shanghai has no DST, so every full cycle starts at the same wall-clock time and costs
//!   the same: full cycles are priced once and multiplied, whatever the length of the stay.
//! - Time of day: after the optional first block, units follow one another without realignment;
//!   a unit is priced by the period in which it *starts*, even if it runs into the next one, and a
//!   period too short for any unit to start in it costs nothing. A period's cap applies to each
//!   occurrence (e.g. one night 19:00–07:00, across midnight) within a cycle; a cycle boundary
//!   inside an occurrence starts a fresh one, as a fresh stay would. The first block is not part
//!   of any period's cap; the cycle cap covers everything.
//! - Amounts saturate at `i64::MAX` instead of overflowing: absurd prices stay absurd, never wrap.

use chrono::{DateTime, Timelike, Utc};

use crate::tariff::{
    DAY_MINUTES, FirstBlock, Prepared, Pricing, SimplePricing, Span, Tariff, TariffError,
};
use crate::time::to_shanghai;

/// Seconds in a day, the period clock's modulus.
const DAY_SECONDS: i64 = DAY_MINUTES * 60;

/// Why a fee cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeeError {
    /// The tariff does not pass [`Tariff::validate`].
    #[error("invalid tariff: {0}")]
    Tariff(#[from] TariffError),
    /// A stay that ends before it begins is a caller's mistake, not a free stay.
    #[error("the stay ends at {end}, before its entry at {entry}")]
    EndBeforeEntry {
        /// Entry time.
        entry: DateTime<Utc>,
        /// The end asked for.
        end: DateTime<Utc>,
    },
}

/// Minutes from `entry` to `end`, rounded up to whole minutes; 0 when `end` is not after `entry`.
pub fn stay_minutes(entry: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    let stay = end.signed_duration_since(entry);
    if stay <= chrono::TimeDelta::zero() {
        return 0;
    }
    // Both parts are non-negative for a positive span; any started minute counts.
    let (secs, nanos) = (stay.num_seconds(), stay.subsec_nanos());
    secs / 60 + i64::from(secs % 60 != 0 || nanos != 0)
}

/// The fee in fen for a stay from `entry` to `end` under `tariff` (validated first, so never a panic or a hang).
pub fn fee(tariff: &Tariff, entry: DateTime<Utc>, end: DateTime<Utc>) -> Result<i64, FeeError> {
    let prepared = tariff.prepare()?;
    if end < entry {
        return Err(FeeError::EndBeforeEntry { entry, end });
    }
    Ok(fee_prepared(&prepared, entry, end))
}

/// [`fee`] for a tariff already validated; a stay that does not end after `entry` costs 0.
pub(crate) fn fee_prepared(p: &Prepared<'_>, entry: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    let minutes = stay_minutes(entry, end);
    if minutes <= i64::from(p.tariff.free_minutes) {
        return 0;
    }
    // Sub-second parts of entry cannot move a unit across a period boundary (whole minutes).
    let clock = i64::from(to_shanghai(entry).num_seconds_from_midnight());
    let (full, rest) = (minutes / DAY_MINUTES, minutes % DAY_MINUTES);
    let mut total = 0i64;
    if full > 0 {
        total = cycle_price(p, clock, DAY_MINUTES).saturating_mul(full);
    }
    if rest > 0 {
        total = total.saturating_add(cycle_price(p, clock, rest));
    }
    total
}

/// One cycle of `minutes` (1 to 1440) starting at `clock` seconds after local midnight, capped.
fn cycle_price(p: &Prepared<'_>, clock: i64, minutes: i64) -> i64 {
    let raw = match &p.tariff.pricing {
        Pricing::Simple(s) => simple_price(s, minutes),
        Pricing::TimeOfDay(t) => time_of_day_price(t.first.as_ref(), &p.spans, clock, minutes),
    };
    p.tariff.cycle_cap.map_or(raw, |cap| raw.min(cap))
}

fn simple_price(s: &SimplePricing, minutes: i64) -> i64 {
    let first = i64::from(s.first_minutes);
    // A first block exists only with a length; validation forbids a price without one.
    let mut price = if first > 0 { s.first_price } else { 0 };
    let rest = minutes - first;
    if rest > 0 {
        let units = ceil_div(rest, i64::from(s.unit_minutes));
        price = price.saturating_add(units.saturating_mul(s.unit_price));
    }
    price
}

/// Walks the cycle one period occurrence at a time: units starting in it are counted, not stepped.
fn time_of_day_price(
    first: Option<&FirstBlock>,
    spans: &[Span<'_>],
    clock: i64,
    minutes: i64,
) -> i64 {
    let len = minutes * 60;
    let (mut price, mut at) = match first {
        Some(f) => (f.price, i64::from(f.minutes) * 60),
        None => (0, 0),
    };
    while at < len {
        let Some((span, into)) = span_at(spans, (clock + at) % DAY_SECONDS) else {
            break;
        };
        let unit = i64::from(span.period.unit_minutes).max(1) * 60;
        let window = (span.len_sec - into).min(len - at);
        // At least one unit per step keeps the walk finite even if an invariant were broken.
        let units = ceil_div(window, unit).max(1);
        let cost = units.saturating_mul(span.period.unit_price);
        price = price.saturating_add(span.period.period_cap.map_or(cost, |cap| cost.min(cap)));
        at += units * unit;
    }
    price
}

/// The period containing `clock` (seconds after local midnight) and how far into it `clock` is.
fn span_at<'s, 'a>(spans: &'s [Span<'a>], clock: i64) -> Option<(&'s Span<'a>, i64)> {
    let after = spans.partition_point(|s| s.start_sec <= clock);
    // Before the earliest start we are still in the last period, which wraps midnight.
    let span = if after == 0 {
        spans.last()?
    } else {
        &spans[after - 1]
    };
    Some((span, (clock - span.start_sec).rem_euclid(DAY_SECONDS)))
}

/// `⌈a / b⌉` for `a ≥ 0`, `b ≥ 1`.
fn ceil_div(a: i64, b: i64) -> i64 {
    let b = b.max(1);
    a / b + i64::from(a % b != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tariff::{Period, TimeOfDayPricing};
    use crate::time::parse_mallcoo;
    use chrono::TimeDelta;

    fn at(shanghai: &str) -> DateTime<Utc> {
        parse_mallcoo(shanghai).unwrap()
    }

    fn after(entry: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        entry + TimeDelta::minutes(minutes)
    }

    fn period(start: &str, end: &str, unit: u32, price: i64, cap: Option<i64>) -> Period {
        Period {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            unit_minutes: unit,
            unit_price: price,
            period_cap: cap,
        }
    }

    /// Day 07:00–19:00 every 30 min 200 (cap 2000), night 19:00–07:00 every 60 min 100 (cap 500).
    fn day_night() -> Tariff {
        Tariff {
            free_minutes: 15,
            grace_minutes: 15,
            cycle_cap: None,
            pricing: Pricing::TimeOfDay(TimeOfDayPricing {
                first: None,
                periods: vec![
                    period("19:00", "07:00", 60, 100, Some(500)),
                    period("07:00", "19:00", 30, 200, Some(2000)),
                ],
            }),
        }
    }

    fn day_night_fee(t: &Tariff, entry: &str, end: &str) -> i64 {
        fee(t, at(entry), at(end)).unwrap()
    }

    #[test]
    fn stay_minutes_round_up_any_started_minute() {
        let e = at("2026-11-24 10:00:00");
        assert_eq!(stay_minutes(e, e), 0);
        assert_eq!(stay_minutes(e, e + TimeDelta::nanoseconds(1)), 1);
        assert_eq!(stay_minutes(e, e + TimeDelta::seconds(60)), 1);
        assert_eq!(stay_minutes(e, e + TimeDelta::seconds(61)), 2);
        assert_eq!(stay_minutes(e, e - TimeDelta::seconds(61)), 0);
    }

    #[test]
    fn worked_examples_of_protocols_section_5() {
        let t = Tariff::example();
        let e = at("2026-11-24 10:24:10");
        for (minutes, expected) in [
            (15, 0),
            (16, 1000),
            (60, 1000),
            (61, 1300),
            (90, 1300),
            (91, 1600),
            (23 * 60, 5000),
            (24 * 60, 5000),
            (24 * 60 + 10, 6000),
        ] {
            assert_eq!(
                fee(&t, e, after(e, minutes)).unwrap(),
                expected,
                "{minutes} min"
            );
        }
        // 15 min and one second is a 16-minute stay.
        assert_eq!(
            fee(&t, e, after(e, 15) + TimeDelta::seconds(1)).unwrap(),
            1000
        );
    }

    #[test]
    fn a_unit_is_priced_by_the_period_it_starts_in() {
        let t = day_night();
        // Two day units then one night unit.
        assert_eq!(
            day_night_fee(&t, "2026-11-24 18:00:00", "2026-11-24 20:00:00"),
            500
        );
        // The 18:45 day unit runs into the night at the day price; the next starts at 19:15.
        assert_eq!(
            day_night_fee(&t, "2026-11-24 18:45:00", "2026-11-24 19:50:00"),
            300
        );
        assert_eq!(
            day_night_fee(&t, "2026-11-24 18:50:00", "2026-11-24 21:00:00"),
            400
        );
        let free_none = Tariff {
            free_minutes: 0,
            ..day_night()
        };
        assert_eq!(
            day_night_fee(&free_none, "2026-11-24 18:59:30", "2026-11-24 19:00:30"),
            200
        );
        assert_eq!(
            day_night_fee(&free_none, "2026-11-24 19:00:00", "2026-11-24 19:00:01"),
            100
        );
    }

    #[test]
    fn midnight_does_not_split_a_night() {
        let t = day_night();
        assert_eq!(
            day_night_fee(&t, "2026-11-24 22:00:00", "2026-11-25 02:00:00"),
            400
        );
        // Ten night units, one occurrence: capped once at 500, not per calendar day.
        assert_eq!(
            day_night_fee(&t, "2026-11-24 20:00:00", "2026-11-25 06:00:00"),
            500
        );
    }

    #[test]
    fn period_caps_apply_per_occurrence() {
        let t = day_night();
        // Night 06:00–07:00 (100) + a whole day capped (4800 → 2000) + night 19:00–20:30 (200).
        assert_eq!(
            day_night_fee(&t, "2026-11-24 06:00:00", "2026-11-24 20:30:00"),
            2300
        );
        // Day 18:00–19:00 (400) + night (1200 → 500) + day 07:00–17:00 (4000 → 2000).
        assert_eq!(
            day_night_fee(&t, "2026-11-24 18:00:00", "2026-11-25 17:00:00"),
            2900
        );
    }

    #[test]
    fn each_cycle_of_a_time_of_day_tariff_is_a_fresh_stay() {
        let t = day_night();
        // Full cycle from 18:00 costs 2900; the 2 h remainder from 18:00 again costs 500.
        assert_eq!(
            day_night_fee(&t, "2026-11-24 18:00:00", "2026-11-25 20:00:00"),
            3400
        );
        let capped = Tariff {
            cycle_cap: Some(2500),
            ..day_night()
        };
        assert_eq!(
            day_night_fee(&capped, "2026-11-24 18:00:00", "2026-11-25 20:00:00"),
            3000
        );
    }

    #[test]
    fn the_first_block_precedes_the_period_units_in_each_cycle() {
        let mut t = day_night();
        if let Pricing::TimeOfDay(p) = &mut t.pricing {
            p.first = Some(FirstBlock {
                minutes: 60,
                price: 500,
            });
        }
        assert_eq!(
            day_night_fee(&t, "2026-11-24 18:30:00", "2026-11-24 19:20:00"),
            500
        );
        // First block to 19:30, then one night unit.
        assert_eq!(
            day_night_fee(&t, "2026-11-24 18:30:00", "2026-11-24 20:00:00"),
            600
        );
        // The second cycle starts with the first block again (10 minutes → 500).
        let one_cycle = day_night_fee(&t, "2026-11-24 18:30:00", "2026-11-25 18:30:00");
        assert_eq!(
            day_night_fee(&t, "2026-11-24 18:30:00", "2026-11-25 18:40:00"),
            one_cycle + 500
        );
    }

    #[test]
    fn a_period_shorter_than_the_running_unit_costs_nothing() {
        let t = Tariff {
            free_minutes: 0,
            grace_minutes: 15,
            cycle_cap: None,
            pricing: Pricing::TimeOfDay(TimeOfDayPricing {
                first: None,
                periods: vec![
                    period("00:00", "12:00", 60, 100, None),
                    period("12:00", "12:10", 5, 1000, None),
                    period("12:10", "24:00", 60, 300, None),
                ],
            }),
        };
        // Units start at 11:30 (100) and 12:30 (300): none starts in 12:00–12:10.
        assert_eq!(
            day_night_fee(&t, "2026-11-24 11:30:00", "2026-11-24 13:00:00"),
            400
        );
    }

    #[test]
    fn a_century_is_priced_per_cycle_without_stepping_through_it() {
        let e = at("2026-01-01 08:00:00");
        let end = e + TimeDelta::days(36_525);
        assert_eq!(fee(&Tariff::example(), e, end).unwrap(), 36_525 * 5000);
        let per_day = day_night_fee(&day_night(), "2026-01-01 08:00:00", "2026-01-02 08:00:00");
        assert_eq!(fee(&day_night(), e, end).unwrap(), 36_525 * per_day);
    }

    #[test]
    fn absurd_amounts_saturate_instead_of_overflowing() {
        let mut t = day_night();
        t.free_minutes = u32::MAX;
        if let Pricing::TimeOfDay(p) = &mut t.pricing {
            p.first = Some(FirstBlock {
                minutes: u32::MAX,
                price: i64::MAX,
            });
            p.periods.iter_mut().for_each(|p| {
                p.unit_minutes = 1;
                p.unit_price = i64::MAX;
                p.period_cap = None;
            });
        }
        let (lo, hi) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        assert_eq!(fee(&t, lo, hi).unwrap(), i64::MAX);
        let mut s = Tariff::example();
        s.cycle_cap = None;
        s.pricing = Pricing::Simple(SimplePricing {
            first_minutes: 1,
            first_price: i64::MAX,
            unit_minutes: 1,
            unit_price: i64::MAX,
        });
        assert_eq!(fee(&s, lo, hi).unwrap(), i64::MAX);
        // Shanghai wall-clock time of the last representable instants lies beyond chrono's range.
        for t in [&s, &day_night()] {
            assert!(fee(t, hi - TimeDelta::days(2), hi).unwrap() > 0);
            assert!(fee(t, lo, lo + TimeDelta::days(2)).unwrap() > 0);
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic_or_a_hang() {
        let e = at("2026-11-24 10:00:00");
        assert!(matches!(
            fee(&Tariff::example(), e, after(e, -1)),
            Err(FeeError::EndBeforeEntry { .. })
        ));
        let mut t = Tariff::example();
        t.pricing = Pricing::Simple(SimplePricing {
            first_minutes: 0,
            first_price: 0,
            unit_minutes: 0,
            unit_price: 100,
        });
        assert!(matches!(fee(&t, e, after(e, 60)), Err(FeeError::Tariff(_))));
        let mut t = day_night();
        if let Pricing::TimeOfDay(p) = &mut t.pricing {
            p.periods.pop();
        }
        assert!(matches!(
            fee(&t, e, after(e, 60)),
            Err(FeeError::Tariff(TariffError::Gap { .. }))
        ));
    }
}
