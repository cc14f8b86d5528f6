//! The Mallcoo sandbox over real HTTP on loopback: the EnterInfoNotify receiver's rules
//! (signature, ±5 min, fields, ParkCode, TradeID dedupe), its faults and control API, and the
//! V1.4 client against a stub car park that checks its signatures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing;
use chrono::{TimeDelta, Utc};
use protocol::mallcoo::enter_notify::PATH;
use protocol::mallcoo::{
    DEFAULT_MAX_SKEW, EnterInfoNotify, MallcooKeys, PayFeeRequest, ReceivedHeaders, SignedHeaders,
    verify,
};
use sandbox::mallcoo::client::{ClientKeys, MallcooClient, StormSettings};
use sandbox::mallcoo::{Fault, FaultRule, MallcooSandbox, RunningSandbox};
use serde_json::{Value, json};

const APP: &str = "mallcoo-app-1";
const PUBLIC: &str = "PK_test_0001";
const PRIVATE: &str = "SK_test_secret";
const PARK_CODE: &str = "P001";
/// Longest any single call may take before a test calls it a hang.
const HANG: Duration = Duration::from_secs(10);

const KEYS: MallcooKeys<'static> = MallcooKeys {
    app_id: APP,
    public_key: PUBLIC,
    private_key: PRIVATE,
};

async fn start() -> (MallcooSandbox, RunningSandbox, reqwest::Client) {
    let sb = MallcooSandbox::new();
    sb.add_app(APP, PUBLIC, PRIVATE);
    sb.add_park_code(PARK_CODE);
    let running = sb.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (sb, running, reqwest::Client::new())
}

fn notice(trade_id: &str) -> EnterInfoNotify {
    EnterInfoNotify {
        park_code: PARK_CODE.into(),
        plate_no: "沪A68688".into(),
        in_time: "2026-11-23T18:00:00Z".parse().unwrap(),
        trade_id: trade_id.into(),
    }
}

