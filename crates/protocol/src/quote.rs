//! The quote of Mallcoo's GetParkingPaymentInfo (PROTOCOLS.md §2.2, §5): what a parked car owes now.
//!
//! Decisions fixed here, beyond the digest's wording:
//! - Grace: `now` within `grace_minutes` of the latest payment (by `at`, boundary included) bills
//!   at that payment's time. A zero-amount payment (fully covered by deductions) counts too: it
//!   settled the stay just like a paid one. A payment stamped after `now` (clock skew) bills at `now`.
//! - VIP: the record's window `[valid_from, valid_until)` is cut out of the stay and each piece
//!   left is priced as a stay of its own (free minutes and first block included). This gives the
//!   digest's two cases — valid at entry and at billing time: 0; expired during the stay: priced
//!   as if the stay began at the expiry — and also prices a record that started during the stay:
//!   the stay up to its start is owed. The pieces replace `fee(entry, t)` everywhere, including
//!   in the free-minutes deduction.
//! - `parking_minutes` is entry → `now` (not the billing time: the car is still parked), rounded
//!   up like every stay in §5.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::fee::{fee_prepared, stay_minutes};
use crate::tariff::{Prepared, Tariff, TariffError};
use crate::time::format_mallcoo;

/// The open parking session being quoted: when the car entered and the car park's tariff.
#[derive(Debug, Clone, Copy)]
pub struct Session<'a> {
    /// Entry time of the car.
    pub entry: DateTime<Utc>,
    /// The car park's tariff.
    pub tariff: &'a Tariff,
}

/// One settlement recorded on the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// When it was settled; the latest one starts the grace period.
    pub at: DateTime<Utc>,
    /// Fen settled: online + offline payments + offline discounts (Mallcoo's `paidAmount` parts).
    pub amount: i64,
}

/// A VIP record of the car park for this car (monthly card, whitelist, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VipWindow {
    /// First instant the record is valid.
    pub valid_from: DateTime<Utc>,
    /// First instant it is no longer valid (P云's `renewal_end_time` is such an exclusive end).
    pub valid_until: DateTime<Utc>,
    /// What Mallcoo shows in `offlineDeduction`, e.g. `月卡 2026-11`.
    pub label: String,
}

/// What a car owes at a moment, in the terms of GetParkingPaymentInfo; every amount is ≥ 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The instant the fee is computed for: `now`, or the latest payment's time within its grace.
    pub billing_time: DateTime<Utc>,
    /// Minutes from entry to `now`, rounded up (`parkingMinutes`).
    pub parking_minutes: i64,
    /// The whole fee from entry to the billing time (`totalAmount`).
    pub total: i64,
    /// Sum of the payments (`paidAmount`).
    pub paid: i64,
    /// `free_amount` plus the worth of `free_minutes`, at most what is still due (`deductionAmount`).
    pub deduction: i64,
    /// `max(0, total − paid − deduction)` (`unPayAmount`).
    pub unpaid: i64,
    /// The VIP record that covered part or all of the stay, for display (`offlineDeduction`).
    pub offline_deduction: Option<String>,
}

/// Inputs a quote cannot be computed from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// The car park's tariff does not validate.
    #[error("invalid tariff: {0}")]
    Tariff(#[from] TariffError),
    /// The query time precedes the entry (clock or data error).
    #[error("quote time {now} is before the entry at {entry}")]
    NowBeforeEntry {
        /// Entry time.
        entry: DateTime<Utc>,
        /// The query time.
        now: DateTime<Utc>,
    },
    /// Mallcoo's `freeAmount` must be ≥ 0.
    #[error("freeAmount must not be negative (got {0} fen)")]
    NegativeFreeAmount(i64),
    /// A settlement cannot be negative; refunds are not payments.
    #[error("payment at {at} has a negative amount ({amount} fen)")]
    NegativePayment {
        /// When it was recorded.
        at: DateTime<Utc>,
        /// The amount found.
        amount: i64,
    },
    /// A payment before entry belongs to another session.
    #[error("payment at {at} is before the entry at {entry}")]
    PaymentBeforeEntry {
        /// When it was recorded.
        at: DateTime<Utc>,
        /// Entry time.
        entry: DateTime<Utc>,
    },
    /// A VIP record must end after it starts.
    #[error("VIP record `{label}` ends ({until}) before it starts ({from})")]
    VipWindowReversed {
        /// The record's label.
        label: String,
        /// Its start.
        from: DateTime<Utc>,
        /// Its end.
        until: DateTime<Utc>,
    },
}

