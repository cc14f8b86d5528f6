//! Several `parkbridge serve` instances on one PostgreSQL database and master key, and a client
//! that spreads requests over the live ones round robin, as a reverse proxy in front of them
//! would. Instances can be killed (SIGKILL) and restarted (on a new port) while requests flow.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

use crate::server::{Backend, PeerServer, TestServer};

/// How often a request is tried on the next live instance when the connection fails (refused,
/// reset mid-answer) before the test gives up: a proxy's `proxy_next_upstream error`.
const TRIES: usize = 40;
/// Pause between two such tries, so a cluster whose only live instance is restarting can catch up.
const TRY_PAUSE: Duration = Duration::from_millis(100);

/// N instances sharing one database; the database and its data directory (master key file) belong
/// to `server`, whose own process is stopped once the instances run.
pub struct Cluster {
    // Declared first so that it drops first: the instances die before the database is dropped.
    instances: Mutex<Vec<Option<PeerServer>>>,
    /// Owns the database and the data directory; use it for `cli`, `add_user`, `api_key` and
    /// `database_url`. Its own process is not one of the instances.
    pub server: TestServer,
    args: Vec<String>,
    next: AtomicUsize,
}

impl Cluster {
    /// Starts `n` instances on a fresh PostgreSQL database with `extra` serve settings
    /// (`KEY=value` items are environment variables). Blocks while the binaries start.
    pub fn start(n: usize, extra: &[&str]) -> Cluster {
        assert!(n >= 1, "a cluster has at least one instance");
        // The first start migrates the database and creates the master key file; then it steps
        // aside so that every instance is one the test can kill.
        let mut server = TestServer::start_with(Backend::Postgres, extra);
        // Its exit status does not matter: a SIGTERM that lands before the server has installed
        // its handler ends it by the signal rather than by a graceful stop.
        server.terminate();
        let args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        let instances = (0..n).map(|_| Some(peer(&server, &args))).collect();
        Cluster {
            instances: Mutex::new(instances),
            server,
            args,
            next: AtomicUsize::new(0),
        }
    }

    /// How many instances the cluster has (live or not).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cluster has no instance (never: `start` asserts at least one).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<PeerServer>>> {
        self.instances.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The base URL of instance `i`; panics when it is down.
    pub fn base_url(&self, i: usize) -> String {
        self.lock()[i]
            .as_ref()
            .unwrap_or_else(|| panic!("instance {i} is down"))
            .base_url
            .clone()
    }

    /// The absolute URL of `path` on instance `i`.
    pub fn url(&self, i: usize, path: &str) -> String {
        format!("{}{path}", self.base_url(i))
    }

    /// The base URL of the next live instance in turn, if any is live.
    fn next_live(&self) -> Option<String> {
        let instances = self.lock();
        let n = instances.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|k| (start + k) % n)
            .find_map(|i| instances[i].as_ref().map(|p| p.base_url.clone()))
    }

    /// Kills instance `i` with SIGKILL (no graceful shutdown: leases stay held until they run
    /// out); the round robin skips it until `restart(i)`.
    pub fn kill(&self, i: usize) {
        let taken = self.lock()[i].take();
        assert!(taken.is_some(), "instance {i} was already down");
        // Dropping a `PeerServer` sends SIGKILL and reaps the process.
        drop(taken);
    }

    /// Starts instance `i` again, on a new port, with the same settings. Blocks the thread while
    /// the binary starts: call it from `spawn_blocking` or a thread of its own.
    pub fn restart(&self, i: usize) {
        assert!(self.lock()[i].is_none(), "instance {i} is still running");
        let started = peer(&self.server, &self.args);
        self.lock()[i] = Some(started);
    }

    /// Sends `body` (JSON) with `client` to the next live instance; when the connection fails,
    /// tries the next one. Returns the status and the JSON answer (`Null` when not JSON).
    pub async fn send(
        &self,
        client: &Client,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut last_error = String::new();
        for _ in 0..TRIES {
            let Some(base) = self.next_live() else {
                last_error = "no instance is live".to_owned();
                tokio::time::sleep(TRY_PAUSE).await;
                continue;
            };
            match send_once(client, method.clone(), &format!("{base}{path}"), body).await {
                Ok(answer) => return answer,
                Err(e) => {
                    last_error = format!("{base}: {e}");
                    tokio::time::sleep(TRY_PAUSE).await;
                }
            }
        }
        panic!("{method} {path} found no live instance in {TRIES} tries; last: {last_error}");
    }

    /// Sends `body` to instance `i` only.
    pub async fn send_to(
        &self,
        i: usize,
        client: &Client,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let url = self.url(i, path);
        send_once(client, method, &url, body)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"))
    }
}

fn peer(server: &TestServer, args: &[String]) -> PeerServer {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    server.peer(&args)
}

async fn send_once(
    client: &Client,
    method: Method,
    url: &str,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let mut req = client.request(method, url);
    if let Some(body) = body {
        req = req.json(body);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let text = resp.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}
