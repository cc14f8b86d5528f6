//! Mallcoo V1.4 inbound under load: GetParkingPaymentInfo (the hot path) and PayParkingFee
//! against `parkbridge serve` on a SQLite database holding 1M closed and 10k open sessions.
//!
//! The sessions are written straight into the stopped server's database with multi-row
//! INSERTs (`?` placeholders: sqlx's `$n` on SQLite is quadratic in a statement's size), after
//! the car park, its Mallcoo `parkId` and its inbound key pair were set up through the admin
//! API. The same load tool ([`load`]: `concurrency` tasks over keep-alive connections) then
//! measures a bare axum JSON endpoint served from this process and the fee query, in the same
//! run, so the ratio says what the gateway costs on this machine at this moment. Payments are
//! timed on their own: each open session is quoted first (untimed), then all are paid at once.
//! A second set of open sessions carries three discounts each (PROTOCOLS.md §5.1: `minutes`,
//! `percent`, `amount`), and the fee query over them is measured in the same run, interleaved
//! with the set without, so the ratio says what a stay's discounts cost the hot path. The car
//! park is on P云 car-park access too: P云's `payment.billing` over the same stays is measured
//! against the same bare endpoint.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use protocol::mallcoo::{MallcooKeys, sign_headers};
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Executor};

use super::bare::BareServer;
use super::report::{Percentiles, Row, ms};
use super::server::{Instance, Server, call};
use super::throughput::rate;

/// Target: fee-query throughput as a share of the bare axum endpoint's.
pub const RATIO_TARGET: f64 = 0.5;
/// Target: fee-query p99.
pub const P99_TARGET: Duration = Duration::from_millis(5);
/// Target: recorded payments per second.
pub const PAYMENTS_TARGET: f64 = 2_000.0;
/// Target: fee-query throughput over stays with three discounts as a share of that without.
pub const DISCOUNTED_RATIO_TARGET: f64 = 0.9;

/// Mallcoo's `parkId` of the bench car park.
const MALLCOO_PARK_ID: &str = "BENCH-MC";
/// P云's `park_uuid` of the bench car park (on P云 car-park access too).
const PYUN_PARK_UUID: &str = "bench-pyun-park";
/// The bench car park's P云 downlink key.
const PYUN_DOWNLINK_KEY: &str = "bench-downlink-key";
/// Target: P云 billing throughput as a share of the bare axum endpoint's.
pub const BILLING_RATIO_TARGET: f64 = 0.5;
/// Rows per INSERT while seeding (11 columns: 5,500 parameters, under SQLite's 32,766).
const SEED_CHUNK: usize = 500;

/// Sizes of the Mallcoo scenario.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Closed sessions seeded (history).
    pub closed: usize,
    /// Open sessions seeded (cars inside), each quoted and then paid once.
    pub open: usize,
    /// Requests of each kind in the throughput comparison.
    pub requests: usize,
    /// Concurrent connections.
    pub concurrency: usize,
}

/// Plate of open session `i` (distinct for i < 100,000).
fn open_plate(i: usize) -> String {
    format!("沪D{:05}", i % 100_000)
}

/// Plate of discounted open session `i` (distinct for i < 100,000).
fn discounted_plate(i: usize) -> String {
    format!("沪E{:05}", i % 100_000)
}

/// The key pair issued for the bench car park.
struct Keys {
    app_id: String,
    public_key: String,
    private_key: String,
}

impl Keys {
    fn keys(&self) -> MallcooKeys<'_> {
        MallcooKeys {
            app_id: &self.app_id,
            public_key: &self.public_key,
            private_key: &self.private_key,
        }
    }
}

