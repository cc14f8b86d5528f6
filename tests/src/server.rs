//! Starting the real `parkbridge` binary on a free loopback port with a fresh database: a temp
//! SQLite file, or a fresh PostgreSQL database created for the test and dropped after it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// The server binary: `PARKBRIDGE_BIN` (set by `cargo xtask test`), else built here with cargo.
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("PARKBRIDGE_BIN") {
        return PathBuf::from(bin);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "parkbridge",
            "--bin",
            "parkbridge",
        ])
        .current_dir(workspace_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building parkbridge failed");
    workspace_root().join("target/debug/parkbridge")
}

/// The built frontend: `PARKBRIDGE_STATIC_DIR`, else `frontend/dist` (built by `cargo xtask test`).
pub fn static_dir() -> PathBuf {
    std::env::var_os("PARKBRIDGE_STATIC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("frontend/dist"))
}

/// Which database engine a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the server's temp data directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `TEST_POSTGRES_URL`
    /// (default `postgres://postgres@127.0.0.1:5432`).
    Postgres,
}

/// A PostgreSQL database that exists for one test (dropped with it); empty until something
/// migrates it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// Creates an empty database on the test PostgreSQL server.
    pub fn create() -> PgDatabase {
        let base = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
            .trim_end_matches('/')
            .to_owned();
        let name = format!("pb_test_{}_{}", std::process::id(), unique());
        let db = PgDatabase {
            admin_url: format!("{base}/postgres"),
            name,
        };
        db.psql(&format!("CREATE DATABASE {}", db.name));
        db
    }

    /// Its URL.
    pub fn url(&self) -> String {
        self.admin_url.trim_end_matches("/postgres").to_owned() + "/" + &self.name
    }

    fn psql(&self, sql: &str) {
        let out = Command::new("psql")
            .args([
                self.admin_url.as_str(),
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                sql,
            ])
            .output()
            .expect("psql runs (PostgreSQL client tools are on this machine)");
        assert!(
            out.status.success(),
            "psql `{sql}` failed (is PostgreSQL on {}?): {}",
            self.admin_url,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                self.admin_url.as_str(),
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    u64::from(nanos) * 1000 + NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A server's captured stderr.
type Logs = Arc<Mutex<String>>;

/// The P云 base URL of a test server not given one: a loopback port nothing listens on.
pub const UNREACHABLE_PYUN: &str = "http://127.0.0.1:9";

/// Runs `parkbridge serve` on port 0; stderr goes to `logs` when given. Returns the child and
/// its base URL, or the stderr it wrote when it exited without announcing its address.
fn launch(
    db_args: &[String],
    extra: &[&str],
    logs: Option<Logs>,
) -> Result<(Child, String), String> {
    let mut cmd = Command::new(binary());
    cmd.args(["serve", "--listen", "127.0.0.1:0"]).args(db_args);
    // A test may serve a frontend of its own (`extra` holding `--static-dir`).
    if !extra.contains(&"--static-dir") {
        cmd.arg("--static-dir").arg(static_dir());
    }
    cmd.env(
        "RUST_LOG",
        std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned()),
    );
    // A test that wants P云 points the server at a sandbox (`extra` overrides this); any other
    // outbound call — an upload of a car park on P云 car-park access, say — must never reach the
    // real P云: this loopback port refuses it.
    cmd.env("PARKBRIDGE_PYUN_BASE_URL", UNREACHABLE_PYUN);
    for item in extra {
        match item.split_once('=') {
            Some((k, v)) if k.chars().all(|c| c.is_ascii_uppercase() || c == '_') => {
                cmd.env(k, v);
            }
            _ => {
                cmd.arg(item);
            }
        }
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(if logs.is_some() {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .spawn()
        .expect("parkbridge starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("ParkBridge listening on ") {
                let _ = tx.send(url.trim_end_matches('/').to_owned());
            }
        }
    });
    // Only what this run writes counts as its failure report.
    let start = logs
        .as_ref()
        .map_or(0, |l| l.lock().expect("log buffer").len());
    let reader = match (child.stderr.take(), &logs) {
        (Some(stderr), Some(logs)) => {
            let logs = Arc::clone(logs);
            Some(std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut buf = logs.lock().expect("log buffer");
                    buf.push_str(&line);
                    buf.push('\n');
                }
            }))
        }
        _ => None,
    };
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(url) => Ok((child, url)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(reader) = reader {
                let _ = reader.join();
            }
            let report = logs
                .map(|l| l.lock().expect("log buffer")[start..].to_owned())
                .unwrap_or_else(|| "(stderr not captured)".to_owned());
            Err(format!(
                "parkbridge exited or did not announce its address within 60 s; stderr:\n{report}"
            ))
        }
    }
}

