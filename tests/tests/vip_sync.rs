//! VIP recharges reach the P云 sandbox (PROTOCOLS.md §1.5): signed JSON batches of the configured
//! size, in order, incrementally after every change; a full sync whose first batch alone carries
//! `complete = 1`, resumed after kill -9 without repeating it; failed batches stop a full sync
//! and are shown. The real binary over loopback HTTP; the sandbox verifies every signature.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use e2e::coupon_site::{self, APP_ID, APP_SECRET, CouponSite, PARK, bearer_client, send};
use e2e::server::Backend;
use protocol::pyun::{VIP_RECHARGE_PATH, VipRechargeBatch};
use reqwest::{Client, Method};
use sandbox::pyun::{Endpoint, Fault, FaultRule, PyunSandbox, ReceivedRequest};
use serde_json::{Value, json};

/// The car park's P云 park_uuid (set by `CouponSite`).
const PARK_UUID: &str = "park-uuid-1";
/// The car park's name (set by `CouponSite`), typed to confirm a full sync.
const PARK_NAME: &str = "测试广场";

e2e::on_both_engines! {
    new_recharges_go_out_in_signed_batches_in_order => incremental_batches;
    a_full_sync_killed_midway_resumes_without_repeating_complete => full_sync_across_kill_9;
}

/// A sandbox that knows our app and holds the car park's VIP records.
fn vip_sandbox() -> PyunSandbox {
    let pyun = coupon_site::sandbox(&[]);
    pyun.add_vip_park(PARK_UUID, APP_ID);
    pyun
}

/// A site with a `vip` API key client, batches of `batch_size`.
async fn start(backend: Backend, pyun: PyunSandbox, batch_size: u32) -> (CouponSite, Client) {
    let size = format!("PARKBRIDGE_VIP_BATCH_SIZE={batch_size}");
    let site = CouponSite::start(
        backend,
        pyun,
        &[
            "PARKBRIDGE_RETRY_BASE_MS=50",
            "PARKBRIDGE_PYUN_TIMEOUT_MS=3000",
            "PARKBRIDGE_RETRY_MAX_ATTEMPTS=4",
            &size,
        ],
    )
    .await;
    let key = site.server.api_key("local-vip", "vip", Some(PARK));
    (site, bearer_client(&key))
}

/// Recharge `i` as a local system sends it: one plate and one `pay_partner` per `i`.
fn recharge(i: usize) -> Value {
    json!({
        "plate": format!("粤B{:05}", i), "plate_color": 1, "card_no": format!("C{i}"),
        "charge_type": "MON_A", "vip_type": 1, "quantity": 1,
        "pay_partner": format!("pp-{i:06}"), "pay_type": 2, "value": "1",
        "pay_time": "1767225600000",
        "renewal_start_time": "2025-12-31T16:00:00Z", "renewal_end_time": "2026-01-31T15:59:59Z",
        "pay_value": 30000, "operator": "本地系统"
    })
}

/// Posts recharges `range` through the machine API, in calls of 500 rows.
async fn post_recharges(site: &CouponSite, machine: &Client, range: std::ops::Range<usize>) {
    let all: Vec<usize> = range.collect();
    for chunk in all.chunks(500) {
        let rows: Vec<Value> = chunk.iter().map(|&i| recharge(i)).collect();
        let (status, body) = send(
            machine,
            Method::POST,
            &site.server.url("/api/v1/vip/recharges"),
            Some(json!({"park": PARK, "rows": rows})),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["accepted"], chunk.len(), "{body}");
    }
}

/// The VIP calls the sandbox received, with their decoded bodies.
fn vip_calls(pyun: &PyunSandbox) -> Vec<(ReceivedRequest, Value)> {
    pyun.requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::VipRecharge)
        .map(|r| {
            let body = serde_json::from_str(&r.body).expect("the gateway sent JSON");
            (r, body)
        })
        .collect()
}

/// The `pay_partner`s of a batch body, in order.
fn partners(body: &Value) -> Vec<String> {
    body["row"]
        .as_array()
        .expect("row is an array")
        .iter()
        .map(|r| r["pay_partner"].as_str().expect("pay_partner").to_owned())
        .collect()
}

