//! One ledger per stay end to end (issue 15, PROTOCOLS.md §5.1 and §2.2–2.3 as corrected): the
//! real binary on SQLite and PostgreSQL, discounts granted through the machine API (scope
//! `discounts`) and by a property manager's waiver, read by Mallcoo's fee query, its payments,
//! the exit gate, the sessions list and the stay's page.
//!
//! Expected amounts are §5's worked-example tariff written out (free 15 min, first 60 min 1000,
//! then every 30 min 300), not computed by the code under test: a stay of 100 min costs 1600;
//! `minutes` 60 leaves fee(40) = 1000; `percent` 500 halves it; `amount` 300 leaves 200.

use chrono::Duration;
use e2e::coupon_site::{bearer_client, send};
use e2e::mallcoo_v14_site::{Site, ago, assert_refused, now_s};
use e2e::server::Backend;
use e2e::vip_site::{PARK_A, PARK_B};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

e2e::on_both_engines! {
    the_worked_example_of_5_1_through_the_api => worked_example;
    a_discount_id_is_recorded_once_and_bad_discounts_are_refused => idempotency_and_refusals;
    a_removal_racing_a_payment_never_both_succeed => removal_races_payment;
    waivers_are_for_managers_and_show_on_the_stays_page => waivers_and_stay_page;
}

/// A client with a `discounts` key for every car park.
fn pos(site: &Site) -> Client {
    bearer_client(&site.vip.server.api_key("shop pos", "discounts", None))
}

async fn grant(site: &Site, pos: &Client, body: Value) -> (StatusCode, Value) {
    let (status, answer) = send(
        pos,
        Method::POST,
        &site.vip.server.url("/api/v1/sessions/discounts"),
        Some(body),
    )
    .await;
    (status, answer)
}

async fn remove(site: &Site, pos: &Client, park: &str, id: &str) -> (StatusCode, Value) {
    let (status, answer) = send(
        pos,
        Method::DELETE,
        &site
            .vip
            .server
            .url(&format!("/api/v1/sessions/discounts/{park}/{id}")),
        None,
    )
    .await;
    (status, answer)
}

fn discount(id: &str, plate: &str, kind: &str, value: i64) -> Value {
    json!({"park": PARK_A, "plate": plate, "discount_id": id, "kind": kind, "value": value,
           "source_name": "商户减免", "reason": "消费满 200 元"})
}

async fn count(site: &Site, sql: &'static str, key: &str) -> i64 {
    site.count(sql, key).await
}

