//! `GET /api/v1/audit`: the audit log for admins, newest first, paged by id.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::AppState;
use crate::audit::{self, AuditEntry};
use crate::error::ApiError;

/// Entries per page when `limit` is absent.
const DEFAULT_LIMIT: i64 = 100;
/// The most entries one page may hold.
const MAX_LIMIT: i64 = 500;

/// Paging: `limit` entries older than entry id `before`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Page {
    limit: Option<i64>,
    before: Option<i64>,
}

/// `GET /api/v1/audit?limit=&before=`: a `limit` above 500 is served as 500.
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
