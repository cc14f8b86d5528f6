//! One figure per stay (PROTOCOLS.md §5.1, and §2.2 as corrected 2026-12): what a parked car
//! owes from its tariff, entry, billing time, VIP windows, discounts of every source and
//! payments of every channel — computed here once, read by Mallcoo, P云, the gate and the UI.
//!
//! Decisions fixed here, beyond the digest's wording:
//! - Billing time, grace, and VIP windows are those of [`crate::quote`]: a window is cut out of
//!   the stay and each piece left is priced as a stay of its own.
//! - A `free_window` is cut out the same way in step 3, but a discount never raises a fee:
//!   cutting a window out of the middle of a stay leaves two pieces that each pay a first block
//!   and may together cost more than the stay without it. So step 3's base is the cheapest of
//!   the stay with each subset of its free windows cut out (VIP windows always are) — adding a
//!   window only adds choices. Beyond [`MAX_WINDOW_CHOICES`] windows on one stay (never seen in
//!   a car park) only "all" and "none" are tried.
//! - Several VIP windows or free windows may overlap; their union is cut out.
//! - Mallcoo's `deductionAmount` follows §2.2: `freeAmount` + D(m) − D(m + `freeMinutes`), D the
//!   discounted fee with the stay's own `minutes` m, capped at `unPayAmount`.

pub mod discount;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

pub use discount::{Discount, DiscountError, DiscountKind};

use crate::fee::{fee_prepared, stay_minutes};
use crate::quote::{Payment, QuoteError, VipWindow, billing_time, check_stay, vip_note};
use crate::tariff::{Prepared, Tariff};

/// A stay as the ledger sees it: everything its figure depends on, but the time.
#[derive(Debug, Clone, Copy)]
pub struct Stay<'a> {
    /// Entry time of the car.
    pub entry: DateTime<Utc>,
    /// The car park's tariff.
    pub tariff: &'a Tariff,
    /// The plate's VIP record, if any (not a discount: it is cut out before anything else).
    pub vip: Option<&'a VipWindow>,
    /// The stay's discounts (and the plate's free windows) that count: active or used.
    pub discounts: &'a [Discount],
    /// Payments of every channel (Mallcoo's `amount + deductionAmount`, P云's, the gate's).
    pub payments: &'a [Payment],
}

/// What a stay owes at a moment; every amount is fen ≥ 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// `now`, or the latest payment's time within its grace period.
    pub billing_time: DateTime<Utc>,
    /// Minutes from entry to `now`, rounded up.
    pub parking_minutes: i64,
    /// The fee before any discount, VIP windows cut out (Mallcoo `totalAmount`, P云 `total_value`).
    pub charge: i64,
    /// The fee after every discount.
    pub discounted: i64,
    /// `charge − discounted`: what the discounts are worth now (P云 `free_value`).
    pub discount_worth: i64,
    /// Sum of the payments (P云 `paid_value`).
    pub paid: i64,
    /// `max(0, discounted − paid)`: what the car owes now (P云 `pay_value`, the exit's fee due).
    pub owed: i64,
}

/// GetParkingPaymentInfo's amounts (§2.2, corrected reading).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MallcooAmounts {
    /// The stay's figure the amounts come from.
    pub figure: Figure,
    /// `totalAmount` = the figure's charge.
    pub total: i64,
    /// `paidAmount` = payments + the discounts' worth.
    pub paid: i64,
    /// `unPayAmount` = max(0, total − paid), before Mallcoo's own benefits.
    pub unpaid: i64,
    /// `deductionAmount`: what `freeAmount` and `freeMinutes` are worth, at most `unpaid`.
    pub deduction: i64,
    /// `offlineDeduction`: the VIP record and the discounts, `；`-separated; `None` when neither.
    pub offline_deduction: Option<String>,
}

/// Free windows on one stay up to which every subset is priced (2^10 fees at most).
pub const MAX_WINDOW_CHOICES: usize = 10;

/// Why a figure cannot be computed: the inputs a quote also refuses.
pub type LedgerError = QuoteError;

