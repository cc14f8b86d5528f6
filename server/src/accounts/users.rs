//! Users in the database: create, find, list, update, and the car parks each may act on.

use chrono::Utc;
use serde::Serialize;

use super::{CurrentUser, Role};
use crate::storage::{Db, to_ms};

/// A user as listed to admins (never the password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// User id.
    pub id: i64,
    /// Sign-in name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Car parks this user may act on.
    pub parks: Vec<i64>,
    /// Whether sign-in is refused.
    pub disabled: bool,
    /// The shop a merchant is bound to (absent for other roles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<i64>,
}

#[derive(Debug, sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    password_hash: String,
    role: String,
    disabled_at: Option<i64>,
    shop_id: Option<i64>,
}

/// A stored user with what sign-in needs.
#[derive(Debug)]
pub struct StoredUser {
    /// The view (no hash).
    pub view: UserView,
    /// PHC argon2id hash.
    pub password_hash: String,
}

impl UserRow {
    fn into_stored(self, parks: Vec<i64>) -> StoredUser {
        StoredUser {
            view: UserView {
                id: self.id,
                username: self.username,
                // The CHECK constraint admits only known roles; a hand-edited row degrades to least privilege.
                role: Role::parse(&self.role).unwrap_or(Role::MallStaff),
                parks,
                disabled: self.disabled_at.is_some(),
                shop_id: self.shop_id,
            },
            password_hash: self.password_hash,
        }
    }
}

impl UserView {
    /// The request identity of this user.
    pub fn to_current(&self) -> CurrentUser {
        CurrentUser {
            id: self.id,
            username: self.username.clone(),
            role: self.role,
            parks: self.parks.clone(),
            shop_id: self.shop_id,
        }
    }
}

/// The user columns followed by a literal tail (keeps every query a literal, as sqlx 0.9 asks).
macro_rules! select_users {
    ($tail:literal) => {
        concat!(
            "SELECT id, username, password_hash, role, disabled_at, shop_id FROM users ",
            $tail
        )
    };
}

/// Inserts a user with the car parks it may act on, atomically: a duplicate username (unique
/// violation `users_username_key`) or an unknown park (foreign-key violation) leaves nothing behind.
pub async fn create(
    db: &Db,
    username: &str,
    password_hash: &str,
    role: Role,
    parks: &[i64],
) -> Result<i64, sqlx::Error> {
    create_in_shop(db, username, password_hash, role, parks, None).await
}

/// As `create`, with the shop a merchant is bound to (the database refuses a merchant without
/// one, and a shop for any other role: `users_merchant_shop_check`).
pub async fn create_in_shop(
    db: &Db,
    username: &str,
    password_hash: &str,
    role: Role,
    parks: &[i64],
    shop_id: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (username, password_hash, role, created_at, shop_id) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(to_ms(Utc::now()))
    .bind(shop_id)
    .fetch_one(&mut *tx)
    .await?;
    insert_parks(&mut tx, id, parks).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_parks(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    parks: &[i64],
) -> Result<(), sqlx::Error> {
    for park in parks {
        sqlx::query("INSERT INTO user_parks (user_id, park_id) VALUES ($1, $2)")
            .bind(id)
            .bind(park)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The user named `username`, if any.
pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<StoredUser>, sqlx::Error> {
    let row = sqlx::query_as::<_, UserRow>(select_users!("WHERE username = $1"))
        .bind(username)
        .fetch_optional(&db.pool)
        .await?;
    with_parks(db, row).await
}

/// The user with id `id`, if any.
pub async fn get(db: &Db, id: i64) -> Result<Option<StoredUser>, sqlx::Error> {
    let row = sqlx::query_as::<_, UserRow>(select_users!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    with_parks(db, row).await
}

async fn with_parks(db: &Db, row: Option<UserRow>) -> Result<Option<StoredUser>, sqlx::Error> {
    match row {
        Some(row) => {
            let parks = parks_of(db, row.id).await?;
            Ok(Some(row.into_stored(parks)))
        }
        None => Ok(None),
    }
}

/// Every user, by username.
pub async fn list(db: &Db) -> Result<Vec<UserView>, sqlx::Error> {
    let rows = sqlx::query_as::<_, UserRow>(select_users!("ORDER BY username"))
        .fetch_all(&db.pool)
        .await?;
    let links =
        sqlx::query_as::<_, (i64, i64)>("SELECT user_id, park_id FROM user_parks ORDER BY park_id")
            .fetch_all(&db.pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let parks = links
                .iter()
                .filter(|(u, _)| *u == row.id)
                .map(|(_, p)| *p)
                .collect();
            row.into_stored(parks).view
        })
        .collect())
}

/// The car parks user `id` may act on.
pub async fn parks_of(db: &Db, id: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar::<_, i64>(
        "SELECT park_id FROM user_parks WHERE user_id = $1 ORDER BY park_id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await
}

/// Replaces the car parks user `id` may act on (an unknown park id is a foreign-key error).
pub async fn set_parks(db: &Db, id: i64, parks: &[i64]) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("DELETE FROM user_parks WHERE user_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for park in parks {
        sqlx::query("INSERT INTO user_parks (user_id, park_id) VALUES ($1, $2)")
            .bind(id)
            .bind(park)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Changes the role of user `id`.
pub async fn set_role(db: &Db, id: i64, role: Role) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Disables (refuses sign-in) or re-enables user `id`.
pub async fn set_disabled(db: &Db, id: i64, disabled: bool) -> Result<(), sqlx::Error> {
    let at = disabled.then(|| to_ms(Utc::now()));
    sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Replaces the password hash of user `id`.
pub async fn set_password_hash(db: &Db, id: i64, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
