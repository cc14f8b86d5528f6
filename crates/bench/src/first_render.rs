//! First render of the admin UI in headless Chromium: how long a browser with an empty cache
//! takes from navigating to `/login` until the page is painted.
//!
//! The page's `<body>` is empty until the wasm app mounts, so the browser's own paint timings
//! measure the app: first contentful paint is its first frame, largest contentful paint the
//! frame where the sign-in form is drawn. Each run is a fresh browser profile (nothing cached,
//! the wasm compiled from scratch), driven over WebDriver's plain JSON protocol, so the bench
//! needs no WebDriver library.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::footprint::{free_port, spawn_serve};
use super::report::Row;

/// Target: first render of the admin UI.
pub const FIRST_RENDER_TARGET_MS: f64 = 1_000.0;

/// Page loads measured (the median is reported).
const LOADS: usize = 5;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Runs in the page once the sign-in form exists: the paint timings, as the browser recorded
/// them (milliseconds since the navigation started).
const TIMINGS_SCRIPT: &str = r#"
const done = arguments[arguments.length - 1];
const started = Date.now();
function finish(lcp) {
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  const wasm = performance.getEntriesByType('resource').find(r => r.name.endsWith('.wasm'));
  done({
    fcp: fcp ? fcp.startTime : null,
    lcp: lcp,
    dom_content_loaded: nav ? nav.domContentLoadedEventEnd : null,
    wasm_fetched: wasm ? wasm.responseEnd : null,
  });
}
function waitForForm() {
  if (!document.querySelector("[data-testid='login-form']")) {
    if (Date.now() - started > 20000) { done({ error: 'the sign-in form never appeared' }); return; }
    requestAnimationFrame(waitForForm);
    return;
  }
  // Largest contentful paint is reported to observers only; `buffered` replays what happened.
  let reported = false;
  new PerformanceObserver((list) => {
    const all = list.getEntries();
    if (!reported && all.length) { reported = true; finish(all[all.length - 1].startTime); }
  }).observe({ type: 'largest-contentful-paint', buffered: true });
  setTimeout(() => { if (!reported) { reported = true; finish(null); } }, 2000);
}
waitForForm();
"#;

/// One page load's timings, ms since navigation start.
#[derive(Debug, Clone, Copy)]
struct Timings {
    fcp: f64,
    lcp: Option<f64>,
    dom_content_loaded: Option<f64>,
    wasm_fetched: Option<f64>,
}

/// Serves `dist` from `binary` (on `data_dir`) and loads `/login` `LOADS` times in fresh
/// headless Chromium profiles. Returns the report rows; a machine without Chromium gets an
/// informational row instead of a failure.
pub async fn run(binary: &Path, data_dir: &Path, dist: &Path) -> Result<Vec<Row>, String> {
    const LABEL: &str = "Admin UI first render in headless Chromium (median of 5)";
    if !Path::new(CHROMIUM).is_file() || !Path::new(CHROMEDRIVER).is_file() {
        return Ok(vec![Row::info(
            LABEL,
            "not measured: Debian's chromium and chromium-driver are not installed \
             (`cargo xtask test` installs them)"
                .to_owned(),
        )]);
    }
    let server = UiServer::start(binary, data_dir, dist).await?;
    let driver = Driver::start().await?;
    let mut loads = Vec::with_capacity(LOADS);
    for _ in 0..LOADS {
        loads.push(driver.load(&format!("{}/login", server.base_url)).await?);
    }
    drop(driver);
    drop(server);

    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let fcp = median(loads.iter().map(|t| t.fcp).collect());
    let lcps: Vec<f64> = loads.iter().filter_map(|t| t.lcp).collect();
    // The form's paint when the browser reported it, else the first paint (never later).
    let rendered = if lcps.len() == LOADS {
        median(lcps)
    } else {
        fcp
    };
    let mut rows = vec![Row::target(
        LABEL,
        format!("{rendered:.0} ms to the painted sign-in form (first paint {fcp:.0} ms)"),
        "≤ 1 s",
        rendered <= FIRST_RENDER_TARGET_MS,
    )];
    let dcl: Vec<f64> = loads.iter().filter_map(|t| t.dom_content_loaded).collect();
    let wasm: Vec<f64> = loads.iter().filter_map(|t| t.wasm_fetched).collect();
    if dcl.len() == LOADS && wasm.len() == LOADS {
        rows.push(Row::info(
            "… of which: HTML parsed / wasm downloaded (median)",
            format!("{:.0} ms / {:.0} ms", median(dcl), median(wasm)),
        ));
    }
    Ok(rows)
}

