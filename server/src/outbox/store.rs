//! The outbox's SQL: insert once per caller key, lease due rows, record outcomes, recover rows
//! whose instance died, list and reconcile. Every statement is one round trip.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Kind, State};
use crate::storage::{Backend, Db, from_ms, to_ms};

/// A row as read back.
#[derive(Debug, Clone)]
pub struct Item {
    /// Row id.
    pub id: i64,
    /// The car park it is for.
    pub park_id: i64,
    /// What it asks.
    pub kind: Kind,
    /// The caller's idempotency key (`event_id`, `grant_id`).
    pub dedupe_key: String,
    /// The plate, for searching.
    pub plate: Option<String>,
    /// A line for people: the event's subject or the coupon product's name.
    pub summary: String,
    /// What to send, unsigned (the kind's own JSON).
    pub request_json: String,
    /// Who asked (`user:…`, `apikey:…`).
    pub requested_by: String,
    /// Where it is.
    pub state: State,
    /// Attempts started so far.
    pub attempts: u32,
    /// When it is due again (pending rows).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last answer's HTTP status.
    pub http_status: Option<u16>,
    /// The last P云 envelope's fields.
    pub pyun: Option<PyunAnswer>,
    /// Our note on the last attempt (transport error, why it was not sent or not retried).
    pub last_error: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it reached a final state.
    pub finished_at: Option<DateTime<Utc>>,
    /// A person's settlement of an `unknown` row.
    pub reconciliation: Option<Reconciliation>,
    /// The full VIP sync this batch belongs to (VIP batches only; `None`: incremental).
    pub sync_job_id: Option<i64>,
    /// How many rows the request carries (VIP batches only).
    pub row_count: Option<i64>,
}

/// P云's envelope fields kept on a row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PyunAnswer {
    /// P云's `code`.
    pub code: String,
    /// P云's `message`.
    pub message: Option<String>,
    /// P云's `hint`.
    pub hint: Option<String>,
    /// P云's log reference.
    pub seqno: Option<String>,
    /// The coupon's serial on success.
    pub grant_serial: Option<String>,
}

/// How a person settled a row whose outcome was unknown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    /// Who (`user:…`).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// `delivered` or `not_delivered`.
    pub resolution: String,
    /// What they checked.
    pub note: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    park_id: i64,
    kind: String,
    dedupe_key: String,
    plate: Option<String>,
    summary: String,
    request_json: String,
    requested_by: String,
    state: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    http_status: Option<i64>,
    pyun_code: Option<String>,
    pyun_message: Option<String>,
    pyun_hint: Option<String>,
    pyun_seqno: Option<String>,
    grant_serial: Option<String>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
    finished_at: Option<i64>,
    reconciled_by: Option<String>,
    reconciled_at: Option<i64>,
    reconciliation: Option<String>,
    reconcile_note: Option<String>,
    sync_job_id: Option<i64>,
    row_count: Option<i64>,
}

macro_rules! columns {
    () => {
        "id, park_id, kind, dedupe_key, plate, summary, request_json, requested_by, state, attempts, next_attempt_at, http_status, pyun_code, pyun_message, pyun_hint, pyun_seqno, grant_serial, last_error, created_at, updated_at, finished_at, reconciled_by, reconciled_at, reconciliation, reconcile_note, sync_job_id, row_count"
    };
}

/// The same columns qualified with the table, for statements that join `outbox` with another.
macro_rules! columns_of_outbox {
    () => {
        "outbox.id, outbox.park_id, outbox.kind, outbox.dedupe_key, outbox.plate, outbox.summary, outbox.request_json, outbox.requested_by, outbox.state, outbox.attempts, outbox.next_attempt_at, outbox.http_status, outbox.pyun_code, outbox.pyun_message, outbox.pyun_hint, outbox.pyun_seqno, outbox.grant_serial, outbox.last_error, outbox.created_at, outbox.updated_at, outbox.finished_at, outbox.reconciled_by, outbox.reconciled_at, outbox.reconciliation, outbox.reconcile_note, outbox.sync_job_id, outbox.row_count"
    };
}

