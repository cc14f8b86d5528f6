//! The demo's car park simulation, so the dashboard and Mallcoo have something to show: on a
//! fresh data directory it first seeds the last 24 hours (sessions, some of them paid), then
//! cars keep arriving and leaving every few seconds through the real `parking::enter` /
//! `parking::exit` code paths (so every entry is also notified to the Mallcoo sandbox), and some
//! pay first through Mallcoo's V1.4 calls, made over HTTP to our own `/mallcoo/v1` endpoints by
//! the sandbox's Mallcoo client, signed with the car park's inbound keys.
//!
//! Best effort throughout: a failed step is logged and the simulation goes on; it never stops
//! the demo.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use protocol::ledger::{Stay, figure};
use protocol::tariff::Tariff;
use sandbox::mallcoo::client::{ClientKeys, MallcooClient};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::parking::{self, Exited, NewEntry, SessionKey};
use crate::storage::{Db, to_ms};
use crate::tokens;

/// How often the simulation acts.
const TICK: Duration = Duration::from_secs(3);
/// Sessions seeded over the last 24 hours on a fresh data directory.
const SEEDED: usize = 160;
/// Cars the simulation keeps inside at most.
const MAX_INSIDE: i64 = 40;
/// Share of plated cars that pay through Mallcoo before leaving.
const PAYING_SHARE: f64 = 0.6;

/// Starts the simulation of car park `park_id`; live payments wait for `listening` (the
/// server's address, once bound).
pub(super) fn spawn(
    db: Db,
    park_id: i64,
    tariff: Tariff,
    keys: ClientKeys,
    mallcoo_park_id: &str,
    listening: oneshot::Receiver<SocketAddr>,
    seeded: oneshot::Sender<SocketAddr>,
) -> JoinHandle<()> {
    let mallcoo_park_id = mallcoo_park_id.to_owned();
    tokio::spawn(async move {
        if let Err(e) = seed_history(&db, park_id, &tariff).await {
            tracing::warn!(error = %e, "demo: cannot seed the car park's history");
        }
        if let Err(e) = super::demo_discounts::seed(&db, park_id, &tariff).await {
            tracing::warn!(error = %e, "demo: cannot seed the shop's validations");
        }
        let Ok(addr) = listening.await else {
            return;
        };
        // What runs after the seeding (the P云 show-case) starts now.
        let _ = seeded.send(addr);
        // A wildcard bind is reached through loopback.
        let host = if addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], addr.port()))
        } else {
            addr
        };
        let client = MallcooClient::new(&format!("http://{host}"), keys, Some(mallcoo_park_id));
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            if let Err(e) = step(&db, park_id, &tariff, &client).await {
                tracing::warn!(error = %e, "demo: a simulation step failed");
            }
        }
    })
}

/// A uniform draw in [0, 1).
fn roll() -> f64 {
    // 53 random bits fill an f64 mantissa exactly.
    getrandom::u64().map_or(0.5, |r| (r >> 11) as f64 / (1u64 << 53) as f64)
}

/// A random whole number in `0..n`.
fn pick(n: u64) -> u64 {
    getrandom::u64().map_or(0, |r| r % n.max(1))
}

/// A plausible random plate (Plate::parse accepts it).
fn random_plate() -> String {
    const PROVINCES: [&str; 6] = ["沪", "苏", "浙", "粤", "京", "皖"];
    const LETTERS: &[u8] = b"ABCDEFGH";
    let province = PROVINCES[usize::try_from(pick(6)).unwrap_or(0)];
    let letter = char::from(LETTERS[usize::try_from(pick(8)).unwrap_or(0)]);
    format!("{province}{letter}{:05}", pick(100_000))
}

/// A car as the gate reads it: a plate, or (one in twenty) none, for an issued ticket.
fn arriving_car(at: DateTime<Utc>) -> NewEntry {
    let plated = roll() >= 0.05;
    NewEntry {
        plate: plated.then(random_plate),
        plate_color: plated.then_some(1),
        barcode: None,
        at,
        gate: Some("东门入口".to_owned()),
    }
}

/// The key an exit names the session by.
fn key_of(session: &parking::SessionView) -> Option<SessionKey> {
    match (&session.plate, &session.barcode) {
        (Some(p), _) => Some(SessionKey::Plate(p.clone())),
        (None, Some(b)) => Some(SessionKey::Barcode(b.clone())),
        (None, None) => None,
    }
}

/// Seeds the last 24 hours once (when the car park has no session yet): stays that ended,
/// some paid a few minutes before leaving, and cars still inside.
async fn seed_history(
    db: &Db,
    park_id: i64,
    tariff: &Tariff,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let existing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM parking_sessions WHERE park_id = $1")
            .bind(park_id)
            .fetch_one(&db.pool)
            .await?;
    if existing > 0 {
        return Ok(());
    }
    let now = Utc::now();
    let mut entries: Vec<DateTime<Utc>> = (0..SEEDED)
        .map(|_| {
            let secs = i64::try_from(pick(24 * 3600)).unwrap_or(0);
            now - TimeDelta::seconds(secs)
        })
        .collect();
    // In time order, as a gate would have sent them.
    entries.sort();
    let mut stays = Vec::new();
    for at in entries {
        let entered = parking::enter(db, park_id, arriving_car(at)).await?;
        let minutes = 15 + i64::try_from(pick(5 * 60)).unwrap_or(60);
        stays.push((entered.session, at + TimeDelta::minutes(minutes)));
    }
    let mut paid = 0;
    for (session, leave_at) in stays {
        if leave_at > now {
            continue;
        }
        let Some(key) = key_of(&session) else {
            continue;
        };
        if session.plate.is_some() && roll() < PAYING_SHARE {
            let pay_at = (leave_at - TimeDelta::minutes(5)).max(session.entry_at);
            seed_payment(db, park_id, tariff, &session, pay_at).await?;
            paid += 1;
        }
        parking::exit(db, park_id, tariff, &key, leave_at, Some("东门出口")).await?;
    }
    tracing::info!(
        park = park_id,
        sessions = SEEDED,
        paid,
        "demo: seeded the last 24 hours"
    );
    Ok(())
}

