//! Mallcoo V1.4 inbound end to end (issue 7, PROTOCOLS.md §2.1–2.4, §5): the real binary over
//! loopback on SQLite and PostgreSQL, called the way Mallcoo calls it — JSON bodies signed with
//! a car park's inbound key pair (`protocol::mallcoo::sign_headers`) issued through the admin API.
//!
//! Expected amounts come from the worked example of §5 (free 15 min, first 60 min 1000, then
//! every 30 min 300, cycle cap 5000, grace 15), written out here, not computed by the code under
//! test. Stays are placed half a minute inside a tariff band so the seconds a test takes cannot
//! move them across a boundary.

use chrono::{DateTime, Duration, Utc};
use e2e::mallcoo_v14_site::{
    Keys, MALLCOO_A, MALLCOO_B, Site, ago, assert_refused, now_s, rfc, shanghai,
};
use e2e::server::Backend;
use e2e::vip_site::{PARK_A, PARK_B};
use protocol::mallcoo::sign_headers;
use serde_json::{Value, json};

e2e::on_both_engines! {
    calls_without_a_valid_signature_are_refused_401 => authentication;
    the_fee_query_follows_the_worked_example_with_deductions_and_vip => fee_query;
    a_payment_is_recorded_once_and_settles_the_fee_until_grace_ends => payments;
    payments_that_do_not_match_their_quote_are_refused => payment_refusals;
    traffic_counts_entries_and_exits_in_a_half_open_window => traffic_counts;
    malformed_requests_get_res_code_1_naming_the_field => malformed;
}

