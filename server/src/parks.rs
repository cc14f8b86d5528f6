//! Car parks (PROTOCOLS.md §0): their platform identifiers, tariff and credential references.

use chrono::Utc;
use protocol::tariff::Tariff;
use serde::Serialize;
use sqlx::Row as _;

use crate::storage::{Db, from_ms, to_ms};

/// A car park's settable fields, already validated by the caller.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParkFields {
    /// Our short unique slug, the `park` of machine clients.
    pub code: String,
    /// Display name.
    pub name: String,
    /// P云 `park_uuid`.
    pub pyun_park_uuid: Option<String>,
    /// P云 `api_store_code`.
    pub pyun_api_store_code: Option<String>,
    /// P云 `merchant`.
    pub pyun_merchant: Option<String>,
    /// Mallcoo `parkId` (unique).
    pub mallcoo_park_id: Option<String>,
    /// Mallcoo `ParkCode`.
    pub mallcoo_park_code: Option<String>,
    /// The tariff (valid), grace minutes included (PROTOCOLS.md §5; shape as in
    /// `PUT /api/v1/parks/{id}/tariff`).
    #[schema(value_type = Object)]
    pub tariff: Tariff,
    /// The P云 credential used for outbound calls.
    pub pyun_credential_id: Option<i64>,
    /// The Mallcoo credential for our calls to Mallcoo.
    pub mallcoo_out_credential_id: Option<i64>,
    /// The key pair Mallcoo signs its calls to us with.
    pub mallcoo_in_credential_id: Option<i64>,
    /// Parking spaces (0–100000) for the 余位 sign and occupancy; `null` when not configured.
    pub total_spaces: Option<i64>,
    /// The `pyun_carpark` credential: P云 car-park access is on (uploads, the gateway answers for
    /// `pyun_park_uuid`); `null`: off.
    pub pyun_carpark_credential_id: Option<i64>,
}

/// A car park as the API shows it: its id, its fields (flattened into the same JSON object) and
/// its timestamps.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Park {
    /// Car park id.
    pub id: i64,
    /// Everything an admin sets.
    #[serde(flatten)]
    pub fields: ParkFields,
    /// Creation time.
    pub created_at: chrono::DateTime<Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    code: String,
    name: String,
    pyun_park_uuid: Option<String>,
    pyun_api_store_code: Option<String>,
    pyun_merchant: Option<String>,
    mallcoo_park_id: Option<String>,
    mallcoo_park_code: Option<String>,
    tariff_json: String,
    pyun_credential_id: Option<i64>,
    mallcoo_out_credential_id: Option<i64>,
    mallcoo_in_credential_id: Option<i64>,
    total_spaces: Option<i64>,
    pyun_carpark_credential_id: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl Row {
    fn into_park(self) -> Park {
        let fields = ParkFields {
            code: self.code,
            name: self.name,
            pyun_park_uuid: self.pyun_park_uuid,
            pyun_api_store_code: self.pyun_api_store_code,
            pyun_merchant: self.pyun_merchant,
            mallcoo_park_id: self.mallcoo_park_id,
            mallcoo_park_code: self.mallcoo_park_code,
            // Only validated tariffs are written; a hand-edited row falls back to the example
            // rather than making the car park unreadable.
            tariff: serde_json::from_str(&self.tariff_json).unwrap_or_else(|e| {
                tracing::error!(park = self.id, error = %e, "stored tariff does not parse");
                Tariff::example()
            }),
            pyun_credential_id: self.pyun_credential_id,
            mallcoo_out_credential_id: self.mallcoo_out_credential_id,
            mallcoo_in_credential_id: self.mallcoo_in_credential_id,
            total_spaces: self.total_spaces,
            pyun_carpark_credential_id: self.pyun_carpark_credential_id,
        };
        Park {
            id: self.id,
            fields,
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
        }
    }
}

