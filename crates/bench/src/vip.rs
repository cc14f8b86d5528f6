//! VIP: a records CSV of `rows` rows imported through the admin API (preview, then confirm),
//! the incremental upload of the recharges it queued, and then a full sync of them all, each
//! timed until the P云 sandbox holds the records.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use super::report::Row;
use super::server::{PARK_NAME, PARK_UUID, Server};
use super::throughput::rate;
use sandbox::pyun::{Endpoint, PyunSandbox};

/// Target: seconds for the confirmed import of 100,000 rows (any size is held to it).
pub const IMPORT_TARGET_S: f64 = 10.0;
/// Target: seconds for a full sync of 100,000 recharges; smaller runs scale it by their size.
pub const FULL_SYNC_TARGET_S: f64 = 60.0;
/// The size the full-sync target is set for.
pub const FULL_SYNC_TARGET_ROWS: usize = 100_000;

/// The records CSV header, in the contract's column order.
pub const CSV_HEADER: &str = "车牌号,车牌颜色,卡号,收费类型,VIP类型,开始时间,结束时间,支付单号,数量,支付方式,金额(元),支付时间,操作员";

/// How often the sandbox and the progress route are read.
const POLL: Duration = Duration::from_millis(200);
/// Uploading is given up as stuck after this long without progress.
const STALL: Duration = Duration::from_secs(60);
/// Serial characters of an ordinary plate: digits, then letters without I and O (base 34).
const SERIAL: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// What the VIP scenario measured.
#[derive(Debug, Clone)]
pub struct Vip {
    /// Rows in the CSV.
    pub rows: usize,
    /// The preview call (`confirm=false`) and what it answered.
    pub preview: (Duration, ImportAnswer),
    /// The import call (`confirm=true`) and what it answered.
    pub import: (Duration, ImportAnswer),
    /// From the import's answer until the sandbox held `rows` records; `None` when it stalled.
    pub incremental: Option<Duration>,
    /// Records the sandbox held when the incremental upload ended or stalled.
    pub incremental_records: usize,
    /// The full sync.
    pub full_sync: FullSync,
    /// The server's peak resident set, KiB.
    pub peak_rss_kib: Option<u64>,
}

/// The parts of an `ImportReport` the scenario checks.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportAnswer {
    /// Data lines read.
    pub data_lines: u64,
    /// Valid rows.
    pub valid: u64,
    /// Row errors.
    pub errors: Vec<Value>,
    /// Whether anything was written.
    pub written: bool,
    /// Rows written.
    pub created: u64,
}

/// A full sync as the progress route and the sandbox saw it.
#[derive(Debug, Clone)]
pub struct FullSync {
    /// From the start call until the job left `running`; `None` when it stalled.
    pub elapsed: Option<Duration>,
    /// The job's last progress.
    pub job: JobProgress,
    /// Records the sandbox held afterwards.
    pub records: usize,
    /// VIP calls the sandbox received after the start.
    pub calls: usize,
    /// Positions (0-based) among those calls of the bodies with `complete = 1`.
    pub complete_at: Vec<usize>,
}

/// The parts of the progress route's `job` the scenario reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobProgress {
    /// `running`, `done` or `failed`.
    pub state: String,
    /// Batches accepted by P云.
    pub batches_done: i64,
    /// Batches in the job.
    pub batches_total: i64,
    /// Recharges in accepted batches.
    pub rows_done: i64,
    /// Recharges in the job.
    pub rows_total: i64,
    /// The server's own rate.
    pub rows_per_s: f64,
    /// Batches that did not get through.
    pub errors: Vec<Value>,
}

/// Imports `rows` records into car park `park_id` on `server`, then waits for their upload and
/// runs a full sync; `sandbox` must know [`PARK_UUID`].
pub async fn run(
    sandbox: &PyunSandbox,
    admin: &reqwest::Client,
    server: &Server,
    park_id: i64,
    rows: usize,
) -> Result<Vip, String> {
    let csv = records_csv(rows).into_bytes();
    let import_url = |confirm: bool| {
        format!(
            "{}/api/v1/parks/{park_id}/vip/import?encoding=utf-8&confirm={confirm}",
            server.base_url
        )
    };
    let preview = timed_import(admin, &import_url(false), csv.clone()).await?;
    let import = timed_import(admin, &import_url(true), csv).await?;
    let imported_at = Instant::now();

    let (uploaded, incremental_records) = wait_for_records(sandbox, rows).await;
    let incremental = uploaded.map(|at| at.duration_since(imported_at));

    let full_sync = full_sync(sandbox, admin, server, park_id).await?;
    Ok(Vip {
        rows,
        preview,
        import,
        incremental,
        incremental_records,
        full_sync,
        peak_rss_kib: super::peak_rss_kib(server.pid()),
    })
}

