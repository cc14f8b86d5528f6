//! The control API under `/_sandbox/`: configure the sandbox and read what it received, as JSON.
//!
//! It lets the demo, the CLI and the benchmarks drive a sandbox running in another process. It
//! has no authentication at all: serve it on loopback only, never on a reachable address.
//!
//! QR tokens (`tokens`): `GET /_sandbox/tokens` lists them with their claims; `POST
//! /_sandbox/tokens/scan` `{"token", "plate"}` is a customer scanning one (`ScanOutcome`);
//! `POST /_sandbox/tokens/{token}/expire` ends one's life now (`204`, `404` if unknown).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use protocol::plate::Plate;
use serde::{Deserialize, Serialize};

use super::PyunSandbox;
use super::coupon_discount::CouponDiscount;
use super::faults::FaultRule;
use super::tokens::{ScanError, TokenScan};

/// Routes of the control API.
pub(crate) fn routes() -> Router<PyunSandbox> {
    Router::new()
        .route("/_sandbox/requests", get(requests))
        .route("/_sandbox/coupons", get(coupons))
        .route("/_sandbox/vip/{park_uuid}", get(vip))
        .route("/_sandbox/apps", post(add_app))
        .route("/_sandbox/api-types", post(add_api_type))
        .route("/_sandbox/coupon-codes", post(add_coupon_code))
        .route("/_sandbox/vip-parks", post(add_vip_park))
        .route("/_sandbox/parked", post(park))
        .route("/_sandbox/parked/{plate}", delete(leave))
        .route("/_sandbox/settings", get(settings).put(put_settings))
        .route("/_sandbox/faults", post(push_fault).delete(clear_faults))
        .route("/_sandbox/tokens", get(tokens))
        .route("/_sandbox/tokens/scan", post(scan_token))
        .route("/_sandbox/tokens/{token}/expire", post(expire_token))
}

/// `POST /_sandbox/apps`.
#[derive(Debug, Deserialize)]
struct AppBody {
    app_id: String,
    secret: String,
}

/// `POST /_sandbox/api-types`; the optional discount fields say what the event's coupon is
/// worth at a registered car park.
#[derive(Debug, Deserialize)]
struct ApiTypeBody {
    api_type: String,
    #[serde(flatten)]
    discount: CouponDiscount,
}

/// `POST /_sandbox/coupon-codes`; the optional discount fields say what the coupon is worth
/// at a registered car park.
#[derive(Debug, Deserialize)]
struct CouponCodeBody {
    coupon_code: String,
    #[serde(flatten)]
    discount: CouponDiscount,
}

/// `POST /_sandbox/vip-parks`.
#[derive(Debug, Deserialize)]
struct VipParkBody {
    park_uuid: String,
    app_id: String,
}

/// `POST /_sandbox/parked`.
#[derive(Debug, Deserialize)]
struct PlateBody {
    plate: String,
}

/// `PUT /_sandbox/settings`: only the fields given change. `GET` returns all of them.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any_plate_parked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plate_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_vip_batch: Option<usize>,
}

async fn requests(State(sb): State<PyunSandbox>) -> Response {
    Json(sb.requests()).into_response()
}

async fn coupons(State(sb): State<PyunSandbox>) -> Response {
    Json(sb.coupons()).into_response()
}

async fn vip(State(sb): State<PyunSandbox>, Path(park_uuid): Path<String>) -> Response {
    Json(sb.vip_records(&park_uuid)).into_response()
}

async fn add_app(State(sb): State<PyunSandbox>, Json(b): Json<AppBody>) -> StatusCode {
    sb.add_app(&b.app_id, &b.secret);
    StatusCode::NO_CONTENT
}

async fn add_api_type(State(sb): State<PyunSandbox>, Json(b): Json<ApiTypeBody>) -> StatusCode {
    sb.add_api_type(&b.api_type);
    sb.set_event_discount(&b.api_type, b.discount);
    StatusCode::NO_CONTENT
}

async fn add_coupon_code(
    State(sb): State<PyunSandbox>,
    Json(b): Json<CouponCodeBody>,
) -> StatusCode {
    sb.add_coupon_code(&b.coupon_code);
    sb.set_coupon_discount(&b.coupon_code, b.discount);
    StatusCode::NO_CONTENT
}

async fn add_vip_park(State(sb): State<PyunSandbox>, Json(b): Json<VipParkBody>) -> StatusCode {
    sb.add_vip_park(&b.park_uuid, &b.app_id);
    StatusCode::NO_CONTENT
}

async fn park(State(sb): State<PyunSandbox>, Json(b): Json<PlateBody>) -> Response {
    // Refused here, not silently stored: a typo would otherwise show up later as a puzzling 1002.
    match Plate::parse(&b.plate) {
        Ok(_) => {
            sb.park(&b.plate);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn leave(State(sb): State<PyunSandbox>, Path(plate): Path<String>) -> StatusCode {
    sb.leave(&plate);
    StatusCode::NO_CONTENT
}

async fn settings(State(sb): State<PyunSandbox>) -> Json<Settings> {
    Json(sb.with(|s| Settings {
        any_plate_parked: Some(s.any_plate_parked),
        plate_limit: Some(s.plate_limit),
        latency_ms: Some(u64::try_from(s.latency.as_millis()).unwrap_or(u64::MAX)),
        max_vip_batch: Some(s.max_vip_batch),
    }))
}

async fn put_settings(State(sb): State<PyunSandbox>, Json(b): Json<Settings>) -> StatusCode {
    if let Some(any) = b.any_plate_parked {
        sb.set_any_plate_parked(any);
    }
    if let Some(limit) = b.plate_limit {
        sb.set_plate_limit(limit);
    }
    if let Some(ms) = b.latency_ms {
        sb.set_latency(Duration::from_millis(ms));
    }
    if let Some(n) = b.max_vip_batch {
        sb.set_max_vip_batch(n);
    }
    StatusCode::NO_CONTENT
}

async fn push_fault(State(sb): State<PyunSandbox>, Json(rule): Json<FaultRule>) -> StatusCode {
    sb.push_fault(rule);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(sb): State<PyunSandbox>) -> StatusCode {
    sb.clear_faults();
    StatusCode::NO_CONTENT
}

async fn tokens(State(sb): State<PyunSandbox>) -> Response {
    Json(sb.tokens()).into_response()
}

/// `200` with the `ScanOutcome` (a `1002`/`1003` refusal included: the coupon rules answered);
/// a token that cannot be claimed is `404` unknown, `410` expired, `409` already claimed, and a
/// bad plate `400`, each with the reason as text.
async fn scan_token(State(sb): State<PyunSandbox>, Json(b): Json<TokenScan>) -> Response {
    match sb.scan_token(&b.token, &b.plate).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(e) => {
            let status = match e {
                ScanError::UnknownToken(_) => StatusCode::NOT_FOUND,
                ScanError::Expired(_) => StatusCode::GONE,
                ScanError::AlreadyClaimed(_) => StatusCode::CONFLICT,
                ScanError::BadPlate { .. } => StatusCode::BAD_REQUEST,
            };
            (status, e.to_string()).into_response()
        }
    }
}

async fn expire_token(State(sb): State<PyunSandbox>, Path(token): Path<String>) -> Response {
    if sb.expire_token(&token) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::NOT_FOUND, format!("unknown token `{token}`")).into_response()
    }
}
