//! Every VIP recharge reaches P云 once, in order, as rows of `internal/vip/recharge` batches.
//!
//! A recharge is written `queued` (no batch); the `batcher` groups queued recharges into outbox
//! rows of kind `vip_batch` (at most the batch size, within the flush interval); the outbox's
//! dispatcher sends a car park's batches one at a time in id order, reading their rows with
//! `batch_rows` at send time. A `full_sync` moves every recharge of a car park into a fresh
//! sequence of batches whose first alone carries `complete = 1`; `progress` reports on both.

pub mod batch_rows;
pub mod batcher;
pub mod full_sync;
pub mod progress;

use serde::{Deserialize, Serialize};

/// What a VIP batch's outbox row stores: the rows themselves are the recharges pointing at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRequest {
    /// Whether P云 wipes the car park's VIP records first (a full sync's first batch only).
    pub complete: bool,
    /// The batch's position in its full sync (1-based); `None` for an incremental batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
}

/// Who the outbox rows of VIP batches are requested by.
pub const REQUESTED_BY: &str = "vip-sync";
