//! The P云 sandbox over real HTTP on loopback: P云's rules, signatures, faults and the control API.

use std::time::{Duration, Instant};

use protocol::plate::Plate;
use protocol::pyun::{
    COUPON_EVENT_PATH, COUPON_GRANT_PATH, CouponEvent, CouponGrant, ParkingVip, SignedForm,
    VIP_RECHARGE_PATH, VipRechargeBatch,
};
use sandbox::pyun::{Endpoint, Fault, FaultRule, PyunSandbox, RunningSandbox};
use serde_json::{Value, json};

const APP: &str = "op_sandbox_test";
const SECRET: &str = "e9ae5402dbabc68c1c4test";
const API_TYPE: &str = "EV_CHARGING";
const COUPON_CODE: &str = "7cb7cc3e4e27b8a";
const PLATE: &str = "沪A68688";
const PARK: &str = "49f0cc52-e8c7-41e3-b54d-af666b8cc11a";
/// Longest any single call may take before a test calls it a hang.
const HANG: Duration = Duration::from_secs(10);

/// A sandbox that knows `APP`, `API_TYPE`, `COUPON_CODE` and `PARK`, with `PLATE` parked.
async fn start() -> (PyunSandbox, RunningSandbox, reqwest::Client) {
    let sb = PyunSandbox::new();
    sb.add_app(APP, SECRET);
    sb.add_api_type(API_TYPE);
    sb.add_coupon_code(COUPON_CODE);
    sb.add_vip_park(PARK, APP);
    sb.park(PLATE);
    let running = sb.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (sb, running, reqwest::Client::new())
}

fn event(event_id: &str, plate: &str) -> CouponEvent {
    CouponEvent {
        api_store_code: "4911419421".into(),
        api_type: API_TYPE.into(),
        event_id: event_id.into(),
        plate: Plate::parse(plate).unwrap(),
        subject: format!("【{plate}】充电 30 KWH"),
        metadata: None,
    }
}

fn grant(plate: &str) -> CouponGrant {
    CouponGrant {
        merchant: "62626601".into(),
        store_code: "4911419421".into(),
        coupon_code: COUPON_CODE.into(),
        quantity: 1,
        plate: Plate::parse(plate).unwrap(),
        parking_serial: None,
        reason: Some("测试派发".into()),
    }
}

fn vip_row(pay_partner: &str, plate: &str, value: &str) -> ParkingVip {
    serde_json::from_value(json!({
        "plate": plate, "plate_color": 1, "charge_type": "MON_A", "vip_type": 1,
        "quantity": 1, "pay_partner": pay_partner, "pay_type": 1, "value": value,
    }))
    .unwrap()
}

