//! ParkBridge as the car park towards P云 (issue 16, pyun-carpark.md §1.5 and §3): the real binary
//! on SQLite and PostgreSQL, P云's calls signed as P云 signs them, and the one ledger read back
//! by Mallcoo's fee query and the exit gate.
//!
//! Expected amounts are §5's worked-example tariff written out (free 15 min, first 60 min 1000,
//! then every 30 min 300, grace 15): a stay of 100 min costs 1600; a 60-minute coupon leaves
//! fee(40) = 1000; an amount coupon of 300 leaves 1300.

use e2e::coupon_site::send;
use e2e::mallcoo_v14_site::{ago, now_s};
use e2e::pyun_gateway_site::{DOWNLINK_KEY, PARK_UUID, PyunSite};
use e2e::server::Backend;
use e2e::vip_site::PARK_A;
use reqwest::Method;
use serde_json::{Value, json};

e2e::on_both_engines! {
    the_gateway_checks_park_signature_and_service_in_order => envelope;
    a_pyun_coupon_changes_the_one_figure_until_it_is_revoked_or_used => coupon_loop;
    a_pyun_payment_is_recorded_once_and_refused_when_it_cannot_count => payment_loop;
}

async fn envelope(backend: Backend) {
    let p = PyunSite::start(backend).await;
    let site = &p.site;
    site.enter(PARK_A, Some("沪A70001"), ago(30)).await;

    let r = p.call("service.parking.realtime", json!({})).await;
    assert_eq!(r.code(), "1001", "{:?}", r.json);
    assert_eq!(
        r.signed,
        Some(true),
        "a reply is signed with the car park's key"
    );
    assert_eq!(
        (&r.json["total"], &r.json["parking"]),
        (&json!(60), &json!(1))
    );
    let depict = r.json["charge_depict"].as_str().unwrap();
    assert!(
        depict.contains("入场15分钟内免费") && depict.contains("3.00元"),
        "{depict}"
    );
    let charge: Value = serde_json::from_str(r.json["charge_json"].as_str().unwrap()).unwrap();
    assert_eq!(charge["free_time"], 15, "{charge}");

    // A wrong key: 1401, signed (the park is known), the hint our plaintext without any key.
    let r = p
        .call_as(
            PARK_UUID,
            "not-the-key",
            "service.parking.realtime",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "1401", "{:?}", r.json);
    assert_eq!(r.signed, Some(true));
    let hint = r.json["hint"].as_str().unwrap();
    assert!(hint.contains(&format!("park_uuid={PARK_UUID}")), "{hint}");
    assert!(
        !hint.contains(DOWNLINK_KEY) && !hint.contains("key="),
        "{hint}"
    );

    // A park no car park on access has: 1401, unsigned (no key to sign with).
    let r = p
        .call_as(
            "no-such-park",
            DOWNLINK_KEY,
            "service.parking.realtime",
            json!({}),
        )
        .await;
    assert_eq!((r.code(), r.signed), ("1401", None), "{:?}", r.json);
    assert_eq!(r.json["message"], "未知车场");

    // A service we do not implement: 1503, signed, after the signature check.
    let r = p
        .call("service.parking.vip.query", json!({"plate": "沪A70001"}))
        .await;
    assert_eq!((r.code(), r.signed), ("1503", Some(true)), "{:?}", r.json);
    assert_eq!(r.json["hint"], "service.parking.vip.query");

    // Not a JSON object; any content type is read.
    let r = p.post_raw("plate=沪A70001", "text/plain").await;
    assert_eq!((r.code(), r.signed), ("1400", None), "{:?}", r.json);
    // A member missing: 1400, naming it.
    let r = p
        .call(
            "service.parking.payment.result",
            json!({"parking_order": "X"}),
        )
        .await;
    assert_eq!(r.code(), "1400", "{:?}", r.json);

    // The admin page's view: the calls, newest first, with their codes and never the key
    // (written off the request path, so it may take a moment).
    let url = site
        .vip
        .server
        .url(&format!("/api/v1/parks/{}/pyun-gateway", site.vip.park_a));
    let mut view = Value::Null;
    let mut codes: Vec<String> = Vec::new();
    for _ in 0..50 {
        let (status, v) = send(&site.vip.admin, Method::GET, &url, None).await;
        assert_eq!(status, 200, "{v}");
        view = v;
        codes = view["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["result_code"].as_str().unwrap().to_owned())
            .collect();
        if codes.len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(view["on"], true);
    assert_eq!(view["gateway_path"], "/pyun/v1/gateway");
    assert_eq!(codes, ["1400", "1503", "1401", "1001"], "{view}");
    assert!(!view.to_string().contains(DOWNLINK_KEY));
    // Staff may not read it.
    let (status, _) = site
        .vip
        .manager_send(
            Method::GET,
            &format!("/api/v1/parks/{}/pyun-gateway", site.vip.park_a),
            None,
        )
        .await;
    assert_eq!(status, 403);

    // Counted in /metrics by service and result code.
    let metrics = site
        .http
        .get(site.vip.server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("pyun_gateway_calls_total")
                && l.contains("service=\"service.parking.realtime\"")
                && l.contains("result_code=\"1401\"")),
        "{metrics}"
    );
}

async fn coupon_loop(backend: Backend) {
    let p = PyunSite::start(backend).await;
    let site = &p.site;
    site.enter(PARK_A, Some("沪A70002"), ago(100)).await;
    let q = site.query("沪A70002", 0, 0).await;
    assert_eq!(
        (&q["totalAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(1600)),
        "{q}"
    );

    // A 60-minute coupon (type 2) lowers Mallcoo's quote and P云's own bill.
    let r = p.grant("沪A70002", "G-1", 2, 60).await;
    assert_eq!((r.code(), r.signed), ("1001", Some(true)), "{:?}", r.json);
    let q = site.query("沪A70002", 0, 0).await;
    assert_eq!(
        (&q["paidAmount"], &q["unPayAmount"]),
        (&json!(600), &json!(1000)),
        "{q}"
    );
    assert!(
        q["offlineDeduction"].as_str().unwrap().contains("星巴克"),
        "{q}"
    );
    // The same grant again: 1001, applied once.
    let r = p.grant("沪A70002", "G-1", 2, 60).await;
    assert_eq!(r.code(), "1001", "{:?}", r.json);
    assert_eq!(
        site.count(
            "SELECT COUNT(*) FROM parking_discounts WHERE source_key = $1",
            "G-1"
        )
        .await,
        1
    );
    let bill = p.bill("沪A70002").await;
    assert_eq!(bill.code(), "1001", "{:?}", bill.json);
    for (field, fen) in [
        ("total_value", 1600),
        ("free_value", 600),
        ("paid_value", 0),
        ("pay_value", 1000),
    ] {
        assert_eq!(bill.json[field], fen, "{field}: {:?}", bill.json);
    }

    // Revoked before payment: the fee is back; a repeat is idempotent; the open order is void.
    let r = p.destroy("G-1").await;
    assert_eq!(r.code(), "1001", "{:?}", r.json);
    let q = site.query("沪A70002", 0, 0).await;
    assert_eq!(q["unPayAmount"], 1600, "{q}");
    assert_eq!(p.destroy("G-1").await.code(), "1001");
    assert_eq!(p.destroy("G-unknown").await.code(), "1002");
    let r = p.pay(&bill.json, "PAY-VOID", 1000, 0).await;
    assert_eq!(
        r.code(),
        "1403",
        "an order priced with a revoked coupon is void: {:?}",
        r.json
    );
    // A revoked grant sent again is refused.
    assert_eq!(p.grant("沪A70002", "G-1", 2, 60).await.code(), "1403");

    // An amount coupon, then payment through P云: used, so no longer revocable.
    assert_eq!(p.grant("沪A70002", "G-2", 1, 300).await.code(), "1001");
    let bill = p.bill("沪A70002").await;
    assert_eq!(bill.json["pay_value"], 1300, "{:?}", bill.json);
    assert_eq!(p.pay(&bill.json, "PAY-1", 1300, 0).await.code(), "1001");
    let r = p.destroy("G-2").await;
    assert_eq!(r.code(), "1403", "{:?}", r.json);
    // The gate lets the car out at 0 within the grace period.
    let out = site.exit(PARK_A, "沪A70002", now_s()).await;
    assert_eq!(out["session"]["fee_due_fen"], 0, "{out}");

    // No stay: 1002 (for a car that left, too); a type-5 window is the plate's and is recorded.
    assert_eq!(p.grant("沪A79999", "G-3", 2, 60).await.code(), "1002");
    assert_eq!(p.grant("沪A70002", "G-4", 1, 100).await.code(), "1002");
    assert_eq!(p.grant("沪A79999", "G-5", 5, 1440).await.code(), "1001");
    // A type we do not apply (4, another tariff) is refused.
    assert_eq!(p.grant("沪A79999", "G-6", 4, 1).await.code(), "1403");
}

async fn payment_loop(backend: Backend) {
    let p = PyunSite::start(backend).await;
    let site = &p.site;
    site.enter(PARK_A, Some("沪A70003"), ago(100)).await;

    // Billing twice with nothing changed gives the same order.
    let first = p.bill("沪A70003").await;
    assert_eq!(
        (first.code(), first.signed),
        ("1001", Some(true)),
        "{:?}",
        first.json
    );
    assert_eq!(first.json["pay_value"], 1600);
    assert_eq!(first.json["buffer_time"], 15 * 60);
    let again = p.bill("沪A70003").await;
    assert_eq!(again.json["parking_order"], first.json["parking_order"]);

    // The notice, twice: recorded once.
    assert_eq!(p.pay(&first.json, "PAY-A", 1600, 0).await.code(), "1001");
    let r = p.pay(&first.json, "PAY-A", 1600, 0).await;
    assert_eq!(
        (r.code(), r.json["message"].as_str()),
        ("1001", Some("已处理"))
    );
    let order = first.json["parking_order"].as_str().unwrap();
    assert_eq!(site.payments_of_order(order).await, 1);
    // Another payment of the paid order: refused, P云 refunds it.
    assert_eq!(p.pay(&first.json, "PAY-B", 1600, 0).await.code(), "1403");
    // Mallcoo sees it paid; the gate lets the car out at 0.
    let q = site.query("沪A70003", 0, 0).await;
    assert_eq!(
        (&q["paidAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(0)),
        "{q}"
    );
    let out = site.exit(PARK_A, "沪A70003", now_s()).await;
    assert_eq!(out["session"]["fee_due_fen"], 0, "{out}");

    // An order we never issued: 1403.
    let fake = json!({"parking_serial": "PB1", "parking_order": "PO-NEVER"});
    assert_eq!(p.pay(&fake, "PAY-C", 100, 0).await.code(), "1403");

    // A superseded order: a newer bill after a coupon voids the old one.
    site.enter(PARK_A, Some("沪A70004"), ago(100)).await;
    let old = p.bill("沪A70004").await;
    assert_eq!(p.grant("沪A70004", "G-9", 1, 100).await.code(), "1001");
    let new = p.bill("沪A70004").await;
    assert_ne!(new.json["parking_order"], old.json["parking_order"]);
    assert_eq!(new.json["pay_value"], 1500);
    assert_eq!(p.pay(&old.json, "PAY-D", 1600, 0).await.code(), "1403");
    assert_eq!(p.pay(&new.json, "PAY-E", 1500, 0).await.code(), "1001");

    // After the car left: 1403, unless P云 deducts after exit (先出后扣, autopay_type 1).
    for (plate, autopay, code) in [("沪A70005", 0, "1403"), ("沪A70006", 1, "1001")] {
        site.enter(PARK_A, Some(plate), ago(100)).await;
        let bill = p.bill(plate).await;
        let out = site.exit(PARK_A, plate, now_s()).await;
        assert_eq!(out["session"]["fee_due_fen"], 1600, "{out}");
        let r = p
            .pay(&bill.json, &format!("PAY-{plate}"), 1600, autopay)
            .await;
        assert_eq!(r.code(), code, "{plate}: {:?}", r.json);
    }
    // No stay for the plate: 1002.
    assert_eq!(p.bill("沪A79998").await.code(), "1002");
}
