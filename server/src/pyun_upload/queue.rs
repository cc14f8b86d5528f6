//! Queues a stay's uploads in the gate event's own transaction: an entry or exit of a car park on
//! P云 car-park access is never committed without its upload, nor an upload without its event.
//!
//! The dedupe keys name the stay (`enter:<session>`, `leave:<session>`), so each is queued once
//! whatever retries the gate makes; the outbox's lease query holds a leave back while its entry
//! is still `pending` or `sending` (one queue per stay, §4.3).

use chrono::{DateTime, Utc};
use protocol::ledger::Figure;
use protocol::tariff::Tariff;
use sqlx::AnyConnection;

use super::fields::{StoredPayment, enter_fields, leave_fields};
use crate::outbox::Kind;
use crate::parking::SessionView;
use crate::parking::spaces::{self, Spaces};
use crate::parking::stay::stay_by_id;
use crate::storage::{from_ms, to_ms};
use crate::vip::records::window_of;

/// Who queued an entry upload, as the outbox row records it.
pub const REQUESTED_BY_ENTRY: &str = "gate:entry";
/// Who queued a leave upload.
pub const REQUESTED_BY_EXIT: &str = "gate:exit";
/// Who queued the leave upload of a stay its plate's next entry closed.
pub const REQUESTED_BY_NEXT_ENTRY: &str = "gate:next-entry";

/// The dedupe key of stay `session_id`'s entry upload.
pub fn enter_key(session_id: i64) -> String {
    format!("enter:{session_id}")
}

/// The dedupe key of stay `session_id`'s leave upload.
pub fn leave_key(session_id: i64) -> String {
    format!("leave:{session_id}")
}

/// The car park's P云 car-park settings, when access is on.
struct Access {
    park_uuid: String,
    total_spaces: Option<i64>,
}

/// Queues the entry upload of `session` (just inserted) when car park `park_id` is on P云
/// car-park access; true when a row was queued.
pub async fn queue_enter_tx(
    conn: &mut AnyConnection,
    park_id: i64,
    session: &SessionView,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let Some(access) = access(conn, park_id).await? else {
        return Ok(false);
    };
    let vip = vip_at_entry(conn, park_id, session).await?;
    let spaces = spaces_now(conn, park_id, access.total_spaces).await?;
    let fields = enter_fields(session, vip, &access.park_uuid, spaces);
    let row = Row {
        kind: Kind::PyunEnter,
        dedupe_key: enter_key(session.id),
        summary: format!("P云入场上传 {}", who(session)),
        request_json: serde_json::to_string(&fields).expect("plain fields serialise"),
        requested_by: REQUESTED_BY_ENTRY,
    };
    insert(conn, park_id, session, &row, now).await
}

/// Queues the leave upload of `session`, just closed at `exit` with the ledger's `figure`, when
/// car park `park_id` is on P云 car-park access; true when a row was queued.
pub async fn queue_leave_tx(
    conn: &mut AnyConnection,
    park_id: i64,
    session: &SessionView,
    exit: DateTime<Utc>,
    figure: &Figure,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let Some(access) = access(conn, park_id).await? else {
        return Ok(false);
    };
    let row = leave_row(
        conn,
        park_id,
        &access,
        session,
        exit,
        figure,
        REQUESTED_BY_EXIT,
    )
    .await?;
    insert(conn, park_id, session, &row, now).await
}

/// The leave upload row of `session`, left at `exit` with `figure`, for a car park on `access`,
/// queued by `requested_by`.
async fn leave_row(
    conn: &mut AnyConnection,
    park_id: i64,
    access: &Access,
    session: &SessionView,
    exit: DateTime<Utc>,
    figure: &Figure,
    requested_by: &'static str,
) -> Result<Row, sqlx::Error> {
    let payments = payments(conn, session.id).await?;
    let settled = payments
        .iter()
        .fold(0i64, |sum, p| sum.saturating_add(p.settled()));
    if settled != figure.paid {
        // Both come from this transaction, after the session's row was locked: never expected.
        tracing::error!(
            park = park_id,
            session = session.id,
            settled,
            paid = figure.paid,
            "the stay's payments do not add up to the figure's; uploading the figure"
        );
    }
    let spaces = spaces_now(conn, park_id, access.total_spaces).await?;
    let fields = leave_fields(session, exit, &access.park_uuid, spaces, figure, &payments);
    Ok(Row {
        kind: Kind::PyunLeave,
        dedupe_key: leave_key(session.id),
        summary: format!("P云出场上传 {}", who(session)),
        request_json: serde_json::to_string(&fields).expect("plain fields serialise"),
        requested_by,
    })
}

