//! `pb-bench`: ParkBridge's speed targets measured against the real binary and the sandboxes.
//!
//! One run starts the sandbox in-process, prepares a fresh data directory through the CLI and
//! the admin API, and then runs three scenarios, each on its own `parkbridge serve` (the coupon
//! wait is a start-up setting):
//!
//! - **added latency**: sequential event coupons with the default wait (the answer carries the
//!   delivered outcome), against the same calls made straight to the sandbox;
//! - **throughput**: many events over many connections with a zero wait (202 at once), timed
//!   until the sandbox has issued every coupon, with a check that each event got exactly one;
//! - **VIP**: a records CSV imported through the admin API, the incremental upload of its
//!   recharges to the sandbox, then a full sync of them all (see [`vip`]);
//! - **Mallcoo**: GetParkingPaymentInfo over 1M closed + 10k open sessions next to a bare axum
//!   endpoint measured by the same load tool, and PayParkingFee payments/s (see [`mallcoo`]).
//!
//! A missed target is a finding, written in the report; only a run that could not measure
//! returns an error.
#![deny(missing_docs)]

pub mod bare;
pub mod first_render;
pub mod footprint;
pub mod latency;
pub mod mallcoo;
pub mod report;
pub mod server;
pub mod throughput;
pub mod vip;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use report::{Report, Row, ms, ms_diff};
use sandbox::pyun::PyunSandbox;
use server::{API_TYPE, APP_ID, APP_SECRET, Instance, PARK_UUID};
use throughput::rate;

/// Target: gateway p99 minus direct p99.
pub const ADDED_P99_TARGET_MS: f64 = 2.0;
/// Target: events per second, accepted and delivered.
pub const THROUGHPUT_TARGET: f64 = 1_000.0;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `parkbridge` binary to measure.
    pub parkbridge: PathBuf,
    /// Sequential calls counted per kind in the latency scenario.
    pub calls: usize,
    /// Calls of each kind made (and not counted) before.
    pub warmup: usize,
    /// Events fired in the throughput scenario.
    pub events: usize,
    /// Connections firing them.
    pub concurrency: usize,
    /// Rows of the VIP records CSV.
    pub vip_rows: usize,
    /// The built admin UI (`frontend/dist`), whose wasm bundle is measured; `None`: not measured.
    pub dist: Option<PathBuf>,
    /// Whether these are the quick sizes (for the report's heading).
    pub quick: bool,
    /// Sizes of the Mallcoo scenario.
    pub mallcoo: mallcoo::Sizes,
    /// Run the Mallcoo scenario alone (no P云 scenarios).
    pub mallcoo_only: bool,
}

impl Options {
    /// The sizes of a full (`quick == false`) or quick run.
    pub fn new(parkbridge: PathBuf, quick: bool) -> Options {
        Options {
            parkbridge,
            calls: if quick { 1_000 } else { 5_000 },
            warmup: 200,
            events: if quick { 2_000 } else { 20_000 },
            concurrency: 64,
            vip_rows: if quick { 10_000 } else { 100_000 },
            dist: None,
            quick,
            mallcoo: mallcoo::Sizes {
                closed: if quick { 100_000 } else { 1_000_000 },
                open: if quick { 2_000 } else { 10_000 },
                requests: if quick { 20_000 } else { 100_000 },
                concurrency: 64,
            },
            mallcoo_only: false,
        }
    }
}

