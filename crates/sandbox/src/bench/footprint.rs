//! What ParkBridge costs to run before any load: cold start to the first `200` from `/healthz`,
//! resident memory when idle, and the size of the admin UI's wasm bundle (raw and gzip, as a
//! browser downloads it).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::report::{Row, ms};
use super::server::Instance;

/// Target: cold start to the first `200` from `/healthz`.
pub const COLD_START_TARGET: Duration = Duration::from_secs(1);
/// Target: resident memory when idle, MiB.
pub const IDLE_RSS_TARGET_MIB: f64 = 50.0;
/// Target: the wasm bundle, gzip, KiB.
pub const WASM_GZIP_TARGET_KIB: f64 = 400.0;

/// Cold starts measured (the median is reported).
const STARTS: usize = 5;

/// Starts `parkbridge serve` on `instance`'s (already migrated) data directory `STARTS` times,
/// each timed from the spawn to the first `200` from `/healthz`; the last one is left idle for
/// 3 s and its resident memory read. Returns the report rows.
pub async fn run(binary: &Path, instance: &Instance) -> Result<Vec<Row>, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let mut starts = Vec::with_capacity(STARTS);
    let mut idle_rss_kib = None;
    for i in 0..STARTS {
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}/healthz");
        let spawned = Instant::now();
        let mut child = spawn_serve(
            binary,
            port,
            instance.data_dir(),
            &instance.data_dir().join("no-frontend"),
        )?;
        let ready = loop {
            if matches!(client.get(&url).send().await, Ok(r) if r.status().is_success()) {
                break Some(spawned.elapsed());
            }
            if spawned.elapsed() > Duration::from_secs(30) {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        if i + 1 == STARTS && ready.is_some() {
            tokio::time::sleep(Duration::from_secs(3)).await;
            idle_rss_kib = super::current_rss_kib(child.id());
        }
        let _ = child.kill();
        let _ = child.wait();
        starts.push(ready.ok_or("parkbridge serve never answered /healthz within 30 s")?);
    }
    starts.sort_unstable();
    let median = starts[STARTS / 2];
    let mut rows = vec![Row::target(
        "Cold start to the first 200 from /healthz (median of 5)",
        format!("{} (slowest {})", ms(median), ms(starts[STARTS - 1])),
        "≤ 1 s",
        median <= COLD_START_TARGET,
    )];
    if let Some(kib) = idle_rss_kib {
        let mib = kib as f64 / 1024.0;
        rows.push(Row::target(
            "Server RSS, idle (3 s after start)",
            format!("{mib:.1} MiB"),
            "≤ 50 MB",
            mib <= IDLE_RSS_TARGET_MIB,
        ));
    }
    Ok(rows)
}

/// The wasm bundle in `dist` (Trunk's output), raw and gzip-compressed at the default level.
pub fn wasm_rows(dist: &Path) -> Result<Vec<Row>, String> {
    let wasm = std::fs::read_dir(dist)
        .map_err(|e| format!("cannot read {}: {e}", dist.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "wasm"))
        .ok_or_else(|| format!("no .wasm in {}", dist.display()))?;
    let bytes = std::fs::read(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).map_err(|e| format!("gzip: {e}"))?;
    let gzipped = gz.finish().map_err(|e| format!("gzip: {e}"))?;
    let kib = |n: usize| n as f64 / 1024.0;
    Ok(vec![Row::target(
        "Admin UI wasm bundle",
        format!(
            "{:.0} KiB gzip ({:.0} KiB raw)",
            kib(gzipped.len()),
            kib(bytes.len())
        ),
        "≤ 400 KB gzip",
        kib(gzipped.len()) <= WASM_GZIP_TARGET_KIB,
    )])
}

/// A free loopback port, released just before a server binds it.
pub(super) fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// `parkbridge serve` on `port` over `data_dir`, quiet (errors only, no output kept).
pub(super) fn spawn_serve(
    binary: &Path,
    port: u16,
    data_dir: &Path,
    static_dir: &Path,
) -> Result<std::process::Child, String> {
    Command::new(binary)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .arg("--static-dir")
        .arg(static_dir)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))
}
