//! Every entry and exit of a car park on P云 car-park access reaches P云 (issue 16 part 3,
//! pyun-carpark.md §4): the real binary on SQLite and PostgreSQL, gate events through the gate
//! API, and the P云 sandbox verifying each upload's signature with the car park's upload secret.
//!
//! Amounts are §5's worked-example tariff: a stay of 100 min costs 1600; an amount coupon of 300
//! leaves 1300, paid through P云.

use std::time::{Duration, Instant};

use e2e::coupon_site::send;
use e2e::mallcoo_v14_site::{ago, now_s};
use e2e::pyun_cloud_site::{PyunCloud as Uploads, accepted, accepted_of, field};
use e2e::pyun_gateway_site::{DOWNLINK_KEY, PARK_UUID, UPLOAD_SECRET};
use e2e::server::Backend;
use e2e::vip_site::PARK_A;
use reqwest::Method;
use sandbox::pyun::{Fault, UploadFaultRule, UploadPath};
use serde_json::{Value, json};

e2e::on_both_engines! {
    a_stay_goes_to_pyun_entry_then_leave_signed_with_the_exits_figure => stay_uploaded;
    a_leave_waits_for_its_entry_while_pyun_fails => leave_waits;
    a_signature_pyun_ignores_shows_as_misconfigured_and_the_secret_never_leaks => sign_hint;
    a_kill_9_mid_burst_loses_no_upload_and_pyun_keeps_one_stay_per_serial => kill_9_mid_burst;
    an_admin_resends_misconfigured_uploads_once_pyun_accepts_the_signature => resend;
    a_stay_whose_plate_enters_again_without_an_exit_is_uploaded_as_left_then => superseded;
}

