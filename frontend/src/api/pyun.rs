//! The P云 car-park access part of the API: a car park's gateway calls as an admin sees them,
//! its uploads to P云 and their resend, and where a coupon we sent took effect.
//!
//! Field names follow `server/src/http/pyun_gateway.rs` and `coupon_records.rs`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, CouponRecordPage, get, post};

/// One call P云 made to the gateway, as received and answered.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GatewayCall {
    /// Id (increasing).
    pub(crate) id: i64,
    /// When it arrived.
    pub(crate) at: DateTime<Utc>,
    /// `service` as sent (absent when the body could not be read).
    #[serde(default)]
    pub(crate) service: Option<String>,
    /// `park_uuid` as sent.
    #[serde(default)]
    pub(crate) park_uuid: Option<String>,
    /// The `result_code` answered.
    #[serde(default)]
    pub(crate) result_code: String,
    /// The `message` answered.
    #[serde(default)]
    pub(crate) message: String,
    /// Milliseconds taken to answer.
    #[serde(default)]
    pub(crate) latency_ms: f64,
    /// The body received, as received.
    #[serde(default)]
    pub(crate) request: String,
    /// The body answered, as answered.
    #[serde(default)]
    pub(crate) reply: String,
}

/// A car park's P云 car-park access: on or off, where P云 calls, and the last calls.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GatewayView {
    /// Whether access is on (a `pyun_carpark` credential is set).
    pub(crate) on: bool,
    /// The `park_uuid` P云 names the car park by.
    #[serde(default)]
    pub(crate) park_uuid: Option<String>,
    /// The path to register with P云 after this server's address.
    pub(crate) gateway_path: String,
    /// The newest calls, newest first.
    #[serde(default)]
    pub(crate) calls: Vec<GatewayCall>,
}

/// `GET /api/v1/parks/{id}/pyun-gateway?limit=` (admins).
pub(crate) async fn pyun_gateway(park_id: i64, limit: u32) -> Result<GatewayView, ApiError> {
    get(&format!(
        "/api/v1/parks/{park_id}/pyun-gateway?limit={limit}"
    ))
    .await
}

/// `GET /api/v1/coupon-records?kind=pyun_uploads&park_id=&limit=`: the car park's newest
/// entry and leave uploads to P云, newest first.
pub(crate) async fn pyun_uploads(park_id: i64, limit: u32) -> Result<CouponRecordPage, ApiError> {
    get(&format!(
        "/api/v1/coupon-records?kind=pyun_uploads&park_id={park_id}&limit={limit}"
    ))
    .await
}

/// What a resend of uploads answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) struct Requeued {
    /// Uploads put back in line.
    pub(crate) requeued: u64,
}

/// `POST /api/v1/parks/{id}/pyun-uploads/resend` (admins): requeues the uploads that ended
/// `misconfigured` or `failed`.
pub(crate) async fn resend_pyun_uploads(park_id: i64) -> Result<Requeued, ApiError> {
    post(
        &format!("/api/v1/parks/{park_id}/pyun-uploads/resend"),
        json!({}),
    )
    .await
}

/// Where P云 applied a coupon we sent: its `discount.create` recorded on a stay.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub(crate) struct AppliedDiscount {
    /// The stay (`None` for a plate's free window, which belongs to no one stay).
    #[serde(default)]
    pub(crate) session_id: Option<i64>,
    /// `active`, `used` or `revoked`.
    pub(crate) state: String,
    /// What it was worth once used (fen).
    #[serde(default)]
    pub(crate) worth_fen: Option<i64>,
}
