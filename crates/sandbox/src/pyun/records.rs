//! What the sandbox keeps for assertions: every call received with its answer, and every coupon issued.

use serde::{Deserialize, Serialize};

/// One of the P云 endpoints the sandbox serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `mcoupon/event` (digest §1.3).
    Event,
    /// `mcoupon/grant/create` (digest §1.4).
    Grant,
    /// `internal/vip/recharge` (digest §1.5).
    VipRecharge,
    /// `mcoupon/token` (pyun-carpark.md §5); its coupons are issued when the QR is scanned.
    Token,
}

/// A P云 call as received, with what the sandbox did about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedRequest {
    /// Arrival order, from 1.
    pub seq: u64,
    /// Which endpoint was called.
    pub endpoint: Endpoint,
    /// Decoded form fields, `sign` included; empty for JSON or an undecodable body.
    pub fields: Vec<(String, String)>,
    /// The raw body, lossily decoded as UTF-8.
    pub body: String,
    /// The `Authorization` header, when sent.
    pub authorization: Option<String>,
    /// What the sandbox answered; all `None` while the call is still being answered.
    pub answer: Answer,
}

/// The answer given to one call.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Answer {
    /// The HTTP status sent; `None` when the connection was dropped (or not yet answered).
    pub http_status: Option<u16>,
    /// The envelope's `code`; `None` when no envelope was sent.
    pub code: Option<String>,
    /// Whether the connection was closed without a response.
    pub dropped: bool,
}

/// A coupon the sandbox issued (successful events, grants and token scans only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCoupon {
    /// Which endpoint issued it.
    pub endpoint: Endpoint,
    /// The app (credential) that asked.
    pub app_id: String,
    /// The normalised plate.
    pub plate: String,
    /// The event's idempotency key (events only).
    pub event_id: Option<String>,
    /// The event's service type (events only).
    pub api_type: Option<String>,
    /// The coupon product (grants and tokens).
    pub coupon_code: Option<String>,
    /// The QR token whose scan issued it (tokens only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Coupons granted; 1 for an event.
    pub quantity: u32,
    /// The serial returned in `payload.grant_serial`.
    pub grant_serial: String,
    /// The `seqno` of the answer that issued it (for a token: of the answer that minted it).
    pub seqno: String,
}
