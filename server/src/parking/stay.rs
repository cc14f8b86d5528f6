//! A stay as the ledger reads it (PROTOCOLS.md §5.1): the session, its plate's VIP record, its
//! payments and the discounts that count (its own, and its plate's free windows), loaded together
//! for every reader of what a car owes — Mallcoo's fee query, a payment, the exit gate, the
//! discount API and the stay's page. The figure itself is `protocol::ledger`'s.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use protocol::ledger::{self, Discount, DiscountKind, Figure, LedgerError};
use protocol::quote::{Payment, VipWindow};
use protocol::tariff::Tariff;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::SessionKey;
use crate::storage::{Db, from_ms};
use crate::vip::records::window_of;

/// One stay with everything its figure depends on but the tariff and the time.
#[derive(Debug, Clone)]
pub struct StayRecord {
    /// Session id.
    pub id: i64,
    /// Entry time.
    pub entry: DateTime<Utc>,
    /// Exit time, once closed by an exit.
    pub exit: Option<DateTime<Utc>>,
    /// The normalised plate (`None` for a plate-less car).
    pub plate: Option<String>,
    /// The ticket number, if any.
    pub barcode: Option<String>,
    /// `open`, `closed` or `no_exit_seen`.
    pub state: String,
    /// The plate's VIP record at the car park, as the fee engine's window.
    pub vip: Option<VipWindow>,
    /// Its payments so far, every channel.
    pub payments: Vec<Payment>,
    /// Its discounts that count (active or used), in recorded order.
    pub discounts: Vec<Discount>,
    /// The stored rows of `discounts`, index for index.
    pub discount_rows: Vec<DiscountRef>,
}

/// Which stored row a counted discount is, and whether it can still be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscountRef {
    /// `parking_discounts.id`.
    pub id: i64,
    /// `active` (true) or `used`.
    pub active: bool,
}

impl StayRecord {
    /// Whether the car is still parked.
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }

    /// The stay as `protocol::ledger` takes it.
    pub fn ledger<'a>(&'a self, tariff: &'a Tariff) -> ledger::Stay<'a> {
        ledger::Stay {
            entry: self.entry,
            tariff,
            vip: self.vip.as_ref(),
            discounts: &self.discounts,
            payments: &self.payments,
        }
    }

    /// When the stay is priced for a question asked at `now`: the exit of a closed stay, else
    /// `now` — never before entry (a gate clock ahead of ours).
    pub fn priced_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.exit.unwrap_or(now).max(self.entry)
    }

    /// The stay's figure for a question asked at `now` (see [`StayRecord::priced_at`]).
    pub fn figure(&self, tariff: &Tariff, now: DateTime<Utc>) -> Result<Figure, LedgerError> {
        ledger::figure(&self.ledger(tariff), self.priced_at(now))
    }
}

/// The session, its plate's VIP record and its payments: one row per payment (at least one).
const SELECT_STAY: &str = "SELECT s.id, s.entry_at, s.exit_at, s.plate, s.barcode, s.state, \
     v.vip_type, v.valid_from, v.valid_to, p.settled_at, p.amount_fen + p.deduction_fen \
     FROM parking_sessions s \
     LEFT JOIN vip_records v ON v.park_id = s.park_id AND v.plate = s.plate \
     LEFT JOIN parking_payments p ON p.session_id = s.id \
     WHERE s.park_id = $1";

/// The discounts that count for a stay: its own, and its plate's free windows (`$2` car park,
/// `$3` plate), each read on its own index.
pub const SELECT_DISCOUNTS: &str = "SELECT id, state, kind, value, granted_at, label \
     FROM parking_discounts WHERE session_id = $1 AND state <> 'revoked' \
     UNION ALL \
     SELECT id, state, kind, value, granted_at, label FROM parking_discounts \
     WHERE park_id = $2 AND plate = $3 AND kind = 'free_window' AND session_id IS NULL \
     AND state <> 'revoked' \
     ORDER BY 1";

/// A row of [`SELECT_STAY`].
pub type StayRow = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// A row of [`SELECT_DISCOUNTS`].
pub type DiscountRow = (i64, String, String, i64, i64, String);

/// The stay of [`SELECT_STAY`]'s rows, without its discounts yet.
fn collect(rows: Vec<StayRow>) -> Option<StayRecord> {
    let first = rows.first()?;
    let vip = first.6.and_then(|t| window_of(t, first.7, first.8));
    let payments = rows
        .iter()
        .filter_map(|r| {
            Some(Payment {
                at: from_ms(r.9?),
                amount: r.10?,
            })
        })
        .collect();
    let first = rows.into_iter().next()?;
    Some(StayRecord {
        id: first.0,
        entry: from_ms(first.1),
        exit: first.2.map(from_ms),
        plate: first.3,
        barcode: first.4,
        state: first.5,
        vip,
        payments,
        discounts: Vec::new(),
        discount_rows: Vec::new(),
    })
}

