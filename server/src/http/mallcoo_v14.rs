//! Mallcoo V1.4 over HTTP (PROTOCOLS.md §2.1): `POST /mallcoo/v1/{GetParkingPaymentInfo |
//! PayParkingFee | GetTraffic}`.
//!
//! The body is read as raw bytes, because the signature covers them exactly, and decoded only
//! after the signature checks out. A missing or wrong signature is 401 with a Mallcoo-shaped
//! body; every handled case is 200 with `resCode` 0 or 1 (a malformed request included); only a
//! server fault is a 500, and a database that is down a 503 (`ApiError`), which Mallcoo retries.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use protocol::mallcoo::{
    PayFeeRequest, PaymentInfoRequest, PaymentInfoResponse, ReceivedHeaders, Reply, TrafficRequest,
    TrafficResponse,
};
use serde::Serialize;

use super::AppState;
use crate::error::ApiError;
use crate::mallcoo_api::auth::{self, MallcooPark};
use crate::mallcoo_api::{Refusal, decode, pay_fee, payment_info, traffic};

/// Turns a refusal into its HTTP answer (the one place Mallcoo statuses are decided).
fn refusal(method: &'static str, r: Refusal) -> Response {
    match r {
        Refusal::Unauthenticated(msg) => {
            (StatusCode::UNAUTHORIZED, axum::Json(Reply::error(msg))).into_response()
        }
        Refusal::Refused(msg) => {
            tracing::info!(method, res_msg = %msg, "Mallcoo call refused");
            axum::Json(Reply::error(msg)).into_response()
        }
        Refusal::Storage(e) => ApiError::Storage(e).into_response(),
        Refusal::Internal(e) => ApiError::Internal(e).into_response(),
    }
}

/// Authenticates the call and decodes its body as `T`.
async fn signed<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(std::sync::Arc<MallcooPark>, T), Refusal> {
    let received =
        ReceivedHeaders::from_lookup(|name| headers.get(name).and_then(|v| v.to_str().ok()));
    let park = auth::authenticate(
        &state.db,
        &state.secrets,
        &state.mallcoo_keys,
        &received,
        body,
        Utc::now(),
    )
    .await?;
    let request = decode::body::<T>(body)?;
    Ok((park, request))
}

fn json<T: Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

/// `POST /mallcoo/v1/GetParkingPaymentInfo`: the fee query (§2.2).
pub(crate) async fn get_parking_payment_info(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const METHOD: &str = protocol::mallcoo::payment_info::METHOD;
    let result = async {
        let (park, req) = signed::<PaymentInfoRequest>(&state, &headers, &body).await?;
        payment_info::answer(&state.db, &park, &req, Utc::now()).await
    }
    .await;
    match result {
        Ok(quote) => json(&PaymentInfoResponse::ok(quote)),
        Err(r) => refusal(METHOD, r),
    }
}

/// `POST /mallcoo/v1/PayParkingFee`: the payment notice (§2.3); a retry gets the stored answer.
pub(crate) async fn pay_parking_fee(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const METHOD: &str = protocol::mallcoo::pay_fee::METHOD;
    let result = async {
        let (park, req) = signed::<PayFeeRequest>(&state, &headers, &body).await?;
        pay_fee::pay(&state.db, &park, &req, Utc::now()).await
    }
    .await;
    match result {
        // The stored text itself, so every retry gets the very same bytes.
        Ok(paid) => (
            [(header::CONTENT_TYPE, "application/json")],
            paid.answer().to_owned(),
        )
            .into_response(),
        Err(r) => refusal(METHOD, r),
    }
}

/// `POST /mallcoo/v1/GetTraffic`: entries and exits in `[startTime, endTime)` (§2.4).
pub(crate) async fn get_traffic(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const METHOD: &str = protocol::mallcoo::traffic::METHOD;
    let result = async {
        let (park, req) = signed::<TrafficRequest>(&state, &headers, &body).await?;
        traffic::answer(&state.db, park.park_id, &req).await
    }
    .await;
    match result {
        Ok(counts) => json(&TrafficResponse::ok(counts)),
        Err(r) => refusal(METHOD, r),
    }
}
