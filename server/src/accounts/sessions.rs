//! Browser sessions in the database, so every instance behind a load balancer shares them.

use chrono::{TimeDelta, Utc};

use super::users::{self, UserView};
use crate::storage::{Db, to_ms};
use crate::tokens;

/// The session cookie's name.
pub const COOKIE: &str = "pb_session";

/// Starts a session for `user_id` lasting `ttl`; returns the token for the cookie.
pub async fn create(db: &Db, user_id: i64, ttl: TimeDelta) -> Result<String, sqlx::Error> {
    let token = tokens::random_hex(32);
    let now = Utc::now();
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(tokens::digest(&token))
        .bind(user_id)
        .bind(to_ms(now))
        .bind(to_ms(now + ttl))
        .execute(&db.pool)
        .await?;
    Ok(token)
}

/// The enabled user of a live (not expired, not revoked) session, if `token` names one.
pub async fn user_of(db: &Db, token: &str) -> Result<Option<UserView>, sqlx::Error> {
    let user_id = sqlx::query_scalar::<_, i64>(
        "SELECT user_id FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(tokens::digest(token))
    .bind(to_ms(Utc::now()))
    .fetch_optional(&db.pool)
    .await?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    Ok(users::get(db, user_id)
        .await?
        .map(|u| u.view)
        .filter(|u| !u.disabled))
}

/// Ends the session named by `token` (sign-out).
pub async fn revoke(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
        .bind(to_ms(Utc::now()))
        .bind(tokens::digest(token))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Ends every session of `user_id`; returns how many were live.
pub async fn revoke_all(db: &Db, user_id: i64) -> Result<u64, sqlx::Error> {
    let now = to_ms(Utc::now());
    let done = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1")
        .bind(now)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
