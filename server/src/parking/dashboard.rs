//! The mall staff's traffic figures of a car park over Shanghai calendar days: entries and exits
//! per hour, cars inside at the end of each hour and now (with free spaces and occupancy when
//! the car park's spaces are configured), payments by channel and discounts by source.
//!
//! Every figure is a handful of grouped range scans on the indexes of migrations 0004, 0005 and
//! 0006, whatever the number of hours or the size of the history. The totals count exactly what
//! Mallcoo's GetTraffic counts for `[from 00:00, to + 1 day 00:00)`: sessions whose `entry_at`
//! (entries) or `exit_at` (exits) falls in the range.

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use super::discount_figures::{self, SourceDiscounts};
use super::spaces::{self, Spaces};
use crate::storage::{Db, to_ms};

/// The longest range the dashboard reads at once, in days.
pub const MAX_DAYS: u64 = 31;

/// Why a range of days is refused; every variant is the caller's mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// A date that is not `YYYY-MM-DD`.
    #[error("`{0}` is not a date of the form YYYY-MM-DD")]
    BadDate(String),
    /// The last day precedes the first.
    #[error("`to` ({to}) is before `from` ({from})")]
    Reversed {
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
    },
    /// More days than `MAX_DAYS`.
    #[error("a range covers at most {MAX_DAYS} days (got {0})")]
    TooLong(u64),
}

/// Shanghai calendar days `from..=to`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    /// First day (Asia/Shanghai).
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
}

impl DayRange {
    /// Reads `YYYY-MM-DD` days; `to` defaults to `from`, `from` to `today` (Shanghai).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> Result<DayRange, RangeError> {
        let day = |s: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| RangeError::BadDate(s.to_owned()))
        };
        let from = match from.filter(|s| !s.trim().is_empty()) {
            Some(s) => day(s)?,
            None => today,
        };
        let to = match to.filter(|s| !s.trim().is_empty()) {
            Some(s) => day(s)?,
            None => from,
        };
        if to < from {
            return Err(RangeError::Reversed { from, to });
        }
        let days = (to - from).num_days().unsigned_abs() + 1;
        if days > MAX_DAYS {
            return Err(RangeError::TooLong(days));
        }
        Ok(DayRange { from, to })
    }

    /// The range as instants: `[from 00:00, to + 1 day 00:00)` Asia/Shanghai.
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            shanghai_midnight(self.from),
            shanghai_midnight(self.to + Days::new(1)),
        )
    }

    fn hours(self) -> usize {
        // At most 31 days, so the count is small and positive.
        ((self.to - self.from).num_days() as usize + 1) * 24
    }
}

/// The instant a Shanghai calendar day begins (UTC+8 has no DST, so this is exact).
fn shanghai_midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc() - TimeDelta::hours(8)
}

/// Today's date in Asia/Shanghai.
pub fn shanghai_today(now: DateTime<Utc>) -> NaiveDate {
    protocol::time::to_shanghai(now).date_naive()
}

/// One hour of the range.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HourTraffic {
    /// The hour's first instant, RFC 3339 UTC.
    pub start: DateTime<Utc>,
    /// The hour as Shanghai wall-clock time, `yyyy-MM-dd HH`.
    pub label: String,
    /// Sessions whose entry falls in the hour.
    pub entries: i64,
    /// Sessions whose exit falls in the hour.
    pub exits: i64,
    /// Cars inside at the end of the hour.
    pub occupancy: i64,
}

/// Entries and exits over the whole range (what GetTraffic answers as `inNum`/`outNum`).
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Sessions that entered in the range.
    pub entries: i64,
    /// Sessions that exited in the range.
    pub exits: i64,
}

/// Payments of one channel and pay type over the range.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelPayments {
    /// Who took the money: `mallcoo` or `pyun`.
    pub channel: String,
    /// 0 online, 1 offline (Mallcoo `payChannel`; P云's are online).
    pub pay_channel: i64,
    /// 0 zero-amount, 1 Alipay, 2 UnionPay, 3 WeChat (Mallcoo `payType`; P云's `pay_origin` 4 and
    /// 8 as 1 and 3, any other as -1).
    pub pay_type: i64,
    /// How many payments.
    pub count: i64,
    /// Fen paid.
    pub amount_fen: i64,
    /// Fen deducted (discounts, points).
    pub deduction_fen: i64,
}

