//! The `shops` and `shop_offers` rows: what admins and property managers set. Writes run on the
//! caller's connection, so the audit record joins their transaction.

use chrono::{DateTime, Utc};
use protocol::ledger::DiscountKind;
use serde::Serialize;
use sqlx::AnyConnection;

use super::ShopsError;
use crate::storage::{Db, from_ms, to_ms, unique_violation};

/// A shop of a car park.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Shop {
    /// Shop id.
    pub id: i64,
    /// The car park.
    pub park_id: i64,
    /// Its name, unique in the car park.
    pub name: String,
    /// Its P云 store code, sent with its coupon grants instead of the product's.
    pub store_code: Option<String>,
    /// Whether it may validate.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The local discount an offer gives (PROTOCOLS.md §5.1).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfferDiscount {
    /// `amount`, `minutes`, `free` or `percent`.
    pub kind: String,
    /// Fen, minutes or per mille (0 for `free`).
    pub value: i64,
}

/// What a shop may give, with its quotas.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Offer {
    /// Offer id.
    pub id: i64,
    /// The shop.
    pub shop_id: i64,
    /// Its name, unique in the shop.
    pub name: String,
    /// A P云 coupon product of the car park (granted through P云), or `null`.
    pub product_id: Option<i64>,
    /// A local discount recorded in the ledger, or `null`.
    pub discount: Option<OfferDiscount>,
    /// Validations per Shanghai day.
    pub daily_quota: i64,
    /// Validations per Shanghai month, if limited.
    pub monthly_quota: Option<i64>,
    /// Whether it may be given.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Offer {
    /// The local discount as the ledger's kind, if this offer gives one.
    pub fn discount_kind(&self) -> Option<DiscountKind> {
        let d = self.discount.as_ref()?;
        DiscountKind::from_parts(&d.kind, Some(d.value)).ok()
    }
}

/// What an offer gives.
#[derive(Debug, Clone, Copy)]
pub enum Gives {
    /// A P云 coupon product of the car park.
    Product(i64),
    /// A local discount.
    Discount(DiscountKind),
}

/// A new offer, checked by the caller.
#[derive(Debug, Clone)]
pub struct NewOffer {
    /// Name.
    pub name: String,
    /// What it gives.
    pub gives: Gives,
    /// ≥ 1.
    pub daily_quota: i64,
    /// ≥ 1, or unlimited.
    pub monthly_quota: Option<i64>,
}

type ShopRow = (i64, i64, String, Option<String>, Option<i64>, i64, i64);

fn shop(r: ShopRow) -> Shop {
    Shop {
        id: r.0,
        park_id: r.1,
        name: r.2,
        store_code: r.3,
        active: r.4.is_none(),
        created_at: from_ms(r.5),
        updated_at: from_ms(r.6),
    }
}

const SHOP_COLUMNS: &str =
    "SELECT id, park_id, name, store_code, disabled_at, created_at, updated_at FROM shops ";

type OfferRow = (
    i64,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
);

fn offer(r: OfferRow) -> Offer {
    Offer {
        id: r.0,
        shop_id: r.1,
        name: r.2,
        product_id: r.3,
        discount: r.4.map(|kind| OfferDiscount {
            kind,
            value: r.5.unwrap_or(0),
        }),
        daily_quota: r.6,
        monthly_quota: r.7,
        active: r.8.is_none(),
        created_at: from_ms(r.9),
        updated_at: from_ms(r.10),
    }
}

const OFFER_COLUMNS: &str = "SELECT id, shop_id, name, product_id, discount_kind, discount_value, \
     daily_quota, monthly_quota, disabled_at, created_at, updated_at FROM shop_offers ";