/// A records CSV of `rows` rows: unique plates and 支付单号, three monthly cards to one yearly.
pub fn records_csv(rows: usize) -> String {
    let mut csv = String::with_capacity(64 + rows * 110);
    csv.push_str(CSV_HEADER);
    csv.push('\n');
    for i in 0..rows {
        let (vip_type, charge_type, end, yuan) = if i % 4 == 3 {
            ("年卡", "年租", "2026-12-31", 3000)
        } else {
            ("月卡", "月租", "2026-01-31", 300)
        };
        let _ = writeln!(
            csv,
            "{},蓝,,{charge_type},{vip_type},2026-01-01,{end},PB{i:08},1,线上,{yuan},2026-01-01 09:30:00,压测",
            plate(i)
        );
    }
    csv
}

/// `粤B` and the row number in base 34 as five serial characters (unique below 34⁵ rows).
pub fn plate(i: usize) -> String {
    let mut serial = [b'0'; 5];
    let mut n = i;
    for c in serial.iter_mut().rev() {
        *c = SERIAL[n % SERIAL.len()];
        n /= SERIAL.len();
    }
    format!("粤B{}", String::from_utf8_lossy(&serial))
}

/// Posts the CSV to the import route; returns the call's duration and its answer.
async fn timed_import(
    admin: &reqwest::Client,
    url: &str,
    csv: Vec<u8>,
) -> Result<(Duration, ImportAnswer), String> {
    let started = Instant::now();
    let resp = admin
        .post(url)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| format!("{url}: {e}"))?;
    let elapsed = started.elapsed();
    if !status.is_success() {
        return Err(format!("POST {url}: {status}: {}", excerpt(&text)));
    }
    let answer = serde_json::from_str(&text)
        .map_err(|e| format!("POST {url}: unexpected answer ({e}): {}", excerpt(&text)))?;
    Ok((elapsed, answer))
}

