//! An admin's resend of a car park's P云 uploads (pyun-carpark.md §4.4): an upload that ended
//! `misconfigured` (P云's "200 + 签名验证不通过" hint) or `failed` is never retried by itself, so
//! once the upload secret or `park_uuid` is fixed an admin puts them back in line. The uploads
//! themselves are listed by `GET /api/v1/coupon-records?kind=pyun_uploads`.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use serde::Serialize;
use serde_json::json;

use super::AppState;
use crate::accounts::CurrentUser;
use crate::audit;
use crate::error::{ApiError, ErrorBody};
use crate::outbox::store;
use crate::parks;

/// How many uploads a resend put back in line.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Requeued {
    /// Uploads now `pending` again (0 when none had failed).
    requeued: u64,
}

/// `POST /api/v1/parks/{id}/pyun-uploads/resend`: requeues the car park's uploads that ended
/// `misconfigured` or `failed`.
#[utoipa::path(
    post,
    path = "/api/v1/parks/{id}/pyun-uploads/resend",
    tag = "pyun car park",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    responses(
        (status = 200, description = "Requeued, each with its attempts reset; a stay's leave still waits for its entry", body = Requeued),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such car park", body = ErrorBody),
        (status = 409, description = "`pyun_access_off`: the car park is not on P云 car-park access", body = ErrorBody),
    )
)]
pub(crate) async fn resend(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Json<Requeued>, ApiError> {
    let park = parks::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if park.fields.pyun_carpark_credential_id.is_none() {
        // Sending would only end `misconfigured` again: say why instead.
        return Err(ApiError::conflict(
            "pyun_access_off",
            "the car park is not on P云 car-park access (no pyun_carpark credential): nothing can be uploaded",
        ));
    }
    let requeued = store::requeue_uploads(&state.db, park.id, Utc::now()).await?;
    if requeued > 0 {
        state.dispatcher.notify();
    }
    tracing::info!(park = park.fields.code, requeued, "P云 uploads resent");
    audit::record(
        &state.db,
        &user.actor(),
        "pyun.uploads_resend",
        &format!("park:{}", park.id),
        json!({ "requeued": requeued }),
    )
    .await?;
    Ok(Json(Requeued { requeued }))
}
