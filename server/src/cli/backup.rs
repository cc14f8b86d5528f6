//! `parkbridge backup --out FILE`: a consistent copy of the SQLite database while the server
//! runs, made with `VACUUM INTO`. It reads inside one read transaction, so the copy is the
//! database as of one instant, and in WAL mode the server's writers never wait for it (SQLite's
//! online backup API, by contrast, starts over whenever another connection writes, so under
//! steady gate traffic it might never finish). The copy is written beside FILE, checked, synced
//! and renamed into place, so FILE is never a half-written database.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use rusqlite::{Connection, OpenFlags};

use super::DbArgs;
use super::backup_file;
use super::doctor_checks::bytes;
use super::key_args::KeyArgs;

/// Progress is printed after this long, then at this interval (small databases print none).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Where the database is, where the key is (for the warning), and where the copy goes.
#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    key: KeyArgs,
    /// The file to write: a SQLite database that `parkbridge restore --from FILE` takes back.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace FILE when it exists (by default an existing file is never overwritten).
    #[arg(long)]
    force: bool,
}

/// Writes the backup and reports it on stdout (progress on stderr).
pub(crate) async fn run(args: BackupArgs) -> Result<(), Box<dyn std::error::Error>> {
    let Some(source) = args.db.sqlite_file() else {
        return Err(pg_dump_advice(
            &args.db.url(),
            &args.out,
            &args.key.origin(&args.db.data_dir),
        )
        .into());
    };
    if !source.is_file() {
        return Err(format!(
            "no SQLite database at {}: check --data-dir",
            source.display()
        )
        .into());
    }
    if args.out.exists() && !args.force {
        return Err(format!(
            "{} exists; choose another file, or pass --force to replace it",
            args.out.display()
        )
        .into());
    }
    // SQLite would only say it cannot open `<out>.partial`; name what is missing instead.
    if let Some(folder) = args.out.parent().filter(|p| !p.as_os_str().is_empty())
        && !folder.is_dir()
    {
        return Err(format!(
            "the folder {} does not exist; create it (mkdir -p {}) or choose another --out",
            folder.display(),
            folder.display()
        )
        .into());
    }
    if same_file(&source, &args.out) {
        return Err("--out names the live database itself".into());
    }
    let out = args.out.clone();
    let started = Instant::now();
    let contents = tokio::task::spawn_blocking(move || copy(&source, &out)).await??;
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    println!(
        "backup written: {} ({}, {}) in {:.2} s",
        args.out.display(),
        bytes(size),
        contents.summary(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "IMPORTANT: the secrets in this backup (P云 and Mallcoo credentials, alert channels) are sealed with the master key, which comes from {}. Keep a copy of that key with the backup (stored apart from it): without it a restored instance refuses to start and the secrets cannot be read.",
        args.key.origin(&args.db.data_dir)
    );
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `VACUUM INTO` a file beside `out`, checked, synced, then renamed onto `out`.
fn copy(source: &Path, out: &Path) -> Result<backup_file::Contents, String> {
    let conn = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open {}: {e}", source.display()))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let pragma = |name: &str| -> Result<u64, String> {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(|e| format!("cannot read {}: {e}", source.display()))
    };
    let expected =
        pragma("page_count")?.saturating_sub(pragma("freelist_count")?) * pragma("page_size")?;
    let partial = with_suffix(out, ".partial");
    let _ = std::fs::remove_file(&partial);
    let target = partial
        .to_str()
        .ok_or("the output path must be valid UTF-8")?
        .to_owned();
    let worker = std::thread::spawn(move || conn.execute("VACUUM INTO ?1", [target]));
    let started = Instant::now();
    let mut next = PROGRESS_EVERY;
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        if started.elapsed() >= next {
            next += PROGRESS_EVERY;
            let done = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
            // VACUUM drops free pages and repacks, so the copy ends below the estimate.
            let pct = (done * 100).checked_div(expected).unwrap_or(100).min(99);
            eprintln!(
                "backup: {} of about {} ({pct}%)",
                bytes(done),
                bytes(expected)
            );
        }
    }
    let vacuumed = worker
        .join()
        .map_err(|_| "the copy thread panicked".to_owned())?;
    if let Err(e) = vacuumed {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("copying {} failed: {e}", source.display()));
    }
    let finished = finish(&partial, out);
    if finished.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    finished
}

/// Checks the copy, restricts it to its owner (it holds password hashes and sealed secrets),
/// syncs it and moves it onto `out`.
fn finish(partial: &Path, out: &Path) -> Result<backup_file::Contents, String> {
    let contents = backup_file::inspect(partial)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(partial, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("{}: {e}", partial.display()))?;
    }
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("{}: {e}", partial.display()))?;
    std::fs::rename(partial, out).map_err(|e| format!("{}: {e}", out.display()))?;
    sync_dir(out);
    Ok(contents)
}

/// Makes a rename durable: the directory entry is synced too (best effort).
pub(super) fn sync_dir(file: &Path) {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
}

/// `path` with `suffix` appended to its file name.
pub(super) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// What a PostgreSQL site runs instead: `pg_dump` with the database's URL (never its password).
fn pg_dump_advice(url: &str, out: &Path, key_origin: &str) -> String {
    let url = shell_quote(&without_password(url));
    let out = shell_quote(&out.display().to_string());
    format!(
        "this instance uses PostgreSQL, which ParkBridge does not copy itself; back it up with PostgreSQL's own tool:\n\
         \n    pg_dump --format=custom --no-owner --file={out} {url}\n\
         \n(it reads the password from PGPASSWORD or ~/.pgpass) and restore it into an empty database with\n\
         \n    pg_restore --no-owner --dbname={url} {out}\n\
         \nKeep the master key (from {key_origin}) with the dump: the secrets inside are sealed with it."
    )
}

/// `url` without the password of its user part or a `password=` parameter.
fn without_password(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            match authority.rsplit_once('@') {
                Some((user, host)) => {
                    let user = user.split(':').next().unwrap_or_default();
                    format!("{scheme}://{user}@{host}{path}")
                }
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.to_ascii_lowercase().starts_with("password="))
        .collect();
    if kept.is_empty() {
        base
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// `s` in single quotes for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pg_dump_advice_never_carries_the_password() {
        assert_eq!(
            without_password("postgres://pb:hunter2@db:5432/parkbridge?sslmode=require&password=x"),
            "postgres://pb@db:5432/parkbridge?sslmode=require"
        );
        let text = pg_dump_advice(
            "postgres://pb:hunter2@db/pb",
            Path::new("/b/x.dump"),
            "the file k",
        );
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains(
                "pg_dump --format=custom --no-owner --file='/b/x.dump' 'postgres://pb@db/pb'"
            ),
            "{text}"
        );
    }
}
