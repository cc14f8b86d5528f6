//! The SQLite database as a file: where it is, and the lock that tells a running instance from
//! a stopped one (so `restore` never replaces a database under a server).
//!
//! Every `serve` holds a shared `flock` on `<database>.lock` for its lifetime; `restore` takes it
//! exclusively, without waiting. The kernel drops a `flock` when its process ends, however it
//! ends (kill -9 included), so a stale lock file never blocks a restore and a live server is
//! never missed; peers sharing one SQLite file each hold it shared. SQLite's own locks cannot
//! tell: in WAL mode an idle server holds no lock a second process could probe.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// The database file a `sqlite://<path>[?…]` URL names; `None` for another engine or `:memory:`.
pub fn path_of_url(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// The call log's own database beside `database` (`parkbridge.db` → `parkbridge-calls.db`): P云's
/// gateway calls are written there many times a second, and a commit to the ledger's file would
/// make every reader of it drop its page cache and memory map (see `storage::calls`).
pub fn calls_path(database: &Path) -> PathBuf {
    let stem = match database.extension() {
        Some(ext) if ext == "db" => database.with_extension(""),
        _ => database.to_owned(),
    };
    let mut name = stem.into_os_string();
    name.push("-calls.db");
    PathBuf::from(name)
}

/// The lock file beside `database`.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// A held instance lock; released when dropped or when the process ends.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// Why the instance lock was not had.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone holds it in the other mode.
    #[error("{0}")]
    Busy(String),
    /// The lock file could not be opened or locked.
    #[error("lock file {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn open(path: &Path) -> Result<File, LockError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| LockError::Io {
            path: path.to_owned(),
            source,
        })
}

/// What a running server holds: shared, so that instances sharing the file coexist; refused
/// while a restore holds it.
pub fn hold_running(database: &Path) -> Result<InstanceLock, LockError> {
    let path = lock_path(database);
    let file = open(&path)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(InstanceLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(LockError::Busy(format!(
            "a restore is replacing {} (it holds {}); start the server when it has finished",
            database.display(),
            path.display()
        ))),
        Err(TryLockError::Error(source)) => Err(LockError::Io { path, source }),
    }
}

/// What a restore holds: exclusive, so it is had only while no instance runs on `database`.
pub fn hold_exclusive(database: &Path) -> Result<InstanceLock, LockError> {
    let path = lock_path(database);
    let file = open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(InstanceLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(LockError::Busy(format!(
            "a ParkBridge instance is running on {} (it holds {}); stop it first (e.g. `systemctl stop parkbridge`)",
            database.display(),
            path.display()
        ))),
        Err(TryLockError::Error(source)) => Err(LockError::Io { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_file() {
        assert_eq!(
            path_of_url("sqlite:///var/lib/pb/parkbridge.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/pb/parkbridge.db"))
        );
        assert_eq!(path_of_url("sqlite::memory:"), None);
        assert_eq!(path_of_url("postgres://h/db"), None);
    }

    #[test]
    fn the_call_log_sits_beside_the_database() {
        assert_eq!(
            calls_path(Path::new("/var/lib/pb/parkbridge.db")),
            PathBuf::from("/var/lib/pb/parkbridge-calls.db")
        );
        assert_eq!(
            calls_path(Path::new("/srv/pb/ledger.sqlite")),
            PathBuf::from("/srv/pb/ledger.sqlite-calls.db")
        );
    }

    #[test]
    fn a_running_instance_keeps_a_restore_out_and_the_other_way_round() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("parkbridge.db");
        let first = hold_running(&db).unwrap();
        let _peer = hold_running(&db).unwrap();
        assert!(matches!(hold_exclusive(&db), Err(LockError::Busy(_))));
        drop(first);
        drop(_peer);
        let restore = hold_exclusive(&db).unwrap();
        assert!(matches!(hold_running(&db), Err(LockError::Busy(_))));
        drop(restore);
        assert!(hold_running(&db).is_ok());
    }
}
