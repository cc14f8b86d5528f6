//! GetTraffic (PROTOCOLS.md §2.4): entries and exits of a car park in `[startTime, endTime)`.
//!
//! Counted from the sessions: an entry is a session's `entry_at`, an exit its `exit_at` (set
//! only by an exit gate event, so a session closed as `no_exit_seen` counts no exit). Both are
//! range scans of the `(park_id, entry_at)` / `(park_id, exit_at)` indexes.

use std::ops::Range;

use chrono::{DateTime, Utc};
use protocol::mallcoo::{TrafficCounts, TrafficRequest};

use super::Refusal;
use super::decode::rule_message;
use crate::storage::{Db, to_ms};

/// Entries and exits of car park `park_id` with their time in `window` (start included).
pub async fn counts(
    db: &Db,
    park_id: i64,
    window: &Range<DateTime<Utc>>,
) -> Result<TrafficCounts, sqlx::Error> {
    let (start, end) = (to_ms(window.start), to_ms(window.end));
    let entries: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM parking_sessions \
         WHERE park_id = $1 AND entry_at >= $2 AND entry_at < $3",
    )
    .bind(park_id)
    .bind(start)
    .bind(end)
    .fetch_one(&db.pool)
    .await?;
    let exits: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM parking_sessions \
         WHERE park_id = $1 AND exit_at >= $2 AND exit_at < $3",
    )
    .bind(park_id)
    .bind(start)
    .bind(end)
    .fetch_one(&db.pool)
    .await?;
    Ok(TrafficCounts {
        in_num: u64::try_from(entries).unwrap_or(0),
        out_num: u64::try_from(exits).unwrap_or(0),
    })
}

/// Answers a traffic query for car park `park_id`.
pub async fn answer(db: &Db, park_id: i64, req: &TrafficRequest) -> Result<TrafficCounts, Refusal> {
    let window = req
        .validate()
        .map_err(|e| Refusal::refused(rule_message(&e)))?;
    Ok(counts(db, park_id, &window).await?)
}
