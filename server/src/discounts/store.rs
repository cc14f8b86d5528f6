//! The `parking_discounts` rows: inserted once per (car park, source, source key), read back as
//! views. Every statement runs on a connection the caller chooses (usually a transaction's).

use chrono::{DateTime, Utc};
use protocol::ledger::DiscountKind;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::view::DiscountView;
use crate::storage::{from_ms, to_ms};

/// Where a discount came from; each source has its own key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Our machine API (`discount_id`).
    Api,
    /// A property manager's waiver (人工减免) on the stay's page.
    Waiver,
    /// P云's `discount.create` (`grant_serial`).
    Pyun,
    /// A shop's validation.
    Shop,
}

impl Source {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Waiver => "waiver",
            Source::Pyun => "pyun",
            Source::Shop => "shop",
        }
    }
}

/// A discount to record.
#[derive(Debug, Clone)]
pub struct NewDiscount<'a> {
    /// The car park.
    pub park_id: i64,
    /// `None` for a `free_window` (it belongs to the plate).
    pub session_id: Option<i64>,
    /// The normalised plate, if any.
    pub plate: Option<&'a str>,
    /// Where it came from.
    pub source: Source,
    /// The source's key (`discount_id`, `grant_serial`, …).
    pub source_key: &'a str,
    /// What it takes off.
    pub kind: DiscountKind,
    /// Who gave it, as people and Mallcoo read it.
    pub label: &'a str,
    /// Why, if said.
    pub reason: Option<&'a str>,
    /// `key:<prefix>`, `user:<name>`, `pyun`.
    pub created_by: &'a str,
    /// When it was given.
    pub granted_at: DateTime<Utc>,
    /// SHA-256 (hex) of the request that created it.
    pub request_digest: &'a str,
}

/// Inserts `d` unless its (car park, source, key) exists: the new row's id, or `None` when
/// another request recorded that key first (PostgreSQL waits for that request to commit).
pub async fn insert_once(
    conn: &mut AnyConnection,
    d: &NewDiscount<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    let now = to_ms(Utc::now());
    sqlx::query_scalar(
        "INSERT INTO parking_discounts (park_id, session_id, plate, source, source_key, kind, \
         value, label, reason, created_by, state, granted_at, request_digest, created_at, \
         updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $12, $13, $13) \
         ON CONFLICT (park_id, source, source_key) DO NOTHING RETURNING id",
    )
    .bind(d.park_id)
    .bind(d.session_id)
    .bind(d.plate)
    .bind(d.source.as_str())
    .bind(d.source_key)
    .bind(d.kind.name())
    .bind(d.kind.value())
    .bind(d.label)
    .bind(d.reason)
    .bind(d.created_by)
    .bind(to_ms(d.granted_at))
    .bind(d.request_digest)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// A recorded key: its row, the digest of the request that created it and the answer given.
#[derive(Debug, Clone)]
pub(super) struct Recorded {
    pub id: i64,
    pub session_id: Option<i64>,
    pub plate: Option<String>,
    pub request_digest: String,
    pub answer_json: Option<String>,
}

/// The discount recorded under `key` from `source` at car park `park_id`.
pub(super) async fn find_by_key(
    conn: &mut AnyConnection,
    park_id: i64,
    source: Source,
    key: &str,
) -> Result<Option<Recorded>, sqlx::Error> {
    let row = sqlx::query_as::<_, (i64, Option<i64>, Option<String>, String, Option<String>)>(
        "SELECT id, session_id, plate, request_digest, answer_json FROM parking_discounts \
         WHERE park_id = $1 AND source = $2 AND source_key = $3",
    )
    .bind(park_id)
    .bind(source.as_str())
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Recorded {
        id: r.0,
        session_id: r.1,
        plate: r.2,
        request_digest: r.3,
        answer_json: r.4,
    }))
}

/// Stores the answer given for discount `id`, to be given again to every retry.
pub(super) async fn keep_answer(
    conn: &mut AnyConnection,
    id: i64,
    answer: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE parking_discounts SET answer_json = $1 WHERE id = $2")
        .bind(answer)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

const VIEW_COLUMNS: &str = "id, source_key, source, session_id, plate, kind, value, label, reason, \
     created_by, state, granted_at, used_at, revoked_at, worth_fen";

type ViewRow = (
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
    String,
    i64,
    String,
    Option<String>,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn view(r: ViewRow) -> DiscountView {
    let description = DiscountKind::from_parts(&r.5, Some(r.6))
        .map(DiscountKind::describe)
        .unwrap_or_else(|_| format!("{} {}", r.5, r.6));
    DiscountView {
        id: r.0,
        discount_id: r.1,
        source: r.2,
        session_id: r.3,
        plate: r.4,
        kind: r.5,
        value: r.6,
        description,
        label: r.7,
        reason: r.8,
        created_by: r.9,
        state: r.10,
        granted_at: from_ms(r.11),
        used_at: r.12.map(from_ms),
        revoked_at: r.13.map(from_ms),
        worth_fen: r.14,
    }
}

/// Discount `id` as the API shows it.
pub(super) async fn view_by_id(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<DiscountView, sqlx::Error> {
    let row = sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
        "SELECT {VIEW_COLUMNS} FROM parking_discounts WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(view(row))
}

/// Every discount of stay `session_id` — revoked ones too — and the free windows of its plate at
/// car park `park_id` that began before `until`, in recorded order (the stay's page).
pub async fn views_of_stay(
    conn: &mut AnyConnection,
    park_id: i64,
    session_id: i64,
    plate: Option<&str>,
    until: DateTime<Utc>,
) -> Result<Vec<DiscountView>, sqlx::Error> {
    let rows = sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
        "SELECT {VIEW_COLUMNS} FROM parking_discounts WHERE session_id = $1 \
         UNION ALL \
         SELECT {VIEW_COLUMNS} FROM parking_discounts WHERE park_id = $2 AND plate = $3 \
         AND kind = 'free_window' AND session_id IS NULL AND granted_at < $4 \
         ORDER BY 1"
    )))
    .bind(session_id)
    .bind(park_id)
    .bind(plate)
    .bind(to_ms(until))
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(view).collect())
}
