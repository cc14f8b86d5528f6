//! PayParkingFee (PROTOCOLS.md §2.3): records a Mallcoo payment against the quote its `feeId`
//! names, once per `orderNo`.
//!
//! - Idempotency: `orderNo` is unique per car park (`parking_payments_park_channel_order_key`).
//!   A repeat with the same payload (SHA-256 of its fields) gets the stored answer, byte for
//!   byte; another payload under the same `orderNo` is refused and records nothing. The order
//!   is looked up inside the session's lock (one read less per payment than a pre-check).
//! - Payments of one session are serialised: the transaction starts by writing the session's row
//!   (SQLite takes its write lock then; PostgreSQL locks the row), so concurrent retries queue,
//!   and each re-reads the order inside the lock. A unique violation on insert (a retry that
//!   slipped past, e.g. the same `orderNo` sent with another `feeId`) is read back and answered
//!   from the stored row.
//! - Amounts (§2.3, corrected reading): `amount + deductionAmount` must equal the quote's
//!   `unPayAmount` (= `max(0, totalAmount − paidAmount)`, before Mallcoo's own benefits):
//!   Mallcoo collects `unPayAmount − deductionAmount` and reports its benefits as
//!   `deductionAmount`, and the payment settles both, so the car owes nothing more within the
//!   grace period.
//! - Staleness: the quote is recomputed when the notice arrives; if `totalAmount` or
//!   `paidAmount` changed since the feeId (the fee grew, another payment landed, a discount was
//!   added or removed) the payment is refused and Mallcoo is told to query again.
//! - Discounts: the stay's active discounts were in the quote the payment settles, so they
//!   become *used* in the payment's transaction (§5.1) and can no longer be removed. A removal
//!   racing the payment takes the same session lock: either it came first (the quote changed:
//!   the payment is refused as stale) or the payment did (the removal is refused) — never both.
//! - A quote with nothing due (free time, VIP, within grace) cannot be paid: a zero payment
//!   would only restart the grace period.
//! - A car that already left (its session closed by an exit or a later entry) cannot be paid
//!   for: the payment is refused (`resCode` 1, nothing recorded), so Mallcoo does not take money
//!   for a stay the gate has already settled; a retry of an order recorded before the exit still
//!   gets its stored answer.

use chrono::{DateTime, Utc};
use protocol::mallcoo::{PayFeeRequest, Reply, VehicleKey};
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};

use super::Refusal;
use super::auth::MallcooPark;
use super::decode::rule_message;
use super::fee_id::FeeId;
use super::payment_info::price;
use crate::discounts;
use crate::parking::stay::stay_by_id;
use crate::storage::{Db, to_ms, unique_violation};

/// `resMsg` of a recorded payment (the contract's success answer).
pub const PAID_MESSAGE: &str = "成功";

/// The answer text of a recorded payment, as stored and replayed.
pub fn paid_answer() -> String {
    let reply = Reply {
        res_msg: PAID_MESSAGE.to_owned(),
        ..Reply::ok()
    };
    serde_json::to_string(&reply).expect("a reply serialises")
}

/// SHA-256 (hex) of the notice's fields: a retry has the same, another payment does not.
pub fn request_digest(req: &PayFeeRequest) -> String {
    let canonical = serde_json::to_string(req).expect("a request serialises");
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// What happened to a notice that was answered with success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paid {
    /// Recorded now, as payment row `payment_id`.
    Recorded {
        /// The new row.
        payment_id: i64,
        /// The stored answer.
        answer: String,
    },
    /// A retry of an order already recorded: its stored answer.
    Replayed(String),
}

impl Paid {
    /// The answer text to send.
    pub fn answer(&self) -> &str {
        match self {
            Paid::Recorded { answer, .. } | Paid::Replayed(answer) => answer,
        }
    }
}

