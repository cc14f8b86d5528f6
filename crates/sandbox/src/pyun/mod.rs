//! A stand-in for the P云 (4pyun) parking API (digest §1): coupon events, coupon grants, QR-code
//! coupon tokens (`mcoupon/token`) and VIP recharge sync, with P云's envelope, outcome codes and
//! signatures, plus fault injection.
//!
//! A QR token is claimed by a customer scanning it with their plate ([`PyunSandbox::scan_token`],
//! `POST /_sandbox/tokens/scan`): the coupon is issued as a grant's would be, to the car park
//! whose shop list holds the token's `store_code` ([`PyunSandbox::add_carpark_store`]).
//!
//! It is also P云's cloud for car parks registered with it (pyun-carpark.md; ParkBridge as the
//! car park): it takes their entry and leave uploads (`uploads`), learns their stays, refuses a
//! coupon for a car they never reported (`1002`) and delivers the others to their gateway with
//! `discount.create`, and plays a driver paying in the P云 app, notices, revocations and
//! `realtime` polls against that gateway (`driver`, `downlink`). Car parks that are not
//! registered see the third-party behaviour only.
//!
//! Signatures are verified and made with the protocol crate the gateway uses, so the two cannot
//! drift apart. Besides the P云 endpoints, [`PyunSandbox::router`] serves a control API under
//! `/_sandbox/` (see the `control` and `carpark_control` modules) that has no authentication:
//! bind a sandbox to loopback only.

mod carpark_api;
mod carpark_control;
mod carparks;
pub mod cli;
pub(crate) mod conn;
mod control;
mod coupon_discount;
mod downlink;
mod driver;
mod faults;
mod handlers;
mod records;
mod reply;
mod state;
mod stays;
mod tokens;
mod upload_check;
mod uploads;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use protocol::plate::Plate;
use protocol::pyun::ParkingVip;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use carparks::{CarParkRegistration, CarParkView};
pub use coupon_discount::{CouponDiscount, DEFAULT_DISCOUNT_TYPE, DEFAULT_DISCOUNT_VALUE};
pub use downlink::{DOWNLINK_TIMEOUT, DownlinkCall, Trigger};
pub use driver::{
    ControlError, DEFAULT_PAY_ORIGIN, DiscountDestroyRequest, DriverPaid, DriverPays,
    PaymentNoticeRequest, ServiceCall,
};
pub use faults::{Fault, FaultRule, UploadFaultRule};
pub use records::{Answer, Endpoint, IssuedCoupon, ReceivedRequest};
pub use stays::{Stay, StayChange};
pub use tokens::{CLAIM_PATH, QrToken, ScanError, ScanOutcome, TokenClaim, TokenScan};
pub use uploads::{Upload, UploadFile, UploadPath};

use state::State;

/// A P云 sandbox; clones share one state.
#[derive(Clone)]
pub struct PyunSandbox {
    // A std Mutex: every critical section is short and synchronous, never across an `.await`.
    state: Arc<Mutex<State>>,
    /// Calls car parks' gateways (a cheap handle to one connection pool).
    client: reqwest::Client,
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
                .field("carparks", &s.carparks.iter().count())
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
            // No proxy: gateways are on loopback, where an `HTTP_PROXY` of the environment
            // would only get in the way. Without TLS, building cannot fail in practice.
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap_or_default(),
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

    /// Adds a coupon product P云 knows, for grants and QR tokens (its worth at a car park:
    /// [`PyunSandbox::set_coupon_discount`]).
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

    /// Successful coupons (events, grants, token scans) a plate may receive before `1003`.
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
            .merge(uploads::routes())
            .merge(control::routes())
            .merge(carpark_control::routes())
            .with_state(self.clone())
    }

    /// Binds `addr` (port 0 picks one) and serves in a spawned task until the handle is dropped.
    pub async fn start(&self, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
        let running = serve_router(addr, self.router()).await?;
        self.with(|s| s.base_url.clone_from(&running.base_url));
        Ok(running)
    }
}

/// Serves `router` on `addr` with the hand-served connections (`conn`) until the handle drops;
/// every sandbox starts this way.
pub(crate) async fn serve_router(
    addr: SocketAddr,
    router: axum::Router,
) -> std::io::Result<RunningSandbox> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    // A wildcard bind is still reached through loopback by the tests and the demo.
    let host = if addr.ip().is_unspecified() {
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    let task = tokio::spawn(conn::serve(listener, router));
    Ok(RunningSandbox {
        addr,
        base_url: format!("http://{host}"),
        task,
    })
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