async fn worked_example(backend: Backend) {
    let site = Site::start(backend).await;
    let pos = pos(&site);
    site.enter(PARK_A, Some("沪A50001"), ago(100)).await;

    // Each discount answers the stay's figure as it stands after it.
    for (id, kind, value, owed, worth) in [
        ("D-1", "minutes", 60, 1000, 600),
        ("D-2", "percent", 500, 500, 1100),
        ("D-3", "amount", 300, 200, 1400),
    ] {
        let (status, answer) = grant(&site, &pos, discount(id, "沪A50001", kind, value)).await;
        assert_eq!(status, 201, "{answer}");
        assert_eq!(answer["discount"]["state"], "active", "{answer}");
        assert_eq!(answer["discount"]["discount_id"], id);
        let figure = &answer["stay"]["figure"];
        assert_eq!(figure["charge_fen"], 1600, "{answer}");
        assert_eq!(figure["owed_fen"], owed, "{answer}");
        assert_eq!(figure["discount_worth_fen"], worth, "{answer}");
    }

    // Mallcoo reads the same figure: paid = the discounts' worth, unPay = total − paid, and
    // offlineDeduction names them.
    let q = site.query("沪A50001", 0, 0).await;
    assert_eq!(
        (&q["totalAmount"], &q["paidAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(1400), &json!(200)),
        "{q}"
    );
    assert_eq!(
        q["offlineDeduction"], "商户减免 1小时；商户减免 减免 50%；商户减免 ¥3.00",
        "{q}"
    );

    // The sessions list shows what the car owes now.
    let (status, page) = site
        .vip
        .manager_send(
            Method::GET,
            &format!("/api/v1/parks/{}/sessions?plate=沪A50001", site.vip.park_a),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let row = &page["sessions"][0];
    assert_eq!(
        (&row["owed_fen"], &row["discount_worth_fen"]),
        (&json!(200), &json!(1400)),
        "{row}"
    );

    // The exit owes 200 and uses the discounts: they can no longer be removed.
    let out = site.exit(PARK_A, "沪A50001", now_s()).await;
    assert_eq!(out["session"]["fee_due_fen"], 200, "{out}");
    let (status, refused) = remove(&site, &pos, PARK_A, "D-2").await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "discount_used");
    assert_eq!(
        count(
            &site,
            "SELECT COUNT(*) FROM parking_discounts WHERE state = 'used' AND reason = $1",
            "消费满 200 元",
        )
        .await,
        3
    );
    let worth: i64 = count(
        &site,
        "SELECT CAST(SUM(worth_fen) AS BIGINT) FROM parking_discounts WHERE reason = $1",
        "消费满 200 元",
    )
    .await;
    assert_eq!(
        worth, 1400,
        "the worths recorded when used add up to the figure's"
    );

    // `free` makes the stay cost nothing; a removed discount counts no more.
    site.enter(PARK_A, Some("沪A50002"), ago(100)).await;
    let (status, _) = grant(&site, &pos, discount("F-1", "沪A50002", "free", 0)).await;
    assert_eq!(status, 201);
    let q = site.query("沪A50002", 0, 0).await;
    assert_eq!(
        (&q["paidAmount"], &q["unPayAmount"]),
        (&json!(1600), &json!(0)),
        "{q}"
    );
    let (status, removed) = remove(&site, &pos, PARK_A, "F-1").await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["discount"]["state"], "revoked");
    assert_eq!(removed["stay"]["figure"]["owed_fen"], 1600, "{removed}");
    // Removing it again answers the same; an unknown id is 404.
    let (status, again) = remove(&site, &pos, PARK_A, "F-1").await;
    assert_eq!(
        (status, &again["discount"]["state"]),
        (StatusCode::OK, &json!("revoked"))
    );
    let (status, _) = remove(&site, &pos, PARK_A, "NO-SUCH").await;
    assert_eq!(status, 404);

    // A free window belongs to the plate: granted before the car arrives, it covers its stay.
    let (status, window) = grant(
        &site,
        &pos,
        json!({"park": PARK_A, "plate": "沪A50003", "discount_id": "W-1", "kind": "free_window",
               "value": 240, "source_name": "活动免费"}),
    )
    .await;
    assert_eq!(status, 201, "{window}");
    assert!(
        window.get("stay").is_none(),
        "not parked: no stay yet: {window}"
    );
    site.enter(PARK_A, Some("沪A50003"), now_s() - Duration::minutes(1))
        .await;
    let q = site.query("沪A50003", 0, 0).await;
    assert_eq!(q["unPayAmount"], 0, "{q}");
}

async fn idempotency_and_refusals(backend: Backend) {
    let site = Site::start(backend).await;
    let pos = pos(&site);
    site.enter(PARK_A, Some("沪A60001"), ago(100)).await;

    // Twenty concurrent identical requests: one record, one 201, the same answer for all.
    let body = discount("SAME-1", "沪A60001", "minutes", 60);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (url, pos, body) = (
            site.vip.server.url("/api/v1/sessions/discounts"),
            pos.clone(),
            body.clone(),
        );
        tasks.spawn(async move { send(&pos, Method::POST, &url, Some(body)).await });
    }
    let answers = tasks.join_all().await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let replayed = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, replayed), (1, 19), "{answers:?}");
    assert!(
        answers.iter().all(|(_, a)| *a == answers[0].1),
        "{answers:?}"
    );
    assert_eq!(
        count(
            &site,
            "SELECT COUNT(*) FROM parking_discounts WHERE source_key = $1",
            "SAME-1",
        )
        .await,
        1
    );
    let q = site.query("沪A60001", 0, 0).await;
    assert_eq!(q["paidAmount"], 600, "counted once: {q}");

    // Another payload under the same id.
    let (status, e) = grant(&site, &pos, discount("SAME-1", "沪A60001", "minutes", 90)).await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (StatusCode::CONFLICT, &json!("discount_id_reused"))
    );
    // No open stay.
    let (status, e) = grant(&site, &pos, discount("N-1", "沪A69999", "amount", 100)).await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (StatusCode::CONFLICT, &json!("no_open_session"))
    );
    // P云's type 4 (another tariff) and unknown kinds.
    for kind in [json!(4), json!("tariff")] {
        let mut body = discount("K-1", "沪A60001", "amount", 100);
        body["kind"] = kind;
        let (status, e) = grant(&site, &pos, body).await;
        assert_eq!(
            (status, &e["error"]["code"]),
            (StatusCode::BAD_REQUEST, &json!("unsupported_discount")),
            "{e}"
        );
    }
    // P云's type codes are understood: 2 is minutes.
    let mut by_type = discount("K-2", "沪A60001", "minutes", 30);
    by_type["kind"] = json!(2);
    let (status, a) = grant(&site, &pos, by_type).await;
    assert_eq!(
        (status, &a["discount"]["kind"]),
        (StatusCode::CREATED, &json!("minutes")),
        "{a}"
    );
    // Values outside the kind's range; a free window for a barcode.
    for (kind, value) in [("percent", 1001), ("amount", 0), ("minutes", 600_000)] {
        let (status, e) = grant(&site, &pos, discount("V-1", "沪A60001", kind, value)).await;
        assert_eq!(
            (status, &e["error"]["code"]),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                &json!("invalid_discount_value")
            ),
            "{kind} {value}: {e}"
        );
    }
    let (status, e) = grant(
        &site,
        &pos,
        json!({"park": PARK_A, "barcode": "T123", "discount_id": "W-2", "kind": "free_window",
               "value": 60, "source_name": "x"}),
    )
    .await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("plate_required")),
        "{e}"
    );
    // Both or neither of plate and barcode.
    let mut both = discount("B-1", "沪A60001", "amount", 100);
    both["barcode"] = json!("T1");
    let (status, _) = grant(&site, &pos, both).await;
    assert_eq!(status, 400);

    // Scope and car park: a gate key is refused; a key of car park B may not touch A.
    let (status, _) = send(
        &site.gate,
        Method::POST,
        &site.vip.server.url("/api/v1/sessions/discounts"),
        Some(discount("S-1", "沪A60001", "amount", 100)),
    )
    .await;
    assert_eq!(status, 403);
    let pos_b = bearer_client(&site.vip.server.api_key("pos b", "discounts", Some(PARK_B)));
    let (status, _) = grant(&site, &pos_b, discount("S-2", "沪A60001", "amount", 100)).await;
    assert_eq!(status, 403);
    let (status, _) = remove(&site, &pos_b, PARK_A, "SAME-1").await;
    assert_eq!(status, 403);

    // A retry after the car left still gets the first answer.
    site.exit(PARK_A, "沪A60001", now_s()).await;
    let (status, again) = grant(&site, &pos, body).await;
    assert_eq!((status, again), (StatusCode::OK, answers[0].1.clone()));
}

