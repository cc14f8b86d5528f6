//! The period a VIP renewal buys, by the convention Chinese car parks follow.
//!
//! Periods are whole Asia/Shanghai days: they start at 00:00:00 and end, inclusive, at 23:59:59
//! Shanghai time, so a renewal made while the card is still valid continues one second after the
//! old end, with neither gap nor overlap. Months are calendar months counted from the start's
//! day-of-month ("the day before the same date next month"), clamped to the target month's last
//! day when that date does not exist.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::pyun::VipType;
use crate::time::{shanghai, to_shanghai};

/// Latest calendar year a period may reach: what the UI, the CSV format and P云 can show.
const MAX_YEAR: i32 = 9999;

/// A validity period; both ends are inclusive, the end being 23:59:59 Asia/Shanghai for computed periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// First instant the card is valid.
    pub start: DateTime<Utc>,
    /// Last instant the card is valid (inclusive).
    pub end: DateTime<Utc>,
}

/// Why no period can be computed for a renewal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenewalError {
    /// A renewal of zero months or days buys nothing.
    #[error("a renewal needs a quantity of at least 1")]
    ZeroQuantity,
    /// The period would end after year 9999.
    #[error("the renewed period would end after the year 9999")]
    OutOfRange,
}

/// Months one unit of this card type covers: Monthly 1, Quarterly 3, HalfYear 6, Yearly 12; None otherwise.
pub fn months_per_unit(t: VipType) -> Option<u32> {
    match t {
        VipType::Monthly => Some(1),
        VipType::Quarterly => Some(3),
        VipType::HalfYear => Some(6),
        VipType::Yearly => Some(12),
        VipType::Free | VipType::StoredValue | VipType::StoredCount | VipType::StoredDays => None,
    }
}

