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
use std::path::Path;
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
    /// This thread's read-only connections, by database file: a process reads one or two, so a
    /// list found by pointer first (every reader of a file shares its path), not a hashed map
    /// (hashing a path walks its components, on every read).
    static CONNECTIONS: RefCell<Vec<(Arc<Path>, Connection)>> = const { RefCell::new(Vec::new()) };
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

    /// Runs `read` on this thread's connection to the database, in one read transaction: every
    /// statement of `read` sees the same snapshot.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        CONNECTIONS.with(|cell| {
            let mut conns = cell.borrow_mut();
            let at = match conns
                .iter()
                .position(|(p, _)| Arc::ptr_eq(p, &self.path) || **p == *self.path)
            {
                Some(at) => at,
                None => {
                    conns.push((Arc::clone(&self.path), open(&self.path)?));
                    conns.len() - 1
                }
            };
            let conn = &conns[at].1;
            // One transaction rather than one per statement: each takes and releases a WAL read
            // lock, two `fcntl` calls and the shared-memory mutex the other worker thread also
            // wants (a profile of P云's billing, three reads a call, showed them).
            if !conn.is_autocommit() {
                // Left open by a failed COMMIT: never read from a pinned snapshot.
                conn.prepare_cached("ROLLBACK")?.execute([])?;
            }
            conn.prepare_cached("BEGIN")?.execute([])?;
            let _end = ReadTransaction(conn);
            read(conn)
        })
    }
}

/// Ends the read transaction when the read is done, failed or panicked: a connection left in a
/// transaction would pin its snapshot for good (stale reads, a WAL never reset).
struct ReadTransaction<'c>(&'c Connection);

impl Drop for ReadTransaction<'_> {
    fn drop(&mut self) {
        if self.0.is_autocommit() {
            return;
        }
        let ended = self
            .0
            .prepare_cached("COMMIT")
            .and_then(|mut end| end.execute([]));
        if let Err(e) = ended {
            tracing::error!(error = %e, "the thread's reader could not end its read transaction");
        }
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

    fn count(c: &rusqlite::Connection) -> rusqlite::Result<i64> {
        c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
    }

    /// The statements of one read see one snapshot; the next read sees what was committed since,
    /// also after a read that failed or panicked.
    #[test]
    fn a_read_is_one_snapshot_and_never_pins_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let reader = HotReader::new(&path);
        let (before, during) = reader
            .read(|c| {
                let before = count(c)?;
                writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
                Ok((before, count(c)?))
            })
            .unwrap();
        assert_eq!((before, during), (0, 0));
        assert_eq!(reader.read(count).unwrap(), 1);

        let failed: rusqlite::Result<()> = reader.read(|c| {
            count(c)?;
            Err(rusqlite::Error::QueryReturnedNoRows)
        });
        assert!(failed.is_err());
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            reader.read(|c| -> rusqlite::Result<()> {
                count(c)?;
                panic!("a read that panics");
            })
        }));
        assert!(panicked.is_err());
        writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert_eq!(reader.read(count).unwrap(), 2);
    }
}
