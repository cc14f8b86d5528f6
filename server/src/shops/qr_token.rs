//! A QR code at the till (issue 17, P云 `mcoupon/token`, pyun-carpark.md §5): the shop mints a
//! token for one of its P云 coupon products and shows its claim link; the customer who scans it
//! binds the coupon to their own plate, and P云 tells the car park with `discount.create`.
//!
//! The token costs one unit of quota when it is minted, taken in the transaction that records
//! it, before P云 is called. P云 has no idempotency key for it, so it is never retried: a call
//! that may have reached P云 leaves the validation `unknown` and keeps its unit (a token may
//! exist), and the clerk asks for a fresh one; a refusal, or a call that provably never left,
//! gives the unit back.

use chrono::{DateTime, TimeDelta, Utc};
use protocol::pyun::coupon_token::{CouponToken, TokenPayload};
use protocol::pyun::{Idempotency, NextStep, NoAnswer, Outcome};
use serde::Serialize;

use super::store::{Offer, Shop, live_offer};
use super::{ShopsError, quota};
use crate::coupons::config;
use crate::outbox::dispatcher::Dispatcher;
use crate::outbox::park_signers::SignerError;
use crate::parks::Park;
use crate::pyun_client::TransportError;
use crate::storage::{Db, to_ms};

/// What the till asked for.
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    /// One of the shop's offers of a P云 coupon product.
    pub offer_id: i64,
    /// The QR dies at its first claim.
    pub single_use: bool,
    /// Lifetime in seconds; P云's 300 when absent (values below are raised to it).
    pub expire_in: Option<u32>,
    /// `user:<name>`.
    pub created_by: &'a str,
}

/// A minted token: the claim link to show as a QR code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MintedToken {
    /// The shop's record of it (its `validation_id` is `qr-<id>`).
    pub validation: i64,
    /// The offer it grants.
    pub offer_id: i64,
    /// P云's claim link.
    pub url: String,
    /// When it stops working (P云's lifetime counted from our call).
    pub expires_at: DateTime<Utc>,
    /// Its lifetime in seconds.
    pub expire_in: u32,
    /// Dies at its first claim.
    pub single_use: bool,
}

/// Why P云 gave no token.
#[derive(Debug, thiserror::Error)]
pub enum TokenFailure {
    /// P云 answered with a refusal (its code and message).
    #[error("P云 refused the QR code: {0}")]
    Refused(String),
    /// P云 could not be reached; nothing was sent.
    #[error("P云 could not be reached: {0}")]
    Unreachable(String),
    /// The call may have reached P云 but no answer came in time: ask for a new one.
    #[error("P云 did not answer in time; press refresh for a new QR code")]
    NoAnswer,
    /// P云 answered with a failure of its own (5xx, `1500`): a token may exist all the same.
    #[error("P云 failed to make the QR code ({0}); press refresh to try again")]
    Failed(String),
}

/// Mints a token for `req` at `shop` of `park` (see the module).
pub async fn mint(
    db: &Db,
    dispatcher: &Dispatcher,
    park: &Park,
    shop: &Shop,
    req: &TokenRequest<'_>,
    now: DateTime<Utc>,
) -> Result<MintedToken, ShopsError> {
    let mut conn = db.pool.acquire().await?;
    let offer = live_offer(&mut conn, shop, req.offer_id).await?;
    drop(conn);
    let token = token_of(db, park, shop, &offer, req).await?;
    let lifetime = token.lifetime_secs();
    let (day, month) = quota::periods(now);
    let id = record(db, shop, &offer, req, &day, &month, now).await?;

    let call = match dispatcher.mint_token(park.id, &token).await {
        Ok(call) => call,
        Err(SignerError::Storage(e)) => return Err(e.into()),
        Err(SignerError::NotConfigured(why)) => {
            settle(db, id, &offer, &day, &month, Settled::GiveBack(&why)).await?;
            return Err(ShopsError::PyunNotConfigured(why));
        }
    };
    let step = match &call.answer {
        Ok(outcome) => Idempotency::Unkeyed.after_answer(outcome),
        Err(TransportError::NotSent(_)) => Idempotency::Unkeyed.after_no_answer(NoAnswer::NotSent),
        Err(TransportError::MaybeSent(_)) => {
            Idempotency::Unkeyed.after_no_answer(NoAnswer::MaybeSent)
        }
    };
    let payload = call
        .answer
        .as_ref()
        .ok()
        .and_then(TokenPayload::from_outcome);
    tracing::info!(
        shop = shop.id,
        offer = offer.id,
        validation = id,
        seqno = call
            .answer
            .as_ref()
            .ok()
            .and_then(|o| o.response())
            .and_then(|r| r.seqno.as_deref())
            .unwrap_or(""),
        ?step,
        latency_ms = call.latency.as_millis() as u64,
        "P云 mcoupon/token"
    );
    match (step, payload) {
        (NextStep::Done, Some(payload)) => {
            let expire_in = payload.expire_in.unwrap_or(lifetime).max(1);
            let expires_at = now + TimeDelta::seconds(i64::from(expire_in));
            settle(
                db,
                id,
                &offer,
                &day,
                &month,
                Settled::Minted(&payload.url, expires_at),
            )
            .await?;
            Ok(MintedToken {
                validation: id,
                offer_id: offer.id,
                url: payload.url,
                expires_at,
                expire_in,
                single_use: req.single_use,
            })
        }
        (NextStep::Unknown | NextStep::Done, _) => {
            // Done without a link, no answer, or P云's own failure: a token may exist, unseen.
            settle(db, id, &offer, &day, &month, Settled::Unknown).await?;
            Err(ShopsError::Token(match &call.answer {
                Ok(o) => TokenFailure::Failed(answer_words(o)),
                Err(_) => TokenFailure::NoAnswer,
            }))
        }
        (NextStep::Stop | NextStep::Retry, _) => {
            let why = match &call.answer {
                Ok(o) => answer_words(o),
                Err(e) => e.message().to_owned(),
            };
            settle(db, id, &offer, &day, &month, Settled::GiveBack(&why)).await?;
            Err(ShopsError::Token(match call.answer {
                Err(_) => TokenFailure::Unreachable(why),
                Ok(_) => TokenFailure::Refused(why),
            }))
        }
    }
}

