//! The control API of the sandbox as P云's cloud for car parks, under `/_sandbox/` like the rest
//! (no authentication: loopback only). Bodies and answers are JSON; a refused body is `400`
//! with the reason as text, an unknown car park `404`.
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /_sandbox/carparks` | `CarParkRegistration` | `204` |
//! | `GET /_sandbox/carparks` | | `[CarParkView]` |
//! | `GET /_sandbox/carparks/{park_uuid}` | | `CarParkView` |
//! | `PUT /_sandbox/carparks/{park_uuid}/sign-hint` | `{"on": bool}` | `204` |
//! | `POST /_sandbox/carparks/{park_uuid}/stores` | `{"store_code"}` (a shop whose QR tokens issue here) | `204` |
//! | `GET /_sandbox/uploads[?park_uuid=]` | | `[Upload]` |
//! | `GET /_sandbox/stays[?park_uuid=]` | | `[Stay]` |
//! | `GET /_sandbox/downlink-calls[?park_uuid=]` | | `[DownlinkCall]` |
//! | `POST`, `DELETE /_sandbox/upload-faults` | `UploadFaultRule` | `204` |
//! | `POST /_sandbox/driver/pay` | `DriverPays` | `DriverPaid` |
//! | `POST /_sandbox/downlink/payment-result` | `PaymentNoticeRequest` | `DownlinkCall` |
//! | `POST /_sandbox/downlink/discount-destroy` | `DiscountDestroyRequest` | `DownlinkCall` |
//! | `POST /_sandbox/downlink/realtime` | `{"park_uuid"}` | `DownlinkCall` |
//! | `POST /_sandbox/downlink/call` | `ServiceCall` | `DownlinkCall` |
//!
//! A downlink action answers `200` with the call's record whatever the gateway did (an error
//! reply, a bad sign, a timeout are all in the record); `404` only when nothing was sent.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::PyunSandbox;
use super::carparks::CarParkRegistration;
use super::driver::{
    ControlError, DiscountDestroyRequest, DriverPays, PaymentNoticeRequest, ServiceCall,
};
use super::faults::UploadFaultRule;

/// Routes of the car-park control API.
pub(crate) fn routes() -> Router<PyunSandbox> {
    Router::new()
        .route("/_sandbox/carparks", post(register).get(list))
        .route("/_sandbox/carparks/{park_uuid}", get(one))
        .route("/_sandbox/carparks/{park_uuid}/sign-hint", put(sign_hint))
        .route("/_sandbox/carparks/{park_uuid}/stores", post(add_store))
        .route("/_sandbox/uploads", get(uploads))
        .route("/_sandbox/stays", get(stays))
        .route("/_sandbox/downlink-calls", get(downlink_calls))
        .route(
            "/_sandbox/upload-faults",
            post(push_upload_fault).delete(clear_upload_faults),
        )
        .route("/_sandbox/driver/pay", post(driver_pays))
        .route("/_sandbox/downlink/payment-result", post(payment_result))
        .route(
            "/_sandbox/downlink/discount-destroy",
            post(discount_destroy),
        )
        .route("/_sandbox/downlink/realtime", post(realtime))
        .route("/_sandbox/downlink/call", post(call))
}

/// `?park_uuid=` on the lists.
#[derive(Debug, Deserialize)]
struct ParkFilter {
    park_uuid: Option<String>,
}

/// `PUT /_sandbox/carparks/{park_uuid}/sign-hint`.
#[derive(Debug, Deserialize)]
struct SignHintBody {
    on: bool,
}

/// `POST /_sandbox/carparks/{park_uuid}/stores`.
#[derive(Debug, Deserialize)]
struct StoreBody {
    store_code: String,
}

/// `POST /_sandbox/downlink/realtime`.
#[derive(Debug, Deserialize)]
struct ParkBody {
    park_uuid: String,
}

fn unknown(park_uuid: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("unknown car park `{park_uuid}`"),
    )
        .into_response()
}

/// `200` with the record, or `404` for an unknown car park.
fn answered<T: Serialize>(result: Result<T, ControlError>) -> Response {
    match result {
        Ok(v) => Json(v).into_response(),
        Err(ControlError::UnknownPark(p)) => unknown(&p),
    }
}

async fn register(State(sb): State<PyunSandbox>, Json(b): Json<CarParkRegistration>) -> Response {
    match sb.register_carpark(b) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

async fn list(State(sb): State<PyunSandbox>) -> Response {
    Json(sb.carparks()).into_response()
}

async fn one(State(sb): State<PyunSandbox>, Path(park_uuid): Path<String>) -> Response {
    match sb.carpark(&park_uuid) {
        Some(view) => Json(view).into_response(),
        None => unknown(&park_uuid),
    }
}

async fn sign_hint(
    State(sb): State<PyunSandbox>,
    Path(park_uuid): Path<String>,
    Json(b): Json<SignHintBody>,
) -> Response {
    if sb.set_sign_hint(&park_uuid, b.on) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        unknown(&park_uuid)
    }
}

async fn add_store(
    State(sb): State<PyunSandbox>,
    Path(park_uuid): Path<String>,
    Json(b): Json<StoreBody>,
) -> Response {
    if b.store_code.trim().is_empty() {
        return (StatusCode::BAD_REQUEST, "`store_code` is empty").into_response();
    }
    match sb.add_carpark_store(&park_uuid, &b.store_code) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(ControlError::UnknownPark(p)) => unknown(&p),
    }
}

async fn uploads(State(sb): State<PyunSandbox>, Query(f): Query<ParkFilter>) -> Response {
    Json(sb.uploads(f.park_uuid.as_deref())).into_response()
}

async fn stays(State(sb): State<PyunSandbox>, Query(f): Query<ParkFilter>) -> Response {
    Json(sb.stays(f.park_uuid.as_deref())).into_response()
}

async fn downlink_calls(State(sb): State<PyunSandbox>, Query(f): Query<ParkFilter>) -> Response {
    Json(sb.downlink_calls(f.park_uuid.as_deref())).into_response()
}

async fn push_upload_fault(
    State(sb): State<PyunSandbox>,
    Json(rule): Json<UploadFaultRule>,
) -> StatusCode {
    sb.push_upload_fault(rule);
    StatusCode::NO_CONTENT
}

async fn clear_upload_faults(State(sb): State<PyunSandbox>) -> StatusCode {
    sb.clear_upload_faults();
    StatusCode::NO_CONTENT
}

async fn driver_pays(State(sb): State<PyunSandbox>, Json(b): Json<DriverPays>) -> Response {
    answered(sb.driver_pays(&b).await)
}

async fn payment_result(
    State(sb): State<PyunSandbox>,
    Json(b): Json<PaymentNoticeRequest>,
) -> Response {
    answered(sb.payment_notice(&b).await)
}

async fn discount_destroy(
    State(sb): State<PyunSandbox>,
    Json(b): Json<DiscountDestroyRequest>,
) -> Response {
    answered(sb.discount_destroy(&b).await)
}

async fn realtime(State(sb): State<PyunSandbox>, Json(b): Json<ParkBody>) -> Response {
    answered(sb.realtime(&b.park_uuid).await)
}

async fn call(State(sb): State<PyunSandbox>, Json(b): Json<ServiceCall>) -> Response {
    answered(sb.call_service(&b).await)
}
