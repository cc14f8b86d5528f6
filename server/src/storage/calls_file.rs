//! SQLite only: P云's gateway calls live in a database file of their own, attached to every
//! pooled connection as `calls`.
//!
//! The call log is written several times a second while P云 polls. Kept in the ledger's file,
//! each of those commits changed the file every reader had open, and SQLite then makes each
//! reader drop its page cache and unmap its memory map before its next read (`perf` showed the
//! fee reads under `payment.billing` polls in `munmap` and TLB shootdowns), and the ledger's WAL
//! grew by the log's bytes between checkpoints. In a file of its own the log's commits touch
//! nothing a fee read looks at, the log's writer no longer takes the ledger's write lock, and
//! backups of the ledger do not carry it. Queries name the table unqualified: SQLite looks in
//! `main` first, then in attached databases, and migration 0015 moved the table out of `main`.
//! On PostgreSQL the table stays where it is.

use std::path::Path;

use sqlx::AnyConnection;

/// The file's table and indexes, created when missing (a new install, or a deleted file: the
/// log is diagnostic and starts again empty). The same columns as migration 0008's table.
const CREATE: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS calls.pyun_gateway_calls (
        id              INTEGER PRIMARY KEY,
        park_id         BIGINT,
        park_uuid       TEXT,
        service         TEXT,
        result_code     TEXT NOT NULL,
        message         TEXT NOT NULL,
        latency_us      BIGINT NOT NULL,
        request_body    TEXT NOT NULL,
        reply_body      TEXT NOT NULL,
        at              BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS calls.pyun_gateway_calls_park_idx \
     ON pyun_gateway_calls (park_id, id)",
    "CREATE INDEX IF NOT EXISTS calls.pyun_gateway_calls_at_idx ON pyun_gateway_calls (at)",
];

/// Attaches the call log's file (created if missing) to a new pooled connection, with the
/// ledger's durability setting; `None` (an in-memory database) attaches an in-memory one.
pub async fn attach(conn: &mut AnyConnection, file: Option<&Path>) -> Result<(), sqlx::Error> {
    let name = file.map_or_else(|| ":memory:".to_owned(), |f| f.display().to_string());
    sqlx::query("ATTACH DATABASE $1 AS calls")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    sqlx::query("PRAGMA calls.synchronous = NORMAL")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Puts the attached file in WAL mode (kept in the file) and creates its table when missing.
pub async fn prepare(pool: &sqlx::AnyPool) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA calls.journal_mode = WAL")
        .execute(pool)
        .await?;
    for sql in CREATE {
        sqlx::query(sql).execute(pool).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::storage::{Db, migrations, sqlite_file, sqlite_url};

    fn count(file: &std::path::Path, sql: &str) -> i64 {
        let conn = rusqlite::Connection::open(file).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// A database from before the move keeps its calls: migration 0015 carries them into the
    /// call log's file, and the ledger's file no longer has the table.
    #[tokio::test]
    async fn calls_kept_before_the_move_are_carried_into_their_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("parkbridge.db");
        let db = Db::connect(&sqlite_url(&main)).await.unwrap();
        let migrator = migrations::migrator(db.backend);
        migrator.run_to(14, &db.pool).await.unwrap();
        sqlx::query(
            "INSERT INTO main.pyun_gateway_calls (id, park_uuid, service, result_code, message, \
             latency_us, request_body, reply_body, at) \
             VALUES (7, 'u-1', 'service.parking.realtime', '1001', '成功', 120, '{}', '{\"r\":1}', 5)",
        )
        .execute(&db.pool)
        .await
        .unwrap();
        db.migrate().await.unwrap();
        let kept = crate::pyun_gateway::call_log::recent(&db, -1, Some("u-1"), 10)
            .await
            .unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].id, kept[0].reply.as_str()), (7, "{\"r\":1}"));
        db.pool.close().await;
        let calls = sqlite_file::calls_path(&main);
        assert_eq!(count(&calls, "SELECT COUNT(*) FROM pyun_gateway_calls"), 1);
        assert_eq!(
            count(
                &main,
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'pyun_gateway_calls'"
            ),
            0
        );
    }

    /// A deleted call log file comes back empty at the next start instead of failing every call.
    #[tokio::test]
    async fn a_deleted_call_log_file_is_created_again() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("parkbridge.db");
        let db = Db::open(&sqlite_url(&main)).await.unwrap();
        db.pool.close().await;
        let calls = sqlite_file::calls_path(&main);
        for suffix in ["", "-wal", "-shm"] {
            let mut f = calls.clone().into_os_string();
            f.push(suffix);
            let _ = std::fs::remove_file(f);
        }
        let db = Db::open(&sqlite_url(&main)).await.unwrap();
        let kept = crate::pyun_gateway::call_log::recent(&db, 1, None, 10)
            .await
            .unwrap();
        assert!(kept.is_empty());
        assert!(calls.is_file());
    }
}
