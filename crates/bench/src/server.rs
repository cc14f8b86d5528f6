//! The real `parkbridge` binary as a child process, and the set-up a bench needs: an admin, a
//! P云 credential, a car park (with a P云 `park_uuid`) with an event coupon rule, and a machine
//! key of scope `coupons`.
//!
//! Everything goes through the same doors an operator uses (the CLI and the admin API), so the
//! bench measures the gateway as deployed, not a shortcut into its database.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The P云 app the gateway signs with; the sandbox knows it.
pub const APP_ID: &str = "bench-app";
/// The secret of [`APP_ID`].
pub const APP_SECRET: &str = "bench-secret-0123456789abcdef";
/// The event service type configured for the bench car park.
pub const API_TYPE: &str = "bench_charging";
/// The bench car park's code at ParkBridge.
pub const PARK_CODE: &str = "bench";
/// The bench car park's id at P云 (`api_store_code`).
pub const STORE_CODE: &str = "bench-store-1";
/// The bench car park's UUID at P云, which its VIP recharges are sent for.
pub const PARK_UUID: &str = "bench-park-uuid";
/// The bench car park's name, which an admin types to confirm a full VIP sync.
pub const PARK_NAME: &str = "压测停车场";

const ADMIN: &str = "bench-admin";
const ADMIN_PASSWORD: &str = "bench-password-0123";

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// One fresh data directory shared by the servers a bench run starts one after the other.
#[derive(Debug)]
pub struct Instance {
    binary: PathBuf,
    data: tempfile::TempDir,
    pyun_base_url: String,
}

/// A running `parkbridge serve`.
///
/// Dropping it without [`Server::stop`] (a run that failed) kills the process.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base_url: String,
    log: PathBuf,
}

impl Instance {
    /// A fresh data directory with an admin user, for a gateway that sends to `pyun_base_url`.
    pub async fn create(binary: &Path, pyun_base_url: &str) -> Result<Instance, String> {
        let data = tempfile::Builder::new()
            .prefix("pb-bench-")
            .tempdir()
            .map_err(|e| format!("cannot create a temp data dir: {e}"))?;
        let instance = Instance {
            binary: binary.to_path_buf(),
            data,
            pyun_base_url: pyun_base_url.to_owned(),
        };
        instance.add_admin().await?;
        Ok(instance)
    }

