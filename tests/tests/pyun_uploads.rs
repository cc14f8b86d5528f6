//! Every entry and exit of a car park on P云 car-park access reaches P云 (issue 16 part 3,
//! pyun-carpark.md §4): the real binary on SQLite and PostgreSQL, gate events through the gate
//! API, and the P云 sandbox verifying each upload's signature with the car park's upload secret.
//!
//! Amounts are §5's worked-example tariff: a stay of 100 min costs 1600; an amount coupon of 300
//! leaves 1300, paid through P云.

use std::time::{Duration, Instant};

use e2e::coupon_site::{FAST_RETRIES, send};
use e2e::mallcoo_v14_site::{ago, now_s};
use e2e::pyun_gateway_site::{DOWNLINK_KEY, PARK_UUID, PyunSite, UPLOAD_SECRET};
use e2e::server::{Backend, TestServer};
use e2e::vip_site::PARK_A;
use reqwest::Method;
use sandbox::pyun::{
    CarParkRegistration, Fault, PyunSandbox, RunningSandbox, Upload, UploadFaultRule, UploadPath,
};
use serde_json::{Value, json};

e2e::on_both_engines! {
    a_stay_goes_to_pyun_entry_then_leave_signed_with_the_exits_figure => stay_uploaded;
    a_leave_waits_for_its_entry_while_pyun_fails => leave_waits;
    a_signature_pyun_ignores_shows_as_misconfigured_and_the_secret_never_leaks => sign_hint;
}

/// The P云 sandbox knowing car park A, and the site whose server uploads to it.
struct Uploads {
    pyun: PyunSandbox,
    _running: RunningSandbox,
    p: PyunSite,
}

impl Uploads {
    async fn start(backend: Backend, capture_logs: bool) -> Uploads {
        let pyun = PyunSandbox::new();
        let running = pyun
            .start("127.0.0.1:0".parse().unwrap())
            .await
            .expect("sandbox starts");
        let base = format!("PARKBRIDGE_PYUN_BASE_URL={}", running.base_url);
        let mut args = vec![base.as_str()];
        args.extend_from_slice(&FAST_RETRIES);
        let server = if capture_logs {
            TestServer::start_capturing_logs(backend, &args)
        } else {
            TestServer::start_with(backend, &args)
        };
        let gateway_url = server.url("/pyun/v1/gateway");
        pyun.register_carpark(CarParkRegistration {
            park_uuid: PARK_UUID.into(),
            gateway_url,
            downlink_key: DOWNLINK_KEY.into(),
            upload_secret: UPLOAD_SECRET.into(),
            api_store_code: None,
            merchant: None,
        })
        .expect("registered");
        let p = PyunSite::with_server(server).await;
        Uploads {
            pyun,
            _running: running,
            p,
        }
    }

    /// The uploads of stay `serial` P云 received, in arrival order.
    fn of(&self, serial: &str) -> Vec<Upload> {
        self.pyun
            .uploads(Some(PARK_UUID))
            .into_iter()
            .filter(|u| u.parking_serial.as_deref() == Some(serial))
            .collect()
    }

