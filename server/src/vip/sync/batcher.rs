//! Groups queued recharges (no batch yet) into outbox batches: per car park, oldest first, at most
//! the batch size each. Runs every flush interval in every instance; instances racing for the same
//! recharges collide on the batch's key (`inc-<first recharge id>`) and the loser rolls back.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use super::{BatchRequest, REQUESTED_BY};
use crate::outbox::dispatcher::Dispatcher;
use crate::outbox::store::{self, NewBatch};
use crate::storage::Db;
use crate::storage::lock_park;

/// How recharges are batched.
#[derive(Debug, Clone, Copy)]
pub struct BatchSettings {
    /// Most recharges in one batch.
    pub batch_size: usize,
    /// How often queued recharges are batched: the longest a recharge waits for its batch.
    pub flush_every: Duration,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings {
            batch_size: protocol::pyun::DEFAULT_BATCH_SIZE,
            flush_every: Duration::from_secs(1),
        }
    }
}

/// Starts the batcher; it stops with the runtime.
pub fn spawn(db: Db, dispatcher: Dispatcher, settings: BatchSettings) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(settings.flush_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match batch_queued(&db, settings.batch_size, Utc::now()).await {
                Ok(0) => {}
                Ok(batches) => {
                    tracing::debug!(batches, "queued VIP recharges batched");
                    dispatcher.notify();
                }
                Err(e) => tracing::warn!(error = %e, "cannot batch queued VIP recharges; retrying"),
            }
        }
    })
}

/// Batches every queued recharge of car parks that can sync (P云 park_uuid and credential set);
/// returns how many batches it created. The others stay queued until an admin configures them.
pub async fn batch_queued(
    db: &Db,
    batch_size: usize,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    // A read first: nearly always nothing is queued, and a read takes no write lock.
    let parks: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT c.park_id FROM vip_recharges c JOIN car_parks p ON p.id = c.park_id \
         WHERE c.outbox_id IS NULL AND p.pyun_park_uuid IS NOT NULL AND p.pyun_credential_id IS NOT NULL",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut created = 0;
    for park in parks {
        while let Some(made) = batch_one(db, park, batch_size, now).await? {
            created += u64::from(made);
        }
    }
    Ok(created)
}

/// Makes the next batch of car park `park`: `Some(true)` made, `Some(false)` lost a race to
/// another instance (try again), `None` nothing left.
async fn batch_one(
    db: &Db,
    park: i64,
    batch_size: usize,
    now: DateTime<Utc>,
) -> Result<Option<bool>, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    lock_park(&mut tx, park).await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM vip_recharges WHERE park_id = $1 AND outbox_id IS NULL ORDER BY id LIMIT $2",
    )
    .bind(park)
    .bind(i64::try_from(batch_size).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await?;
    let Some(first) = ids.first() else {
        return Ok(None);
    };
    let key = format!("inc-{first}");
    let summary = format!("{} 条固定车充值", ids.len());
    let request = serde_json::to_string(&BatchRequest {
        complete: false,
        seq: None,
    })
    .expect("a batch request serialises");
    let batch = NewBatch {
        park_id: park,
        dedupe_key: &key,
        summary: &summary,
        request_json: &request,
        row_count: i64::try_from(ids.len()).unwrap_or(i64::MAX),
        sync_job_id: None,
    };
    let Some(batch_id) = store::insert_batch(&mut tx, &batch, now).await? else {
        tx.rollback().await?;
        return Ok(Some(false));
    };
    assign(&mut tx, batch_id, &ids).await?;
    tx.commit().await?;
    tracing::debug!(
        park,
        batch = batch_id,
        rows = ids.len(),
        requested_by = REQUESTED_BY,
        "VIP batch queued"
    );
    Ok(Some(true))
}

/// Points recharges `ids` at batch `batch_id`.
pub(super) async fn assign(
    conn: &mut sqlx::AnyConnection,
    batch_id: i64,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    // The ids are our own integers, so listing them inline is safe; the `Any` driver cannot bind
    // an array, and one statement per batch beats one per recharge.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE vip_recharges SET outbox_id = $1 WHERE id IN ({list})"
    )))
    .bind(batch_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
