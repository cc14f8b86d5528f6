//! API keys of machine clients (gate controllers, EV chargers, POS): creation, lookup, revocation.
//!
//! A key reads `pbk_<12 hex public prefix>_<64 hex secret>`. The prefix finds the row; only the
//! SHA-256 of the whole key is stored, so the key itself exists only in the creation response.

use chrono::{TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::storage::{Db, from_ms, to_ms};
use crate::tokens;

/// What a machine client may do (PROTOCOLS.md §3).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Gate entries and exits.
    Gate,
    /// Event coupons and coupon grants.
    Coupons,
    /// VIP recharges.
    Vip,
    /// Discounts on parking stays (shop POS terminals, kiosks, local systems).
    Discounts,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [Scope::Gate, Scope::Coupons, Scope::Vip, Scope::Discounts];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Gate => "gate",
            Scope::Coupons => "coupons",
            Scope::Vip => "vip",
            Scope::Discounts => "discounts",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The `scopes` column: sorted, deduplicated, comma-joined names.
fn join_scopes(scopes: &[Scope]) -> String {
    let mut sorted = scopes.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads the `scopes` column; unknown names (never written by us) are dropped: least privilege.
fn split_scopes(column: &str) -> Vec<Scope> {
    column.split(',').filter_map(Scope::parse).collect()
}

/// A key as listed to admins: never the key or its hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKeyView {
    /// Key id.
    pub id: i64,
    /// What the key is for, e.g. `north gate`.
    pub name: String,
    /// The public part of the key (`pbk_<prefix>_…`), to recognise it.
    pub prefix: String,
    /// What the key may do.
    pub scopes: Vec<Scope>,
    /// The one car park the key may act on; `null` for all.
    pub park_id: Option<i64>,
    /// When it was created.
    pub created_at: chrono::DateTime<Utc>,
    /// When it last authenticated a request (updated at most once a minute).
    pub last_used_at: Option<chrono::DateTime<Utc>>,
    /// Whether it is revoked (refused from then on).
    pub revoked: bool,
}

#[derive(Debug, sqlx::FromRow)]
struct KeyRow {
    id: i64,
    name: String,
    prefix: String,
    key_hash: String,
    scopes: String,
    park_id: Option<i64>,
    created_at: i64,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl KeyRow {
    fn view(&self) -> ApiKeyView {
        ApiKeyView {
            id: self.id,
            name: self.name.clone(),
            prefix: self.prefix.clone(),
            scopes: split_scopes(&self.scopes),
            park_id: self.park_id,
            created_at: from_ms(self.created_at),
            last_used_at: self.last_used_at.map(from_ms),
            revoked: self.revoked_at.is_some(),
        }
    }
}

/// The key columns followed by a literal tail (keeps every query a literal, as sqlx 0.9 asks).
macro_rules! select_keys {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, prefix, key_hash, scopes, park_id, created_at, revoked_at, last_used_at FROM api_keys ",
            $tail
        )
    };
}

/// The fixed start of every key, so a leaked key is recognisable by secret scanners.
pub const KEY_TAG: &str = "pbk_";

/// How stale `last_used_at` may get: one write per key per minute keeps the hot path read-only.
const LAST_USED_GRANULARITY: TimeDelta = TimeDelta::minutes(1);

/// The public prefix of `key`, if it has our shape.
fn prefix_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_TAG)?;
    let (prefix, secret) = rest.split_once('_')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(prefix, 12) && hex(secret, 64)).then_some(prefix)
}

/// The validated content of a new key.
#[derive(Debug, Clone)]
pub struct NewKey<'a> {
    /// What the key is for.
    pub name: &'a str,
    /// Non-empty set of scopes.
    pub scopes: &'a [Scope],
    /// The one car park, or `None` for all.
    pub park_id: Option<i64>,
    /// The admin who created it (`None` from the CLI).
    pub created_by: Option<i64>,
}

/// Checks a key's name and scopes before it is stored.
pub fn validate(name: &str, scopes: &[Scope]) -> Result<(), ApiError> {
    let len = name.chars().count();
    if !(1..=100).contains(&len) || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_name",
            "name: 1–100 characters, no control characters",
        ));
    }
    if scopes.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_scopes",
            "scopes: at least one of gate, coupons, vip",
        ));
    }
    Ok(())
}

/// Stores a new key; returns the full key (to show once) and its view.
pub async fn create(db: &Db, new: NewKey<'_>) -> Result<(String, ApiKeyView), sqlx::Error> {
    let prefix = tokens::random_hex(6);
    let key = format!("{KEY_TAG}{prefix}_{}", tokens::random_hex(32));
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO api_keys (name, prefix, key_hash, scopes, park_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.name)
    .bind(&prefix)
    .bind(tokens::digest(&key))
    .bind(join_scopes(new.scopes))
    .bind(new.park_id)
    .bind(new.created_by)
    .bind(to_ms(Utc::now()))
    .fetch_one(&db.pool)
    .await?;
    let view = get(db, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    Ok((key, view))
}

/// Every key, newest first.
pub async fn list(db: &Db) -> Result<Vec<ApiKeyView>, sqlx::Error> {
    let rows = sqlx::query_as::<_, KeyRow>(select_keys!("ORDER BY id DESC"))
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.iter().map(KeyRow::view).collect())
}

