//! GetParkingPaymentInfo (PROTOCOLS.md §2.2): what a parked car owes now, priced by
//! `protocol::quote`. The hot path: reads only — the open session with its plate's VIP record
//! and its payments in one indexed query — and writes nothing, so it never waits for a
//! payment's lock (SQLite WAL readers and PostgreSQL MVCC reads do not block on writers).

use chrono::{DateTime, Utc};
use protocol::mallcoo::{PaymentInfoRequest, PaymentQuote, VehicleKey};
use protocol::plate::Plate;
use protocol::quote::{Payment, Quote, QuoteError, Session, VipWindow, quote};
use sqlx::AssertSqlSafe;

use super::Refusal;
use super::auth::MallcooPark;
use super::decode::rule_message;
use super::fee_id::FeeId;
use crate::parking::payments::payment;
use crate::storage::{Db, from_ms};
use crate::vip::records::window_of;

/// A session as a quote needs it.
#[derive(Debug, Clone)]
pub struct SessionToQuote {
    /// Session id.
    pub id: i64,
    /// Entry time.
    pub entry: DateTime<Utc>,
    /// The normalised plate (`None` for a plate-less car).
    pub plate: Option<String>,
    /// The ticket number, if any.
    pub barcode: Option<String>,
    /// `open`, `closed` or `no_exit_seen`.
    pub state: String,
    /// The plate's VIP record at the car park, as the fee engine's window.
    pub vip: Option<VipWindow>,
    /// Its payments so far.
    pub payments: Vec<Payment>,
}

/// The session, its plate's VIP record and its payments: one row per payment (at least one).
const SELECT_SESSION: &str = "SELECT s.id, s.entry_at, s.plate, s.barcode, s.state, \
     v.vip_type, v.valid_from, v.valid_to, p.settled_at, p.amount_fen + p.deduction_fen \
     FROM parking_sessions s \
     LEFT JOIN vip_records v ON v.park_id = s.park_id AND v.plate = s.plate \
     LEFT JOIN parking_payments p ON p.session_id = s.id \
     WHERE s.park_id = $1";

type Row = (
    i64,
    i64,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn collect(rows: Vec<Row>) -> Option<SessionToQuote> {
    let first = rows.first()?;
    let vip = first.5.and_then(|t| window_of(t, first.6, first.7));
    let payments = rows
        .iter()
        .filter_map(|r| Some(payment(r.8?, r.9?)))
        .collect();
    let first = rows.into_iter().next()?;
    Some(SessionToQuote {
        id: first.0,
        entry: from_ms(first.1),
        plate: first.2,
        barcode: first.3,
        state: first.4,
        vip,
        payments,
    })
}

/// The car a request names, normalised: a plate per §4, or a barcode as sent (trimmed).
pub fn vehicle(key: VehicleKey) -> Result<VehicleKey, Refusal> {
    match key {
        VehicleKey::Plate(raw) => Plate::parse(&raw)
            .map(|p| VehicleKey::Plate(p.into_string()))
            .map_err(|e| Refusal::refused(format!("plateNo 车牌号无效：{e}"))),
        VehicleKey::Barcode(b) => Ok(VehicleKey::Barcode(b.trim().to_owned())),
    }
}

/// The open session of `key` at car park `park_id`, with its VIP record and payments, in one
/// query: the partial unique indexes on (park_id, plate) of open sessions and on (park_id,
/// barcode) find the session; the unique (park_id, plate) of VIP records and the session index
/// of payments find the rest.
pub async fn open_session(
    db: &Db,
    park_id: i64,
    key: &VehicleKey,
) -> Result<Option<SessionToQuote>, sqlx::Error> {
    let (column, value) = match key {
        VehicleKey::Plate(p) => ("plate", p),
        VehicleKey::Barcode(b) => ("barcode", b),
    };
    // `column` is one of two constants.
    let sql = format!("{SELECT_SESSION} AND s.{column} = $2 AND s.state = 'open'");
    if let Some(hot) = &db.hot {
        match hot.read(|conn| read_rows(conn, &sql, park_id, value)) {
            Ok(rows) => return Ok(collect(rows)),
            // The pool can still answer (e.g. the file cannot be opened read-only here).
            Err(e) => {
                tracing::warn!(error = %e, "fee query: the thread's reader failed; using the pool")
            }
        }
    }
    let rows = sqlx::query_as::<_, Row>(AssertSqlSafe(sql))
        .bind(park_id)
        .bind(value.as_str())
        .fetch_all(&db.pool)
        .await?;
    Ok(collect(rows))
}

/// [`open_session`]'s rows through SQLite on this thread (`$1`, `$2` are SQLite parameters too).
fn read_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    park_id: i64,
    value: &str,
) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(rusqlite::params![park_id, value], |r| {
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
        ))
    })?;
    rows.collect()
}