/// A running `parkbridge serve`, killed when dropped (and its PostgreSQL database dropped).
pub struct TestServer {
    child: Child,
    /// `http://127.0.0.1:<port>` without a trailing slash.
    pub base_url: String,
    /// The server's data directory (SQLite file, master key file).
    pub data_dir: tempfile::TempDir,
    /// The engine in use.
    pub backend: Backend,
    db_args: Vec<String>,
    logs: Option<Logs>,
    // Dropped after the child is killed (field order), so no connection blocks the DROP.
    _pg: Option<PgDatabase>,
}

impl TestServer {
    /// Starts `parkbridge serve` on SQLite.
    pub fn start() -> TestServer {
        TestServer::start_on(Backend::Sqlite)
    }

    /// Starts `parkbridge serve` on port 0 with a fresh database of `backend`.
    pub fn start_on(backend: Backend) -> TestServer {
        TestServer::start_with(backend, &[])
    }

    /// Like `start_on`, with extra `serve` arguments and environment (`KEY=value` items).
    pub fn start_with(backend: Backend, extra: &[&str]) -> TestServer {
        TestServer::start_inner(backend, extra, None)
    }

    /// Like `start_with`, but with `RUST_LOG=debug` (unless `extra` sets it) and stderr kept in
    /// memory for [`TestServer::logs`] — for tests that search the logs for what must not be there.
    pub fn start_capturing_logs(backend: Backend, extra: &[&str]) -> TestServer {
        let mut all = vec!["RUST_LOG=debug"];
        all.extend_from_slice(extra);
        TestServer::start_inner(backend, &all, Some(Arc::default()))
    }

    /// Starts `parkbridge serve` on a fresh PostgreSQL database that the server (and its CLI)
    /// reaches at `route(direct URL)` — e.g. through a proxy a test can cut; stderr is captured.
    /// [`TestServer::database_url`] stays the direct URL, for the test's own reads.
    pub fn start_postgres_routed(route: impl FnOnce(&str) -> String, extra: &[&str]) -> TestServer {
        TestServer::start_routed(Backend::Postgres, route, extra, Some(Arc::default()))
    }

    /// Starts `parkbridge serve` on SQLite in `data_dir` as it is (its database and master key
    /// kept): a restored installation, say.
    pub fn start_in(data_dir: tempfile::TempDir, extra: &[&str]) -> Result<TestServer, String> {
        let db_args = vec![
            "--data-dir".to_owned(),
            data_dir.path().display().to_string(),
        ];
        let logs: Logs = Arc::default();
        let (child, base_url) = launch(&db_args, extra, Some(logs.clone()))?;
        Ok(TestServer {
            child,
            base_url,
            data_dir,
            backend: Backend::Sqlite,
            db_args,
            logs: Some(logs),
            _pg: None,
        })
    }

    /// The `--data-dir` (and `--database-url`) arguments the server was started with, for
    /// running other commands against its database.
    pub fn db_args(&self) -> &[String] {
        &self.db_args
    }

    fn start_inner(backend: Backend, extra: &[&str], logs: Option<Logs>) -> TestServer {
        TestServer::start_routed(backend, str::to_owned, extra, logs)
    }

    fn start_routed(
        backend: Backend,
        route: impl FnOnce(&str) -> String,
        extra: &[&str],
        logs: Option<Logs>,
    ) -> TestServer {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let pg = (backend == Backend::Postgres).then(PgDatabase::create);
        let mut db_args = vec![
            "--data-dir".to_owned(),
            data_dir.path().display().to_string(),
        ];
        if let Some(pg) = &pg {
            db_args.extend(["--database-url".to_owned(), route(&pg.url())]);
        }
        let (child, base_url) = launch(&db_args, extra, logs.clone())
            .unwrap_or_else(|stderr| panic!("parkbridge did not start: {stderr}"));
        TestServer {
            child,
            base_url,
            data_dir,
            backend,
            db_args,
            logs,
            _pg: pg,
        }
    }