/// The period a renewal of `quantity` units buys at `at`; `None` for types whose period the caller must give.
///
/// A card still valid at `at` (`current_end >= at`: its last second counts) continues at
/// `current_end + 1 s`; an expired or new
/// one starts at 00:00:00 Shanghai of `at`'s Shanghai date. Free, StoredValue and StoredCount
/// answer `Ok(None)` whatever the quantity, because no quantity defines their period.
pub fn renewal_period(
    t: VipType,
    quantity: u32,
    current_end: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<Option<Period>, RenewalError> {
    let months = months_per_unit(t);
    if months.is_none() && t != VipType::StoredDays {
        return Ok(None);
    }
    if quantity == 0 {
        return Err(RenewalError::ZeroQuantity);
    }
    let start = match current_end {
        Some(end) if end >= at => end
            .checked_add_signed(TimeDelta::seconds(1))
            .ok_or(RenewalError::OutOfRange)?,
        _ => start_of_day(to_shanghai(at).date_naive())?,
    };
    let first_day = to_shanghai(start).date_naive();
    let last_day = match months {
        Some(per_unit) => {
            last_day_after_months(first_day, u64::from(per_unit) * u64::from(quantity))
        }
        None => first_day.checked_add_days(Days::new(u64::from(quantity) - 1)),
    }
    .ok_or(RenewalError::OutOfRange)?;
    Ok(Some(Period {
        start,
        end: end_of_day(last_day)?,
    }))
}

/// The last day covered by `months` months from `first`: the day before the same day-of-month
/// `months` later, or that month's last day when the date does not exist there (Jan 31 → Feb 28).
fn last_day_after_months(first: NaiveDate, months: u64) -> Option<NaiveDate> {
    let months = u32::try_from(months).ok()?;
    // Counting from the 1st never hits a missing day, so the target month is found exactly.
    let month_start = first.with_day(1)?.checked_add_months(Months::new(months))?;
    match month_start.with_day(first.day()) {
        Some(same_day) => same_day.pred_opt(),
        None => month_start.checked_add_months(Months::new(1))?.pred_opt(),
    }
}

fn start_of_day(day: NaiveDate) -> Result<DateTime<Utc>, RenewalError> {
    shanghai_instant(day, NaiveTime::MIN)
}

fn end_of_day(day: NaiveDate) -> Result<DateTime<Utc>, RenewalError> {
    let last_second = NaiveTime::from_hms_opt(23, 59, 59).ok_or(RenewalError::OutOfRange)?;
    shanghai_instant(day, last_second)
}

fn shanghai_instant(day: NaiveDate, time: NaiveTime) -> Result<DateTime<Utc>, RenewalError> {
    if day.year() > MAX_YEAR {
        return Err(RenewalError::OutOfRange);
    }
    shanghai()
        .from_local_datetime(&day.and_time(time))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(RenewalError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_mallcoo, parse_pyun_iso};

    fn utc(s: &str) -> DateTime<Utc> {
        parse_pyun_iso(s).unwrap()
    }

    /// A Shanghai wall-clock time, as people state these rules.
    fn sh(s: &str) -> DateTime<Utc> {
        parse_mallcoo(s).unwrap()
    }

    fn renew(t: VipType, q: u32, end: Option<&str>, at: &str) -> Period {
        renewal_period(t, q, end.map(sh), sh(at)).unwrap().unwrap()
    }

    fn period(start: &str, end: &str) -> Period {
        Period {
            start: sh(start),
            end: sh(end),
        }
    }

    #[test]
    fn expired_card_starts_at_midnight_of_the_day_of_renewal() {
        // The contract's example, as UTC instants.
        let p = renewal_period(VipType::Monthly, 1, None, sh("2022-10-01 10:00:00"))
            .unwrap()
            .unwrap();
        assert_eq!(p.start, utc("2022-09-30T16:00:00Z"));
        assert_eq!(p.end, utc("2022-10-31T15:59:59Z"));
        let expired = renew(
            VipType::Monthly,
            1,
            Some("2022-09-15 23:59:59"),
            "2022-10-01 10:00:00",
        );
        assert_eq!(expired, p);
        // Renewed in its very last second, a card is still valid: the new period follows it
        // instead of restarting that day and overlapping it.
        let at_end = renew(
            VipType::Monthly,
            1,
            Some("2022-09-30 23:59:59"),
            "2022-09-30 23:59:59",
        );
        assert_eq!(at_end, p);
    }

    #[test]
    fn unexpired_card_continues_one_second_after_its_end() {
        let p = renew(
            VipType::Monthly,
            1,
            Some("2022-10-31 23:59:59"),
            "2022-10-20 09:00:00",
        );
        assert_eq!(p, period("2022-11-01 00:00:00", "2022-11-30 23:59:59"));
        // An end the caller gave by hand that is not at midnight is continued from as well.
        let p = renew(
            VipType::Monthly,
            1,
            Some("2022-10-05 14:30:00"),
            "2022-10-01 09:00:00",
        );
        assert_eq!(p, period("2022-10-05 14:30:01", "2022-11-04 23:59:59"));
    }

    #[test]
    fn month_ends_clamp_to_the_target_months_last_day() {
        let cases = [
            (VipType::Monthly, 1, "2023-01-31", "2023-02-28"),
            (VipType::Monthly, 1, "2024-01-31", "2024-02-29"),
            (VipType::Monthly, 1, "2024-01-30", "2024-02-29"),
            (VipType::Monthly, 1, "2024-01-29", "2024-02-28"),
            (VipType::Monthly, 1, "2023-03-31", "2023-04-30"),
            (VipType::HalfYear, 1, "2023-08-31", "2024-02-29"),
            (VipType::Monthly, 6, "2022-08-31", "2023-02-28"),
            (VipType::Monthly, 1, "2023-02-28", "2023-03-27"),
            (VipType::Monthly, 1, "2023-03-01", "2023-03-31"),
            (VipType::Monthly, 1, "2023-12-15", "2024-01-14"),
        ];
        for (t, q, first, last) in cases {
            let p = renew(t, q, None, &format!("{first} 08:00:00"));
            let want = period(&format!("{first} 00:00:00"), &format!("{last} 23:59:59"));
            assert_eq!(p, want, "{t:?}×{q} from {first}");
        }
    }

    #[test]
    fn a_clamped_month_is_followed_from_the_first_of_the_next() {
        let jan = renew(VipType::Monthly, 1, None, "2023-01-31 12:00:00");
        assert_eq!(jan.end, sh("2023-02-28 23:59:59"));
        let feb = renewal_period(
            VipType::Monthly,
            1,
            Some(jan.end),
            sh("2023-02-10 00:00:00"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(feb, period("2023-03-01 00:00:00", "2023-03-31 23:59:59"));
    }

    #[test]
    fn leap_day_start_plus_a_year_ends_on_the_last_of_february() {
        let p = renew(VipType::Yearly, 1, None, "2024-02-29 18:00:00");
        assert_eq!(p, period("2024-02-29 00:00:00", "2025-02-28 23:59:59"));
        let p = renew(VipType::Monthly, 12, None, "2024-02-29 18:00:00");
        assert_eq!(p, period("2024-02-29 00:00:00", "2025-02-28 23:59:59"));
        let p = renew(VipType::Yearly, 4, None, "2024-02-29 18:00:00");
        assert_eq!(p, period("2024-02-29 00:00:00", "2028-02-28 23:59:59"));
    }

    #[test]
    fn multi_month_types_are_multiples_of_a_month() {
        let at = "2022-10-01 10:00:00";
        for (t, q, last) in [
            (VipType::Monthly, 1, "2022-10-31"),
            (VipType::Monthly, 3, "2022-12-31"),
            (VipType::Quarterly, 1, "2022-12-31"),
            (VipType::Quarterly, 2, "2023-03-31"),
            (VipType::HalfYear, 1, "2023-03-31"),
            (VipType::HalfYear, 3, "2024-03-31"),
            (VipType::Yearly, 1, "2023-09-30"),
            (VipType::Yearly, 2, "2024-09-30"),
        ] {
            let p = renew(t, q, None, at);
            assert_eq!(
                p,
                period("2022-10-01 00:00:00", &format!("{last} 23:59:59")),
                "{t:?}×{q}"
            );
        }
        assert_eq!(months_per_unit(VipType::Quarterly), Some(3));
        assert_eq!(months_per_unit(VipType::StoredDays), None);
    }

    #[test]
    fn chained_renewals_continue_without_gap_or_overlap() {
        let mut end = None;
        let mut at = sh("2023-01-31 09:00:00");
        let mut previous: Option<Period> = None;
        for t in [
            VipType::Monthly,
            VipType::Quarterly,
            VipType::StoredDays,
            VipType::HalfYear,
            VipType::Yearly,
        ] {
            let p = renewal_period(t, 2, end, at).unwrap().unwrap();
            if let Some(prev) = previous {
                assert_eq!(p.start, prev.end + TimeDelta::seconds(1), "{t:?}");
            }
            assert!(p.start <= p.end);
            end = Some(p.end);
            previous = Some(p);
            at = p.end - TimeDelta::days(1);
        }
    }

    #[test]
    fn stored_days_cover_quantity_whole_days() {
        let p = renew(VipType::StoredDays, 1, None, "2022-10-01 10:00:00");
        assert_eq!(p, period("2022-10-01 00:00:00", "2022-10-01 23:59:59"));
        let p = renew(VipType::StoredDays, 30, None, "2022-10-01 10:00:00");
        assert_eq!(p, period("2022-10-01 00:00:00", "2022-10-30 23:59:59"));
        let p = renew(
            VipType::StoredDays,
            3,
            Some("2022-10-30 23:59:59"),
            "2022-10-01 10:00:00",
        );
        assert_eq!(p, period("2022-10-31 00:00:00", "2022-11-02 23:59:59"));
    }

    #[test]
    fn types_without_a_rule_ask_the_caller_for_the_period() {
        for t in [VipType::Free, VipType::StoredValue, VipType::StoredCount] {
            for q in [0, 1, 12] {
                assert_eq!(
                    renewal_period(t, q, None, sh("2022-10-01 10:00:00")),
                    Ok(None),
                    "{t:?}"
                );
            }
            assert_eq!(months_per_unit(t), None);
        }
    }

    #[test]
    fn zero_quantity_and_far_futures_are_errors() {
        let at = sh("2022-10-01 10:00:00");
        for t in [VipType::Monthly, VipType::StoredDays, VipType::Yearly] {
            assert_eq!(
                renewal_period(t, 0, None, at),
                Err(RenewalError::ZeroQuantity)
            );
        }
        assert_eq!(
            renewal_period(VipType::Yearly, 8000, None, at),
            Err(RenewalError::OutOfRange)
        );
        assert_eq!(
            renewal_period(VipType::Yearly, u32::MAX, None, at),
            Err(RenewalError::OutOfRange)
        );
        assert_eq!(
            renewal_period(VipType::StoredDays, u32::MAX, None, at),
            Err(RenewalError::OutOfRange)
        );
        assert_eq!(
            renewal_period(VipType::Monthly, 1, Some(sh("9999-12-31 23:59:59")), at),
            Err(RenewalError::OutOfRange)
        );
        let last = renewal_period(VipType::Monthly, 1, None, sh("9999-12-01 00:00:00"));
        assert_eq!(last.unwrap().unwrap().end, sh("9999-12-31 23:59:59"));
    }

    #[test]
    fn the_day_is_shanghais_not_utcs() {
        // 17:00 UTC on Oct 1 is 01:00 on Oct 2 in Shanghai.
        let p = renewal_period(VipType::Monthly, 1, None, utc("2022-10-01T17:00:00Z"))
            .unwrap()
            .unwrap();
        assert_eq!(p.start, utc("2022-10-01T16:00:00Z"));
        assert_eq!(p.end, utc("2022-11-01T15:59:59Z"));
        // 15:59:59 UTC is still Oct 1 in Shanghai.
        let p = renewal_period(VipType::StoredDays, 1, None, utc("2022-10-01T15:59:59Z"))
            .unwrap()
            .unwrap();
        assert_eq!(p.start, utc("2022-09-30T16:00:00Z"));
        assert_eq!(p.end, utc("2022-10-01T15:59:59Z"));
    }

    // proptest needs OS randomness, absent on wasm32-unknown-unknown: properties run on the host.
    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn renewable() -> impl Strategy<Value = VipType> {
            prop::sample::select(vec![
                VipType::Monthly,
                VipType::Quarterly,
                VipType::HalfYear,
                VipType::Yearly,
                VipType::StoredDays,
            ])
        }

        /// Any second between 2000 and 2100.
        fn instant() -> impl Strategy<Value = DateTime<Utc>> {
            (946_684_800i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
        }

        proptest! {
            #[test]
            fn expired_periods_start_at_shanghai_midnight_and_are_non_empty(
                t in renewable(), q in 1u32..40, at in instant(), back in 0i64..10_000_000,
            ) {
                let end = at - TimeDelta::seconds(back);
                let p = renewal_period(t, q, Some(end), at).unwrap().unwrap();
                prop_assert!(p.start <= at && p.start < p.end);
                let start = to_shanghai(p.start);
                prop_assert_eq!(start.time(), NaiveTime::MIN);
                prop_assert_eq!(start.date_naive(), to_shanghai(at).date_naive());
                prop_assert_eq!(to_shanghai(p.end).time(), NaiveTime::from_hms_opt(23, 59, 59).unwrap());
            }

            #[test]
            fn chains_of_renewals_neither_overlap_nor_leave_gaps(
                steps in prop::collection::vec((renewable(), 1u32..13, 0u32..1000), 1..12),
                at in instant(),
            ) {
                let first = renewal_period(VipType::Monthly, 1, None, at).unwrap().unwrap();
                let mut prev = first;
                for (t, q, permille) in steps {
                    // Renew at some instant while the previous period is still running.
                    let len = (prev.end - prev.start).num_seconds();
                    let at = prev.start + TimeDelta::seconds(len * i64::from(permille) / 1000);
                    let p = renewal_period(t, q, Some(prev.end), at).unwrap().unwrap();
                    prop_assert_eq!(p.start, prev.end + TimeDelta::seconds(1));
                    prop_assert!(p.start < p.end);
                    prop_assert_eq!(to_shanghai(p.start).time(), NaiveTime::MIN);
                    prev = p;
                }
            }
        }
    }
}