/// True for a row that may go now as far as ordering goes: a VIP batch only when it is the car
/// park's earliest unfinished one (the `outbox_unfinished_idx` index answers the probe), a leave
/// upload only when its stay's entry upload is not `pending` or `sending` (the unique key
/// answers: `leave:<session>` waits for `enter:<session>`), any other row always.
macro_rules! in_order {
    () => {
        "(outbox.kind NOT IN ('vip_batch', 'pyun_leave') \
         OR (outbox.kind = 'vip_batch' AND NOT EXISTS (SELECT 1 FROM outbox earlier WHERE earlier.park_id = outbox.park_id AND earlier.kind = 'vip_batch' AND earlier.state IN ('pending', 'sending') AND earlier.id < outbox.id)) \
         OR (outbox.kind = 'pyun_leave' AND NOT EXISTS (SELECT 1 FROM outbox enter_row WHERE enter_row.park_id = outbox.park_id AND enter_row.kind = 'pyun_enter' AND enter_row.dedupe_key = REPLACE(outbox.dedupe_key, 'leave:', 'enter:') AND enter_row.state IN ('pending', 'sending'))))"
    };
}

impl Row {
    fn into_item(self) -> Item {
        Item {
            id: self.id,
            park_id: self.park_id,
            // Only our own kinds and states are written (the column has a CHECK for states).
            kind: Kind::parse(&self.kind).unwrap_or(Kind::CouponGrant),
            dedupe_key: self.dedupe_key,
            plate: self.plate,
            summary: self.summary,
            request_json: self.request_json,
            requested_by: self.requested_by,
            state: State::parse(&self.state).unwrap_or(State::Unknown),
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            next_attempt_at: self.next_attempt_at.map(from_ms),
            http_status: self.http_status.and_then(|s| u16::try_from(s).ok()),
            pyun: self.pyun_code.map(|code| PyunAnswer {
                code,
                message: self.pyun_message,
                hint: self.pyun_hint,
                seqno: self.pyun_seqno,
                grant_serial: self.grant_serial,
            }),
            last_error: self.last_error,
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
            finished_at: self.finished_at.map(from_ms),
            reconciliation: match (self.reconciled_by, self.reconciled_at) {
                (Some(by), Some(at)) => Some(Reconciliation {
                    by,
                    at: from_ms(at),
                    resolution: self.reconciliation.unwrap_or_default(),
                    note: self.reconcile_note.unwrap_or_default(),
                }),
                _ => None,
            },
            sync_job_id: self.sync_job_id,
            row_count: self.row_count,
        }
    }
}

/// A row to add.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// The car park.
    pub park_id: i64,
    /// What it asks.
    pub kind: Kind,
    /// The caller's idempotency key.
    pub dedupe_key: String,
    /// The plate.
    pub plate: Option<String>,
    /// A line for people.
    pub summary: String,
    /// What to send, unsigned.
    pub request_json: String,
    /// Who asked.
    pub requested_by: String,
}

/// A lease: the instance holding it and until when.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The instance's random id.
    pub owner: String,
    /// How long a lease lasts; longer than any one call may take.
    pub duration: TimeDelta,
}

/// The result of an insert: the row, and whether this call created it.
#[derive(Debug, Clone)]
pub struct Inserted {
    /// The row (the first one, when the key was already used).
    pub item: Item,
    /// False when a row with the same car park, kind and key existed.
    pub created: bool,
}

/// Adds `new` unless its key is taken; with `lease`, the new row starts leased to us (`sending`,
/// first attempt counted) so the caller delivers it at once without a second write.
pub async fn insert(
    db: &Db,
    new: &NewItem,
    lease: Option<&Lease>,
    now: DateTime<Utc>,
) -> Result<Inserted, sqlx::Error> {
    insert_on(&mut *db.pool.acquire().await?, new, lease, now).await
}

/// `insert` on the caller's connection, so that a row can join a transaction that writes what
/// it stands for (a shop's validation and the quota it used).
pub async fn insert_on(
    conn: &mut sqlx::AnyConnection,
    new: &NewItem,
    lease: Option<&Lease>,
    now: DateTime<Utc>,
) -> Result<Inserted, sqlx::Error> {
    let (state, attempts, next_at, owner, until) = match lease {
        Some(l) => (
            State::Sending,
            1,
            None,
            Some(l.owner.as_str()),
            Some(to_ms(now + l.duration)),
        ),
        None => (State::Pending, 0, Some(to_ms(now)), None, None),
    };
    let created = sqlx::query_as::<_, Row>(concat!(
        "INSERT INTO outbox (park_id, kind, dedupe_key, plate, summary, request_json, requested_by, state, attempts, next_attempt_at, lease_owner, lease_until, created_at, updated_at) ",
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) ",
        "ON CONFLICT (park_id, kind, dedupe_key) DO NOTHING RETURNING ",
        columns!()
    ))
    .bind(new.park_id)
    .bind(new.kind.as_str())
    .bind(&new.dedupe_key)
    .bind(&new.plate)
    .bind(&new.summary)
    .bind(&new.request_json)
    .bind(&new.requested_by)
    .bind(state.as_str())
    .bind(attempts)
    .bind(next_at)
    .bind(owner)
    .bind(until)
    .bind(to_ms(now))
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = created {
        return Ok(Inserted {
            item: row.into_item(),
            created: true,
        });
    }
    let existing = sqlx::query_as::<_, Row>(concat!(
        "SELECT ",
        columns!(),
        " FROM outbox WHERE park_id = $1 AND kind = $2 AND dedupe_key = $3"
    ))
    .bind(new.park_id)
    .bind(new.kind.as_str())
    .bind(&new.dedupe_key)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Inserted {
        item: existing.into_item(),
        created: false,
    })
}