/// Handles a payment notice received at `now` for the authenticated car park.
pub async fn pay(
    db: &Db,
    park: &MallcooPark,
    req: &PayFeeRequest,
    now: DateTime<Utc>,
) -> Result<Paid, Refusal> {
    req.validate()
        .map_err(|e| Refusal::refused(rule_message(&e)))?;
    let order_no = req.order_no.trim();
    let digest = request_digest(req);
    let fee_id = FeeId::parse(&req.fee_id).map_err(|_| {
        Refusal::refused("feeId 无效（不是本车场签发的），请重新查询 GetParkingPaymentInfo")
    })?;
    let _turn = db.write_turn().await;
    let mut tx = db.pool.begin().await?;
    let result = record(
        &mut tx,
        park,
        req,
        Keys {
            order_no,
            digest: &digest,
            fee_id: &fee_id,
        },
        now,
    )
    .await;
    match result {
        Ok(Paid::Recorded { payment_id, answer }) => match tx.commit().await {
            Ok(()) => {
                tracing::info!(
                    park = park.park_id,
                    session = fee_id.session_id,
                    payment = payment_id,
                    order_no,
                    amount = req.amount,
                    deduction = req.deduction_amount,
                    "Mallcoo payment recorded"
                );
                Ok(Paid::Recorded { payment_id, answer })
            }
            Err(e) => after_conflict(db, park, order_no, &digest, e).await,
        },
        Ok(replayed) => Ok(replayed),
        Err(Refusal::Storage(e)) => {
            drop(tx);
            after_conflict(db, park, order_no, &digest, e).await
        }
        Err(other) => Err(other),
    }
}

/// A storage error that may be a concurrent insert of the same order: answer from its row.
async fn after_conflict(
    db: &Db,
    park: &MallcooPark,
    order_no: &str,
    digest: &str,
    e: sqlx::Error,
) -> Result<Paid, Refusal> {
    if unique_violation(&e).is_some()
        && let Some(paid) = stored(&db.pool, park.park_id, order_no, digest).await?
    {
        tracing::info!(
            park = park.park_id,
            order_no,
            "concurrent Mallcoo retry answered from the stored order"
        );
        return Ok(paid);
    }
    Err(Refusal::Storage(e))
}

/// The stored answer of order `order_no`, or a refusal when it was recorded with another payload.
async fn stored<'c, E>(
    ex: E,
    park_id: i64,
    order_no: &str,
    digest: &str,
) -> Result<Option<Paid>, Refusal>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    // `channel` completes the unique index's key (migration 0008: P云's orders share the
    // table); without it the lookup scans every payment of the car park.
    let row = sqlx::query_as::<_, (String, String)>(
        "SELECT request_digest, answer_json FROM parking_payments \
         WHERE park_id = $1 AND channel = 'mallcoo' AND order_no = $2",
    )
    .bind(park_id)
    .bind(order_no)
    .fetch_optional(ex)
    .await?;
    match row {
        None => Ok(None),
        Some((d, answer)) if d == digest => Ok(Some(Paid::Replayed(answer))),
        Some(_) => {
            tracing::warn!(
                park = park_id,
                order_no,
                "Mallcoo orderNo reused with another payload"
            );
            Err(Refusal::refused(format!(
                "orderNo {order_no} 已用于另一笔内容不同的缴费，拒绝重复使用"
            )))
        }
    }
}

/// What identifies a notice: its order, its payload and the quote it pays.
struct Keys<'a> {
    order_no: &'a str,
    digest: &'a str,
    fee_id: &'a FeeId,
}

