//! The contract step of `cargo xtask test`: schemathesis, pinned and installed from PyPI into
//! `target/tools`, runs every check against the real binary on a fresh SQLite database, once
//! signed in as an admin and once with a machine API key; any failure fails the step.
//!
//! Schemathesis reads the operations from the server's own `/api/openapi.json`, so new routes
//! join the run without being named here. What the runs share (checks, seed, examples, the
//! narrow exclusions and why) lives in `schemathesis.toml` at the workspace root; what differs
//! per identity (how it authenticates, what it holds back) is here.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::cmd::{self, command, output};

/// The schemathesis release the contract is proved with; a new one may find new things, so it
/// is changed on purpose, never picked up by chance.
const VERSION: &str = "4.32.5";
/// The admin the run creates and signs in as (a throwaway database; the password never leaves
/// this process and the server it starts).
const ADMIN: &str = "schemathesis-admin";

/// The admin (`ADMIN`) signs in the way the UI does, through the operation the document
/// declares, and again whenever a call answers 401 (after the run itself signed out or ended the
/// admin's sessions). Appended to `schemathesis.toml`; the password comes from the environment,
/// never from a file.
const ADMIN_AUTH: &str = r#"
# Sign-in itself is fuzzed by the machine run only: its failures would trip the per-address
# sign-in limit (429) and lock this run out of its own re-login.
[[operations]]
include-path = "/api/v1/auth/login"
enabled = false

[auth.dynamic.openapi.session]
path = "/api/v1/auth/login"
payload = { username = "schemathesis-admin", password = "${PARKBRIDGE_ST_PASSWORD}" }
extract_from = "cookie"
extract_selector = "pb_session"
"#;

/// The one operation the admin run holds back until last (see `run`).
const USERS_ID: &str = "/api/v1/users/{id}";

/// The machine client: a key with every scope, for every car park.
const MACHINE_AUTH: &str = r#"
[auth.openapi.api_key]
bearer = "${PARKBRIDGE_ST_API_KEY}"
"#;

/// Installs schemathesis if needed, starts a fresh server and runs both identities.
pub(crate) fn run() -> Result<(), String> {
    let st = ensure_installed()?;
    let root = cmd::root();
    let work = root.join("target/schemathesis");
    // A fresh database each run: results must not depend on what an earlier run left.
    let _ = std::fs::remove_dir_all(&work);
    let data_dir = work.join("data");
    let static_dir = work.join("static");
    for dir in [&data_dir, &static_dir] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let bin = root.join("target/debug/parkbridge");
    let password = throwaway_password();
    add_admin(&bin, &data_dir, &password)?;
    let server = Server::start(&bin, &data_dir, &static_dir, &work.join("server.log"))?;
    let base = format!("http://{}", server.addr);
    // The admin first: the machine run fuzzes sign-in, and 20 failures from one address lock
    // that address out for 15 minutes (429), which would keep the admin from signing in.
    let admin_secret = [("PARKBRIDGE_ST_PASSWORD", password.as_str())];
    let admin = run_identity(
        &st,
        "admin",
        &base,
        ADMIN_AUTH,
        &admin_secret,
        &["--exclude-path", USERS_ID],
    )
    .and_then(|summary| {
        // Last, on its own: changing a user's password signs that user out everywhere, and
        // the fuzzer will change the signed-in admin's own (its id is in GET /users). Run
        // earlier, every later call would be a 401 that tests nothing.
        run_identity(
            &st,
            "admin (own account last)",
            &base,
            ADMIN_AUTH,
            &admin_secret,
            &["--include-path", USERS_ID],
        )
        .map(|last| format!("{summary}; then PUT {USERS_ID}: {last}"))
    });
    // Created after the admin run, which may well have revoked any key that existed then.
    let machine = create_api_key(&bin, &data_dir).and_then(|api_key| {
        run_identity(
            &st,
            "machine key",
            &base,
            MACHINE_AUTH,
            &[("PARKBRIDGE_ST_API_KEY", &api_key)],
            &[],
        )
    });
    drop(server);
    let machine = machine?;
    let admin = admin?;
    println!("schemathesis {VERSION} (admin): {admin}");
    println!("schemathesis {VERSION} (machine key): {machine}");
    Ok(())
}

/// `cargo xtask contract`: builds the server and runs this step alone, for working on the document.
pub(crate) fn build_and_run() -> Result<(), String> {
    cmd::run(command("cargo", &["build", "--locked", "-p", "parkbridge"]))?;
    run()
}

/// The `st` executable of the pinned version, installed into a venv under `target/tools`.
fn ensure_installed() -> Result<PathBuf, String> {
    let venv = cmd::root().join("target/tools/schemathesis");
    let st = venv.join("bin/st");
    let want = format!("st, version {VERSION}");
    let mut version = Command::new(&st);
    version.arg("--version");
    if output(version).is_some_and(|v| v == want) {
        println!("schemathesis {VERSION}: present");
        return Ok(st);
    }
    cmd::run(command("python3", &["-m", "venv", &venv.to_string_lossy()]))?;
    let pip = venv.join("bin/pip");
    cmd::run(command(
        &pip.to_string_lossy(),
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("schemathesis=={VERSION}"),
        ],
    ))?;
    Ok(st)
}