/// Runs the scenario on `instance` (whose servers must be stopped) and returns its report rows.
pub async fn run(instance: &Instance, sizes: Sizes) -> Result<Vec<Row>, String> {
    let server = instance.start("mallcoo-setup", &[]).await?;
    let (park_id, keys) = set_up(instance, &server).await?;
    server.stop().await?;

    eprintln!(
        "pb-bench: Mallcoo, seeding {} closed + {} open sessions",
        sizes.closed, sizes.open
    );
    let seeded = Instant::now();
    seed(&instance.database_path(), park_id, sizes).await?;
    let seed_time = seeded.elapsed();

    let server = instance.start("mallcoo", &[]).await?;
    let mut result = measure(&server, &keys, sizes).await;
    if let Ok(rows) = &mut result {
        match history_reads(instance, &server, &keys, park_id).await {
            Ok(more) => rows.extend(more),
            Err(e) => result = Err(e),
        }
    }
    let log = server.log_tail();
    server.stop().await?;
    let mut rows = result.map_err(|e| format!("{e}\nserver log:\n{log}"))?;
    rows.insert(
        0,
        Row::info(
            "Mallcoo: seeding the sessions (direct multi-row INSERTs)",
            format!(
                "{} closed + {} open in {:.1} s",
                sizes.closed,
                sizes.open,
                seed_time.as_secs_f64()
            ),
        ),
    );
    Ok(rows)
}

/// A Mallcoo car park with an issued inbound key pair, through the admin API.
async fn set_up(instance: &Instance, server: &Server) -> Result<(i64, Keys), String> {
    let admin = instance.admin(server).await?;
    let api = |path: &str| format!("{}{path}", server.base_url);
    let created = call(
        &admin,
        reqwest::Method::POST,
        &api("/api/v1/credentials"),
        json!({"name": "bench mallcoo inbound", "kind": "mallcoo_inbound"}),
    )
    .await?;
    let credential = created["credential"]["id"]
        .as_i64()
        .ok_or_else(|| format!("credential id missing in {created}"))?;
    let issued = &created["issued"];
    let text = |k: &str| {
        issued[k]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{k} missing in the issued keys"))
    };
    let keys = Keys {
        app_id: text("app_id")?,
        public_key: text("public_key")?,
        private_key: text("private_key")?,
    };
    let carpark = call(
        &admin,
        reqwest::Method::POST,
        &api("/api/v1/credentials"),
        json!({"name": "bench pyun carpark", "kind": "pyun_carpark",
               "upload_secret": "bench-upload-secret", "downlink_key": PYUN_DOWNLINK_KEY}),
    )
    .await?;
    let park = call(
        &admin,
        reqwest::Method::POST,
        &api("/api/v1/parks"),
        json!({
            "code": "bench-mallcoo", "name": "猫酷压测停车场",
            "mallcoo_park_id": MALLCOO_PARK_ID, "mallcoo_in_credential_id": credential,
            "pyun_park_uuid": PYUN_PARK_UUID,
            "pyun_carpark_credential_id": carpark["credential"]["id"],
        }),
    )
    .await?;
    let park_id = park["id"]
        .as_i64()
        .ok_or_else(|| format!("park id missing in {park}"))?;
    Ok((park_id, keys))
}

