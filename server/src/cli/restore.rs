//! `parkbridge restore --from FILE`: puts a backup in place of the configured SQLite database.
//!
//! Refused while an instance runs on that database: every `serve` holds a shared lock on
//! `<database>.lock` (`storage::sqlite_file`), and restore must take it exclusively — and keeps
//! it while it works, so no server starts half-way. The file must be a ParkBridge database this
//! binary can serve (its migrations are ours, none newer), undamaged, and its secrets must open
//! with the configured master key. The replaced database (with its WAL) is kept beside it as
//! `<database>.replaced-<time>`, never deleted; so is P云's call log of that database.

use std::path::{Path, PathBuf};

use clap::Args;
use rusqlite::Connection;

use super::DbArgs;
use super::backup::{sync_dir, with_suffix};
use super::backup_file::{self, Contents};
use super::key_args::KeyArgs;
use crate::secrets::{KeyError, SecretBox, opens_key_check};
use crate::storage::migrations::SchemaState;
use crate::storage::sqlite_file;

/// Where the database goes, where its key is, and the backup to restore.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    key: KeyArgs,
    /// The backup to restore: a file written by `parkbridge backup --out FILE`.
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// Restore even if the configured master key is missing or does not open the backup's
    /// secrets (the server will refuse to start until the right key is configured).
    #[arg(long)]
    skip_key_check: bool,
}

/// Checks the backup, replaces the database, and reports what happened.
pub(crate) async fn run(args: RestoreArgs) -> Result<(), Box<dyn std::error::Error>> {
    let Some(target) = args.db.sqlite_file() else {
        return Err(
            "this instance uses PostgreSQL: restore a pg_dump file with PostgreSQL's own tool, into an empty database, e.g.\n\n    pg_restore --no-owner --dbname='postgres://user@host/parkbridge' FILE\n\n(`parkbridge backup` on this instance prints the exact pg_dump and pg_restore commands)"
                .into(),
        );
    };
    tokio::task::spawn_blocking(move || restore(&args, &target)).await??;
    Ok(())
}

fn restore(args: &RestoreArgs, target: &Path) -> Result<(), String> {
    if !args.from.is_file() {
        return Err(format!("{}: no such file", args.from.display()));
    }
    if let (Ok(a), Ok(b)) = (args.from.canonicalize(), target.canonicalize())
        && a == b
    {
        return Err("--from names the configured database itself".to_owned());
    }
    let contents = backup_file::inspect(&args.from)?;
    servable(&contents, &args.from)?;
    if !args.skip_key_check {
        key_fits(args, &contents)?;
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let _lock = sqlite_file::hold_exclusive(target).map_err(|e| format!("refused: {e}"))?;
    let aside = set_aside(target)?;
    // P云's call log belongs to the ledger it replaced (its car park ids among them); the server
    // starts a new one.
    let calls_aside = set_aside(&sqlite_file::calls_path(target))?;
    let incoming = with_suffix(target, ".restoring");
    std::fs::copy(&args.from, &incoming)
        .and_then(|_| std::fs::File::open(&incoming)?.sync_all())
        .map_err(|e| {
            format!(
                "cannot copy {} to {}: {e}",
                args.from.display(),
                incoming.display()
            )
        })?;
    owned_like(&incoming, aside.as_deref())?;
    std::fs::rename(&incoming, target).map_err(|e| format!("{}: {e}", target.display()))?;
    sync_dir(target);
    println!(
        "restored {} from {} ({})",
        target.display(),
        args.from.display(),
        contents.summary()
    );
    match aside {
        Some(aside) => println!("the database it replaced is kept as {}", aside.display()),
        None => println!("there was no database to replace"),
    }
    if let Some(calls) = calls_aside {
        println!("P云's call log it replaced is kept as {}", calls.display());
    }
    println!("start the server now; it applies any migration this backup predates");
    Ok(())
}

/// A backup this binary can serve: ours, not newer, not altered.
fn servable(contents: &Contents, from: &Path) -> Result<(), String> {
    match &contents.schema {
        SchemaState::Current { .. } => Ok(()),
        SchemaState::Empty => Err(format!(
            "{}: no migration was ever applied; not a ParkBridge backup",
            from.display()
        )),
        SchemaState::Drift {
            unknown,
            changed,
            failed,
            ..
        } => {
            if !unknown.is_empty() {
                Err(format!(
                    "{}: made by a newer ParkBridge (migrations {unknown:?}); restore it with that version",
                    from.display()
                ))
            } else if !changed.is_empty() || !failed.is_empty() {
                Err(format!(
                    "{}: its migrations {:?} differ from this ParkBridge's",
                    from.display(),
                    [changed.as_slice(), failed.as_slice()].concat()
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// The configured master key must open the backup's key check (when it has one).
fn key_fits(args: &RestoreArgs, contents: &Contents) -> Result<(), String> {
    let Some(check) = &contents.key_check else {
        return Ok(());
    };
    let origin = args.key.origin(&args.db.data_dir);
    let key = match args.key.source(&args.db.data_dir).load_existing() {
        Ok(key) => key,
        Err(KeyError::Missing { path }) => {
            return Err(format!(
                "no master key at {} and PARKBRIDGE_MASTER_KEY is not set: put the key kept with this backup there first (mode 0600), or pass --skip-key-check",
                path.display()
            ));
        }
        Err(e) => return Err(format!("master key from {origin}: {e}")),
    };
    if opens_key_check(&SecretBox::new(&key), check) {
        Ok(())
    } else {
        Err(format!(
            "the master key from {origin} is not the one this backup's secrets are sealed with; configure the key kept with the backup, or pass --skip-key-check"
        ))
    }
}

/// Moves the database and its WAL to `<database>.replaced-<time>`; `None` when there was none.
fn set_aside(target: &Path) -> Result<Option<PathBuf>, String> {
    if !target.exists() {
        return Ok(None);
    }
    // Folds the WAL into the file, so the copy kept aside is whole by itself; a damaged
    // database (perhaps why it is being restored) is moved as it is, with its WAL.
    if let Ok(conn) = Connection::open(target) {
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let aside = with_suffix(target, &format!(".replaced-{stamp}"));
    std::fs::rename(target, &aside)
        .map_err(|e| format!("cannot move {} aside: {e}", target.display()))?;
    let wal = with_suffix(target, "-wal");
    if wal.exists() {
        std::fs::rename(&wal, with_suffix(&aside, "-wal"))
            .map_err(|e| format!("cannot move {} aside: {e}", wal.display()))?;
    }
    // The shared-memory index belongs to the WAL that just moved; SQLite rebuilds it.
    let _ = std::fs::remove_file(with_suffix(target, "-shm"));
    Ok(Some(aside))
}

/// The restored file gets the replaced one's owner and mode (restore may run as root for a
/// service user), or 0600 when nothing was replaced: it holds password hashes and secrets.
fn owned_like(file: &Path, like: Option<&Path>) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let err = |e: std::io::Error| format!("{}: {e}", file.display());
        match like.map(std::fs::metadata).transpose().map_err(err)? {
            Some(old) => {
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(old.mode() & 0o777))
                    .map_err(err)?;
                let same = std::fs::metadata(file).map_err(err)?;
                if (same.uid(), same.gid()) != (old.uid(), old.gid()) {
                    std::os::unix::fs::chown(file, Some(old.uid()), Some(old.gid()))
                        .map_err(err)?;
                }
            }
            None => std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                .map_err(err)?,
        }
    }
    #[cfg(not(unix))]
    let _ = (file, like);
    Ok(())
}