async fn removal_races_payment(backend: Backend) {
    let site = Site::start(backend).await;
    let pos = pos(&site);
    // Sequential first: removed before the payment → the quote is stale; paid first → the
    // removal is refused.
    site.enter(PARK_A, Some("沪A70001"), ago(100)).await;
    grant(&site, &pos, discount("R-1", "沪A70001", "amount", 300)).await;
    let q = site.query("沪A70001", 0, 0).await;
    assert_eq!(q["unPayAmount"], 1300, "{q}");
    let (status, _) = remove(&site, &pos, PARK_A, "R-1").await;
    assert_eq!(status, 200);
    let r = site
        .call("PayParkingFee", &Site::pay_body("RACE-0", &q, 1300, 0))
        .await;
    assert_refused(&r, "重新查询");
    let q = site.query("沪A70001", 0, 0).await;
    grant(&site, &pos, discount("R-2", "沪A70001", "amount", 300)).await;
    let stale = q;
    let q = site.query("沪A70001", 0, 0).await;
    assert_ne!(
        stale["feeId"], q["feeId"],
        "a new discount changes the quote"
    );
    let r = site
        .call("PayParkingFee", &Site::pay_body("RACE-00", &q, 1300, 0))
        .await;
    assert_eq!(r["resCode"], 0, "{r}");
    let (status, e) = remove(&site, &pos, PARK_A, "R-2").await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (StatusCode::CONFLICT, &json!("discount_used"))
    );

    // Then raced, eight times: exactly one of the two wins, and the ledger agrees with it.
    for i in 0..8 {
        let plate = format!("沪A7100{i}");
        site.enter(PARK_A, Some(&plate), ago(100)).await;
        let id = format!("RACE-D-{i}");
        grant(&site, &pos, discount(&id, &plate, "amount", 300)).await;
        let q = site.query(&plate, 0, 0).await;
        assert_eq!(q["unPayAmount"], 1300, "{q}");
        let order = format!("RACE-{i}");
        let body = Site::pay_body(&order, &q, 1300, 0);
        let (removal, payment) = tokio::join!(
            remove(&site, &pos, PARK_A, &id),
            site.call("PayParkingFee", &body)
        );
        let removed = removal.0 == StatusCode::OK;
        let paid = payment["resCode"] == 0;
        assert!(
            removed != paid,
            "exactly one wins: removal {removal:?}, payment {payment}"
        );
        if removed {
            assert_refused(&payment, "重新查询");
            assert_eq!(site.payments_of_order(&order).await, 0);
        } else {
            assert_eq!(removal.1["error"]["code"], "discount_used", "{removal:?}");
            assert_eq!(site.payments_of_order(&order).await, 1);
            let after = site.query(&plate, 0, 0).await;
            assert_eq!(
                after["unPayAmount"], 0,
                "the payment settled what the discount left: {after}"
            );
        }
    }
}