    /// Everything the server wrote to stderr so far (only with `start_capturing_logs`).
    pub fn logs(&self) -> String {
        self.logs
            .as_ref()
            .map(|l| l.lock().expect("log buffer").clone())
            .unwrap_or_default()
    }

    /// Stops the server and starts it again on the same data directory and database with
    /// `extra`; `Err` holds its stderr when it exits instead of announcing its address.
    pub fn restart(&mut self, extra: &[&str]) -> Result<(), String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Captured from now on, so that a test can read what the restarted server said.
        let logs = self.logs.get_or_insert_with(Arc::default).clone();
        let (child, base_url) = launch(&self.db_args, extra, Some(logs))?;
        self.child = child;
        self.base_url = base_url;
        Ok(())
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Runs `parkbridge <args…>` against this server's database; `stdin` is fed to it.
    pub fn cli(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut child = Command::new(binary())
            .args(args)
            .args(&self.db_args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("parkbridge cli starts");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("parkbridge cli finishes")
    }

    /// Creates a user through the real bootstrap command (`user add --password-stdin`).
    pub fn add_user(&self, username: &str, role: &str, password: &str) {
        let out = self.cli(
            &[
                "user",
                "add",
                "--username",
                username,
                "--role",
                role,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        );
        assert!(
            out.status.success(),
            "user add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The URL of this server's database, for tests that arrange rows the API cannot yet create.
    pub fn database_url(&self) -> String {
        match self._pg.as_ref() {
            Some(pg) => pg.url(),
            None => parkbridge::storage::sqlite_url(&self.data_dir.path().join("parkbridge.db")),
        }
    }

    /// Creates an API key through the real CLI (`apikey create`); returns the key it printed.
    /// `scopes` is comma-separated; `park` is a car park code.
    pub fn api_key(&self, name: &str, scopes: &str, park: Option<&str>) -> String {
        let mut args = vec!["apikey", "create", "--name", name, "--scopes", scopes];
        if let Some(park) = park {
            args.extend(["--park", park]);
        }
        let out = self.cli(&args, "");
        assert!(
            out.status.success(),
            "apikey create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8 stdout")
            .trim()
            .to_owned()
    }

    /// A client with its own cookie jar, signed in as `username`.
    pub async fn signed_in(&self, username: &str, password: &str) -> reqwest::Client {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let resp = client
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request");
        assert_eq!(
            resp.status(),
            200,
            "sign-in as {username} failed: {}",
            resp.text().await.unwrap_or_default()
        );
        client
    }
}

impl TestServer {
    /// Sends SIGTERM and waits (up to 10 s) for the server to exit; returns its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "could not signal parkbridge");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for parkbridge") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "parkbridge did not stop within 10 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Another instance on a `TestServer`'s database and data directory (same master key): what a
/// scale-out deployment runs. Killed (SIGKILL) when dropped.
pub struct PeerServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
}

impl PeerServer {
    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestServer {
    /// Starts another `parkbridge serve` sharing this server's database and master key.
    pub fn peer(&self, extra: &[&str]) -> PeerServer {
        let (child, base_url) = launch(&self.db_args, extra, None)
            .unwrap_or_else(|stderr| panic!("peer did not start: {stderr}"));
        PeerServer { child, base_url }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Defines each `async fn name(server: TestServer)` scenario twice: `name::sqlite` and
/// `name::postgres`, each with a fresh server and database.
#[macro_export]
macro_rules! on_both_backends {
    ($( $(#[$meta:meta])* async fn $name:ident($server:ident : TestServer) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn scenario($server: $crate::server::TestServer) $body
                #[tokio::test]
                async fn sqlite() {
                    scenario($crate::server::TestServer::start_on($crate::server::Backend::Sqlite)).await
                }
                #[tokio::test]
                async fn postgres() {
                    scenario($crate::server::TestServer::start_on($crate::server::Backend::Postgres)).await
                }
            }
        )*
    };
}