/// The row `id`.
pub async fn get(db: &Db, id: i64) -> Result<Option<Item>, sqlx::Error> {
    let row =
        sqlx::query_as::<_, Row>(concat!("SELECT ", columns!(), " FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(Row::into_item))
}

/// Leases up to `limit` due pending rows to `lease.owner`, counting their attempt.
///
/// PostgreSQL: `FOR UPDATE SKIP LOCKED` lets instances claim disjoint rows concurrently.
/// SQLite has one writer, so the statement is atomic as it stands.
pub async fn claim_due(
    db: &Db,
    lease: &Lease,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Item>, sqlx::Error> {
    // A read first, for the same reason as in `recover_expired`: the idle worker polls.
    let due: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 LIMIT 1",
    )
    .bind(to_ms(now))
    .fetch_optional(&db.pool)
    .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    // A car park's ordered rows (VIP batches) wait for every earlier one of theirs to finish.
    let sql = match db.backend {
        // The pick is a CTE, which PostgreSQL evaluates once: as an `IN (subquery)` the planner
        // may rescan it and lease more than `limit` rows (the kill -9 test caught 64 for 9).
        Backend::Postgres => concat!(
            "WITH picked AS (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $3 AND ",
            in_order!(),
            " ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) ",
            "UPDATE outbox SET state = 'sending', lease_owner = $1, lease_until = $2, attempts = attempts + 1, next_attempt_at = NULL, updated_at = $3 ",
            "FROM picked WHERE outbox.id = picked.id RETURNING ",
            columns_of_outbox!()
        ),
        Backend::Sqlite => concat!(
            "UPDATE outbox SET state = 'sending', lease_owner = $1, lease_until = $2, attempts = attempts + 1, next_attempt_at = NULL, updated_at = $3 ",
            "WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $3 AND ",
            in_order!(),
            " ORDER BY next_attempt_at, id LIMIT $4) ",
            "AND state = 'pending' RETURNING ",
            columns!()
        ),
    };
    let rows = sqlx::query_as::<_, Row>(sql)
        .bind(&lease.owner)
        .bind(to_ms(now + lease.duration))
        .bind(to_ms(now))
        .bind(i64::from(limit))
        .fetch_all(&db.pool)
        .await?;
    let mut items: Vec<Item> = rows.into_iter().map(Row::into_item).collect();
    items.sort_by_key(|i| i.id);
    Ok(items)
}

/// When the next pending row falls due, if any.
pub async fn next_due(db: &Db) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let next: Option<i64> =
        sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'")
            .fetch_one(&db.pool)
            .await?;
    Ok(next.map(from_ms))
}

/// Rows whose lease ran out: their instance died or stalled mid-delivery. Resendable kinds (all
/// but grants) go back to `pending`; grants may have reached P云 and become `unknown` for a
/// person.
/// Returns (requeued, unknown).
pub async fn recover_expired(db: &Db, now: DateTime<Utc>) -> Result<(u64, u64), sqlx::Error> {
    // A read first: nearly always nothing expired, and a read takes no write lock that a
    // request's insert would have to wait for.
    let expired: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE state = 'sending' AND lease_until < $1 LIMIT 1",
    )
    .bind(to_ms(now))
    .fetch_optional(&db.pool)
    .await?;
    if expired.is_none() {
        return Ok((0, 0));
    }
    let requeued = sqlx::query(
        "UPDATE outbox SET state = 'pending', next_attempt_at = $1, lease_owner = NULL, lease_until = NULL, updated_at = $1, \
         last_error = 'the instance sending it stopped before recording an answer; resending (the platform deduplicates it)' \
         WHERE state = 'sending' AND lease_until < $1 AND kind <> $2",
    )
    .bind(to_ms(now))
    .bind(Kind::CouponGrant.as_str())
    .execute(&db.pool)
    .await?
    .rows_affected();
    let unknown = sqlx::query(
        "UPDATE outbox SET state = 'unknown', lease_owner = NULL, lease_until = NULL, updated_at = $1, finished_at = $1, \
         last_error = 'the instance sending it stopped before recording an answer; it may have reached P云, so it is not resent: check P云 and reconcile' \
         WHERE state = 'sending' AND lease_until < $1 AND kind = $2",
    )
    .bind(to_ms(now))
    .bind(Kind::CouponGrant.as_str())
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok((requeued, unknown))
}