    /// The data directory every server of this run shares.
    pub(crate) fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The SQLite database file of this instance (`parkbridge serve`'s default in its data dir).
    pub fn database_path(&self) -> PathBuf {
        self.data_dir().join("parkbridge.db")
    }

    /// `parkbridge user add` with the password on stdin.
    async fn add_admin(&self) -> Result<(), String> {
        let mut child = Command::new(&self.binary)
            .args(["user", "add", "--username", ADMIN, "--role", "admin"])
            .arg("--password-stdin")
            .arg("--data-dir")
            .arg(self.data_dir())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(format!("{ADMIN_PASSWORD}\n").as_bytes())
                .map_err(|e| format!("user add: cannot write the password: {e}"))?;
        }
        // Set-up, before anything is measured: blocking here costs nothing.
        let out = child
            .wait_with_output()
            .map_err(|e| format!("user add: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`parkbridge user add` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(())
    }

    /// Starts `parkbridge serve` on a free loopback port with `env` set, and waits for its
    /// address line.
    pub async fn start(&self, name: &str, env: &[(&str, String)]) -> Result<Server, String> {
        let log = self.data_dir().join(format!("{name}.log"));
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("cannot create {name}.log: {e}"))?;
        let mut cmd = Command::new(&self.binary);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(self.data_dir())
            .arg("--pyun-base-url")
            .arg(&self.pyun_base_url)
            // No admin UI is needed; a missing one is only a warning in the log.
            .arg("--static-dir")
            .arg(self.data_dir().join("no-frontend"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout from parkbridge")?;
        // A thread reads the address line, then keeps draining stdout so the child never
        // blocks on a full pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("ParkBridge listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(rest.trim_end_matches('/').to_owned());
                }
            }
        });
        let announced = tokio::task::spawn_blocking(move || rx.recv_timeout(START_TIMEOUT)).await;
        let base_url = match announced {
            Ok(Ok(url)) => url,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "parkbridge serve did not announce its address: {}",
                    tail(&log)
                ));
            }
        };
        Ok(Server {
            child,
            base_url,
            log,
        })
    }

    /// An HTTP client signed in to `server` as the admin (session cookie).
    pub async fn admin(&self, server: &Server) -> Result<reqwest::Client, String> {
        let admin = reqwest::Client::builder()
            .cookie_store(true)
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        call(
            &admin,
            reqwest::Method::POST,
            &format!("{}/api/v1/auth/login", server.base_url),
            json!({ "username": ADMIN, "password": ADMIN_PASSWORD }),
        )
        .await?;
        Ok(admin)
    }

    /// Signs in as the admin and configures the car park (with its P云 `park_uuid`, for VIP sync).
    pub async fn configure(&self, server: &Server) -> Result<Configured, String> {
        let admin = self.admin(server).await?;
        let api = |path: &str| format!("{}{path}", server.base_url);
        let cred = call(
            &admin,
            reqwest::Method::POST,
            &api("/api/v1/credentials"),
            json!({ "name": "bench P云", "kind": "pyun", "app_id": APP_ID, "app_secret": APP_SECRET }),
        )
        .await?;
        let cred_id = cred["credential"]["id"]
            .as_i64()
            .ok_or_else(|| format!("credential id missing in {cred}"))?;
        let park = call(
            &admin,
            reqwest::Method::POST,
            &api("/api/v1/parks"),
            json!({
                "code": PARK_CODE,
                "name": PARK_NAME,
                "pyun_park_uuid": PARK_UUID,
                "pyun_api_store_code": STORE_CODE,
                "pyun_merchant": "bench-merchant",
                "pyun_credential_id": cred_id,
            }),
        )
        .await?;
        let park_id = park["id"]
            .as_i64()
            .ok_or_else(|| format!("park id missing in {park}"))?;
        call(
            &admin,
            reqwest::Method::PUT,
            &api(&format!("/api/v1/parks/{park_id}/coupon-config/event")),
            json!({ "api_type": API_TYPE, "metadata_keys": [] }),
        )
        .await?;
        let key = call(
            &admin,
            reqwest::Method::POST,
            &api("/api/v1/api-keys"),
            json!({ "name": "bench load", "scopes": ["coupons"] }),
        )
        .await?;
        let api_key = key["key"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "API key missing in the answer".to_owned())?;
        Ok(Configured { api_key, park_id })
    }
}

/// What [`Instance::configure`] set up.
#[derive(Debug, Clone)]
pub struct Configured {
    /// A machine key of scope `coupons`.
    pub api_key: String,
    /// The bench car park's id at ParkBridge.
    pub park_id: i64,
}

/// One admin API call that must succeed; returns its JSON body.
pub(crate) async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Value,
) -> Result<Value, String> {
    let resp = client
        .request(method.clone(), url)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| format!("{url}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{method} {url}: {status}: {text}"));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

impl Server {
    /// The child's process id, for reading its memory figures.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server with SIGTERM (a graceful stop lets deliveries in flight finish), then
    /// kills it if it has not exited in 10 s.
    pub async fn stop(mut self) -> Result<(), String> {
        // `kill` the command: the workspace forbids the `unsafe` a direct signal call needs.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err(format!(
            "parkbridge did not stop within 10 s: {}",
            tail(&self.log)
        ))
    }

    /// The last lines the server logged, for an error message.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }
}

/// The last 20 lines of a log file, or a note that it is empty.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return "(nothing on stderr)".to_owned();
    }
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl Drop for Server {
    fn drop(&mut self) {
        // After `stop` this finds the child gone; on an early return it ends it.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