/// The `pay_partner`s the sandbox holds for the car park.
fn held(pyun: &PyunSandbox) -> HashSet<String> {
    pyun.vip_records(PARK_UUID)
        .into_iter()
        .map(|r| r.pay_partner)
        .collect()
}

/// Waits until `done` holds; panics with `what` after `within`.
async fn eventually(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /api/v1/vip-sync/{park}` as the manager.
async fn progress(site: &CouponSite) -> Value {
    let (status, body) = send(
        &site.manager,
        Method::GET,
        &site
            .server
            .url(&format!("/api/v1/vip-sync/{}", site.park_id)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls the progress until the latest full sync is no longer running.
async fn job_settled(site: &CouponSite, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let p = progress(site).await;
        if p["job"]["state"] != "running" {
            return p;
        }
        assert!(Instant::now() < deadline, "full sync still running: {p}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts a full sync as the admin.
async fn start_full_sync(site: &CouponSite, confirm: &str) -> (reqwest::StatusCode, Value) {
    send(
        &site.admin,
        Method::POST,
        &site
            .server
            .url(&format!("/api/v1/parks/{}/vip-sync", site.park_id)),
        Some(json!({"confirm_name": confirm})),
    )
    .await
}

async fn incremental_batches(backend: Backend) {
    let pyun = vip_sandbox();
    let (site, machine) = start(backend, pyun.clone(), 200).await;
    post_recharges(&site, &machine, 0..450).await;
    eventually(Duration::from_secs(30), "450 recharges at P云", || {
        held(&pyun).len() == 450
    })
    .await;
    let calls = vip_calls(&pyun);
    // Batches of at most 200, never complete = 1, accepted (the sandbox checked the
    // Authorization signature over the exact body), and in the order the recharges arrived.
    let mut sent = Vec::new();
    for (r, body) in &calls {
        assert_eq!(body["complete"], 0, "{}", r.body);
        assert_eq!(body["park_uuid"], PARK_UUID);
        assert!(body["row"].as_array().unwrap().len() <= 200);
        assert_eq!(r.answer.code.as_deref(), Some("1001"), "{}", r.body);
        assert!(r.authorization.as_deref().is_some_and(|a| a.len() == 32));
        sent.extend(partners(body));
    }
    let expected: Vec<String> = (0..450).map(|i| format!("pp-{i:06}")).collect();
    assert_eq!(sent, expected, "every recharge once, in order");
    assert!(calls.len() >= 3, "450 rows need at least three batches");
    // Rows posted in one call are batched together: 200 + 200 + 50 for the first 500.
    let sizes: Vec<usize> = calls
        .iter()
        .map(|(_, b)| b["row"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![200, 200, 50], "{sizes:?}");
    // What P云 holds is what was sent, field by field.
    let at_pyun = pyun.vip_records(PARK_UUID);
    let first = at_pyun
        .iter()
        .find(|r| r.pay_partner == "pp-000007")
        .unwrap();
    assert_eq!(first.plate.as_str(), "粤B00007");
    assert_eq!(first.pay_value, Some(30000));
    assert_eq!(
        first.renewal_end_time.map(|t| t.to_rfc3339()),
        Some("2026-01-31T15:59:59+00:00".to_owned())
    );
    let p = progress(&site).await;
    assert_eq!(p["incremental"]["queued_rows"], 0, "{p}");
    assert_eq!(p["incremental"]["pending_batches"], 0, "{p}");
    assert_eq!(p["incremental"]["problem_batches"], 0, "{p}");
    assert!(p["job"].is_null(), "{p}");

    // A change made later goes out on its own within the flush interval.
    let before = calls.len();
    post_recharges(&site, &machine, 450..451).await;
    eventually(Duration::from_secs(10), "the 451st recharge", || {
        held(&pyun).len() == 451
    })
    .await;
    let calls = vip_calls(&pyun);
    assert_eq!(calls.len(), before + 1);
    assert_eq!(partners(&calls[before].1), vec!["pp-000450".to_owned()]);
}

/// A record made in P云 by someone else: a full sync must wipe it.
async fn plant_foreign_record(site: &CouponSite) {
    let mut row = serde_json::from_value::<protocol::pyun::ParkingVip>(recharge(9_999)).unwrap();
    row.pay_partner = "foreign-1".into();
    let batch = VipRechargeBatch {
        park_uuid: PARK_UUID.into(),
        complete: false,
        rows: vec![row],
    };
    let (body, authorization) = batch.to_signed_body(APP_SECRET).unwrap();
    let resp = Client::new()
        .post(format!("{}{VIP_RECHARGE_PATH}", site.running.base_url))
        .header("Content-Type", "application/json")
        .header("Authorization", authorization)
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_replaces_pyuns_records_with_ours_and_reports_progress() {
    let pyun = vip_sandbox();
    let (site, machine) = start(Backend::Sqlite, pyun.clone(), 100).await;
    post_recharges(&site, &machine, 0..250).await;
    eventually(Duration::from_secs(30), "250 recharges at P云", || {
        held(&pyun).len() == 250
    })
    .await;
    plant_foreign_record(&site).await;
    assert_eq!(held(&pyun).len(), 251);

    // The confirmation must be the car park's exact name; managers cannot start one.
    let (status, body) = start_full_sync(&site, "测试").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "confirmation_mismatch");
    let (status, _) = send(
        &site.manager,
        Method::POST,
        &site
            .server
            .url(&format!("/api/v1/parks/{}/vip-sync", site.park_id)),
        Some(json!({"confirm_name": PARK_NAME})),
    )
    .await;
    assert_eq!(status, 403);
    let before = vip_calls(&pyun).len();
    let (status, body) = start_full_sync(&site, PARK_NAME).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["job"]["batches_total"], 3, "{body}");
    assert_eq!(body["job"]["rows_total"], 250, "{body}");
    let p = job_settled(&site, Duration::from_secs(30)).await;
    assert_eq!(p["job"]["state"], "done", "{p}");
    assert_eq!(p["job"]["batches_done"], 3);
    assert_eq!(p["job"]["rows_done"], 250);
    assert!(p["job"]["rows_per_s"].as_f64().unwrap() > 0.0);
    assert!(p["job"]["errors"].as_array().unwrap().is_empty());

    let calls = &vip_calls(&pyun)[before..];
    let flags: Vec<i64> = calls
        .iter()
        .map(|(_, b)| b["complete"].as_i64().unwrap())
        .collect();
    assert_eq!(flags, vec![1, 0, 0], "complete = 1 on the first batch only");
    let expected: HashSet<String> = (0..250).map(|i| format!("pp-{i:06}")).collect();
    assert_eq!(held(&pyun), expected, "P云 holds exactly our records");

    // A second full sync may start once the first is done; one at a time.
    let (status, body) = start_full_sync(&site, PARK_NAME).await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = start_full_sync(&site, PARK_NAME).await;
    assert!(
        status == 409 && body["error"]["code"] == "sync_running" || status == 202,
        "{status} {body}"
    );
}

async fn full_sync_across_kill_9(backend: Backend) {
    let pyun = vip_sandbox();
    let (mut site, machine) = start(backend, pyun.clone(), 50).await;
    post_recharges(&site, &machine, 0..1000).await;
    eventually(Duration::from_secs(60), "1000 recharges at P云", || {
        held(&pyun).len() == 1000
    })
    .await;
    plant_foreign_record(&site).await;
    // Slow P云, so the kill lands in the middle of the 20 batches.
    pyun.set_latency(Duration::from_millis(150));
    let before = vip_calls(&pyun).len();
    let (status, body) = start_full_sync(&site, PARK_NAME).await;
    assert_eq!(status, 202, "{body}");
    eventually(Duration::from_secs(30), "a few batches sent", || {
        vip_calls(&pyun).len() >= before + 5
    })
    .await;
    site.server
        .restart(&[
            &format!("PARKBRIDGE_PYUN_BASE_URL={}", site.running.base_url),
            "PARKBRIDGE_VIP_BATCH_SIZE=50",
            "PARKBRIDGE_RETRY_BASE_MS=50",
        ])
        .expect("restarts");
    let sent_at_kill = vip_calls(&pyun).len() - before;
    assert!(
        sent_at_kill < 20,
        "the kill must land mid-sync ({sent_at_kill} sent)"
    );
    let p = job_settled(&site, Duration::from_secs(90)).await;
    assert_eq!(p["job"]["state"], "done", "{p}");
    assert_eq!(p["job"]["batches_done"], 20, "{p}");

    // complete = 1 only ever went out before any later batch was accepted, and every batch of
    // the job was accepted at least once.
    let calls = &vip_calls(&pyun)[before..];
    let first_later_ok = calls
        .iter()
        .position(|(r, b)| b["complete"] == 0 && r.answer.code.as_deref() == Some("1001"))
        .expect("later batches were accepted");
    for (i, (_, b)) in calls.iter().enumerate() {
        if b["complete"] == 1 {
            assert!(
                i < first_later_ok,
                "complete = 1 resent after a later batch succeeded"
            );
        }
    }
    let expected: HashSet<String> = (0..1000).map(|i| format!("pp-{i:06}")).collect();
    assert_eq!(held(&pyun), expected, "P云 ends with exactly our records");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_batch_stops_the_full_sync_shows_why_and_can_be_resent() {
    let pyun = vip_sandbox();
    let (site, machine) = start(Backend::Sqlite, pyun.clone(), 100).await;
    post_recharges(&site, &machine, 0..400).await;
    eventually(Duration::from_secs(30), "400 recharges at P云", || {
        held(&pyun).len() == 400
    })
    .await;
    // The second batch of the full sync is refused: P云 does not know our app (401).
    pyun.push_fault(FaultRule {
        endpoint: Some(Endpoint::VipRecharge),
        times: 1,
        skip: 1,
        fault: Fault::Answer {
            http_status: 401,
            code: "401".into(),
            message: "签名错误".into(),
        },
    });
    let before = vip_calls(&pyun).len();
    let (status, body) = start_full_sync(&site, PARK_NAME).await;
    assert_eq!(status, 202, "{body}");
    let p = job_settled(&site, Duration::from_secs(30)).await;
    assert_eq!(p["job"]["state"], "failed", "{p}");
    assert_eq!(p["job"]["batches_done"], 1, "{p}");
    let errors = p["job"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{p}");
    assert_eq!(errors[0]["seq"], 2);
    assert_eq!(errors[0]["state"], "misconfigured");
    assert_eq!(errors[0]["code"], "401");
    assert_eq!(errors[1]["state"], "failed");
    assert!(
        errors[1]["note"].as_str().unwrap().contains("batch 2"),
        "{p}"
    );
    // Batches 3 and 4 never went out.
    assert_eq!(vip_calls(&pyun).len(), before + 2);

    // The refusal is visible on the affected recharges too.
    let (status, list) = send(
        &site.manager,
        Method::GET,
        &site.server.url(&format!(
            "/api/v1/parks/{}/vip/records?plate=B00150",
            site.park_id
        )),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["records"][0]["sync"], "problem", "{list}");
    let rid = list["records"][0]["id"].as_i64().unwrap();
    let (_, detail) = send(
        &site.manager,
        Method::GET,
        &site.server.url(&format!("/api/v1/vip/records/{rid}")),
        None,
    )
    .await;
    assert_eq!(
        detail["recharges"][0]["sync"]["state"], "misconfigured",
        "{detail}"
    );
    assert_eq!(detail["recharges"][0]["sync"]["code"], "401", "{detail}");

    // Once the cause is fixed, an admin resends: the job completes, without a second wipe.
    let (status, body) = send(
        &site.admin,
        Method::POST,
        &site
            .server
            .url(&format!("/api/v1/parks/{}/vip-sync/resend", site.park_id)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let p = job_settled(&site, Duration::from_secs(30)).await;
    assert_eq!(p["job"]["state"], "done", "{p}");
    let calls = &vip_calls(&pyun)[before..];
    assert_eq!(
        calls.iter().filter(|(_, b)| b["complete"] == 1).count(),
        1,
        "one wipe"
    );
    let expected: HashSet<String> = (0..400).map(|i| format!("pp-{i:06}")).collect();
    assert_eq!(held(&pyun), expected);
}
