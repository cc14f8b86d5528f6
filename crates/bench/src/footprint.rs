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
/// Target: the wasm the first render downloads, gzip, bytes (400 KB).
pub const WASM_GZIP_TARGET_BYTES: usize = 400_000;

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

/// The admin UI's wasm in `dist` (Trunk's output), gzip-compressed at the default level as a
/// server would send it: the main module (all the first render downloads, against the target),
/// then the page groups fetched on first visit and the chunks they share, for context.
pub fn wasm_rows(dist: &Path) -> Result<Vec<Row>, String> {
    let main = wasm_files(dist)?
        .into_iter()
        .next()
        .ok_or_else(|| format!("no .wasm in {}", dist.display()))?;
    let (main_raw, main_gz) = sizes(&main)?;
    let mut rows = vec![Row::target(
        "Admin UI wasm, first download (main module)",
        format!(
            "{:.0} KiB gzip ({:.0} KiB raw)",
            kib(main_gz),
            kib(main_raw)
        ),
        "≤ 400 KB gzip",
        main_gz <= WASM_GZIP_TARGET_BYTES,
    )];
    let mut groups = Vec::new();
    let (mut shared_n, mut shared_gz, mut all_gz) = (0, 0, main_gz);
    for file in wasm_files(&dist.join("wasm-split"))? {
        let (_, gz) = sizes(&file)?;
        all_gz += gz;
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        // `split_<group>_pages`: one per lazily loaded group; `chunk_<n>`: shared code.
        match name
            .strip_prefix("split_")
            .and_then(|n| n.split_once("_pages"))
        {
            Some((group, _)) => groups.push(format!("{group} {:.0}", kib(gz))),
            None => {
                shared_n += 1;
                shared_gz += gz;
            }
        }
    }
    if !groups.is_empty() {
        rows.push(Row::info(
            "Admin UI wasm, page groups fetched on first visit",
            format!(
                "KiB gzip: {}; {shared_n} shared chunks {:.0}; all files {:.0}",
                groups.join(", "),
                kib(shared_gz),
                kib(all_gz)
            ),
        ));
    }
    Ok(rows)
}

/// The `.wasm` files directly in `dir`, by name; none when `dir` does not exist.
fn wasm_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    files.sort();
    Ok(files)
}

/// Raw and gzip (default level) sizes of `file`, in bytes.
fn sizes(file: &Path) -> Result<(usize, usize), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).map_err(|e| format!("gzip: {e}"))?;
    let gzipped = gz.finish().map_err(|e| format!("gzip: {e}"))?;
    Ok((bytes.len(), gzipped.len()))
}

fn kib(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
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