/// Sends a form body; returns the status and the decoded envelope.
async fn post_form(
    client: &reqwest::Client,
    sb: &RunningSandbox,
    path: &str,
    body: String,
) -> reqwest::Result<(u16, Value)> {
    let send = client
        .post(format!("{}{path}", sb.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send();
    let resp = tokio::time::timeout(HANG, send).await.expect("hang")?;
    let status = resp.status().as_u16();
    let value = resp.json::<Value>().await?;
    Ok((status, value))
}

async fn send_event(
    client: &reqwest::Client,
    sb: &RunningSandbox,
    ev: &CouponEvent,
) -> (u16, Value) {
    let form = ev.to_signed_form(APP, SECRET).unwrap();
    post_form(client, sb, COUPON_EVENT_PATH, form.to_urlencoded())
        .await
        .unwrap()
}

async fn send_grant(
    client: &reqwest::Client,
    sb: &RunningSandbox,
    g: &CouponGrant,
) -> (u16, Value) {
    let form = g.to_signed_form(APP, SECRET).unwrap();
    post_form(client, sb, COUPON_GRANT_PATH, form.to_urlencoded())
        .await
        .unwrap()
}

async fn send_vip(
    client: &reqwest::Client,
    sb: &RunningSandbox,
    batch: &VipRechargeBatch,
    secret: &str,
) -> (u16, Value) {
    let (body, authorization) = batch.to_signed_body(secret).unwrap();
    let resp = client
        .post(format!("{}{VIP_RECHARGE_PATH}", sb.base_url))
        .header("content-type", "application/json")
        .header("authorization", authorization)
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap()
}

#[tokio::test]
async fn event_success_has_grant_serial_and_unique_seqnos() {
    let (sb, running, client) = start().await;
    let (status, a) = send_event(&client, &running, &event("ev-1", "沪a 68688")).await;
    assert_eq!((status, code(&a)), (200, "1001"), "{a}");
    assert_eq!(a["message"], "派发成功");
    assert_eq!(a["data_node"], "sandbox");
    assert!(a["time_cost"].is_u64());
    let serial = a["payload"]["grant_serial"].as_str().unwrap().to_owned();
    assert!(!serial.is_empty());
    let (_, b) = send_event(&client, &running, &event("ev-2", PLATE)).await;
    assert_ne!(a["seqno"], b["seqno"]);
    assert_ne!(b["payload"]["grant_serial"].as_str(), Some(serial.as_str()));

    let coupons = sb.coupons();
    assert_eq!(coupons.len(), 2);
    assert_eq!(coupons[0].plate, PLATE, "plates are normalised");
    assert_eq!(coupons[0].event_id.as_deref(), Some("ev-1"));
    assert_eq!(coupons[0].grant_serial, serial);
    assert_eq!(coupons[0].seqno, a["seqno"].as_str().unwrap());
    let requests = sb.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].seq, 1);
    assert_eq!(requests[0].endpoint, Endpoint::Event);
    assert!(requests[0].fields.iter().any(|(k, _)| k == "sign"));
    assert_eq!(requests[0].answer.http_status, Some(200));
    assert_eq!(requests[0].answer.code.as_deref(), Some("1001"));
}

#[tokio::test]
async fn bad_signature_and_unknown_app_are_401() {
    let (sb, running, client) = start().await;
    let form = event("ev-1", PLATE)
        .to_signed_form(APP, "wrong secret")
        .unwrap();
    let (status, v) = post_form(&client, &running, COUPON_EVENT_PATH, form.to_urlencoded())
        .await
        .unwrap();
    assert_eq!((status, code(&v)), (401, "401"));
    assert_eq!(v["message"], "签名错误");

    let form = grant(PLATE).to_signed_form("op_stranger", SECRET).unwrap();
    let (status, v) = post_form(&client, &running, COUPON_GRANT_PATH, form.to_urlencoded())
        .await
        .unwrap();
    assert_eq!((status, code(&v)), (401, "401"));
    assert!(sb.coupons().is_empty());
    assert_eq!(sb.requests()[1].answer.code.as_deref(), Some("401"));
}

#[tokio::test]
async fn missing_fields_are_400_with_a_hint() {
    let (_sb, running, client) = start().await;
    // No `sign` at all.
    let unsigned = protocol::pyun::urlencoded::encode(&[("app_id", APP), ("plate", PLATE)]);
    let (status, v) = post_form(&client, &running, COUPON_EVENT_PATH, unsigned)
        .await
        .unwrap();
    assert_eq!((status, code(&v)), (400, "400"));
    assert_eq!(v["hint"], "`sign` Required!");

    // Properly signed but without `subject`.
    let form = SignedForm::new(
        [
            ("app_id", APP),
            ("api_store_code", "4911419421"),
            ("api_type", API_TYPE),
            ("event_id", "ev-1"),
            ("plate", PLATE),
        ],
        SECRET,
    );
    let (status, v) = post_form(&client, &running, COUPON_EVENT_PATH, form.to_urlencoded())
        .await
        .unwrap();
    assert_eq!((status, code(&v)), (400, "400"));
    assert!(v["hint"].as_str().unwrap().contains("subject"), "{v}");

    let (status, v) = post_form(&client, &running, COUPON_GRANT_PATH, "a=%zz".into())
        .await
        .unwrap();
    assert_eq!((status, code(&v)), (400, "400"));
}

#[tokio::test]
async fn unknown_api_type_and_coupon_code_are_1401() {
    let (sb, running, client) = start().await;
    let mut ev = event("ev-1", PLATE);
    ev.api_type = "NOT_CONFIGURED".into();
    let (status, v) = send_event(&client, &running, &ev).await;
    assert_eq!((status, code(&v)), (200, "1401"));
    assert_eq!(v["message"], "第三方优惠配置不存在");
    let mut g = grant(PLATE);
    g.coupon_code = "nope".into();
    let (_, v) = send_grant(&client, &running, &g).await;
    assert_eq!(code(&v), "1401");
    assert!(sb.coupons().is_empty());
}