/// `parkbridge serve` with the built UI, on the bench's migrated data directory.
struct UiServer {
    child: Child,
    base_url: String,
}

impl UiServer {
    async fn start(binary: &Path, data_dir: &Path, dist: &Path) -> Result<UiServer, String> {
        let port = free_port()?;
        let child = spawn_serve(binary, port, data_dir, dist)?;
        let server = UiServer {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        let client = http_client()?;
        let started = Instant::now();
        while !matches!(
            client.get(format!("{}/healthz", server.base_url)).send().await,
            Ok(r) if r.status().is_success()
        ) {
            if started.elapsed() > Duration::from_secs(30) {
                return Err("parkbridge serve (UI) never answered /healthz within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(server)
    }
}

impl Drop for UiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chromedriver process; each load opens and closes a session of its own.
struct Driver {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Driver {
    async fn start() -> Result<Driver, String> {
        let port = free_port()?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run chromedriver: {e}"))?;
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: http_client()?,
        };
        let started = Instant::now();
        while driver
            .http
            .get(format!("{}/status", driver.url))
            .send()
            .await
            .is_err()
        {
            if started.elapsed() > Duration::from_secs(20) {
                return Err("chromedriver did not listen within 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(driver)
    }

    /// Opens `url` in a new headless Chromium with an empty profile and reads its timings.
    async fn load(&self, url: &str) -> Result<Timings, String> {
        let profile = tempfile::tempdir().map_err(|e| format!("temp profile: {e}"))?;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let session = self.call("POST", "/session", caps).await?;
        let id = session["sessionId"]
            .as_str()
            .ok_or_else(|| format!("chromedriver gave no session: {session}"))?
            .to_owned();
        let measured = async {
            let path = format!("/session/{id}");
            self.call(
                "POST",
                &format!("{path}/timeouts"),
                json!({"script": 30_000}),
            )
            .await?;
            self.call("POST", &format!("{path}/url"), json!({"url": url}))
                .await?;
            self.call(
                "POST",
                &format!("{path}/execute/async"),
                json!({"script": TIMINGS_SCRIPT, "args": []}),
            )
            .await
        }
        .await;
        let _ = self
            .call("DELETE", &format!("/session/{id}"), json!({}))
            .await;
        let value = measured?;
        if let Some(error) = value["error"].as_str() {
            return Err(format!("first render: {error}"));
        }
        Ok(Timings {
            fcp: value["fcp"]
                .as_f64()
                .ok_or_else(|| format!("the browser recorded no first paint: {value}"))?,
            lcp: value["lcp"].as_f64(),
            dom_content_loaded: value["dom_content_loaded"].as_f64(),
            wasm_fetched: value["wasm_fetched"].as_f64(),
        })
    }

    /// One WebDriver command; returns its `value`.
    async fn call(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.url);
        let request = match method {
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let response = request
            .send()
            .await
            .map_err(|e| format!("chromedriver {path}: {e}"))?;
        let status = response.status();
        let json: Value = response
            .json()
            .await
            .map_err(|e| format!("chromedriver {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("chromedriver {path}: {status} {}", json["value"]));
        }
        Ok(json["value"].clone())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())
}
