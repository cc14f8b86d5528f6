//! What a SQLite file holds, read with rusqlite without writing: whether it is a ParkBridge
//! database this binary can serve, and a few counts people recognise (for `backup`'s and
//! `restore`'s reports).

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::storage::Backend;
use crate::storage::migrations::{self, Applied, SchemaState};

/// A ParkBridge database file, as found.
#[derive(Debug)]
pub(super) struct Contents {
    /// Its schema against this binary's migrations.
    pub(super) schema: SchemaState,
    /// `instance.key_check`, when an instance has recorded one.
    pub(super) key_check: Option<Vec<u8>>,
    /// Car parks, stays, coupon and upload records, credentials.
    pub(super) counts: [(&'static str, i64); 4],
}

impl Contents {
    /// "2 car parks, 1234 stays, …".
    pub(super) fn summary(&self) -> String {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
        let schema = match &self.schema {
            SchemaState::Current { latest } => format!("schema {latest}"),
            SchemaState::Drift { pending, .. } => {
                format!("an older schema ({} migration(s) to apply)", pending.len())
            }
            SchemaState::Empty => "no schema".to_owned(),
        };
        format!("{schema}, {}", counts.join(", "))
    }
}

/// Opens `path` read-only and reads what it holds; `Err` says why it is no ParkBridge database.
pub(super) fn inspect(path: &Path) -> Result<Contents, String> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("{}: cannot open it as SQLite: {e}", path.display()))?;
    let not_sqlite =
        |e: rusqlite::Error| format!("{}: not a readable SQLite database: {e}", path.display());
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(not_sqlite)?;
    if check != "ok" {
        return Err(format!("{}: the file is damaged ({check})", path.display()));
    }
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_sqlx_migrations', 'instance')",
            [],
            |r| r.get(0),
        )
        .map_err(not_sqlite)?;
    if tables != 2 {
        return Err(format!(
            "{}: not a ParkBridge database (it has no migrations table and instance row)",
            path.display()
        ));
    }
    let mut stmt = conn
        .prepare("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
        .map_err(not_sqlite)?;
    let applied = stmt
        .query_map([], |r| {
            Ok(Applied {
                version: r.get(0)?,
                checksum: r.get(1)?,
                success: r.get(2)?,
            })
        })
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(not_sqlite)?;
    let schema = migrations::compare(migrations::migrator(Backend::Sqlite), &applied);
    let key_check: Option<Vec<u8>> = conn
        .query_row("SELECT key_check FROM instance WHERE id = 1", [], |r| {
            r.get(0)
        })
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(not_sqlite)?;
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap_or(0)
    };
    Ok(Contents {
        counts: [
            ("car park(s)", count("car_parks")),
            ("stay(s)", count("parking_sessions")),
            ("coupon/upload record(s)", count("outbox")),
            ("credential(s)", count("credentials")),
        ],
        schema,
        key_check,
    })
}