async fn waivers_and_stay_page(backend: Backend) {
    let site = Site::start(backend).await;
    let pos = pos(&site);
    let session = site.enter(PARK_A, Some("沪A80001"), ago(100)).await;
    let id = session["id"].as_i64().unwrap();
    grant(&site, &pos, discount("P-1", "沪A80001", "minutes", 60)).await;

    // A manager's waiver: recorded with who and why, audit-logged, counted at once.
    let path = format!("/api/v1/sessions/{id}/waivers");
    let (status, w) = site
        .vip
        .manager_send(
            Method::POST,
            &path,
            Some(json!({"kind": "amount", "value": 500, "reason": "道闸故障补偿"})),
        )
        .await;
    assert_eq!(status, 201, "{w}");
    assert_eq!(w["discount"]["created_by"], "user:manager");
    assert_eq!(w["discount"]["label"], "人工减免");
    assert_eq!(
        w["stay"]["figure"]["owed_fen"], 500,
        "1000 after 60 minutes, less 500: {w}"
    );
    let q = site.query("沪A80001", 0, 0).await;
    assert_eq!(
        q["offlineDeduction"], "商户减免 1小时；人工减免 ¥5.00",
        "{q}"
    );
    let (status, audit) = send(
        &site.vip.admin,
        Method::GET,
        &site.vip.server.url("/api/v1/audit"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let text = audit.to_string();
    assert!(
        text.contains("discount.waive") && text.contains("道闸故障补偿"),
        "{text}"
    );
    // Mall staff may read but not waive; a reason is required; a closed stay takes no waiver.
    let (status, _) = send(
        &site.vip.staff,
        Method::POST,
        &site.vip.server.url(&path),
        Some(json!({"kind": "free", "reason": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, e) = site
        .vip
        .manager_send(
            Method::POST,
            &path,
            Some(json!({"kind": "free", "reason": "  "})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), &e["error"]["code"]),
        (400, &json!("invalid_field")),
        "{e}"
    );

    // The stay's page: discounts with their worth now (in §5.1's order), payments, the figure.
    let (status, detail) = send(
        &site.vip.staff,
        Method::GET,
        &site.vip.server.url(&format!("/api/v1/sessions/{id}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    let worths: Vec<_> = detail["discounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].clone(), d["worth_now_fen"].clone()))
        .collect();
    assert_eq!(
        worths,
        [
            (json!("minutes"), json!(600)),
            (json!("amount"), json!(500))
        ],
        "{detail}"
    );
    assert_eq!(detail["figure"]["owed_fen"], 500);
    assert_eq!(detail["park"]["code"], PARK_A);
    assert_eq!(detail["tariff"]["pricing"]["first_price"], 1000);

    site.exit(PARK_A, "沪A80001", now_s()).await;
    let (status, e) = site
        .vip
        .manager_send(
            Method::POST,
            &path,
            Some(json!({"kind": "free", "reason": "晚了"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), &e["error"]["code"]),
        (409, &json!("session_closed")),
        "{e}"
    );
    let (status, detail) = site
        .vip
        .manager_send(Method::GET, &format!("/api/v1/sessions/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert!(
        detail["discounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "used"),
        "{detail}"
    );
    assert_eq!(detail["session"]["fee_due_fen"], 500);
    // A stay of a car park the user does not have is not found.
    let (status, _) = site
        .vip
        .manager_send(Method::GET, "/api/v1/sessions/999999", None)
        .await;
    assert_eq!(status.as_u16(), 404);
}