/// The key with id `id`, if any.
pub async fn get(db: &Db, id: i64) -> Result<Option<ApiKeyView>, sqlx::Error> {
    let row = sqlx::query_as::<_, KeyRow>(select_keys!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(KeyRow::view))
}

/// The key whose public prefix is `prefix` (with or without the `pbk_` tag), if any.
pub async fn find_by_prefix(db: &Db, prefix: &str) -> Result<Option<ApiKeyView>, sqlx::Error> {
    let prefix = prefix.strip_prefix(KEY_TAG).unwrap_or(prefix);
    let row = sqlx::query_as::<_, KeyRow>(select_keys!("WHERE prefix = $1"))
        .bind(prefix)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(KeyRow::view))
}

/// Revokes key `id` (a second revocation keeps the first time); `None` if there is no such key.
pub async fn revoke(db: &Db, id: i64) -> Result<Option<ApiKeyView>, sqlx::Error> {
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(to_ms(Utc::now()))
        .bind(id)
        .execute(&db.pool)
        .await?;
    get(db, id).await
}

/// The id of the car park with id `id`, if it exists.
pub async fn park_exists(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT id FROM car_parks WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?
            .is_some(),
    )
}

/// The id of the car park whose code is `code`, if any (the CLI names parks by code).
pub async fn park_id_by_code(db: &Db, code: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT id FROM car_parks WHERE code = $1")
        .bind(code)
        .fetch_optional(&db.pool)
        .await
}

/// The machine client a request acts for, resolved from its API key.
#[derive(Debug, Clone, Serialize)]
pub struct MachineClient {
    /// Key id.
    pub key_id: i64,
    /// The key's name.
    pub name: String,
    /// The key's public prefix (for the audit log).
    pub prefix: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// The one car park it may act on; `None` for all.
    pub park_id: Option<i64>,
}

impl MachineClient {
    /// Whether this client may act on car park `park_id`.
    pub fn may_access_park(&self, park_id: i64) -> bool {
        self.park_id.is_none_or(|own| own == park_id)
    }

    /// `Ok` if this client may act on car park `park_id`, else the 403 to answer.
    pub fn check_park(&self, park_id: i64) -> Result<(), ApiError> {
        if self.may_access_park(park_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Whether the key carries `scope`.
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// The audit log's name for this client.
    pub fn actor(&self) -> String {
        format!("apikey:{}", self.prefix)
    }
}

/// The live (unrevoked) client `key` belongs to, if any; records the use at most once a minute.
pub async fn authenticate(db: &Db, key: &str) -> Result<Option<MachineClient>, sqlx::Error> {
    let Some(prefix) = prefix_of(key) else {
        return Ok(None);
    };
    let row = sqlx::query_as::<_, KeyRow>(select_keys!("WHERE prefix = $1 AND revoked_at IS NULL"))
        .bind(prefix)
        .fetch_optional(&db.pool)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    if !tokens::constant_time_eq(&tokens::digest(key), &row.key_hash) {
        return Ok(None);
    }
    let now = Utc::now();
    let stale = to_ms(now - LAST_USED_GRANULARITY);
    if row.last_used_at.is_none_or(|at| at < stale) {
        // The condition is repeated in SQL so that concurrent requests write once.
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(to_ms(now))
        .bind(row.id)
        .bind(stale)
        .execute(&db.pool)
        .await?;
    }
    Ok(Some(MachineClient {
        key_id: row.id,
        scopes: split_scopes(&row.scopes),
        name: row.name,
        prefix: row.prefix,
        park_id: row.park_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_the_column_sorted_and_deduplicated() {
        let column = join_scopes(&[Scope::Vip, Scope::Gate, Scope::Vip]);
        assert_eq!(column, "gate,vip");
        assert_eq!(split_scopes(&column), vec![Scope::Gate, Scope::Vip]);
        assert_eq!(split_scopes("gate,admin"), vec![Scope::Gate]);
    }

    #[test]
    fn only_keys_of_our_shape_have_a_prefix() {
        let key = format!("pbk_{}_{}", "a1".repeat(6), "0f".repeat(32));
        assert_eq!(prefix_of(&key), Some("a1a1a1a1a1a1"));
        assert_eq!(prefix_of("pbk_short_0f"), None);
        assert_eq!(prefix_of(&key.replace("pbk_", "xyz_")), None);
        assert_eq!(prefix_of(&format!("{key}0")), None);
    }

    #[test]
    fn a_key_bound_to_one_park_may_not_act_on_another() {
        let mut client = MachineClient {
            key_id: 1,
            name: "gate".into(),
            prefix: "a1a1a1a1a1a1".into(),
            scopes: vec![Scope::Gate],
            park_id: Some(7),
        };
        assert!(client.may_access_park(7));
        assert!(!client.may_access_park(8));
        assert!(matches!(client.check_park(8), Err(ApiError::Forbidden)));
        client.park_id = None;
        assert!(client.may_access_park(8));
    }
}
