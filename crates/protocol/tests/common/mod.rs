//! Generators shared by the property tests: valid tariffs (simple and time-of-day), entry
//! instants and stay lengths.
#![allow(dead_code, unreachable_pub)] // Each test binary uses its own part of it.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use protocol::tariff::{
    DayTime, FirstBlock, Period, Pricing, SimplePricing, Tariff, TimeOfDayPricing,
};

fn day_time(minutes: u32) -> DayTime {
    DayTime::new(minutes / 60, minutes % 60).expect("generated minutes are < 1440")
}

fn simple() -> impl Strategy<Value = Pricing> {
    (0u32..180, 0i64..5000, 1u32..120, 0i64..2000).prop_map(|(fm, fp, um, up)| {
        Pricing::Simple(SimplePricing {
            first_minutes: fm,
            first_price: if fm == 0 { 0 } else { fp },
            unit_minutes: um,
            unit_price: up,
        })
    })
}

fn time_of_day() -> impl Strategy<Value = Pricing> {
    let cuts = proptest::collection::btree_set(0u32..1440, 1..6);
    let per_period =
        proptest::collection::vec((1u32..180, 0i64..1000, proptest::option::of(0i64..5000)), 6);
    let first = proptest::option::of((1u32..120, 0i64..3000));
    (cuts, per_period, first).prop_map(|(cuts, per_period, first)| {
        let cuts: Vec<u32> = cuts.into_iter().collect();
        let periods = cuts
            .iter()
            .zip(&per_period)
            .enumerate()
            .map(
                |(i, (&start, &(unit_minutes, unit_price, period_cap)))| Period {
                    start: day_time(start),
                    end: day_time(cuts[(i + 1) % cuts.len()]),
                    unit_minutes,
                    unit_price,
                    period_cap,
                },
            )
            .collect();
        Pricing::TimeOfDay(TimeOfDayPricing {
            first: first.map(|(minutes, price)| FirstBlock { minutes, price }),
            periods,
        })
    })
}

/// Valid tariffs of both kinds, with free time, grace and caps.
pub fn tariff() -> impl Strategy<Value = Tariff> {
    (
        0u32..90,
        0u32..60,
        proptest::option::of(0i64..20_000),
        prop_oneof![simple(), time_of_day()],
    )
        .prop_map(|(free_minutes, grace_minutes, cycle_cap, pricing)| Tariff {
            free_minutes,
            grace_minutes,
            cycle_cap,
            pricing,
        })
}

/// Entry instants 2020–2030, to the nanosecond, so rounding and period clocks are exercised.
pub fn entry() -> impl Strategy<Value = DateTime<Utc>> {
    (1_577_836_800i64..1_893_456_000, 0u32..1_000_000_000)
        .prop_map(|(s, ns)| DateTime::from_timestamp(s, ns).expect("in range"))
}

/// Stay lengths in seconds: mostly under 4 days, where cycles, periods and free time all happen.
pub fn stay() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..7200, 0i64..4 * 86_400, 0i64..60 * 86_400]
}
