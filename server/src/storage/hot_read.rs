//! The fee query's read on SQLite, served on the calling thread.
//!
//! sqlx runs every SQLite statement on a worker thread of its connection and hands the rows
//! back through channels: two thread switches per query, which on a 2-core machine cost more
//! than the indexed read itself (a profile of GetParkingPaymentInfo under load spent a third of
//! its time in futex waits and wake-ups). Mallcoo calls GetParkingPaymentInfo constantly, so that
//! one read runs here instead, on a read-only connection owned by the calling thread with its
//! statements cached. It blocks the thread for the time of an indexed read from the memory-mapped
//! file (tens of microseconds), like any other CPU work of a handler. Everything else, and every
//! write, goes through the pool.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags};

/// Reads a SQLite database file on the calling thread.
#[derive(Debug, Clone)]
pub struct HotReader {
    // Shared, not owned: the application state (which holds this) is cloned for every request,
    // and a path copy per clone was a measurable share of the fee query's allocations.
    path: Arc<Path>,
}

thread_local! {
    /// This thread's read-only connections, by database file.
    static CONNECTIONS: RefCell<HashMap<PathBuf, Connection>> = RefCell::new(HashMap::new());
}

impl HotReader {
    /// A reader of the database file at `path` (opened lazily, per thread).
    pub fn new(path: &Path) -> HotReader {
        HotReader {
            path: Arc::from(path),
        }
    }

    /// The reader of a `sqlite://<path>[?…]` URL; `None` for an in-memory database.
    pub fn for_url(url: &str) -> Option<HotReader> {
        let rest = url.strip_prefix("sqlite://")?;
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(HotReader::new(Path::new(path)))
    }

    /// Runs `read` on this thread's connection to the database.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        CONNECTIONS.with(|cell| {
            let mut conns = cell.borrow_mut();
            // Looked up by reference: the key is copied only when the thread first opens it.
            if !conns.contains_key(&*self.path) {
                conns.insert(self.path.to_path_buf(), open(&self.path)?);
            }
            let conn = conns.get(&*self.path).expect("inserted above");
            read(conn)
        })
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    // NO_MUTEX: the connection never leaves its thread.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The pool's settings that matter to a reader: wait out a checkpoint instead of failing,
    // and read pages through the memory map.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "mmap_size", 268_435_456_i64)?;
    conn.set_prepared_statement_cache_capacity(16);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::HotReader;

    #[test]
    fn only_file_urls_get_a_reader() {
        let r = HotReader::for_url("sqlite:///var/lib/pb/parkbridge.db?mode=rwc").unwrap();
        assert_eq!(r.path.to_str(), Some("/var/lib/pb/parkbridge.db"));
        assert!(HotReader::for_url("sqlite://:memory:").is_none());
        assert!(HotReader::for_url("postgres://x/y").is_none());
    }
}