/// The outcome of one attempt, to record.
#[derive(Debug, Clone)]
pub struct Finish<'a> {
    /// The new state (`pending` to try again).
    pub state: State,
    /// For `pending`: when.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status, when there was an answer.
    pub http_status: Option<u16>,
    /// P云's envelope fields, when decodable.
    pub pyun: Option<&'a PyunAnswer>,
    /// Our note.
    pub note: Option<&'a str>,
}

/// Records an attempt's outcome, only if `owner` still holds the lease (a row re-leased by
/// another instance after ours expired is theirs to record). False when the lease was lost.
pub async fn finish(
    db: &Db,
    id: i64,
    owner: &str,
    f: &Finish<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let finished_at = f.state.is_final().then(|| to_ms(now));
    let done = sqlx::query(
        "UPDATE outbox SET state = $1, next_attempt_at = $2, lease_owner = NULL, lease_until = NULL, http_status = $3, \
         pyun_code = $4, pyun_message = $5, pyun_hint = $6, pyun_seqno = $7, grant_serial = $8, last_error = $9, \
         updated_at = $10, finished_at = $11 \
         WHERE id = $12 AND state = 'sending' AND lease_owner = $13",
    )
    .bind(f.state.as_str())
    .bind(f.next_attempt_at.map(to_ms))
    .bind(f.http_status.map(i64::from))
    .bind(f.pyun.map(|p| p.code.as_str()))
    .bind(f.pyun.and_then(|p| p.message.as_deref()))
    .bind(f.pyun.and_then(|p| p.hint.as_deref()))
    .bind(f.pyun.and_then(|p| p.seqno.as_deref()))
    .bind(f.pyun.and_then(|p| p.grant_serial.as_deref()))
    .bind(f.note)
    .bind(to_ms(now))
    .bind(finished_at)
    .bind(id)
    .bind(owner)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Settles an `unknown` row after a person checked P云: `delivered` or `failed`. False when the
/// row is not `unknown` (already settled, or never was).
pub async fn reconcile(
    db: &Db,
    id: i64,
    by: &str,
    delivered: bool,
    note: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let state = if delivered {
        State::Delivered
    } else {
        State::Failed
    };
    let done = sqlx::query(
        "UPDATE outbox SET state = $1, reconciled_by = $2, reconciled_at = $3, reconciliation = $4, reconcile_note = $5, updated_at = $3 \
         WHERE id = $6 AND state = 'unknown'",
    )
    .bind(state.as_str())
    .bind(by)
    .bind(to_ms(now))
    .bind(if delivered { "delivered" } else { "not_delivered" })
    .bind(note)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Which rows a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these car parks (`None`: all).
    pub parks: Option<Vec<i64>>,
    /// Only this kind.
    pub kinds: Vec<Kind>,
    /// Only this plate.
    pub plate: Option<String>,
    /// Only this state.
    pub state: Option<State>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Only ids below this (paging, newest first).
    pub before_id: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// Rows matching `filter`, newest first.
///
/// Every condition is written once with "parameter IS NULL OR …", so one literal statement
/// serves every combination; the car-park list is a comma-joined id list matched with a
/// delimiter-safe `LIKE` because the `Any` driver cannot bind arrays.
pub async fn list(db: &Db, filter: &Filter) -> Result<Vec<Item>, sqlx::Error> {
    let parks = filter.parks.as_ref().map(|p| {
        format!(
            ",{},",
            p.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        )
    });
    let kinds = format!(
        ",{},",
        filter
            .kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let rows = sqlx::query_as::<_, Row>(concat!(
        "SELECT ",
        columns!(),
        " FROM outbox WHERE ($1 IS NULL OR $1 LIKE '%,' || CAST(park_id AS TEXT) || ',%') ",
        "AND $2 LIKE '%,' || kind || ',%' ",
        "AND ($3 IS NULL OR plate = $3) AND ($4 IS NULL OR state = $4) ",
        "AND ($5 IS NULL OR created_at >= $5) AND ($6 IS NULL OR created_at < $6) ",
        "AND ($7 IS NULL OR id < $7) ORDER BY id DESC LIMIT $8"
    ))
    .bind(parks)
    .bind(kinds)
    .bind(&filter.plate)
    .bind(filter.state.map(State::as_str))
    .bind(filter.from.map(to_ms))
    .bind(filter.to.map(to_ms))
    .bind(filter.before_id)
    .bind(i64::from(filter.limit))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(Row::into_item).collect())
}

/// A VIP batch to add (see `vip::sync`); its rows are the recharges that will point at it.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    /// The car park.
    pub park_id: i64,
    /// Unique per car park: `inc-<first recharge id>` or `full-<job>-<seq>`.
    pub dedupe_key: &'a str,
    /// A line for people.
    pub summary: &'a str,
    /// The `vip::sync::BatchRequest`, as JSON.
    pub request_json: &'a str,
    /// How many recharges it carries.
    pub row_count: i64,
    /// The full sync it belongs to.
    pub sync_job_id: Option<i64>,
}

/// Adds a pending VIP batch inside the caller's transaction unless its key is taken (another
/// instance batched the same recharges first); its id when created.
pub async fn insert_batch(
    conn: &mut sqlx::AnyConnection,
    b: &NewBatch<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO outbox (park_id, kind, dedupe_key, summary, request_json, requested_by, state, attempts, next_attempt_at, created_at, updated_at, sync_job_id, row_count) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7, $8, $9) \
         ON CONFLICT (park_id, kind, dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(b.park_id)
    .bind(Kind::VipBatch.as_str())
    .bind(b.dedupe_key)
    .bind(b.summary)
    .bind(b.request_json)
    .bind(crate::vip::sync::REQUESTED_BY)
    .bind(to_ms(now))
    .bind(b.sync_job_id)
    .bind(b.row_count)
    .fetch_optional(&mut *conn)
    .await
}

/// Fails the batches of full sync `job` still waiting, after one of its batches ended without
/// being delivered: a later batch must not go out without the ones before it. Returns how many.
pub async fn stop_job(
    db: &Db,
    job: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE outbox SET state = 'failed', next_attempt_at = NULL, last_error = $2, updated_at = $3, finished_at = $3 \
         WHERE sync_job_id = $1 AND state = 'pending'",
    )
    .bind(job)
    .bind(note)
    .bind(to_ms(now))
    .execute(&db.pool)
    .await?
    .rows_affected())
}