/// The stay's figure at `now` (§5.1 steps 1–5).
pub fn figure(stay: &Stay<'_>, now: DateTime<Utc>) -> Result<Figure, LedgerError> {
    let prepared = check_stay(stay.tariff, stay.entry, stay.payments, stay.vip, now)?;
    let billing_time = billing_time(stay.tariff, stay.payments, now);
    let pricing = Pricing::new(&prepared, stay);
    let charge = pricing.charge(billing_time);
    let discounted = pricing.discounted(billing_time, 0);
    let paid = stay
        .payments
        .iter()
        .fold(0i64, |sum, p| sum.saturating_add(p.amount));
    Ok(Figure {
        billing_time,
        parking_minutes: stay_minutes(stay.entry, now),
        charge,
        discounted,
        discount_worth: charge - discounted,
        paid,
        owed: discounted.saturating_sub(paid).max(0),
    })
}

/// What each of the stay's discounts is worth at `now`, in the order of `stay.discounts`: each
/// is credited with what it takes off after the ones applied before it (§5.1's order: `free`,
/// free windows, `minutes`, `percent`, `amount`; recorded order within a kind), so the worths
/// add up to the figure's `discount_worth`.
pub fn worths(stay: &Stay<'_>, now: DateTime<Utc>) -> Result<Vec<i64>, LedgerError> {
    let prepared = check_stay(stay.tariff, stay.entry, stay.payments, stay.vip, now)?;
    let t = billing_time(stay.tariff, stay.payments, now);
    let step = |d: &Discount| match d.kind {
        DiscountKind::Free => 0,
        DiscountKind::FreeWindow(_) => 1,
        DiscountKind::Minutes(_) => 2,
        DiscountKind::Percent(_) => 3,
        DiscountKind::Amount(_) => 4,
    };
    let mut order: Vec<usize> = (0..stay.discounts.len()).collect();
    order.sort_by_key(|&i| step(&stay.discounts[i]));
    let mut applied: Vec<Discount> = Vec::with_capacity(order.len());
    let mut before = Pricing::new(&prepared, stay).charge(t);
    let mut worths = vec![0i64; stay.discounts.len()];
    for i in order {
        applied.push(stay.discounts[i].clone());
        let partial = Stay {
            discounts: &applied,
            ..*stay
        };
        let after = Pricing::new(&prepared, &partial).discounted(t, 0);
        worths[i] = before.saturating_sub(after).max(0);
        before = after.min(before);
    }
    Ok(worths)
}

/// GetParkingPaymentInfo's amounts at `now` with Mallcoo's `freeMinutes` / `freeAmount`.
pub fn mallcoo_amounts(
    stay: &Stay<'_>,
    now: DateTime<Utc>,
    free_minutes: u32,
    free_amount: i64,
) -> Result<MallcooAmounts, LedgerError> {
    if free_amount < 0 {
        return Err(QuoteError::NegativeFreeAmount(free_amount));
    }
    let figure = figure(stay, now)?;
    let prepared = stay.tariff.prepare()?;
    let pricing = Pricing::new(&prepared, stay);
    let t = figure.billing_time;
    let minutes_worth = figure
        .discounted
        .saturating_sub(pricing.discounted(t, i64::from(free_minutes)))
        .max(0);
    let paid = figure.paid.saturating_add(figure.discount_worth);
    let unpaid = figure.charge.saturating_sub(paid).max(0);
    let deduction = free_amount.saturating_add(minutes_worth).min(unpaid);
    let mut notes: Vec<String> = stay
        .vip
        .and_then(|v| vip_note(v, stay.entry, t))
        .into_iter()
        .collect();
    notes.extend(stay.discounts.iter().map(Discount::note));
    Ok(MallcooAmounts {
        total: figure.charge,
        paid,
        unpaid,
        deduction,
        offline_deduction: (!notes.is_empty()).then(|| notes.join("；")),
        figure,
    })
}

/// A stay's discounts sorted into the §5.1 steps, ready to price it ending at any time.
struct Pricing<'p, 'a> {
    prepared: &'p Prepared<'a>,
    entry: DateTime<Utc>,
    /// VIP windows: cut out of every price.
    vip: Vec<Window>,
    /// The plate's free windows: cut out of step 3's base where that is cheaper.
    free_windows: Vec<Window>,
    free: bool,
    minutes: i64,
    /// Per mille values in the order recorded.
    percents: Vec<i64>,
    amounts: i64,
}

