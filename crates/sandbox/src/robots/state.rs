//! What the robot stand-in knows (its robots) and what it received.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use protocol::alerts::ChannelKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One robot in one group chat, as its vendor knows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Robot {
    /// Its vendor.
    pub kind: ChannelKind,
    /// The WeCom key, DingTalk access token, Feishu hook id, or the webhook's path name.
    pub id: String,
    /// Its signing secret (DingTalk `SEC…`, Feishu, webhook), when in signed mode.
    #[serde(default)]
    pub secret: Option<String>,
    /// A keyword every message must contain (DingTalk, Feishu).
    #[serde(default)]
    pub keyword: Option<String>,
}

/// An answer the stand-in gives on request instead of judging the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForcedAnswer {
    /// The vendor's signature error.
    BadSign,
    /// The vendor's rate-limit error.
    RateLimit,
    /// The vendor's keyword error (WeCom has none: its invalid-URL error instead).
    KeywordMissing,
    /// HTTP 502 with no body, as a proxy in front of the vendor might.
    ServerError,
}

/// A call received, valid or not, with the answer given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceivedMessage {
    /// When it arrived.
    pub at: DateTime<Utc>,
    /// Which vendor's endpoint it reached.
    pub kind: ChannelKind,
    /// The robot addressed.
    pub robot: String,
    /// The message's title, where the format has one.
    pub title: Option<String>,
    /// The message's text (empty when the body could not be read).
    pub text: String,
    /// Whether the robot showed it in the group.
    pub accepted: bool,
    /// The HTTP status answered.
    pub http_status: u16,
    /// The body answered.
    pub answer: Value,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) robots: HashMap<String, Robot>,
    pub(crate) forced: HashMap<String, VecDeque<ForcedAnswer>>,
    pub(crate) received: Vec<ReceivedMessage>,
    /// Accepted messages' times per robot, for the vendors' rate limits.
    pub(crate) accepted_at: HashMap<String, VecDeque<DateTime<Utc>>>,
}
