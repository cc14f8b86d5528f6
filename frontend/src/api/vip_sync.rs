//! P云 VIP sync progress: a car park's incremental backlog and its latest full-sync job.

use serde::Deserialize;
use serde_json::json;

use super::{ApiError, PyunVerdict, get, lenient_text, post};

/// The incremental sync's backlog for a car park.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub(crate) struct Incremental {
    /// Recharges not batched yet.
    #[serde(default)]
    pub(crate) queued_rows: u64,
    /// Batches waiting or being sent.
    #[serde(default)]
    pub(crate) pending_batches: u64,
    /// Batches P云 refused or whose outcome is unknown.
    #[serde(default)]
    pub(crate) problem_batches: u64,
}

/// One batch of a full sync that did not go through.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct JobError {
    /// Outbox batch id.
    #[serde(default)]
    pub(crate) batch_id: i64,
    /// Its place in the job.
    #[serde(default)]
    pub(crate) seq: i64,
    /// Its state.
    #[serde(default)]
    pub(crate) state: String,
    /// P云's answer and our words on it.
    #[serde(flatten)]
    pub(crate) answer: PyunVerdict,
}

/// A full-sync job's progress.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct JobProgress {
    /// Id.
    pub(crate) id: i64,
    /// `running`, `done` or `failed`.
    pub(crate) state: String,
    /// Who started it.
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) started_by: Option<String>,
    /// When (RFC 3339).
    #[serde(default)]
    pub(crate) started_at: String,
    /// When it ended (RFC 3339).
    #[serde(default)]
    pub(crate) finished_at: Option<String>,
    /// Batches in the job.
    #[serde(default)]
    pub(crate) batches_total: u64,
    /// Batches settled.
    #[serde(default)]
    pub(crate) batches_done: u64,
    /// Rows in the job.
    #[serde(default)]
    pub(crate) rows_total: u64,
    /// Rows settled.
    #[serde(default)]
    pub(crate) rows_done: u64,
    /// Throughput so far.
    #[serde(default)]
    pub(crate) rows_per_s: f64,
    /// Batches that failed.
    #[serde(default)]
    pub(crate) errors: Vec<JobError>,
}

/// The sync picture of a car park: the last full-sync job and the incremental backlog.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub(crate) struct SyncProgress {
    /// The latest full-sync job, if any.
    #[serde(default)]
    pub(crate) job: Option<JobProgress>,
    /// The incremental backlog.
    #[serde(default)]
    pub(crate) incremental: Incremental,
}

impl SyncProgress {
    /// Whether a full sync is running, so progress is worth reading every second.
    pub(crate) fn running(&self) -> bool {
        self.job.as_ref().is_some_and(|j| j.state == "running")
    }
}

/// `POST /api/v1/parks/{id}/vip-sync`: starts a full sync once the car park's name is typed.
pub(crate) async fn start_full_sync(
    park_id: i64,
    confirm_name: &str,
) -> Result<SyncProgress, ApiError> {
    post(
        &format!("/api/v1/parks/{park_id}/vip-sync"),
        json!({ "confirm_name": confirm_name }),
    )
    .await
}

/// `GET /api/v1/vip-sync/{park}`.
pub(crate) async fn sync_progress(park_id: i64) -> Result<SyncProgress, ApiError> {
    get(&format!("/api/v1/vip-sync/{park_id}")).await
}
