//! A merchant's validation of a plate: idempotent on the till's `validation_id`, one unit of
//! the offer's daily and monthly quota used in the same transaction as what it gives — a local
//! discount on the car's open stay (through `discounts::grant_on_stay`) or a P云 coupon grant
//! queued in the coupon outbox (answered `pending`; its state then follows the outbox record).
//!
//! A validation refused before anything was given (quota, car not parked, bad input) is not
//! recorded: its `validation_id` stays free. One P云 refuses later (`rejected`, `misconfigured`,
//! or `failed` after reconciliation) gives its unit back, once: no coupon reached the customer,
//! so the shop must not be billed for it. An `unknown` grant keeps its unit until a person
//! settles it, since the coupon may have been issued.

use chrono::{DateTime, Utc};
use protocol::plate::Plate;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use super::store::{Offer, Shop, live_offer};
use super::{ShopsError, quota};
use crate::coupons::{config, intake};
use crate::discounts::{Source, StayGrant, StayOwed, grant_on_stay};
use crate::outbox::State as RowState;
use crate::outbox::store::{NewItem, insert_on};
use crate::parking::SessionKey;
use crate::parking::stay::open_stay;
use crate::parks::Park;
use crate::storage::{Db, from_ms, to_ms};

/// Longest `validation_id`.
pub const MAX_VALIDATION_ID_CHARS: usize = 64;

/// A validation as the shop sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ValidationView {
    /// Record id.
    pub id: i64,
    /// The till's idempotency key.
    pub validation_id: String,
    /// The offer given.
    pub offer_id: i64,
    /// Its name.
    pub offer_name: String,
    /// `plate` or `qr_token`.
    pub kind: String,
    /// The normalised plate (a QR token: its first claimer's, once claimed).
    pub plate: Option<String>,
    /// `delivered`, `pending` (P云 has not answered yet), `refused` or `unknown`.
    pub state: String,
    /// P云's refusal, when refused.
    pub reason: Option<String>,
    /// The coupon record (P云 products).
    pub coupon_record_id: Option<i64>,
    /// The discount recorded on the stay (local discounts).
    pub discount_id: Option<i64>,
    /// Whether a refusal gave the quota unit back.
    pub quota_returned: bool,
    /// `user:<name>`.
    pub created_by: String,
    /// When it was given.
    pub created_at: DateTime<Utc>,
    /// The Shanghai day whose quota it used.
    pub day: String,
    /// A QR token: when a customer first claimed it (P云's `discount.create` for its coupon);
    /// `null` until then (see `shops::claims`).
    pub claimed_at: Option<DateTime<Utc>>,
}

/// The answer to a validation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ValidationAnswer {
    /// The validation.
    pub validation: ValidationView,
    /// For a local discount given now: the car's stay with what it owes after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stay: Option<StayOwed>,
}

/// What a till asks for.
#[derive(Debug, Clone)]
pub struct ValidationRequest<'a> {
    /// The offer.
    pub offer_id: i64,
    /// The plate as typed.
    pub plate: &'a str,
    /// The till's idempotency key.
    pub validation_id: &'a str,
    /// `user:<name>`.
    pub created_by: &'a str,
}

/// A validation recorded now, or the earlier one under the same `validation_id`.
#[derive(Debug)]
pub enum Validated {
    /// Recorded by this request.
    Created(ValidationAnswer),
    /// The same request again: the validation as it stands.
    Replayed(ValidationAnswer),
}

const VIEW_SQL: &str = "SELECT v.id, v.validation_id, v.offer_id, o.name, v.kind, v.plate, \
     v.state, v.reason, v.outbox_id, v.discount_id, v.quota_returned_at, v.created_by, \
     v.created_at, v.day_key, v.request_digest, \
     (SELECT MIN(c.claimed_at) FROM shop_token_claims c WHERE c.validation_id = v.id) \
     FROM shop_validations v \
     JOIN shop_offers o ON o.id = v.offer_id ";

type ViewRow = (
    i64,
    String,
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    i64,
    String,
    String,
    Option<i64>,
);

fn view(r: ViewRow) -> (ValidationView, String) {
    (
        ValidationView {
            id: r.0,
            validation_id: r.1,
            offer_id: r.2,
            offer_name: r.3,
            kind: r.4,
            plate: r.5,
            state: r.6,
            reason: r.7,
            coupon_record_id: r.8,
            discount_id: r.9,
            quota_returned: r.10.is_some(),
            created_by: r.11,
            created_at: from_ms(r.12),
            day: r.13,
            claimed_at: r.15.map(from_ms),
        },
        r.14,
    )
}

