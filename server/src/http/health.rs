//! `GET /healthz`: liveness plus a real round trip to the database.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::AppState;

/// The health report; the frontend shows it and load balancers read the status code.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Health {
    status: &'static str,
    version: &'static str,
    database: &'static str,
}

/// 200 when the database answers, 503 otherwise.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "Up, and the database answers", body = Health),
        (status = 503, description = "The database does not answer", body = Health),
    )
)]
pub(super) async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let db_ok = sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&state.db.pool)
        .await
        .is_ok();
    let (code, status, database) = if db_ok {
        (StatusCode::OK, "ok", "ok")
    } else {
        tracing::warn!("health check: database did not answer");
        (StatusCode::SERVICE_UNAVAILABLE, "degraded", "unavailable")
    };
    (
        code,
        Json(Health {
            status,
            version: env!("CARGO_PKG_VERSION"),
            database,
        }),
    )
}
