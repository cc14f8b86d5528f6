//! Which messages are due: per problem and channel, Alertmanager's timers — the first message
//! once the problem has lasted the group wait (so a blip tells nobody), an update when it grew
//! and the last message is older than the update interval, a reminder after the reminder
//! interval, and one "已恢复" when it resolves after having been told.

use chrono::{DateTime, TimeDelta, Utc};
use protocol::alerts::{Phase, ProblemKind};

use crate::storage::{Db, from_ms, to_ms};

/// The digest's timers (server options).
#[derive(Debug, Clone)]
pub struct Timers {
    /// How long a problem lasts before its first message.
    pub group_wait: TimeDelta,
    /// Least time between two messages about a problem that grew.
    pub update_every: TimeDelta,
    /// Time after which an open problem is told again.
    pub remind_every: TimeDelta,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            group_wait: TimeDelta::seconds(30),
            update_every: TimeDelta::minutes(5),
            remind_every: TimeDelta::hours(4),
        }
    }
}

/// What is due for one problem at one channel, given the last message about it there.
pub fn due(
    open: bool,
    first_seen: DateTime<Utc>,
    count: i64,
    last: Option<(Phase, i64, DateTime<Utc>)>,
    now: DateTime<Utc>,
    timers: &Timers,
) -> Option<Phase> {
    match last {
        None if open && now - first_seen >= timers.group_wait => Some(Phase::Opened),
        None => None,
        Some((Phase::Resolved, _, _)) => None,
        Some(_) if !open => Some(Phase::Resolved),
        Some((_, told, at)) if count > told && now - at >= timers.update_every => {
            Some(Phase::Updated)
        }
        Some((_, _, at)) if now - at >= timers.remind_every => Some(Phase::Reminder),
        Some(_) => None,
    }
}

fn phase(s: &str) -> Option<Phase> {
    [
        Phase::Opened,
        Phase::Updated,
        Phase::Reminder,
        Phase::Resolved,
    ]
    .into_iter()
    .find(|p| p.as_str() == s)
}

#[derive(sqlx::FromRow)]
struct ProblemRow {
    id: i64,
    kind: String,
    park_id: Option<i64>,
    subject: String,
    state: String,
    first_seen: i64,
    count: i64,
}

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: i64,
    parks_json: Option<String>,
    kinds_json: Option<String>,
}

impl ChannelRow {
    /// Whether this channel is told about `p`: its car parks and kinds (absent: all); a channel
    /// is never told about its own misconfiguration (it could not deliver it).
    fn routes(&self, p: &ProblemRow) -> bool {
        if p.subject == format!("channel:{}", self.id) {
            return false;
        }
        let parks: Option<Vec<i64>> = self
            .parks_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok());
        let kinds: Option<Vec<ProblemKind>> = self
            .kinds_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok());
        let park_ok = match (&parks, p.park_id) {
            (None, _) => true,
            (Some(ids), Some(id)) => ids.contains(&id),
            // Problems of no car park (a channel, a probe) go to channels of every car park.
            (Some(_), None) => true,
        };
        let kind_ok =
            kinds.is_none_or(|k| ProblemKind::parse(&p.kind).is_some_and(|pk| k.contains(&pk)));
        park_ok && kind_ok
    }
}

/// Enqueues every message due now; returns how many.
pub async fn schedule(db: &Db, now: DateTime<Utc>, timers: &Timers) -> Result<usize, sqlx::Error> {
    let problems = sqlx::query_as::<_, ProblemRow>(
        "SELECT id, kind, park_id, subject, state, first_seen, count FROM problems \
         WHERE state = 'open' OR resolved_at >= $1",
    )
    .bind(to_ms(now - TimeDelta::days(1)))
    .fetch_all(&db.pool)
    .await?;
    if problems.is_empty() {
        return Ok(0);
    }
    let channels = sqlx::query_as::<_, ChannelRow>(
        "SELECT id, parks_json, kinds_json FROM alert_channels WHERE disabled_at IS NULL",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut queued = 0;
    for p in &problems {
        for c in channels.iter().filter(|c| c.routes(p)) {
            let last = sqlx::query_as::<_, (String, i64, i64)>(
                "SELECT phase, count_at, created_at FROM alert_messages \
                 WHERE problem_id = $1 AND channel_id = $2 ORDER BY id DESC LIMIT 1",
            )
            .bind(p.id)
            .bind(c.id)
            .fetch_optional(&db.pool)
            .await?
            .and_then(|(ph, n, at)| phase(&ph).map(|ph| (ph, n, from_ms(at))));
            let Some(next) = due(
                p.state == "open",
                from_ms(p.first_seen),
                p.count,
                last,
                now,
                timers,
            ) else {
                continue;
            };
            sqlx::query(
                "INSERT INTO alert_messages (problem_id, channel_id, phase, count_at, state, \
                 attempts, next_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
            )
            .bind(p.id)
            .bind(c.id)
            .bind(next.as_str())
            .bind(p.count)
            .bind(to_ms(now))
            .execute(&db.pool)
            .await?;
            queued += 1;
        }
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_765_000_000 + s, 0).unwrap()
    }

    #[test]
    fn a_problem_is_told_after_the_wait_then_grouped_reminded_and_resolved_once() {
        let timers = Timers::default();
        let first = t(0);
        // A blip shorter than the group wait tells nobody, open or resolved.
        assert_eq!(due(true, first, 1, None, t(29), &timers), None);
        assert_eq!(due(false, first, 1, None, t(31), &timers), None);
        assert_eq!(
            due(true, first, 1, None, t(30), &timers),
            Some(Phase::Opened)
        );
        let told = Some((Phase::Opened, 1, t(30)));
        // 50 more failures within 5 minutes: nothing new; after 5 minutes: one update.
        assert_eq!(due(true, first, 51, told, t(300), &timers), None);
        assert_eq!(
            due(true, first, 51, told, t(330), &timers),
            Some(Phase::Updated)
        );
        // Unchanged: a reminder after 4 hours only.
        assert_eq!(
            due(true, first, 1, told, t(30 + 4 * 3600 - 1), &timers),
            None
        );
        assert_eq!(
            due(true, first, 1, told, t(30 + 4 * 3600), &timers),
            Some(Phase::Reminder)
        );
        // Resolved: once.
        assert_eq!(
            due(false, first, 51, told, t(400), &timers),
            Some(Phase::Resolved)
        );
        let resolved = Some((Phase::Resolved, 51, t(400)));
        assert_eq!(due(false, first, 51, resolved, t(9999), &timers), None);
    }
}