/// P云's code and message, for the clerk and the record.
fn answer_words(outcome: &Outcome) -> String {
    outcome
        .response()
        .map(|r| format!("{} {}", r.code, r.message))
        .unwrap_or_else(|| "an answer that is not P云's envelope".to_owned())
}

/// The `mcoupon/token` request for `offer`: its product's coupon code, the shop's store code
/// (else the product's), one coupon per claim.
async fn token_of(
    db: &Db,
    park: &Park,
    shop: &Shop,
    offer: &Offer,
    req: &TokenRequest<'_>,
) -> Result<CouponToken, ShopsError> {
    let product_id = offer.product_id.ok_or(ShopsError::NotPyunOffer)?;
    let product = config::product(db, park.id, product_id)
        .await?
        .filter(|p| !p.archived)
        .ok_or(ShopsError::UnknownProduct)?;
    let token = CouponToken {
        store_code: shop.store_code.clone().unwrap_or(product.store_code),
        coupon_code: product.coupon_code,
        quantity: product.quantity,
        use_expire: Some(req.single_use),
        expire_in: req.expire_in,
        reason: Some(format!("{} {}", shop.name, offer.name)),
    };
    token.validate().map_err(|e| ShopsError::Invalid {
        code: "invalid_field",
        message: e.to_string(),
    })?;
    Ok(token)
}

/// Records the token as `pending` and takes its unit of quota, in one transaction.
async fn record(
    db: &Db,
    shop: &Shop,
    offer: &Offer,
    req: &TokenRequest<'_>,
    day: &str,
    month: &str,
    now: DateTime<Utc>,
) -> Result<i64, ShopsError> {
    let mut tx = db.pool.begin().await?;
    // A placeholder id first (the row's own id names it once known): unique per shop.
    let placeholder = format!(
        "qr-pending-{}-{}",
        offer.id,
        now.timestamp_nanos_opt().unwrap_or(0)
    );
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO shop_validations (shop_id, offer_id, validation_id, kind, plate, state, \
         request_digest, created_by, day_key, month_key, created_at, updated_at, \
         token_single_use) \
         VALUES ($1, $2, $3, 'qr_token', NULL, 'pending', '', $4, $5, $6, $7, $7, $8) RETURNING id",
    )
    .bind(shop.id)
    .bind(offer.id)
    .bind(&placeholder)
    .bind(req.created_by)
    .bind(day)
    .bind(month)
    .bind(to_ms(now))
    .bind(i64::from(req.single_use))
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE shop_validations SET validation_id = $1 WHERE id = $2")
        .bind(format!("qr-{id}"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    quota::take(&mut tx, offer, day, month).await?;
    tx.commit().await?;
    Ok(id)
}

/// How a minted token's record ends.
enum Settled<'a> {
    /// P云 answered with the link.
    Minted(&'a str, DateTime<Utc>),
    /// No token: the unit goes back, with why.
    GiveBack(&'a str),
    /// A token may exist: the unit stays.
    Unknown,
}

async fn settle(
    db: &Db,
    id: i64,
    offer: &Offer,
    day: &str,
    month: &str,
    how: Settled<'_>,
) -> Result<(), sqlx::Error> {
    let now = to_ms(Utc::now());
    let mut tx = db.pool.begin().await?;
    match how {
        Settled::Minted(url, expires_at) => {
            sqlx::query(
                "UPDATE shop_validations SET state = 'delivered', token_url = $1, \
                 token_expires_at = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(url)
            .bind(to_ms(expires_at))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        Settled::GiveBack(why) => {
            sqlx::query(
                "UPDATE shop_validations SET state = 'refused', reason = $1, \
                 quota_returned_at = $2, updated_at = $2 WHERE id = $3",
            )
            .bind(why)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            quota::give_back(&mut tx, offer.id, day, month).await?;
        }
        Settled::Unknown => {
            sqlx::query(
                "UPDATE shop_validations SET state = 'unknown', \
                 reason = 'P云 gave no QR code; one may exist', updated_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}