/// Writes the sessions into the stopped server's SQLite file in one transaction.
async fn seed(db: &Path, park_id: i64, sizes: Sizes) -> Result<(), String> {
    let options = SqliteConnectOptions::new()
        .filename(db)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    let pool: SqlitePool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| format!("cannot open {}: {e}", db.display()))?;
    let now = Utc::now().timestamp_millis();
    let minute = 60_000i64;
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    let columns = "INSERT INTO parking_sessions (park_id, plate, plate_color, barcode, entry_at, \
                   entry_gate, exit_at, exit_gate, state, fee_due_fen, vip, created_at, updated_at) VALUES ";
    // Closed history, then the open sessions, then as many open sessions with discounts.
    let total = sizes.closed + 2 * sizes.open;
    let mut start = 0;
    while start < total {
        let end = (start + SEED_CHUNK).min(total);
        let mut sql = String::with_capacity(columns.len() + (end - start) * 32);
        sql.push_str(columns);
        for i in start..end {
            if i > start {
                sql.push(',');
            }
            sql.push_str("(?, ?, 1, NULL, ?, 'bench', ?, ?, ?, ?, 0, ?, ?)");
        }
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for i in start..end {
            if i < sizes.closed {
                // History over the last year: stays of 20 min to 5 h.
                let entry = now - 365 * 24 * 60 * minute + (i as i64 % 525_000) * minute;
                let exit = entry + (20 + (i as i64 % 280)) * minute;
                q = q
                    .bind(park_id)
                    .bind(format!("沪C{:05}", i % 100_000))
                    .bind(entry)
                    .bind(Some(exit))
                    .bind(Some("bench"))
                    .bind("closed")
                    .bind(Some(1000i64))
                    .bind(exit)
                    .bind(exit);
            } else {
                let j = (i - sizes.closed) % sizes.open.max(1);
                let plate = if i - sizes.closed < sizes.open {
                    open_plate(j)
                } else {
                    discounted_plate(j)
                };
                // Inside for 30 min to 10 h.
                let entry = now - (30 + (j as i64 % 570)) * minute;
                q = q
                    .bind(park_id)
                    .bind(plate)
                    .bind(entry)
                    .bind(None::<i64>)
                    .bind(None::<&str>)
                    .bind("open")
                    .bind(None::<i64>)
                    .bind(entry)
                    .bind(entry);
            }
        }
        tx.execute(q)
            .await
            .map_err(|e| format!("seeding sessions: {e}"))?;
        start = end;
    }
    seed_discounts(&mut tx, park_id, now).await?;
    tx.commit().await.map_err(|e| e.to_string())?;
    // No ANALYZE: ParkBridge never runs one, so a real database has no planner statistics
    // (and with SQLite's STAT4 statistics a statement is re-planned for every new plate bound
    // to it, which the server's databases never pay).
    pool.execute("PRAGMA wal_checkpoint(TRUNCATE);")
        .await
        .map_err(|e| format!("checkpoint: {e}"))?;
    pool.close().await;
    Ok(())
}

/// Three active discounts (`minutes` 30, `percent` 100, `amount` 100) on every open session of
/// the discounted plates, as the discount API records them.
async fn seed_discounts(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    park_id: i64,
    now: i64,
) -> Result<(), String> {
    let sessions: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, plate FROM parking_sessions WHERE park_id = ? AND state = 'open' \
         AND plate LIKE '沪E%'",
    )
    .bind(park_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(|e| format!("reading the discounted sessions: {e}"))?;
    let kinds = [("minutes", 30i64), ("percent", 100), ("amount", 100)];
    for chunk in sessions.chunks(SEED_CHUNK / 2) {
        let mut sql = String::from(
            "INSERT INTO parking_discounts (park_id, session_id, plate, source, source_key, kind, \
             value, label, created_by, state, granted_at, request_digest, created_at, updated_at) \
             VALUES ",
        );
        let rows = chunk.len() * kinds.len();
        for r in 0..rows {
            if r > 0 {
                sql.push(',');
            }
            sql.push_str(
                "(?, ?, ?, 'api', ?, ?, ?, '商户减免', 'bench', 'active', ?, 'bench', ?, ?)",
            );
        }
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, plate) in chunk {
            for (kind, value) in kinds {
                q = q
                    .bind(park_id)
                    .bind(*id)
                    .bind(plate.as_str())
                    .bind(format!("bench-{id}-{kind}"))
                    .bind(kind)
                    .bind(value)
                    .bind(now)
                    .bind(now)
                    .bind(now);
            }
        }
        tx.execute(q)
            .await
            .map_err(|e| format!("seeding discounts: {e}"))?;
    }
    Ok(())
}

/// What one load run measured.
struct Load {
    ok: usize,
    failed: (usize, Option<String>),
    elapsed: Duration,
    latency: Percentiles,
}

