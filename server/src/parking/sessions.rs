//! The sessions store: open at entry, close at exit, and the anomalies of events that fit none.

use chrono::{DateTime, Utc};
use protocol::quote::vip_note;
use protocol::tariff::Tariff;
use serde::Serialize;
use sqlx::{Any, AssertSqlSafe, Transaction};

use super::ParkingError;
use super::stay::stay_by_id;
use crate::discounts;
use crate::mallcoo_out;
use crate::pyun_upload;
use crate::storage::{Db, from_ms, lock_park, to_ms, unique_violation};
use crate::tokens;

/// How often an entry is retried when a concurrent entry of the same plate won the race.
const ENTRY_ATTEMPTS: usize = 5;

// Dynamic SQL below only splices these constant column lists and names, never input.
const COLUMNS: &str = "id, plate, plate_color, barcode, entry_at, entry_gate, exit_at, exit_gate, \
     state, fee_due_fen, vip";

/// One parking session as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Session id.
    pub id: i64,
    /// The normalised plate; absent for a plate-less car.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
    /// P云's plate colour code, if the gate sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate_color: Option<i64>,
    /// The ticket number of a plate-less car (or one the gate sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    /// Entry time, RFC 3339 UTC.
    pub entry_at: DateTime<Utc>,
    /// The entry gate's name, if sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_gate: Option<String>,
    /// Exit time; absent while open or when no exit was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_at: Option<DateTime<Utc>>,
    /// The exit gate's name, if sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_gate: Option<String>,
    /// `open`, `closed` or `no_exit_seen` (closed by a later entry of the same plate).
    pub state: String,
    /// Fen due at exit; absent until closed by an exit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_due_fen: Option<i64>,
    /// A VIP record covered part or all of the stay (known at exit).
    pub vip: bool,
}

type SessionRow = (
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
    Option<i64>,
    i64,
);

fn view(r: SessionRow) -> SessionView {
    SessionView {
        id: r.0,
        plate: r.1,
        plate_color: r.2,
        barcode: r.3,
        entry_at: from_ms(r.4),
        entry_gate: r.5,
        exit_at: r.6.map(from_ms),
        exit_gate: r.7,
        state: r.8,
        fee_due_fen: r.9,
        vip: r.10 != 0,
    }
}

/// An entry to record.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The normalised plate; `None` for a plate-less car.
    pub plate: Option<String>,
    /// P云's plate colour code.
    pub plate_color: Option<i64>,
    /// The gate's ticket number; `None` with no plate: one is issued.
    pub barcode: Option<String>,
    /// When the car entered.
    pub at: DateTime<Utc>,
    /// The entry gate's name.
    pub gate: Option<String>,
}

/// What an entry did.
#[derive(Debug, Clone)]
pub struct Entered {
    /// The new open session.
    pub session: SessionView,
    /// The plate's previous open session, now `no_exit_seen`.
    pub closed_previous: Option<SessionView>,
    /// An entry notice for Mallcoo was queued in the outbox with the session (wake the worker).
    pub notice_queued: bool,
    /// An entry upload for P云 was queued in the outbox with the session (wake the worker).
    pub upload_queued: bool,
}

/// Which open session an exit names.
#[derive(Debug, Clone)]
pub enum SessionKey {
    /// By normalised plate.
    Plate(String),
    /// By barcode (ticket number).
    Barcode(String),
}

/// An exit that matched no open session, as recorded for staff.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Anomaly {
    /// Anomaly id.
    pub id: i64,
    /// `exit_without_entry`.
    pub kind: String,
}

/// What an exit did.
#[derive(Debug, Clone)]
pub enum Exited {
    /// The open session, now closed with its fee.
    Closed(SessionView),
    /// No open session: recorded as an anomaly.
    Anomaly(Anomaly),
}

