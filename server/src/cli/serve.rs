//! `parkbridge serve`: open the database, bind, serve until SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tokio::net::TcpListener;

use super::DbArgs;
use crate::http::{
    AppState, DEFAULT_MALLCOO_BASE_URL, DEFAULT_PYUN_BASE_URL, Services, Settings, UiSource,
    build_router, connections,
};
use crate::outbox::dispatcher::{DispatchSettings, Dispatcher};
use crate::outbox::retry::Policy;
use crate::secrets::{SecretBox, verify_instance};
use crate::storage::Db;
use crate::vip::sync::batcher::{self, BatchSettings};

/// Where to listen, where the data and the built frontend live.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    #[arg(long, env = "PARKBRIDGE_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// Directory holding the built admin UI (Trunk's `dist`), served instead of the copy a
    /// release binary carries [default: the built-in copy; `frontend/dist` in a debug build].
    #[arg(long, env = "PARKBRIDGE_STATIC_DIR")]
    pub(crate) static_dir: Option<PathBuf>,
    /// Hours a sign-in lasts.
    #[arg(long, env = "PARKBRIDGE_SESSION_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub(crate) session_hours: u32,
    #[command(flatten)]
    pub(crate) key: super::key_args::KeyArgs,
    /// Base URL of the P云 (4pyun) API that coupons and VIP recharges are sent to.
    #[arg(long, env = "PARKBRIDGE_PYUN_BASE_URL", default_value = DEFAULT_PYUN_BASE_URL, value_parser = parse_base_url)]
    pub(crate) pyun_base_url: String,
    /// Base URL of the Mallcoo (猫酷) open platform that entry notices are sent to.
    #[arg(long, env = "PARKBRIDGE_MALLCOO_BASE_URL", default_value = DEFAULT_MALLCOO_BASE_URL, value_parser = parse_base_url)]
    pub(crate) mallcoo_base_url: String,
    /// Seconds a client may stall: to send a request's headers, counted from when its connection
    /// opens or its previous answer is sent (slow or idle connections are closed after it), and
    /// between two parts of a request body (the request is then answered 408).
    #[arg(long, env = "PARKBRIDGE_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) header_timeout_secs: u64,
    /// The address people open the admin UI at (e.g. `https://parking.example.cn`), used for
    /// the links in alert messages; without it messages carry no link.
    #[arg(long, env = "PARKBRIDGE_PUBLIC_URL", value_parser = parse_base_url)]
    pub(crate) public_url: Option<String>,
    /// Addresses of the reverse proxies in front of this instance (comma-separated IPs). Only a
    /// request whose connection comes from one of them has its client address taken from
    /// `X-Forwarded-For` (for the per-address sign-in limit); anyone else's header is ignored.
    #[arg(long, env = "PARKBRIDGE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub(crate) trusted_proxies: Vec<std::net::IpAddr>,
    #[command(flatten)]
    pub(crate) delivery: DeliveryArgs,
    #[command(flatten)]
    pub(crate) alerts: super::alert_args::AlertArgs,
}

/// How outbound requests are delivered and retried.
#[derive(Debug, Args)]
pub(crate) struct DeliveryArgs {
    /// Bound on one outbound call to P云 or Mallcoo (connect, send, answer), in milliseconds.
    #[arg(long, env = "PARKBRIDGE_PYUN_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub(crate) pyun_timeout_ms: u64,
    /// How long a coupon request waits for P云's outcome before answering 202, in milliseconds.
    #[arg(long, env = "PARKBRIDGE_COUPON_WAIT_MS", default_value_t = 3_000, value_parser = clap::value_parser!(u64).range(0..=30_000))]
    pub(crate) coupon_wait_ms: u64,
    /// Delay before the first retry of a transient failure, in milliseconds (doubles each time).
    #[arg(long, env = "PARKBRIDGE_RETRY_BASE_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub(crate) retry_base_ms: u64,
    /// Attempts after which a transient failure is given up (`failed`).
    #[arg(long, env = "PARKBRIDGE_RETRY_MAX_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub(crate) retry_max_attempts: u32,
    /// Deliveries in flight at once in this instance.
    #[arg(long, env = "PARKBRIDGE_DELIVERY_CONCURRENCY", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub(crate) delivery_concurrency: u64,
    /// Most recharges in one VIP batch sent to P云 (`internal/vip/recharge`).
    #[arg(long, env = "PARKBRIDGE_VIP_BATCH_SIZE", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub(crate) vip_batch_size: u64,
    /// How often new VIP recharges are batched for P云, in milliseconds (the longest a recharge
    /// waits for its batch).
    #[arg(long, env = "PARKBRIDGE_VIP_FLUSH_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(10..=2_000))]
    pub(crate) vip_flush_ms: u64,
}

impl DeliveryArgs {
    fn vip_batching(&self) -> BatchSettings {
        BatchSettings {
            batch_size: usize::try_from(self.vip_batch_size).unwrap_or(200),
            flush_every: Duration::from_millis(self.vip_flush_ms),
        }
    }

