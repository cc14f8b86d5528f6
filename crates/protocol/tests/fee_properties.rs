//! Properties of `fee` and `quote` over generated valid tariffs (simple and time-of-day) and times.
//!
//! Besides the invariants of PROTOCOLS.md §5, a deliberately naive model (one unit at a time,
//! linear period lookup, caps keyed by the occurrence's start instant) re-prices short stays, so
//! the arithmetic walk of `fee` is checked against the definition rather than against itself.
#![cfg(not(target_arch = "wasm32"))] // proptest needs OS randomness, absent on wasm32.

use std::collections::HashMap;

mod common;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use common::{entry, stay, tariff};
use proptest::prelude::*;
use protocol::fee::{fee, stay_minutes};
use protocol::quote::{Payment, Session, VipWindow, quote};
use protocol::tariff::{Pricing, SimplePricing, Tariff, TimeOfDayPricing};
use protocol::time::to_shanghai;

fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

/// §5 priced the slow way: one unit per step, each cycle from scratch.
fn naive_fee(t: &Tariff, entry: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    let minutes = stay_minutes(entry, end);
    if minutes <= i64::from(t.free_minutes) {
        return 0;
    }
    let mut total = 0;
    let mut cycle = 0;
    while cycle * 1440 < minutes {
        let len = (minutes - cycle * 1440).min(1440);
        let start = entry + TimeDelta::minutes(cycle * 1440);
        let price = match &t.pricing {
            Pricing::Simple(s) => naive_simple(s, len),
            Pricing::TimeOfDay(p) => naive_time_of_day(p, start, len),
        };
        total += t.cycle_cap.map_or(price, |cap| price.min(cap));
        cycle += 1;
    }
    total
}

fn naive_simple(s: &SimplePricing, len: i64) -> i64 {
    let mut price = if s.first_minutes > 0 {
        s.first_price
    } else {
        0
    };
    let mut at = i64::from(s.first_minutes);
    while at < len {
        price += s.unit_price;
        at += i64::from(s.unit_minutes);
    }
    price
}

fn naive_time_of_day(p: &TimeOfDayPricing, start: DateTime<Utc>, len: i64) -> i64 {
    let (mut price, mut at) = p
        .first
        .as_ref()
        .map_or((0, 0), |f| (f.price, i64::from(f.minutes)));
    // Cost so far per (period, instant its occurrence began).
    let mut spent: HashMap<(usize, i64), i64> = HashMap::new();
    while at < len {
        let unit_start = start + TimeDelta::minutes(at);
        let clock = i64::from(to_shanghai(unit_start).num_seconds_from_midnight());
        let (index, period, into) = p
            .periods
            .iter()
            .enumerate()
            .find_map(|(i, period)| {
                let s = i64::from(period.start.minutes() % 1440) * 60;
                let e = i64::from(period.end.minutes() % 1440) * 60;
                let length = match (e - s).rem_euclid(86_400) {
                    0 => 86_400,
                    l => l,
                };
                let into = (clock - s).rem_euclid(86_400);
                (into < length).then_some((i, period, into))
            })
            .expect("valid periods cover the day");
        let occurrence = unit_start.timestamp() - into;
        let so_far = spent.entry((index, occurrence)).or_default();
        let allowed = period.period_cap.map_or(i64::MAX, |c| c - *so_far);
        let cost = period.unit_price.min(allowed);
        *so_far += cost;
        price += cost;
        at += i64::from(period.unit_minutes);
    }
    price
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_tariffs_validate_and_round_trip(t in tariff()) {
        prop_assert_eq!(t.validate(), Ok(()));
        let json = serde_json::to_string(&t).unwrap();
        prop_assert_eq!(serde_json::from_str::<Tariff>(&json).unwrap(), t);
    }

    #[test]
    fn fee_matches_the_unit_by_unit_definition(t in tariff(), e in entry(), s in 0i64..3 * 86_400) {
        prop_assert_eq!(fee(&t, e, e + secs(s)).unwrap(), naive_fee(&t, e, e + secs(s)));
    }

    #[test]
    fn fee_never_decreases_with_time(t in tariff(), e in entry(), a in stay(), b in stay()) {
        let (early, late) = (a.min(b), a.max(b));
        let f1 = fee(&t, e, e + secs(early)).unwrap();
        let f2 = fee(&t, e, e + secs(late)).unwrap();
        prop_assert!(f1 <= f2, "fee({early}s) = {f1} > fee({late}s) = {f2}");
    }

    #[test]
    fn no_cycle_costs_more_than_the_cycle_cap(t in tariff(), e in entry(), s in stay()) {
        let end = e + secs(s);
        let f = fee(&t, e, end).unwrap();
        prop_assert!(f >= 0);
        if let Some(cap) = t.cycle_cap {
            let cycles = (stay_minutes(e, end) + 1439) / 1440;
            prop_assert!(f <= cycles * cap, "{f} > {cycles} × {cap}");
        }
    }

    #[test]
    fn a_stay_within_the_free_time_costs_nothing(t in tariff(), e in entry(), frac in 0.0f64..=1.0) {
        // Any instant up to exactly free_minutes after entry.
        let s = (f64::from(t.free_minutes) * 60.0 * frac) as i64;
        prop_assert_eq!(fee(&t, e, e + secs(s)).unwrap(), 0);
    }

    #[test]
    fn quotes_are_consistent_and_free_minutes_never_cost_more(
        t in tariff(),
        e in entry(),
        now in stay(),
        pays in proptest::collection::vec((0.0f64..=1.0, 0i64..5000), 0..4),
        vip in proptest::option::of((-2 * 86_400i64..4 * 86_400, 0i64..4 * 86_400)),
        free_minutes in 0u32..600,
        free_amount in 0i64..3000,
    ) {
        let now_at = e + secs(now);
        let payments: Vec<Payment> = pays
            .iter()
            .map(|&(frac, amount)| Payment { at: e + secs((now as f64 * frac) as i64), amount })
            .collect();
        let vip = vip.map(|(from, len)| VipWindow {
            valid_from: e + secs(from),
            valid_until: e + secs(from + len),
            label: "VIP".to_owned(),
        });
        let session = Session { entry: e, tariff: &t };
        let go = |fm: u32, fa: i64| quote(&session, &payments, vip.as_ref(), now_at, fm, fa).unwrap();
        let with = go(free_minutes, free_amount);
        let without = go(0, 0);
        for q in [&with, &without] {
            prop_assert!(q.total >= 0 && q.paid >= 0 && q.deduction >= 0 && q.unpaid >= 0, "{q:?}");
            prop_assert_eq!(q.unpaid, (q.total - q.paid - q.deduction).max(0));
            prop_assert!(q.billing_time <= now_at && q.billing_time >= e);
        }
        prop_assert!(with.unpaid <= without.unpaid, "{with:?} vs {without:?}");
        prop_assert_eq!(without.deduction, 0);
        if vip.is_none() {
            prop_assert_eq!(with.total, fee(&t, e, with.billing_time).unwrap());
        }
    }
}
