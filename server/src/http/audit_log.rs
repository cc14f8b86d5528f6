//! `GET /api/v1/audit`: the audit log for admins, newest first, paged by id.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::AppState;
use crate::audit::{self, AuditEntry};
use crate::error::{ApiError, ErrorBody};

/// Entries per page when `limit` is absent.
const DEFAULT_LIMIT: i64 = 100;
/// The most entries one page may hold.
const MAX_LIMIT: i64 = 500;

/// Paging: `limit` entries older than entry id `before`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    /// Entries per page: 1 or more (default 100); above 500 is served as 500.
    #[param(minimum = 1)]
    limit: Option<i64>,
    /// Only entries with an id below this one (the last id of the previous page).
    before: Option<i64>,
}

/// `GET /api/v1/audit?limit=&before=`: a `limit` above 500 is served as 500.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    security(("session" = [])),
    params(Page),
    responses(
        (status = 200, description = "Audit entries, newest first", body = [AuditEntry]),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let Query(page) = page.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let limit = page.limit.unwrap_or(DEFAULT_LIMIT);
    if limit < 1 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit must be at least 1",
        ));
    }
    Ok(Json(
        audit::recent(&state.db, limit.min(MAX_LIMIT), page.before).await?,
    ))
}