/// Records an entry at car park `park_id`: a plate's open session, if any, becomes
/// `no_exit_seen` in the same transaction. Plated entries of one car park are serialised by a lock
/// on its row, so concurrent entries of one plate close each other in turn and exactly one stays
/// open; the partial unique index is the backstop, and a lost race (or an issued barcode that
/// collides) is retried.
pub async fn enter(db: &Db, park_id: i64, e: NewEntry) -> Result<Entered, ParkingError> {
    let issue = e.plate.is_none() && e.barcode.is_none();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let barcode = if issue {
            Some(issue_barcode(e.at))
        } else {
            e.barcode.clone()
        };
        let _turn = db.write_turn().await;
        let mut tx = db.pool.begin().await?;
        let result = enter_tx(&mut tx, park_id, &e, barcode.as_deref()).await;
        let result = match result {
            Ok(done) => tx.commit().await.map(|()| done),
            Err(err) => Err(err),
        };
        match result {
            Ok(done) => return Ok(done),
            Err(err) => {
                let constraint = unique_violation(&err);
                let retry = attempt < ENTRY_ATTEMPTS
                    && match constraint.as_deref() {
                        Some(c) if c.contains("barcode") => issue,
                        Some(_) => e.plate.is_some(),
                        None => false,
                    };
                if retry {
                    tracing::debug!(park = park_id, attempt, "entry lost a race; retrying");
                    continue;
                }
                if constraint.is_some_and(|c| c.contains("barcode")) {
                    return Err(ParkingError::BarcodeTaken(barcode.unwrap_or_default()));
                }
                return Err(err.into());
            }
        }
    }
}

async fn enter_tx(
    tx: &mut Transaction<'static, Any>,
    park_id: i64,
    e: &NewEntry,
    barcode: Option<&str>,
) -> Result<Entered, sqlx::Error> {
    let now = to_ms(Utc::now());
    if e.plate.is_some() {
        // Without it, concurrent entries of one plate on PostgreSQL each miss the others'
        // uncommitted sessions, and all but one lose on the unique index, round after round.
        lock_park(tx, park_id).await?;
    }
    let closed_previous = match &e.plate {
        Some(plate) => sqlx::query_as::<_, SessionRow>(AssertSqlSafe(format!(
            "UPDATE parking_sessions SET state = 'no_exit_seen', updated_at = $1 \
             WHERE park_id = $2 AND plate = $3 AND state = 'open' RETURNING {COLUMNS}"
        )))
        .bind(now)
        .bind(park_id)
        .bind(plate)
        .fetch_optional(&mut **tx)
        .await?
        .map(view),
        None => None,
    };
    let row = sqlx::query_as::<_, SessionRow>(AssertSqlSafe(format!(
        "INSERT INTO parking_sessions (park_id, plate, plate_color, barcode, entry_at, entry_gate, \
         state, vip, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'open', 0, $7, $7) RETURNING {COLUMNS}"
    )))
    .bind(park_id)
    .bind(e.plate.as_deref())
    .bind(e.plate_color)
    .bind(barcode)
    .bind(to_ms(e.at))
    .bind(e.gate.as_deref())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    if let Some(prev) = &closed_previous {
        tracing::info!(
            park = park_id,
            session = prev.id,
            "open session closed by a new entry"
        );
    }
    let session = view(row);
    // Same transaction: the notice exists exactly when the entry does (§2.5, via the outbox).
    let notice_queued = mallcoo_out::queue_tx(
        tx,
        park_id,
        session.id,
        session.plate.as_deref(),
        session.entry_at,
        from_ms(now),
    )
    .await?;
    // Same transaction again: the entry upload exists exactly when the entry does (§4.2), after
    // the leave of the stay it closed, so P云 never holds two stays of one car.
    let mut upload_queued = false;
    if let Some(prev) = &closed_previous {
        upload_queued |=
            pyun_upload::queue::queue_superseded_leave_tx(tx, park_id, prev, e.at, from_ms(now))
                .await?;
    }
    upload_queued |= pyun_upload::queue_enter_tx(tx, park_id, &session, from_ms(now)).await?;
    Ok(Entered {
        session,
        closed_previous,
        notice_queued,
        upload_queued,
    })
}

