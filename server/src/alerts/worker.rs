//! The alerts loop each instance runs: the holder of the detection lease detects problems and
//! schedules their messages; every instance sends due messages (each leased to one sender).

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};

use super::detect::{self, Thresholds};
use super::digest::{self, Timers};
use super::lease;
use super::queue::Sender;
use super::send;
use crate::pyun_client::PyunClient;
use crate::secrets::SecretBox;
use crate::storage::Db;
use crate::tokens;

/// The lease detection runs under.
const DETECTION_LEASE: &str = "problem_detection";

/// Everything the loop is configured with.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Digest timers.
    pub timers: Timers,
    /// Detection thresholds.
    pub thresholds: Thresholds,
    /// Time between two passes.
    pub tick: Duration,
    /// `--public-url`.
    pub public_url: Option<String>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            timers: Timers::default(),
            thresholds: Thresholds::default(),
            tick: Duration::from_secs(5),
            public_url: None,
        }
    }
}

/// Runs the loop until the task is aborted.
pub fn spawn(
    db: Db,
    secrets: Arc<SecretBox>,
    settings: AlertSettings,
) -> tokio::task::JoinHandle<()> {
    let holder = format!("inst-{}", tokens::random_hex(6));
    // The lease outlives a few missed passes, so a slow pass does not hand detection over; a
    // dead holder's lease lapses well within a minute.
    let ttl = TimeDelta::from_std(settings.tick * 6).unwrap_or(TimeDelta::seconds(30));
    tokio::spawn(async move {
        let client = PyunClient::new("", send::TIMEOUT);
        loop {
            if let Err(e) = pass(&db, &secrets, &client, &settings, &holder, ttl).await {
                tracing::warn!(error = %e, "alerts pass failed; trying again next tick");
            }
            tokio::time::sleep(settings.tick).await;
        }
    })
}

async fn pass(
    db: &Db,
    secrets: &SecretBox,
    client: &PyunClient,
    settings: &AlertSettings,
    holder: &str,
    ttl: TimeDelta,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    if lease::hold(db, DETECTION_LEASE, holder, now, ttl).await? {
        detect::pass(db, now, &settings.thresholds).await?;
        digest::schedule(db, now, &settings.timers).await?;
    }
    Sender {
        db,
        secrets,
        client,
        public_url: settings.public_url.as_deref(),
    }
    .send_due(Utc::now())
    .await?;
    Ok(())
}
