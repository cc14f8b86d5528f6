//! Where a car park's sync stands: its latest full sync (batches and rows done, rate, the batches
//! that failed) and its incremental queue.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::BatchRequest;
use crate::storage::{Db, from_ms};

/// A car park's sync, as `GET /api/v1/vip-sync/{park}` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SyncProgress {
    /// The latest full sync, if any was ever started.
    pub job: Option<JobProgress>,
    /// Incremental sync of new recharges.
    pub incremental: Incremental,
}

/// A full sync's progress.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobProgress {
    /// Job id.
    pub id: i64,
    /// `running`, `done` (every batch delivered) or `failed`.
    pub state: &'static str,
    /// Who started it.
    pub started_by: String,
    /// When.
    pub started_at: DateTime<Utc>,
    /// When its last batch ended (not while running).
    pub finished_at: Option<DateTime<Utc>>,
    /// Batches in the job.
    pub batches_total: i64,
    /// Batches P云 accepted.
    pub batches_done: i64,
    /// Recharges in the job.
    pub rows_total: i64,
    /// Recharges in accepted batches.
    pub rows_done: i64,
    /// Recharges accepted per second since the start.
    pub rows_per_s: f64,
    /// Batches that ended without being delivered (first 20).
    pub errors: Vec<BatchProblem>,
}

/// A batch that did not get through, with P云's answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchProblem {
    /// Its outbox row.
    pub batch_id: i64,
    /// Its position in the full sync.
    pub seq: Option<u32>,
    /// Its state.
    pub state: String,
    /// P云's code.
    pub code: Option<String>,
    /// P云's message.
    pub message: Option<String>,
    /// P云's hint (which field was wrong).
    pub hint: Option<String>,
    /// Our note.
    pub note: Option<String>,
}

/// The incremental queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Incremental {
    /// Recharges not yet in a batch.
    pub queued_rows: i64,
    /// Incremental batches waiting or being sent.
    pub pending_batches: i64,
    /// Incremental batches that ended without being delivered.
    pub problem_batches: i64,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    started_by: String,
    started_at: i64,
    batches_total: i64,
    rows_total: i64,
}

#[derive(sqlx::FromRow)]
struct StateCount {
    state: String,
    batches: i64,
    row_sum: i64,
    last_finished: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ProblemRow {
    id: i64,
    state: String,
    request_json: String,
    pyun_code: Option<String>,
    pyun_message: Option<String>,
    pyun_hint: Option<String>,
    last_error: Option<String>,
}

/// The sync progress of car park `park_id` at `now`.
pub async fn of_park(
    db: &Db,
    park_id: i64,
    now: DateTime<Utc>,
) -> Result<SyncProgress, sqlx::Error> {
    let job = sqlx::query_as::<_, JobRow>(
        "SELECT id, started_by, started_at, batches_total, rows_total FROM vip_sync_jobs \
         WHERE park_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(park_id)
    .fetch_optional(&db.pool)
    .await?;
    let job = match job {
        Some(j) => Some(job_progress(db, j, now).await?),
        None => None,
    };
    let queued_rows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM vip_recharges WHERE park_id = $1 AND outbox_id IS NULL",
    )
    .bind(park_id)
    .fetch_one(&db.pool)
    .await?;
    let counts = sqlx::query_as::<_, StateCount>(
        "SELECT state, COUNT(*) AS batches, CAST(COALESCE(SUM(row_count), 0) AS BIGINT) AS row_sum, MAX(finished_at) AS last_finished \
         FROM outbox WHERE park_id = $1 AND kind = 'vip_batch' AND sync_job_id IS NULL GROUP BY state",
    )
    .bind(park_id)
    .fetch_all(&db.pool)
    .await?;
    let count = |pick: fn(&str) -> bool| -> i64 {
        counts
            .iter()
            .filter(|c| pick(&c.state))
            .map(|c| c.batches)
            .sum()
    };
    Ok(SyncProgress {
        job,
        incremental: Incremental {
            queued_rows,
            pending_batches: count(|s| matches!(s, "pending" | "sending")),
            problem_batches: count(is_problem),
        },
    })
}

fn is_problem(state: &str) -> bool {
    !matches!(state, "pending" | "sending" | "delivered")
}

async fn job_progress(
    db: &Db,
    job: JobRow,
    now: DateTime<Utc>,
) -> Result<JobProgress, sqlx::Error> {
    let counts = sqlx::query_as::<_, StateCount>(
        "SELECT state, COUNT(*) AS batches, CAST(COALESCE(SUM(row_count), 0) AS BIGINT) AS row_sum, MAX(finished_at) AS last_finished \
         FROM outbox WHERE sync_job_id = $1 GROUP BY state",
    )
    .bind(job.id)
    .fetch_all(&db.pool)
    .await?;
    let problems = sqlx::query_as::<_, ProblemRow>(
        "SELECT id, state, request_json, pyun_code, pyun_message, pyun_hint, last_error FROM outbox \
         WHERE sync_job_id = $1 AND state NOT IN ('pending', 'sending', 'delivered') ORDER BY id LIMIT 20",
    )
    .bind(job.id)
    .fetch_all(&db.pool)
    .await?;
    let running = counts
        .iter()
        .any(|c| matches!(c.state.as_str(), "pending" | "sending"));
    let delivered = counts.iter().find(|c| c.state == "delivered");
    let batches_done = delivered.map_or(0, |c| c.batches);
    let rows_done = delivered.map_or(0, |c| c.row_sum);
    let started_at = from_ms(job.started_at);
    let finished_at = (!running)
        .then(|| counts.iter().filter_map(|c| c.last_finished).max())
        .flatten()
        .map(from_ms);
    let elapsed = (finished_at.unwrap_or(now) - started_at).as_seconds_f64();
    let state = if running {
        "running"
    } else if batches_done == job.batches_total {
        "done"
    } else {
        "failed"
    };
    Ok(JobProgress {
        id: job.id,
        state,
        started_by: job.started_by,
        started_at,
        finished_at,
        batches_total: job.batches_total,
        batches_done,
        rows_total: job.rows_total,
        rows_done,
        rows_per_s: if elapsed > 0.0 {
            rows_done as f64 / elapsed
        } else {
            0.0
        },
        errors: problems
            .into_iter()
            .map(|p| BatchProblem {
                batch_id: p.id,
                seq: serde_json::from_str::<BatchRequest>(&p.request_json)
                    .ok()
                    .and_then(|r| r.seq),
                state: p.state,
                code: p.pyun_code,
                message: p.pyun_message,
                hint: p.pyun_hint,
                note: p.last_error,
            })
            .collect(),
    })
}
