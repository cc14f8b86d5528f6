//! One car park, one ledger for P云, Mallcoo and the gate (issue 16, parts 5 and 6), with the
//! P云 sandbox playing P云's cloud exactly as the car park meets it: it learns the car from our
//! entry upload, issues the coupons we send as a third party and tells the car park with
//! `discount.create`, and plays a driver paying in the P云 app (`payment.billing` then
//! `payment.result`). The real binary on SQLite and PostgreSQL.
//!
//! Amounts are §5's worked-example tariff: a stay of 100 min costs 1600; 60 free minutes are
//! worth 600.

use std::time::{Duration, Instant};

use e2e::coupon_site::{API_TYPE, COUPON_CODE, PRODUCT, send};
use e2e::mallcoo_v14_site::{ago, now_s};
use e2e::pyun_cloud_site::{PyunCloud, accepted_of, field};
use e2e::pyun_gateway_site::PARK_UUID;
use e2e::server::Backend;
use e2e::vip_site::PARK_A;
use reqwest::{Client, Method, StatusCode};
use sandbox::pyun::{CouponDiscount, DownlinkCall, DriverPays, Trigger, UploadPath};
use serde_json::{Value, json};

e2e::on_both_engines! {
    a_coupon_we_send_lowers_mallcoo_and_the_gate_once_pyun_applies_it => coupon_loop;
    a_driver_paying_in_the_pyun_app_opens_the_gate_and_shows_in_mallcoo => driver_pays;
}

/// Enters `plate` `minutes` ago and waits until P云 accepted the entry upload: from then on P云
/// knows the car is in.
async fn enter_known_to_pyun(cloud: &PyunCloud, plate: &str, minutes: i64) -> i64 {
    let session = cloud.p.site.enter(PARK_A, Some(plate), ago(minutes)).await;
    let id = session["id"].as_i64().expect("session id");
    cloud
        .wait(&format!("PB{id}"), |u| {
            accepted_of(u, UploadPath::Enter).is_some()
        })
        .await;
    id
}

