//! A full sync: every recharge of a car park, re-sent in fresh batches whose first alone carries
//! `complete = 1` (P云 wipes the car park's VIP records, then adds the rows).
//!
//! Starting one is a single transaction that fixes every batch's rows (the recharges point at
//! their batch), so a restart after a crash resends exactly the unacknowledged batches, and the
//! outbox's per-car-park ordering never lets batch n+1 go before batch n is delivered: once any
//! later batch succeeded, batch 1 (`complete = 1`) is delivered and is never sent again.

use chrono::{DateTime, Utc};

use super::BatchRequest;
use super::batcher::assign;
use crate::outbox::store::{self, NewBatch};
use crate::storage::lock_park;
use crate::storage::{Db, to_ms};

/// Why a full sync cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database failed.
    #[error("storage failure: {0}")]
    Storage(#[from] sqlx::Error),
    /// A full sync of this car park is still running.
    #[error("a full sync of this car park is still running (job {0})")]
    Running(i64),
    /// The car park has no recharges.
    #[error("the car park has no VIP recharges to sync")]
    NothingToSync,
}

/// A started job.
#[derive(Debug, Clone, Copy)]
pub struct Started {
    /// Job id.
    pub job: i64,
    /// Batches queued.
    pub batches: u64,
    /// Recharges in them.
    pub rows: u64,
}

/// Starts a full sync of car park `park_id` by `by`, in batches of `batch_size`.
pub async fn start(
    db: &Db,
    park_id: i64,
    by: &str,
    batch_size: usize,
    now: DateTime<Utc>,
) -> Result<Started, StartError> {
    let mut tx = db.pool.begin().await?;
    // Two admins starting at once run one after the other; the second sees the first running.
    lock_park(&mut tx, park_id).await?;
    let running: Option<i64> = sqlx::query_scalar(
        "SELECT sync_job_id FROM outbox WHERE park_id = $1 AND kind = 'vip_batch' AND sync_job_id IS NOT NULL \
         AND state IN ('pending', 'sending') LIMIT 1",
    )
    .bind(park_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(job) = running {
        return Err(StartError::Running(job));
    }
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM vip_recharges WHERE park_id = $1 ORDER BY id")
            .bind(park_id)
            .fetch_all(&mut *tx)
            .await?;
    if ids.is_empty() {
        return Err(StartError::NothingToSync);
    }
    let chunks: Vec<&[i64]> = ids.chunks(batch_size.max(1)).collect();
    let job: i64 = sqlx::query_scalar(
        "INSERT INTO vip_sync_jobs (park_id, started_by, started_at, batches_total, rows_total) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(park_id)
    .bind(by)
    .bind(to_ms(now))
    .bind(i64::try_from(chunks.len()).unwrap_or(i64::MAX))
    .bind(i64::try_from(ids.len()).unwrap_or(i64::MAX))
    .fetch_one(&mut *tx)
    .await?;
    for (i, chunk) in chunks.iter().enumerate() {
        let seq = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let key = format!("full-{job}-{seq:06}");
        let summary = format!(
            "全量同步 #{job} 第 {seq}/{} 批，{} 条",
            chunks.len(),
            chunk.len()
        );
        let request = serde_json::to_string(&BatchRequest {
            complete: i == 0,
            seq: Some(seq),
        })
        .expect("a batch request serialises");
        let batch = NewBatch {
            park_id,
            dedupe_key: &key,
            summary: &summary,
            request_json: &request,
            row_count: i64::try_from(chunk.len()).unwrap_or(i64::MAX),
            sync_job_id: Some(job),
        };
        let id = store::insert_batch(&mut tx, &batch, now)
            .await?
            .ok_or_else(|| sqlx::Error::Protocol(format!("batch key {key} already taken")))?;
        assign(&mut tx, id, chunk).await?;
    }
    tx.commit().await?;
    Ok(Started {
        job,
        batches: chunks.len() as u64,
        rows: ids.len() as u64,
    })
}

/// After batch `seq` of job `job` ended `state` without being delivered, fails the job's batches
/// still waiting (a later batch must not go without it); returns how many.
pub async fn stop_after(
    db: &Db,
    job: i64,
    seq: Option<u32>,
    state: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let which = seq.map_or_else(|| "a batch".to_owned(), |s| format!("batch {s}"));
    let note = format!(
        "full sync {job} stopped: {which} ended {state}; fix the cause, then resend or start a new full sync"
    );
    store::stop_job(db, job, &note, now).await
}
