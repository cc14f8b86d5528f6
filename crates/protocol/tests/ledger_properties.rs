//! Properties of the stay's one figure (PROTOCOLS.md §5.1, §2.2) over generated tariffs, stays,
//! discounts of every kind, payments and VIP windows.
#![cfg(not(target_arch = "wasm32"))] // proptest needs OS randomness, absent on wasm32.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{entry, stay, tariff};
use proptest::prelude::*;
use protocol::ledger::{Discount, DiscountKind, Figure, Stay, figure, mallcoo_amounts, worths};
use protocol::quote::{Payment, VipWindow};
use protocol::tariff::Tariff;

fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

/// Any valid discount kind.
fn kind() -> impl Strategy<Value = DiscountKind> {
    prop_oneof![
        (1i64..5000).prop_map(DiscountKind::Amount),
        (1i64..600).prop_map(DiscountKind::Minutes),
        Just(DiscountKind::Free),
        (1i64..=1000).prop_map(DiscountKind::Percent),
        (1i64..3000).prop_map(DiscountKind::FreeWindow),
    ]
}

/// A discount granted between a day before entry and four days after it.
fn discount() -> impl Strategy<Value = (DiscountKind, i64)> {
    (kind(), -86_400i64..4 * 86_400)
}

/// Everything a figure depends on but the tariff's own generators.
#[derive(Debug, Clone)]
struct Case {
    entry: DateTime<Utc>,
    now: DateTime<Utc>,
    discounts: Vec<Discount>,
    payments: Vec<Payment>,
    vip: Option<VipWindow>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        entry(),
        stay(),
        proptest::collection::vec(discount(), 0..5),
        proptest::collection::vec((0.0f64..=1.0, 0i64..5000), 0..3),
        proptest::option::of((-2 * 86_400i64..4 * 86_400, 0i64..4 * 86_400)),
    )
        .prop_map(|(e, now, discounts, pays, vip)| Case {
            entry: e,
            now: e + secs(now),
            discounts: discounts
                .into_iter()
                .map(|(kind, at)| make(kind, e + secs(at)))
                .collect(),
            payments: pays
                .iter()
                .map(|&(frac, amount)| Payment {
                    at: e + secs((now as f64 * frac) as i64),
                    amount,
                })
                .collect(),
            vip: vip.map(|(from, len)| VipWindow {
                valid_from: e + secs(from),
                valid_until: e + secs(from + len),
                label: "VIP".to_owned(),
            }),
        })
}

fn make(kind: DiscountKind, at: DateTime<Utc>) -> Discount {
    Discount {
        kind,
        granted_at: at,
        source_label: "测试".to_owned(),
    }
}