    /// Waits until `done` holds for stay `serial`'s uploads; panics with them after 30 s.
    async fn wait(&self, serial: &str, done: impl Fn(&[Upload]) -> bool) -> Vec<Upload> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let uploads = self.of(serial);
            if done(&uploads) {
                return uploads;
            }
            assert!(
                Instant::now() < deadline,
                "uploads of {serial} never settled: {uploads:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The car park's upload records as the admin's listing shows them, newest first.
    async fn records(&self) -> Vec<Value> {
        let vip = &self.p.site.vip;
        let (status, page) = send(
            &vip.admin,
            Method::GET,
            &vip.server.url(&format!(
                "/api/v1/coupon-records?kind=pyun_uploads&park_id={}",
                vip.park_a
            )),
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        page["records"].as_array().unwrap().clone()
    }

    /// Waits until the upload record `key` is final; returns it.
    async fn final_record(&self, key: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let records = self.records().await;
            if let Some(r) = records.iter().find(|r| r["key"] == key)
                && !matches!(r["state"].as_str(), Some("pending" | "sending"))
            {
                return r.clone();
            }
            assert!(
                Instant::now() < deadline,
                "record {key} never final: {records:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A text part of an upload.
fn field<'a>(u: &'a Upload, name: &str) -> Option<&'a str> {
    u.fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Accepted by P云: answered `200` without a hint, signature verified.
fn accepted(u: &Upload) -> bool {
    u.answer.code.as_deref() == Some("200") && u.hint.is_none() && u.sign_ok == Some(true)
}

fn accepted_of(uploads: &[Upload], path: UploadPath) -> Option<&Upload> {
    uploads.iter().find(|u| u.path == path && accepted(u))
}

async fn stay_uploaded(backend: Backend) {
    let up = Uploads::start(backend, false).await;
    let (p, site) = (&up.p, &up.p.site);
    let session = site.enter(PARK_A, Some("沪A70002"), ago(100)).await;
    let id = session["id"].as_i64().unwrap();
    let serial = format!("PB{id}");
    let uploads = up
        .wait(&serial, |u| accepted_of(u, UploadPath::Enter).is_some())
        .await;
    let enter = accepted_of(&uploads, UploadPath::Enter).unwrap();
    for (name, value) in [
        ("park_uuid", PARK_UUID),
        ("plate", "沪A70002"),
        ("plate_color", "-1"),
        ("car_type", "1"),
        ("car_desc", "临停车"),
        ("charge_type", "1"),
        ("total_parking_space", "60"),
        ("remain_parking_space", "59"),
    ] {
        assert_eq!(field(enter, name), Some(value), "{name}: {enter:#?}");
    }
    let enter_time = field(enter, "enter_time").unwrap().to_owned();
    let entry_at: chrono::DateTime<chrono::Utc> =
        session["entry_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(enter_time, entry_at.timestamp_millis().to_string());

    // A P云 coupon worth 300 and P云's payment of the rest, then the exit at 0.
    assert_eq!(p.grant("沪A70002", "G-UP", 1, 300).await.code(), "1001");
    let bill = p.bill("沪A70002").await;
    assert_eq!(bill.json["pay_value"], 1300, "{:?}", bill.json);
    assert_eq!(p.pay(&bill.json, "PAY-UP", 1300, 0).await.code(), "1001");
    let out = site.exit(PARK_A, "沪A70002", now_s()).await;
    assert_eq!(out["session"]["fee_due_fen"], 0, "{out}");

    let uploads = up
        .wait(&serial, |u| accepted_of(u, UploadPath::Leave).is_some())
        .await;
    let enter = accepted_of(&uploads, UploadPath::Enter).unwrap();
    let leave = accepted_of(&uploads, UploadPath::Leave).unwrap();
    assert!(enter.seq < leave.seq, "entry first: {uploads:#?}");
    assert!(
        uploads
            .iter()
            .all(|u| !u.duplicate && u.sign_ok == Some(true)),
        "{uploads:#?}"
    );
    for (name, value) in [
        ("enter_time", enter_time.as_str()),
        ("total_value", "1600"),
        ("free_value", "300"),
        ("online_value", "1300"),
        ("remain_parking_space", "60"),
        ("parking_serial", serial.as_str()),
    ] {
        assert_eq!(field(leave, name), Some(value), "{name}: {leave:#?}");
    }
    let list: Value = serde_json::from_str(field(leave, "payment_list").unwrap()).unwrap();
    assert_eq!(
        list,
        json!([{
            "pay_type": "2", "pay_origin_desc": "微信",
            "pay_time": list[0]["pay_time"], "value": 1300,
            "parking_order": bill.json["parking_order"],
        }]),
        "{list}"
    );

    // P云 learned one closed stay, entry and leave matched on enter_time.
    let stays: Vec<_> = up
        .pyun
        .stays(Some(PARK_UUID))
        .into_iter()
        .filter(|s| s.parking_serial == serial)
        .collect();
    assert_eq!(stays.len(), 1, "{stays:#?}");
    assert!(
        stays[0].entered && !stays[0].open && !stays[0].enter_time_mismatch,
        "{stays:#?}"
    );

    // The admin sees both uploads, delivered, with P云's answer; the coupon listing does not.
    let leave_record = up.final_record(&format!("leave:{id}")).await;
    let records = up.records().await;
    let ours: Vec<&Value> = records
        .iter()
        .filter(|r| r["key"].as_str().unwrap().ends_with(&format!(":{id}")))
        .collect();
    let kinds: Vec<(&str, &str)> = ours
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [("pyun_leave", "delivered"), ("pyun_enter", "delivered")],
        "{records:#?}"
    );
    assert_eq!(leave_record["pyun"]["code"], "200", "{leave_record}");
    assert_eq!(leave_record["plate"], "沪A70002");
    let vip = &site.vip;
    let (status, coupons) = send(
        &vip.admin,
        Method::GET,
        &vip.server.url("/api/v1/coupon-records"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{coupons}");
    assert!(
        !coupons.to_string().contains("pyun_"),
        "the coupon listing keeps to coupons: {coupons}"
    );
    let (status, refused) = send(
        &vip.admin,
        Method::GET,
        &vip.server.url("/api/v1/coupon-records?kind=vip"),
        None,
    )
    .await;
    assert_eq!(
        (status.as_u16(), &refused["error"]["code"]),
        (400, &json!("invalid_kind"))
    );
}

async fn leave_waits(backend: Backend) {
    let up = Uploads::start(backend, false).await;
    let site = &up.p.site;
    // P云 is unavailable for the next two entry uploads.
    up.pyun.push_upload_fault(UploadFaultRule {
        path: Some(UploadPath::Enter),
        park_uuid: Some(PARK_UUID.into()),
        times: 2,
        skip: 0,
        fault: Fault::Answer {
            http_status: 503,
            code: "503".into(),
            message: "服务暂不可用".into(),
        },
    });
    let session = site.enter(PARK_A, Some("沪A70011"), ago(30)).await;
    let out = site.exit(PARK_A, "沪A70011", now_s()).await;
    assert_eq!(out["session"]["fee_due_fen"], 1000, "{out}");
    let serial = format!("PB{}", session["id"].as_i64().unwrap());
    let uploads = up
        .wait(&serial, |u| accepted_of(u, UploadPath::Leave).is_some())
        .await;
    let paths: Vec<(UploadPath, Option<&str>)> = uploads
        .iter()
        .map(|u| (u.path, u.answer.code.as_deref()))
        .collect();
    assert_eq!(
        paths,
        [
            (UploadPath::Enter, Some("503")),
            (UploadPath::Enter, Some("503")),
            (UploadPath::Enter, Some("200")),
            (UploadPath::Leave, Some("200")),
        ],
        "the leave went only after its entry was accepted: {uploads:#?}"
    );
    let leave = accepted_of(&uploads, UploadPath::Leave).unwrap();
    assert_eq!(field(leave, "total_value"), Some("1000"));
    assert_eq!(field(leave, "online_value"), Some("0"));
    assert_eq!(field(leave, "payment_list"), None);
    let entry = up
        .final_record(&format!("enter:{}", session["id"].as_i64().unwrap()))
        .await;
    assert_eq!(
        (&entry["state"], &entry["attempts"]),
        (&json!("delivered"), &json!(3))
    );
}

async fn sign_hint(backend: Backend) {
    let up = Uploads::start(backend, true).await;
    let site = &up.p.site;
    assert!(up.pyun.set_sign_hint(PARK_UUID, true));
    let session = site.enter(PARK_A, Some("沪A70021"), ago(10)).await;
    let id = session["id"].as_i64().unwrap();
    let record = up.final_record(&format!("enter:{id}")).await;
    assert_eq!(record["state"], "misconfigured", "{record}");
    assert_eq!(record["attempts"], 1, "not retried: {record}");
    let hint = record["pyun"]["hint"].as_str().unwrap();
    assert!(
        hint.starts_with("签名验证不通过[") && hint.contains("app_secret=***"),
        "{hint}"
    );
    assert!(
        hint.contains(&format!("parking_serial=PB{id}")),
        "P云's plaintext, to diff with ours: {hint}"
    );
    assert!(
        record["error"].as_str().unwrap().contains("signature"),
        "{record}"
    );

    // Fixed at P云's side: the next stay goes through; the ignored one is not resent by itself.
    assert!(up.pyun.set_sign_hint(PARK_UUID, false));
    let next = site.enter(PARK_A, Some("沪A70022"), ago(5)).await;
    let next_id = next["id"].as_i64().unwrap();
    let record = up.final_record(&format!("enter:{next_id}")).await;
    assert_eq!(record["state"], "delivered", "{record}");
    assert_eq!(up.of(&format!("PB{id}")).len(), 1);

    let logs = site.vip.server.logs();
    assert!(logs.contains("P云 refused an upload's signature"), "{logs}");
    assert!(
        !logs.contains(UPLOAD_SECRET) && !logs.contains(DOWNLINK_KEY),
        "a secret reached the logs"
    );
}
