//! Per-car-park coupon configuration an admin sets: the event coupon's P云 `api_type` and the
//! metadata keys it takes, and named coupon products (P云 `coupon_code` + `store_code`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::storage::{Db, from_ms, to_ms};

/// One metadata key P云 assigned to the car park's event rule, with its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MetadataKey {
    /// P云's business key, e.g. `charge_kwh`; 1–64 characters, unique among the keys.
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub key: String,
    /// What it means, sent as the metadata entry's `name`; 1–64 characters.
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
}

/// The event coupon settings of a car park.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventSettings {
    /// P云's `api_type` for this car park's events; `None` until an admin sets it (blank unsets it).
    #[schema(
        pattern = r"^\s*(?:[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]{0,62}[^\s\x00-\x1F\x7F-\x9F])?)?\s*$"
    )]
    pub api_type: Option<String>,
    /// The metadata keys callers may send (at most 16); empty when the rule is fixed.
    #[schema(max_items = 16)]
    pub metadata_keys: Vec<MetadataKey>,
}

/// A coupon product, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Product {
    /// Product id.
    pub id: i64,
    /// The car park.
    pub park_id: i64,
    /// The name people and machine clients pick it by.
    pub name: String,
    /// P云 `coupon_code`.
    pub coupon_code: String,
    /// P云 `store_code`.
    pub store_code: String,
    /// Coupons per grant.
    pub quantity: u32,
    /// Default reason sent with a grant.
    pub reason: Option<String>,
    /// Hidden from new grants; kept for the records naming it.
    pub archived: bool,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A product's settable fields, validated by the caller.
#[derive(Debug, Clone)]
pub struct ProductFields {
    /// Name.
    pub name: String,
    /// P云 `coupon_code`.
    pub coupon_code: String,
    /// P云 `store_code`.
    pub store_code: String,
    /// Coupons per grant.
    pub quantity: u32,
    /// Default reason.
    pub reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: i64,
    park_id: i64,
    name: String,
    coupon_code: String,
    store_code: String,
    quantity: i64,
    reason: Option<String>,
    archived_at: Option<i64>,
    updated_at: i64,
}

impl ProductRow {
    fn into_product(self) -> Product {
        Product {
            id: self.id,
            park_id: self.park_id,
            name: self.name,
            coupon_code: self.coupon_code,
            store_code: self.store_code,
            quantity: u32::try_from(self.quantity).unwrap_or(1),
            reason: self.reason,
            archived: self.archived_at.is_some(),
            updated_at: from_ms(self.updated_at),
        }
    }
}

macro_rules! select_products {
    ($where:literal) => {
        concat!(
            "SELECT id, park_id, name, coupon_code, store_code, quantity, reason, archived_at, updated_at FROM coupon_products ",
            $where
        )
    };
}

/// The event settings of car park `park_id` (defaults when never set).
pub async fn event_settings(db: &Db, park_id: i64) -> Result<EventSettings, sqlx::Error> {
    let row: Option<(Option<String>, String)> = sqlx::query_as(
        "SELECT api_type, metadata_json FROM coupon_event_settings WHERE park_id = $1",
    )
    .bind(park_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(match row {
        Some((api_type, metadata)) => EventSettings {
            api_type,
            // Only validated lists are written.
            metadata_keys: serde_json::from_str(&metadata).unwrap_or_default(),
        },
        None => EventSettings::default(),
    })
}

/// Replaces the event settings of car park `park_id`.
pub async fn set_event_settings(
    db: &Db,
    park_id: i64,
    settings: &EventSettings,
) -> Result<(), sqlx::Error> {
    let metadata = serde_json::to_string(&settings.metadata_keys).expect("strings serialise");
    sqlx::query(
        "INSERT INTO coupon_event_settings (park_id, api_type, metadata_json, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (park_id) DO UPDATE SET api_type = excluded.api_type, metadata_json = excluded.metadata_json, updated_at = excluded.updated_at",
    )
    .bind(park_id)
    .bind(&settings.api_type)
    .bind(metadata)
    .bind(to_ms(Utc::now()))
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The products of car park `park_id`, by name, archived ones included.
pub async fn products(db: &Db, park_id: i64) -> Result<Vec<Product>, sqlx::Error> {
    let rows =
        sqlx::query_as::<_, ProductRow>(select_products!("WHERE park_id = $1 ORDER BY name"))
            .bind(park_id)
            .fetch_all(&db.pool)
            .await?;
    Ok(rows.into_iter().map(ProductRow::into_product).collect())
}

/// Product `id` of car park `park_id`.
pub async fn product(db: &Db, park_id: i64, id: i64) -> Result<Option<Product>, sqlx::Error> {
    let row = sqlx::query_as::<_, ProductRow>(select_products!("WHERE park_id = $1 AND id = $2"))
        .bind(park_id)
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(ProductRow::into_product))
}

/// The live (unarchived) product named `name` at car park `park_id`.
pub async fn product_by_name(
    db: &Db,
    park_id: i64,
    name: &str,
) -> Result<Option<Product>, sqlx::Error> {
    let row = sqlx::query_as::<_, ProductRow>(select_products!(
        "WHERE park_id = $1 AND name = $2 AND archived_at IS NULL"
    ))
    .bind(park_id)
    .bind(name)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(ProductRow::into_product))
}

/// Adds a product; a taken name is the constraint `coupon_products_park_id_name_key`.
pub async fn create_product(
    db: &Db,
    park_id: i64,
    f: &ProductFields,
) -> Result<Product, sqlx::Error> {
    let now = to_ms(Utc::now());
    let row = sqlx::query_as::<_, ProductRow>(
        "INSERT INTO coupon_products (park_id, name, coupon_code, store_code, quantity, reason, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         RETURNING id, park_id, name, coupon_code, store_code, quantity, reason, archived_at, updated_at",
    )
    .bind(park_id)
    .bind(&f.name)
    .bind(&f.coupon_code)
    .bind(&f.store_code)
    .bind(i64::from(f.quantity))
    .bind(&f.reason)
    .bind(now)
    .fetch_one(&db.pool)
    .await?;
    Ok(row.into_product())
}

/// Replaces a product's fields; `None` if there is no such product.
pub async fn update_product(
    db: &Db,
    park_id: i64,
    id: i64,
    f: &ProductFields,
) -> Result<Option<Product>, sqlx::Error> {
    let row = sqlx::query_as::<_, ProductRow>(
        "UPDATE coupon_products SET name = $1, coupon_code = $2, store_code = $3, quantity = $4, reason = $5, updated_at = $6 \
         WHERE park_id = $7 AND id = $8 \
         RETURNING id, park_id, name, coupon_code, store_code, quantity, reason, archived_at, updated_at",
    )
    .bind(&f.name)
    .bind(&f.coupon_code)
    .bind(&f.store_code)
    .bind(i64::from(f.quantity))
    .bind(&f.reason)
    .bind(to_ms(Utc::now()))
    .bind(park_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(ProductRow::into_product))
}

/// Archives a product; false if there is no such product.
pub async fn archive_product(db: &Db, park_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let now = to_ms(Utc::now());
    let done = sqlx::query(
        "UPDATE coupon_products SET archived_at = COALESCE(archived_at, $1), updated_at = $1 WHERE park_id = $2 AND id = $3",
    )
    .bind(now)
    .bind(park_id)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