async fn find(
    conn: &mut AnyConnection,
    shop_id: i64,
    validation_id: &str,
) -> Result<Option<(ValidationView, String)>, sqlx::Error> {
    let row = sqlx::query_as::<_, ViewRow>(sqlx::AssertSqlSafe(format!(
        "{VIEW_SQL} WHERE v.shop_id = $1 AND v.validation_id = $2"
    )))
    .bind(shop_id)
    .bind(validation_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(view))
}

/// The validations of shop `shop_id` on Shanghai day `day`, newest first.
pub async fn of_day(db: &Db, shop_id: i64, day: &str) -> Result<Vec<ValidationView>, sqlx::Error> {
    let rows = sqlx::query_as::<_, ViewRow>(sqlx::AssertSqlSafe(format!(
        "{VIEW_SQL} WHERE v.shop_id = $1 AND v.day_key = $2 ORDER BY v.id DESC"
    )))
    .bind(shop_id)
    .bind(day)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| view(r).0).collect())
}

fn invalid(code: &'static str, message: impl Into<String>) -> ShopsError {
    ShopsError::Invalid {
        code,
        message: message.into(),
    }
}

fn replay_or_reused(
    found: (ValidationView, String),
    digest: &str,
    validation_id: &str,
) -> Result<Validated, ShopsError> {
    if found.1 != digest {
        return Err(ShopsError::ValidationIdReused(validation_id.to_owned()));
    }
    Ok(Validated::Replayed(ValidationAnswer {
        validation: found.0,
        stay: None,
    }))
}

/// Gives `req` at shop `shop` of car park `park` at `now` (see the module).
pub async fn validate(
    db: &Db,
    park: &Park,
    shop: &Shop,
    req: &ValidationRequest<'_>,
    now: DateTime<Utc>,
) -> Result<Validated, ShopsError> {
    let plate = Plate::parse(req.plate)
        .map_err(|e| invalid("invalid_plate", format!("plate: {e}")))?
        .into_string();
    let vid = req.validation_id.trim();
    if vid.is_empty()
        || vid.chars().count() > MAX_VALIDATION_ID_CHARS
        || vid.chars().any(char::is_control)
    {
        return Err(invalid(
            "invalid_field",
            format!("`validation_id` must be 1 to {MAX_VALIDATION_ID_CHARS} printable characters"),
        ));
    }
    let digest = hex::encode(Sha256::digest(
        json!({"offer": req.offer_id, "plate": plate})
            .to_string()
            .as_bytes(),
    ));
    let mut conn = db.pool.acquire().await?;
    if let Some(found) = find(&mut conn, shop.id, vid).await? {
        return replay_or_reused(found, &digest, vid);
    }
    let offer = live_offer(&mut conn, shop, req.offer_id).await?;
    drop(conn);
    let (day, month) = quota::periods(now);
    let gives = Gives::of(db, park, shop, &offer, &plate, vid, req.created_by).await?;

    let mut tx = db.pool.begin().await?;
    // A write first: SQLite takes its write lock here, before any read of the transaction.
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO shop_validations (shop_id, offer_id, validation_id, kind, plate, state, \
         request_digest, created_by, day_key, month_key, created_at, updated_at) \
         VALUES ($1, $2, $3, 'plate', $4, 'pending', $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (shop_id, validation_id) DO NOTHING RETURNING id",
    )
    .bind(shop.id)
    .bind(offer.id)
    .bind(vid)
    .bind(&plate)
    .bind(&digest)
    .bind(req.created_by)
    .bind(&day)
    .bind(&month)
    .bind(to_ms(now))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = inserted else {
        // A concurrent retry recorded it first (PostgreSQL waited for its commit).
        drop(tx);
        let mut conn = db.pool.acquire().await?;
        let found = find(&mut conn, shop.id, vid)
            .await?
            .ok_or_else(|| ShopsError::ValidationIdReused(vid.to_owned()))?;
        return replay_or_reused(found, &digest, vid);
    };
    quota::take(&mut tx, &offer, &day, &month).await?;
    let stay = match &gives {
        Gives::Discount { session_id, kind } => {
            let key = format!("{}/{vid}", shop.id);
            let grant = StayGrant {
                park_id: park.id,
                session_id: *session_id,
                source: Source::Shop,
                source_key: &key,
                kind: *kind,
                label: &shop.name,
                created_by: req.created_by,
                request_digest: &digest,
            };
            let Some((discount, answer)) =
                grant_on_stay(&mut tx, &park.fields.tariff, &grant, now).await?
            else {
                return Err(ShopsError::NotParked);
            };
            sqlx::query(
                "UPDATE shop_validations SET state = 'delivered', discount_id = $1 WHERE id = $2",
            )
            .bind(discount)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            answer.stay
        }
        Gives::Coupon(item) => {
            let row = insert_on(&mut tx, item, None, now).await?;
            sqlx::query("UPDATE shop_validations SET outbox_id = $1 WHERE id = $2")
                .bind(row.item.id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            None
        }
    };
    let validation = find(&mut tx, shop.id, vid)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?
        .0;
    tx.commit().await?;
    tracing::info!(
        shop = shop.id,
        offer = offer.id,
        validation = id,
        validation_id = vid,
        state = %validation.state,
        by = req.created_by,
        "shop validation given"
    );
    Ok(Validated::Created(ValidationAnswer { validation, stay }))
}

/// What a validation gives, found before its transaction.
enum Gives {
    /// A local discount on the car's open stay.
    Discount {
        session_id: i64,
        kind: protocol::ledger::DiscountKind,
    },
    /// A P云 coupon grant, as an outbox row to add.
    Coupon(NewItem),
}

impl Gives {
    async fn of(
        db: &Db,
        park: &Park,
        shop: &Shop,
        offer: &Offer,
        plate: &str,
        vid: &str,
        created_by: &str,
    ) -> Result<Gives, ShopsError> {
        if let Some(kind) = offer.discount_kind() {
            let stay = open_stay(db, park.id, &SessionKey::Plate(plate.to_owned()))
                .await?
                .ok_or(ShopsError::NotParked)?;
            return Ok(Gives::Discount {
                session_id: stay.id,
                kind,
            });
        }
        let product_id = offer.product_id.ok_or(ShopsError::UnknownProduct)?;
        let mut product = config::product(db, park.id, product_id)
            .await?
            .ok_or(ShopsError::UnknownProduct)?;
        if let Some(code) = &shop.store_code {
            product.store_code = code.clone();
        }
        // Unique per (shop, validation_id) and within P云's 64 characters.
        let key_hash = hex::encode(Sha256::digest(vid.as_bytes()));
        let input = intake::GrantInput {
            grant_id: format!("shop{}-{}", shop.id, &key_hash[..32]),
            plate: plate.to_owned(),
            reason: Some(format!("{} {}", shop.name, offer.name)),
            parking_serial: None,
        };
        intake::grant(park, &product, input, created_by)
            .map(Gives::Coupon)
            .map_err(ShopsError::Coupon)
    }
}

/// The validation's state for an outbox row's state.
fn state_of(row: RowState) -> &'static str {
    match row {
        RowState::Pending | RowState::Sending => "pending",
        RowState::Delivered => "delivered",
        RowState::Unknown => "unknown",
        RowState::Rejected | RowState::Misconfigured | RowState::Failed => "refused",
    }
}

