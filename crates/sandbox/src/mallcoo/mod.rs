//! A stand-in for Mallcoo (猫酷) (digest §2): the open platform's `EnterInfoNotify` receiver
//! (§2.5, signatures per §2.6, with fault injection), and [`client::MallcooClient`], which plays
//! Mallcoo's mini-program against ParkBridge's V1.4 endpoints (queries, payments with Mallcoo's
//! concurrent retries, traffic) and runs a retry storm.
//!
//! Signatures are checked with the protocol crate the gateway signs with, so the two cannot
//! drift apart. Besides the notice endpoint, [`MallcooSandbox::router`] serves a control API
//! under `/_sandbox/mallcoo/` (see the `control` module) that has no authentication: bind a
//! sandbox to loopback only.

pub mod cli;
pub mod client;
mod control;
mod faults;
mod handlers;
mod records;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use crate::pyun::RunningSandbox;
pub use faults::{Fault, FaultRule};
pub use records::{AcceptedNotice, NoticeReply, ReceivedNotice};

use state::{AppKeys, State};

/// A Mallcoo sandbox; clones share one state.
#[derive(Clone, Default)]
pub struct MallcooSandbox {
    // A std Mutex: every critical section is short and synchronous, never across an `.await`.
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MallcooSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Private keys stay out of logs: only counts are shown.
        self.with(|s| {
            f.debug_struct("MallcooSandbox")
                .field("apps", &s.apps.len())
                .field("park_codes", &s.park_codes.len())
                .field("notices", &s.accepted.len())
                .finish_non_exhaustive()
        })
    }
}

impl MallcooSandbox {
    /// An empty sandbox: no keys, no park codes, ±5 min timestamp tolerance.
    pub fn new() -> MallcooSandbox {
        MallcooSandbox::default()
    }

    /// Runs `f` under the lock; a panic elsewhere does not make the sandbox unusable.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Adds (or replaces) an `AppID` whose signatures are accepted with this key pair.
    pub fn add_app(&self, app_id: &str, public_key: &str, private_key: &str) {
        self.with(|s| {
            s.apps.insert(
                app_id.to_owned(),
                AppKeys {
                    public_key: public_key.to_owned(),
                    private_key: private_key.to_owned(),
                },
            )
        });
    }

    /// Adds a `ParkCode` Mallcoo knows (others are answered Code 1101).
    pub fn add_park_code(&self, park_code: &str) {
        self.with(|s| s.park_codes.insert(park_code.to_owned()));
    }

    /// Latency added before answering every notice.
    pub fn set_latency(&self, latency: Duration) {
        self.with(|s| s.latency = latency);
    }

    /// Adds a fault rule after the existing ones; the first rule applies until used up.
    pub fn push_fault(&self, rule: FaultRule) {
        self.with(|s| s.faults.push(rule));
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.with(|s| s.faults.clear());
    }

    /// Forgets every notice received and every fault; keys, park codes and latency stay.
    pub fn reset(&self) {
        self.with(State::reset);
    }

    /// The entries Mallcoo accepted, one per car park and `TradeID`, in acceptance order.
    pub fn notices(&self) -> Vec<AcceptedNotice> {
        self.with(|s| s.accepted.clone())
    }

    /// How many entries were accepted, without copying them (for polling under load).
    pub fn notice_count(&self) -> usize {
        self.with(|s| s.accepted.len())
    }

    /// Every notice received, valid or not, in arrival order, with its answer.
    pub fn requests(&self) -> Vec<ReceivedNotice> {
        self.with(|s| s.requests.clone())
    }

    /// The notice endpoint (at Mallcoo's path) and the control API.
    pub fn router(&self) -> axum::Router {
        handlers::routes()
            .merge(control::routes())
            .with_state(self.clone())
    }

    /// Binds `addr` (port 0 picks one) and serves in a spawned task until the handle is dropped.
    pub async fn start(&self, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
        crate::pyun::serve_router(addr, self.router()).await
    }
}