impl<'p, 'a> Pricing<'p, 'a> {
    fn new(prepared: &'p Prepared<'a>, stay: &Stay<'_>) -> Pricing<'p, 'a> {
        let vip: Vec<_> = stay
            .vip
            .map(|v| (v.valid_from, v.valid_until))
            .into_iter()
            .collect();
        let free_windows = stay
            .discounts
            .iter()
            .filter_map(Discount::free_window)
            .filter(|(from, until)| from < until && *until > stay.entry)
            .collect();
        let mut pricing = Pricing {
            prepared,
            entry: stay.entry,
            vip,
            free_windows,
            free: false,
            minutes: 0,
            percents: Vec::new(),
            amounts: 0,
        };
        // Recorded order is the slice's order; only `percent` depends on it.
        for d in stay.discounts {
            match d.kind {
                DiscountKind::Free => pricing.free = true,
                DiscountKind::Minutes(m) => pricing.minutes = pricing.minutes.saturating_add(m),
                DiscountKind::Percent(pm) => pricing.percents.push(pm.clamp(0, 1000)),
                DiscountKind::Amount(fen) => pricing.amounts = pricing.amounts.saturating_add(fen),
                DiscountKind::FreeWindow(_) => {}
            }
        }
        pricing
    }

    /// Step 1: the fee of the stay ending at `end`, VIP windows cut out.
    fn charge(&self, end: DateTime<Utc>) -> i64 {
        priced_without(self.prepared, self.entry, end, &self.vip)
    }

    /// Steps 2–5 for the stay ending at `end`, with `extra_minutes` (Mallcoo's `freeMinutes`)
    /// taken after the stay's own `minutes`.
    fn discounted(&self, end: DateTime<Utc>, extra_minutes: i64) -> i64 {
        if self.free {
            return 0;
        }
        let m = self.minutes.saturating_add(extra_minutes);
        let shortened = end
            .checked_sub_signed(TimeDelta::minutes(m))
            .unwrap_or(self.entry)
            .max(self.entry);
        let mut base = self.base(shortened);
        for pm in &self.percents {
            base -= base.saturating_mul(*pm) / 1000;
        }
        base.saturating_sub(self.amounts).max(0)
    }
}

impl Pricing<'_, '_> {
    /// Step 3's base for the stay ending at `end`: the cheapest choice of free windows to cut
    /// out, VIP windows always cut (see the module's decisions).
    fn base(&self, end: DateTime<Utc>) -> i64 {
        let windows: Vec<Window> = self
            .free_windows
            .iter()
            .filter(|(from, _)| *from < end)
            .copied()
            .collect();
        let with = |chosen: &mut dyn Iterator<Item = Window>| {
            let cut: Vec<Window> = self.vip.iter().copied().chain(chosen).collect();
            priced_without(self.prepared, self.entry, end, &cut)
        };
        let none = self.charge(end);
        if windows.len() > MAX_WINDOW_CHOICES {
            return none.min(with(&mut windows.iter().copied()));
        }
        (1u32..(1 << windows.len())).fold(none, |cheapest, mask| {
            let mut chosen = windows
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, w)| *w);
            cheapest.min(with(&mut chosen))
        })
    }
}

/// A span of time `[from, until)` cut out of a stay.
type Window = (DateTime<Utc>, DateTime<Utc>);