/// Puts a car park's P云 uploads (`pyun_enter` / `pyun_leave`) that ended `misconfigured` or
/// `failed` back in line, after an admin fixed the cause; resending is harmless because P云
/// dedupes on `parking_serial`. One statement, so a stay's entry and leave are pending together
/// and the lease's ordering (`in_order!`) holds the leave until its entry is out. Returns how many.
pub async fn requeue_uploads(
    db: &Db,
    park_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    requeue_ended(db, park_id, [Kind::PyunEnter, Kind::PyunLeave], now).await
}

/// Puts car park `park_id`'s rows of the two `kinds` (one kind: given twice) that ended
/// `misconfigured` or `failed` back in line, in one statement; returns how many.
async fn requeue_ended(
    db: &Db,
    park_id: i64,
    kinds: [Kind; 2],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2, finished_at = NULL, \
         last_error = 'resent by an admin' \
         WHERE park_id = $1 AND kind IN ($3, $4) AND state IN ('misconfigured', 'failed')",
    )
    .bind(park_id)
    .bind(to_ms(now))
    .bind(kinds[0].as_str())
    .bind(kinds[1].as_str())
    .execute(&db.pool)
    .await?
    .rows_affected())
}

/// Puts a car park's VIP batches that ended `misconfigured` or `failed` back in line (after an
/// admin fixed the cause); resending is harmless because P云 keys recharges on `pay_partner`.
/// A full sync's first batch is only among them if nothing after it was delivered, so
/// `complete = 1` never follows a delivered batch. Returns how many.
pub async fn requeue_batches(
    db: &Db,
    park_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    requeue_ended(db, park_id, [Kind::VipBatch, Kind::VipBatch], now).await
}