/// Runs `work` and the CPU seconds (user + system, every thread) process `pid` spent meanwhile:
/// unlike a rate, hardly moved by what else the machine is doing.
async fn with_cpu<T>(pid: u32, work: impl std::future::Future<Output = T>) -> (T, Option<f64>) {
    let pid = pid.to_string();
    let before = super::cpu_seconds(&pid);
    let out = work.await;
    let spent = super::cpu_seconds(&pid)
        .zip(before)
        .map(|(after, before)| after - before);
    (out, spent)
}

/// CPU microseconds per call, or `n/a` off Linux.
fn micros(cpu: Option<f64>, calls: usize) -> String {
    match cpu {
        Some(s) if calls > 0 => format!("{:.0} µs", s * 1e6 / calls as f64),
        _ => "n/a".to_owned(),
    }
}

/// Sends request `i` for every `i < n` over `concurrency` tasks; `request(i)` builds it (untimed)
/// and `accept` says whether an answer counts as a success.
async fn load<B, A>(n: usize, concurrency: usize, request: B, accept: A) -> Load
where
    B: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
    A: Fn(u16, &str) -> bool + Send + Sync + 'static,
{
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("a plain HTTP client builds");
    let next = Arc::new(AtomicUsize::new(0));
    let request = Arc::new(request);
    let accept = Arc::new(accept);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, next, request, accept) = (
            client.clone(),
            next.clone(),
            request.clone(),
            accept.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut failed: (usize, Option<String>) = (0, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let req = request(&client, i);
                let t = Instant::now();
                let answer = match req.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        resp.text().await.map(|text| (status, text))
                    }
                    Err(e) => Err(e),
                };
                samples.push(t.elapsed());
                match answer {
                    Ok((status, text)) if accept(status, &text) => {}
                    Ok((status, text)) => {
                        failed.0 += 1;
                        failed.1.get_or_insert_with(|| format!("{status} {text}"));
                    }
                    Err(e) => {
                        failed.0 += 1;
                        failed.1.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            (samples, failed)
        }));
    }
    let mut samples = Vec::with_capacity(n);
    let mut failed: (usize, Option<String>) = (0, None);
    for task in tasks {
        if let Ok((s, f)) = task.await {
            samples.extend(s);
            failed.0 += f.0;
            if failed.1.is_none() {
                failed.1 = f.1;
            }
        }
    }
    let elapsed = started.elapsed();
    Load {
        ok: samples.len() - failed.0,
        failed,
        elapsed,
        latency: Percentiles::of(&mut samples),
    }
}

/// Reads over the seeded year of history, one call at a time (the staff's and Mallcoo's): they
/// must stay fast with a million sessions, which is what the indexes are for.
async fn history_reads(
    instance: &Instance,
    server: &Server,
    keys: &Keys,
    park_id: i64,
) -> Result<Vec<Row>, String> {
    let admin = instance.admin(server).await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    // A day a month ago, in Shanghai: its 00:00 and the week from it.
    let day = protocol::time::to_shanghai(Utc::now()).date_naive() - chrono::Days::new(30);
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    let (from, to) = (day.to_string(), (day + chrono::Days::new(6)).to_string());
    let traffic_body = json!({
        "parkId": MALLCOO_PARK_ID,
        "startTime": start.format("%Y-%m-%d %H:%M:%S").to_string(),
        "endTime": (start + chrono::Days::new(1)).format("%Y-%m-%d %H:%M:%S").to_string(),
    })
    .to_string();
    let traffic_url = format!("{}/mallcoo/v1/GetTraffic", server.base_url);
    let dashboard = format!(
        "{}/api/v1/parks/{park_id}/traffic?from={from}&to={to}",
        server.base_url
    );
    let plate = format!(
        "{}/api/v1/parks/{park_id}/sessions?plate=%E6%B2%AAC00042",
        server.base_url
    );
    let mut rows = Vec::new();
    let mut traffic_answer = String::new();
    let mut samples = Vec::with_capacity(200);
    for _ in 0..200 {
        let req = signed(&client, &traffic_url, &keys.keys(), traffic_body.clone());
        let t = Instant::now();
        let resp = req.send().await.map_err(|e| format!("GetTraffic: {e}"))?;
        traffic_answer = resp.text().await.map_err(|e| format!("GetTraffic: {e}"))?;
        samples.push(t.elapsed());
        if !res_code_zero(200, &traffic_answer) {
            return Err(format!("GetTraffic answered {traffic_answer}"));
        }
    }
    let p = Percentiles::of(&mut samples);
    rows.push(Row::info(
        "GetTraffic over one day of the history",
        format!("p50 {}, p99 {} ({traffic_answer})", ms(p.p50), ms(p.p99)),
    ));
    for (what, url) in [
        ("Dashboard, one week of the history", dashboard),
        ("Sessions of one plate (staff search)", plate),
    ] {
        let mut samples = Vec::with_capacity(200);
        for _ in 0..200 {
            let t = Instant::now();
            let resp = admin
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("{what}: {e}"))?;
            let status = resp.status();
            let _ = resp.bytes().await;
            samples.push(t.elapsed());
            if !status.is_success() {
                return Err(format!("{what}: {status}"));
            }
        }
        let p = Percentiles::of(&mut samples);
        rows.push(Row::info(
            what,
            format!(
                "p50 {}, p99 {} (200 sequential calls)",
                ms(p.p50),
                ms(p.p99)
            ),
        ));
    }
    Ok(rows)
}