/// Quotes the session at `now` with Mallcoo's `freeMinutes` / `freeAmount` (PROTOCOLS.md §2.2, §5).
pub fn quote(
    session: &Session<'_>,
    payments: &[Payment],
    vip: Option<&VipWindow>,
    now: DateTime<Utc>,
    free_minutes: u32,
    free_amount: i64,
) -> Result<Quote, QuoteError> {
    let prepared = check_stay(session.tariff, session.entry, payments, vip, now)?;
    let entry = session.entry;
    if free_amount < 0 {
        return Err(QuoteError::NegativeFreeAmount(free_amount));
    }

    let billing_time = billing_time(session.tariff, payments, now);
    let charge = |end: DateTime<Utc>| charge(&prepared, entry, vip, end);
    let total = charge(billing_time);
    let paid = payments
        .iter()
        .fold(0i64, |sum, p| sum.saturating_add(p.amount));
    // The free minutes are taken off the end of the stay: what the last `free_minutes` cost.
    let shortened = billing_time
        .checked_sub_signed(TimeDelta::minutes(i64::from(free_minutes)))
        .unwrap_or(entry);
    let minutes_worth = total.saturating_sub(charge(shortened)).max(0);
    let due = total.saturating_sub(paid).max(0);
    let deduction = free_amount.saturating_add(minutes_worth).min(due);
    Ok(Quote {
        billing_time,
        parking_minutes: stay_minutes(entry, now),
        total,
        paid,
        deduction,
        unpaid: due - deduction,
        offline_deduction: vip.and_then(|v| vip_note(v, entry, billing_time)),
    })
}

/// The checks a quote and a ledger figure share, in this order: the tariff validates, `now` is
/// not before entry, no payment is negative or before entry, the VIP window is not reversed.
pub(crate) fn check_stay<'t>(
    tariff: &'t Tariff,
    entry: DateTime<Utc>,
    payments: &[Payment],
    vip: Option<&VipWindow>,
    now: DateTime<Utc>,
) -> Result<Prepared<'t>, QuoteError> {
    let prepared = tariff.prepare()?;
    if now < entry {
        return Err(QuoteError::NowBeforeEntry { entry, now });
    }
    if let Some(p) = payments.iter().find(|p| p.amount < 0) {
        return Err(QuoteError::NegativePayment {
            at: p.at,
            amount: p.amount,
        });
    }
    if let Some(p) = payments.iter().find(|p| p.at < entry) {
        return Err(QuoteError::PaymentBeforeEntry { at: p.at, entry });
    }
    if let Some(v) = vip.filter(|v| v.valid_until < v.valid_from) {
        return Err(QuoteError::VipWindowReversed {
            label: v.label.clone(),
            from: v.valid_from,
            until: v.valid_until,
        });
    }
    Ok(prepared)
}

/// `now`, unless it falls within the grace period of the latest payment.
pub(crate) fn billing_time(
    tariff: &Tariff,
    payments: &[Payment],
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let Some(latest) = payments.iter().map(|p| p.at).max() else {
        return now;
    };
    let grace = TimeDelta::minutes(i64::from(tariff.grace_minutes));
    // A grace end beyond chrono's range is still after any `now`.
    let in_grace = latest
        .checked_add_signed(grace)
        .is_none_or(|end| now <= end);
    if in_grace { latest.min(now) } else { now }
}

/// The fee from entry to `end` with the VIP window, if it overlaps, cut out of the stay.
fn charge(
    p: &Prepared<'_>,
    entry: DateTime<Utc>,
    vip: Option<&VipWindow>,
    end: DateTime<Utc>,
) -> i64 {
    match vip {
        Some(v) if v.valid_from < end && v.valid_until > entry => {
            let before = fee_prepared(p, entry, v.valid_from.min(end));
            let after = fee_prepared(p, v.valid_until.max(entry), end);
            before.saturating_add(after)
        }
        _ => fee_prepared(p, entry, end),
    }
}

