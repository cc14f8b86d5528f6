//! The mall's read APIs of a car park's parking: traffic over days and the sessions list.
//! Admins, and property managers and mall staff of the car park (others get 404, as elsewhere).

use axum::Extension;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::Utc;
use serde::Deserialize;

use super::AppState;
use super::vip_records::{query, visible_park};
use crate::accounts::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::parking::dashboard::{self, DayRange, Traffic};
use crate::parking::history::{self, PlateMatch, STATES, SessionFilter, SessionPage};

/// The days of a traffic query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TrafficQuery {
    /// First day, `YYYY-MM-DD` Asia/Shanghai (default today; blank means the default).
    #[param(pattern = r"^\s*$|^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    from: Option<String>,
    /// Last day, inclusive (default `from`); at most 31 days in all.
    #[param(pattern = r"^\s*$|^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    to: Option<String>,
}

/// `GET /api/v1/parks/{id}/traffic?from=&to=`.
#[utoipa::path(
    get,
    path = "/api/v1/parks/{id}/traffic",
    tag = "parking",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id"), TrafficQuery),
    responses(
        (status = 200, description = "Entries, exits and occupancy per hour, totals, cars inside and (with `total_spaces` configured) free spaces and occupancy now, payments by channel, discounts by source", body = Traffic),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 422, description = "`invalid_range`: a day that is not `YYYY-MM-DD`, a reversed range or more than 31 days", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
    )
)]
pub(crate) async fn traffic(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    q: Result<Query<TrafficQuery>, QueryRejection>,
) -> Result<Json<Traffic>, ApiError> {
    let q = query(q)?;
    let park = visible_park(&state, &user, id).await?;
    let range = DayRange::parse(
        q.from.as_deref(),
        q.to.as_deref(),
        dashboard::shanghai_today(Utc::now()),
    )
    .map_err(|e| ApiError::unprocessable("invalid_range", e.to_string()))?;
    Ok(Json(
        dashboard::traffic(&state.db, id, park.fields.total_spaces, range).await?,
    ))
}

/// Filters and paging of the sessions list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SessionsQuery {
    /// A whole plate (exact match) or its beginning.
    plate: Option<String>,
    /// `open`, `closed` or `no_exit_seen`; empty means any.
    #[param(value_type = Option<String>, pattern = "^(|open|closed|no_exit_seen)$")]
    state: Option<String>,
    /// Sessions older than this id (the previous page's `next_before`).
    before: Option<i64>,
    /// Page size (default 50, at most 200).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// `GET /api/v1/parks/{id}/sessions?plate=&state=&before=&limit=`.
#[utoipa::path(
    get,
    path = "/api/v1/parks/{id}/sessions",
    tag = "parking",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id"), SessionsQuery),
    responses(
        (status = 200, description = "A page of sessions, newest first", body = SessionPage),
        (status = 400, description = "Unknown state or a bad limit", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
    )
)]
pub(crate) async fn sessions(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    q: Result<Query<SessionsQuery>, QueryRejection>,
) -> Result<Json<SessionPage>, ApiError> {
    let q = query(q)?;
    let park = visible_park(&state, &user, id).await?;
    let session_state = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(STATES.into_iter().find(|k| *k == s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!("state must be open, closed or no_exit_seen, not `{s}`"),
            )
        })?),
    };
    let limit = q.limit.unwrap_or(history::DEFAULT_LIMIT);
    if !(1..=history::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be from 1 to {}", history::MAX_LIMIT),
        ));
    }
    let filter = SessionFilter {
        plate: q.plate.as_deref().and_then(PlateMatch::parse),
        state: session_state,
        before: q.before,
        limit,
    };
    Ok(Json(
        history::sessions(&state.db, id, &park.fields.tariff, &filter, Utc::now()).await?,
    ))
}