/// Runs the scenarios and builds the report.
pub async fn run(opts: &Options) -> Result<Report, String> {
    let sandbox = PyunSandbox::new();
    sandbox.add_app(APP_ID, APP_SECRET);
    sandbox.add_api_type(API_TYPE);
    sandbox.set_any_plate_parked(true);
    // Every run uses a few thousand plates many times over; the limit must never refuse one.
    sandbox.set_plate_limit(u32::MAX);
    sandbox.add_vip_park(PARK_UUID, APP_ID);
    let running = sandbox
        .start(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0))
        .await
        .map_err(|e| format!("cannot start the P云 sandbox: {e}"))?;
    let instance = Instance::create(&opts.parkbridge, &running.base_url).await?;
    // Other work on the machine shapes every figure here; the report says how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    if opts.mallcoo_only {
        let rows = mallcoo::run(&instance, opts.mallcoo).await?;
        return Ok(Report {
            context: vec![
                mallcoo_context(opts),
                format!("1-minute load average when the run started: {load}"),
            ],
            rows,
            server_metrics: Vec::new(),
        });
    }

    // Before anything else, on the fresh (migrated, empty) data directory.
    eprintln!("pb-bench: footprint (cold start, idle memory, wasm bundle)");
    let mut footprint = footprint::run(&opts.parkbridge, &instance).await?;
    match &opts.dist {
        Some(dist) => {
            footprint.extend(footprint::wasm_rows(dist)?);
            eprintln!("pb-bench: first render of the admin UI in headless Chromium");
            footprint.extend(first_render::run(&opts.parkbridge, instance.data_dir(), dist).await?);
        }
        None => footprint.push(Row::info(
            "Admin UI wasm bundle and first render",
            "not measured (no --dist)".to_owned(),
        )),
    }

    eprintln!(
        "pb-bench: latency, {} + {} warm-up calls of each kind",
        opts.calls, opts.warmup
    );
    let server = instance.start("latency", &[]).await?;
    let configured = instance.configure(&server).await?;
    let api_key = configured.api_key;
    let lat = latency::run(
        &running.base_url,
        &server.base_url,
        &api_key,
        opts.calls,
        opts.warmup,
    )
    .await
    .map_err(|e| format!("{e}\nserver log:\n{}", server.log_tail()))?;
    let mut server_metrics = vec![("latency".to_owned(), scrape(&server.base_url).await)];
    server.stop().await?;

    eprintln!(
        "pb-bench: throughput, {} events over {} connections",
        opts.events, opts.concurrency
    );
    let server = instance
        .start(
            "throughput",
            &[("PARKBRIDGE_COUPON_WAIT_MS", "0".to_owned())],
        )
        .await?;
    let cpu_before = (cpu_seconds(&server.pid().to_string()), cpu_seconds("self"));
    let tp = throughput::run(
        &sandbox,
        &server.base_url,
        &api_key,
        opts.events,
        opts.concurrency,
    )
    .await
    .map_err(|e| format!("{e}\nserver log:\n{}", server.log_tail()))?;
    let cpu = CpuUse {
        server: cpu_seconds(&server.pid().to_string())
            .zip(cpu_before.0)
            .map(|(after, before)| after - before),
        bench: cpu_seconds("self")
            .zip(cpu_before.1)
            .map(|(after, before)| after - before),
    };
    let peak_rss = peak_rss_kib(server.pid());
    server_metrics.push(("throughput".to_owned(), scrape(&server.base_url).await));
    server.stop().await?;

    eprintln!("pb-bench: VIP, {} records", opts.vip_rows);
    let server = instance.start("vip", &[]).await?;
    let admin = instance.admin(&server).await?;
    let vip = vip::run(&sandbox, &admin, &server, configured.park_id, opts.vip_rows)
        .await
        .map_err(|e| format!("{e}\nserver log:\n{}", server.log_tail()))?;
    server.stop().await?;

    let mut report = build_report(opts, &lat, &tp, peak_rss, &cpu, &load);
    report.context.push(
        "Footprint: `parkbridge serve` started 5 times on the migrated, empty data directory, \
         each timed from the spawn to the first 200 from `/healthz` (polled every 2 ms); the \
         last one's resident memory read after 3 s idle; the wasm of `--dist` gzipped at the \
         default level: the main module (what the first render downloads) against the target, \
         the lazily fetched page groups and their shared chunks beside it"
            .to_owned(),
    );
    report.rows.splice(0..0, footprint);
    report.context.push(format!(
        "VIP: a {}-row records CSV (UTF-8) previewed, then imported, through the admin API; \
         its incremental upload timed until the sandbox holds every record, then a full sync \
         until its job ends (both polled every 200 ms; default batch size); the import target \
         is the same in quick mode, the full-sync target is scaled by size",
        opts.vip_rows
    ));
    report.rows.extend(vip.rows());

    let mallcoo = mallcoo::run(&instance, opts.mallcoo).await?;
    report.context.push(mallcoo_context(opts));
    report.rows.extend(mallcoo);
    report.server_metrics = server_metrics;
    Ok(report)
}