/// Names the VIP record when it covered any of the stay; its validity is shown when partial.
pub fn vip_note(v: &VipWindow, entry: DateTime<Utc>, billing: DateTime<Utc>) -> Option<String> {
    if v.valid_from > billing || v.valid_until <= entry || v.valid_from == v.valid_until {
        return None;
    }
    if v.valid_from <= entry && v.valid_until > billing {
        return Some(format!("固定车: {}", v.label));
    }
    Some(format!(
        "固定车: {} ({} 至 {})",
        v.label,
        format_mallcoo(v.valid_from),
        format_mallcoo(v.valid_until)
    ))
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

    fn pay(m: i64, amount: i64) -> Payment {
        Payment {
            at: minute(m),
            amount,
        }
    }

    fn vip(from: i64, until: i64) -> VipWindow {
        VipWindow {
            valid_from: minute(from),
            valid_until: minute(until),
            label: "月卡".to_owned(),
        }
    }

    fn q(payments: &[Payment], vip: Option<&VipWindow>, now: i64, fm: u32, fa: i64) -> Quote {
        let tariff = Tariff::example();
        let session = Session {
            entry: entry(),
            tariff: &tariff,
        };
        quote(&session, payments, vip, minute(now), fm, fa).unwrap()
    }

    fn amounts(q: &Quote) -> (i64, i64, i64, i64) {
        (q.total, q.paid, q.deduction, q.unpaid)
    }

    #[test]
    fn payment_example_of_section_5() {
        let paid = [pay(70, 1300)];
        let within = q(&paid, None, 84, 0, 0);
        assert_eq!(within.billing_time, minute(70));
        assert_eq!(within.parking_minutes, 84);
        assert_eq!(amounts(&within), (1300, 1300, 0, 0));
        let after = q(&paid, None, 100, 0, 0);
        assert_eq!(after.billing_time, minute(100));
        assert_eq!(amounts(&after), (1600, 1300, 0, 300));
    }

    #[test]
    fn grace_ends_exactly_grace_minutes_after_the_latest_payment() {
        let paid = [pay(40, 1000), pay(70, 300)];
        assert_eq!(q(&paid, None, 85, 0, 0).billing_time, minute(70));
        let later = q(&paid, None, 91, 0, 0);
        assert_eq!(later.billing_time, minute(91));
        assert_eq!(amounts(&later), (1600, 1300, 0, 300));
        // A zero-amount payment (all deductions) starts a grace period too.
        assert_eq!(q(&[pay(20, 0)], None, 30, 0, 0).billing_time, minute(20));
    }

    #[test]
    fn free_minutes_deduct_what_the_last_minutes_cost() {
        // fee(100) = 1600, fee(70) = 1300.
        assert_eq!(amounts(&q(&[], None, 100, 30, 0)), (1600, 0, 300, 1300));
        assert_eq!(amounts(&q(&[], None, 100, 30, 500)), (1600, 0, 800, 800));
        // Reaching back into the free time deducts the whole fee.
        assert_eq!(amounts(&q(&[], None, 20, 10, 0)), (1000, 0, 1000, 0));
        assert_eq!(amounts(&q(&[], None, 100, 1000, 0)), (1600, 0, 1600, 0));
    }

    #[test]
    fn deductions_never_exceed_what_is_still_due() {
        assert_eq!(amounts(&q(&[], None, 100, 0, 5000)), (1600, 0, 1600, 0));
        assert_eq!(
            amounts(&q(&[pay(70, 1300)], None, 100, 30, 0)),
            (1600, 1300, 300, 0)
        );
        assert_eq!(
            amounts(&q(&[pay(70, 1300)], None, 100, 0, 1000)),
            (1600, 1300, 300, 0)
        );
        // Overpaid: nothing due, nothing deducted, nothing negative.
        assert_eq!(
            amounts(&q(&[pay(70, 9000)], None, 100, 30, 100)),
            (1600, 9000, 0, 0)
        );
    }

    #[test]
    fn a_vip_valid_at_entry_and_billing_time_owes_nothing() {
        let card = vip(-60 * 24, 60 * 24 * 30);
        let quote = q(&[], Some(&card), 300, 0, 0);
        assert_eq!(amounts(&quote), (0, 0, 0, 0));
        assert_eq!(quote.offline_deduction.as_deref(), Some("固定车: 月卡"));
        assert_eq!(quote.parking_minutes, 300);
    }

    #[test]
    fn an_expired_vip_prices_the_stay_from_its_expiry() {
        // Expired at minute 120; at minute 211 that is a 91-minute stay: 1600.
        let card = vip(-600, 120);
        let quote = q(&[], Some(&card), 211, 0, 0);
        assert_eq!(amounts(&quote), (1600, 0, 0, 1600));
        assert_eq!(
            quote.offline_deduction.as_deref(),
            Some("固定车: 月卡 (2026-11-24 00:00:00 至 2026-11-24 12:00:00)")
        );
        // Within the free time after expiry: 0.
        assert_eq!(q(&[], Some(&card), 135, 0, 0).total, 0);
        // Free minutes deduct from the priced piece: fee(91 min) − fee(61 min).
        assert_eq!(
            amounts(&q(&[], Some(&card), 211, 30, 0)),
            (1600, 0, 300, 1300)
        );
    }

    #[test]
    fn a_vip_starting_during_the_stay_leaves_the_time_before_it_owed() {
        let card = vip(61, 60 * 24 * 30);
        assert_eq!(amounts(&q(&[], Some(&card), 500, 0, 0)), (1300, 0, 0, 1300));
        // A window wholly inside the stay: the pieces before and after are two stays.
        let short = vip(61, 200);
        assert_eq!(
            amounts(&q(&[], Some(&short), 291, 0, 0)),
            (2900, 0, 0, 2900)
        );
        // A record outside the stay changes nothing and is not named.
        let old = vip(-600, -60);
        let quote = q(&[], Some(&old), 61, 0, 0);
        assert_eq!((quote.total, quote.offline_deduction), (1300, None));
    }

    #[test]
    fn inconsistent_input_is_an_error() {
        let tariff = Tariff::example();
        let session = Session {
            entry: entry(),
            tariff: &tariff,
        };
        let go = |payments: &[Payment], vip: Option<&VipWindow>, now: i64, fa: i64| {
            quote(&session, payments, vip, minute(now), 0, fa)
        };
        assert!(matches!(
            go(&[], None, -1, 0),
            Err(QuoteError::NowBeforeEntry { .. })
        ));
        assert!(matches!(
            go(&[], None, 10, -1),
            Err(QuoteError::NegativeFreeAmount(-1))
        ));
        assert!(matches!(
            go(&[pay(5, -1)], None, 10, 0),
            Err(QuoteError::NegativePayment { .. })
        ));
        assert!(matches!(
            go(&[pay(-5, 1)], None, 10, 0),
            Err(QuoteError::PaymentBeforeEntry { .. })
        ));
        let reversed = vip(100, 50);
        assert!(matches!(
            go(&[], Some(&reversed), 10, 0),
            Err(QuoteError::VipWindowReversed { .. })
        ));
        let mut bad = Tariff::example();
        bad.cycle_cap = Some(-1);
        let session = Session {
            entry: entry(),
            tariff: &bad,
        };
        assert!(matches!(
            quote(&session, &[], None, minute(10), 0, 0),
            Err(QuoteError::Tariff(_))
        ));
    }

    #[test]
    fn a_future_payment_bills_at_now_and_quotes_serialise() {
        let quote = q(&[pay(90, 1000)], None, 80, 0, 0);
        assert_eq!(quote.billing_time, minute(80));
        assert_eq!(amounts(&quote), (1300, 1000, 0, 300));
        let json = serde_json::to_string(&quote).unwrap();
        assert_eq!(serde_json::from_str::<Quote>(&json).unwrap(), quote);
    }
}
