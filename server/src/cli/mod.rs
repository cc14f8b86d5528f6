//! Command line: `serve`, `demo`, `migrate`, bootstrapping commands (`user add`,
//! `apikey create`), and `sandbox`, stand-ins of the platforms for trials and tests.

mod alert_args;
mod apikey;
mod backup;
mod backup_file;
mod demo;
mod demo_alerts;
mod demo_discounts;
mod demo_mallcoo;
mod demo_pyun;
mod demo_pyun_carpark;
mod demo_seed;
mod demo_shops;
mod demo_traffic;
mod doctor;
mod doctor_checks;
mod key_args;
mod restore;
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
    /// Check an installation without changing it: reads serve's options and environment and
    /// prints a table (database and migrations, master key and every sealed secret, each car
    /// park's integrations, the partners' addresses, the clock, free disk, open problems);
    /// exits non-zero when any check FAILs.
    Doctor(doctor::DoctorArgs),
    /// Copy the SQLite database to FILE while the server runs (a consistent snapshot). The
    /// secrets inside open only with the master key: keep it beside the backup. On PostgreSQL,
    /// prints the pg_dump command to use instead.
    Backup(backup::BackupArgs),
    /// Replace the SQLite database with a backup made by `parkbridge backup`; refused while an
    /// instance runs on it. The replaced files are kept aside, not deleted.
    Restore(restore::RestoreArgs),
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
    /// The database URL: `--database-url`, else the SQLite file in the data directory.
    pub fn url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => storage::sqlite_url(&self.sqlite_default()),
        }
    }

    fn sqlite_default(&self) -> PathBuf {
        self.data_dir.join("parkbridge.db")
    }

    /// The SQLite database file, or `None` on PostgreSQL.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        match &self.database_url {
            None => Some(self.sqlite_default()),
            Some(url) => storage::sqlite_file::path_of_url(url),
        }
    }

    /// On SQLite, the running instance's shared lock (creating the data directory if needed);
    /// nothing on PostgreSQL, whose database `restore` never replaces.
    pub fn hold_instance_lock(
        &self,
    ) -> Result<Option<storage::sqlite_file::InstanceLock>, Box<dyn std::error::Error>> {
        let Some(file) = self.sqlite_file() else {
            return Ok(None);
        };
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
        }
        Ok(Some(storage::sqlite_file::hold_running(&file)?))
    }

    /// Opens (creating the data directory and SQLite file if needed) and migrates the database.
    pub async fn open(&self) -> Result<Db, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            format!(
                "cannot create data directory {}: {e}",
                self.data_dir.display()
            )
        })?;
        Ok(Db::open(&self.url()).await?)
    }
}

/// Runs the parsed command; the exit code is non-zero on any failure, with the reason on stderr.
pub fn run(cli: Cli) -> ExitCode {
    // The demo's console is for its sign-in banner: it logs warnings and errors only, unless
    // RUST_LOG asks for more; every other command logs at info.
    let default_level = match cli.command {
        // The operator's commands print their own report; the pool's chatter would bury it.
        Command::Demo(_) | Command::Doctor(_) | Command::Backup(_) | Command::Restore(_) => "warn",
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
            Command::Doctor(args) => doctor::run(args).await,
            Command::Backup(args) => backup::run(args).await,
            Command::Restore(args) => restore::run(args).await,
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