/// Records a past Mallcoo payment of the whole fee due at `pay_at` directly: the V1.4 endpoint
/// takes payments for now only, and history needs them in the past.
async fn seed_payment(
    db: &Db,
    park_id: i64,
    tariff: &Tariff,
    session: &parking::SessionView,
    pay_at: DateTime<Utc>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let stay = Stay {
        entry: session.entry_at,
        tariff,
        vip: None,
        discounts: &[],
        payments: &[],
    };
    let due = figure(&stay, pay_at)?.owed;
    let order_no = format!("demo-seed-{}", session.id);
    let pay_type: i64 = if due == 0 {
        0
    } else if roll() < 0.5 {
        1
    } else {
        3
    };
    sqlx::query(
        "INSERT INTO parking_payments (park_id, session_id, order_no, third_trade_no, fee_id, pay_time, settled_at, \
         amount_fen, deduction_fen, pay_channel, pay_type, request_digest, answer_json, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, 0, 0, $8, $9, $10, $6)",
    )
    .bind(park_id)
    .bind(session.id)
    .bind(&order_no)
    .bind((due > 0).then(|| format!("wx{order_no}")))
    .bind("demo-seed")
    .bind(to_ms(pay_at))
    .bind(due)
    .bind(pay_type)
    .bind(format!("demo-seed-{}", tokens::random_hex(8)))
    .bind(r#"{"resCode":0,"resMsg":"成功"}"#)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// One tick: maybe a car arrives, maybe one leaves (paying through Mallcoo first, sometimes).
async fn step(
    db: &Db,
    park_id: i64,
    tariff: &Tariff,
    client: &MallcooClient,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let inside: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM parking_sessions WHERE park_id = $1 AND state = 'open'",
    )
    .bind(park_id)
    .fetch_one(&db.pool)
    .await?;
    let arrive_chance = if inside < MAX_INSIDE { 0.6 } else { 0.1 };
    if roll() < arrive_chance {
        parking::enter(db, park_id, arriving_car(Utc::now())).await?;
    }
    if inside > 5 && roll() < 0.5 {
        leave_one(db, park_id, tariff, client).await?;
    }
    Ok(())
}

/// A random car inside leaves; a plated one pays through Mallcoo first, sometimes.
async fn leave_one(
    db: &Db,
    park_id: i64,
    tariff: &Tariff,
    client: &MallcooClient,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let open: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT plate, barcode FROM parking_sessions WHERE park_id = $1 AND state = 'open' \
         ORDER BY entry_at LIMIT 50",
    )
    .bind(park_id)
    .fetch_all(&db.pool)
    .await?;
    let Some((plate, barcode)) = open
        .get(usize::try_from(pick(open.len() as u64)).unwrap_or(0))
        .cloned()
    else {
        return Ok(());
    };
    let key = match (plate, barcode) {
        (Some(p), _) => SessionKey::Plate(p),
        (None, Some(b)) => SessionKey::Barcode(b),
        (None, None) => return Ok(()),
    };
    if let SessionKey::Plate(plate) = &key
        && roll() < PAYING_SHARE
    {
        pay_through_mallcoo(client, plate).await;
    }
    let at = Utc::now();
    if let Exited::Closed(s) =
        parking::exit(db, park_id, tariff, &key, at, Some("东门出口")).await?
    {
        tracing::debug!(session = s.id, due = s.fee_due_fen, "demo: a car left");
    }
    Ok(())
}

/// Queries the car's fee and pays it as Mallcoo does, with one or two extra identical retries.
async fn pay_through_mallcoo(client: &MallcooClient, plate: &str) {
    let quote = match client.payment_info_for_plate(plate).await {
        Ok(q) => q,
        Err(e) => {
            tracing::warn!(error = %e, "demo: Mallcoo fee query got no answer");
            return;
        }
    };
    let order_no = format!("demo-{}", tokens::random_hex(8));
    let Some(request) = quote
        .answer
        .as_ref()
        .and_then(|q| MallcooClient::full_payment(&order_no, plate, q))
    else {
        tracing::debug!(
            status = quote.status,
            "demo: nothing to pay through Mallcoo for a leaving car"
        );
        return;
    };
    let copies = 1 + usize::try_from(pick(3)).unwrap_or(0);
    let answers = client.pay_with_retries(&request, copies).await;
    let ok = answers
        .iter()
        .filter(|a| {
            a.as_ref()
                .is_ok_and(|a| a.answer.as_ref().is_some_and(|r| r.is_ok()))
        })
        .count();
    tracing::debug!(
        copies,
        ok,
        amount = request.amount,
        "demo: paid through Mallcoo"
    );
}