/// Waits until the sandbox holds `rows` records for [`PARK_UUID`]: when it did (`None` after
/// [`STALL`] without a new record) and how many it held.
async fn wait_for_records(sandbox: &PyunSandbox, rows: usize) -> (Option<Instant>, usize) {
    let mut seen = 0;
    let mut last_progress = Instant::now();
    loop {
        let now = sandbox.vip_count(PARK_UUID);
        if now >= rows {
            return (Some(Instant::now()), now);
        }
        if now > seen {
            seen = now;
            last_progress = Instant::now();
        } else if last_progress.elapsed() > STALL {
            return (None, now);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Starts a full sync as the admin and follows its progress until it leaves `running`.
async fn full_sync(
    sandbox: &PyunSandbox,
    admin: &reqwest::Client,
    server: &Server,
    park_id: i64,
) -> Result<FullSync, String> {
    let calls_before = vip_bodies(sandbox).len();
    let start_url = format!("{}/api/v1/parks/{park_id}/vip-sync", server.base_url);
    let progress_url = format!("{}/api/v1/vip-sync/{park_id}", server.base_url);
    let started = Instant::now();
    send_json(
        admin
            .post(&start_url)
            .json(&json!({ "confirm_name": PARK_NAME })),
    )
    .await?;
    let mut job = JobProgress::default();
    let mut last_progress = Instant::now();
    let elapsed = loop {
        tokio::time::sleep(POLL).await;
        let progress = send_json(admin.get(&progress_url)).await?;
        let now: JobProgress = serde_json::from_value(progress["job"].clone())
            .map_err(|e| format!("GET {progress_url}: no job in {progress} ({e})"))?;
        if now.state != "running" {
            job = now;
            break Some(started.elapsed());
        }
        if now.rows_done > job.rows_done {
            last_progress = Instant::now();
        }
        job = now;
        if last_progress.elapsed() > STALL {
            break None;
        }
    };
    let bodies = vip_bodies(sandbox);
    let after_start = bodies.get(calls_before..).unwrap_or_default();
    Ok(FullSync {
        elapsed,
        job,
        records: sandbox.vip_count(PARK_UUID),
        calls: after_start.len(),
        complete_at: after_start
            .iter()
            .enumerate()
            .filter(|(_, body)| is_complete(body))
            .map(|(i, _)| i)
            .collect(),
    })
}

/// The bodies of the VIP recharge calls the sandbox received, in arrival order.
fn vip_bodies(sandbox: &PyunSandbox) -> Vec<String> {
    sandbox
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::VipRecharge)
        .map(|r| r.body)
        .collect()
}

/// Whether a VIP recharge body carries `"complete": 1` (P云 wipes the records first).
fn is_complete(body: &str) -> bool {
    #[derive(Deserialize)]
    struct Flag {
        #[serde(default)]
        complete: Value,
    }
    serde_json::from_str::<Flag>(body).is_ok_and(|f| f.complete == 1)
}

/// Sends an admin call that must succeed; returns its JSON body.
async fn send_json(req: reqwest::RequestBuilder) -> Result<Value, String> {
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let (status, url) = (resp.status(), resp.url().to_string());
    let text = resp.text().await.map_err(|e| format!("{url}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{url}: {status}: {}", excerpt(&text)));
    }
    serde_json::from_str(&text).map_err(|e| format!("{url}: not JSON ({e}): {}", excerpt(&text)))
}

/// The first 500 characters of an answer, for an error message.
fn excerpt(text: &str) -> String {
    text.chars().take(500).collect()
}

/// Seconds with two decimals and the rate they mean, e.g. `4.21 s (23,753 rows/s)`.
fn secs_and_rate(rows: usize, d: Duration) -> String {
    format!("{:.2} s ({:.0} rows/s)", d.as_secs_f64(), rate(rows, d))
}

impl Vip {
    /// The scenario's lines of the report.
    pub fn rows(&self) -> Vec<Row> {
        let n = self.rows;
        let (preview_time, preview) = &self.preview;
        let (import_time, import) = &self.import;
        let mut out = vec![
            Row::info(
                &format!("VIP import preview of {n} rows (confirm=false)"),
                secs_and_rate(n, *preview_time),
            ),
            Row::target(
                &format!("VIP import of {n} rows (SQLite)"),
                secs_and_rate(n, *import_time),
                "≤ 10 s",
                import_time.as_secs_f64() <= IMPORT_TARGET_S,
            ),
            Row::target(
                "VIP preview and import answers",
                format!(
                    "preview {} valid of {}, {} errors, written {}; import created {}, {} errors",
                    preview.valid,
                    preview.data_lines,
                    preview.errors.len(),
                    preview.written,
                    import.created,
                    import.errors.len()
                ),
                &format!("{n} valid, nothing written; {n} created, 0 errors"),
                preview.valid == n as u64
                    && preview.errors.is_empty()
                    && !preview.written
                    && import.created == n as u64
                    && import.errors.is_empty(),
            ),
            Row::info(
                &format!("VIP incremental upload of {n} recharges"),
                match self.incremental {
                    Some(d) => secs_and_rate(n, d),
                    None => format!(
                        "stalled: {} of {n} records at P云",
                        self.incremental_records
                    ),
                },
            ),
        ];
        let fs = &self.full_sync;
        let target_s = FULL_SYNC_TARGET_S * n as f64 / FULL_SYNC_TARGET_ROWS as f64;
        let target = if n == FULL_SYNC_TARGET_ROWS {
            format!("≤ {FULL_SYNC_TARGET_S:.0} s")
        } else {
            format!("≤ {target_s:.1} s (60 s per 100,000 rows, scaled)")
        };
        out.push(Row::target(
            &format!("VIP full sync of {n} recharges"),
            match fs.elapsed {
                Some(d) => format!("{} — job {}", secs_and_rate(n, d), fs.job.state),
                None => format!(
                    "stalled: {} of {} rows done",
                    fs.job.rows_done, fs.job.rows_total
                ),
            },
            &target,
            fs.job.state == "done" && fs.elapsed.is_some_and(|d| d.as_secs_f64() <= target_s),
        ));
        let complete_first_only = fs.complete_at == [0];
        out.push(Row::target(
            "VIP full sync result",
            format!(
                "{}; {} of {} rows done ({} of {} batches, {} errors); P云 holds {} records; \
                 `complete=1` at calls {:?} of {}",
                fs.job.state,
                fs.job.rows_done,
                fs.job.rows_total,
                fs.job.batches_done,
                fs.job.batches_total,
                fs.job.errors.len(),
                fs.records,
                fs.complete_at,
                fs.calls
            ),
            &format!("done; {n} rows; {n} records; `complete=1` on the first call only"),
            fs.job.state == "done"
                && fs.job.rows_done == n as i64
                && fs.records == n
                && complete_first_only,
        ));
        if let Some(first) = fs.job.errors.first() {
            out.push(Row::info(
                "VIP full sync, first batch error",
                first.to_string(),
            ));
        }
        out.push(Row::info(
            "VIP full sync, server's own rate",
            format!("{:.0} rows/s", fs.job.rows_per_s),
        ));
        if let Some(kib) = self.peak_rss_kib {
            out.push(Row::info(
                "Server peak RSS (VIP run)",
                format!("{:.1} MiB", kib as f64 / 1024.0),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use protocol::plate::Plate;

    use super::*;

    #[test]
    fn plates_are_valid_and_unique() {
        assert_eq!(plate(0), "粤B00000");
        assert_eq!(plate(34), "粤B00010");
        assert_eq!(plate(33), "粤B0000Z");
        let plates: HashSet<String> = (0..100_000).step_by(7).map(plate).collect();
        assert_eq!(plates.len(), (0..100_000).step_by(7).count());
        for p in &plates {
            assert_eq!(Plate::parse(p).map(Plate::into_string).as_ref(), Ok(p));
        }
    }

    #[test]
    fn csv_has_the_header_and_unique_rows() {
        let csv = records_csv(1_000);
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some(CSV_HEADER));
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 1_000);
        assert!(rows.iter().all(|r| r.len() == 13));
        let partners: HashSet<&str> = rows.iter().map(|r| r[7]).collect();
        assert_eq!(partners.len(), 1_000);
        assert!(rows.iter().any(|r| r[4] == "年卡") && rows.iter().any(|r| r[4] == "月卡"));
    }

    #[test]
    fn complete_flag_is_read_from_the_json() {
        assert!(is_complete(r#"{"park_uuid":"p","complete":1,"row":[]}"#));
        assert!(!is_complete(r#"{"park_uuid":"p","complete":0,"row":[]}"#));
        assert!(!is_complete("not json"));
    }
}
