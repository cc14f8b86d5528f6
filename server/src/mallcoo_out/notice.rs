//! The entry notice's outbox row: queued in the entry's own transaction, so an entry is never
//! committed without its notice, nor a notice without its entry.
//!
//! A plate-less car (barcode only) gets no notice: `EnterInfoNotify` names the car by `PlateNo`
//! (Mallcoo matches it to a member's registered plate), and a ticket number sent as a plate
//! would be a plate that does not exist. Such a car pays by its barcode through
//! GetParkingPaymentInfo, which needs no notice.

use chrono::{DateTime, Utc};
use protocol::mallcoo::EnterInfoNotify;
use serde::{Deserialize, Serialize};

use crate::outbox::Kind;
use crate::storage::{from_ms, to_ms};

/// Who queued a notice, as the outbox row records it.
pub const REQUESTED_BY: &str = "gate:entry";

/// What the row keeps: the entry. The car park's `ParkCode` and keys are read when sending, so
/// an admin who fixes them (after a 1101, say) fixes the notices still waiting too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingNotice {
    /// The normalised plate.
    pub plate: String,
    /// Entry time, epoch ms UTC (as the session stores it).
    pub entry_at_ms: i64,
    /// The session id, sent as `TradeID`.
    pub session_id: i64,
}

impl PendingNotice {
    /// The notice Mallcoo receives for car park `park_code`.
    pub fn to_notice(&self, park_code: &str) -> EnterInfoNotify {
        EnterInfoNotify {
            park_code: park_code.to_owned(),
            plate_no: self.plate.clone(),
            in_time: from_ms(self.entry_at_ms),
            trade_id: self.session_id.to_string(),
        }
    }
}

/// Queues the entry notice of session `session_id` inside the entry's transaction when the car
/// park has a Mallcoo `ParkCode` and an outbound credential; true when a row was queued.
///
/// One statement: the car park's settings decide in SQL whether a row is inserted, so an entry
/// of a car park without Mallcoo costs no extra read.
pub async fn queue_tx(
    conn: &mut sqlx::AnyConnection,
    park_id: i64,
    session_id: i64,
    plate: Option<&str>,
    entry_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let Some(plate) = plate else {
        // See the module documentation: no plate, no notice.
        return Ok(false);
    };
    let pending = PendingNotice {
        plate: plate.to_owned(),
        entry_at_ms: to_ms(entry_at),
        session_id,
    };
    let request = serde_json::to_string(&pending).expect("plain fields serialise");
    // `WHERE` before `ON CONFLICT` also keeps SQLite from reading the conflict clause as a join's.
    let done = sqlx::query(
        "INSERT INTO outbox (park_id, kind, dedupe_key, plate, summary, request_json, requested_by, state, attempts, next_attempt_at, created_at, updated_at) \
         SELECT id, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8, $8 FROM car_parks \
         WHERE id = $1 AND mallcoo_park_code IS NOT NULL AND mallcoo_park_code <> '' \
         AND mallcoo_out_credential_id IS NOT NULL \
         ON CONFLICT (park_id, kind, dedupe_key) DO NOTHING",
    )
    .bind(park_id)
    .bind(Kind::EnterNotice.as_str())
    .bind(session_id.to_string())
    .bind(plate)
    .bind(format!("入场通知 {plate}"))
    .bind(request)
    .bind(REQUESTED_BY)
    .bind(to_ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_entry_becomes_the_notice_in_shanghai_time() {
        let pending = PendingNotice {
            plate: "沪A68688".into(),
            entry_at_ms: to_ms("2026-11-23T18:00:00Z".parse().unwrap()),
            session_id: 42,
        };
        let body = pending.to_notice("P001").to_body();
        assert_eq!(
            body,
            r#"{"ParkCode":"P001","PlateNo":"沪A68688","InTime":"2026-11-24 02:00:00","TradeID":"42"}"#
        );
        let back: PendingNotice =
            serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();
        assert_eq!(back, pending);
    }
}
