//! Row locks that serialise writers of one car park across connections and instances.

/// Serialises writers of car park `park_id` inside the caller's transaction. A write first:
/// SQLite takes its write lock now (a read-then-write transaction fails with "database is
/// locked" when another writer commits in between) and PostgreSQL locks the car park's row, so
/// instances handle one car park's VIP batching, or its plated entries, one at a time.
pub async fn lock_park(conn: &mut sqlx::AnyConnection, park_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE car_parks SET updated_at = updated_at WHERE id = $1")
        .bind(park_id)
        .execute(conn)
        .await?;
    Ok(())
}
