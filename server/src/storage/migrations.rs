//! The migrations built into this binary and how a database's applied ones compare with them:
//! what `doctor` reports and `restore` checks before it replaces a database.

use sqlx::migrate::Migrator;

use super::{Backend, Db};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The migrations of `backend`, as built into this binary.
pub fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

/// One row of `_sqlx_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Its version number.
    pub version: i64,
    /// The checksum of the SQL that ran.
    pub checksum: Vec<u8>,
    /// False when it started and failed (sqlx then refuses to go on).
    pub success: bool,
}

/// How a database's schema compares with this binary's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// No migration was ever applied (an empty or foreign database).
    Empty,
    /// Every migration is applied, unchanged.
    Current {
        /// The newest version.
        latest: i64,
    },
    /// Something is wrong or missing; each list names versions (with descriptions where known).
    Drift {
        /// Known here, not applied there: `parkbridge serve` or `migrate` would apply them.
        pending: Vec<String>,
        /// Applied there, unknown here: the database belongs to a newer ParkBridge.
        unknown: Vec<i64>,
        /// Applied with other SQL than this binary's (sqlx refuses to start on it).
        changed: Vec<i64>,
        /// Started and failed.
        failed: Vec<i64>,
    },
}

/// Compares `applied` (any order) with `known`.
pub fn compare(known: &Migrator, applied: &[Applied]) -> SchemaState {
    let known: Vec<_> = known
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .collect();
    if applied.is_empty() {
        return SchemaState::Empty;
    }
    let pending = known
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect::<Vec<_>>();
    let unknown = applied
        .iter()
        .filter(|a| !known.iter().any(|m| m.version == a.version))
        .map(|a| a.version)
        .collect::<Vec<_>>();
    let changed = applied
        .iter()
        .filter(|a| {
            known
                .iter()
                .any(|m| m.version == a.version && *m.checksum != *a.checksum)
        })
        .map(|a| a.version)
        .collect::<Vec<_>>();
    let failed = applied
        .iter()
        .filter(|a| !a.success)
        .map(|a| a.version)
        .collect::<Vec<_>>();
    if pending.is_empty() && unknown.is_empty() && changed.is_empty() && failed.is_empty() {
        let latest = applied.iter().map(|a| a.version).max().unwrap_or_default();
        return SchemaState::Current { latest };
    }
    SchemaState::Drift {
        pending,
        unknown,
        changed,
        failed,
    }
}

/// The rows of `_sqlx_migrations`, or none when the table does not exist; never creates it.
pub async fn applied(db: &Db) -> Result<Vec<Applied>, sqlx::Error> {
    let exists: i64 = match db.backend {
        Backend::Sqlite => sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        ),
        Backend::Postgres => sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.tables \
             WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()",
        ),
    }
    .fetch_one(&db.pool)
    .await?;
    if exists == 0 {
        return Ok(Vec::new());
    }
    let rows = sqlx::query_as::<_, (i64, Vec<u8>, i64)>(
        "SELECT version, checksum, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) \
         FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(version, checksum, success)| Applied {
            version,
            checksum,
            success: success == 1,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_applied() -> Vec<Applied> {
        SQLITE
            .iter()
            .map(|m| Applied {
                version: m.version,
                checksum: m.checksum.to_vec(),
                success: true,
            })
            .collect()
    }

    #[test]
    fn every_migration_applied_is_current() {
        let latest = SQLITE.iter().map(|m| m.version).max().unwrap();
        assert_eq!(
            compare(&SQLITE, &all_applied()),
            SchemaState::Current { latest }
        );
        assert_eq!(compare(&SQLITE, &[]), SchemaState::Empty);
    }

    #[test]
    fn a_missing_a_newer_a_changed_and_a_failed_migration_are_each_named() {
        let mut rows = all_applied();
        let last = rows.pop().unwrap();
        rows[0].checksum = vec![1, 2, 3];
        rows[1].success = false;
        rows.push(Applied {
            version: 9999,
            checksum: vec![],
            success: true,
        });
        let SchemaState::Drift {
            pending,
            unknown,
            changed,
            failed,
        } = compare(&SQLITE, &rows)
        else {
            panic!("drift expected");
        };
        assert_eq!(pending.len(), 1);
        assert!(
            pending[0].starts_with(&last.version.to_string()),
            "{pending:?}"
        );
        assert_eq!(unknown, vec![9999]);
        assert_eq!(changed, vec![rows[0].version]);
        assert_eq!(failed, vec![rows[1].version]);
    }
}
