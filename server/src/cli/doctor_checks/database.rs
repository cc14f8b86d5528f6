//! Is the database there, reachable, and migrated exactly to this binary's schema? Opened
//! without creating anything (SQLite `mode=rw`), and never migrated.

use std::time::Duration;

use super::{Report, Status};
use crate::cli::DbArgs;
use crate::storage::Db;
use crate::storage::migrations::{self, SchemaState};

/// Connecting to PostgreSQL gives up after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Adds the database rows; the database when every other check may read it (reachable and
/// migrated to this binary's schema).
pub(in crate::cli) async fn check(args: &DbArgs, report: &mut Report) -> Option<Db> {
    let (url, shown) = match args.sqlite_file() {
        Some(file) => {
            if !file.is_file() {
                report.add(
                    "database",
                    Status::Fail,
                    format!(
                        "no SQLite database at {}: wrong --data-dir, or no instance has started yet (`parkbridge migrate` creates it)",
                        file.display()
                    ),
                );
                return None;
            }
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            (
                format!("sqlite://{}?mode=rw", file.display()),
                format!("SQLite file {} ({})", file.display(), super::bytes(size)),
            )
        }
        None => {
            let url = args.url();
            let shown = format!("PostgreSQL {}", redacted(&url));
            (url, shown)
        }
    };
    let db = match tokio::time::timeout(CONNECT_TIMEOUT, Db::connect(&url)).await {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => {
            report.add("database", Status::Fail, format!("{shown}: {e}"));
            return None;
        }
        Err(_) => {
            report.add(
                "database",
                Status::Fail,
                format!("{shown}: no connection within {CONNECT_TIMEOUT:?}"),
            );
            return None;
        }
    };
    if let Err(e) = sqlx::query("SELECT 1").execute(&db.pool).await {
        report.add("database", Status::Fail, format!("{shown}: {e}"));
        return None;
    }
    report.add("database", Status::Ok, format!("{shown}: reachable"));
    let applied = match migrations::applied(&db).await {
        Ok(a) => a,
        Err(e) => {
            report.add("migrations", Status::Fail, format!("cannot read them: {e}"));
            return None;
        }
    };
    let known = migrations::migrator(db.backend).iter().count();
    match migrations::compare(migrations::migrator(db.backend), &applied) {
        SchemaState::Current { latest } => {
            report.add(
                "migrations",
                Status::Ok,
                format!("all {known} applied (latest {latest}); none pending"),
            );
            Some(db)
        }
        SchemaState::Empty => {
            report.add(
                "migrations",
                Status::Fail,
                "none applied: the database is empty or not ParkBridge's; `parkbridge migrate` creates the schema",
            );
            None
        }
        SchemaState::Drift {
            pending,
            unknown,
            changed,
            failed,
        } => {
            let mut why = Vec::new();
            if !pending.is_empty() {
                why.push(format!(
                    "pending: {} (`parkbridge migrate`, or starting serve, applies them)",
                    pending.join(", ")
                ));
            }
            if !unknown.is_empty() {
                why.push(format!(
                    "applied by a newer ParkBridge: {unknown:?} (run that version)"
                ));
            }
            if !changed.is_empty() {
                why.push(format!("applied with other SQL: {changed:?}"));
            }
            if !failed.is_empty() {
                why.push(format!("failed half-way: {failed:?}"));
            }
            report.add("migrations", Status::Fail, why.join("; "));
            None
        }
    }
}

/// `url` with any password replaced by `***`.
pub(in crate::cli) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            let tail = tail.split('?').next().unwrap_or_default();
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => format!(
            "{scheme}://{authority}{}",
            tail.split('?').next().unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_password_never_shows() {
        assert_eq!(
            redacted("postgres://pb:s3cret@db.local:5432/parkbridge?sslmode=require"),
            "postgres://pb:***@db.local:5432/parkbridge"
        );
        assert_eq!(
            redacted("postgres://postgres@127.0.0.1:5432/x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
    }
}
