//! P云's downlink gateway over HTTP (`POST /pyun/v1/gateway`, pyun-carpark.md §1.5) and the admin
//! view of a car park's gateway calls.
//!
//! The gateway reads the raw body whatever its content type (P云 documents a misspelt
//! `applicaiton/json`) and always answers HTTP 200 with a flat JSON reply: P云 reads
//! `result_code`, never the status.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::parks;
use crate::pyun_gateway::{self, call_log::CallView};

/// Where P云 calls us; an admin registers `<public URL>` + this path with P云.
pub(crate) const GATEWAY_PATH: &str = "/pyun/v1/gateway";

/// `POST /pyun/v1/gateway`: one call from P云, answered as §1.5 orders the checks.
#[utoipa::path(
    post,
    path = "/pyun/v1/gateway",
    tag = "pyun car park",
    request_body(
        // Any body, even none: every one is answered 200 with a result_code (1400 for what is
        // not a JSON object), as P云's own gateway does.
        content = Option<serde_json::Value>,
        description = "A flat JSON object signed with the car park's downlink key (S-DOWN, pyun-carpark.md §2): `service`, `version`, `charset`, `park_uuid`, `sign` and the service's fields. Any content type.",
        example = json!({"service": "service.parking.payment.billing", "version": "1.0", "charset": "UTF-8", "park_uuid": "3bad72c0-6204-4b65-90aa-4323ddd1fb5a", "plate": "粤B660PP", "sign": "…"})
    ),
    responses(
        (status = 200, description = "Always 200: `{service, version, charset, result_code, message, hint?, …, sign?}`; `result_code` 1001 OK, 1002 no record, 1003 fixed car, 1400 bad request, 1401 unknown park or bad signature (unsigned when the park is unknown), 1403 refused/revoked, 1500 retry, 1503 service not implemented", body = Object,
            example = json!({"service": "service.parking.realtime", "version": "1.0", "charset": "UTF-8", "result_code": "1001", "message": "成功", "total": 60, "parking": 12, "charge_json": "{}", "charge_depict": "…", "sign": "…"})),
    )
)]
pub(crate) async fn gateway(State(state): State<AppState>, body: Bytes) -> Response {
    let answered = pyun_gateway::answer(
        &state.db,
        &state.secrets,
        &state.pyun_parks,
        &state.pyun_calls,
        &body,
        Utc::now(),
    )
    .await;
    (
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        answered.body,
    )
        .into_response()
}

/// How many calls the admin page lists.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallsQuery {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// A car park's P云 car-park access as an admin sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GatewayView {
    /// Whether access is on (a `pyun_carpark` credential is set).
    on: bool,
    /// The `park_uuid` P云 names the car park by.
    park_uuid: Option<String>,
    /// The path to register with P云 after this server's public address.
    gateway_path: &'static str,
    /// The newest calls received for this car park (or its `park_uuid` while unknown), newest first.
    calls: Vec<CallView>,
}

/// `GET /api/v1/parks/{id}/pyun-gateway`: the gateway path and the last calls received.
#[utoipa::path(
    get,
    path = "/api/v1/parks/{id}/pyun-gateway",
    tag = "pyun car park",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id"), CallsQuery),
    responses(
        (status = 200, description = "Access on or off, the gateway path and the last calls (request and reply as exchanged; never a key)", body = GatewayView),
        (status = 400, description = "`invalid_limit`: limit outside 1–200", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such car park", body = ErrorBody),
    )
)]
pub(crate) async fn calls(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<CallsQuery>,
) -> Result<Json<GatewayView>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", "limit: 1–200"));
    }
    let park = parks::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let uuid = park.fields.pyun_park_uuid.clone();
    let calls = pyun_gateway::call_log::recent(&state.db, id, uuid.as_deref(), limit).await?;
    Ok(Json(GatewayView {
        on: park.fields.pyun_carpark_credential_id.is_some(),
        park_uuid: uuid,
        gateway_path: GATEWAY_PATH,
        calls,
    }))
}
