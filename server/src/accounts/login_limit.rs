//! Sign-in rate limit per account and per client address, kept in the database so that every
//! instance counts the same failures.

use chrono::{TimeDelta, Utc};

use crate::storage::{Db, to_ms};

/// How far back failures count.
pub const WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failures of one account within the window before sign-in is refused.
pub const MAX_PER_ACCOUNT: i64 = 5;
/// Failures from one address within the window before sign-in is refused.
pub const MAX_PER_ADDRESS: i64 = 20;

async fn failures(db: &Db, scope: &str, key: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM login_failures WHERE scope = $1 AND key = $2 AND at > $3",
    )
    .bind(scope)
    .bind(key)
    .bind(to_ms(Utc::now() - WINDOW))
    .fetch_one(&db.pool)
    .await
}

/// Whether a sign-in for `username` from `address` must be refused for now.
pub async fn is_limited(db: &Db, username: &str, address: &str) -> Result<bool, sqlx::Error> {
    Ok(failures(db, "user", username).await? >= MAX_PER_ACCOUNT
        || failures(db, "ip", address).await? >= MAX_PER_ADDRESS)
}

/// Records a failed sign-in, and forgets failures older than the window.
pub async fn record_failure(db: &Db, username: &str, address: &str) -> Result<(), sqlx::Error> {
    let now = to_ms(Utc::now());
    let mut tx = db.pool.begin().await?;
    for (scope, key) in [("user", username), ("ip", address)] {
        sqlx::query("INSERT INTO login_failures (scope, key, at) VALUES ($1, $2, $3)")
            .bind(scope)
            .bind(key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM login_failures WHERE at <= $1")
        .bind(to_ms(Utc::now() - WINDOW))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Clears the account's failures after a successful sign-in.
pub async fn clear_account(db: &Db, username: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE scope = 'user' AND key = $1")
        .bind(username)
        .execute(&db.pool)
        .await?;
    Ok(())
}
