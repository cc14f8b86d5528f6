//! Command line: `parkbridge serve` for production, `parkbridge demo` for a local try-out.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::http::{AppState, build_router};
use crate::{storage, telemetry};

/// ParkBridge: the gateway between a car park, P云 (4pyun) and Mallcoo.
#[derive(Debug, Parser)]
#[command(name = "parkbridge", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the APIs and the admin UI.
    Serve(ServeArgs),
    /// Serve with demonstration settings and print where to look.
    Demo(ServeArgs),
}

/// Where to listen and where the data and the built frontend live.
#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    #[arg(long, env = "PARKBRIDGE_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Directory for the embedded SQLite database.
    #[arg(long, env = "PARKBRIDGE_DATA_DIR", default_value = "parkbridge-data")]
    data_dir: PathBuf,
    /// Directory holding the built frontend (Trunk's `dist`).
    #[arg(long, env = "PARKBRIDGE_STATIC_DIR", default_value = "frontend/dist")]
    static_dir: PathBuf,
}

/// Runs the parsed command; the exit code is non-zero on any start-up failure.
pub fn run(cli: Cli) -> ExitCode {
    telemetry::init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("parkbridge: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (args, demo) = match cli.command {
        Command::Serve(args) => (args, false),
        Command::Demo(args) => (args, true),
    };
    match runtime.block_on(serve(args, demo)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parkbridge: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs, demo: bool) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&args.data_dir).map_err(|e| {
        format!(
            "cannot create data directory {}: {e}",
            args.data_dir.display()
        )
    })?;
    let db = storage::open_sqlite(&args.data_dir.join("parkbridge.db")).await?;
    if !args.static_dir.join("index.html").is_file() {
        tracing::warn!(dir = %args.static_dir.display(), "no built frontend found; run `cargo xtask demo` or `trunk build`");
    }
    let app = build_router(AppState { db }, &args.static_dir);
    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let local = listener.local_addr()?;
    // This line is the contract with scripts and tests that start us on port 0.
    println!("ParkBridge listening on http://{local}/");
    if demo {
        println!(
            "Demo: open http://{local}/ in a browser; the fee preview runs the protocol crate in wasm."
        );
        println!("Data: {}", args.data_dir.display());
    }
    tracing::info!(%local, "serving");
    axum::serve(listener, app)
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
}