async fn authentication(backend: Backend) {
    let site = Site::start(backend).await;
    site.enter(PARK_A, Some("沪A10001"), now_s() - Duration::minutes(30))
        .await;
    let body = json!({"parkId": MALLCOO_A, "plateNo": "沪A10001"}).to_string();
    let url = site.vip.server.url("/mallcoo/v1/GetParkingPaymentInfo");

    // The correct signature passes.
    let ok = site
        .call_at("GetParkingPaymentInfo", &body, &site.keys_a, Utc::now())
        .await;
    assert_eq!(
        (ok.status.as_u16(), &ok.json["resCode"]),
        (200, &json!(0)),
        "{}",
        ok.text
    );

    // No headers at all.
    let resp = site
        .http
        .post(&url)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let refused: Value = resp.json().await.unwrap();
    assert_refused(&refused, "缺少请求头");

    // A wrong Sign: the right headers over another body.
    let headers = sign_headers(&site.keys_a.as_keys(), Utc::now(), &body);
    let mut req = site.http.post(&url).body(body.replace("10001", "10002"));
    for (name, value) in headers.pairs() {
        req = req.header(name, value);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_refused(&resp.json().await.unwrap(), "Sign");

    // Another car park's keys, for car park A.
    let other = site
        .call_at("GetParkingPaymentInfo", &body, &site.keys_b, Utc::now())
        .await;
    assert_eq!(other.status, 401, "{}", other.text);
    // Signing with B's public key but A's AppID and private key is no better.
    let mixed = Keys {
        public_key: site.keys_b.public_key.clone(),
        ..site.keys_a.clone()
    };
    let mixed = site
        .call_at("GetParkingPaymentInfo", &body, &mixed, Utc::now())
        .await;
    assert_eq!(mixed.status, 401, "{}", mixed.text);

    // Timestamps 6 minutes old or ahead; 4 minutes is within the ±5 min.
    for offset in [Duration::minutes(-6), Duration::minutes(6)] {
        let stale = site
            .call_at(
                "GetParkingPaymentInfo",
                &body,
                &site.keys_a,
                Utc::now() + offset,
            )
            .await;
        assert_eq!(stale.status, 401, "{offset}: {}", stale.text);
        assert_refused(&stale.json, "TimeStamp");
    }
    let near = site
        .call_at(
            "GetParkingPaymentInfo",
            &body,
            &site.keys_a,
            Utc::now() - Duration::minutes(4),
        )
        .await;
    assert_eq!(
        (near.status.as_u16(), &near.json["resCode"]),
        (200, &json!(0)),
        "{}",
        near.text
    );

    // The three methods are all guarded.
    for method in ["PayParkingFee", "GetTraffic"] {
        let resp = site
            .http
            .post(site.vip.server.url(&format!("/mallcoo/v1/{method}")))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{method}");
    }

    // parkId absent: the only car park with a Mallcoo parkId is meant.
    let no_park = json!({"plateNo": "沪A10001"}).to_string();
    let single = site
        .call_at("GetParkingPaymentInfo", &no_park, &site.keys_a, Utc::now())
        .await;
    assert_eq!(single.json["resCode"], 0, "{}", single.text);
    // An unknown parkId is a handled refusal.
    let unknown = json!({"parkId": "NOPE", "plateNo": "沪A10001"}).to_string();
    let unknown = site
        .call_at("GetParkingPaymentInfo", &unknown, &site.keys_a, Utc::now())
        .await;
    assert_eq!(unknown.status, 200, "{}", unknown.text);
    assert_refused(&unknown.json, "parkId NOPE 不存在");

    // With a second Mallcoo car park, parkId becomes required. Car parks are cached for 2 s:
    // this bounds that wait, it does not guess at a race.
    site.configure_b().await;
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let ambiguous = site
        .call_at("GetParkingPaymentInfo", &no_park, &site.keys_a, Utc::now())
        .await;
    assert_eq!(ambiguous.status, 200, "{}", ambiguous.text);
    assert_refused(&ambiguous.json, "须提供 parkId");
    // And B's keys now work for B (whose car is unknown there).
    let body_b = json!({"parkId": MALLCOO_B, "plateNo": "沪A10001"}).to_string();
    let b = site
        .call_at("GetParkingPaymentInfo", &body_b, &site.keys_b, Utc::now())
        .await;
    assert_eq!(b.status, 200, "{}", b.text);
    assert_refused(&b.json, "未查询到停车记录");
    // A's keys for B's parkId are refused.
    let cross = site
        .call_at("GetParkingPaymentInfo", &body_b, &site.keys_a, Utc::now())
        .await;
    assert_eq!(cross.status, 401, "{}", cross.text);
}

async fn fee_query(backend: Backend) {
    let site = Site::start(backend).await;
    let now = now_s();

    // Worked example: a stay of 100 min costs 1600 (1000 + 2 × 300)... placed at 99.5 min.
    let entry = ago(100);
    site.enter(PARK_A, Some("沪A20001"), entry).await;
    let q = site.query("沪A20001", 0, 0).await;
    assert_eq!(q["resCode"], 0, "{q}");
    assert_eq!(q["resMsg"], "");
    assert_eq!(q["totalAmount"], 1600, "{q}");
    assert_eq!(q["paidAmount"], 0);
    assert_eq!(q["deductionAmount"], 0);
    assert_eq!(q["unPayAmount"], 1600);
    assert_eq!(q["parkingMinutes"], 100);
    assert_eq!(q["entryTime"], shanghai(entry));
    assert!(q.get("offlineDeduction").is_none(), "{q}");
    assert!(q["feeId"].as_str().is_some_and(|f| !f.is_empty()), "{q}");

    // freeMinutes 30: the last 30 minutes are worth fee(100) − fee(70) = 1600 − 1300. Mallcoo's
    // benefits are priced, not subtracted: unPayAmount stays total − paid (§2.2, corrected).
    let q = site.query("沪A20001", 30, 0).await;
    assert_eq!(
        (&q["totalAmount"], &q["deductionAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(300), &json!(1600)),
        "{q}"
    );
    // Plus freeAmount 200.
    let q = site.query("沪A20001", 30, 200).await;
    assert_eq!(
        (&q["deductionAmount"], &q["unPayAmount"]),
        (&json!(500), &json!(1600)),
        "{q}"
    );
    // Deductions are capped at what is due.
    let q = site.query("沪A20001", 0, 99_999).await;
    assert_eq!(
        (&q["deductionAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(1600)),
        "{q}"
    );
    // freeMinutes beyond the stay: everything is waived.
    let q = site.query("沪A20001", 600, 0).await;
    assert_eq!(
        (&q["deductionAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(1600)),
        "{q}"
    );

    // Other points of the worked example: 10 min → 0; 30 → 1000; 23 h → 5000 (the cycle cap);
    // 24 h 20 min → 5000 + 1000.
    for (plate, minutes, fee) in [
        ("沪A20002", 10, 0),
        ("沪A20003", 30, 1000),
        ("沪A20004", 23 * 60, 5000),
        ("沪A20005", 24 * 60 + 20, 6000),
    ] {
        site.enter(PARK_A, Some(plate), ago(minutes)).await;
        let q = site.query(plate, 0, 0).await;
        assert_eq!(
            (&q["totalAmount"], &q["unPayAmount"]),
            (&json!(fee), &json!(fee)),
            "{plate}: {q}"
        );
        assert_eq!(q["parkingMinutes"], minutes, "{plate}: {q}");
    }

    // The plate is normalised like the gate's (§4): lower case and spaces.
    let q = site.query("沪a 20003", 0, 0).await;
    assert_eq!(q["totalAmount"], 1000, "{q}");

    // A plate-less car by its barcode.
    let ticket = site.enter(PARK_A, None, now - Duration::minutes(75)).await;
    let barcode = ticket["barcode"].as_str().unwrap();
    let q = site
        .call(
            "GetParkingPaymentInfo",
            &json!({"parkId": MALLCOO_A, "barcode": barcode, "freeMinutes": 0, "freeAmount": 0}),
        )
        .await;
    assert_eq!(
        (&q["resCode"], &q["totalAmount"]),
        (&json!(0), &json!(1300)),
        "{q}"
    );

    // A VIP car is quoted 0 with offlineDeduction naming its record.
    let (status, rec) = site
        .vip
        .add_record(
            site.vip.park_a,
            json!({
                "plate": "沪A20009", "charge_type": "MON_A", "vip_type": 1,
                "recharge": {"quantity": 1, "pay_type": 1, "pay_value_fen": 30000,
                    "pay_time": rfc(now - Duration::days(1))}
            }),
        )
        .await;
    assert_eq!(status, 201, "{rec}");
    site.enter(PARK_A, Some("沪A20009"), now - Duration::hours(3))
        .await;
    let q = site.query("沪A20009", 0, 0).await;
    assert_eq!(
        (&q["resCode"], &q["totalAmount"], &q["unPayAmount"]),
        (&json!(0), &json!(0), &json!(0)),
        "{q}"
    );
    let note = q["offlineDeduction"].as_str().unwrap_or_default();
    assert!(note.contains("固定车"), "{q}");

    // No open session: "未查询到停车记录" — for an unknown plate and for a car that left.
    let q = site.query("沪A29999", 0, 0).await;
    assert_refused(&q, "未查询到停车记录");
    site.exit(PARK_A, "沪A20003", now_s()).await;
    let q = site.query("沪A20003", 0, 0).await;
    assert_refused(&q, "未查询到停车记录");
    // The car of car park A is unknown at car park B.
    site.configure_b().await;
    let body = json!({"parkId": MALLCOO_B, "plateNo": "沪A20001"}).to_string();
    let b = site
        .call_at("GetParkingPaymentInfo", &body, &site.keys_b, Utc::now())
        .await;
    assert_refused(&b.json, "未查询到停车记录");
}

async fn payments(backend: Backend) {
    let site = Site::start(backend).await;

    // 75 min → 1300. Three concurrent identical notices: one row, three identical answers.
    let entry = ago(75);
    site.enter(PARK_A, Some("沪A30001"), entry).await;
    let q = site.query("沪A30001", 0, 0).await;
    assert_eq!(q["unPayAmount"], 1300, "{q}");
    let body = Site::pay_body("MC-ORDER-1", &q, 1300, 0).to_string();
    let (a, b, c) = tokio::join!(
        site.call_at("PayParkingFee", &body, &site.keys_a, Utc::now()),
        site.call_at("PayParkingFee", &body, &site.keys_a, Utc::now()),
        site.call_at("PayParkingFee", &body, &site.keys_a, Utc::now()),
    );
    for answer in [&a, &b, &c] {
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    assert_eq!(
        a.json,
        json!({"resCode": 0, "resMsg": "成功"}),
        "{}",
        a.text
    );
    assert_eq!((&a.text, &a.text), (&b.text, &c.text));
    assert_eq!(site.payments_of_order("MC-ORDER-1").await, 1);
    // A later retry gets the same answer and records nothing.
    let again = site
        .call_at("PayParkingFee", &body, &site.keys_a, Utc::now())
        .await;
    assert_eq!(again.text, a.text);
    assert_eq!(site.payments_of_order("MC-ORDER-1").await, 1);

    // Paid: within grace the query owes nothing more, and says what was paid.
    let q = site.query("沪A30001", 0, 0).await;
    assert_eq!(
        (&q["totalAmount"], &q["paidAmount"], &q["unPayAmount"]),
        (&json!(1300), &json!(1300), &json!(0)),
        "{q}"
    );
    // An exit within the grace period owes 0 (4 minutes from now, at 79 min).
    let out = site
        .exit(PARK_A, "沪A30001", now_s() + Duration::minutes(4))
        .await;
    assert_eq!(out["session"]["fee_due_fen"], 0, "{out}");
    // Once the car left, a retry still gets its stored answer.
    let again = site
        .call_at("PayParkingFee", &body, &site.keys_a, Utc::now())
        .await;
    assert_eq!(again.text, a.text);

    // After the grace period, only the difference: paid 1300 at payTime 30 min ago (grace over
    // 15 min ago); the exit at 91.5 min costs 1600, so 300 is due.
    let entry = ago(88);
    site.enter(PARK_A, Some("沪A30002"), entry).await;
    let q = site.query("沪A30002", 0, 0).await;
    assert_eq!(q["unPayAmount"], 1300, "{q}");
    let mut paid_earlier = Site::pay_body("MC-ORDER-2", &q, 1300, 0);
    paid_earlier["payTime"] = json!(shanghai(now_s() - Duration::minutes(30)));
    let r = site.call("PayParkingFee", &paid_earlier).await;
    assert_eq!(r["resCode"], 0, "{r}");
    let out = site
        .exit(PARK_A, "沪A30002", now_s() + Duration::minutes(4))
        .await;
    assert_eq!(out["session"]["fee_due_fen"], 300, "{out}");

    // Free minutes and amount (a member redeeming benefits): Mallcoo collects
    // unPayAmount − deductionAmount and reports the benefits as deductionAmount; the two add up
    // to unPayAmount and settle the stay (§2.3, corrected). Paying unPayAmount on top of the
    // benefits is refused.
    let entry = ago(100);
    site.enter(PARK_A, Some("沪A30003"), entry).await;
    let q = site.query("沪A30003", 30, 200).await;
    assert_eq!(
        (&q["unPayAmount"], &q["deductionAmount"]),
        (&json!(1600), &json!(500)),
        "{q}"
    );
    let r = site
        .call(
            "PayParkingFee",
            &Site::pay_body("MC-ORDER-3X", &q, 1600, 500),
        )
        .await;
    assert_refused(&r, "不符");
    let r = site
        .call(
            "PayParkingFee",
            &Site::pay_body("MC-ORDER-3", &q, 1100, 500),
        )
        .await;
    assert_eq!(r["resCode"], 0, "{r}");
    let q = site.query("沪A30003", 0, 0).await;
    assert_eq!(
        (&q["paidAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(0)),
        "{q}"
    );
    let out = site
        .exit(PARK_A, "沪A30003", now_s() + Duration::minutes(4))
        .await;
    assert_eq!(out["session"]["fee_due_fen"], 0, "{out}");

    // The worked example: 1300 paid at minute 70, queried at minute 84 → 0 (within grace, billed
    // at the payment); the notice carries payTime = minute 70 of a stay quoted at minute 84.
    let entry = ago(84);
    site.enter(PARK_A, Some("沪A30004"), entry).await;
    let q = site.query("沪A30004", 0, 0).await;
    assert_eq!(q["unPayAmount"], 1300, "{q}");
    let mut body = Site::pay_body("MC-ORDER-4", &q, 1300, 0);
    body["payTime"] = json!(shanghai(entry + Duration::minutes(70)));
    let r = site.call("PayParkingFee", &body).await;
    assert_eq!(r["resCode"], 0, "{r}");
    let q = site.query("沪A30004", 0, 0).await;
    assert_eq!(
        (&q["totalAmount"], &q["unPayAmount"]),
        (&json!(1300), &json!(0)),
        "{q}"
    );
    // ... and queried at minute 100 → 1600 − 1300 = 300. No quote at minute 100 asks 1300, so
    // that payment is planted in the database as PayParkingFee would have stored it.
    let entry = ago(100);
    let session = site.enter(PARK_A, Some("沪A30005"), entry).await;
    site.plant_payment(
        session["id"].as_i64().unwrap(),
        entry + Duration::minutes(70),
        1300,
    )
    .await;
    let q = site.query("沪A30005", 0, 0).await;
    assert_eq!(
        (&q["totalAmount"], &q["paidAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(1300), &json!(300)),
        "{q}"
    );
}

async fn payment_refusals(backend: Backend) {
    let site = Site::start(backend).await;
    let entry = ago(75);
    site.enter(PARK_A, Some("沪A40001"), entry).await;
    let q = site.query("沪A40001", 0, 0).await;
    assert_eq!(q["unPayAmount"], 1300, "{q}");

    // amount + deductionAmount must equal what the quote asks.
    let r = site
        .call("PayParkingFee", &Site::pay_body("MC-R1", &q, 1200, 0))
        .await;
    assert_refused(&r, "不符");
    let r = site
        .call("PayParkingFee", &Site::pay_body("MC-R1", &q, 1300, 100))
        .await;
    assert_refused(&r, "不符");
    assert_eq!(site.payments_of_order("MC-R1").await, 0);
    // A feeId we never issued.
    let mut forged = Site::pay_body("MC-R2", &q, 1300, 0);
    forged["feeId"] = json!("20160713");
    assert_refused(&site.call("PayParkingFee", &forged).await, "feeId");
    // A plate that is not the feeId's car.
    let mut other_car = Site::pay_body("MC-R3", &q, 1300, 0);
    other_car["plateNo"] = json!("沪B99999");
    assert_refused(&site.call("PayParkingFee", &other_car).await, "车辆不符");

    // Two quotes, the first paid: the second is stale (another payment landed since).
    let q2 = site.query("沪A40001", 0, 0).await;
    let r = site
        .call("PayParkingFee", &Site::pay_body("MC-R4", &q, 1300, 0))
        .await;
    assert_eq!(r["resCode"], 0, "{r}");
    let r = site
        .call("PayParkingFee", &Site::pay_body("MC-R5", &q2, 1300, 0))
        .await;
    assert_refused(&r, "重新查询");
    assert_eq!(site.payments_of_order("MC-R5").await, 0);

    // The same orderNo with another payload is refused and records nothing new.
    let mut changed = Site::pay_body("MC-R4", &q, 1300, 0);
    changed["thirdTradeNo"] = json!("WX-another");
    assert_refused(&site.call("PayParkingFee", &changed).await, "MC-R4");
    assert_eq!(site.payments_of_order("MC-R4").await, 1);

    // The fee grew since the quote: 10 s before the 60-minute mark the stay costs 1000, after it
    // 1300 (the wait bounds the tariff step, it does not guess at a race).
    let t0 = now_s();
    site.enter(
        PARK_A,
        Some("沪A40002"),
        t0 - Duration::minutes(60) + Duration::seconds(10),
    )
    .await;
    let q = site.query("沪A40002", 0, 0).await;
    assert_eq!(q["unPayAmount"], 1000, "{q}");
    let wait = (t0 + Duration::seconds(12) - Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait).await;
    let r = site
        .call("PayParkingFee", &Site::pay_body("MC-R6", &q, 1000, 0))
        .await;
    assert_refused(&r, "重新查询");
    let q = site.query("沪A40002", 0, 0).await;
    assert_eq!(q["unPayAmount"], 1300, "{q}");

    // Nothing is due within the free time: a zero payment is refused.
    site.enter(PARK_A, Some("沪A40003"), ago(10)).await;
    let free = site.query("沪A40003", 0, 0).await;
    assert_eq!(free["unPayAmount"], 0, "{free}");
    let r = site
        .call("PayParkingFee", &Site::pay_body("MC-R8", &free, 0, 0))
        .await;
    assert_refused(&r, "无需缴费");

    // A car that already left cannot be paid for: refused, nothing recorded.
    site.exit(PARK_A, "沪A40002", Utc::now()).await;
    let r = site
        .call("PayParkingFee", &Site::pay_body("MC-R7", &q, 1300, 0))
        .await;
    assert_refused(&r, "车辆已出场");
    assert_eq!(site.payments_of_order("MC-R7").await, 0);
}

async fn traffic_counts(backend: Backend) {
    let site = Site::start(backend).await;
    site.configure_b().await;
    // Window [2026-11-20 08:00:00, 09:00:00) Shanghai = [00:00Z, 01:00Z).
    let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let cars = [
        (
            "沪A50001",
            "2026-11-19T23:59:59Z",
            Some("2026-11-20T00:00:00Z"),
        ),
        (
            "沪A50002",
            "2026-11-20T00:00:00Z",
            Some("2026-11-20T00:30:00Z"),
        ),
        (
            "沪A50003",
            "2026-11-20T00:59:59Z",
            Some("2026-11-20T01:00:00Z"),
        ),
        ("沪A50004", "2026-11-20T01:00:00Z", None),
    ];
    for (plate, entry, exit) in cars {
        site.enter(PARK_B, Some(plate), t(entry)).await;
        if let Some(exit) = exit {
            site.exit(PARK_B, plate, t(exit)).await;
        }
    }
    // A car at car park A in the window does not count for B.
    site.enter(PARK_A, Some("沪A50005"), t("2026-11-20T00:10:00Z"))
        .await;
    let traffic = |start: &str, end: &str| {
        json!({"parkId": MALLCOO_B, "startTime": start, "endTime": end}).to_string()
    };
    let r = site
        .call_at(
            "GetTraffic",
            &traffic("2026-11-20 08:00:00", "2026-11-20 09:00:00"),
            &site.keys_b,
            Utc::now(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"resCode": 0, "resMsg": "", "inNum": 2, "outNum": 2}),
        "{}",
        r.text
    );
    // One second wider at each end takes in the cars at the edges.
    let r = site
        .call_at(
            "GetTraffic",
            &traffic("2026-11-20 07:59:59", "2026-11-20 09:00:01"),
            &site.keys_b,
            Utc::now(),
        )
        .await;
    assert_eq!(
        (&r.json["inNum"], &r.json["outNum"]),
        (&json!(4), &json!(3)),
        "{}",
        r.text
    );
    // An empty or reversed window is refused.
    let r = site
        .call_at(
            "GetTraffic",
            &traffic("2026-11-20 09:00:00", "2026-11-20 08:00:00"),
            &site.keys_b,
            Utc::now(),
        )
        .await;
    assert_refused(&r.json, "startTime");
}

async fn malformed(backend: Backend) {
    let site = Site::start(backend).await;
    site.enter(PARK_A, Some("沪A60001"), now_s() - Duration::minutes(75))
        .await;
    let raw = |method: &'static str, body: &'static str| {
        let site = &site;
        async move {
            let a = site.call_at(method, body, &site.keys_a, Utc::now()).await;
            assert_eq!(a.status, 200, "{method} {body}: {}", a.text);
            a.json
        }
    };
    // Not JSON at all, and JSON that is not an object.
    assert_refused(
        &raw("GetParkingPaymentInfo", "{\"plateNo\":").await,
        "不是有效的 JSON",
    );
    assert_refused(&raw("GetTraffic", "[1,2]").await, "JSON 对象");
    // Neither plate nor barcode; both.
    assert_refused(
        &raw(
            "GetParkingPaymentInfo",
            r#"{"parkId":"MC-PARK-A","freeMinutes":0}"#,
        )
        .await,
        "plateNo 与 barcode 必须提供其中一个",
    );
    assert_refused(
        &raw(
            "GetParkingPaymentInfo",
            r#"{"plateNo":"沪A60001","barcode":"B1"}"#,
        )
        .await,
        "只能提供其中一个",
    );
    // A plate that is no plate.
    assert_refused(
        &raw("GetParkingPaymentInfo", r#"{"plateNo":"XYZ"}"#).await,
        "plateNo 车牌号无效",
    );
    // Fractional and negative amounts, negative minutes.
    assert_refused(
        &raw(
            "GetParkingPaymentInfo",
            r#"{"plateNo":"沪A60001","freeAmount":12.5}"#,
        )
        .await,
        "freeAmount 必须是非负整数",
    );
    assert_refused(
        &raw(
            "GetParkingPaymentInfo",
            r#"{"plateNo":"沪A60001","freeAmount":-100}"#,
        )
        .await,
        "freeAmount 不能为负数",
    );
    assert_refused(
        &raw(
            "GetParkingPaymentInfo",
            r#"{"plateNo":"沪A60001","freeMinutes":-5}"#,
        )
        .await,
        "freeMinutes",
    );
    // Bad time formats and a missing time.
    assert_refused(
        &raw(
            "GetTraffic",
            r#"{"startTime":"2026/11/20 08:00:00","endTime":"2026-11-20 09:00:00"}"#,
        )
        .await,
        "startTime 时间格式错误",
    );
    assert_refused(
        &raw("GetTraffic", r#"{"startTime":"2026-11-20 08:00:00"}"#).await,
        "缺少必填字段 endTime",
    );
    let pay = |amount: &str, pay_time: &str| {
        format!(
            r#"{{"feeId":"v2-1-1-0-0-0-0","orderNo":"MC-X","payTime":"{pay_time}","unPayAmount":0,"amount":{amount},"deductionAmount":0,"payChannel":0,"payType":3}}"#
        )
    };
    for (body, needle) in [
        (pay("-1", "2026-11-20 08:00:00"), "amount 不能为负数"),
        (pay("10.5", "2026-11-20 08:00:00"), "amount 必须是非负整数"),
        (pay("0", "20261120080000"), "payTime 时间格式错误"),
        (
            r#"{"feeId":"f","payTime":"2026-11-20 08:00:00","unPayAmount":0,"amount":0,"payChannel":0,"payType":0}"#.to_owned(),
            "缺少必填字段 orderNo",
        ),
        (
            r#"{"feeId":"f","orderNo":"o","payTime":"2026-11-20 08:00:00","unPayAmount":5,"amount":5,"payChannel":0,"payType":0}"#.to_owned(),
            "payType 为 0",
        ),
        (
            r#"{"parkId":"MC-PARK-A","feeId":"v2-999999-1-0-0-0-0","orderNo":"o9","payTime":"2026-11-20 08:00:00","unPayAmount":0,"amount":0,"payChannel":0,"payType":0}"#.to_owned(),
            "未查询到停车记录",
        ),
    ] {
        let a = site.call_at("PayParkingFee", &body, &site.keys_a, Utc::now()).await;
        assert_eq!(a.status, 200, "{body}: {}", a.text);
        assert_refused(&a.json, needle);
    }
    // Nothing malformed was recorded.
    let db = parkbridge::storage::Db::connect(&site.vip.server.database_url())
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM parking_payments")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}