/// A car park's traffic over a range of Shanghai days.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Traffic {
    /// The car park.
    pub park_id: i64,
    /// First day, `YYYY-MM-DD` Asia/Shanghai.
    #[schema(value_type = String)]
    pub from: NaiveDate,
    /// Last day, inclusive.
    #[schema(value_type = String)]
    pub to: NaiveDate,
    /// First instant of the range.
    pub start: DateTime<Utc>,
    /// First instant after the range.
    pub end: DateTime<Utc>,
    /// Every hour of the range in order, 24 a day, hours without traffic included.
    pub hours: Vec<HourTraffic>,
    /// Entries and exits over the range.
    pub totals: Totals,
    /// Cars inside now (open sessions).
    pub inside_now: i64,
    /// The car park's spaces; `null` when not configured.
    pub total_spaces: Option<i64>,
    /// Free spaces now, `max(0, total_spaces − inside_now)`; `null` without `total_spaces`.
    pub free_now: Option<i64>,
    /// `inside_now` as a whole percentage of `total_spaces`, rounded half up (above 100 when
    /// more cars are inside than spaces); `null` when `total_spaces` is not configured or 0.
    pub occupancy_percent: Option<i64>,
    /// Payments recorded in the range, by channel and pay type.
    pub payments_by_channel: Vec<ChannelPayments>,
    /// Discounts granted in the range, one entry per source (`api`, `waiver`, `pyun`, `shop`, in
    /// that order, zeros included).
    pub discounts_by_source: Vec<SourceDiscounts>,
    /// When these figures were read.
    pub generated_at: DateTime<Utc>,
}

/// Reads car park `park_id`'s traffic over `range`; `total_spaces` is the car park's.
///
/// Occupancy counts a session from its entry to its exit; a `no_exit_seen` session (a camera
/// missed its exit) is left out, since when it left is unknown and its car's next entry proves
/// it had gone by then — counting it would hold a phantom car inside for ever.
pub async fn traffic(
    db: &Db,
    park_id: i64,
    total_spaces: Option<i64>,
    range: DayRange,
) -> Result<Traffic, sqlx::Error> {
    let (start, end) = range.bounds();
    let (start_ms, end_ms) = (to_ms(start), to_ms(end));
    let n = range.hours();
    let mut entries = vec![0i64; n];
    let mut phantom = vec![0i64; n];
    let mut exits = vec![0i64; n];

    // Bucketing by `(t - start) / 1 h` in SQL: the range starts at a Shanghai midnight and UTC+8
    // is a whole number of hours, so the buckets are the Shanghai hours.
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT (entry_at - $2) / 3600000 AS h, COUNT(*), \
         CAST(SUM(CASE WHEN state = 'no_exit_seen' THEN 1 ELSE 0 END) AS BIGINT) \
         FROM parking_sessions WHERE park_id = $1 AND entry_at >= $2 AND entry_at < $3 \
         GROUP BY 1",
    )
    .bind(park_id)
    .bind(start_ms)
    .bind(end_ms)
    .fetch_all(&db.pool)
    .await?;
    for (h, count, lost) in rows {
        if let Some(i) = bucket(h, n) {
            entries[i] = count;
            phantom[i] = lost;
        }
    }
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT (exit_at - $2) / 3600000 AS h, COUNT(*) FROM parking_sessions \
         WHERE park_id = $1 AND exit_at >= $2 AND exit_at < $3 GROUP BY 1",
    )
    .bind(park_id)
    .bind(start_ms)
    .bind(end_ms)
    .fetch_all(&db.pool)
    .await?;
    for (h, count) in rows {
        if let Some(i) = bucket(h, n) {
            exits[i] = count;
        }
    }

    // Inside at the start: still open (migration 0006's partial index), or exited after it.
    let open_before: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM parking_sessions \
         WHERE park_id = $1 AND state = 'open' AND entry_at < $2",
    )
    .bind(park_id)
    .bind(start_ms)
    .fetch_one(&db.pool)
    .await?;
    let left_later: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM parking_sessions \
         WHERE park_id = $1 AND exit_at >= $2 AND entry_at < $2",
    )
    .bind(park_id)
    .bind(start_ms)
    .fetch_one(&db.pool)
    .await?;
    let now = Spaces::of(total_spaces, spaces::inside_now(db, park_id).await?);

    let mut inside = open_before + left_later;
    let mut hours = Vec::with_capacity(n);
    for i in 0..n {
        inside += entries[i] - phantom[i] - exits[i];
        // `i` < 31 × 24 hours, so the cast is exact.
        let hour_start = start + TimeDelta::hours(i as i64);
        let mut label = protocol::time::format_mallcoo(hour_start);
        label.truncate("yyyy-MM-dd HH".len());
        hours.push(HourTraffic {
            start: hour_start,
            label,
            entries: entries[i],
            exits: exits[i],
            occupancy: inside,
        });
    }
    let payments_by_channel = payments(db, park_id, start_ms, end_ms).await?;
    let discounts_by_source = discount_figures::by_source(db, park_id, start_ms, end_ms).await?;
    Ok(Traffic {
        park_id,
        from: range.from,
        to: range.to,
        start,
        end,
        totals: Totals {
            entries: entries.iter().sum(),
            exits: exits.iter().sum(),
        },
        hours,
        inside_now: now.inside,
        total_spaces,
        free_now: now.free,
        occupancy_percent: now.occupancy_percent(),
        payments_by_channel,
        discounts_by_source,
        generated_at: Utc::now(),
    })
}