/// A request body and its headers, built before the clock starts.
type PreparedCall = (String, Vec<(&'static str, String)>);

/// A signed Mallcoo request for `body`.
fn signed(
    client: &reqwest::Client,
    url: &str,
    keys: &MallcooKeys<'_>,
    body: String,
) -> reqwest::RequestBuilder {
    let headers = sign_headers(keys, Utc::now(), &body);
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers.pairs() {
        req = req.header(name, value);
    }
    req
}

fn res_code_zero(status: u16, text: &str) -> bool {
    status == 200 && text.contains("\"resCode\":0")
}

async fn measure(server: &Server, keys: &Keys, sizes: Sizes) -> Result<Vec<Row>, String> {
    let bare_server = BareServer::start()?;
    let query_url = Arc::new(format!(
        "{}/mallcoo/v1/GetParkingPaymentInfo",
        server.base_url
    ));
    let keys = Arc::new(Keys {
        app_id: keys.app_id.clone(),
        public_key: keys.public_key.clone(),
        private_key: keys.private_key.clone(),
    });
    let open = sizes.open.max(1);
    // Every request is built and signed before the clock starts, and the bare endpoint gets
    // the same bytes: the load tool's work per call is identical for both servers.
    let prepare = |plate: fn(usize) -> String| -> Arc<Vec<PreparedCall>> {
        Arc::new(
            (0..open)
                .map(|i| {
                    let body = json!({"parkId": MALLCOO_PARK_ID, "plateNo": plate(i),
                                      "freeMinutes": 0, "freeAmount": 0})
                    .to_string();
                    let headers = sign_headers(&keys.keys(), Utc::now(), &body);
                    let pairs = headers
                        .pairs()
                        .iter()
                        .map(|(k, v)| (*k, (*v).to_owned()))
                        .collect();
                    (body, pairs)
                })
                .collect(),
        )
    };
    let plain = prepare(open_plate);
    let discounted = prepare(discounted_plate);
    let to = |url: Arc<String>, prepared: &Arc<Vec<PreparedCall>>| {
        let prepared = prepared.clone();
        move |client: &reqwest::Client, i: usize| {
            let (body, headers) = &prepared[i % prepared.len()];
            let mut req = client
                .post(url.as_str())
                .header("content-type", "application/json")
                .body(body.clone());
            for (name, value) in headers {
                req = req.header(*name, value);
            }
            req
        }
    };
    let query = to(query_url.clone(), &plain);
    let query_discounted = to(query_url.clone(), &discounted);
    let bare = to(Arc::new(bare_server.url.clone()), &plain);
    // Warm-up of both (connections, caches, the database pages of the open sessions).
    let warm = (sizes.requests / 10).max(sizes.concurrency);
    load(warm, sizes.concurrency, bare.clone(), |s, _| s == 200).await;
    load(warm, sizes.concurrency, query.clone(), res_code_zero).await;
    load(
        warm,
        sizes.concurrency,
        query_discounted.clone(),
        res_code_zero,
    )
    .await;

    eprintln!(
        "pb-bench: Mallcoo, {} fee queries and {} bare calls over {} connections",
        sizes.requests, sizes.requests, sizes.concurrency
    );
    let (bare_run, bare_cpu) = with_cpu(
        bare_server.pid(),
        load(sizes.requests, sizes.concurrency, bare.clone(), |s, _| {
            s == 200
        }),
    )
    .await;
    let (query_run, query_cpu) = with_cpu(
        server.pid(),
        load(
            sizes.requests,
            sizes.concurrency,
            query.clone(),
            res_code_zero,
        ),
    )
    .await;
    // With and without discounts, interleaved in halves so that a slower moment of the machine
    // weighs on both alike.
    let half = (sizes.requests / 2).max(1);
    let mut plain_runs = Vec::new();
    let mut discounted_runs = Vec::new();
    for _ in 0..2 {
        plain_runs.push(load(half, sizes.concurrency, query.clone(), res_code_zero).await);
        discounted_runs.push(
            load(
                half,
                sizes.concurrency,
                query_discounted.clone(),
                res_code_zero,
            )
            .await,
        );
    }
    let combined = |runs: &[Load]| {
        let ok: usize = runs.iter().map(|r| r.ok).sum();
        let failed: usize = runs.iter().map(|r| r.failed.0).sum();
        let elapsed: Duration = runs.iter().map(|r| r.elapsed).sum();
        (rate(ok, elapsed), failed)
    };
    let (plain_rate, plain_failed) = combined(&plain_runs);
    let (discounted_rate, discounted_failed) = combined(&discounted_runs);
    let discounted_ratio = if plain_rate > 0.0 {
        discounted_rate / plain_rate
    } else {
        0.0
    };
    // Resident memory while serving fee queries over the seeded sessions (the page cache of the
    // database file is the kernel's, not the process's).
    let query_peak_kib = super::peak_rss_kib(server.pid());
    let bare_rate = rate(bare_run.ok, bare_run.elapsed);
    let query_rate = rate(query_run.ok, query_run.elapsed);
    let ratio = if bare_rate > 0.0 {
        query_rate / bare_rate
    } else {
        0.0
    };

    // P云's billing over the same stays: a first pass mints each stay's order (untimed), the
    // measured pass is what a payment flow's repeated calls cost (the order is given again).
    let billing_url = Arc::new(format!("{}/pyun/v1/gateway", server.base_url));
    let billing_calls: Arc<Vec<PreparedCall>> = Arc::new(
        (0..open)
            .map(|i| {
                let pairs = [
                    ("charset", "UTF-8".to_owned()),
                    ("park_uuid", PYUN_PARK_UUID.to_owned()),
                    ("plate", open_plate(i)),
                    ("service", "service.parking.payment.billing".to_owned()),
                    ("version", "1.0".to_owned()),
                ];
                let sign = protocol::pyun_carpark::down_sign::sign(
                    pairs.iter().map(|(k, v)| (*k, v.as_str())),
                    PYUN_DOWNLINK_KEY,
                );
                let mut body = serde_json::Map::new();
                for (k, v) in pairs {
                    body.insert(k.to_owned(), Value::String(v));
                }
                body.insert("sign".to_owned(), Value::String(sign));
                (Value::Object(body).to_string(), Vec::new())
            })
            .collect(),
    );
    let billing = to(billing_url, &billing_calls);
    let billed =
        |status: u16, text: &str| status == 200 && text.contains("\"result_code\":\"1001\"");
    eprintln!("pb-bench: P云 billing, minting {open} orders");
    let mint_run = load(open, sizes.concurrency, billing.clone(), billed).await;
    let (billing_run, billing_cpu) = with_cpu(
        server.pid(),
        load(sizes.requests, sizes.concurrency, billing.clone(), billed),
    )
    .await;
    let billing_rate = rate(billing_run.ok, billing_run.elapsed);
    // The ratio from billing and the bare endpoint interleaved in halves: measured a minute
    // apart, the bare endpoint alone was seen anywhere from 30k to 55k req/s on this machine.
    let mut bare_halves = Vec::new();
    let mut billing_halves = Vec::new();
    for _ in 0..2 {
        bare_halves.push(load(half, sizes.concurrency, bare.clone(), |s, _| s == 200).await);
        billing_halves.push(load(half, sizes.concurrency, billing.clone(), billed).await);
    }
    let (bare_beside_rate, _) = combined(&bare_halves);
    let (billing_beside_rate, billing_beside_failed) = combined(&billing_halves);
    let billing_ratio = if bare_beside_rate > 0.0 {
        billing_beside_rate / bare_beside_rate
    } else {
        0.0
    };
    let mint_rate = rate(mint_run.ok, mint_run.elapsed);

    // Payments: quote every open session (untimed), then pay them all at once.
    eprintln!("pb-bench: Mallcoo, {} payments", sizes.open);
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let mut fee_quotes = Vec::with_capacity(sizes.open);
    for i in 0..sizes.open {
        let resp = query(&client, i)
            .send()
            .await
            .map_err(|e| format!("quote {i}: {e}"))?;
        let v: Value = resp.json().await.map_err(|e| format!("quote {i}: {e}"))?;
        fee_quotes.push(v);
    }
    let fee_quotes = Arc::new(fee_quotes);
    let pay_url = Arc::new(format!("{}/mallcoo/v1/PayParkingFee", server.base_url));
    let pay = {
        let (url, keys, quotes) = (pay_url.clone(), keys.clone(), fee_quotes.clone());
        move |client: &reqwest::Client, i: usize| {
            let q = &quotes[i];
            let due = q["unPayAmount"].as_i64().unwrap_or(0);
            let body = json!({
                "parkId": MALLCOO_PARK_ID, "feeId": q["feeId"], "orderNo": format!("BENCH-{i}"),
                "thirdTradeNo": format!("WX-BENCH-{i}"), "plateNo": open_plate(i),
                "payTime": protocol::time::format_mallcoo(Utc::now()),
                "unPayAmount": due, "amount": due, "deductionAmount": 0,
                "deductionDetails": [], "payChannel": 0, "payType": if due == 0 { 0 } else { 3 },
            })
            .to_string();
            signed(client, &url, &keys.keys(), body)
        }
    };
    let pay_run = load(sizes.open, sizes.concurrency, pay, res_code_zero).await;
    let pay_rate = rate(pay_run.ok, pay_run.elapsed);

    let mut rows = vec![
        Row::info(
            "Bare axum JSON endpoint (same load tool)",
            format!(
                "{bare_rate:.0} req/s; p50 {}, p99 {}",
                ms(bare_run.latency.p50),
                ms(bare_run.latency.p99)
            ),
        ),
        Row::info(
            "GetParkingPaymentInfo throughput",
            format!(
                "{query_rate:.0} req/s ({} calls over {} connections)",
                sizes.requests, sizes.concurrency
            ),
        ),
        Row::target(
            "GetParkingPaymentInfo / bare axum",
            format!("{ratio:.2}"),
            "≥ 0.5",
            ratio >= RATIO_TARGET,
        ),
        Row::info(
            "GetParkingPaymentInfo, stays without discounts (interleaved run)",
            format!("{plain_rate:.0} req/s"),
        ),
        Row::info(
            "GetParkingPaymentInfo, stays with 3 discounts each (interleaved run)",
            format!("{discounted_rate:.0} req/s"),
        ),
        Row::target(
            "GetParkingPaymentInfo with 3 discounts / without",
            format!("{discounted_ratio:.2}"),
            "≥ 0.90",
            discounted_ratio >= DISCOUNTED_RATIO_TARGET
                && plain_failed == 0
                && discounted_failed == 0,
        ),
        Row::info("GetParkingPaymentInfo p50", ms(query_run.latency.p50)),
        Row::target(
            "GetParkingPaymentInfo p99",
            ms(query_run.latency.p99),
            "≤ 5 ms",
            query_run.latency.p99 <= P99_TARGET,
        ),
        Row::target(
            "GetParkingPaymentInfo answered resCode 0",
            format!("{} of {}", query_run.ok, sizes.requests),
            "all",
            query_run.failed.0 == 0,
        ),
        Row::info(
            "P云 payment.billing, first call of each stay (mints the order)",
            format!(
                "{mint_rate:.0} req/s ({} stays, p99 {})",
                mint_run.ok,
                ms(mint_run.latency.p99)
            ),
        ),
        Row::info(
            "P云 payment.billing throughput (order given again)",
            format!(
                "{billing_rate:.0} req/s; p50 {}, p99 {}",
                ms(billing_run.latency.p50),
                ms(billing_run.latency.p99)
            ),
        ),
        Row::info(
            "P云 payment.billing and bare axum, interleaved in halves",
            format!("{billing_beside_rate:.0} and {bare_beside_rate:.0} req/s"),
        ),
        Row::target(
            "P云 payment.billing / bare axum (interleaved)",
            format!("{billing_ratio:.2}"),
            "≥ 0.5",
            billing_ratio >= BILLING_RATIO_TARGET
                && billing_run.failed.0 == 0
                && billing_beside_failed == 0
                && mint_run.failed.0 == 0,
        ),
        Row::info(
            "Server CPU per call (user + system): bare axum, GetParkingPaymentInfo, payment.billing",
            format!(
                "{} · {} · {} (billing / fee query {})",
                micros(bare_cpu, bare_run.ok),
                micros(query_cpu, query_run.ok),
                micros(billing_cpu, billing_run.ok),
                match (query_cpu, billing_cpu) {
                    (Some(q), Some(b)) if q > 0.0 && query_run.ok > 0 && billing_run.ok > 0 =>
                        format!(
                            "{:.2}",
                            (b / billing_run.ok as f64) / (q / query_run.ok as f64)
                        ),
                    _ => "n/a".to_owned(),
                }
            ),
        ),
        Row::target(
            "PayParkingFee recorded payments/s",
            format!(
                "{pay_rate:.0}/s ({} payments, p50 {}, p99 {})",
                pay_run.ok,
                ms(pay_run.latency.p50),
                ms(pay_run.latency.p99)
            ),
            "≥ 2,000/s",
            pay_rate >= PAYMENTS_TARGET && pay_run.failed.0 == 0,
        ),
    ];
    let mib = |kib: u64| kib as f64 / 1024.0;
    if let (Some(query_peak), Some(peak)) = (query_peak_kib, super::peak_rss_kib(server.pid())) {
        rows.push(Row::info(
            &format!(
                "Server peak RSS under load ({} sessions)",
                sizes.closed + sizes.open
            ),
            format!(
                "{:.1} MiB during fee queries, {:.1} MiB after payments",
                mib(query_peak),
                mib(peak)
            ),
        ));
    }
    for (what, run) in [
        ("GetParkingPaymentInfo", &query_run),
        ("P云 payment.billing", &billing_run),
        ("P云 payment.billing (minting)", &mint_run),
        ("PayParkingFee", &pay_run),
    ] {
        if let (n @ 1.., Some(first)) = (run.failed.0, &run.failed.1) {
            rows.push(Row::info(
                &format!("{what}: first failed call"),
                format!("{n} failed; first: {first}"),
            ));
        }
    }
    Ok(rows)
}