#[tokio::test]
async fn unparked_plate_is_1002_and_a_refused_event_id_succeeds_later() {
    let (sb, running, client) = start().await;
    let ev = event("ev-late", "粤BD07627");
    let (_, v) = send_event(&client, &running, &ev).await;
    assert_eq!(code(&v), "1002");
    assert_eq!(v["message"], "车辆未入场");
    let (_, v) = send_grant(&client, &running, &grant("粤BD07627")).await;
    assert_eq!(code(&v), "1002");
    sb.park("粤BD07627");
    let (_, v) = send_event(&client, &running, &ev).await;
    assert_eq!(code(&v), "1001", "a rejected event_id may be retried");
    sb.leave("粤bd07627");
    let (_, v) = send_event(&client, &running, &event("ev-gone", "粤BD07627")).await;
    assert_eq!(code(&v), "1002");
    sb.set_any_plate_parked(true);
    let (_, v) = send_event(&client, &running, &event("ev-any", "京N12345")).await;
    assert_eq!(code(&v), "1001");
}

#[tokio::test]
async fn the_plate_limit_counts_events_and_grants() {
    let (sb, running, client) = start().await;
    sb.set_plate_limit(2);
    assert_eq!(
        code(&send_event(&client, &running, &event("a", PLATE)).await.1),
        "1001"
    );
    assert_eq!(
        code(&send_grant(&client, &running, &grant(PLATE)).await.1),
        "1001"
    );
    let (_, v) = send_event(&client, &running, &event("b", PLATE)).await;
    assert_eq!(code(&v), "1003");
    assert_eq!(v["message"], "优惠限制");
    assert_eq!(
        code(&send_grant(&client, &running, &grant(PLATE)).await.1),
        "1003"
    );
    assert_eq!(sb.coupons().len(), 2);
}

#[tokio::test]
async fn a_repeated_event_id_is_1403() {
    let (sb, running, client) = start().await;
    let ev = event("ev-once", PLATE);
    assert_eq!(code(&send_event(&client, &running, &ev).await.1), "1001");
    let (status, v) = send_event(&client, &running, &ev).await;
    assert_eq!((status, code(&v)), (200, "1403"));
    assert_eq!(v["message"], "重复派发");
    // The key is per app: another app's identical event_id is a different event.
    sb.add_app("op_other", "other-secret");
    let form = ev.to_signed_form("op_other", "other-secret").unwrap();
    let (_, v) = post_form(&client, &running, COUPON_EVENT_PATH, form.to_urlencoded())
        .await
        .unwrap();
    assert_eq!(code(&v), "1001");
    assert_eq!(sb.coupons().len(), 2);
}

#[tokio::test]
async fn identical_grants_issue_two_coupons() {
    let (sb, running, client) = start().await;
    let mut g = grant(PLATE);
    g.quantity = 3;
    let (_, a) = send_grant(&client, &running, &g).await;
    let (_, b) = send_grant(&client, &running, &g).await;
    assert_eq!((code(&a), code(&b)), ("1001", "1001"));
    assert_ne!(a["payload"]["grant_serial"], b["payload"]["grant_serial"]);
    let coupons = sb.coupons();
    assert_eq!(coupons.len(), 2);
    assert!(coupons.iter().all(|c| c.endpoint == Endpoint::Grant
        && c.quantity == 3
        && c.coupon_code.as_deref() == Some(COUPON_CODE)));
}

