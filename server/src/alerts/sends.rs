//! A channel's last sends, as its admin reads them on the channels page: the messages about
//! problems (queued, on their way, sent or given up) and the test messages, newest first, each
//! with what the vendor answered in its own code and words.

use chrono::{DateTime, Utc};
use protocol::alerts::{Language, ProblemKind};
use serde::Serialize;

use super::send::Sent;
use crate::storage::{Db, from_ms, to_ms};

/// Most sends one read returns.
pub const MAX_LIMIT: i64 = 50;

/// One message to a channel, as people see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelSend {
    /// When it was sent, or, while it waits, when it was queued.
    pub at: DateTime<Utc>,
    /// Which message: `opened` (the first), `updated`, `reminder`, `resolved` or `test`.
    pub message: &'static str,
    /// `queued` (not tried yet), `sending`, `retrying` (the vendor could not be reached or
    /// answered nonsense; tried again at `next_attempt_at`), `rate_limited` (the vendor said too
    /// many; tried again at `next_attempt_at`), `sent`, `misconfigured` (the vendor refused the
    /// channel's URL, secret, keyword or IP), `refused` (the vendor refused this message) or
    /// `failed` (given up).
    pub state: &'static str,
    /// The problem it is about; absent for a test message.
    pub problem_id: Option<i64>,
    /// The problem's kind (`credential_refused`, …); absent for a test message.
    #[schema(value_type = Option<String>)]
    pub problem_kind: Option<ProblemKind>,
    /// The problem's kind in words, in Chinese.
    pub problem_title: Option<String>,
    /// What exactly (a credential's, a channel's, a shop's name).
    pub problem_label: Option<String>,
    /// The problem's car park, when at one.
    pub park_id: Option<i64>,
    /// Its name.
    pub park_name: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
    /// When it is tried again, while `retrying` or `rate_limited`.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The vendor's code (`errcode`/`code`, or the HTTP status), when it answered one.
    pub vendor_code: Option<String>,
    /// The vendor's words, or what went wrong on the way.
    pub vendor_message: Option<String>,
}

/// Keeps what a test message came to (it has no `alert_messages` row).
pub async fn record_test(
    db: &Db,
    channel_id: i64,
    sent: &Sent,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO alert_test_sends (channel_id, sent_at, outcome, vendor_code, vendor_message) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(channel_id)
    .bind(to_ms(at))
    .bind(sent.outcome)
    .bind(sent.code.as_deref())
    .bind(&sent.message)
    .execute(&db.pool)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    phase: String,
    state: String,
    attempts: i64,
    next_at: i64,
    created_at: i64,
    sent_at: Option<i64>,
    answer: Option<String>,
    outcome: Option<String>,
    vendor_code: Option<String>,
    vendor_message: Option<String>,
    problem_id: i64,
    kind: String,
    label: Option<String>,
    park_id: Option<i64>,
    park_name: Option<String>,
}

/// The state people read from a row's state and the last outcome.
fn message_state(state: &str, attempts: i64, outcome: Option<&str>) -> &'static str {
    match (state, outcome) {
        ("pending", _) if attempts == 0 => "queued",
        ("pending", Some("rate_limited")) => "rate_limited",
        ("pending", _) => "retrying",
        ("sending", _) => "sending",
        ("delivered", _) => "sent",
        ("misconfigured", _) => "misconfigured",
        ("refused", _) => "refused",
        _ => "failed",
    }
}

fn message_name(phase: &str) -> &'static str {
    match phase {
        "updated" => "updated",
        "reminder" => "reminder",
        "resolved" => "resolved",
        _ => "opened",
    }
}

impl MessageRow {
    fn into_send(self) -> ChannelSend {
        let state = message_state(&self.state, self.attempts, self.outcome.as_deref());
        let kind = ProblemKind::parse(&self.kind);
        let waiting = matches!(state, "retrying" | "rate_limited");
        // Rows settled before the vendor's code and words were kept apart have the summary.
        let vendor_message = self.vendor_message.or(self.answer);
        ChannelSend {
            at: from_ms(self.sent_at.unwrap_or(self.created_at)),
            message: message_name(&self.phase),
            state,
            problem_id: Some(self.problem_id),
            problem_kind: kind,
            problem_title: kind.map(|k| k.title(Language::ZhCn).to_owned()),
            problem_label: self.label,
            park_id: self.park_id,
            park_name: self.park_name,
            attempts: self.attempts,
            next_attempt_at: waiting.then(|| from_ms(self.next_at)),
            vendor_code: self.vendor_code,
            vendor_message,
        }
    }
}

#[derive(sqlx::FromRow)]
struct TestRow {
    sent_at: i64,
    outcome: String,
    vendor_code: Option<String>,
    vendor_message: String,
}

impl TestRow {
    fn into_send(self) -> ChannelSend {
        ChannelSend {
            at: from_ms(self.sent_at),
            message: "test",
            state: match self.outcome.as_str() {
                "delivered" => "sent",
                "rate_limited" => "rate_limited",
                "misconfigured" => "misconfigured",
                "refused" => "refused",
                _ => "failed",
            },
            problem_id: None,
            problem_kind: None,
            problem_title: None,
            problem_label: None,
            park_id: None,
            park_name: None,
            attempts: 1,
            next_attempt_at: None,
            vendor_code: self.vendor_code,
            vendor_message: Some(self.vendor_message),
        }
    }
}

/// The newest `limit` sends to channel `channel_id`, newest first (by when each was made).
pub async fn recent(db: &Db, channel_id: i64, limit: i64) -> Result<Vec<ChannelSend>, sqlx::Error> {
    let messages = sqlx::query_as::<_, MessageRow>(
        "SELECT m.phase, m.state, m.attempts, m.next_at, m.created_at, m.sent_at, m.answer, \
         m.outcome, m.vendor_code, m.vendor_message, p.id AS problem_id, p.kind, p.label, \
         p.park_id, c.name AS park_name \
         FROM alert_messages m JOIN problems p ON p.id = m.problem_id \
         LEFT JOIN car_parks c ON c.id = p.park_id \
         WHERE m.channel_id = $1 ORDER BY m.id DESC LIMIT $2",
    )
    .bind(channel_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let tests = sqlx::query_as::<_, TestRow>(
        "SELECT sent_at, outcome, vendor_code, vendor_message FROM alert_test_sends \
         WHERE channel_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(channel_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    // Both lists are newest first; merged by when each message was made (a message waiting for
    // a retry keeps its place).
    let mut all: Vec<(i64, ChannelSend)> = messages
        .into_iter()
        .map(|m| (m.created_at, m.into_send()))
        .chain(tests.into_iter().map(|t| (t.sent_at, t.into_send())))
        .collect();
    all.sort_by_key(|(made, _)| std::cmp::Reverse(*made));
    Ok(all
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|(_, s)| s)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reads_as_queued_retrying_or_rate_limited_while_it_waits() {
        assert_eq!(message_state("pending", 0, None), "queued");
        assert_eq!(
            message_state("pending", 1, Some("rate_limited")),
            "rate_limited"
        );
        assert_eq!(message_state("pending", 2, Some("transient")), "retrying");
        assert_eq!(message_state("sending", 1, None), "sending");
        assert_eq!(message_state("delivered", 1, Some("delivered")), "sent");
        assert_eq!(message_state("failed", 8, Some("transient")), "failed");
    }
}
