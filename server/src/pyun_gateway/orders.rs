//! P云's fee orders (D9): billing mints one naming the amounts it quoted, or gives the open one
//! again when nothing changed; only the newest open order of a stay is payable.

use chrono::{DateTime, Utc};
use protocol::ledger::Figure;
use sqlx::AnyConnection;

use crate::storage::to_ms;
use crate::tokens;

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Order {
    /// Row id.
    pub id: i64,
    /// Its stay.
    pub session_id: i64,
    /// The number P云 pays against.
    pub parking_order: String,
    /// What it quoted (fen).
    pub total_fen: i64,
    /// The discounts' worth it quoted.
    pub free_fen: i64,
    /// Paid before it.
    pub paid_fen: i64,
    /// Due when it was quoted.
    pub pay_fen: i64,
    /// `open`, `paid` or `revoked`.
    pub state: String,
    /// P云's serial once paid.
    pub pay_serial: Option<String>,
}

impl Order {
    /// Whether it quoted exactly this figure (then a new billing call gives it again).
    pub fn quotes(&self, f: &Figure) -> bool {
        (self.total_fen, self.free_fen, self.paid_fen, self.pay_fen)
            == (f.charge, f.discount_worth, f.paid, f.owed)
    }
}

const COLUMNS: &str =
    "id, session_id, parking_order, total_fen, free_fen, paid_fen, pay_fen, state, pay_serial";

/// The stay's newest order: built once, not per billing call.
static NEWEST: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM pyun_parking_orders WHERE session_id = $1 ORDER BY id DESC LIMIT 1"
    )
});

/// The stay's newest order, in whatever state.
pub async fn newest(
    conn: &mut AnyConnection,
    session_id: i64,
) -> Result<Option<Order>, sqlx::Error> {
    sqlx::query_as::<_, Order>(NEWEST.as_str())
        .bind(session_id)
        .fetch_optional(conn)
        .await
}

/// [`newest`] on a connection of the thread's reader (billing's repeated calls are P云's hot
/// path; see [`crate::storage::HotReader`]).
pub fn newest_hot(conn: &rusqlite::Connection, session_id: i64) -> rusqlite::Result<Option<Order>> {
    let mut stmt = conn.prepare_cached(&NEWEST)?;
    let mut rows = stmt.query_map(rusqlite::params![session_id], |r| {
        Ok(Order {
            id: r.get(0)?,
            session_id: r.get(1)?,
            parking_order: r.get(2)?,
            total_fen: r.get(3)?,
            free_fen: r.get(4)?,
            paid_fen: r.get(5)?,
            pay_fen: r.get(6)?,
            state: r.get(7)?,
            pay_serial: r.get(8)?,
        })
    })?;
    rows.next().transpose()
}

/// Order `parking_order` of car park `park_id`.
pub async fn by_number(
    conn: &mut AnyConnection,
    park_id: i64,
    parking_order: &str,
) -> Result<Option<Order>, sqlx::Error> {
    sqlx::query_as::<_, Order>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM pyun_parking_orders WHERE park_id = $1 AND parking_order = $2"
    )))
    .bind(park_id)
    .bind(parking_order)
    .fetch_optional(conn)
    .await
}

/// Revokes the stay's open orders (a new order, discount or payment supersedes them).
pub async fn void_open(
    conn: &mut AnyConnection,
    session_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE pyun_parking_orders SET state = 'revoked', updated_at = $1 \
         WHERE session_id = $2 AND state = 'open'",
    )
    .bind(to_ms(now))
    .bind(session_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Revokes order `id` (superseded, or the car left).
pub async fn revoke(
    conn: &mut AnyConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE pyun_parking_orders SET state = 'revoked', updated_at = $1 \
         WHERE id = $2 AND state = 'open'",
    )
    .bind(to_ms(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks order `id` paid by `pay_serial` with payment `payment_id`.
pub async fn mark_paid(
    conn: &mut AnyConnection,
    id: i64,
    pay_serial: &str,
    payment_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE pyun_parking_orders SET state = 'paid', pay_serial = $1, payment_id = $2, \
         updated_at = $3 WHERE id = $4",
    )
    .bind(pay_serial)
    .bind(payment_id)
    .bind(to_ms(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Mints a new open order quoting `figure` for the stay; its number is unique in the car park
/// (the stay's id and random hex) and never reused.
pub async fn mint(
    conn: &mut AnyConnection,
    park_id: i64,
    session_id: i64,
    figure: &Figure,
    now: DateTime<Utc>,
) -> Result<Order, sqlx::Error> {
    let number = format!("PO{session_id}-{}", tokens::random_hex(6).to_uppercase());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO pyun_parking_orders (park_id, session_id, parking_order, total_fen, \
         free_fen, paid_fen, pay_fen, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $8) RETURNING id",
    )
    .bind(park_id)
    .bind(session_id)
    .bind(&number)
    .bind(figure.charge)
    .bind(figure.discount_worth)
    .bind(figure.paid)
    .bind(figure.owed)
    .bind(to_ms(now))
    .fetch_one(conn)
    .await?;
    Ok(Order {
        id,
        session_id,
        parking_order: number,
        total_fen: figure.charge,
        free_fen: figure.discount_worth,
        paid_fen: figure.paid,
        pay_fen: figure.owed,
        state: "open".to_owned(),
        pay_serial: None,
    })
}