/// Brings shop `shop_id`'s validations waiting on P云 up to their coupon records, giving a
/// refused one's quota unit back once (conditional updates: instances may do it at once).
pub async fn follow_records(db: &Db, shop_id: i64) -> Result<(), sqlx::Error> {
    type Waiting = (
        i64,
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows = sqlx::query_as::<_, Waiting>(
        "SELECT v.id, v.offer_id, v.day_key, v.month_key, v.state, o.state, o.pyun_code, \
         o.pyun_message, o.last_error FROM shop_validations v JOIN outbox o ON o.id = v.outbox_id \
         WHERE v.shop_id = $1 AND v.state IN ('pending', 'unknown')",
    )
    .bind(shop_id)
    .fetch_all(&db.pool)
    .await?;
    for (id, offer, day, month, was, row_state, code, message, error) in rows {
        let Some(now_state) = RowState::parse(&row_state).map(state_of) else {
            continue;
        };
        if now_state == was {
            continue;
        }
        let reason = (now_state == "refused").then(|| match (code, message) {
            (Some(c), Some(m)) => format!("{c} {m}"),
            (Some(c), None) => c,
            (None, Some(m)) => m,
            (None, None) => error.unwrap_or_else(|| row_state.clone()),
        });
        let now = to_ms(Utc::now());
        let mut tx = db.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE shop_validations SET state = $1, reason = $2, updated_at = $3, \
             quota_returned_at = CASE WHEN $1 = 'refused' THEN $3 ELSE quota_returned_at END \
             WHERE id = $4 AND state = $5 AND quota_returned_at IS NULL",
        )
        .bind(now_state)
        .bind(&reason)
        .bind(now)
        .bind(id)
        .bind(&was)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 1 && now_state == "refused" {
            quota::give_back(&mut tx, offer, &day, &month).await?;
            tracing::info!(shop = shop_id, validation = id, reason = ?reason, "P云 refused a shop validation; quota unit given back");
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Validation `validation_id` of shop `shop_id` as it stands now.
pub async fn current(
    db: &Db,
    shop_id: i64,
    validation_id: &str,
) -> Result<Option<ValidationView>, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    Ok(find(&mut conn, shop_id, validation_id).await?.map(|f| f.0))
}
