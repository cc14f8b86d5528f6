//! Alerting (issue 18): the channels problems are sent to (admins) and the problems themselves
//! (admins and property managers).
//!
//! Field names follow `server/src/alerts/channels.rs`, `send.rs` and `problems.rs`.

use chrono::{DateTime, Utc};
use gloo_net::http::Request;
use serde::Deserialize;
use serde_json::Value;

use super::{ApiError, get, post, put, send};

/// An alert channel as the server shows it: its URL masked, its secret only as "set".
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct AlertChannel {
    /// Id.
    pub(crate) id: i64,
    /// Unique display name.
    pub(crate) name: String,
    /// `wecom`, `dingtalk`, `feishu` or `webhook`.
    pub(crate) kind: String,
    /// The URL with its key or token hidden.
    pub(crate) url: String,
    /// Whether a signing secret is set.
    pub(crate) has_secret: bool,
    /// The keyword every message carries.
    #[serde(default)]
    pub(crate) keyword: Option<String>,
    /// Its car parks; `None` for all.
    #[serde(default)]
    pub(crate) parks: Option<Vec<i64>>,
    /// Its problem kinds (wire names); `None` for all.
    #[serde(default)]
    pub(crate) kinds: Option<Vec<String>>,
    /// `zh-CN` or `en`.
    pub(crate) language: String,
    /// False while paused.
    pub(crate) enabled: bool,
    /// `untested`, `ok`, `misconfigured` or `failing`.
    pub(crate) state: String,
    /// The vendor's last answer.
    #[serde(default)]
    pub(crate) last_answer: Option<String>,
    /// When a message was last sent.
    #[serde(default)]
    pub(crate) last_sent_at: Option<DateTime<Utc>>,
}

/// What the vendor answered a message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct SentAnswer {
    /// `delivered`, `rate_limited`, `misconfigured`, `refused` or `transient`.
    pub(crate) outcome: String,
    /// The vendor's code, when it answered one.
    #[serde(default)]
    pub(crate) code: Option<String>,
    /// The vendor's words.
    #[serde(default)]
    pub(crate) message: String,
    /// Milliseconds the vendor took.
    #[serde(default)]
    pub(crate) latency_ms: u64,
}

/// The answer to "send a test message": the vendor's answer and the channel after it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct TestAnswer {
    /// The vendor's answer.
    pub(crate) sent: SentAnswer,
    /// The channel, its state following the answer.
    pub(crate) channel: AlertChannel,
}

/// One message to a channel: which, about what, where it stands and what the vendor said.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ChannelSend {
    /// When it was sent, or queued while it waits.
    pub(crate) at: DateTime<Utc>,
    /// `opened`, `updated`, `reminder`, `resolved` or `test`.
    pub(crate) message: String,
    /// `queued`, `sending`, `retrying`, `rate_limited`, `sent`, `misconfigured`, `refused`,
    /// `failed`.
    pub(crate) state: String,
    /// The problem's kind (wire name); none for a test message.
    #[serde(default)]
    pub(crate) problem_kind: Option<String>,
    /// What exactly (a credential's, a channel's name).
    #[serde(default)]
    pub(crate) problem_label: Option<String>,
    /// The problem's car park.
    #[serde(default)]
    pub(crate) park_name: Option<String>,
    /// When it is tried again.
    #[serde(default)]
    pub(crate) next_attempt_at: Option<DateTime<Utc>>,
    /// The vendor's code.
    #[serde(default)]
    pub(crate) vendor_code: Option<String>,
    /// The vendor's words.
    #[serde(default)]
    pub(crate) vendor_message: Option<String>,
}

/// Something wrong that people should see, with what to do about it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Problem {
    /// Id.
    pub(crate) id: i64,
    /// Its kind (wire name).
    pub(crate) kind: String,
    /// What is wrong, in Chinese.
    pub(crate) title: String,
    /// What to do, in Chinese.
    pub(crate) advice: String,
    /// Its car park's name, when at one.
    #[serde(default)]
    pub(crate) park_name: Option<String>,
    /// What exactly, for people.
    #[serde(default)]
    pub(crate) label: Option<String>,
    /// First detected.
    pub(crate) first_seen: DateTime<Utc>,
    /// Last detected.
    pub(crate) last_seen: DateTime<Utc>,
    /// When it cleared.
    #[serde(default)]
    pub(crate) resolved_at: Option<DateTime<Utc>>,
    /// Occurrences.
    pub(crate) count: i64,
    /// The newest examples.
    #[serde(default)]
    pub(crate) examples: Vec<String>,
    /// The page where it is fixed.
    #[serde(default)]
    pub(crate) link_path: Option<String>,
}

/// `GET /api/v1/alert-channels`.
pub(crate) async fn alert_channels() -> Result<Vec<AlertChannel>, ApiError> {
    get("/api/v1/alert-channels").await
}

/// `POST /api/v1/alert-channels`.
pub(crate) async fn create_alert_channel(body: Value) -> Result<AlertChannel, ApiError> {
    post("/api/v1/alert-channels", body).await
}

/// `PUT /api/v1/alert-channels/{id}` with a partial change.
pub(crate) async fn update_alert_channel(id: i64, change: Value) -> Result<AlertChannel, ApiError> {
    put(&format!("/api/v1/alert-channels/{id}"), change).await
}

/// `DELETE /api/v1/alert-channels/{id}`.
pub(crate) async fn delete_alert_channel(id: i64) -> Result<Value, ApiError> {
    send(
        Request::delete(&format!("/api/v1/alert-channels/{id}")),
        None,
    )
    .await
}

/// `POST /api/v1/alert-channels/{id}/test`.
pub(crate) async fn test_alert_channel(id: i64) -> Result<TestAnswer, ApiError> {
    send(
        Request::post(&format!("/api/v1/alert-channels/{id}/test")),
        None,
    )
    .await
}

/// `GET /api/v1/alert-channels/{id}/sends?limit=`, newest first.
pub(crate) async fn alert_channel_sends(id: i64, limit: u32) -> Result<Vec<ChannelSend>, ApiError> {
    get(&format!("/api/v1/alert-channels/{id}/sends?limit={limit}")).await
}

/// `GET /api/v1/problems?state=open|resolved`, newest first as the server orders them.
pub(crate) async fn problems(open: bool) -> Result<Vec<Problem>, ApiError> {
    let state = if open { "open" } else { "resolved" };
    get(&format!("/api/v1/problems?state={state}")).await
}