/// The index of hour bucket `h` among `n`, if inside (it always is, by the queries' bounds).
fn bucket(h: i64, n: usize) -> Option<usize> {
    usize::try_from(h).ok().filter(|&i| i < n)
}

/// Payments recorded (`created_at`, what `parking_payments_park_created_idx` orders) in the
/// range, grouped by channel and pay type.
async fn payments(
    db: &Db,
    park_id: i64,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<ChannelPayments>, sqlx::Error> {
    let rows: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT channel, pay_channel, pay_type, COUNT(*), CAST(SUM(amount_fen) AS BIGINT), \
         CAST(SUM(deduction_fen) AS BIGINT) FROM parking_payments \
         WHERE park_id = $1 AND created_at >= $2 AND created_at < $3 \
         GROUP BY channel, pay_channel, pay_type ORDER BY channel, pay_channel, pay_type",
    )
    .bind(park_id)
    .bind(start_ms)
    .bind(end_ms)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(channel, pay_channel, pay_type, count, amount_fen, deduction_fen)| ChannelPayments {
                channel,
                pay_channel,
                pay_type,
                count,
                amount_fen,
                deduction_fen,
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_range_is_whole_shanghai_days_of_at_most_31() {
        let today = d("2026-11-24");
        let r = DayRange::parse(Some("2026-11-20"), Some("2026-11-21"), today).unwrap();
        let (start, end) = r.bounds();
        assert_eq!(start.to_rfc3339(), "2026-11-19T16:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-11-21T16:00:00+00:00");
        assert_eq!(r.hours(), 48);
        assert_eq!(
            DayRange::parse(None, None, today).unwrap(),
            DayRange {
                from: today,
                to: today
            }
        );
        assert!(DayRange::parse(Some("2026-11-01"), Some("2026-12-01"), today).is_ok());
        assert_eq!(
            DayRange::parse(Some("2026-11-01"), Some("2026-12-02"), today),
            Err(RangeError::TooLong(32))
        );
        assert!(matches!(
            DayRange::parse(Some("2026-11-02"), Some("2026-11-01"), today),
            Err(RangeError::Reversed { .. })
        ));
        assert!(matches!(
            DayRange::parse(Some("20261101"), None, today),
            Err(RangeError::BadDate(_))
        ));
    }
}
