//! VIP sync routes: an admin starts a full sync (after typing the car park's name, because
//! `complete = 1` deletes P云's records) or resends batches that failed; managers watch progress.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::json::ApiJson;
use crate::accounts::CurrentUser;
use crate::audit;
use crate::error::{ApiError, ErrorBody};
use crate::outbox::store;
use crate::parks::{self, Park};
use crate::vip::sync::full_sync::{self, StartError};
use crate::vip::sync::progress::{self, SyncProgress};

/// What an admin sends to start a full sync.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartBody {
    /// The car park's name, typed by the admin as confirmation.
    confirm_name: String,
}

/// The car park `key` (its id, or its code) if this user may see it.
async fn visible_park(state: &AppState, user: &CurrentUser, key: &str) -> Result<Park, ApiError> {
    let park = match key.parse::<i64>() {
        Ok(id) => parks::get(&state.db, id).await?,
        Err(_) => parks::find_by_code(&state.db, key).await?,
    };
    match park {
        Some(p) if user.may_access_park(p.id) => Ok(p),
        _ => Err(ApiError::NotFound),
    }
}

/// `POST /api/v1/parks/{id}/vip-sync`: starts a full sync.
#[utoipa::path(
    post,
    path = "/api/v1/parks/{id}/vip-sync",
    tag = "vip",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    request_body = StartBody,
    responses(
        (status = 202, description = "Started; its batches are queued", body = SyncProgress),
        (status = 400, description = "The request cannot be read", body = ErrorBody),
        (status = 422, description = "`confirmation_mismatch`: `confirm_name` is not the car park's name; `nothing_to_sync`: the car park has no VIP records", body = ErrorBody),
        (status = 409, description = "A full sync is running, or P云 is not configured", body = ErrorBody),
    )
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<(StatusCode, Json<SyncProgress>), ApiError> {
    let park = visible_park(&state, &user, &id.to_string()).await?;
    if body.confirm_name.trim() != park.fields.name {
        return Err(ApiError::unprocessable(
            "confirmation_mismatch",
            format!(
                "type the car park's name exactly (`{}`) to confirm: a full sync deletes every VIP record P云 holds for it first",
                park.fields.name
            ),
        ));
    }
    if park.fields.pyun_park_uuid.is_none() || park.fields.pyun_credential_id.is_none() {
        return Err(ApiError::conflict(
            "pyun_not_configured",
            "the car park needs a P云 park_uuid and a P云 credential before it can sync",
        ));
    }
    let now = Utc::now();
    let started = full_sync::start(
        &state.db,
        park.id,
        &user.actor(),
        state.settings.vip_batch_size,
        now,
    )
    .await
    .map_err(|e| match e {
        StartError::Storage(e) => ApiError::Storage(e),
        StartError::Running(_) => ApiError::conflict("sync_running", e.to_string()),
        StartError::NothingToSync => ApiError::unprocessable("nothing_to_sync", e.to_string()),
    })?;
    state.dispatcher.notify();
    tracing::info!(
        park = park.fields.code,
        job = started.job,
        batches = started.batches,
        rows = started.rows,
        "full VIP sync started"
    );
    audit::record(
        &state.db,
        &user.actor(),
        "vip.full_sync",
        &format!("park:{}", park.id),
        json!({ "job": started.job, "batches": started.batches, "rows": started.rows }),
    )
    .await?;
    let progress = progress::of_park(&state.db, park.id, now).await?;
    Ok((StatusCode::ACCEPTED, Json(progress)))
}

/// `POST /api/v1/parks/{id}/vip-sync/resend`: puts batches that ended `misconfigured` or
/// `failed` back in line, after an admin fixed the cause.
#[utoipa::path(
    post,
    path = "/api/v1/parks/{id}/vip-sync/resend",
    tag = "vip",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    responses((status = 200, description = "Requeued; the progress now", body = SyncProgress))
)]
pub(crate) async fn resend(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Json<SyncProgress>, ApiError> {
    let park = visible_park(&state, &user, &id.to_string()).await?;
    let now = Utc::now();
    let requeued = store::requeue_batches(&state.db, park.id, now).await?;
    state.dispatcher.notify();
    audit::record(
        &state.db,
        &user.actor(),
        "vip.resend",
        &format!("park:{}", park.id),
        json!({ "batches": requeued }),
    )
    .await?;
    Ok(Json(progress::of_park(&state.db, park.id, now).await?))
}

/// `GET /api/v1/vip-sync/{park}` (`park`: id or code): full sync and incremental progress.
#[utoipa::path(
    get,
    path = "/api/v1/vip-sync/{park}",
    tag = "vip",
    security(("session" = [])),
    params(("park" = String, Path, description = "Car park id or code")),
    responses((status = 200, description = "The latest full sync and the incremental queue", body = SyncProgress))
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(key): Path<String>,
) -> Result<Json<SyncProgress>, ApiError> {
    let park = visible_park(&state, &user, &key).await?;
    Ok(Json(
        progress::of_park(&state.db, park.id, Utc::now()).await?,
    ))
}