/// The car park columns followed by a literal tail (keeps every query a literal, as sqlx 0.9 asks).
macro_rules! select_parks {
    ($tail:literal) => {
        concat!(
            "SELECT id, code, name, pyun_park_uuid, pyun_api_store_code, pyun_merchant, ",
            "mallcoo_park_id, mallcoo_park_code, tariff_json, pyun_credential_id, ",
            "mallcoo_out_credential_id, mallcoo_in_credential_id, total_spaces, pyun_carpark_credential_id, ",
            "created_at, updated_at ",
            "FROM car_parks ",
            $tail
        )
    };
}

fn tariff_json(tariff: &Tariff) -> String {
    serde_json::to_string(tariff).expect("a tariff serialises")
}

/// Every car park, by code.
pub async fn list(db: &Db) -> Result<Vec<Park>, sqlx::Error> {
    let rows = sqlx::query_as::<_, Row>(select_parks!("ORDER BY code"))
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.into_iter().map(Row::into_park).collect())
}

/// The car park with id `id`, if any.
pub async fn get(db: &Db, id: i64) -> Result<Option<Park>, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(select_parks!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(Row::into_park))
}

/// The car park with code `code`, if any.
pub async fn find_by_code(db: &Db, code: &str) -> Result<Option<Park>, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(select_parks!("WHERE code = $1"))
        .bind(code)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(Row::into_park))
}

/// Binds the thirteen settable columns, `$1` to `$13` in the order of `ParkFields`, shared by the
/// insert and the full update so the two cannot drift apart.
fn bind_fields<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    f: &'q ParkFields,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(&f.code)
        .bind(&f.name)
        .bind(&f.pyun_park_uuid)
        .bind(&f.pyun_api_store_code)
        .bind(&f.pyun_merchant)
        .bind(&f.mallcoo_park_id)
        .bind(&f.mallcoo_park_code)
        .bind(tariff_json(&f.tariff))
        .bind(f.pyun_credential_id)
        .bind(f.mallcoo_out_credential_id)
        .bind(f.mallcoo_in_credential_id)
        .bind(f.total_spaces)
        .bind(f.pyun_carpark_credential_id)
}

/// Inserts a car park; duplicates are `car_parks_code_key` / `car_parks_mallcoo_park_id_key`.
pub async fn create(db: &Db, f: &ParkFields) -> Result<i64, sqlx::Error> {
    let insert = sqlx::query(
        "INSERT INTO car_parks (code, name, pyun_park_uuid, pyun_api_store_code, pyun_merchant, mallcoo_park_id, mallcoo_park_code, tariff_json, pyun_credential_id, mallcoo_out_credential_id, mallcoo_in_credential_id, total_spaces, pyun_carpark_credential_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
    );
    let row = bind_fields(insert, f)
        .bind(to_ms(Utc::now()))
        .fetch_one(&db.pool)
        .await?;
    row.try_get("id")
}

/// Replaces every field of car park `id`; false if there is none.
pub async fn update(db: &Db, id: i64, f: &ParkFields) -> Result<bool, sqlx::Error> {
    let update = sqlx::query(
        "UPDATE car_parks SET code = $1, name = $2, pyun_park_uuid = $3, pyun_api_store_code = $4, pyun_merchant = $5, mallcoo_park_id = $6, mallcoo_park_code = $7, tariff_json = $8, pyun_credential_id = $9, mallcoo_out_credential_id = $10, mallcoo_in_credential_id = $11, total_spaces = $12, pyun_carpark_credential_id = $13, updated_at = $14 WHERE id = $15",
    );
    let done = bind_fields(update, f)
        .bind(to_ms(Utc::now()))
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the tariff of car park `id` (already validated); false if there is none.
pub async fn set_tariff(db: &Db, id: i64, tariff: &Tariff) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE car_parks SET tariff_json = $1, updated_at = $2 WHERE id = $3")
        .bind(tariff_json(tariff))
        .bind(to_ms(Utc::now()))
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
