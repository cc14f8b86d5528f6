//! A stand-in for the P云 (4pyun) parking API (digest §1): coupon events, coupon grants and VIP
//! recharge sync, with P云's envelope, outcome codes and signatures, plus fault injection.
//!
//! Signatures are verified with the protocol crate the gateway signs with, so the two cannot
//! drift apart. Besides the P云 endpoints, [`PyunSandbox::router`] serves a control API under
//! `/_sandbox/` (see the `control` module) that has no authentication: bind a sandbox to
//! loopback only.

pub mod cli;
pub(crate) mod conn;
mod control;
mod faults;
mod handlers;
mod records;
mod reply;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use protocol::plate::Plate;
use protocol::pyun::ParkingVip;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultRule};
pub use records::{Answer, Endpoint, IssuedCoupon, ReceivedRequest};

use state::State;

/// A P云 sandbox; clones share one state.
#[derive(Clone)]
pub struct PyunSandbox {
    // A std Mutex: every critical section is short and synchronous, never across an `.await`.
    state: Arc<Mutex<State>>,
}

impl Default for PyunSandbox {
    fn default() -> Self {
        PyunSandbox::new()
    }
}

impl std::fmt::Debug for PyunSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs: only counts are shown.
        self.with(|s| {
            f.debug_struct("PyunSandbox")
                .field("apps", &s.apps.len())
                .field("requests", &s.requests.len())
                .field("coupons", &s.coupons.len())
                .finish_non_exhaustive()
        })
    }
}

impl PyunSandbox {
    /// An empty sandbox: no apps, api types, coupon codes or parked plates; plate limit 10.
    pub fn new() -> PyunSandbox {
        // Seqnos and grant serials start with this, so two sandboxes (or runs) never share one.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let instance = format!("sbx{:x}-", nanos & 0xffff_ffff_ffff);
        PyunSandbox {
            state: Arc::new(Mutex::new(State::new(instance))),
        }
    }

    /// Runs `f` under the lock; a panic elsewhere does not make the sandbox unusable.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Adds (or replaces) a P云 app whose signatures are accepted.
    pub fn add_app(&self, app_id: &str, secret: &str) {
        self.with(|s| s.apps.insert(app_id.to_owned(), secret.to_owned()));
    }

    /// Adds an event `api_type` P云 knows.
    pub fn add_api_type(&self, api_type: &str) {
        self.with(|s| s.api_types.insert(api_type.to_owned()));
    }

    /// Adds a coupon product P云 knows, for grants.
    pub fn add_coupon_code(&self, coupon_code: &str) {
        self.with(|s| s.coupon_codes.insert(coupon_code.to_owned()));
    }

    /// Makes VIP recharges for `park_uuid` verified with `app_id`'s secret.
    pub fn add_vip_park(&self, park_uuid: &str, app_id: &str) {
        self.with(|s| s.vip_parks.insert(park_uuid.to_owned(), app_id.to_owned()));
    }

    /// Marks a plate as in the car park (any spelling `Plate::parse` accepts).
    pub fn park(&self, plate: &str) {
        let key = plate_key(plate);
        self.with(|s| s.parked.insert(key));
    }

    /// Marks a plate as gone.
    pub fn leave(&self, plate: &str) {
        let key = plate_key(plate);
        self.with(|s| s.parked.remove(&key));
    }

    /// Demo and bench: every plate counts as parked.
    pub fn set_any_plate_parked(&self, any: bool) {
        self.with(|s| s.any_plate_parked = any);
    }

    /// Successful coupons (events and grants) a plate may receive before `1003`.
    ///
    /// A grant counts once whatever its `quantity`: the limit is on dispatches, as P云's `1003` reads.
    pub fn set_plate_limit(&self, limit: u32) {
        self.with(|s| s.plate_limit = limit);
    }

    /// Latency added before answering every P云 call.
    pub fn set_latency(&self, latency: Duration) {
        self.with(|s| s.latency = latency);
    }

    /// Most rows a VIP batch may hold before a `400` (default 200).
    pub fn set_max_vip_batch(&self, n: usize) {
        self.with(|s| s.max_vip_batch = n);
    }

    /// Adds a fault rule after the existing ones; the first matching rule applies.
    pub fn push_fault(&self, rule: FaultRule) {
        self.with(|s| s.faults.push(rule));
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.with(|s| s.faults.clear());
    }

    /// Every P云 call received, in arrival order, with its answer.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.with(|s| s.requests.clone())
    }

    /// Coupons actually issued, in order.
    pub fn coupons(&self) -> Vec<IssuedCoupon> {
        self.with(|s| s.coupons.clone())
    }

    /// How many coupons were issued: what `coupons().len()` says, without copying them (a load
    /// test polls this while the sandbox is busy, and a copy would hold the lock for long).
    pub fn coupon_count(&self) -> usize {
        self.with(|s| s.coupons.len())
    }

    /// The car park's current VIP records, in insertion order.
    pub fn vip_records(&self, park_uuid: &str) -> Vec<ParkingVip> {
        self.with(|s| {
            s.vip
                .get(park_uuid)
                .map(|v| v.rows().to_vec())
                .unwrap_or_default()
        })
    }

    /// How many VIP records P云 holds for `park_uuid` (cheaper than `vip_records` when polling).
    pub fn vip_count(&self, park_uuid: &str) -> usize {
        self.with(|s| s.vip.get(park_uuid).map_or(0, |v| v.rows().len()))
    }

    /// The P云 endpoints (at P云's paths) and the control API.
    pub fn router(&self) -> axum::Router {
        handlers::routes()
            .merge(control::routes())
            .with_state(self.clone())
    }

    /// Binds `addr` (port 0 picks one) and serves in a spawned task until the handle is dropped.
    pub async fn start(&self, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        // A wildcard bind is still reached through loopback by the tests and the demo.
        let host = if addr.ip().is_unspecified() {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        } else {
            addr
        };
        let task = tokio::spawn(conn::serve(listener, self.router()));
        Ok(RunningSandbox {
            addr,
            base_url: format!("http://{host}"),
            task,
        })
    }
}

/// The normalised plate, or the trimmed input when it is not a plate (it then never matches a
/// request, whose plate is validated).
fn plate_key(plate: &str) -> String {
    Plate::parse(plate).map_or_else(|_| plate.trim().to_owned(), Plate::into_string)
}

/// A sandbox (P云's or Mallcoo's) being served; dropping it stops the server and closes its
/// connections.
#[derive(Debug)]
pub struct RunningSandbox {
    /// The bound address.
    pub addr: SocketAddr,
    /// Base URL for clients, e.g. `http://127.0.0.1:9400`.
    pub base_url: String,
    pub(crate) task: JoinHandle<()>,
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}