/// Adds [`SELECT_DISCOUNTS`]' rows to `stay`. A row the ledger cannot read (never written by us)
/// is left out and logged rather than failing every quote of the car.
fn with_discounts(mut stay: StayRecord, rows: Vec<DiscountRow>) -> StayRecord {
    for (id, state, kind, value, granted_at, label) in rows {
        match DiscountKind::from_parts(&kind, Some(value)) {
            Ok(kind) => {
                stay.discounts.push(Discount {
                    kind,
                    granted_at: from_ms(granted_at),
                    source_label: label,
                });
                stay.discount_rows.push(DiscountRef {
                    id,
                    active: state == "active",
                });
            }
            Err(e) => tracing::error!(discount = id, error = %e, "stored discount unreadable"),
        }
    }
    stay
}

/// [`SELECT_STAY`] of the open session by plate, and by barcode: built once, not per fee query.
static OPEN_BY_PLATE: LazyLock<String> =
    LazyLock::new(|| format!("{SELECT_STAY} AND s.plate = $2 AND s.state = 'open'"));
static OPEN_BY_BARCODE: LazyLock<String> =
    LazyLock::new(|| format!("{SELECT_STAY} AND s.barcode = $2 AND s.state = 'open'"));

/// The query that finds an open session by `key`, and the value it binds.
fn open_stay_sql(key: &SessionKey) -> (&'static str, &str) {
    match key {
        SessionKey::Plate(p) => (OPEN_BY_PLATE.as_str(), p),
        SessionKey::Barcode(b) => (OPEN_BY_BARCODE.as_str(), b),
    }
}

/// The open stay of `key` at car park `park_id`: the partial unique indexes on (park_id, plate) of
/// open sessions and on (park_id, barcode) find the session; the unique (park_id, plate) of VIP
/// records, the session index of payments and the discount indexes find the rest. On SQLite the
/// thread's own read-only connection answers (the fee query is the hot path), else the pool.
pub async fn open_stay(
    db: &Db,
    park_id: i64,
    key: &SessionKey,
) -> Result<Option<StayRecord>, sqlx::Error> {
    if let Some(hot) = &db.hot {
        match hot.read(|conn| open_stay_hot(conn, park_id, key)) {
            Ok(stay) => return Ok(stay),
            // The pool can still answer (e.g. the file cannot be opened read-only here).
            Err(e) => {
                tracing::warn!(error = %e, "stay read: the thread's reader failed; using the pool")
            }
        }
    }
    open_stay_pooled(db, park_id, key).await
}

/// [`open_stay`] on a connection of the thread's reader (see [`crate::storage::HotReader`]), for
/// a caller reading more in the same snapshot.
pub fn open_stay_hot(
    conn: &rusqlite::Connection,
    park_id: i64,
    key: &SessionKey,
) -> rusqlite::Result<Option<StayRecord>> {
    let (sql, value) = open_stay_sql(key);
    read_hot(conn, sql, park_id, value)
}

/// [`open_stay`] through the pool.
pub async fn open_stay_pooled(
    db: &Db,
    park_id: i64,
    key: &SessionKey,
) -> Result<Option<StayRecord>, sqlx::Error> {
    let (sql, value) = open_stay_sql(key);
    let mut conn = db.pool.acquire().await?;
    let rows = sqlx::query_as::<_, StayRow>(sql)
        .bind(park_id)
        .bind(value)
        .fetch_all(&mut *conn)
        .await?;
    match collect(rows) {
        Some(stay) => Ok(Some(load_discounts(&mut conn, park_id, stay).await?)),
        None => Ok(None),
    }
}