fn figure_of(t: &Tariff, c: &Case, discounts: &[Discount]) -> Figure {
    let stay = Stay {
        entry: c.entry,
        tariff: t,
        vip: c.vip.as_ref(),
        discounts,
        payments: &c.payments,
    };
    figure(&stay, c.now).expect("generated inputs are valid")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_figure_is_consistent(t in tariff(), c in case()) {
        let f = figure_of(&t, &c, &c.discounts);
        prop_assert!(f.charge >= 0 && f.discounted >= 0 && f.owed >= 0, "{f:?}");
        prop_assert!(f.discount_worth >= 0 && f.discount_worth <= f.charge, "{f:?}");
        prop_assert_eq!(f.discount_worth, f.charge - f.discounted);
        prop_assert_eq!(f.owed, (f.discounted - f.paid).max(0));
        prop_assert!(f.billing_time <= c.now && f.billing_time >= c.entry);
    }

    #[test]
    fn the_discounts_worths_add_up_to_the_figures(t in tariff(), c in case()) {
        let f = figure_of(&t, &c, &c.discounts);
        let stay = Stay {
            entry: c.entry,
            tariff: &t,
            vip: c.vip.as_ref(),
            discounts: &c.discounts,
            payments: &c.payments,
        };
        let each = worths(&stay, c.now).expect("generated inputs are valid");
        prop_assert_eq!(each.len(), c.discounts.len());
        prop_assert!(each.iter().all(|w| *w >= 0), "{each:?}");
        prop_assert_eq!(each.iter().sum::<i64>(), f.discount_worth);
    }

    #[test]
    fn a_discount_never_raises_what_is_owed(t in tariff(), c in case(), (k, at) in discount()) {
        let before = figure_of(&t, &c, &c.discounts);
        let mut more = c.discounts.clone();
        more.push(make(k, c.entry + secs(at)));
        let after = figure_of(&t, &c, &more);
        prop_assert!(after.discounted <= before.discounted, "{k:?}: {after:?} vs {before:?}");
        prop_assert!(after.owed <= before.owed);
        prop_assert_eq!(after.charge, before.charge);
    }

    #[test]
    fn a_free_window_inside_the_stay_never_raises_the_fee(
        t in tariff(),
        c in case(),
        start in 0.0f64..1.0,
        len in 0.0f64..1.0,
    ) {
        // The case that tempts a wrong engine most: a window that splits the stay in two
        // pieces, each of which would pay a first block of its own.
        let stay = (c.now - c.entry).num_seconds();
        let from = c.entry + secs((stay as f64 * start) as i64);
        let minutes = ((stay as f64 * (1.0 - start) * len) as i64 / 60).max(1);
        let before = figure_of(&t, &c, &c.discounts);
        let mut more = c.discounts.clone();
        more.push(make(DiscountKind::FreeWindow(minutes), from));
        let after = figure_of(&t, &c, &more);
        prop_assert!(after.discounted <= before.discounted, "{after:?} vs {before:?}");
    }

    #[test]
    fn free_makes_the_stay_cost_nothing(t in tariff(), c in case()) {
        let mut with_free = c.discounts.clone();
        with_free.push(make(DiscountKind::Free, c.entry));
        let f = figure_of(&t, &c, &with_free);
        prop_assert_eq!((f.discounted, f.owed), (0, 0));
        prop_assert_eq!(f.discount_worth, f.charge);
    }

    #[test]
    fn amount_discounts_commute(t in tariff(), c in case(), a in 1i64..5000, b in 1i64..5000) {
        let mut ab = c.discounts.clone();
        ab.push(make(DiscountKind::Amount(a), c.entry));
        ab.push(make(DiscountKind::Amount(b), c.entry));
        let mut ba = c.discounts.clone();
        ba.insert(0, make(DiscountKind::Amount(b), c.entry));
        ba.insert(0, make(DiscountKind::Amount(a), c.entry));
        prop_assert_eq!(figure_of(&t, &c, &ab), figure_of(&t, &c, &ba));
    }

    #[test]
    fn more_minutes_never_cost_more(t in tariff(), c in case(), m in 1i64..600, more in 1i64..600) {
        let mut fewer = c.discounts.clone();
        fewer.push(make(DiscountKind::Minutes(m), c.entry));
        let mut longer = c.discounts.clone();
        longer.push(make(DiscountKind::Minutes(m + more), c.entry));
        prop_assert!(figure_of(&t, &c, &longer).owed <= figure_of(&t, &c, &fewer).owed);
    }

    #[test]
    fn mallcoo_reads_the_figure_and_its_deduction_stays_within_unpay(
        t in tariff(),
        c in case(),
        free_minutes in 0u32..600,
        free_amount in 0i64..3000,
    ) {
        let stay = Stay {
            entry: c.entry,
            tariff: &t,
            vip: c.vip.as_ref(),
            discounts: &c.discounts,
            payments: &c.payments,
        };
        let m = mallcoo_amounts(&stay, c.now, free_minutes, free_amount).unwrap();
        let f = &m.figure;
        prop_assert_eq!(m.total, f.charge);
        prop_assert_eq!(m.paid, f.paid + f.discount_worth);
        prop_assert_eq!(m.unpaid, (m.total - m.paid).max(0));
        prop_assert_eq!(m.unpaid, f.owed);
        prop_assert!(m.deduction >= 0 && m.deduction <= m.unpaid, "{m:?}");
        if free_minutes == 0 {
            prop_assert_eq!(m.deduction, free_amount.min(m.unpaid));
        }
    }
}
