//! The database: an embedded SQLite file (WAL) by default, PostgreSQL for several instances.
//!
//! One `AnyPool` serves both, so every query is written once with `$1` placeholders and runtime
//! `query_as` + `FromRow`. That limits column types to what the `Any` driver carries — integers,
//! text, blobs — hence times as BIGINT epoch milliseconds and flags as nullable timestamps.

pub mod calls_file;
mod constraint;
mod hot_read;
mod lock;
pub mod migrations;
mod outage;
pub mod sqlite_file;
mod values;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

pub use constraint::unique_violation;
pub use hot_read::HotReader;
pub use lock::lock_park;
pub use outage::is_unavailable;
pub use values::values_sql;

/// The longest a PostgreSQL query waits for a connection. While the server is unreachable every
/// connection attempt fails, and sqlx keeps retrying until this runs out: a request then answers
/// 503 after a few seconds instead of hanging for sqlx's default 30 s. Generous enough that a
/// busy pool (16 connections, bursts of hundreds of requests) never reaches it.
const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which engine a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A storage failure at start-up.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URL names no engine we support.
    #[error("unsupported database URL (expected sqlite://… or postgres://…): {0}")]
    UnsupportedUrl(String),
    /// The database could not be opened.
    #[error("cannot open the {backend:?} database: {source}")]
    Open {
        /// Which engine.
        backend: Backend,
        /// The driver's reason (never holds the URL, which may carry a password).
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The shared database handle.
#[derive(Debug, Clone)]
pub struct Db {
    /// The pool; queries use `$1` placeholders, valid on both engines.
    pub pool: AnyPool,
    /// The engine behind the pool.
    pub backend: Backend,
    /// SQLite only: the fee query's reader on the calling thread (see [`HotReader`]).
    pub hot: Option<HotReader>,
    /// SQLite only: this process's writers take turns here (see [`Db::write_turn`]).
    writers: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// The URL of the default embedded database inside `data_dir`.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) without migrating.
    pub async fn connect(url: &str) -> Result<Db, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            let scheme = url.split("://").next().unwrap_or_default();
            return Err(StorageError::UnsupportedUrl(format!("{scheme}://…")));
        };
        let mut options = AnyPoolOptions::new().max_connections(match backend {
            // SQLite has one writer; a few readers are plenty for a gateway.
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        });
        if backend == Backend::Postgres {
            options = options.acquire_timeout(PG_ACQUIRE_TIMEOUT);
        }
        if backend == Backend::Sqlite {
            let calls = sqlite_file::path_of_url(url).map(|f| sqlite_file::calls_path(&f));
            // An embedded file cannot hang up: sqlx's default ping before handing out an idle
            // connection would cost every query a second round trip to the connection's thread.
            options = options.test_before_acquire(false);
            options = options.after_connect(move |conn, _| {
                let calls = calls.clone();
                Box::pin(async move {
                    // NORMAL is durable in WAL mode except for the last transactions on power loss,
                    // and far faster than FULL for the hot paths.
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 5000")
                        .execute(&mut *conn)
                        .await?;
                    // Checkpoints (the only fsyncs in WAL + NORMAL) would otherwise run inside
                    // whichever request's commit crosses 1000 pages, adding milliseconds to
                    // it; `spawn_checkpointer` runs them in the background instead.
                    sqlx::query("PRAGMA wal_autocheckpoint = 0")
                        .execute(&mut *conn)
                        .await?;
                    // No memory map here (the thread readers of the hot paths keep theirs): a
                    // commit makes every other connection drop its cache at its next read, and a
                    // mapped one unmaps its map too (TLB shootdowns to the other core). With the
                    // pool's connections unmapped, Mallcoo payments went from 1,891–2,006 to
                    // 2,336–2,514 a second in alternating bench runs; the week's dashboard, read
                    // through `pread` instead, from 19 to 22 ms (p50).
                    sqlx::query("PRAGMA mmap_size = 0")
                        .execute(&mut *conn)
                        .await?;
                    calls_file::attach(conn, calls.as_deref()).await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(url)
            .await
            .map_err(|source| StorageError::Open { backend, source })?;
        if backend == Backend::Sqlite {
            // Persistent in the file: readers (the hot fee query) no longer wait for writers.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(|source| StorageError::Open { backend, source })?;
            calls_file::prepare(&pool)
                .await
                .map_err(|source| StorageError::Open { backend, source })?;
        }
        let hot = match backend {
            Backend::Sqlite => HotReader::for_url(url),
            Backend::Postgres => None,
        };
        let writers = match backend {
            Backend::Sqlite => Some(Arc::new(tokio::sync::Mutex::new(()))),
            Backend::Postgres => None,
        };
        Ok(Db {
            pool,
            backend,
            hot,
            writers,
        })
    }

    /// Waits for this process's turn to open a write transaction; hold the guard until it
    /// commits. SQLite has one writer: when two transactions race for its lock, the loser sleeps
    /// in SQLite's busy handler (1, 2, 5 … 100 ms) while the lock sits idle, which cut recorded
    /// payments to a few hundred a second under load. Queued here instead, the next writer starts
    /// the moment the previous one commits. `None` on PostgreSQL, whose row locks serialise only
    /// what conflicts. Never take it twice in one task: the turn is not re-entrant.
    pub async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.writers {
            Some(turn) => Some(Arc::clone(turn).lock_owned().await),
            None => None,
        }
    }

    /// Applies pending migrations of this engine.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        migrations::migrator(self.backend).run(&self.pool).await?;
        Ok(())
    }

    /// SQLite only: checkpoints the WAL into the database file every 5 s, off the request path
    /// (connections have automatic checkpoints off). Each checkpoint's fsync slows the calls
    /// that meet it; every 5 s rather than every second, fewer do, for a WAL of a few MB more.
    /// A `PASSIVE` checkpoint never blocks readers or writers; the WAL is reused from its start
    /// once fully checkpointed.
    pub fn spawn_checkpointer(&self) -> Option<tokio::task::JoinHandle<()>> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let pool = self.pool.clone();
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying in 5 s");
                }
            }
        }))
    }

    /// Connects and migrates: what `serve` does at start-up.
    pub async fn open(url: &str) -> Result<Db, StorageError> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }
}

/// Milliseconds since the Unix epoch for `t`, as stored in every time column.
pub fn to_ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

/// The instant of a stored time column; out-of-range values (never written by us) clamp to the epoch.
pub fn from_ms(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
