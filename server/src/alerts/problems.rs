//! Problems as stored: opened and refreshed by detection, resolved when their condition clears.

use chrono::{DateTime, Utc};
use protocol::alerts::{Language, ProblemKind};
use serde::Serialize;

use crate::storage::{Db, from_ms, to_ms};

/// Most examples kept per problem (the newest).
pub const MAX_EXAMPLES: usize = 10;

/// A condition detection found now: one problem's worth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// What is wrong.
    pub kind: ProblemKind,
    /// Where, when at a car park.
    pub park_id: Option<i64>,
    /// What exactly, stable across passes (`partner:pyun`, `channel:3`, `offer:7`).
    pub subject: String,
    /// Its name for people (a credential's, a channel's, a shop's).
    pub label: Option<String>,
    /// How many occurrences.
    pub count: i64,
    /// A few examples, newest first.
    pub examples: Vec<String>,
    /// The admin page where it is fixed (a path of the UI).
    pub link_path: String,
}

impl Condition {
    fn open_key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.kind.as_str(),
            self.park_id.map_or(String::new(), |p| p.to_string()),
            self.subject
        )
    }
}

/// A problem as people see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Id.
    pub id: i64,
    /// Its kind (`credential_refused`, `gate_silence`, …).
    #[schema(value_type = String)]
    pub kind: ProblemKind,
    /// What is wrong, in Chinese.
    pub title: String,
    /// What to do about it, in Chinese.
    pub advice: String,
    /// The car park, when at one.
    pub park_id: Option<i64>,
    /// Its name.
    pub park_name: Option<String>,
    /// What exactly (stable key).
    pub subject: String,
    /// Its name for people.
    pub label: Option<String>,
    /// `open` or `resolved`.
    pub state: String,
    /// First detected.
    pub first_seen: DateTime<Utc>,
    /// Last detected.
    pub last_seen: DateTime<Utc>,
    /// When it cleared.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Occurrences.
    pub count: i64,
    /// The newest examples.
    pub examples: Vec<String>,
    /// The admin page where it is fixed.
    pub link_path: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    park_id: Option<i64>,
    park_name: Option<String>,
    subject: String,
    label: Option<String>,
    state: String,
    first_seen: i64,
    last_seen: i64,
    resolved_at: Option<i64>,
    count: i64,
    examples_json: String,
    link_path: Option<String>,
}

impl Row {
    fn into_problem(self) -> Option<Problem> {
        let kind = ProblemKind::parse(&self.kind)?;
        Some(Problem {
            id: self.id,
            kind,
            title: kind.title(Language::ZhCn).to_owned(),
            advice: kind.advice(Language::ZhCn).to_owned(),
            park_id: self.park_id,
            park_name: self.park_name,
            subject: self.subject,
            label: self.label,
            state: self.state,
            first_seen: from_ms(self.first_seen),
            last_seen: from_ms(self.last_seen),
            resolved_at: self.resolved_at.map(from_ms),
            count: self.count,
            examples: serde_json::from_str(&self.examples_json).unwrap_or_default(),
            link_path: self.link_path,
        })
    }
}

const SELECT: &str = "SELECT p.id, p.kind, p.park_id, c.name AS park_name, p.subject, p.label, \
    p.state, p.first_seen, p.last_seen, p.resolved_at, p.count, p.examples_json, p.link_path \
    FROM problems p LEFT JOIN car_parks c ON c.id = p.park_id";

/// Open problems, or those resolved in the last 7 days, newest first; `parks` limits them to
/// those car parks (a property manager's), leaving out problems of no car park.
pub async fn list(
    db: &Db,
    open: bool,
    parks: Option<&[i64]>,
    now: DateTime<Utc>,
) -> Result<Vec<Problem>, sqlx::Error> {
    let week_ago = to_ms(now - chrono::TimeDelta::days(7));
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE p.state = $1 AND (p.state = 'open' OR p.resolved_at >= $2) \
         ORDER BY p.last_seen DESC, p.id DESC LIMIT 500"
    )))
    .bind(if open { "open" } else { "resolved" })
    .bind(week_ago)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(Row::into_problem)
        .filter(|p| match parks {
            None => true,
            Some(ids) => p.park_id.is_some_and(|id| ids.contains(&id)),
        })
        .collect())
}

/// Problem `id`, if any.
pub async fn get(db: &Db, id: i64) -> Result<Option<Problem>, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE p.id = $1")))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.and_then(Row::into_problem))
}

/// Opens or refreshes the problems of `found` and resolves the open ones of `kinds` that are no
/// longer found. `kinds` are the kinds this pass looked for: others are left alone.
pub async fn reconcile(
    db: &Db,
    kinds: &[ProblemKind],
    found: &[Condition],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let at = to_ms(now);
    let mut tx = db.pool.begin().await?;
    for c in found {
        let examples: Vec<&String> = c.examples.iter().take(MAX_EXAMPLES).collect();
        let examples = serde_json::to_string(&examples).unwrap_or_else(|_| "[]".to_owned());
        let updated = sqlx::query(
            "UPDATE problems SET last_seen = $1, count = $2, examples_json = $3, label = $4 \
             WHERE open_key = $5",
        )
        .bind(at)
        .bind(c.count)
        .bind(&examples)
        .bind(c.label.as_deref())
        .bind(c.open_key())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO problems (kind, park_id, subject, label, state, open_key, first_seen, \
                 last_seen, count, examples_json, link_path) \
                 VALUES ($1, $2, $3, $4, 'open', $5, $6, $6, $7, $8, $9)",
            )
            .bind(c.kind.as_str())
            .bind(c.park_id)
            .bind(&c.subject)
            .bind(c.label.as_deref())
            .bind(c.open_key())
            .bind(at)
            .bind(c.count)
            .bind(&examples)
            .bind(&c.link_path)
            .execute(&mut *tx)
            .await?;
            tracing::warn!(
                kind = c.kind.as_str(),
                park = c.park_id,
                subject = c.subject.as_str(),
                count = c.count,
                "problem opened"
            );
        }
    }
    let still: Vec<String> = found.iter().map(Condition::open_key).collect();
    for kind in kinds {
        let open = sqlx::query_as::<_, (i64, String)>(
            "SELECT id, open_key FROM problems WHERE state = 'open' AND kind = $1",
        )
        .bind(kind.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for (id, key) in open {
            if !still.contains(&key) {
                sqlx::query(
                    "UPDATE problems SET state = 'resolved', open_key = NULL, resolved_at = $1 \
                     WHERE id = $2",
                )
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tracing::info!(problem = id, kind = kind.as_str(), "problem resolved");
            }
        }
    }
    tx.commit().await
}