/// Adds shop `name` to car park `park_id` (409 `shop_name_taken` from the constraint).
pub async fn create_shop(
    conn: &mut AnyConnection,
    park_id: i64,
    name: &str,
    store_code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, ShopsError> {
    sqlx::query_scalar(
        "INSERT INTO shops (park_id, name, store_code, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(park_id)
    .bind(name)
    .bind(store_code)
    .bind(to_ms(now))
    .fetch_one(conn)
    .await
    .map_err(|e| shop_name(e, name))
}

fn shop_name(e: sqlx::Error, name: &str) -> ShopsError {
    if unique_violation(&e).is_some() {
        ShopsError::ShopNameTaken(name.to_owned())
    } else {
        e.into()
    }
}

fn offer_name(e: sqlx::Error, name: &str) -> ShopsError {
    if unique_violation(&e).is_some() {
        ShopsError::OfferNameTaken(name.to_owned())
    } else {
        e.into()
    }
}

/// Changes shop `id`'s name, store code and switch.
pub async fn update_shop(
    conn: &mut AnyConnection,
    id: i64,
    name: &str,
    store_code: Option<&str>,
    active: bool,
    now: DateTime<Utc>,
) -> Result<(), ShopsError> {
    sqlx::query(
        "UPDATE shops SET name = $1, store_code = $2, \
         disabled_at = CASE WHEN $3 = 1 THEN NULL ELSE COALESCE(disabled_at, $4) END, \
         updated_at = $4 WHERE id = $5",
    )
    .bind(name)
    .bind(store_code)
    .bind(i64::from(active))
    .bind(to_ms(now))
    .bind(id)
    .execute(conn)
    .await
    .map_err(|e| shop_name(e, name))?;
    Ok(())
}

/// The shops of car park `park_id`, by name.
pub async fn shops_of_park(db: &Db, park_id: i64) -> Result<Vec<Shop>, sqlx::Error> {
    let rows = sqlx::query_as::<_, ShopRow>(sqlx::AssertSqlSafe(format!(
        "{SHOP_COLUMNS} WHERE park_id = $1 ORDER BY name"
    )))
    .bind(park_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(shop).collect())
}

/// Shop `id`, if any.
pub async fn shop_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Shop>, sqlx::Error> {
    let row =
        sqlx::query_as::<_, ShopRow>(sqlx::AssertSqlSafe(format!("{SHOP_COLUMNS} WHERE id = $1")))
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(shop))
}

/// Adds an offer to shop `shop_id` (409 `offer_name_taken` from the constraint).
pub async fn create_offer(
    conn: &mut AnyConnection,
    shop_id: i64,
    new: &NewOffer,
    now: DateTime<Utc>,
) -> Result<i64, ShopsError> {
    let (product, kind, value) = match new.gives {
        Gives::Product(p) => (Some(p), None, None),
        Gives::Discount(k) => (None, Some(k.name()), Some(k.value())),
    };
    sqlx::query_scalar(
        "INSERT INTO shop_offers (shop_id, name, product_id, discount_kind, discount_value, \
         daily_quota, monthly_quota, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(shop_id)
    .bind(&new.name)
    .bind(product)
    .bind(kind)
    .bind(value)
    .bind(new.daily_quota)
    .bind(new.monthly_quota)
    .bind(to_ms(now))
    .fetch_one(conn)
    .await
    .map_err(|e| offer_name(e, &new.name))
}

/// An offer's settable fields.
#[derive(Debug, Clone)]
pub struct OfferChange {
    /// Name.
    pub name: String,
    /// ≥ 1.
    pub daily_quota: i64,
    /// ≥ 1, or unlimited.
    pub monthly_quota: Option<i64>,
    /// Whether it may be given.
    pub active: bool,
}

/// Changes offer `id` (what it gives stays: the validations given are billed by it).
pub async fn update_offer(
    conn: &mut AnyConnection,
    id: i64,
    c: &OfferChange,
    now: DateTime<Utc>,
) -> Result<(), ShopsError> {
    sqlx::query(
        "UPDATE shop_offers SET name = $1, daily_quota = $2, monthly_quota = $3, \
         disabled_at = CASE WHEN $4 = 1 THEN NULL ELSE COALESCE(disabled_at, $5) END, \
         updated_at = $5 WHERE id = $6",
    )
    .bind(&c.name)
    .bind(c.daily_quota)
    .bind(c.monthly_quota)
    .bind(i64::from(c.active))
    .bind(to_ms(now))
    .bind(id)
    .execute(conn)
    .await
    .map_err(|e| offer_name(e, &c.name))?;
    Ok(())
}

/// The offers of shop `shop_id`, in creation order.
pub async fn offers_of_shop(
    conn: &mut AnyConnection,
    shop_id: i64,
) -> Result<Vec<Offer>, sqlx::Error> {
    let rows = sqlx::query_as::<_, OfferRow>(sqlx::AssertSqlSafe(format!(
        "{OFFER_COLUMNS} WHERE shop_id = $1 ORDER BY id"
    )))
    .bind(shop_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(offer).collect())
}

/// Offer `id`, if any.
pub async fn offer_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Offer>, sqlx::Error> {
    let row = sqlx::query_as::<_, OfferRow>(sqlx::AssertSqlSafe(format!(
        "{OFFER_COLUMNS} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(offer))
}

/// Offer `id` of `shop` if both are active: what a merchant may give now.
pub async fn live_offer(
    conn: &mut AnyConnection,
    shop: &Shop,
    id: i64,
) -> Result<Offer, ShopsError> {
    let offer = offer_by_id(conn, id)
        .await?
        .filter(|o| o.shop_id == shop.id)
        .ok_or(ShopsError::UnknownOffer)?;
    if !offer.active || !shop.active {
        return Err(ShopsError::OfferInactive);
    }
    Ok(offer)
}
