//! `GET /api/v1/alert-channels/{id}/sends`: a channel's last messages for its admin — which
//! problem, which message, where it stands and what the vendor answered — so a channel that
//! stopped delivering shows why without reading the server's logs.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::AppState;
use crate::alerts::channels;
use crate::alerts::sends::{self, ChannelSend};
use crate::error::{ApiError, ErrorBody};

/// How many of a channel's last sends to read.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendsQuery {
    /// 1–50, default 10.
    #[param(minimum = 1, maximum = 50)]
    limit: Option<i64>,
}

/// `GET /api/v1/alert-channels/{id}/sends`: the channel's last messages, test messages included,
/// newest first, each with its state and the vendor's answer.
#[utoipa::path(
    get,
    path = "/api/v1/alert-channels/{id}/sends",
    tag = "alerts",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Channel id"), SendsQuery),
    responses(
        (status = 200, description = "The newest sends, newest first: which message (`opened`, `updated`, `reminder`, `resolved`, `test`), about which problem and car park, its state (`queued`, `sending`, `retrying`, `rate_limited`, `sent`, `misconfigured`, `refused`, `failed`) and the vendor's code and words; never the robot's URL or a secret", body = [ChannelSend]),
        (status = 400, description = "`invalid_limit`: limit outside 1–50", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
    )
)]
pub(crate) async fn recent_sends(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<SendsQuery>,
) -> Result<Json<Vec<ChannelSend>>, ApiError> {
    let limit = q.limit.unwrap_or(10);
    if !(1..=sends::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", "limit: 1–50"));
    }
    if channels::get(&state.db, id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    Ok(Json(sends::recent(&state.db, id, limit).await?))
}