/// A coupon request through the machine API, waited for until final.
async fn coupon(cloud: &PyunCloud, machine: &Client, path: &str, body: Value) -> Value {
    let vip = &cloud.p.site.vip;
    let (status, record) = send(machine, Method::POST, &vip.server.url(path), Some(body)).await;
    assert!(
        status == StatusCode::OK || status == StatusCode::ACCEPTED,
        "{status} {record}"
    );
    let id = record["id"].as_i64().expect("record id");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let record = coupon_record(cloud, id).await;
        if !matches!(record["state"].as_str(), Some("pending" | "sending")) {
            return record;
        }
        assert!(Instant::now() < deadline, "never final: {record}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The coupon record `id` as the admin's listing shows it.
async fn coupon_record(cloud: &PyunCloud, id: i64) -> Value {
    let vip = &cloud.p.site.vip;
    let (status, page) = send(
        &vip.admin,
        Method::GET,
        &vip.server
            .url(&format!("/api/v1/coupon-records?park_id={}", vip.park_a)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no record {id}: {page}"))
}

/// Waits until P云's `discount.create` for `grant_serial` has its reply; returns the call.
async fn discount_create(cloud: &PyunCloud, grant_serial: &str) -> DownlinkCall {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let call = cloud
            .pyun
            .downlink_calls(Some(PARK_UUID))
            .into_iter()
            .find(|c| {
                c.trigger == Trigger::Coupon
                    && c.request.get("grant_serial").map(String::as_str) == Some(grant_serial)
            });
        if let Some(call) = call.filter(|c| c.done) {
            return call;
        }
        assert!(
            Instant::now() < deadline,
            "no discount.create for {grant_serial}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A coupon event for `plate` with `event_id`.
fn event(event_id: &str, plate: &str) -> Value {
    json!({"park": PARK_A, "event_id": event_id, "plate": plate,
           "subject": format!("【{plate}】充电 12.5 KWH"), "metadata": {}})
}

async fn coupon_loop(backend: Backend) {
    let cloud = PyunCloud::start(backend, false).await;
    let machine = cloud.send_coupons_too().await;
    let site = &cloud.p.site;
    cloud.pyun.set_event_discount(
        API_TYPE,
        CouponDiscount {
            discount_type: Some(2),
            discount_value: Some(60),
            coupon_name: Some("充电停车券1小时".into()),
            store_name: Some("充电站".into()),
        },
    );
    cloud.pyun.set_coupon_discount(
        COUPON_CODE,
        CouponDiscount {
            discount_type: Some(1),
            discount_value: Some(300),
            coupon_name: Some(PRODUCT.into()),
            store_name: Some("星巴克".into()),
        },
    );

    // P云 never saw the car enter: it refuses the coupon, as in production.
    let r = coupon(
        &cloud,
        &machine,
        "/api/v1/coupons/events",
        event("ev-0", "沪A71001"),
    )
    .await;
    assert_eq!(
        (r["state"].as_str(), r["pyun"]["code"].as_str()),
        (Some("rejected"), Some("1002")),
        "{r}"
    );

    let session = enter_known_to_pyun(&cloud, "沪A71001", 100).await;
    let q = site.query("沪A71001", 0, 0).await;
    assert_eq!(
        (&q["totalAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(1600)),
        "{q}"
    );

    // Delivered, but P云 cannot reach our gateway: the fee does not move (D15).
    cloud.point_pyun_at("http://127.0.0.1:9/pyun/v1/gateway");
    let lost = coupon(
        &cloud,
        &machine,
        "/api/v1/coupons/events",
        event("ev-lost", "沪A71001"),
    )
    .await;
    assert_eq!(lost["state"], "delivered", "{lost}");
    let serial = lost["pyun"]["grant_serial"].as_str().expect("grant serial");
    let call = discount_create(&cloud, serial).await;
    assert!(call.error.is_some(), "{call:?}");
    let q = site.query("沪A71001", 0, 0).await;
    assert_eq!(q["unPayAmount"], 1600, "a coupon P云 never applied: {q}");
    assert!(
        coupon_record(&cloud, lost["id"].as_i64().unwrap())
            .await
            .get("applied")
            .is_none()
    );

    // The charger's event: P云 issues it and applies 60 minutes at the car park.
    cloud.point_pyun_at(&cloud.gateway_url());
    let ev = coupon(
        &cloud,
        &machine,
        "/api/v1/coupons/events",
        event("ev-1", "沪A71001"),
    )
    .await;
    assert_eq!(ev["state"], "delivered", "{ev}");
    let serial = ev["pyun"]["grant_serial"].as_str().expect("grant serial");
    let call = discount_create(&cloud, serial).await;
    assert_eq!(
        (call.result_code.as_deref(), call.sign_ok),
        (Some("1001"), Some(true)),
        "{call:?}"
    );
    assert_eq!(call.request.get("type").map(String::as_str), Some("2"));
    let q = site.query("沪A71001", 0, 0).await;
    assert_eq!(
        (&q["paidAmount"], &q["unPayAmount"]),
        (&json!(600), &json!(1000)),
        "{q}"
    );
    assert!(
        q["offlineDeduction"].as_str().unwrap().contains("充电站"),
        "{q}"
    );
    let applied = &coupon_record(&cloud, ev["id"].as_i64().unwrap()).await["applied"];
    assert_eq!(
        (&applied["session_id"], &applied["state"]),
        (&json!(session), &json!("active")),
        "{applied}"
    );

    // A shop's coupon by code: 300 off more.
    let grant = coupon(
        &cloud,
        &machine,
        "/api/v1/coupons/grants",
        json!({"park": PARK_A, "coupon": PRODUCT, "plate": "沪A71001", "grant_id": "g-1"}),
    )
    .await;
    assert_eq!(grant["state"], "delivered", "{grant}");
    let serial = grant["pyun"]["grant_serial"]
        .as_str()
        .expect("grant serial");
    assert_eq!(
        discount_create(&cloud, serial).await.result_code.as_deref(),
        Some("1001")
    );
    let q = site.query("沪A71001", 0, 0).await;
    assert_eq!(q["unPayAmount"], 700, "{q}");

    // The gate charges the same figure, and the coupons are used with their worth.
    let out = site.exit(PARK_A, "沪A71001", now_s()).await;
    assert_eq!(out["session"]["fee_due_fen"], 700, "{out}");
    for (id, worth) in [(&ev["id"], 600), (&grant["id"], 300)] {
        let applied = &coupon_record(&cloud, id.as_i64().unwrap()).await["applied"];
        assert_eq!(
            (
                &applied["session_id"],
                &applied["state"],
                &applied["worth_fen"]
            ),
            (&json!(session), &json!("used"), &json!(worth)),
            "{applied}"
        );
    }
    // P云 heard of the exit with the coupons' worth: it knows the car is gone.
    let leave = cloud
        .wait(&format!("PB{session}"), |u| {
            accepted_of(u, UploadPath::Leave).is_some()
        })
        .await;
    let leave = accepted_of(&leave, UploadPath::Leave).unwrap();
    assert_eq!(
        (field(leave, "total_value"), field(leave, "free_value")),
        (Some("1600"), Some("900")),
        "{leave:#?}"
    );
    let r = coupon(
        &cloud,
        &machine,
        "/api/v1/coupons/events",
        event("ev-2", "沪A71001"),
    )
    .await;
    assert_eq!(r["pyun"]["code"], "1002", "{r}");
}

async fn driver_pays(backend: Backend) {
    let cloud = PyunCloud::start(backend, false).await;
    let site = &cloud.p.site;
    let session = enter_known_to_pyun(&cloud, "沪A71002", 100).await;

    // The driver pays in the P云 app with Alipay; P云 sends the notice twice.
    let paid = cloud
        .pyun
        .driver_pays(&DriverPays {
            park_uuid: PARK_UUID.into(),
            plate: "沪A71002".into(),
            pay_origin: Some(4),
            twice: true,
            value_override: None,
        })
        .await
        .expect("a registered car park");
    assert_eq!(
        paid.billing.result_code.as_deref(),
        Some("1001"),
        "{paid:?}"
    );
    assert_eq!(paid.billing.reply.as_ref().unwrap()["pay_value"], 1600);
    for notice in [&paid.payment, &paid.repeat] {
        let notice = notice.as_ref().expect("sent");
        assert_eq!(
            (notice.result_code.as_deref(), notice.sign_ok),
            (Some("1001"), Some(true)),
            "{notice:?}"
        );
    }
    assert_eq!(
        site.count(
            "SELECT COUNT(*) FROM parking_payments p JOIN parking_sessions s \
             ON s.id = p.session_id WHERE p.channel = 'pyun' AND s.plate = $1",
            "沪A71002"
        )
        .await,
        1,
        "the notice twice, one payment"
    );

    // Mallcoo sees it paid; the gate opens at 0.
    let q = site.query("沪A71002", 0, 0).await;
    assert_eq!(
        (&q["paidAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(0)),
        "{q}"
    );
    let out = site.exit(PARK_A, "沪A71002", now_s()).await;
    assert_eq!(out["session"]["fee_due_fen"], 0, "{out}");
    let uploads = cloud
        .wait(&format!("PB{session}"), |u| {
            accepted_of(u, UploadPath::Leave).is_some()
        })
        .await;
    let leave = accepted_of(&uploads, UploadPath::Leave).unwrap();
    assert_eq!(field(leave, "online_value"), Some("1600"), "{leave:#?}");
    let list: Value = serde_json::from_str(field(leave, "payment_list").unwrap()).unwrap();
    assert_eq!(list[0]["pay_origin_desc"], "支付宝", "{list}");

    // Gone: nothing more to pay.
    let again = cloud
        .pyun
        .driver_pays(&DriverPays {
            park_uuid: PARK_UUID.into(),
            plate: "沪A71002".into(),
            pay_origin: None,
            twice: false,
            value_override: None,
        })
        .await
        .expect("a registered car park");
    assert_eq!(
        again.billing.result_code.as_deref(),
        Some("1002"),
        "{again:?}"
    );
    assert!(again.payment.is_none(), "{again:?}");
}
