//! The alert messages' durable queue: a due row is leased by one instance (`sending` with
//! `leased_until`; a lapsed lease is taken again, so a crash mid-send loses nothing), sent no
//! sooner than 3 s after the channel's previous message (the vendors allow 20 a minute), and
//! settled by the vendor's answer.

use chrono::{DateTime, TimeDelta, Utc};
use protocol::alerts::{Digest, Phase};

use super::channels;
use super::problems;
use super::send;
use crate::pyun_client::PyunClient;
use crate::secrets::SecretBox;
use crate::storage::{Db, to_ms};

/// Least time between two messages to one channel.
pub const CHANNEL_GAP: TimeDelta = TimeDelta::seconds(3);
/// How long a leased row is the sender's before another instance may take it.
const LEASE: TimeDelta = TimeDelta::seconds(30);
/// Attempts before a message whose vendor never answered usefully is given up.
const MAX_ATTEMPTS: i64 = 8;

/// What the sender needs.
pub struct Sender<'a> {
    /// The database.
    pub db: &'a Db,
    /// Opens the channels' URLs and secrets.
    pub secrets: &'a SecretBox,
    /// The outbound HTTP client.
    pub client: &'a PyunClient,
    /// `--public-url`, for the messages' links.
    pub public_url: Option<&'a str>,
}

fn phase(s: &str) -> Phase {
    match s {
        "updated" => Phase::Updated,
        "reminder" => Phase::Reminder,
        "resolved" => Phase::Resolved,
        _ => Phase::Opened,
    }
}

/// Back-off after the `attempts`-th transient failure: 15 s doubling, at most 15 minutes.
fn backoff(attempts: i64) -> TimeDelta {
    let exp = u32::try_from(attempts.clamp(1, 7) - 1).unwrap_or(0);
    TimeDelta::seconds((15_i64 << exp).min(900))
}

impl Sender<'_> {
    /// Sends the messages due now, one at a time; returns how many were sent.
    pub async fn send_due(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let mut sent = 0;
        // Each channel once per round at most (its 3 s gap); a round ends when nothing is due.
        while let Some(row) = self.lease_next(now).await? {
            self.deliver(row, now).await?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Leases the oldest due message whose channel may send now, claiming the channel's slot.
    async fn lease_next(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<(i64, i64, i64, String)>, sqlx::Error> {
        let at = to_ms(now);
        let gap = to_ms(now - CHANNEL_GAP);
        let candidates = sqlx::query_as::<_, (i64, i64, i64, String)>(
            "SELECT m.id, m.problem_id, m.channel_id, m.phase FROM alert_messages m \
             JOIN alert_channels c ON c.id = m.channel_id \
             WHERE c.disabled_at IS NULL \
             AND ((m.state = 'pending' AND m.next_at <= $1) OR (m.state = 'sending' AND m.leased_until < $1)) \
             AND (c.last_sent_at IS NULL OR c.last_sent_at <= $2) \
             ORDER BY m.id LIMIT 8",
        )
        .bind(at)
        .bind(gap)
        .fetch_all(&self.db.pool)
        .await?;
        for (id, problem_id, channel_id, phase) in candidates {
            // The channel's slot first: two instances never both send to one robot within 3 s.
            let slot = sqlx::query(
                "UPDATE alert_channels SET last_sent_at = $1 \
                 WHERE id = $2 AND (last_sent_at IS NULL OR last_sent_at <= $3)",
            )
            .bind(at)
            .bind(channel_id)
            .bind(gap)
            .execute(&self.db.pool)
            .await?;
            if slot.rows_affected() == 0 {
                continue;
            }
            let leased = sqlx::query(
                "UPDATE alert_messages SET state = 'sending', leased_until = $1, attempts = attempts + 1 \
                 WHERE id = $2 AND ((state = 'pending' AND next_at <= $3) OR (state = 'sending' AND leased_until < $3))",
            )
            .bind(to_ms(now + LEASE))
            .bind(id)
            .bind(at)
            .execute(&self.db.pool)
            .await?;
            if leased.rows_affected() == 1 {
                return Ok(Some((id, problem_id, channel_id, phase)));
            }
        }
        Ok(None)
    }

    /// Settles message `id`: its state, when it is due again, and what the vendor answered
    /// (`Err` with our own words when nothing was sent).
    async fn settle(
        &self,
        id: i64,
        state: &str,
        next_at: DateTime<Utc>,
        answer: Result<&send::Sent, &str>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let (summary, outcome, code, message) = match answer {
            Ok(sent) => (
                sent.summary(),
                Some(sent.outcome),
                sent.code.as_deref(),
                sent.message.as_str(),
            ),
            Err(why) => (why.to_owned(), None, None, why),
        };
        sqlx::query(
            "UPDATE alert_messages SET state = $1, next_at = $2, answer = $3, leased_until = NULL, \
             sent_at = $4, outcome = $5, vendor_code = $6, vendor_message = $7 WHERE id = $8",
        )
        .bind(state)
        .bind(to_ms(next_at))
        .bind(summary)
        .bind(to_ms(now))
        .bind(outcome)
        .bind(code)
        .bind(message)
        .bind(id)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    async fn deliver(
        &self,
        (id, problem_id, channel_id, phase_name): (i64, i64, i64, String),
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let problem = problems::get(self.db, problem_id).await?;
        let channel = match channels::open(self.db, self.secrets, channel_id).await {
            Ok(c) => c,
            Err(channels::OpenChannelError::Storage(e)) => return Err(e),
            Err(e @ channels::OpenChannelError::Sealed(_)) => {
                tracing::error!(channel = channel_id, "{e}");
                return self
                    .settle(id, "failed", now, Err(&e.to_string()), now)
                    .await;
            }
        };
        let (Some(problem), Some(channel)) = (problem, channel) else {
            return self
                .settle(
                    id,
                    "failed",
                    now,
                    Err("the problem or channel is gone"),
                    now,
                )
                .await;
        };
        let link = self
            .public_url
            .zip(problem.link_path.as_deref())
            .map(|(base, path)| format!("{}{path}", base.trim_end_matches('/')));
        let digest = Digest {
            phase: phase(&phase_name),
            kind: problem.kind,
            park: problem.park_name.as_deref(),
            subject: problem.label.as_deref(),
            since: problem.first_seen,
            resolved_at: problem.resolved_at,
            count: problem.count,
            examples: &problem.examples,
            link: link.as_deref(),
            language: channel.view.language,
        };
        let sent = send::send(self.db, self.client, &channel, &digest, now).await?;
        let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM alert_messages WHERE id = $1")
            .bind(id)
            .fetch_one(&self.db.pool)
            .await?;
        let (state, next) = match sent.outcome {
            "delivered" => ("delivered", now),
            "rate_limited" => ("pending", now + TimeDelta::minutes(1)),
            "misconfigured" => ("misconfigured", now),
            "refused" => ("refused", now),
            _ if attempts >= MAX_ATTEMPTS => ("failed", now),
            _ => ("pending", now + backoff(attempts)),
        };
        tracing::info!(
            message = id,
            problem = problem_id,
            channel = channel_id,
            phase = phase_name.as_str(),
            state,
            "alert message settled"
        );
        self.settle(id, state, next, Ok(&sent), now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_back_off_up_to_fifteen_minutes() {
        assert_eq!(backoff(1), TimeDelta::seconds(15));
        assert_eq!(backoff(2), TimeDelta::seconds(30));
        assert_eq!(backoff(7), TimeDelta::seconds(900));
        assert_eq!(backoff(99), TimeDelta::seconds(900));
    }
}
