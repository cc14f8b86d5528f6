//! The audit log: who changed what and when. Callers pass descriptions, never secret values.

use chrono::Utc;
use serde::Serialize;

use crate::storage::{Db, from_ms, to_ms};

/// Appends one entry; `detail` is a JSON object describing the change without secrets.
pub async fn record(
    db: &Db,
    actor: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    record_on(
        &mut *db.pool.acquire().await?,
        actor,
        action,
        target,
        detail,
    )
    .await
}

/// [`record`] on `conn`, e.g. inside the transaction of the change it describes, so that the
/// change and its entry exist together or not at all.
pub async fn record_on(
    conn: &mut sqlx::AnyConnection,
    actor: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(to_ms(Utc::now()))
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// One audit entry as shown to admins.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Entry id (increasing).
    pub id: i64,
    /// When, UTC.
    pub at: chrono::DateTime<Utc>,
    /// Who (`user:<name>`, `cli`, `apikey:<prefix>`).
    pub actor: String,
    /// What kind of change, e.g. `user.create`.
    pub action: String,
    /// What it changed, e.g. `user:alice`.
    pub target: String,
    /// Details (never a secret).
    pub detail: serde_json::Value,
}

/// The newest `limit` entries, newest first, older than `before` when given (paging).
pub async fn recent(
    db: &Db,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows = sqlx::query_as::<_, (i64, i64, String, String, String, String)>(
        "SELECT id, at, actor, action, target, detail FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, at, actor, action, target, detail)| AuditEntry {
            id,
            at: from_ms(at),
            actor,
            action,
            target,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
        })
        .collect())
}