/// Queues the leave upload of `session`, which its plate's next entry at `at` closed as
/// `no_exit_seen`: P云 keeps one stay per car and would otherwise hold this one open forever, so
/// it is uploaded as left when the car came back, with what the ledger says it owed and paid
/// then. True when a row was queued; a car park whose tariff cannot price it queues nothing (the
/// tariff's error is logged; its own exits fail the same way, which a person sees).
pub async fn queue_superseded_leave_tx(
    conn: &mut AnyConnection,
    park_id: i64,
    session: &SessionView,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let Some(access) = access(conn, park_id).await? else {
        return Ok(false);
    };
    let tariff_json: Option<String> =
        sqlx::query_scalar("SELECT tariff_json FROM car_parks WHERE id = $1")
            .bind(park_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(stay) = stay_by_id(conn, park_id, session.id).await? else {
        return Ok(false);
    };
    let left = at.max(session.entry_at);
    let figure = tariff_json
        .as_deref()
        .ok_or_else(|| "the car park is gone".to_owned())
        .and_then(|json| serde_json::from_str::<Tariff>(json).map_err(|e| e.to_string()))
        .and_then(|tariff| stay.figure(&tariff, left).map_err(|e| e.to_string()));
    match figure {
        Ok(figure) => {
            let row = leave_row(
                conn,
                park_id,
                &access,
                session,
                left,
                &figure,
                REQUESTED_BY_NEXT_ENTRY,
            )
            .await?;
            insert(conn, park_id, session, &row, now).await
        }
        Err(e) => {
            tracing::error!(park = park_id, session = session.id, error = %e,
                "a stay closed by its plate's next entry cannot be priced; no leave upload");
            Ok(false)
        }
    }
}

/// The car in words for the row's summary: its plate, else its ticket.
fn who(session: &SessionView) -> String {
    session
        .plate
        .clone()
        .or_else(|| session.barcode.as_ref().map(|b| format!("票号 {b}")))
        .unwrap_or_default()
}

async fn access(conn: &mut AnyConnection, park_id: i64) -> Result<Option<Access>, sqlx::Error> {
    let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT pyun_park_uuid, total_spaces FROM car_parks \
         WHERE id = $1 AND pyun_carpark_credential_id IS NOT NULL",
    )
    .bind(park_id)
    .fetch_optional(&mut *conn)
    .await?;
    // Validation refuses access without a park_uuid; were one missing anyway, the row is queued
    // and sending it reports the car park misconfigured, which a person sees.
    Ok(row.map(|(park_uuid, total_spaces)| Access {
        park_uuid: park_uuid.unwrap_or_default(),
        total_spaces,
    }))
}

/// Whether a VIP record of the plate was valid when the car came in.
async fn vip_at_entry(
    conn: &mut AnyConnection,
    park_id: i64,
    session: &SessionView,
) -> Result<bool, sqlx::Error> {
    let Some(plate) = session.plate.as_deref() else {
        return Ok(false);
    };
    let row: Option<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT vip_type, valid_from, valid_to FROM vip_records WHERE park_id = $1 AND plate = $2",
    )
    .bind(park_id)
    .bind(plate)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row
        .and_then(|(t, from, to)| window_of(t, from, to))
        .is_some_and(|w| w.valid_from <= session.entry_at && session.entry_at < w.valid_until))
}

async fn spaces_now(
    conn: &mut AnyConnection,
    park_id: i64,
    total: Option<i64>,
) -> Result<Option<Spaces>, sqlx::Error> {
    let Some(total) = total else {
        return Ok(None);
    };
    let inside = spaces::inside_now_on(conn, park_id).await?;
    Ok(Some(Spaces::of(Some(total), inside)))
}

/// The stay's payments, oldest first.
async fn payments(
    conn: &mut AnyConnection,
    session_id: i64,
) -> Result<Vec<StoredPayment>, sqlx::Error> {
    type PaymentRow = (
        String,
        String,
        i64,
        Option<i64>,
        Option<String>,
        i64,
        i64,
        i64,
    );
    let rows: Vec<PaymentRow> = sqlx::query_as(
        "SELECT order_no, channel, pay_type, pay_origin, pay_origin_desc, pay_time, amount_fen, \
         deduction_fen FROM parking_payments WHERE session_id = $1 ORDER BY pay_time, id",
    )
    .bind(session_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                order_no,
                channel,
                pay_type,
                pay_origin,
                pay_origin_desc,
                pay_time,
                amount,
                deduction,
            )| {
                StoredPayment {
                    order_no,
                    channel,
                    pay_type,
                    pay_origin,
                    pay_origin_desc,
                    pay_time: from_ms(pay_time),
                    amount,
                    deduction,
                }
            },
        )
        .collect())
}

struct Row {
    kind: Kind,
    dedupe_key: String,
    summary: String,
    request_json: String,
    requested_by: &'static str,
}

async fn insert(
    conn: &mut AnyConnection,
    park_id: i64,
    session: &SessionView,
    row: &Row,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO outbox (park_id, kind, dedupe_key, plate, summary, request_json, requested_by, \
         state, attempts, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8, $8) \
         ON CONFLICT (park_id, kind, dedupe_key) DO NOTHING",
    )
    .bind(park_id)
    .bind(row.kind.as_str())
    .bind(&row.dedupe_key)
    .bind(session.plate.as_deref())
    .bind(&row.summary)
    .bind(&row.request_json)
    .bind(row.requested_by)
    .bind(to_ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests;
