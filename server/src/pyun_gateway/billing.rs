//! `payment.billing` (pyun-carpark.md §3.1, D9): the fee order of a plate's open stay, priced by
//! the ledger's one figure. The open order is given again while the figure is unchanged;
//! otherwise the stay's open orders are revoked and a new one is minted, under the stay's lock.

use chrono::{DateTime, Utc};
use protocol::pyun_carpark::{BillingOrder, BillingReply, BillingRequest, BillingTarget};

use super::GatewayFailure;
use super::orders::{self, Order};
use super::park::GatewayPark;
use crate::discounts::lock_open;
use crate::parking::SessionKey;
use crate::parking::stay::{StayRecord, open_stay_hot, open_stay_pooled, stay_by_id};
use crate::storage::Db;

/// `car_type` of a temporary car (临停), the only kind that pays through P云.
const CAR_TYPE_TEMPORARY: i64 = 1;

/// Answers a billing call at `now`.
pub async fn bill(
    db: &Db,
    park: &GatewayPark,
    req: &BillingRequest,
    now: DateTime<Utc>,
) -> Result<BillingReply, GatewayFailure> {
    // No lanes, cards or no-plate flow here (§3.1): only a plate can name a stay of ours.
    let BillingTarget::Plate(plate) = &req.target else {
        return Ok(BillingReply::NoRecord);
    };
    if let Some(gate) = &req.gate_id {
        tracing::info!(park = park.id, gate_id = %gate, "billing from a lane QR code");
    }
    let key = SessionKey::Plate(plate.as_str().to_owned());
    let Some((stay, newest)) = stay_and_newest_order(db, park.id, &key).await? else {
        return Ok(BillingReply::NoRecord);
    };
    let figure = stay.figure(&park.tariff, now)?;
    // A VIP within its validity owes nothing for good: P云 must not offer it a payment.
    if stay.vip.is_some() && figure.charge == 0 {
        return Ok(BillingReply::FixedCar);
    }
    // The repeated calls of one payment flow read only.
    if let Some(order) = newest
        && order.state == "open"
        && order.quotes(&figure)
    {
        return Ok(reply(park, &stay, &order, now, &figure));
    }
    let _turn = db.write_turn().await;
    let mut tx = db.pool.begin().await?;
    if !lock_open(&mut tx, stay.id).await? {
        return Ok(BillingReply::NoRecord);
    }
    let stay = stay_by_id(&mut tx, park.id, stay.id)
        .await?
        .ok_or(GatewayFailure::Vanished)?;
    let figure = stay.figure(&park.tariff, now)?;
    let order = match orders::newest(&mut tx, stay.id).await? {
        Some(order) if order.state == "open" && order.quotes(&figure) => order,
        _ => {
            let voided = orders::void_open(&mut tx, stay.id, now).await?;
            let order = orders::mint(&mut tx, park.id, stay.id, &figure, now).await?;
            tracing::info!(
                park = park.id,
                session = stay.id,
                parking_order = %order.parking_order,
                pay_fen = order.pay_fen,
                voided,
                "P云 fee order minted"
            );
            order
        }
    };
    tx.commit().await?;
    Ok(reply(park, &stay, &order, now, &figure))
}

/// The open stay of `key` and its newest order: on SQLite by the thread's reader, both in one
/// read transaction (one snapshot); else through the pool, one after the other (a pair read
/// across a change quotes no open order, which sends the call to the locked path).
async fn stay_and_newest_order(
    db: &Db,
    park_id: i64,
    key: &SessionKey,
) -> Result<Option<(StayRecord, Option<Order>)>, sqlx::Error> {
    if let Some(hot) = &db.hot {
        let read = hot.read(|conn| {
            let Some(stay) = open_stay_hot(conn, park_id, key)? else {
                return Ok(None);
            };
            let order = orders::newest_hot(conn, stay.id)?;
            Ok(Some((stay, order)))
        });
        match read {
            Ok(found) => return Ok(found),
            Err(e) => {
                tracing::warn!(error = %e, "billing read: the thread's reader failed; using the pool")
            }
        }
    }
    let Some(stay) = open_stay_pooled(db, park_id, key).await? else {
        return Ok(None);
    };
    let mut conn = db.pool.acquire().await?;
    let order = orders::newest(&mut conn, stay.id).await?;
    Ok(Some((stay, order)))
}

fn reply(
    park: &GatewayPark,
    stay: &StayRecord,
    order: &Order,
    now: DateTime<Utc>,
    figure: &protocol::ledger::Figure,
) -> BillingReply {
    let plate = stay
        .plate
        .as_deref()
        .and_then(|p| protocol::plate::Plate::parse(p).ok());
    let mut o = BillingOrder::from_figure(
        crate::parking::serial::parking_serial(stay.id),
        order.parking_order.clone(),
        plate,
        stay.entry,
        now.max(stay.entry),
        figure,
    );
    o.enter_free_time = Some(i64::from(park.tariff.free_minutes) * 60);
    o.buffer_time = Some(i64::from(park.tariff.grace_minutes) * 60);
    o.car_type = Some(CAR_TYPE_TEMPORARY);
    BillingReply::Order(Box::new(o))
}
