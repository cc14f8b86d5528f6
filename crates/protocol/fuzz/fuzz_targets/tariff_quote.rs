//! The tariff engine (PROTOCOLS.md §5) for any tariff an operator could save and any times: a
//! tariff either validates or is refused, never a panic; for a valid one, over any entry and
//! two stays, the fee is ≥ 0, never decreases with time, is 0 within the free time, and no 24 h
//! cycle costs more than the cycle cap; a quote with any payments, VIP window, free minutes and
//! free amount is consistent (`unpaid = max(0, total − paid − deduction)`, billing time within
//! the stay) and free minutes or amounts never make a car owe more.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use chrono::{DateTime, TimeDelta, Utc};
use libfuzzer_sys::fuzz_target;
use protocol::fee::{fee, stay_minutes};
use protocol::quote::{Payment, Session, VipWindow, quote};
use protocol::tariff::{
    DayTime, FirstBlock, Period, Pricing, SimplePricing, Tariff, TimeOfDayPricing,
};

/// Amounts: mostly everyday prices, sometimes anything an i64 holds.
fn amount(u: &mut Unstructured<'_>) -> Result<i64> {
    Ok(if u.ratio(1, 8)? {
        i64::arbitrary(u)?
    } else {
        u.int_in_range(0..=20_000)?
    })
}

/// Minutes: mostly everyday lengths, sometimes anything a u32 holds.
fn minutes(u: &mut Unstructured<'_>) -> Result<u32> {
    Ok(if u.ratio(1, 8)? {
        u32::arbitrary(u)?
    } else {
        u.int_in_range(0..=240)?
    })
}

fn day_time(u: &mut Unstructured<'_>) -> Result<DayTime> {
    let m: u32 = u.int_in_range(0..=1440)?;
    Ok(DayTime::new(m / 60, m % 60).expect("0..=24:00"))
}

fn tariff(u: &mut Unstructured<'_>) -> Result<Tariff> {
    let pricing = if bool::arbitrary(u)? {
        Pricing::Simple(SimplePricing {
            first_minutes: minutes(u)?,
            first_price: amount(u)?,
            unit_minutes: minutes(u)?,
            unit_price: amount(u)?,
        })
    } else {
        let n = u.int_in_range(0..=6)?;
        let mut periods = Vec::with_capacity(n);
        for _ in 0..n {
            periods.push(Period {
                start: day_time(u)?,
                end: day_time(u)?,
                unit_minutes: minutes(u)?,
                unit_price: amount(u)?,
                period_cap: if bool::arbitrary(u)? {
                    Some(amount(u)?)
                } else {
                    None
                },
            });
        }
        let first = if bool::arbitrary(u)? {
            Some(FirstBlock {
                minutes: minutes(u)?,
                price: amount(u)?,
            })
        } else {
            None
        };
        Pricing::TimeOfDay(TimeOfDayPricing { first, periods })
    };
    Ok(Tariff {
        free_minutes: minutes(u)?,
        grace_minutes: minutes(u)?,
        cycle_cap: if bool::arbitrary(u)? {
            Some(amount(u)?)
        } else {
            None
        },
        pricing,
    })
}

/// Seconds from 1970 to about 2100, to the nanosecond.
fn instant(u: &mut Unstructured<'_>) -> Result<DateTime<Utc>> {
    let s: i64 = u.int_in_range(0..=4_102_444_800)?;
    let ns: u32 = u.int_in_range(0..=999_999_999)?;
    Ok(DateTime::from_timestamp(s, ns).unwrap_or_default())
}

/// A stay in seconds: mostly up to three days, sometimes up to a century.
fn stay(u: &mut Unstructured<'_>) -> Result<i64> {
    Ok(if u.ratio(1, 16)? {
        u.int_in_range(0..=100 * 365 * 86_400)?
    } else {
        u.int_in_range(0..=3 * 86_400)?
    })
}

fn check(u: &mut Unstructured<'_>) -> Result<()> {
    let t = tariff(u)?;
    if t.validate().is_err() {
        return Ok(());
    }
    let e = instant(u)?;
    let (a, b) = (stay(u)?, stay(u)?);
    let (early, late) = (
        e + TimeDelta::seconds(a.min(b)),
        e + TimeDelta::seconds(a.max(b)),
    );
    let f1 = fee(&t, e, early).expect("a valid tariff prices any stay");
    let f2 = fee(&t, e, late).expect("a valid tariff prices any stay");
    assert!(0 <= f1 && f1 <= f2, "fee went from {f1} to {f2}: {t:?}");
    if stay_minutes(e, early) <= i64::from(t.free_minutes) {
        assert_eq!(f1, 0, "within the free time: {t:?}");
    }
    if let Some(cap) = t.cycle_cap {
        let cycles = (stay_minutes(e, late) + 1439) / 1440;
        assert!(
            f2 <= cycles.saturating_mul(cap),
            "{f2} > {cycles} × {cap}: {t:?}"
        );
    }

    let now = late;
    let n = u.int_in_range(0..=3)?;
    let mut payments = Vec::with_capacity(n);
    for _ in 0..n {
        let at = e + TimeDelta::seconds(u.int_in_range(0..=a.max(b))?);
        payments.push(Payment {
            at,
            amount: u.int_in_range(0..=20_000)?,
        });
    }
    let vip = if bool::arbitrary(u)? {
        let from = e + TimeDelta::seconds(u.int_in_range(-2 * 86_400..=4 * 86_400)?);
        Some(VipWindow {
            valid_from: from,
            valid_until: from + TimeDelta::seconds(u.int_in_range(0..=4 * 86_400)?),
            label: "VIP".to_owned(),
        })
    } else {
        None
    };
    let free_minutes: u32 = u.int_in_range(0..=600)?;
    let free_amount: i64 = u.int_in_range(0..=3_000)?;
    let session = Session {
        entry: e,
        tariff: &t,
    };
    let with = quote(
        &session,
        &payments,
        vip.as_ref(),
        now,
        free_minutes,
        free_amount,
    )
    .expect("a valid quote");
    let without = quote(&session, &payments, vip.as_ref(), now, 0, 0).expect("a valid quote");
    for q in [&with, &without] {
        assert!(
            q.total >= 0 && q.paid >= 0 && q.deduction >= 0 && q.unpaid >= 0,
            "{q:?}"
        );
        assert_eq!(q.unpaid, (q.total - q.paid - q.deduction).max(0), "{q:?}");
        assert!(q.billing_time >= e && q.billing_time <= now, "{q:?}");
    }
    assert!(with.unpaid <= without.unpaid, "{with:?} vs {without:?}");
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = check(&mut Unstructured::new(data));
});