/// Posts `body` with `headers`; returns the status and the body (JSON when it is).
async fn post(
    client: &reqwest::Client,
    sb: &RunningSandbox,
    headers: &SignedHeaders,
    body: &str,
) -> reqwest::Result<(u16, Value)> {
    let mut req = client
        .post(format!("{}{PATH}", sb.base_url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (n, v) in headers.pairs() {
        req = req.header(n, v);
    }
    let resp = tokio::time::timeout(HANG, req.send())
        .await
        .expect("hang")?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

async fn send_notice(
    client: &reqwest::Client,
    sb: &RunningSandbox,
    n: &EnterInfoNotify,
) -> (u16, Value) {
    let signed = n.sign(&KEYS, Utc::now());
    post(client, sb, &signed.headers, &signed.body)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_signed_notice_is_accepted_once_per_trade_id() {
    let (sb, running, client) = start().await;
    let (status, body) = send_notice(&client, &running, &notice("42")).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"Code": 1, "Message": "成功"}));
    // A resend after a lost answer: accepted again, recorded once.
    let (status, body) = send_notice(&client, &running, &notice("42")).await;
    assert_eq!((status, body["Code"].clone()), (200, json!(1)));
    let notices = sb.notices();
    assert_eq!(notices.len(), 1);
    let n = &notices[0];
    assert_eq!(
        (
            n.app_id.as_str(),
            n.park_code.as_str(),
            n.plate_no.as_str(),
            n.in_time.as_str(),
            n.trade_id.as_str(),
            n.copies
        ),
        (APP, PARK_CODE, "沪A68688", "2026-11-24 02:00:00", "42", 2)
    );
    let requests = sb.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.signature_ok));
    assert_eq!(requests[0].answer.code, Some(1));
    // The control API shows the same.
    let listed: Value = client
        .get(format!("{}/_sandbox/mallcoo/notices", running.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["trade_id"], "42");
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_credentials_and_stale_timestamps_are_401() {
    let (sb, running, client) = start().await;
    let signed = notice("1").sign(&KEYS, Utc::now());
    let cases = [
        SignedHeaders {
            sign: "0123456789ABCDEF".into(),
            ..signed.headers.clone()
        },
        SignedHeaders {
            app_id: "someone-else".into(),
            ..signed.headers.clone()
        },
        SignedHeaders {
            public_key: "PK_other".into(),
            ..signed.headers.clone()
        },
        notice("1")
            .sign(&KEYS, Utc::now() - TimeDelta::minutes(6))
            .headers,
        notice("1")
            .sign(&KEYS, Utc::now() + TimeDelta::minutes(6))
            .headers,
    ];
    for headers in &cases {
        let (status, body) = post(&client, &running, headers, &signed.body)
            .await
            .unwrap();
        assert_eq!(status, 401, "{body}");
        assert_ne!(body["Code"], 1, "{body}");
        assert!(body["Message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // The body altered after signing.
    let altered = signed.body.replace("沪A68688", "沪A68689");
    let (status, _) = post(&client, &running, &signed.headers, &altered)
        .await
        .unwrap();
    assert_eq!(status, 401);
    // A signature from 4 minutes ago is still fine.
    let recent = notice("1").sign(&KEYS, Utc::now() - TimeDelta::minutes(4));
    let (status, _) = post(&client, &running, &recent.headers, &recent.body)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(sb.notices().len(), 1);
    assert_eq!(
        sb.requests().iter().filter(|r| !r.signature_ok).count(),
        cases.len() + 1
    );
}

#[tokio::test]
async fn bad_fields_are_code_2_and_an_unknown_park_code_1101() {
    let (sb, running, client) = start().await;
    for body in [
        r#"{"ParkCode":"P001","PlateNo":"","InTime":"2026-11-24 02:00:00","TradeID":"1"}"#,
        r#"{"ParkCode":"P001","PlateNo":"沪A68688","InTime":"2026/11/24 02:00","TradeID":"1"}"#,
        r#"{"ParkCode":"P001","PlateNo":"沪A68688","InTime":"2026-11-24 02:00:00","TradeID":""}"#,
        r#"{"ParkCode":"P001","PlateNo":"not a plate","InTime":"2026-11-24 02:00:00","TradeID":"1"}"#,
        "not json",
    ] {
        let headers = protocol::mallcoo::sign_headers(&KEYS, Utc::now(), body);
        let (status, answer) = post(&client, &running, &headers, body).await.unwrap();
        assert_eq!((status, answer["Code"].clone()), (200, json!(2)), "{body}");
    }
    let mut n = notice("1");
    n.park_code = "P404".into();
    let (status, answer) = send_notice(&client, &running, &n).await;
    assert_eq!((status, answer["Code"].clone()), (200, json!(1101)));
    assert!(sb.notices().is_empty());
}

#[tokio::test]
async fn faults_answer_5xx_delay_reset_and_garble() {
    let (sb, running, client) = start().await;
    sb.push_fault(FaultRule {
        times: 2,
        skip: 0,
        fault: Fault::Answer {
            http_status: 503,
            code: 500,
            message: "系统繁忙".into(),
        },
    });
    for _ in 0..2 {
        let (status, body) = send_notice(&client, &running, &notice("7")).await;
        assert_eq!(status, 503);
        assert_eq!(body, json!({"Code": 500, "Message": "系统繁忙"}));
    }
    assert!(sb.notices().is_empty(), "a faulted notice is not recorded");
    let (status, _) = send_notice(&client, &running, &notice("7")).await;
    assert_eq!(status, 200);
    assert_eq!(sb.notices().len(), 1);

    sb.push_fault(FaultRule {
        times: 1,
        skip: 0,
        fault: Fault::Latency { ms: 400 },
    });
    let signed = notice("8").sign(&KEYS, Utc::now());
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let slow = post(&impatient, &running, &signed.headers, &signed.body).await;
    assert!(slow.is_err_and(|e| e.is_timeout()));

    sb.push_fault(FaultRule {
        times: 1,
        skip: 0,
        fault: Fault::Drop {
            after_applying: true,
        },
    });
    let dropped = post(
        &client,
        &running,
        &notice("9").sign(&KEYS, Utc::now()).headers,
        &notice("9").to_body(),
    )
    .await;
    assert!(dropped.is_err(), "{dropped:?}");
    assert!(
        sb.notices().iter().any(|n| n.trade_id == "9"),
        "applied before the drop"
    );

    sb.push_fault(FaultRule {
        times: 1,
        skip: 0,
        fault: Fault::MalformedJson {
            after_applying: false,
        },
    });
    let (status, body) = send_notice(&client, &running, &notice("10")).await;
    assert_eq!(status, 200);
    assert!(body.is_string(), "{body}");
    assert!(!sb.notices().iter().any(|n| n.trade_id == "10"));
}

#[tokio::test]
async fn the_control_api_configures_and_resets() {
    let sb = MallcooSandbox::new();
    let running = sb.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = reqwest::Client::new();
    let url = |p: &str| format!("{}/_sandbox/mallcoo/{p}", running.base_url);
    let status = |r: reqwest::Response| r.status().as_u16();
    // Unknown until configured.
    let (code, _) = send_notice(&client, &running, &notice("1")).await;
    assert_eq!(code, 401);
    let r = client
        .post(url("apps"))
        .json(&json!({"app_id": APP, "public_key": PUBLIC, "private_key": PRIVATE}))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 204);
    let (_, body) = send_notice(&client, &running, &notice("1")).await;
    assert_eq!(body["Code"], 1101);
    let r = client
        .post(url("park-codes"))
        .json(&json!({"park_code": PARK_CODE}))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 204);
    let r = client
        .post(url("faults"))
        .json(&json!({"times": 1, "fault": {"kind": "answer", "http_status": 502, "code": 0, "message": "bad gateway"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 204);
    let (code, _) = send_notice(&client, &running, &notice("1")).await;
    assert_eq!(code, 502);
    let (_, body) = send_notice(&client, &running, &notice("1")).await;
    assert_eq!(body["Code"], 1);
    let requests: Value = client
        .get(url("requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(requests.as_array().unwrap().len(), 4);
    let r = client
        .put(url("settings"))
        .json(&json!({"latency_ms": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 204);
    let settings: Value = client
        .get(url("settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings, json!({"latency_ms": 5, "max_skew_secs": 300}));
    let r = client.post(url("reset")).send().await.unwrap();
    assert_eq!(status(r), 204);
    assert!(sb.notices().is_empty() && sb.requests().is_empty());
    // Keys and park codes survive a reset.
    let (_, body) = send_notice(&client, &running, &notice("2")).await;
    assert_eq!(body["Code"], 1);
}

/// A stand-in car park for the client: verifies every call's signature like ParkBridge and
/// answers PayParkingFee once per `orderNo` (later copies get the stored answer).
#[derive(Clone, Default)]
struct StubPark {
    orders: Arc<Mutex<HashMap<String, String>>>,
    payments: Arc<Mutex<usize>>,
}

async fn stub_call(
    State(stub): State<StubPark>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (axum::http::StatusCode, String) {
    let get = |n: &'static str| headers.get(n).and_then(|v| v.to_str().ok());
    let received = ReceivedHeaders::from_lookup(get);
    if let Err(e) = verify(&received, &body, &KEYS, Utc::now(), DEFAULT_MAX_SKEW) {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            json!({"error": e.to_string()}).to_string(),
        );
    }
    let v: Value = serde_json::from_slice(&body).unwrap();
    let answer = match method.as_str() {
        "GetParkingPaymentInfo" => json!({
            "resCode": 0, "resMsg": "", "feeId": format!("fee-{}", v["plateNo"].as_str().unwrap()),
            "entryTime": "2026-11-24 08:00:00", "parkingMinutes": 90, "totalAmount": 1000,
            "unPayAmount": 1000, "deductionAmount": 0, "paidAmount": 0
        })
        .to_string(),
        "PayParkingFee" => {
            let request: PayFeeRequest = serde_json::from_slice(&body).unwrap();
            let mut orders = stub.orders.lock().unwrap();
            orders
                .entry(request.order_no.clone())
                .or_insert_with(|| {
                    *stub.payments.lock().unwrap() += 1;
                    json!({"resCode": 0, "resMsg": "成功"}).to_string()
                })
                .clone()
        }
        "GetTraffic" => json!({"resCode": 0, "resMsg": "", "inNum": 3, "outNum": 2}).to_string(),
        _ => return (axum::http::StatusCode::NOT_FOUND, String::new()),
    };
    (axum::http::StatusCode::OK, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_signs_every_call_and_a_storm_pays_each_order_once() {
    let stub = StubPark::default();
    let app = axum::Router::new()
        .route("/mallcoo/v1/{method}", routing::post(stub_call))
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let keys = ClientKeys {
        app_id: APP.into(),
        public_key: PUBLIC.into(),
        private_key: PRIVATE.into(),
    };
    let client = MallcooClient::new(&base, keys.clone(), Some("park-1".into()));
    assert!(
        !format!("{keys:?}").contains(PRIVATE),
        "the private key is never printed"
    );

    let quote = client.payment_info_for_plate("沪A68688").await.unwrap();
    assert_eq!(quote.status, 200, "{}", quote.body);
    let q = quote.answer.clone().unwrap();
    assert_eq!(q.quote.as_ref().unwrap().un_pay_amount, 1000);
    let traffic = client
        .traffic(&protocol::mallcoo::TrafficRequest {
            park_id: None,
            start_time: Utc::now() - TimeDelta::hours(1),
            end_time: Utc::now(),
        })
        .await
        .unwrap();
    assert_eq!(traffic.answer.unwrap().counts.unwrap().in_num, 3);

    let pay = MallcooClient::full_payment("order-1", "沪A68688", &q).unwrap();
    assert_eq!((pay.amount, pay.un_pay_amount), (1000, 1000));
    let answers = client.pay_with_retries(&pay, 3).await;
    assert_eq!(answers.len(), 3);
    let bodies: Vec<_> = answers
        .iter()
        .map(|a| a.as_ref().unwrap().body.clone())
        .collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(*stub.payments.lock().unwrap(), 1);

    // A wrong key is refused by the stub with 401, and the client reports it, not an answer.
    let bad = MallcooClient::new(
        &base,
        ClientKeys {
            private_key: "SK_wrong".into(),
            ..keys
        },
        None,
    );
    let refused = bad.payment_info_for_plate("沪A68688").await.unwrap();
    assert_eq!(refused.status, 401);
    assert!(refused.answer.is_none());

    let plates: Vec<String> = (0..200).map(|i| format!("沪B{i:05}")).collect();
    let report = client
        .retry_storm(
            &plates,
            &StormSettings {
                order_prefix: "s1-".into(),
                ..StormSettings::default()
            },
        )
        .await;
    assert!(report.all_paid_identically(), "{report:?}");
    assert_eq!(
        (report.orders, report.calls, report.answers),
        (200, 800, 600)
    );
    assert_eq!(*stub.payments.lock().unwrap(), 201);
}
