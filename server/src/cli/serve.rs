//! `parkbridge serve`: open the database, bind, serve until SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use tokio::net::TcpListener;

use super::DbArgs;
use crate::http::{
    AppState, DEFAULT_MALLCOO_BASE_URL, DEFAULT_PYUN_BASE_URL, Settings, build_router,
};
use crate::secrets::{KeySource, SecretBox, verify_instance};
use crate::storage::Db;

/// Where to listen, where the data and the built frontend live.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    #[arg(long, env = "PARKBRIDGE_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// Directory holding the built frontend (Trunk's `dist`).
    #[arg(long, env = "PARKBRIDGE_STATIC_DIR", default_value = "frontend/dist")]
    pub(crate) static_dir: PathBuf,
    /// Hours a sign-in lasts.
    #[arg(long, env = "PARKBRIDGE_SESSION_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub(crate) session_hours: u32,
    /// Master key file, created (mode 0600) on first start; ignored when PARKBRIDGE_MASTER_KEY
    /// (64 hex digits) is set, which several instances sharing one PostgreSQL database need
    /// [default: <data-dir>/master.key].
    #[arg(long, env = "PARKBRIDGE_MASTER_KEY_FILE")]
    pub(crate) master_key_file: Option<PathBuf>,
    /// Base URL of the P云 (4pyun) API that coupons and VIP recharges are sent to.
    #[arg(long, env = "PARKBRIDGE_PYUN_BASE_URL", default_value = DEFAULT_PYUN_BASE_URL, value_parser = parse_base_url)]
    pub(crate) pyun_base_url: String,
    /// Base URL of the Mallcoo (猫酷) open platform that entry notices are sent to.
    #[arg(long, env = "PARKBRIDGE_MALLCOO_BASE_URL", default_value = DEFAULT_MALLCOO_BASE_URL, value_parser = parse_base_url)]
    pub(crate) mallcoo_base_url: String,
}

impl ServeArgs {
    /// Loads the master key and proves it is the one this database's secrets were sealed with.
    async fn secrets(&self, db: &Db) -> Result<SecretBox, Box<dyn std::error::Error>> {
        let file = self
            .master_key_file
            .clone()
            .unwrap_or_else(|| self.db.data_dir.join("master.key"));
        let key = KeySource::from_env(file).load()?;
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

/// Serves; `banner` is printed after the address line (the demo's sign-in details).
pub(crate) async fn serve(
    args: ServeArgs,
    opened: Option<(Db, String)>,
) -> Result<(), Box<dyn std::error::Error>> {
    let (db, banner) = match opened {
        Some((db, banner)) => (db, Some(banner)),
        None => (args.db.open().await?, None),
    };
    let secrets = args.secrets(&db).await?;
    if !args.static_dir.join("index.html").is_file() {
        tracing::warn!(dir = %args.static_dir.display(), "no built frontend found; run `cargo xtask demo` or `trunk build`");
    }
    let settings = Settings {
        session_ttl: chrono::TimeDelta::hours(i64::from(args.session_hours)),
        pyun_base_url: args.pyun_base_url.clone(),
        mallcoo_base_url: args.mallcoo_base_url.clone(),
    };
    let app = build_router(
        AppState {
            db,
            settings: Arc::new(settings),
            secrets: Arc::new(secrets),
        },
        &args.static_dir,
    );
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr()?;
    // This line is the contract with scripts and tests that start us on port 0.
    println!("ParkBridge listening on http://{local}/");
    if let Some(banner) = banner {
        println!("{banner}");
    }
    tracing::info!(%local, "serving");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
