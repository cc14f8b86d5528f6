//! What the Mallcoo stand-in keeps for assertions: every notice received with its answer, and
//! the entries it accepted (one per `TradeID`).

use serde::{Deserialize, Serialize};

/// An entry notice as received, with what the sandbox answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedNotice {
    /// Arrival order, from 1.
    pub seq: u64,
    /// The `AppID` header, when sent.
    pub app_id: Option<String>,
    /// The `TimeStamp` header, when sent.
    pub timestamp: Option<String>,
    /// Whether the `Sign` header verified (keys of `AppID`, timestamp within ±5 min).
    pub signature_ok: bool,
    /// The raw body, lossily decoded as UTF-8.
    pub body: String,
    /// What the sandbox answered; all `None` while the notice is still being answered.
    pub answer: NoticeReply,
}

/// The answer given to one notice.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NoticeReply {
    /// The HTTP status sent; `None` when the connection was dropped (or not yet answered).
    pub http_status: Option<u16>,
    /// The body's `Code`; `None` when no JSON body was sent.
    pub code: Option<i64>,
    /// Whether the connection was closed without a response.
    pub dropped: bool,
}

/// An entry Mallcoo now knows: a verified, valid notice, once per car park and `TradeID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedNotice {
    /// The `AppID` that signed it.
    pub app_id: String,
    /// `ParkCode`.
    pub park_code: String,
    /// `PlateNo`, as sent.
    pub plate_no: String,
    /// `InTime`, as sent (`yyyy-MM-dd HH:mm:ss`, Asia/Shanghai).
    pub in_time: String,
    /// `TradeID`.
    pub trade_id: String,
    /// How many verified copies arrived (a resend after a lost answer adds one here, not a row).
    pub copies: u32,
}