/// Closes open session `session_id` at `at` in `tx`. The session is locked first, so a payment or
/// a discount change of the stay waits: the fee due, the discounts marked used and the leave
/// upload (when the car park is on P云 car-park access) are those of one moment. `None` when it
/// is no longer open.
async fn close(
    tx: &mut Transaction<'static, Any>,
    park_id: i64,
    session_id: i64,
    tariff: &Tariff,
    at: DateTime<Utc>,
    gate: Option<&str>,
) -> Result<Option<SessionView>, ParkingError> {
    let locked = sqlx::query(
        "UPDATE parking_sessions SET updated_at = updated_at WHERE id = $1 AND state = 'open'",
    )
    .bind(session_id)
    .execute(&mut **tx)
    .await?;
    if locked.rows_affected() == 0 {
        return Ok(None);
    }
    let Some(stay) = stay_by_id(tx, park_id, session_id).await? else {
        return Ok(None);
    };
    let ledger = stay.ledger(tariff);
    let figure = protocol::ledger::figure(&ledger, at)?;
    let worths = protocol::ledger::worths(&ledger, at)?;
    let vip = stay
        .vip
        .as_ref()
        .is_some_and(|v| vip_note(v, stay.entry, figure.billing_time).is_some());
    let row = sqlx::query_as::<_, SessionRow>(AssertSqlSafe(format!(
        "UPDATE parking_sessions SET state = 'closed', exit_at = $1, exit_gate = $2, \
         fee_due_fen = $3, vip = $4, updated_at = $5 \
         WHERE id = $6 AND state = 'open' RETURNING {COLUMNS}"
    )))
    .bind(to_ms(at))
    .bind(gate)
    .bind(figure.owed)
    .bind(i64::from(vip))
    .bind(to_ms(Utc::now()))
    .bind(session_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(closed) = row.map(view) else {
        return Ok(None);
    };
    discounts::mark_used(tx, &stay, &worths, at).await?;
    // The figure the gate charged, uploaded in the exit's transaction (§4.3).
    pyun_upload::queue_leave_tx(tx, park_id, &closed, at, &figure, Utc::now()).await?;
    Ok(Some(closed))
}

/// A fresh ticket number: `T` + epoch seconds + 6 random hex digits; unique per car park by index.
fn issue_barcode(at: DateTime<Utc>) -> String {
    format!(
        "T{}{}",
        at.timestamp(),
        tokens::random_hex(3).to_uppercase()
    )
}

/// The open session of `key` at car park `park_id`, if any.
pub async fn find_open(
    db: &Db,
    park_id: i64,
    key: &SessionKey,
) -> Result<Option<SessionView>, sqlx::Error> {
    let (column, value) = match key {
        SessionKey::Plate(p) => ("plate", p),
        SessionKey::Barcode(b) => ("barcode", b),
    };
    let row = sqlx::query_as::<_, SessionRow>(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM parking_sessions \
         WHERE park_id = $1 AND {column} = $2 AND state = 'open'"
    )))
    .bind(park_id)
    .bind(value)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(view))
}

/// Session `id`, in whatever state and car park.
pub async fn session_by_id(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> Result<Option<SessionView>, sqlx::Error> {
    let row = sqlx::query_as::<_, SessionRow>(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM parking_sessions WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(view))
}

/// Records an exit at car park `park_id`: closes the open session of `key` with what it owes at
/// `at` (the stay's figure, PROTOCOLS.md §5.1) and marks its discounts used, or records an
/// `exit_without_entry` anomaly when there is none.
pub async fn exit(
    db: &Db,
    park_id: i64,
    tariff: &Tariff,
    key: &SessionKey,
    at: DateTime<Utc>,
    gate: Option<&str>,
) -> Result<Exited, ParkingError> {
    if let Some(open) = find_open(db, park_id, key).await? {
        if at < open.entry_at {
            return Err(ParkingError::ExitBeforeEntry {
                entry: open.entry_at,
                exit: at,
            });
        }
        let _turn = db.write_turn().await;
        let mut tx = db.pool.begin().await?;
        if let Some(closed) = close(&mut tx, park_id, open.id, tariff, at, gate).await? {
            tx.commit().await?;
            tracing::info!(
                park = park_id,
                session = closed.id,
                due = closed.fee_due_fen,
                "car exited"
            );
            return Ok(Exited::Closed(closed));
        }
        // A concurrent exit or entry closed it meanwhile: this exit matches nothing.
    }
    let (plate, barcode) = match key {
        SessionKey::Plate(p) => (Some(p.as_str()), None),
        SessionKey::Barcode(b) => (None, Some(b.as_str())),
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO gate_anomalies (park_id, kind, plate, barcode, at, gate, created_at) \
         VALUES ($1, 'exit_without_entry', $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(park_id)
    .bind(plate)
    .bind(barcode)
    .bind(to_ms(at))
    .bind(gate)
    .bind(to_ms(Utc::now()))
    .fetch_one(&db.pool)
    .await?;
    tracing::warn!(park = park_id, anomaly = id, "exit without an open session");
    Ok(Exited::Anomaly(Anomaly {
        id,
        kind: "exit_without_entry".to_owned(),
    }))
}