async fn record(
    tx: &mut Transaction<'static, Any>,
    park: &MallcooPark,
    req: &PayFeeRequest,
    keys: Keys<'_>,
    now: DateTime<Utc>,
) -> Result<Paid, Refusal> {
    let Keys {
        order_no,
        digest,
        fee_id,
    } = keys;
    // The write that serialises this session's payments, before anything is read.
    let touched = sqlx::query(
        "UPDATE parking_sessions SET updated_at = updated_at WHERE id = $1 AND park_id = $2",
    )
    .bind(fee_id.session_id)
    .bind(park.park_id)
    .execute(&mut **tx)
    .await?;
    // A retry (one that waited for the lock, or came later, even after the car left) gets the
    // answer its twin recorded; only then are the session and quote looked at.
    if let Some(paid) = stored(&mut **tx, park.park_id, order_no, digest).await? {
        return Ok(paid);
    }
    if touched.rows_affected() == 0 {
        return Err(Refusal::refused(format!(
            "feeId 对应的停车记录不存在：{}",
            protocol::mallcoo::NO_PARKING_RECORD
        )));
    }
    let Some(session) = stay_by_id(tx, park.park_id, fee_id.session_id).await? else {
        return Err(Refusal::refused(protocol::mallcoo::NO_PARKING_RECORD));
    };
    if session.state != "open" {
        tracing::info!(
            park = park.park_id,
            session = session.id,
            order_no,
            "Mallcoo payment for a car that already left"
        );
        return Err(Refusal::refused(
            "车辆已出场，停车记录已结束，本次缴费未入账",
        ));
    }
    check_vehicle(req, session.plate.as_deref(), session.barcode.as_deref())?;
    let current = price(park, &session, now, 0, 0)?;
    if current.total != fee_id.total || current.paid != fee_id.paid {
        tracing::info!(
            park = park.park_id,
            session = session.id,
            quoted_total = fee_id.total,
            total = current.total,
            quoted_paid = fee_id.paid,
            paid = current.paid,
            "Mallcoo payment for a stale quote"
        );
        return Err(Refusal::refused(format!(
            "费用已变化（feeId 报价：总额 {} 分、已付 {} 分；现在：总额 {} 分、已付 {} 分），请重新查询 GetParkingPaymentInfo 后再缴费",
            fee_id.total, fee_id.paid, current.total, current.paid
        )));
    }
    // Nothing due (free time, VIP, within grace): a "payment" would only move the grace period.
    if fee_id.unpaid == 0 {
        return Err(Refusal::refused("feeId 报价的应付金额为 0 分，无需缴费"));
    }
    let settles = req.amount.saturating_add(req.deduction_amount);
    if settles != fee_id.unpaid {
        return Err(Refusal::refused(format!(
            "amount + deductionAmount = {settles} 分，与 feeId 报价的 unPayAmount {} 分不符",
            fee_id.unpaid
        )));
    }
    // Grace starts when the money was paid, but never before entry nor after we heard of it.
    let settled_at = req.pay_time.clamp(session.entry, now.max(session.entry));
    let answer = paid_answer();
    let payment_id: i64 = sqlx::query_scalar(
        "INSERT INTO parking_payments (park_id, session_id, order_no, third_trade_no, fee_id, \
         pay_time, settled_at, amount_fen, deduction_fen, pay_channel, pay_type, request_digest, \
         answer_json, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
    )
    .bind(park.park_id)
    .bind(session.id)
    .bind(order_no)
    .bind(req.third_trade_no.as_deref())
    .bind(req.fee_id.trim())
    .bind(to_ms(req.pay_time))
    .bind(to_ms(settled_at))
    .bind(req.amount)
    .bind(req.deduction_amount)
    .bind(req.pay_channel.code())
    .bind(req.pay_type.code())
    .bind(digest)
    .bind(answer.as_str())
    .bind(to_ms(now))
    .fetch_one(&mut **tx)
    .await?;
    // The discounts this payment's quote counted are used from now on.
    let at = now.max(session.entry);
    let worths = protocol::ledger::worths(&session.ledger(&park.tariff), at)
        .map_err(|e| Refusal::Internal(format!("car park {}: worths: {e}", park.park_id)))?;
    discounts::mark_used(tx, &session, &worths, at).await?;
    Ok(Paid::Recorded { payment_id, answer })
}

/// `plateNo`/`barcode` are optional in a notice, but when sent they must name the feeId's car.
fn check_vehicle(
    req: &PayFeeRequest,
    plate: Option<&str>,
    barcode: Option<&str>,
) -> Result<(), Refusal> {
    let Ok(key) = VehicleKey::from_fields(req.plate_no.as_deref(), req.barcode.as_deref()) else {
        return Ok(());
    };
    let matches = match super::payment_info::vehicle(key)? {
        VehicleKey::Plate(p) => plate == Some(p.as_str()),
        VehicleKey::Barcode(b) => barcode == Some(b.as_str()),
    };
    if matches {
        Ok(())
    } else {
        Err(Refusal::refused(
            "plateNo/barcode 与 feeId 对应的车辆不符，请重新查询",
        ))
    }
}
