//! Coupons end to end (issue 5): the real binary delivers event coupons and grants to the P云
//! sandbox over loopback, which verifies every signature. Outcome classes, the retry rules of
//! PROTOCOLS.md §1.1/§1.3/§1.4, idempotency under concurrency, and exactly-once across kill -9.

use std::collections::HashMap;
use std::time::Duration;

use e2e::coupon_site::{
    self, API_TYPE, APP_ID, COUPON_CODE, CouponSite, FAST_RETRIES, MERCHANT, PARK, STORE, send,
};
use e2e::server::Backend;
use reqwest::Method;
use sandbox::pyun::{Endpoint, Fault, FaultRule};
use serde_json::{Value, json};

const PLATE: &str = "粤B12345";
const SETTLE: Duration = Duration::from_secs(20);

e2e::on_both_engines! {
    an_event_and_a_grant_are_signed_delivered_and_recorded => delivered_event_and_grant;
    fifty_concurrent_identical_requests_make_one_send => fifty_identical_requests_make_one_send;
    kill_9_mid_delivery_loses_nothing_and_sends_nothing_twice => kill_9_mid_delivery;
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn delivered_event_and_grant(backend: Backend) {
    let site = CouponSite::start(backend, coupon_site::sandbox(&[PLATE]), &FAST_RETRIES).await;

    // Lower-case, full-width input is normalised before it is stored and sent.
    let (status, record) = site.event("ev-1", "粤ｂ12345").await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["state"], "delivered", "{record}");
    assert_eq!(record["kind"], "event");
    assert_eq!(record["plate"], PLATE);
    assert_eq!(record["pyun"]["code"], "1001");
    assert_eq!(record["attempts"], 1);
    let coupons = site.pyun.coupons();
    assert_eq!(coupons.len(), 1);
    assert_eq!(
        record["pyun"]["grant_serial"],
        coupons[0].grant_serial.as_str()
    );
    assert_eq!(record["pyun"]["seqno"], coupons[0].seqno.as_str());
    assert_eq!(coupons[0].event_id.as_deref(), Some("ev-1"));
    // What crossed the wire: the sandbox verified the signature (it answered 1001) and saw
    // the car park's codes and the metadata with its configured name.
    let sent = &site.pyun.requests()[0];
    assert_eq!(sent.endpoint, Endpoint::Event);
    assert_eq!(field(&sent.fields, "app_id"), Some(APP_ID));
    assert_eq!(field(&sent.fields, "api_store_code"), Some(STORE));
    assert_eq!(field(&sent.fields, "api_type"), Some(API_TYPE));
    assert_eq!(field(&sent.fields, "plate"), Some(PLATE));
    let metadata: Value =
        serde_json::from_str(field(&sent.fields, "metadata").expect("metadata")).unwrap();
    assert_eq!(
        metadata,
        json!({"charge_kwh": {"name": "充电度数", "value": 12}})
    );
    assert_eq!(sent.fields.last().map(|(k, _)| k.as_str()), Some("sign"));

    let (status, record) = site.grant("g-1", PLATE).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["state"], "delivered", "{record}");
    assert_eq!(record["summary"], coupon_site::PRODUCT);
    let sent = site.pyun.requests().last().cloned().unwrap();
    assert_eq!(sent.endpoint, Endpoint::Grant);
    assert_eq!(field(&sent.fields, "merchant"), Some(MERCHANT));
    assert_eq!(field(&sent.fields, "coupon_code"), Some(COUPON_CODE));
    assert_eq!(field(&sent.fields, "store_code"), Some("shop-7"));
    assert_eq!(field(&sent.fields, "quantity"), Some("1"));
    assert_eq!(field(&sent.fields, "reason"), Some("消费满200元"));

    // Polling returns the same record; the manager's list shows both, newest first.
    let polled = site.record(record["id"].as_i64().unwrap()).await;
    assert_eq!(polled["pyun"], record["pyun"]);
    let (status, page) = send(
        &site.manager,
        Method::GET,
        &site
            .server
            .url(&format!("/api/v1/coupon-records?park_id={}", site.park_id)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let kinds: Vec<&str> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["grant", "event"]);
    let (_, page) = send(
        &site.manager,
        Method::GET,
        &site
            .server
            .url("/api/v1/coupon-records?state=delivered&plate=粤b12345"),
        None,
    )
    .await;
    assert_eq!(page["records"].as_array().unwrap().len(), 2, "{page}");
    let (_, page) = send(
        &site.manager,
        Method::GET,
        &site.server.url("/api/v1/coupon-records?state=rejected"),
        None,
    )
    .await;
    assert_eq!(page["records"].as_array().unwrap().len(), 0, "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_p_yun_outcome_class_lands_in_its_state_without_a_retry() {
    let pyun = coupon_site::sandbox(&[PLATE]);
    pyun.set_plate_limit(1);
    let site = CouponSite::start(Backend::Sqlite, pyun, &FAST_RETRIES).await;

    // 1002: the car has not entered.
    let (_, r) = site.event("ev-unparked", "粤B99999").await;
    assert_eq!(
        (r["state"].as_str(), r["pyun"]["code"].as_str()),
        (Some("rejected"), Some("1002")),
        "{r}"
    );
    // 1003: the plate's limit (one coupon) is used by the first, the second is refused.
    let (_, r) = site.event("ev-first", PLATE).await;
    assert_eq!(r["state"], "delivered", "{r}");
    let (_, r) = site.grant("g-over-limit", PLATE).await;
    assert_eq!(
        (r["state"].as_str(), r["pyun"]["code"].as_str()),
        (Some("rejected"), Some("1003")),
        "{r}"
    );
    // 400 with a hint: the hint is kept for the person reading the record.
    site.pyun.push_fault(FaultRule {
        endpoint: Some(Endpoint::Event),
        times: 1,
        skip: 0,
        fault: Fault::Answer {
            http_status: 400,
            code: "400".into(),
            message: "请求参数错误".into(),
        },
    });
    let (_, r) = site.event("ev-400", "粤B99999").await;
    assert_eq!(
        (r["state"].as_str(), r["http_status"].as_u64()),
        (Some("rejected"), Some(400)),
        "{r}"
    );
    assert!(
        r["pyun"]["hint"].as_str().is_some_and(|h| !h.is_empty()),
        "{r}"
    );
    // 1401: P云 does not know the configured api_type — an admin must fix the configuration.
    let (status, _) = send(&site.admin, Method::PUT, &site.server.url(&format!("/api/v1/parks/{}/coupon-config/event", site.park_id)),
        Some(json!({"api_type": "no-such-type", "metadata_keys": [{"key": "charge_kwh", "name": "充电度数"}]}))).await;
    assert_eq!(status, 200);
    let (_, r) = site.event("ev-bad-type", PLATE).await;
    assert_eq!(
        (r["state"].as_str(), r["pyun"]["code"].as_str()),
        (Some("misconfigured"), Some("1401")),
        "{r}"
    );
    // 401: the stored secret is wrong (replaced by mistake); nothing is retried.
    let (status, body) = send(
        &site.admin,
        Method::PUT,
        &site.server.url(&format!(
            "/api/v1/credentials/{}/secret",
            site.credential_id
        )),
        Some(json!({"secret": "not-the-secret"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(2100)).await; // the signer cache lives 2 s
    let before = site.pyun.requests().len();
    let (_, r) = site.grant("g-bad-secret", "粤B99999").await;
    assert_eq!(
        (
            r["state"].as_str(),
            r["pyun"]["code"].as_str(),
            r["http_status"].as_u64()
        ),
        (Some("misconfigured"), Some("401"), Some(401)),
        "{r}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        site.pyun.requests().len(),
        before + 1,
        "a misconfigured request is not retried"
    );
    for r in site.pyun.requests() {
        assert!(
            !r.body.contains("not-the-secret") && !r.body.contains(coupon_site::APP_SECRET),
            "a secret crossed the wire"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_retry_an_event_until_delivered_and_a_lost_answer_counts_via_1403() {
    let site = CouponSite::start(
        Backend::Sqlite,
        coupon_site::sandbox(&[PLATE]),
        &FAST_RETRIES,
    )
    .await;
    site.pyun.push_fault(FaultRule {
        endpoint: Some(Endpoint::Event),
        times: 1,
        skip: 0,
        fault: Fault::Answer {
            http_status: 503,
            code: "1500".into(),
            message: "内部错误".into(),
        },
    });
    site.pyun.push_fault(FaultRule {
        endpoint: Some(Endpoint::Event),
        times: 1,
        skip: 0,
        fault: Fault::MalformedJson {
            after_applying: false,
        },
    });
    let (_, r) = site.event("ev-retried", PLATE).await;
    let r = site.settled(r["id"].as_i64().unwrap(), SETTLE).await;
    assert_eq!(
        (r["state"].as_str(), r["attempts"].as_u64()),
        (Some("delivered"), Some(3)),
        "{r}"
    );
    let sent: Vec<_> = site
        .pyun
        .requests()
        .into_iter()
        .filter(|q| field(&q.fields, "event_id") == Some("ev-retried"))
        .collect();
    assert_eq!(sent.len(), 3);
    assert_eq!(site.pyun.coupons().len(), 1);

    // The sandbox issues the coupon, then drops the connection: the resend gets 1403 and the
    // event is delivered — one coupon, not two.
    site.pyun.push_fault(FaultRule {
        endpoint: Some(Endpoint::Event),
        times: 1,
        skip: 0,
        fault: Fault::Drop {
            after_applying: true,
        },
    });
    let (_, r) = site.event("ev-answer-lost", PLATE).await;
    let r = site.settled(r["id"].as_i64().unwrap(), SETTLE).await;
    assert_eq!(
        (
            r["state"].as_str(),
            r["pyun"]["code"].as_str(),
            r["attempts"].as_u64()
        ),
        (Some("delivered"), Some("1403"), Some(2)),
        "{r}"
    );
    let issued = site
        .pyun
        .coupons()
        .iter()
        .filter(|c| c.event_id.as_deref() == Some("ev-answer-lost"))
        .count();
    assert_eq!(issued, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_bounded_and_a_failed_event_says_why() {
    let site = CouponSite::start(
        Backend::Sqlite,
        coupon_site::sandbox(&[PLATE]),
        &FAST_RETRIES,
    )
    .await;
    site.pyun.push_fault(FaultRule {
        endpoint: None,
        times: 0,
        skip: 0,
        fault: Fault::Answer {
            http_status: 200,
            code: "1405".into(),
            message: "车场下发失败".into(),
        },
    });
    let (_, r) = site.event("ev-doomed", PLATE).await;
    let r = site.settled(r["id"].as_i64().unwrap(), SETTLE).await;
    assert_eq!(
        (r["state"].as_str(), r["attempts"].as_u64()),
        (Some("failed"), Some(4)),
        "{r}"
    );
    assert!(r["error"].as_str().unwrap().contains("4 attempts"), "{r}");
    assert_eq!(site.pyun.requests().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_that_may_have_reached_p_yun_is_never_resent_and_a_person_reconciles_it() {
    let site = CouponSite::start(
        Backend::Sqlite,
        coupon_site::sandbox(&[PLATE]),
        &FAST_RETRIES,
    )
    .await;
    for (i, fault) in [
        Fault::Drop {
            after_applying: true,
        },
        Fault::Answer {
            http_status: 500,
            code: "1500".into(),
            message: "内部错误".into(),
        },
        Fault::MalformedJson {
            after_applying: false,
        },
        Fault::Latency { ms: 3500 }, // beyond the 3 s call timeout
    ]
    .into_iter()
    .enumerate()
    {
        site.pyun.push_fault(FaultRule {
            endpoint: Some(Endpoint::Grant),
            times: 1,
            skip: 0,
            fault: fault.clone(),
        });
        let before = site.pyun.requests().len();
        let (_, r) = site.grant(&format!("g-{i}"), PLATE).await;
        let r = site.settled(r["id"].as_i64().unwrap(), SETTLE).await;
        assert_eq!(
            (r["state"].as_str(), r["attempts"].as_u64()),
            (Some("unknown"), Some(1)),
            "{fault:?}: {r}"
        );
        assert!(r["error"].as_str().unwrap().contains("reconcile"), "{r}");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(
            site.pyun.requests().len(),
            before + 1,
            "{fault:?}: a grant was resent"
        );
    }
    // The dropped-after-applying grant did reach P云: the manager checks and reconciles it.
    let (_, page) = send(
        &site.manager,
        Method::GET,
        &site.server.url("/api/v1/coupon-records?state=unknown"),
        None,
    )
    .await;
    let unknown = page["records"].as_array().unwrap();
    assert_eq!(unknown.len(), 4, "{page}");
    let first = unknown.iter().find(|r| r["key"] == "g-0").unwrap()["id"]
        .as_i64()
        .unwrap();
    let url = site
        .server
        .url(&format!("/api/v1/coupon-records/{first}/reconcile"));
    let (status, r) = send(
        &site.manager,
        Method::POST,
        &url,
        Some(json!({"resolution": "delivered", "note": "P云 后台有记录"})),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["state"].as_str(), r["reconciliation"]["by"].as_str()),
        (Some("delivered"), Some("user:manager")),
        "{r}"
    );
    let (status, r) = send(
        &site.manager,
        Method::POST,
        &url,
        Some(json!({"resolution": "not_delivered"})),
    )
    .await;
    assert_eq!(
        status, 409,
        "a settled record cannot be reconciled again: {r}"
    );
    let (status, _) = send(
        &site.manager,
        Method::POST,
        &url,
        Some(json!({"resolution": "maybe"})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_never_left_is_retried_and_delivered_when_p_yun_comes_back() {
    // Reserve a port, release it: nothing listens there until the sandbox starts on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pyun = coupon_site::sandbox(&[PLATE]);
    let base = format!("PARKBRIDGE_PYUN_BASE_URL=http://127.0.0.1:{port}");
    let server = e2e::server::TestServer::start_with(
        Backend::Sqlite,
        &[
            &base,
            "PARKBRIDGE_RETRY_BASE_MS=300",
            "PARKBRIDGE_RETRY_MAX_ATTEMPTS=8",
            "PARKBRIDGE_COUPON_WAIT_MS=200",
        ],
    );
    // The gateway points at the reserved port; the placeholder sandbox only fills CouponSite.
    let placeholder = coupon_site::sandbox(&[])
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let site = CouponSite::configure_with(coupon_site::sandbox(&[]), placeholder, server).await;
    let (status, g) = site.grant("g-offline", PLATE).await;
    assert_eq!(status, 202, "{g}");
    assert!(
        matches!(g["state"].as_str(), Some("pending" | "sending")),
        "{g}"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let running = pyun
        .start(format!("127.0.0.1:{port}").parse().unwrap())
        .await
        .expect("port still free");
    let r = site.settled(g["id"].as_i64().unwrap(), SETTLE).await;
    assert_eq!(r["state"], "delivered", "{r}");
    assert!(r["attempts"].as_u64().unwrap() >= 2, "{r}");
    assert_eq!(pyun.coupons().len(), 1);
    drop(running);
}

async fn fifty_identical_requests_make_one_send(backend: Backend) {
    let site = CouponSite::start(backend, coupon_site::sandbox(&[PLATE]), &FAST_RETRIES).await;
    site.pyun.set_latency(Duration::from_millis(100));
    let event = json!({"park": PARK, "event_id": "ev-storm", "plate": PLATE, "subject": "充电"});
    let events = storm(&site, "/api/v1/coupons/events", event, 50).await;
    let grant = json!({"park": PARK, "coupon": coupon_site::PRODUCT, "plate": PLATE, "grant_id": "g-storm"});
    let grants = storm(&site, "/api/v1/coupons/grants", grant, 50).await;
    for answers in [&events, &grants] {
        let ids: std::collections::HashSet<i64> = answers
            .iter()
            .map(|(s, r)| {
                assert!(*s == 200 || *s == 202, "{s} {r}");
                r["id"].as_i64().unwrap()
            })
            .collect();
        assert_eq!(ids.len(), 1, "one record for one key");
    }
    let r = site
        .settled(grants[0].1["id"].as_i64().unwrap(), SETTLE)
        .await;
    assert_eq!(r["state"], "delivered");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        site.pyun.requests().len(),
        2,
        "exactly one event and one grant reached P云"
    );
    assert_eq!(site.pyun.coupons().len(), 2);

    // The same key for a different request is refused, not silently answered with the first.
    let (status, body) = site.event("ev-storm", "粤B99999").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (409, Some("idempotency_key_reused")),
        "{body}"
    );
}

/// Sends `body` to `path` `n` times at once, each on its own task; the answers in order.
async fn storm(
    site: &CouponSite,
    path: &str,
    body: Value,
    n: usize,
) -> Vec<(reqwest::StatusCode, Value)> {
    let url = site.server.url(path);
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, url, body) = (site.machine.clone(), url.clone(), body.clone());
            tokio::spawn(async move { send(&client, Method::POST, &url, Some(body)).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

async fn kill_9_mid_delivery(backend: Backend) {
    let pyun = coupon_site::sandbox(&[]);
    pyun.set_any_plate_parked(true);
    pyun.set_plate_limit(1000);
    // Slow P云: many requests are in flight when the gateway dies.
    pyun.set_latency(Duration::from_millis(400));
    let extra = [
        "PARKBRIDGE_RETRY_BASE_MS=50",
        "PARKBRIDGE_PYUN_TIMEOUT_MS=5000",
        "PARKBRIDGE_COUPON_WAIT_MS=0",
        "PARKBRIDGE_DELIVERY_CONCURRENCY=8",
    ];
    let mut site = CouponSite::start(backend, pyun, &extra).await;
    let mut ids = HashMap::new();
    for i in 0..40 {
        let (status, r) = site.event(&format!("ev-{i}"), PLATE).await;
        assert_eq!(status, 202, "{r}");
        ids.insert(r["id"].as_i64().unwrap(), format!("ev-{i}"));
        let (status, r) = site.grant(&format!("g-{i}"), PLATE).await;
        assert_eq!(status, 202, "{r}");
        ids.insert(r["id"].as_i64().unwrap(), format!("g-{i}"));
    }
    // Some are delivered, some in flight, most still waiting: kill -9 now.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let received_before_kill = site.pyun.requests().len();
    assert!(
        received_before_kill > 0 && received_before_kill < 80,
        "{received_before_kill} received: the kill must land mid-delivery"
    );
    site.server
        .restart(&[
            "RUST_LOG=info",
            &format!("PARKBRIDGE_PYUN_BASE_URL={}", site.running.base_url),
            extra[0],
            extra[1],
            extra[2],
            extra[3],
        ])
        .expect("restarts");
    let mut states: HashMap<String, usize> = HashMap::new();
    for (&id, key) in &ids {
        let r = site.settled(id, Duration::from_secs(60)).await;
        let state = r["state"].as_str().unwrap().to_owned();
        if state == "unknown" {
            eprintln!("unknown grant {key}: {}", r["error"]);
        }
        if key.starts_with("ev-") {
            assert_eq!(state, "delivered", "every event is delivered: {r}");
        } else {
            assert!(
                state == "delivered" || state == "unknown",
                "a grant is delivered or awaits a person: {r}"
            );
        }
        *states.entry(format!("{}:{state}", &key[..2])).or_default() += 1;
    }
    // At the sandbox: every event issued exactly once; no grant sent twice.
    let coupons = site.pyun.coupons();
    for i in 0..40 {
        let n = coupons
            .iter()
            .filter(|c| c.event_id.as_deref() == Some(&format!("ev-{i}")))
            .count();
        assert_eq!(n, 1, "event ev-{i} issued {n} times");
    }
    let grants_sent = site
        .pyun
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Grant)
        .count();
    let grants_issued = coupons
        .iter()
        .filter(|c| c.endpoint == Endpoint::Grant)
        .count();
    let delivered_grants = states.get("g-:delivered").copied().unwrap_or(0);
    let unknown_grants = states.get("g-:unknown").copied().unwrap_or(0);
    assert_eq!(delivered_grants + unknown_grants, 40);
    assert!(
        grants_sent <= 40,
        "{grants_sent} grant requests for 40 grants: one was resent"
    );
    assert!(
        grants_issued >= delivered_grants && grants_issued <= 40,
        "{grants_issued} issued, {delivered_grants} delivered"
    );
    // Only grants in flight at the kill can be unknown (8 delivery slots).
    assert!(
        unknown_grants <= 8,
        "{states:?}\nrestarted server:\n{}",
        site.server.logs()
    );
    eprintln!("kill -9 outcome: {states:?}, {received_before_kill} requests before the kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_a_clear_4xx_before_anything_is_stored() {
    let site = CouponSite::start(
        Backend::Sqlite,
        coupon_site::sandbox(&[PLATE]),
        &FAST_RETRIES,
    )
    .await;
    let ev = |over: Value| {
        let mut body = json!({"park": PARK, "event_id": "e1", "plate": PLATE, "subject": "充电"});
        for (k, v) in over.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, status, code) in [
        (ev(json!({"plate": "ABC123"})), 400, "invalid_plate"),
        (ev(json!({"park": "nowhere"})), 403, "forbidden"), // the key is bound to mall-a
        (ev(json!({"event_id": ""})), 400, "invalid_request"),
        (ev(json!({"subject": ""})), 400, "invalid_request"),
        (
            ev(json!({"subject": "长".repeat(300)})),
            400,
            "invalid_request",
        ),
        (
            ev(json!({"metadata": {"minutes": 3}})),
            400,
            "unknown_metadata_key",
        ),
        (
            ev(json!({"metadata": {"charge_kwh": 1.5}})),
            400,
            "invalid_body",
        ),
        (ev(json!({"extra": 1})), 400, "invalid_body"),
    ] {
        let (s, r) = site
            .post_machine("/api/v1/coupons/events", body.clone())
            .await;
        assert_eq!(
            (s.as_u16(), r["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {r}"
        );
    }
    let (s, r) = site
        .post_machine(
            "/api/v1/coupons/grants",
            json!({"park": PARK, "coupon": "无此券", "plate": PLATE, "grant_id": "g1"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), r["error"]["code"].as_str()),
        (422, Some("unknown_coupon")),
        "{r}"
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains(coupon_site::PRODUCT),
        "lists what exists: {r}"
    );
    assert!(site.pyun.requests().is_empty(), "nothing reached P云");

    // A key for all car parks learns that a code is unknown; one without the scope is refused.
    let all = coupon_site::bearer_client(&site.server.api_key("pos", "coupons", None));
    let (s, r) = send(
        &all,
        Method::POST,
        &site.server.url("/api/v1/coupons/events"),
        Some(ev(json!({"park": "nowhere"}))),
    )
    .await;
    assert_eq!(
        (s.as_u16(), r["error"]["code"].as_str()),
        (422, Some("unknown_park")),
        "{r}"
    );
    let gate = coupon_site::bearer_client(&site.server.api_key("gate", "gate", None));
    let (s, _) = send(
        &gate,
        Method::POST,
        &site.server.url("/api/v1/coupons/events"),
        Some(ev(json!({}))),
    )
    .await;
    assert_eq!(s, 403);
    // A key bound to another car park cannot read this one's records either.
    let (s, other) = send(
        &site.admin,
        Method::POST,
        &site.server.url("/api/v1/parks"),
        Some(json!({"code": "mall-b", "name": "B"})),
    )
    .await;
    assert_eq!(s, 201, "{other}");
    let (_, r) = site.event("e-ok", PLATE).await;
    let b_key = coupon_site::bearer_client(&site.server.api_key("b", "coupons", Some("mall-b")));
    let (s, _) = send(
        &b_key,
        Method::GET,
        &site
            .server
            .url(&format!("/api/v1/coupons/requests/{}", r["id"])),
        None,
    )
    .await;
    assert_eq!(s, 404);
    // A car park without P云 codes says so (409) rather than failing later.
    let (s, r) = send(
        &b_key,
        Method::POST,
        &site.server.url("/api/v1/coupons/events"),
        Some(ev(json!({"park": "mall-b"}))),
    )
    .await;
    assert_eq!(
        (s.as_u16(), r["error"]["code"].as_str()),
        (409, Some("coupon_events_not_configured")),
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_logged_with_seqno_and_counted_by_code_without_the_secret() {
    let pyun = coupon_site::sandbox(&[PLATE]);
    let running = pyun.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = format!("PARKBRIDGE_PYUN_BASE_URL={}", running.base_url);
    let server = e2e::server::TestServer::start_capturing_logs(Backend::Sqlite, &[&base]);
    let site = CouponSite::configure_with(pyun, running, server).await;
    let (_, r) = site.event("ev-logged", PLATE).await;
    assert_eq!(r["state"], "delivered");
    let (_, r) = site.grant("g-logged", "粤B99999").await;
    assert_eq!(r["state"], "rejected");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = site.server.logs();
    let seqno = site.pyun.coupons()[0].seqno.clone();
    assert!(
        logs.lines()
            .any(|l| l.contains("P云 delivery attempt") && l.contains(&seqno)),
        "seqno {seqno} not logged:\n{logs}"
    );
    assert!(
        !logs.contains(coupon_site::APP_SECRET),
        "the secret reached the logs"
    );
    let sign = field(&site.pyun.requests()[0].fields, "sign")
        .unwrap()
        .to_owned();
    assert!(!logs.contains(&sign), "a signature reached the logs");
    let metrics = reqwest::get(site.server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("parkbridge_pyun_calls_total") && l.contains("code=\"1001\"")),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("parkbridge_pyun_calls_total") && l.contains("code=\"1002\"")),
        "{metrics}"
    );
    assert!(!metrics.contains(coupon_site::APP_SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_configure_coupons_and_property_managers_only_read_them() {
    let site = CouponSite::start(
        Backend::Sqlite,
        coupon_site::sandbox(&[PLATE]),
        &FAST_RETRIES,
    )
    .await;
    let config_url = site
        .server
        .url(&format!("/api/v1/parks/{}/coupon-config", site.park_id));
    let (s, config) = send(&site.manager, Method::GET, &config_url, None).await;
    assert_eq!(s, 200, "{config}");
    assert_eq!(config["event"]["api_type"], API_TYPE);
    assert_eq!(config["products"][0]["name"], coupon_site::PRODUCT);
    let (s, _) = send(
        &site.manager,
        Method::PUT,
        &format!("{config_url}/event"),
        Some(json!({"api_type": "x", "metadata_keys": []})),
    )
    .await;
    assert_eq!(s, 403);
    let products = site
        .server
        .url(&format!("/api/v1/parks/{}/coupon-products", site.park_id));
    let (s, r) = send(&site.admin, Method::POST, &products, Some(json!({"name": coupon_site::PRODUCT, "coupon_code": "X", "store_code": "Y", "quantity": 1}))).await;
    assert_eq!(
        (s.as_u16(), r["error"]["code"].as_str()),
        (409, Some("duplicate_name")),
        "{r}"
    );
    let (s, r) = send(
        &site.admin,
        Method::POST,
        &products,
        Some(json!({"name": "券", "coupon_code": "X", "store_code": "Y", "quantity": 0})),
    )
    .await;
    assert_eq!(s, 400, "{r}");
    let (s, r) = send(&site.admin, Method::PUT, &format!("{config_url}/event"), Some(json!({"api_type": "t", "metadata_keys": [{"key": "k", "name": "a"}, {"key": "k", "name": "b"}]}))).await;
    assert_eq!(
        (s.as_u16(), r["error"]["code"].as_str()),
        (422, Some("duplicate_key")),
        "{r}"
    );
    // Archiving hides the product from grants and keeps it listed.
    let (s, _) = send(
        &site.admin,
        Method::DELETE,
        &format!("{products}/{}", site.product_id),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, r) = site.grant("g-archived", PLATE).await;
    assert_eq!(
        (s.as_u16(), r["error"]["code"].as_str()),
        (422, Some("unknown_coupon")),
        "{r}"
    );
    let (_, config) = send(&site.manager, Method::GET, &config_url, None).await;
    assert_eq!(config["products"][0]["archived"], true);
    // The manager's UI grant names the product by id and gets the same record shape.
    let (s, r) = send(
        &site.manager,
        Method::POST,
        &site.server.url("/api/v1/coupon-records/grants"),
        Some(json!({"park_id": site.park_id, "product_id": site.product_id, "plate": PLATE})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), r["error"]["code"].as_str()),
        (422, Some("unknown_coupon")),
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_one_postgres_database_send_each_row_once_even_when_one_is_killed() {
    let pyun = coupon_site::sandbox(&[]);
    pyun.set_any_plate_parked(true);
    pyun.set_plate_limit(10_000);
    pyun.set_latency(Duration::from_millis(50));
    // Intake answers at once; every instance's worker competes for the rows.
    let extra = [
        "PARKBRIDGE_RETRY_BASE_MS=50",
        "PARKBRIDGE_PYUN_TIMEOUT_MS=5000",
        "PARKBRIDGE_COUPON_WAIT_MS=0",
        "PARKBRIDGE_DELIVERY_CONCURRENCY=4",
    ];
    let site = CouponSite::start(Backend::Postgres, pyun, &extra).await;
    let base = format!("PARKBRIDGE_PYUN_BASE_URL={}", site.running.base_url);
    let mut args = vec![base.as_str()];
    args.extend_from_slice(&extra);
    let peer_b = site.server.peer(&args);
    let mut peer_c = Some(site.server.peer(&args));
    let mut ids = Vec::new();
    for i in 0..90 {
        if i == 45 {
            // kill -9 one instance while rows are in flight; the proxy drops it from rotation.
            drop(peer_c.take());
        }
        // Round robin, as a proxy in front of the instances would.
        let mut urls = vec![site.server.url(""), peer_b.url("")];
        urls.extend(peer_c.as_ref().map(|p| p.url("")));
        let url = format!("{}/api/v1/coupons/events", urls[i % urls.len()]);
        let body =
            json!({"park": PARK, "event_id": format!("ev-{i}"), "plate": PLATE, "subject": "充电"});
        let (status, r) = send(&site.machine, Method::POST, &url, Some(body)).await;
        assert_eq!(status, 202, "{r}");
        ids.push(r["id"].as_i64().unwrap());
    }
    for id in ids {
        let r = site.settled(id, Duration::from_secs(60)).await;
        assert_eq!(r["state"], "delivered", "{r}");
    }
    let coupons = site.pyun.coupons();
    assert_eq!(coupons.len(), 90);
    let distinct: std::collections::HashSet<_> =
        coupons.iter().map(|c| c.event_id.clone()).collect();
    assert_eq!(distinct.len(), 90, "an event was issued twice");
    // A resend happens only for rows the killed instance held; every other row went out once.
    let sent = site.pyun.requests().len();
    assert!(
        sent <= 90 + 4,
        "{sent} requests for 90 events (the killed instance held at most 4)"
    );
    drop(peer_b);
}
