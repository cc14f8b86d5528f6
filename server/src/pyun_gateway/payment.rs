//! `payment.result` (pyun-carpark.md §3.2, D9–D11): a payment made in P云's app, recorded once in
//! the ledger on channel `pyun`, under the stay's lock so that three instances receiving the same
//! notice at once record one payment. Money P云 cannot be sure we counted is refused with `1403`
//! (P云 refunds it): an unknown, superseded or already-paid order, or a car that has left.

use chrono::{DateTime, Utc};
use protocol::pyun_carpark::{PaymentNotice, PaymentResultReply};
use sha2::{Digest, Sha256};

use super::GatewayFailure;
use super::orders::{self, Order};
use super::park::GatewayPark;
use crate::discounts;
use crate::parking::stay::stay_by_id;
use crate::storage::{Db, to_ms};

/// Mallcoo's `PayType` codes reused for the dashboard's grouping: Alipay 1, WeChat 3; any other
/// P云 origin is `-1` (the channel column says it was P云).
fn pay_type(n: &PaymentNotice) -> i64 {
    match n.pay_origin.map(|o| o.code()) {
        Some(4) => 1,
        Some(8) => 3,
        _ => -1,
    }
}

/// Answers a payment notice received at `now`.
pub async fn notice(
    db: &Db,
    park: &GatewayPark,
    n: &PaymentNotice,
    now: DateTime<Utc>,
) -> Result<PaymentResultReply, GatewayFailure> {
    let found = {
        let mut conn = db.pool.acquire().await?;
        orders::by_number(&mut conn, park.id, &n.parking_order).await?
    };
    let Some(found) = found else {
        tracing::warn!(park = park.id, parking_order = %n.parking_order, pay_serial = %n.pay_serial,
            "P云 payment for an order we never issued: refused, P云 refunds");
        return Ok(PaymentResultReply::UnknownOrder);
    };
    let _turn = db.write_turn().await;
    let mut tx = db.pool.begin().await?;
    // The write that serialises everything that changes what this stay owes.
    sqlx::query("UPDATE parking_sessions SET updated_at = updated_at WHERE id = $1")
        .bind(found.session_id)
        .execute(&mut *tx)
        .await?;
    let order = orders::by_number(&mut tx, park.id, &n.parking_order)
        .await?
        .ok_or(GatewayFailure::Vanished)?;
    let refuse = |why: &str, order: &Order| {
        tracing::info!(park = park.id, session = order.session_id, parking_order = %order.parking_order,
            pay_serial = %n.pay_serial, why, "P云 payment refused: P云 refunds");
        PaymentResultReply::Revoked
    };
    match order.state.as_str() {
        "paid" if order.pay_serial.as_deref() == Some(n.pay_serial.as_str()) => {
            return Ok(PaymentResultReply::AlreadyProcessed);
        }
        "paid" => return Ok(refuse("order already paid by another payment", &order)),
        "revoked" => return Ok(refuse("order revoked", &order)),
        _ => {}
    }
    let stay = stay_by_id(&mut tx, park.id, order.session_id)
        .await?
        .ok_or(GatewayFailure::Vanished)?;
    if !stay.is_open() && !n.after_leave_expected() {
        orders::revoke(&mut tx, order.id, now).await?;
        tx.commit().await?;
        return Ok(refuse("the car has left", &order));
    }
    let newest = orders::newest(&mut tx, stay.id).await?;
    if newest.as_ref().map(|o| o.id) != Some(order.id) {
        orders::revoke(&mut tx, order.id, now).await?;
        tx.commit().await?;
        return Ok(refuse("superseded by a newer order", &order));
    }
    // Paid when the driver paid, never before entry nor after we heard of it: grace starts here.
    let at = n.pay_time.clamp(stay.entry, now.max(stay.entry));
    if stay.is_open() {
        // A discount, a payment or a fee step since billing changed what is owed (D9).
        let figure = protocol::ledger::figure(&stay.ledger(&park.tariff), at)?;
        if !order.quotes(&figure) {
            orders::revoke(&mut tx, order.id, now).await?;
            tx.commit().await?;
            return Ok(refuse("the fee changed since the order was quoted", &order));
        }
    }
    if n.value != order.pay_fen {
        // D11: the money is taken; refusing would only refund it. Credit `value`, flag it.
        tracing::warn!(park = park.id, parking_order = %order.parking_order, value = n.value,
            quoted = order.pay_fen, "P云 payment value differs from the order's pay_value");
    }
    let amount = n.paid().min(n.value);
    let payment_id: i64 = sqlx::query_scalar(
        "INSERT INTO parking_payments (park_id, session_id, order_no, third_trade_no, fee_id, \
         pay_time, settled_at, amount_fen, deduction_fen, pay_channel, pay_type, request_digest, \
         answer_json, created_at, channel, pay_origin, pay_origin_desc) \
         VALUES ($1, $2, $3, $4, $3, $5, $6, $7, $8, 0, $9, $10, '{}', $11, 'pyun', $12, $13) \
         RETURNING id",
    )
    .bind(park.id)
    .bind(stay.id)
    .bind(&order.parking_order)
    .bind(&n.pay_serial)
    .bind(to_ms(n.pay_time))
    .bind(to_ms(at))
    .bind(amount)
    .bind(n.value - amount)
    .bind(pay_type(n))
    .bind(digest(n))
    .bind(to_ms(now))
    .bind(n.pay_origin.map(|o| o.code()))
    .bind(n.pay_origin_desc.as_deref().or(n.pay_source.as_deref()))
    .fetch_one(&mut *tx)
    .await?;
    orders::mark_paid(&mut tx, order.id, &n.pay_serial, payment_id, now).await?;
    if stay.is_open() {
        // The discounts the paid order counted are used from now on.
        let worths = protocol::ledger::worths(&stay.ledger(&park.tariff), at)?;
        discounts::mark_used(&mut tx, &stay, &worths, at).await?;
    }
    tx.commit().await?;
    if let Some(gate) = &n.gate_id {
        // No barrier of ours to open; the gate controller reads the stay's figure at exit.
        tracing::info!(park = park.id, gate_id = %gate, "P云 payment names a lane");
    }
    tracing::info!(park = park.id, session = stay.id, payment = payment_id,
        parking_order = %order.parking_order, pay_serial = %n.pay_serial, value = n.value,
        "P云 payment recorded");
    Ok(PaymentResultReply::Processed {
        parking_serial: None,
    })
}

/// SHA-256 (hex) of what the notice says, kept beside the payment.
fn digest(n: &PaymentNotice) -> String {
    let canonical = serde_json::json!({
        "parking_order": n.parking_order, "pay_serial": n.pay_serial,
        "pay_time": to_ms(n.pay_time), "value": n.value, "pay_value": n.pay_value,
        "free_value": n.free_value, "reduce_value": n.reduce_value,
        "pay_origin": n.pay_origin.map(|o| o.code()),
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}