#[tokio::test]
async fn latency_fault_and_global_latency_delay_the_answer() {
    let (sb, running, client) = start().await;
    sb.push_fault(FaultRule {
        endpoint: Some(Endpoint::Event),
        times: 1,
        skip: 0,
        fault: Fault::Latency { ms: 300 },
    });
    let t = Instant::now();
    let (_, v) = send_event(&client, &running, &event("slow", PLATE)).await;
    assert_eq!(code(&v), "1001", "a latency fault still processes the call");
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    send_event(&client, &running, &event("fast", PLATE)).await;
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "times: 1 fired once"
    );

    sb.set_latency(Duration::from_millis(200));
    let t = Instant::now();
    send_grant(&client, &running, &grant(PLATE)).await;
    assert!(t.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn answer_fault_is_answered_without_applying_and_times_counts_down() {
    let (sb, running, client) = start().await;
    sb.push_fault(FaultRule {
        endpoint: None,
        times: 2,
        skip: 0,
        fault: Fault::Answer {
            http_status: 503,
            code: "1500".into(),
            message: "内部错误".into(),
        },
    });
    for id in ["a", "b"] {
        let (status, v) = send_event(&client, &running, &event(id, PLATE)).await;
        assert_eq!((status, code(&v)), (503, "1500"));
        assert_eq!(v["message"], "内部错误");
        assert!(v["seqno"].is_string());
    }
    assert!(sb.coupons().is_empty());
    let (status, v) = send_event(&client, &running, &event("a", PLATE)).await;
    assert_eq!(
        (status, code(&v)),
        (200, "1001"),
        "the rule ran out after 2"
    );
    assert_eq!(sb.requests()[0].answer.http_status, Some(503));

    // times 0 = until cleared.
    sb.push_fault(FaultRule {
        endpoint: Some(Endpoint::Grant),
        times: 0,
        skip: 0,
        fault: Fault::Answer {
            http_status: 200,
            code: "1405".into(),
            message: "车场下发失败".into(),
        },
    });
    for _ in 0..3 {
        assert_eq!(
            code(&send_grant(&client, &running, &grant(PLATE)).await.1),
            "1405"
        );
    }
    assert_eq!(
        code(&send_event(&client, &running, &event("c", PLATE)).await.1),
        "1001"
    );
    sb.clear_faults();
    assert_eq!(
        code(&send_grant(&client, &running, &grant(PLATE)).await.1),
        "1001"
    );
}

#[tokio::test]
async fn drop_fault_closes_the_connection_without_an_answer() {
    let (sb, running, client) = start().await;
    for (after_applying, id) in [(false, "not-applied"), (true, "applied")] {
        sb.push_fault(FaultRule {
            endpoint: Some(Endpoint::Event),
            times: 1,
            skip: 0,
            fault: Fault::Drop { after_applying },
        });
        let form = event(id, PLATE).to_signed_form(APP, SECRET).unwrap();
        let result = post_form(&client, &running, COUPON_EVENT_PATH, form.to_urlencoded()).await;
        let err = result.expect_err("the client must see an error, not an answer");
        assert!(
            !err.is_timeout(),
            "a drop must not look like a hang: {err:?}"
        );
        let mut chain = String::new();
        let mut source: Option<&dyn std::error::Error> = Some(&err);
        while let Some(e) = source {
            chain.push_str(&format!("{e}; "));
            source = e.source();
        }
        assert!(chain.contains("closed"), "{chain}");
    }
    let coupons = sb.coupons();
    assert_eq!(coupons.len(), 1);
    assert_eq!(coupons[0].event_id.as_deref(), Some("applied"));
    let requests = sb.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.answer.dropped && r.answer.http_status.is_none())
    );
    // The sandbox keeps serving, and the applied event is now a duplicate.
    let (_, v) = send_event(&client, &running, &event("applied", PLATE)).await;
    assert_eq!(code(&v), "1403");
    let (_, v) = send_event(&client, &running, &event("not-applied", PLATE)).await;
    assert_eq!(code(&v), "1001");
}