/// A password for this run's admin, different each run (the data directory is deleted anyway).
fn throwaway_password() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("st-{:x}-{nanos:x}", std::process::id())
}

fn add_admin(bin: &Path, data_dir: &Path, password: &str) -> Result<(), String> {
    let mut child = Command::new(bin)
        .args(["user", "add", "--username", ADMIN, "--role", "admin"])
        .arg("--password-stdin")
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(format!("{password}\n").as_bytes())
        .map_err(|e| format!("cannot send the password: {e}"))?;
    let status = child.wait().map_err(|e| e.to_string())?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("`parkbridge user add` failed ({status})"))
}

/// A key with every scope, for every car park: the machine identity sees all machine routes.
fn create_api_key(bin: &Path, data_dir: &Path) -> Result<String, String> {
    let out = Command::new(bin)
        .args(["apikey", "create", "--name", "schemathesis"])
        .args(["--scopes", "gate,coupons,vip,discounts", "--data-dir"])
        .arg(data_dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || key.is_empty() {
        return Err(format!(
            "`parkbridge apikey create` failed ({})",
            out.status
        ));
    }
    Ok(key)
}

/// `parkbridge serve` on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(bin: &Path, data_dir: &Path, static_dir: &Path, log: &Path) -> Result<Server, String> {
        let log = std::fs::File::create(log).map_err(|e| format!("cannot create log: {e}"))?;
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .arg("--static-dir")
            .arg(static_dir)
            // Coupon calls go nowhere real: P云 is an unused loopback port, and a request must
            // not hold the run for seconds waiting for its outcome.
            .args(["--pyun-base-url", "http://127.0.0.1:9"])
            .args(["--mallcoo-base-url", "http://127.0.0.1:9"])
            .args(["--coupon-wait-ms", "0"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut first = String::new();
        let stdout = child.stdout.take().expect("stdout is piped");
        BufReader::new(stdout)
            .read_line(&mut first)
            .map_err(|e| e.to_string())?;
        // Owned before the address is read, so that a server that printed garbage is killed too.
        let mut server = Server {
            addr: String::new(),
            child,
        };
        // The server's first stdout line (ARCHITECTURE.md): `ParkBridge listening on http://…/`.
        server.addr = first
            .trim()
            .strip_prefix("ParkBridge listening on http://")
            .map(|a| a.trim_end_matches('/').to_owned())
            .ok_or_else(|| format!("the server did not start: {first:?} (see its log)"))?;
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `st run` as one identity: `schemathesis.toml` plus the identity's `auth` table, its
/// secrets in the environment; returns schemathesis' summary line, or fails on any failure.
fn run_identity(
    st: &Path,
    who: &str,
    base: &str,
    auth: &str,
    secrets: &[(&str, &str)],
    extra: &[&str],
) -> Result<String, String> {
    let root = cmd::root();
    let shared = std::fs::read_to_string(root.join("schemathesis.toml"))
        .map_err(|e| format!("cannot read schemathesis.toml: {e}"))?;
    let config = root
        .join("target/schemathesis")
        .join(format!("{}.toml", who.split(' ').next().unwrap_or(who)));
    std::fs::write(
        &config,
        format!("{shared}\n# Appended by xtask for this run.{auth}"),
    )
    .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let mut c = Command::new(st);
    // Schemathesis keeps a cache of what it found under its working directory: keep it in
    // target/, out of the repository.
    c.current_dir(root.join("target/schemathesis"))
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{base}/api/openapi.json"))
        .args(extra)
        // A signed-in change must name our own origin (403 `cross_origin` otherwise); API keys
        // and Mallcoo ignore it.
        .args(["-H", &format!("Origin: {base}")])
        .envs(secrets.iter().copied())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped());
    println!(
        "$ st --config-file {} run {base}/api/openapi.json {} -H 'Origin: {base}'",
        config.strip_prefix(&root).unwrap_or(&config).display(),
        extra.join(" ")
    );
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", st.display()))?;
    let (mut cases, mut verdict) = (String::new(), String::new());
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        // `  5059 generated, 5059 passed, 62 skipped` and the closing `=== … in 34.79s ===`.
        if line.trim_start().starts_with(|c: char| c.is_ascii_digit())
            && line.contains(" generated")
        {
            cases = line.trim().to_owned();
        }
        if line.starts_with('=') && line.contains(" in ") {
            verdict = line.trim_matches(|c| c == '=' || c == ' ').to_owned();
        }
    }
    let summary = format!("{verdict} ({cases})");
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(summary)
    } else {
        Err(format!(
            "schemathesis as {who} found failures ({summary}); the server's log is in target/schemathesis/server.log"
        ))
    }
}