fn mallcoo_context(opts: &Options) -> String {
    let m = &opts.mallcoo;
    format!(
        "Mallcoo: {} closed + {} open sessions seeded into SQLite; {} GetParkingPaymentInfo \
         calls (plates of open sessions) and {} calls to a bare axum JSON endpoint in a \
         process of its own (it decodes the same request and answers a quote-sized JSON), by the same load \
         tool over {} connections with the same bodies and headers, all signed before the \
         clock starts; then every open session quoted (untimed) and paid once, the payments \
         timed over {} connections",
        m.closed, m.open, m.requests, m.requests, m.concurrency, m.concurrency
    )
}

/// The server's figures for the coupon route and its P云 calls, from its `/metrics`: set
/// against the client's percentiles they show how much of a call was spent inside the server
/// and, within that, waiting for P云.
async fn scrape(base_url: &str) -> String {
    let text = match reqwest::Client::builder().no_proxy().build() {
        Ok(c) => match c.get(format!("{base_url}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(e) => return format!("(cannot read /metrics: {e})\n"),
        },
        Err(e) => return format!("(cannot read /metrics: {e})\n"),
    };
    let mut kept = String::new();
    for line in text.lines() {
        let request = line.starts_with("http_request_duration_seconds")
            && line.contains("/api/v1/coupons/events")
            && !line.contains("_bucket");
        if request || line.starts_with("parkbridge_pyun_call_duration_seconds") {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    if kept.is_empty() {
        "(no matching series in /metrics)\n".to_owned()
    } else {
        kept
    }
}

/// CPU seconds spent during the throughput run.
struct CpuUse {
    /// By the `parkbridge` process.
    server: Option<f64>,
    /// By this process: the 64 clients and the P云 sandbox.
    bench: Option<f64>,
}

/// User plus system CPU seconds of `/proc/<who>/stat` (`who` is a pid or `self`), on Linux.
fn cpu_seconds(who: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{who}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces; utime and
    // stime are fields 14 and 15 of the whole line.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on; reading sysconf would need libc.
    Some(ticks / 100.0)
}

/// The server's peak resident set (`VmHWM`) in KiB, on Linux.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// A process's resident set now (`VmRSS`) in KiB, on Linux.
fn current_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// A `kB` field of `/proc/<pid>/status`.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn build_report(
    opts: &Options,
    lat: &latency::Latency,
    tp: &throughput::Throughput,
    peak_rss: Option<u64>,
    cpu: &CpuUse,
    load: &str,
) -> Report {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let context = vec![
        format!(
            "Mode: {} ({} latency calls per kind after {} warm-up; {} throughput events over {} connections)",
            if opts.quick { "quick" } else { "full" },
            lat.calls,
            opts.warmup,
            tp.events,
            tp.concurrency
        ),
        format!(
            "Binary: `{}`; SQLite in a fresh temp dir; P云 = in-process sandbox on loopback; \
             client, gateway and sandbox share this machine's {cores} cores",
            opts.parkbridge.display()
        ),
        format!("1-minute load average when the run started: {load}"),
        "Latency: direct and gateway calls alternate on one keep-alive connection each; \
         `added` = gateway percentile − direct percentile"
            .to_owned(),
    ];
    let added_p99 = lat.gateway.p99.as_secs_f64() - lat.baseline.p99.as_secs_f64();
    let mut rows = vec![
        Row::info("Direct to P云 sandbox, p50", ms(lat.baseline.p50)),
        Row::info("Direct to P云 sandbox, p99", ms(lat.baseline.p99)),
        Row::info(
            "Through ParkBridge (wait for outcome), p50",
            ms(lat.gateway.p50),
        ),
        Row::info(
            "Through ParkBridge (wait for outcome), p99",
            ms(lat.gateway.p99),
        ),
        Row::info(
            "Added latency, p50",
            ms_diff(lat.gateway.p50, lat.baseline.p50),
        ),
        Row::target(
            "Added latency, p99",
            ms_diff(lat.gateway.p99, lat.baseline.p99),
            "≤ 2 ms",
            added_p99 * 1e3 <= ADDED_P99_TARGET_MS,
        ),
        Row::target(
            "Latency calls answered 200 `delivered`",
            format!(
                "{} of {}",
                lat.calls + opts.warmup - lat.not_delivered.0,
                lat.calls + opts.warmup
            ),
            "all",
            lat.not_delivered.0 == 0,
        ),
    ];
    let e2e_rate = tp.end_to_end.map(|d| rate(tp.events, d));
    rows.push(Row::target(
        "Throughput, accepted and delivered",
        match (e2e_rate, tp.end_to_end) {
            (Some(r), Some(d)) => format!("{r:.0} events/s ({:.2} s)", d.as_secs_f64()),
            _ => format!("stalled: {} of {} delivered", tp.coupons, tp.events),
        },
        "≥ 1,000 events/s",
        e2e_rate.is_some_and(|r| r >= THROUGHPUT_TARGET),
    ));
    rows.push(Row::info(
        "Intake (accepted, 202)",
        format!(
            "{:.0} events/s ({:.2} s)",
            rate(tp.accepted, tp.intake),
            tp.intake.as_secs_f64()
        ),
    ));
    rows.push(Row::target(
        "Events refused or failed at intake",
        match &tp.refused {
            (0, _) => "0".to_owned(),
            (n, first) => format!("{n} (first: {})", first.as_deref().unwrap_or("?")),
        },
        "0",
        tp.refused.0 == 0,
    ));
    rows.push(Row::target(
        "Coupons issued for the fired events",
        format!("{} of {}", tp.coupons, tp.events),
        "exactly one per event",
        tp.coupons == tp.events && tp.missing == 0 && tp.duplicate_coupons == 0,
    ));
    rows.push(Row::target(
        "event_id issued twice",
        tp.duplicate_coupons.to_string(),
        "0",
        tp.duplicate_coupons == 0,
    ));
    rows.push(Row::info(
        "Event calls P云 received beyond one per event",
        tp.redeliveries.to_string(),
    ));
    let per_event = |secs: f64| {
        format!(
            "{:.3} ms/event ({secs:.1} s over {} events)",
            secs * 1e3 / tp.events.max(1) as f64,
            tp.events
        )
    };
    if let Some(secs) = cpu.server {
        rows.push(Row::info("Server CPU (throughput run)", per_event(secs)));
    }
    if let Some(secs) = cpu.bench {
        rows.push(Row::info(
            "Load tool + sandbox CPU (throughput run)",
            per_event(secs),
        ));
    }
    if let Some(kib) = peak_rss {
        rows.push(Row::info(
            "Server peak RSS (throughput run)",
            format!("{:.1} MiB", kib as f64 / 1024.0),
        ));
    }
    if let (n @ 1.., Some(first)) = (lat.not_delivered.0, &lat.not_delivered.1) {
        rows.push(Row::info(
            "First latency call not delivered",
            format!("{n} such; first: {first}"),
        ));
    }
    Report {
        context,
        rows,
        server_metrics: Vec::new(),
    }
}