    fn settings(&self, mallcoo_base_url: &str) -> DispatchSettings {
        DispatchSettings {
            call_timeout: Duration::from_millis(self.pyun_timeout_ms),
            mallcoo_base_url: mallcoo_base_url.to_owned(),
            policy: Policy {
                base: Duration::from_millis(self.retry_base_ms),
                cap: Duration::from_secs(300).max(Duration::from_millis(self.retry_base_ms)),
                max_attempts: self.retry_max_attempts,
            },
            concurrency: usize::try_from(self.delivery_concurrency).unwrap_or(32),
        }
    }
}

impl ServeArgs {
    /// Loads the master key and proves it is the one this database's secrets were sealed with.
    pub(super) async fn secrets(&self, db: &Db) -> Result<SecretBox, Box<dyn std::error::Error>> {
        let key = self.key.source(&self.db.data_dir).load()?;
        let secrets = SecretBox::new(&key);
        verify_instance(db, &secrets).await?;
        Ok(secrets)
    }
}

/// An `http(s)://host[/path]` base URL, kept without a trailing slash so paths append cleanly.
fn parse_base_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or("expected an http:// or https:// URL")?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
        return Err("expected http(s)://host[:port][/path]".to_owned());
    }
    Ok(s.trim_end_matches('/').to_owned())
}

/// Serves; `banner` is printed after the address line (the demo's sign-in details), and
/// `listening` gets the bound address (the demo's simulation calls our own endpoints).
pub(crate) async fn serve(
    args: ServeArgs,
    opened: Option<(Db, String)>,
    listening: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> Result<(), Box<dyn std::error::Error>> {
    // Held until we return: `restore` refuses to replace the database while it is.
    let _instance = args.db.hold_instance_lock()?;
    let (db, banner) = match opened {
        Some((db, banner)) => (db, Some(banner)),
        None => (args.db.open().await?, None),
    };
    let secrets = args.secrets(&db).await?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr()?;
    // The demo (the one caller with a banner) links its alerts to where it listens, port 0
    // included; a real deployment names its public address or gets no links.
    let public_url = args
        .public_url
        .clone()
        .or_else(|| banner.is_some().then(|| format!("http://{local}")));
    let ui = args
        .static_dir
        .clone()
        .map_or_else(UiSource::built_in_or_default, UiSource::Dir);
    let ui_from = ui.describe();
    if !ui.has_index() {
        tracing::warn!(dir = %ui.describe(), "no built admin UI found; run `cargo xtask ui`");
    }
    let settings = Settings {
        session_ttl: chrono::TimeDelta::hours(i64::from(args.session_hours)),
        pyun_base_url: args.pyun_base_url.clone(),
        mallcoo_base_url: args.mallcoo_base_url.clone(),
        coupon_wait: Duration::from_millis(args.delivery.coupon_wait_ms),
        vip_batch_size: args.delivery.vip_batching().batch_size,
        trusted_proxies: args.trusted_proxies.clone(),
        body_timeout: Duration::from_secs(args.header_timeout_secs),
        public_url: public_url.clone(),
    };
    let secrets = Arc::new(secrets);
    let dispatch = args.delivery.settings(&args.mallcoo_base_url);
    let dispatcher = Dispatcher::new(db.clone(), secrets.clone(), &args.pyun_base_url, &dispatch);
    let worker = dispatcher.spawn_worker();
    let batcher = batcher::spawn(db.clone(), dispatcher.clone(), args.delivery.vip_batching());
    let checkpointer = db.spawn_checkpointer();
    let alerts = crate::alerts::worker::spawn(
        db.clone(),
        secrets.clone(),
        args.alerts.settings(public_url),
    );
    let pyun_calls = Arc::new(crate::pyun_gateway::call_log::CallLog::start(db.clone()));
    let app = build_router(
        AppState::new(Services {
            db,
            settings: Arc::new(settings),
            secrets,
            dispatcher: dispatcher.clone(),
            hot: Arc::default(),
            mallcoo_keys: Arc::default(),
            pyun_parks: Arc::default(),
            pyun_calls,
        }),
        ui,
    );
    let shutdown = shutdown_signal()?;
    // This line is the contract with scripts and tests that start us on port 0.
    println!("ParkBridge listening on http://{local}/");
    if let Some(banner) = banner {
        println!("{banner}");
    }
    if let Some(tx) = listening {
        let _ = tx.send(local);
    }
    tracing::info!(%local, ui = %ui_from, "serving");
    connections::serve(
        listener,
        app,
        Duration::from_secs(args.header_timeout_secs),
        shutdown,
    )
    .await;
    // Deliveries in flight record their outcome before we exit, so a graceful stop leaves no
    // row `sending` (a kill -9 is what lease recovery is for).
    dispatcher.shutdown(dispatch.call_timeout).await;
    worker.abort();
    alerts.abort();
    batcher.abort();
    if let Some(c) = checkpointer {
        c.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM or SIGINT. The handlers are installed when this is called, not when the future is
/// first polled: a supervisor (or a test) may send SIGTERM as soon as it reads the address line,
/// and before they exist the signal would kill the process without a graceful stop.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = interrupt.recv() => {},
        }
        tracing::info!("shutdown signal received; finishing requests in flight");
    })
}

/// Ctrl-C, where Unix signals do not exist.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received; finishing requests in flight");
    })
}
