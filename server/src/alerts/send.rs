//! Sends one message to a channel and reads the vendor's answer (`protocol::alerts::classify`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use protocol::alerts::{Answer, Channel, Digest};
use serde::Serialize;

use super::channels::{self, Opened};
use crate::pyun_client::{Endpoint, PyunClient, TransportError};
use crate::storage::Db;

/// How long a vendor may take to answer one message.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The channel's state after an answer: what the UI shows and problems are made of.
pub fn channel_state(answer: &Answer) -> &'static str {
    match answer {
        Answer::Delivered => "ok",
        Answer::Misconfigured { .. } => "misconfigured",
        // A rate limit says the channel works; the message waits.
        Answer::RateLimited { .. } => "ok",
        Answer::Refused { .. } | Answer::Transient { .. } => "failing",
    }
}

/// What sending one message came to, for the sender and for people.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sent {
    /// `delivered`, `rate_limited`, `misconfigured`, `refused` or `transient`.
    pub outcome: &'static str,
    /// The vendor's code (`errcode`/`code`, or the HTTP status), when it answered.
    pub code: Option<String>,
    /// The vendor's words, or what went wrong on the way.
    pub message: String,
    /// The channel's state now.
    pub channel_state: &'static str,
    /// How long the vendor took, in milliseconds.
    pub latency_ms: u64,
}

impl Sent {
    fn from_answer(answer: &Answer, latency: Duration) -> Sent {
        let (outcome, code, message) = match answer {
            Answer::Delivered => ("delivered", None, "ok".to_owned()),
            Answer::RateLimited { code, message } => {
                ("rate_limited", Some(code.clone()), message.clone())
            }
            Answer::Misconfigured { code, message } => {
                ("misconfigured", Some(code.clone()), message.clone())
            }
            Answer::Refused { code, message } => ("refused", Some(code.clone()), message.clone()),
            Answer::Transient { reason } => ("transient", None, reason.clone()),
        };
        Sent {
            outcome,
            code,
            message,
            channel_state: channel_state(answer),
            latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// One line for the channel's `last_answer`.
    pub fn summary(&self) -> String {
        match &self.code {
            Some(code) => format!("{} {code} {}", self.outcome, self.message),
            None => format!("{} {}", self.outcome, self.message),
        }
    }
}

/// Sends `digest` to `channel` at `now`, records the answer on the channel, and returns it.
pub async fn send(
    db: &Db,
    client: &PyunClient,
    channel: &Opened,
    digest: &Digest<'_>,
    now: DateTime<Utc>,
) -> Result<Sent, sqlx::Error> {
    let call = Channel {
        kind: channel.view.kind,
        url: channel.url.expose(),
        secret: channel.secret.as_ref().map(|s| s.expose()),
        keyword: channel.view.keyword.as_deref(),
    }
    .call(digest, now);
    let headers: Vec<(&str, &str)> = call
        .headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let result = client
        .post_json_raw(
            Endpoint::AlertChannel,
            &call.url,
            &headers,
            call.body.into_bytes(),
        )
        .await;
    let answer = match &result.answer {
        Ok((status, body)) => protocol::alerts::classify(channel.view.kind, *status, body),
        // The URL holds the robot's key: the transport's words are kept, never the URL.
        Err(TransportError::NotSent(e)) => Answer::Transient {
            reason: format!("not sent: {e}"),
        },
        Err(TransportError::MaybeSent(e)) => Answer::Transient {
            reason: format!("no answer: {e}"),
        },
    };
    let sent = Sent::from_answer(&answer, result.latency);
    tracing::info!(
        channel = channel.view.id,
        kind = channel.view.kind.as_str(),
        outcome = sent.outcome,
        code = sent.code.as_deref().unwrap_or(""),
        latency_ms = sent.latency_ms,
        "alert message sent"
    );
    channels::record_answer(
        db,
        channel.view.id,
        sent.channel_state,
        &sent.summary(),
        now,
    )
    .await?;
    Ok(sent)
}
