//! The HTTP surface: one router assembled from the route table, plus the built frontend.

pub mod access;
mod alert_channels;
mod alert_sends;
mod api_keys;
mod audit_log;
mod auth;
pub mod body_guard;
pub mod connections;
mod coupon_config;
mod coupon_records;
mod coupons;
mod credentials;
mod discounts;
pub mod error_envelope;
mod gate;
mod health;
pub mod json;
mod machine;
mod mallcoo_v14;
mod openapi;
mod openapi_refusals;
pub mod origin_check;
mod parks;
mod problems;
mod pyun_gateway;
mod pyun_uploads;
mod request_metrics;
pub mod routes;
pub(crate) mod schema_rules;
mod shop_desk;
mod shops;
mod spaces;
mod stays;
mod traffic;
pub mod ui_files;
mod users;
mod vip_csv;
mod vip_machine;
mod vip_records;
mod vip_sync;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::hot_lookups::HotLookups;
use crate::outbox::dispatcher::Dispatcher;
use crate::secrets::SecretBox;
use crate::storage::Db;
pub use ui_files::UiSource;

/// The largest request body we read; larger ones are refused with a 413 envelope. Every
/// request ParkBridge accepts (VIP batches included) is far smaller.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// P云's production API, the default of `--pyun-base-url`.
pub const DEFAULT_PYUN_BASE_URL: &str = "https://api.4pyun.com";
/// Mallcoo's open platform, the default of `--mallcoo-base-url`.
pub const DEFAULT_MALLCOO_BASE_URL: &str = "https://openapi10.mallcoo.cn";

/// Settings handlers read, fixed at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a sign-in lasts.
    pub session_ttl: chrono::TimeDelta,
    /// Base URL of the P云 API (no trailing slash), for the outbound calls.
    pub pyun_base_url: String,
    /// Base URL of the Mallcoo open platform (no trailing slash), for entry notices.
    pub mallcoo_base_url: String,
    /// How long a coupon request waits for P云's outcome before answering 202.
    pub coupon_wait: std::time::Duration,
    /// Most recharges in one VIP batch sent to P云.
    pub vip_batch_size: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxies`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Longest pause while a client sends a request body (`--header-timeout-secs`).
    pub body_timeout: std::time::Duration,
    /// The address people reach the admin UI at (`--public-url`), for links in alert messages.
    pub public_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_ttl: chrono::TimeDelta::hours(12),
            pyun_base_url: DEFAULT_PYUN_BASE_URL.to_owned(),
            mallcoo_base_url: DEFAULT_MALLCOO_BASE_URL.to_owned(),
            coupon_wait: std::time::Duration::from_secs(3),
            vip_batch_size: protocol::pyun::DEFAULT_BATCH_SIZE,
            trusted_proxies: Vec::new(),
            body_timeout: std::time::Duration::from_secs(10),
            public_url: None,
        }
    }
}

/// What every handler can reach: one shared [`Services`], so that cloning it (axum clones the
/// state into every route's middleware and handler for each request, a score of times) costs one
/// reference count instead of one per field.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// Shares `services` with every handler.
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The database, settings, secrets and caches behind [`AppState`].
pub struct Services {
    /// The database.
    pub db: Db,
    /// Start-up settings.
    pub settings: Arc<Settings>,
    /// Seals and opens stored secrets with the master key.
    pub secrets: Arc<SecretBox>,
    /// Delivers outbox rows to P云.
    pub dispatcher: Dispatcher,
    /// Cached car parks and event settings for the coupon calls.
    pub hot: Arc<HotLookups>,
    /// Cached car parks and inbound key pairs for Mallcoo's calls.
    pub mallcoo_keys: Arc<crate::mallcoo_api::auth::KeyCache>,
    /// Cached car parks and downlink keys for P云's gateway calls.
    pub pyun_parks: Arc<crate::pyun_gateway::ParkCache>,
    /// Stores P云's gateway calls off the request path.
    pub pyun_calls: Arc<crate::pyun_gateway::call_log::CallLog>,
}

/// Builds the whole application; `ui` is where the admin UI's files come from.
pub fn build_router(state: AppState, ui: UiSource) -> Router {
    // The single-page app owns every path that is not an API: unknown paths get index.html so
    // that a reload on a client-side route works. Its files keep plain names (the page chunks'
    // loader imports `frontend.js` by name), so a browser must revalidate each (a 304 when
    // unchanged) lest an upgrade mix old and new parts; only a hashed name may be kept long.
    let frontend = ui_files::service(ui);
    let mut api = Router::new();
    for r in routes::table() {
        let guard =
            axum::middleware::from_fn_with_state((state.clone(), r.access), access::enforce);
        api = api.route(r.path, r.handler.route_layer(guard));
    }
    // Installed before the first request, so that no request goes uncounted.
    request_metrics::handle();
    let body_timeout = state.settings.body_timeout;
    // Health and metrics sit outside `/api` (the load balancer's and Prometheus' conventional
    // paths), hence outside the route table; both are public and reveal no data.
    api.route("/healthz", get(health::healthz))
        .route("/metrics", get(request_metrics::render))
        // An unknown API path is a JSON 404, never the HTML page.
        .route("/api/{*rest}", any(|| async { ApiError::NotFound }))
        .with_state(state)
        .fallback_service(frontend)
        // One layer of all the middleware, not one `Router::layer` each: axum boxes the route's
        // service at every `layer`, and a request cloned that nest of boxes once per middleware
        // (callgrind: ~37 boxed clones, 50 allocations and ~14k instructions per request).
        .layer(
            // Outermost first: a cross-site change is refused before its body is read, and
            // oversize bodies and text with NUL before a handler sees them.
            tower::ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(axum::middleware::from_fn(request_metrics::track))
                // A body that stops arriving (slow-POST) fails its reader after this pause: 408
                // from `body_guard`, a 4xx envelope from any other extractor.
                .layer(RequestBodyTimeoutLayer::new(body_timeout))
                // Back to axum's body type for the middleware inside (what `Router::layer` does).
                .map_request(|req: axum::extract::Request<_>| req.map(axum::body::Body::new))
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                .layer(axum::middleware::from_fn(
                    error_envelope::envelope_plain_refusals,
                ))
                .layer(axum::middleware::from_fn(origin_check::refuse_cross_origin))
                .layer(axum::middleware::from_fn(body_guard::guard_body)),
        )
}
