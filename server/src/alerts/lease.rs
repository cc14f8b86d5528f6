//! A named lease in the database, so that work meant for one instance at a time (problem
//! detection) runs on one: the holder renews it each pass; when it dies, another instance takes
//! it once `until_ms` lapses.

use chrono::{DateTime, TimeDelta, Utc};

use crate::storage::{Db, to_ms};

/// Takes or renews lease `name` for `holder` until `now + ttl`; true when `holder` holds it.
pub async fn hold(
    db: &Db,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    ttl: TimeDelta,
) -> Result<bool, sqlx::Error> {
    // One statement in both engines: a free, lapsed or own lease is (re)taken; another holder's
    // live lease makes the update's WHERE false and nothing changes.
    let done = sqlx::query(
        "INSERT INTO leases (name, holder, until_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms \
         WHERE leases.until_ms < $4 OR leases.holder = excluded.holder",
    )
    .bind(name)
    .bind(holder)
    .bind(to_ms(now + ttl))
    .bind(to_ms(now))
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives lease `name` up if `holder` holds it (a clean shutdown), so another takes over at once.
pub async fn release(db: &Db, name: &str, holder: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(&db.pool)
        .await?;
    Ok(())
}