/// [`open_stay`] through SQLite on this thread (`$1`… are SQLite parameters too).
fn read_hot(
    conn: &rusqlite::Connection,
    sql: &str,
    park_id: i64,
    value: &str,
) -> rusqlite::Result<Option<StayRecord>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(rusqlite::params![park_id, value], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<StayRow>>>()?;
    let Some(stay) = collect(rows) else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(SELECT_DISCOUNTS)?;
    let discounts = stmt
        .query_map(rusqlite::params![stay.id, park_id, stay.plate], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<DiscountRow>>>()?;
    Ok(Some(with_discounts(stay, discounts)))
}

/// When a `no_exit_seen` stay ended: the entry of its plate's next stay at the car park, which
/// closed it (`None` for any other stay). Its figure is priced then, as its leave upload to P云
/// was; priced "now" it would grow for ever.
pub async fn superseded_at(
    conn: &mut AnyConnection,
    park_id: i64,
    stay: &StayRecord,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let (Some(plate), "no_exit_seen") = (&stay.plate, stay.state.as_str()) else {
        return Ok(None);
    };
    let next: Option<i64> = sqlx::query_scalar(
        "SELECT entry_at FROM parking_sessions WHERE park_id = $1 AND plate = $2 AND id > $3 \
         ORDER BY id LIMIT 1",
    )
    .bind(park_id)
    .bind(plate)
    .bind(stay.id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(next.map(from_ms))
}

/// Stay `id` of car park `park_id`, in whatever state, on `conn` (a transaction's, to read what
/// it has locked).
pub async fn stay_by_id(
    conn: &mut AnyConnection,
    park_id: i64,
    id: i64,
) -> Result<Option<StayRecord>, sqlx::Error> {
    let rows = sqlx::query_as::<_, StayRow>(AssertSqlSafe(format!("{SELECT_STAY} AND s.id = $2")))
        .bind(park_id)
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    match collect(rows) {
        Some(stay) => Ok(Some(load_discounts(conn, park_id, stay).await?)),
        None => Ok(None),
    }
}

async fn load_discounts(
    conn: &mut AnyConnection,
    park_id: i64,
    stay: StayRecord,
) -> Result<StayRecord, sqlx::Error> {
    let rows = sqlx::query_as::<_, DiscountRow>(SELECT_DISCOUNTS)
        .bind(stay.id)
        .bind(park_id)
        .bind(stay.plate.as_deref())
        .fetch_all(&mut *conn)
        .await?;
    Ok(with_discounts(stay, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::to_ms;

    /// The thread's reader and the pool read the same stay, with its payments and discounts, and
    /// both see what the pool committed at once.
    #[tokio::test]
    async fn the_threads_reader_sees_what_the_pool_committed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&crate::storage::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        let hot = db.hot.clone().expect("a file database has a thread reader");
        let park: i64 = sqlx::query_scalar(
            "INSERT INTO car_parks (code, name, tariff_json, created_at, updated_at) \
             VALUES ('p', 'P', '{}', 0, 0) RETURNING id",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        let entry = to_ms(Utc::now()) - 3_600_000;
        let session: i64 = sqlx::query_scalar(
            "INSERT INTO parking_sessions (park_id, plate, entry_at, state, vip, created_at, \
             updated_at) VALUES ($1, '沪A12345', $2, 'open', 0, 0, 0) RETURNING id",
        )
        .bind(park)
        .bind(entry)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        let sql = format!("{SELECT_STAY} AND s.plate = $2 AND s.state = 'open'");
        let read = || {
            hot.read(|c| read_hot(c, &sql, park, "沪A12345"))
                .unwrap()
                .unwrap()
        };
        let stay = read();
        assert_eq!((stay.id, to_ms(stay.entry)), (session, entry));
        assert!(stay.payments.is_empty() && stay.discounts.is_empty());

        sqlx::query(
            "INSERT INTO parking_payments (park_id, session_id, order_no, fee_id, pay_time, \
             settled_at, amount_fen, deduction_fen, pay_channel, pay_type, request_digest, \
             answer_json, created_at) VALUES ($1, $2, 'o1', 'f', $3, $3, 700, 300, 0, 3, 'd', \
             '{}', $3)",
        )
        .bind(park)
        .bind(session)
        .bind(entry + 60_000)
        .execute(&db.pool)
        .await
        .unwrap();
        for (key, session_id, kind, state) in [
            ("a", Some(session), "minutes", "active"),
            ("b", None, "free_window", "used"),
            ("c", Some(session), "amount", "revoked"),
        ] {
            sqlx::query(
                "INSERT INTO parking_discounts (park_id, session_id, plate, source, source_key, \
                 kind, value, label, created_by, state, granted_at, request_digest, created_at, \
                 updated_at) VALUES ($1, $2, '沪A12345', 'api', $3, $4, 30, '商户减免', 't', $5, \
                 $6, 'd', 0, 0)",
            )
            .bind(park)
            .bind(session_id)
            .bind(key)
            .bind(kind)
            .bind(state)
            .bind(entry)
            .execute(&db.pool)
            .await
            .unwrap();
        }
        let stay = read();
        assert_eq!(stay.payments.len(), 1);
        assert_eq!(stay.payments[0].amount, 1000);
        let kinds: Vec<_> = stay.discounts.iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            [DiscountKind::Minutes(30), DiscountKind::FreeWindow(30)]
        );
        assert_eq!(
            stay.discount_rows
                .iter()
                .map(|r| r.active)
                .collect::<Vec<_>>(),
            [true, false]
        );
        let pooled = stay_by_id(&mut db.pool.acquire().await.unwrap(), park, session)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pooled.discounts, stay.discounts);
        assert_eq!(pooled.payments, stay.payments);
        let other = hot.read(|c| read_hot(c, &sql, park, "沪A99999")).unwrap();
        assert!(other.is_none());
    }
}