/// The fee from `entry` to `end` with the union of `windows` cut out, each piece left priced as a
/// stay of its own.
fn priced_without(
    p: &Prepared<'_>,
    entry: DateTime<Utc>,
    end: DateTime<Utc>,
    windows: &[Window],
) -> i64 {
    let mut cuts: Vec<Window> = windows
        .iter()
        .filter(|(from, until)| from < until && *from < end && *until > entry)
        .copied()
        .collect();
    cuts.sort();
    let mut total = 0i64;
    let mut from = entry;
    for (start, until) in cuts {
        if start > from {
            total = total.saturating_add(fee_prepared(p, from, start.min(end)));
        }
        from = from.max(until);
        if from >= end {
            return total;
        }
    }
    total.saturating_add(fee_prepared(p, from, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_mallcoo;

    fn entry() -> DateTime<Utc> {
        parse_mallcoo("2026-11-24 10:00:00").unwrap()
    }

    fn minute(m: i64) -> DateTime<Utc> {
        entry() + TimeDelta::minutes(m)
    }

    fn discount(kind: DiscountKind, at: i64, label: &str) -> Discount {
        Discount {
            kind,
            granted_at: minute(at),
            source_label: label.to_owned(),
        }
    }

    fn at(
        discounts: &[Discount],
        payments: &[Payment],
        vip: Option<&VipWindow>,
        now: i64,
    ) -> Figure {
        let tariff = Tariff::example();
        let stay = Stay {
            entry: entry(),
            tariff: &tariff,
            vip,
            discounts,
            payments,
        };
        figure(&stay, minute(now)).unwrap()
    }

    fn mallcoo(
        discounts: &[Discount],
        payments: &[Payment],
        now: i64,
        fm: u32,
        fa: i64,
    ) -> MallcooAmounts {
        let tariff = Tariff::example();
        let stay = Stay {
            entry: entry(),
            tariff: &tariff,
            vip: None,
            discounts,
            payments,
        };
        mallcoo_amounts(&stay, minute(now), fm, fa).unwrap()
    }

    #[test]
    fn worked_example_of_section_5_1() {
        let mut ds = vec![discount(DiscountKind::Minutes(60), 10, "商户减免")];
        let f = at(&ds, &[], None, 100);
        assert_eq!(
            (f.charge, f.discounted, f.discount_worth),
            (1600, 1000, 600)
        );
        ds.push(discount(DiscountKind::Percent(500), 20, "P云停车券"));
        let f = at(&ds, &[], None, 100);
        assert_eq!((f.discounted, f.discount_worth), (500, 1100));
        ds.push(discount(DiscountKind::Amount(300), 30, "人工减免"));
        let f = at(&ds, &[], None, 100);
        assert_eq!((f.discounted, f.discount_worth, f.owed), (200, 1400, 200));
        let m = mallcoo(&ds, &[], 100, 0, 0);
        assert_eq!(
            (m.total, m.paid, m.unpaid, m.deduction),
            (1600, 1400, 200, 0)
        );
        assert_eq!(
            m.offline_deduction.as_deref(),
            Some("商户减免 1小时；P云停车券 减免 50%；人工减免 ¥3.00")
        );
        ds.push(discount(DiscountKind::Free, 40, "人工减免"));
        let f = at(&ds, &[], None, 100);
        assert_eq!((f.discounted, f.discount_worth, f.owed), (0, 1600, 0));
    }

    #[test]
    fn each_discount_is_credited_with_its_step_of_the_worked_example() {
        let tariff = Tariff::example();
        // Recorded out of §5.1's order: the worths still follow it.
        let ds = [
            discount(DiscountKind::Amount(300), 30, "人工减免"),
            discount(DiscountKind::Minutes(60), 10, "商户减免"),
            discount(DiscountKind::Percent(500), 20, "P云停车券"),
        ];
        let stay = Stay {
            entry: entry(),
            tariff: &tariff,
            vip: None,
            discounts: &ds,
            payments: &[],
        };
        assert_eq!(worths(&stay, minute(100)).unwrap(), vec![300, 600, 500]);
        let with_free = [ds[0].clone(), discount(DiscountKind::Free, 40, "人工减免")];
        let stay = Stay {
            discounts: &with_free,
            ..stay
        };
        assert_eq!(worths(&stay, minute(100)).unwrap(), vec![0, 1600]);
    }

    #[test]
    fn seed_example_of_section_2_2_reads_gross() {
        // The seed: total 1300, paid 1100, unPay 200, deduction 500 → unPay is total − paid and
        // the deduction is capped at it. Here: 90 min = 1300, 1100 paid by another channel
        // 20 minutes ago (grace over), Mallcoo offering 500 fen of benefits.
        let paid = [Payment {
            at: minute(70),
            amount: 1100,
        }];
        let m = mallcoo(&[], &paid, 90, 0, 500);
        assert_eq!(
            (m.total, m.paid, m.unpaid, m.deduction),
            (1300, 1100, 200, 200)
        );
        // A member redeeming 500 fen on a 1600 fee: unPay 1600, deduction 500; Mallcoo
        // collects 1100 and the two add up to unPay.
        let m = mallcoo(&[], &[], 100, 0, 500);
        assert_eq!((m.unpaid, m.deduction), (1600, 500));
        assert_eq!(m.unpaid - m.deduction, 1100);
    }

    #[test]
    fn mallcoo_free_minutes_come_after_the_stays_own() {
        // Own 30 minutes → fee(70) = 1300; Mallcoo's 30 more → fee(40) = 1000: worth 300.
        let ds = [discount(DiscountKind::Minutes(30), 0, "商户减免")];
        let m = mallcoo(&ds, &[], 100, 30, 0);
        assert_eq!(
            (m.total, m.paid, m.unpaid, m.deduction),
            (1600, 300, 1300, 300)
        );
        // Reaching back into the free time: everything left.
        let m = mallcoo(&ds, &[], 100, 90, 0);
        assert_eq!(m.deduction, 1300);
    }

    #[test]
    fn a_free_window_prices_like_a_vip_window_and_a_longer_stay_pays_the_rest() {
        // Granted at entry for 120 minutes: free at 100, at 211 the 91 minutes after it cost 1600.
        let ds = [discount(DiscountKind::FreeWindow(120), 0, "商户减免")];
        assert_eq!(at(&ds, &[], None, 100).owed, 0);
        let later = at(&ds, &[], None, 211);
        assert_eq!(
            (later.charge, later.discounted, later.owed),
            (2800, 1600, 1600)
        );
        // Granted before the entry (the plate's window), still running at entry.
        let early = [discount(DiscountKind::FreeWindow(60), -30, "商户减免")];
        assert_eq!(at(&early, &[], None, 30).owed, 0);
        assert_eq!(at(&early, &[], None, 61).owed, 1000);
    }

    #[test]
    fn a_window_inside_the_stay_never_raises_the_fee() {
        // 100 minutes cost 1600; a 30-minute window at minute 35 would leave two pieces of 35
        // minutes at 1000 each. The fee stays 1600.
        let ds = [discount(DiscountKind::FreeWindow(30), 35, "商户减免")];
        let f = at(&ds, &[], None, 100);
        assert_eq!((f.charge, f.discounted, f.discount_worth), (1600, 1600, 0));
    }

    #[test]
    fn payments_and_grace_count_as_in_the_quote() {
        let ds = [discount(DiscountKind::Amount(300), 0, "人工减免")];
        let paid = [Payment {
            at: minute(70),
            amount: 1000,
        }];
        // At 84, within grace of the payment at 70: billed at 70 (1300 − 300 = 1000): owes 0.
        let f = at(&ds, &paid, None, 84);
        assert_eq!(
            (f.billing_time, f.discounted, f.owed),
            (minute(70), 1000, 0)
        );
        // At 100: 1600 − 300 − 1000.
        assert_eq!(at(&ds, &paid, None, 100).owed, 300);
    }

    #[test]
    fn a_vip_valid_throughout_is_named_and_owes_nothing() {
        let card = VipWindow {
            valid_from: minute(-600),
            valid_until: minute(6000),
            label: "月卡".to_owned(),
        };
        let ds = [discount(DiscountKind::Amount(300), 0, "人工减免")];
        let f = at(&ds, &[], Some(&card), 300);
        assert_eq!((f.charge, f.discounted, f.owed), (0, 0, 0));
        let tariff = Tariff::example();
        let stay = Stay {
            entry: entry(),
            tariff: &tariff,
            vip: Some(&card),
            discounts: &ds,
            payments: &[],
        };
        let m = mallcoo_amounts(&stay, minute(300), 0, 0).unwrap();
        assert_eq!(
            m.offline_deduction.as_deref(),
            Some("固定车: 月卡；人工减免 ¥3.00")
        );
    }

    #[test]
    fn the_quotes_refusals_apply() {
        let tariff = Tariff::example();
        let stay = Stay {
            entry: entry(),
            tariff: &tariff,
            vip: None,
            discounts: &[],
            payments: &[],
        };
        assert!(matches!(
            figure(&stay, minute(-1)),
            Err(QuoteError::NowBeforeEntry { .. })
        ));
        assert!(matches!(
            mallcoo_amounts(&stay, minute(10), 0, -1),
            Err(QuoteError::NegativeFreeAmount(-1))
        ));
    }
}
