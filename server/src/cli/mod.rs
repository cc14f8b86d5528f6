//! Command line: `serve`, `demo`, `migrate`, bootstrapping commands (`user add`,
//! `apikey create`), and `sandbox`, stand-ins of the platforms for trials and tests.

mod alert_args;
mod apikey;
mod demo;
mod demo_alerts;
mod demo_discounts;
mod demo_mallcoo;
mod demo_pyun;
mod demo_pyun_carpark;
mod demo_seed;
mod demo_shops;
mod demo_traffic;
mod sandbox;
mod serve;
mod user;

#[cfg(test)]
mod env_file;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::storage::{self, Db};
use crate::telemetry;

/// ParkBridge: the gateway between a car park, P云 (4pyun) and Mallcoo.
#[derive(Debug, Parser)]
#[command(name = "parkbridge", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log line format on stderr: text, or one JSON object per line for log collectors.
    #[arg(long, global = true, env = "PARKBRIDGE_LOG_FORMAT", value_enum, default_value_t = telemetry::LogFormat::Text)]
    log_format: telemetry::LogFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the APIs and the admin UI.
    Serve(serve::ServeArgs),
    /// Serve on 127.0.0.1 with a demo car park, one user per role (passwords printed), embedded
    /// P云 and Mallcoo sandboxes that its coupons and entry notices go to, and simulated traffic.
    Demo(serve::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage machine clients' API keys.
    #[command(subcommand)]
    Apikey(apikey::ApiKeyCommand),
    /// Run a stand-in of a platform (P云) for trials and tests — never for production.
    #[command(subcommand)]
    Sandbox(sandbox::SandboxCommand),
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Directory for the embedded SQLite database (and the master key file).
    #[arg(long, env = "PARKBRIDGE_DATA_DIR", default_value = "parkbridge-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (`postgres://user@host/db`) for several instances; default: SQLite in --data-dir.
    #[arg(long, env = "PARKBRIDGE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DbArgs {
    /// Opens (creating the data directory and SQLite file if needed) and migrates the database.
    pub async fn open(&self) -> Result<Db, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            format!(
                "cannot create data directory {}: {e}",
                self.data_dir.display()
            )
        })?;
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => storage::sqlite_url(&self.data_dir.join("parkbridge.db")),
        };
        Ok(Db::open(&url).await?)
    }
}

/// Runs the parsed command; the exit code is non-zero on any failure, with the reason on stderr.
pub fn run(cli: Cli) -> ExitCode {
    // The demo's console is for its sign-in banner: it logs warnings and errors only, unless
    // RUST_LOG asks for more; every other command logs at info.
    let default_level = match cli.command {
        Command::Demo(_) => "warn",
        _ => "info",
    };
    telemetry::init(cli.log_format, default_level);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("parkbridge: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::serve(args, None, None).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Migrate(db) => {
                db.open().await?;
                println!("database is up to date");
                Ok(())
            }
            Command::User(cmd) => user::run(cmd).await,
            Command::Apikey(cmd) => apikey::run(cmd).await,
            Command::Sandbox(cmd) => sandbox::run(cmd).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parkbridge: {e}");
            ExitCode::FAILURE
        }
    }
}