/// Session `id` of car park `park_id`, in whatever state, with its VIP record and payments.
pub async fn session_by_id<'c, E>(
    ex: E,
    park_id: i64,
    id: i64,
) -> Result<Option<SessionToQuote>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query_as::<_, Row>(AssertSqlSafe(format!("{SELECT_SESSION} AND s.id = $2")))
        .bind(park_id)
        .bind(id)
        .fetch_all(ex)
        .await?;
    Ok(collect(rows))
}

/// Prices `session` at `now` with Mallcoo's free minutes and amount. An entry stamped after
/// `now` (a gate clock ahead) is quoted at entry.
pub fn price(
    park: &MallcooPark,
    session: &SessionToQuote,
    now: DateTime<Utc>,
    free_minutes: u32,
    free_amount: i64,
) -> Result<Quote, Refusal> {
    quote(
        &Session {
            entry: session.entry,
            tariff: &park.tariff,
        },
        &session.payments,
        session.vip.as_ref(),
        now.max(session.entry),
        free_minutes,
        free_amount,
    )
    .map_err(|e: QuoteError| Refusal::Internal(format!("car park {}: quote: {e}", park.park_id)))
}

/// Answers a fee query: the quote of the car's open session, or a refusal.
pub async fn answer(
    db: &Db,
    park: &MallcooPark,
    req: &PaymentInfoRequest,
    now: DateTime<Utc>,
) -> Result<PaymentQuote, Refusal> {
    let key = vehicle(
        req.validate()
            .map_err(|e| Refusal::refused(rule_message(&e)))?,
    )?;
    let Some(session) = open_session(db, park.park_id, &key).await? else {
        return Err(Refusal::refused(protocol::mallcoo::NO_PARKING_RECORD));
    };
    let q = price(park, &session, now, req.free_minutes, req.free_amount)?;
    let fee_id = FeeId::of_quote(session.id, now, &q);
    tracing::debug!(
        park = park.park_id,
        session = session.id,
        total = q.total,
        paid = q.paid,
        deduction = q.deduction,
        unpaid = q.unpaid,
        "Mallcoo fee query answered"
    );
    Ok(PaymentQuote {
        fee_id: fee_id.encode(),
        entry_time: session.entry,
        parking_minutes: u32::try_from(q.parking_minutes.max(0)).unwrap_or(u32::MAX),
        total_amount: q.total,
        un_pay_amount: q.unpaid,
        deduction_amount: q.deduction,
        paid_amount: q.paid,
        offline_deduction: q.offline_deduction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::to_ms;

    /// The thread's reader and the pool read the same session, VIP-less, with its payments,
    /// and both see a payment committed through the pool at once.
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
        let sql = format!("{SELECT_SESSION} AND s.plate = $2 AND s.state = 'open'");
        let read = || hot.read(|c| read_rows(c, &sql, park, "沪A12345")).unwrap();
        let rows = read();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].0, rows[0].1, rows[0].8), (session, entry, None));

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
        let rows = read();
        assert_eq!((rows[0].8, rows[0].9), (Some(entry + 60_000), Some(1000)));
        let pooled = open_session(&db, park, &VehicleKey::Plate("沪A12345".into()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pooled.payments.len(), 1);
        let other = hot.read(|c| read_rows(c, &sql, park, "沪A99999")).unwrap();
        assert!(other.is_empty());
    }
}