/// The camera missed the car's exit; its next entry closes the old stay (`no_exit_seen`). P云
/// learns that the old stay left when the car came back, priced at that moment, before or beside
/// the new stay's entry, and ends with one open stay for the plate.
async fn superseded(backend: Backend) {
    let up = Uploads::start(backend, false).await;
    let site = &up.p.site;
    let first = site.enter(PARK_A, Some("沪A70003"), ago(100)).await;
    let again = site.enter(PARK_A, Some("沪A70003"), ago(15)).await;
    let (old, new) = (first["id"].as_i64().unwrap(), again["id"].as_i64().unwrap());
    let (old_serial, new_serial) = (format!("PB{old}"), format!("PB{new}"));
    let uploads = up
        .wait(&old_serial, |u| accepted_of(u, UploadPath::Leave).is_some())
        .await;
    let enter = accepted_of(&uploads, UploadPath::Enter).unwrap();
    let leave = accepted_of(&uploads, UploadPath::Leave).unwrap();
    assert!(enter.seq < leave.seq, "entry first: {uploads:#?}");
    let back_at: chrono::DateTime<chrono::Utc> =
        again["entry_at"].as_str().unwrap().parse().unwrap();
    let back_ms = back_at.timestamp_millis().to_string();
    // 85 minutes at §5's tariff: 1000 for the first hour, one 30-minute unit of 300; unpaid.
    for (name, value) in [
        ("leave_time", back_ms.as_str()),
        ("total_value", "1300"),
        ("free_value", "0"),
        ("online_value", "0"),
        ("parking_serial", old_serial.as_str()),
    ] {
        assert_eq!(field(leave, name), Some(value), "{name}: {leave:#?}");
    }
    up.wait(&new_serial, |u| accepted_of(u, UploadPath::Enter).is_some())
        .await;
    let stays: Vec<_> = up
        .pyun
        .stays(Some(PARK_UUID))
        .into_iter()
        .filter(|s| s.plate.as_deref() == Some("沪A70003"))
        .collect();
    let open: Vec<&str> = stays
        .iter()
        .filter(|s| s.open)
        .map(|s| s.parking_serial.as_str())
        .collect();
    assert_eq!(open, [new_serial.as_str()], "{stays:#?}");
    let leave_record = up.final_record(&format!("leave:{old}")).await;
    assert_eq!(leave_record["state"], "delivered", "{leave_record}");
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

/// Cars in the burst of [`kill_9_mid_burst`]: an entry and an exit each.
const BURST_CARS: usize = 24;

async fn kill_9_mid_burst(backend: Backend) {
    let mut up = Uploads::start_with(backend, false, &["PARKBRIDGE_DELIVERY_CONCURRENCY=4"]).await;
    // A slow P云: uploads are in flight and most still queued when the server dies.
    up.pyun.push_upload_fault(UploadFaultRule {
        path: None,
        park_uuid: Some(PARK_UUID.into()),
        times: 100_000,
        skip: 0,
        fault: Fault::Latency { ms: 300 },
    });
    let mut serials = Vec::new();
    for i in 0..BURST_CARS {
        let plate = format!("沪A8{i:04}");
        let session = up.p.site.enter(PARK_A, Some(&plate), ago(60)).await;
        serials.push(format!("PB{}", session["id"].as_i64().unwrap()));
        up.p.site.exit(PARK_A, &plate, now_s()).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while up
        .pyun
        .uploads(Some(PARK_UUID))
        .iter()
        .filter(|u| accepted(u))
        .count()
        < 4
    {
        assert!(Instant::now() < deadline, "no upload reached P云");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before_kill = up.pyun.uploads(Some(PARK_UUID)).len();
    up.kill_and_restart();
    assert!(
        before_kill < 2 * BURST_CARS,
        "{before_kill} uploads had arrived: the kill must land mid-burst"
    );

    // Every stay reaches P云 once: entry then leave, both signed; an upload that was in flight
    // at the kill may arrive again, and P云 recognises it by its parking_serial.
    for serial in &serials {
        let uploads = up
            .wait(serial, |u| accepted_of(u, UploadPath::Leave).is_some())
            .await;
        let enter = accepted_of(&uploads, UploadPath::Enter).expect("entry accepted");
        let leave = accepted_of(&uploads, UploadPath::Leave).unwrap();
        assert!(enter.seq < leave.seq, "entry first: {uploads:#?}");
        for path in [UploadPath::Enter, UploadPath::Leave] {
            let firsts = uploads
                .iter()
                .filter(|u| u.path == path && accepted(u) && !u.duplicate)
                .count();
            assert_eq!(firsts, 1, "{serial} {path:?}: {uploads:#?}");
        }
        // One cut off by the kill was never answered (nor checked); every answered one verified.
        assert!(
            uploads
                .iter()
                .filter(|u| u.answer.code.is_some())
                .all(|u| u.sign_ok == Some(true)),
            "{uploads:#?}"
        );
    }
    let all = up.pyun.uploads(Some(PARK_UUID));
    let repeats = all.iter().filter(|u| u.duplicate).count();
    eprintln!(
        "{backend:?}: {before_kill} of {} uploads reached P云 before the kill; {repeats} sent again",
        2 * BURST_CARS
    );
    assert!(
        repeats <= 8,
        "only uploads in flight at the kill are sent again, not {repeats}: {all:#?}"
    );
    let stays = up.pyun.stays(Some(PARK_UUID));
    assert_eq!(stays.len(), BURST_CARS, "{stays:#?}");
    assert!(
        stays
            .iter()
            .all(|s| s.entered && !s.open && !s.enter_time_mismatch),
        "{stays:#?}"
    );
    // Nothing left behind on our side either.
    let records = up.records().await;
    let ours: Vec<&Value> = records
        .iter()
        .filter(|r| {
            serials.iter().any(|s| {
                r["key"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!(":{}", &s[2..]))
            })
        })
        .collect();
    assert_eq!(ours.len(), 2 * BURST_CARS, "{records:#?}");
    assert!(ours.iter().all(|r| r["state"] == "delivered"), "{ours:#?}");
}

/// `POST /api/v1/parks/{park}/pyun-uploads/resend` as `who`.
async fn resend_as(up: &Uploads, who: &reqwest::Client, park: i64) -> (reqwest::StatusCode, Value) {
    send(
        who,
        Method::POST,
        &up.p
            .site
            .vip
            .server
            .url(&format!("/api/v1/parks/{park}/pyun-uploads/resend")),
        None,
    )
    .await
}

/// Waits until the upload records `keys` are all final (after a resend put them back in line).
async fn final_records(up: &Uploads, keys: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for key in keys {
        out.push(up.final_record(key).await);
    }
    out
}

async fn resend(backend: Backend) {
    let up = Uploads::start(backend, false).await;
    let site = &up.p.site;
    let vip = &site.vip;
    assert!(up.pyun.set_sign_hint(PARK_UUID, true));
    let session = site.enter(PARK_A, Some("沪A70031"), ago(30)).await;
    let id = session["id"].as_i64().unwrap();
    let serial = format!("PB{id}");
    let keys = [format!("enter:{id}"), format!("leave:{id}")];
    // The leave is not held back by an entry that ended: both reach P云 and are ignored.
    up.final_record(&keys[0]).await;
    site.exit(PARK_A, "沪A70031", ago(1)).await;
    for r in final_records(&up, &keys).await {
        assert_eq!(
            (&r["state"], &r["attempts"]),
            (&json!("misconfigured"), &json!(1)),
            "{r}"
        );
    }

    // Resent while P云 still refuses the signature: ignored again, once each, not retried.
    let (status, body) = resend_as(&up, &vip.admin, vip.park_a).await;
    assert_eq!((status.as_u16(), &body), (200, &json!({"requeued": 2})));
    for r in final_records(&up, &keys).await {
        assert_eq!(
            (&r["state"], &r["attempts"]),
            (&json!("misconfigured"), &json!(1)),
            "{r}"
        );
        assert!(
            r["pyun"]["hint"]
                .as_str()
                .is_some_and(|h| h.starts_with("签名验证不通过[")),
            "{r}"
        );
    }
    assert_eq!(up.of(&serial).len(), 4, "{:#?}", up.of(&serial));

    // Fixed: the resend delivers both, the entry first, and P云 holds each exactly once.
    assert!(up.pyun.set_sign_hint(PARK_UUID, false));
    let (status, body) = resend_as(&up, &vip.admin, vip.park_a).await;
    assert_eq!((status.as_u16(), &body), (200, &json!({"requeued": 2})));
    for r in final_records(&up, &keys).await {
        assert_eq!(
            (&r["state"], &r["attempts"]),
            (&json!("delivered"), &json!(1)),
            "{r}"
        );
    }
    let uploads = up.of(&serial);
    let taken: Vec<&sandbox::pyun::Upload> = uploads.iter().filter(|u| accepted(u)).collect();
    assert_eq!(
        taken.iter().map(|u| u.path).collect::<Vec<_>>(),
        [UploadPath::Enter, UploadPath::Leave],
        "{uploads:#?}"
    );
    assert!(taken.iter().all(|u| !u.duplicate), "{uploads:#?}");
    // Nothing left to resend.
    let (status, body) = resend_as(&up, &vip.admin, vip.park_a).await;
    assert_eq!((status.as_u16(), &body), (200, &json!({"requeued": 0})));

    // Admins only; an unknown car park; a car park not on P云 car-park access.
    let (status, _) = resend_as(&up, &vip.manager, vip.park_a).await;
    assert_eq!(status, 403);
    let (status, body) = resend_as(&up, &vip.admin, 999_999).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = resend_as(&up, &vip.admin, vip.park_b).await;
    assert_eq!(
        (status.as_u16(), &body["error"]["code"]),
        (409, &json!("pyun_access_off")),
        "{body}"
    );

    let (status, audit) = send(
        &vip.admin,
        Method::GET,
        &vip.server.url("/api/v1/audit"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{audit}");
    let resends: Vec<(&Value, &Value)> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "pyun.uploads_resend")
        .map(|e| (&e["target"], &e["detail"]["requeued"]))
        .collect();
    let target = json!(format!("park:{}", vip.park_a));
    assert_eq!(
        resends,
        [
            (&target, &json!(0)),
            (&target, &json!(2)),
            (&target, &json!(2))
        ],
        "{audit}"
    );
}