#[tokio::test]
async fn malformed_json_fault_sends_a_non_json_200() {
    let (sb, running, client) = start().await;
    for after_applying in [false, true] {
        sb.push_fault(FaultRule {
            endpoint: Some(Endpoint::Grant),
            times: 1,
            skip: 0,
            fault: Fault::MalformedJson { after_applying },
        });
        let form = grant(PLATE).to_signed_form(APP, SECRET).unwrap();
        let resp = client
            .post(format!("{}{COUPON_GRANT_PATH}", running.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_urlencoded())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let text = resp.text().await.unwrap();
        assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    }
    assert_eq!(sb.coupons().len(), 1, "only the after_applying one issued");
    let r = &sb.requests()[0];
    assert_eq!(
        (r.answer.http_status, r.answer.code.as_deref()),
        (Some(200), None)
    );
}

#[tokio::test]
async fn vip_complete_wipes_and_pay_partner_replaces() {
    let (sb, running, client) = start().await;
    let batch = |complete, rows| VipRechargeBatch {
        park_uuid: PARK.into(),
        complete,
        rows,
    };
    let first = batch(
        false,
        vec![vip_row("p1", PLATE, "30"), vip_row("p2", "粤X33333", "30")],
    );
    let (status, v) = send_vip(&client, &running, &first, SECRET).await;
    assert_eq!((status, code(&v)), (200, "1001"), "{v}");
    assert_eq!(v["message"], "同步成功");
    // A resend plus a changed p1: no row is added twice.
    send_vip(&client, &running, &first, SECRET).await;
    let changed = batch(
        false,
        vec![vip_row("p1", PLATE, "60"), vip_row("p3", "京N12345", "1")],
    );
    send_vip(&client, &running, &changed, SECRET).await;
    let records = sb.vip_records(PARK);
    let keys: Vec<_> = records.iter().map(|r| r.pay_partner.as_str()).collect();
    assert_eq!(keys, ["p1", "p2", "p3"]);
    assert_eq!(records[0].value.as_deref(), Some("60"));

    let full = batch(true, vec![vip_row("p9", PLATE, "1")]);
    assert_eq!(
        code(&send_vip(&client, &running, &full, SECRET).await.1),
        "1001"
    );
    let keys: Vec<_> = sb
        .vip_records(PARK)
        .into_iter()
        .map(|r| r.pay_partner)
        .collect();
    assert_eq!(keys, ["p9"], "complete = 1 wipes the car park first");
    assert!(sb.vip_records("other-park").is_empty());
    let r = sb.requests();
    assert_eq!(r[0].endpoint, Endpoint::VipRecharge);
    assert!(r[0].authorization.is_some() && r[0].fields.is_empty());
}

#[tokio::test]
async fn vip_refusals_batch_size_signature_and_injected_failure() {
    let (sb, running, client) = start().await;
    sb.set_max_vip_batch(3);
    let rows = (0..4)
        .map(|i| vip_row(&format!("p{i}"), PLATE, "1"))
        .collect();
    let big = VipRechargeBatch {
        park_uuid: PARK.into(),
        complete: false,
        rows,
    };
    let (status, v) = send_vip(&client, &running, &big, SECRET).await;
    assert_eq!((status, code(&v)), (400, "400"));
    assert_eq!(v["hint"], "`row` size exceeds 3");

    let one = VipRechargeBatch {
        park_uuid: PARK.into(),
        complete: false,
        rows: vec![vip_row("p1", PLATE, "1")],
    };
    let (status, v) = send_vip(&client, &running, &one, "wrong").await;
    assert_eq!((status, code(&v)), (401, "401"));
    let mut unknown = one.clone();
    unknown.park_uuid = "not-a-park".into();
    assert_eq!(send_vip(&client, &running, &unknown, SECRET).await.0, 401);

    sb.push_fault(FaultRule {
        endpoint: Some(Endpoint::VipRecharge),
        times: 1,
        skip: 0,
        fault: Fault::Answer {
            http_status: 503,
            code: "1500".into(),
            message: "内部错误".into(),
        },
    });
    assert_eq!(
        code(&send_vip(&client, &running, &one, SECRET).await.1),
        "1500"
    );
    assert!(sb.vip_records(PARK).is_empty());
    assert_eq!(
        code(&send_vip(&client, &running, &one, SECRET).await.1),
        "1001"
    );
    assert_eq!(sb.vip_records(PARK).len(), 1);
}

#[tokio::test]
async fn the_control_api_configures_and_reports() {
    let sb = PyunSandbox::new();
    let running = sb.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = reqwest::Client::new();
    let url = |p: &str| format!("{}/_sandbox/{p}", running.base_url);
    let ok = |r: reqwest::Response| {
        assert!(r.status().is_success(), "{}", r.status());
    };
    ok(client
        .post(url("apps"))
        .json(&json!({"app_id": APP, "secret": SECRET}))
        .send()
        .await
        .unwrap());
    ok(client
        .post(url("api-types"))
        .json(&json!({"api_type": API_TYPE}))
        .send()
        .await
        .unwrap());
    ok(client
        .post(url("coupon-codes"))
        .json(&json!({"coupon_code": COUPON_CODE}))
        .send()
        .await
        .unwrap());
    ok(client
        .post(url("vip-parks"))
        .json(&json!({"park_uuid": PARK, "app_id": APP}))
        .send()
        .await
        .unwrap());
    ok(client
        .post(url("parked"))
        .json(&json!({"plate": "沪a68688"}))
        .send()
        .await
        .unwrap());
    let bad = client
        .post(url("parked"))
        .json(&json!({"plate": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    ok(client
        .put(url("settings"))
        .json(&json!({"plate_limit": 1, "latency_ms": 0}))
        .send()
        .await
        .unwrap());
    let settings: Value = client
        .get(url("settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["plate_limit"], 1);

    assert_eq!(
        code(&send_event(&client, &running, &event("e1", PLATE)).await.1),
        "1001"
    );
    assert_eq!(
        code(&send_event(&client, &running, &event("e2", PLATE)).await.1),
        "1003"
    );
    let rule = json!({"endpoint": "grant", "times": 1,
        "fault": {"kind": "answer", "http_status": 200, "code": "1405", "message": "车场下发失败"}});
    ok(client.post(url("faults")).json(&rule).send().await.unwrap());
    assert_eq!(
        code(&send_grant(&client, &running, &grant(PLATE)).await.1),
        "1405"
    );
    ok(client
        .delete(url(&format!("parked/{PLATE}")))
        .send()
        .await
        .unwrap());
    ok(client
        .put(url("settings"))
        .json(&json!({"plate_limit": 10}))
        .send()
        .await
        .unwrap());
    assert_eq!(
        code(&send_grant(&client, &running, &grant(PLATE)).await.1),
        "1002"
    );
    ok(client.post(url("faults")).json(&rule).send().await.unwrap());
    ok(client.delete(url("faults")).send().await.unwrap());

    let requests: Vec<Value> = client
        .get(url("requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let codes: Vec<_> = requests
        .iter()
        .map(|r| r["answer"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["1001", "1003", "1405", "1002"]);
    assert_eq!(requests[2]["endpoint"], "grant");
    let coupons: Vec<Value> = client
        .get(url("coupons"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(coupons.len(), 1);
    assert_eq!(coupons[0]["event_id"], "e1");

    let one = VipRechargeBatch {
        park_uuid: PARK.into(),
        complete: true,
        rows: vec![vip_row("p1", PLATE, "1")],
    };
    assert_eq!(
        code(&send_vip(&client, &running, &one, SECRET).await.1),
        "1001"
    );
    let vip: Vec<Value> = client
        .get(url(&format!("vip/{PARK}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(vip.len(), 1);
    assert_eq!(vip[0]["pay_partner"], "p1");
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let (_sb, running, client) = start().await;
    let url = format!("{}/_sandbox/coupons", running.base_url);
    assert!(client.get(&url).send().await.unwrap().status().is_success());
    drop(running);
    // The abort completes when the runtime next polls the task: allow it a moment.
    let fresh = reqwest::Client::new();
    let mut refused = false;
    for _ in 0..50 {
        if fresh.get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        refused,
        "the server still answers after its handle was dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_are_all_recorded_with_distinct_serials() {
    let (sb, running, client) = start().await;
    sb.set_any_plate_parked(true);
    sb.set_plate_limit(1000);
    sb.set_latency(Duration::from_millis(20));
    let calls = (0..40).map(|i| {
        let client = client.clone();
        let base = running.base_url.clone();
        async move {
            let form = event(&format!("ev-{i}"), PLATE)
                .to_signed_form(APP, SECRET)
                .unwrap();
            let resp = client
                .post(format!("{base}{COUPON_EVENT_PATH}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_urlencoded())
                .send()
                .await
                .unwrap();
            resp.json::<Value>().await.unwrap()
        }
    });
    let answers: Vec<Value> = futures_join_all(calls).await;
    assert!(answers.iter().all(|a| code(a) == "1001"));
    let mut serials: Vec<_> = sb.coupons().into_iter().map(|c| c.grant_serial).collect();
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), 40);
    let seqs: Vec<u64> = sb.requests().iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
}

/// Runs futures concurrently on the runtime without a `futures` dependency.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
