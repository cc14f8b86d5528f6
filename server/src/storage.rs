//! The database: an embedded SQLite file (WAL) with its migrations, run at start-up.

use std::path::Path;
use std::str::FromStr;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// A storage failure at start-up.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database could not be opened.
    #[error("cannot open database {url}: {source}")]
    Open {
        /// Where we tried to open it (never holds a password: SQLite URLs have none).
        url: String,
        /// The driver's reason.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens (creating if missing) the SQLite file at `path` and applies pending migrations.
pub async fn open_sqlite(path: &Path) -> Result<SqlitePool, StorageError> {
    let url = format!("sqlite://{}", path.display());
    let open_err = |source| StorageError::Open {
        url: url.clone(),
        source,
    };
    let options = SqliteConnectOptions::from_str(&url)
        .map_err(open_err)?
        .create_if_missing(true)
        // WAL lets readers (the hot fee query) proceed while a writer commits.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(open_err)?;
    sqlx::migrate!("migrations/sqlite").run(&pool).await?;
    Ok(pool)
}
