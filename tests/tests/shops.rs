//! Shops validate parking (issue 17) end to end on SQLite and PostgreSQL: admins and property
//! managers keep shops and offers; a merchant reaches only its own shop; a local-discount
//! validation lowers what the stay owes; `validation_id` makes a validation idempotent; the
//! daily quota holds under concurrent tills; a P云 coupon product is granted through the P云
//! sandbox and a refusal gives the quota unit back; a QR code scanned by a parked customer is
//! linked back to its validation; the monthly statement counts and values all of it, as JSON and
//! as CSV in UTF-8 and GBK.
//!
//! Amounts are §5's worked-example tariff of the ledger tests (stay of 100 min costs 1600;
//! `minutes` 60 leaves fee(40 min) = 1000).

use std::time::{Duration, Instant};

use e2e::coupon_site::{self, COUPON_CODE, CouponSite, FAST_RETRIES, send};
use e2e::mallcoo_v14_site::{Site, ago};
use e2e::pyun_cloud_site::PyunCloud;
use e2e::server::{Backend, TestServer};
use e2e::shop_site::{MERCHANT_PW, QrShop, merchant, offer, shop};
use e2e::vip_site::PARK_A;
use reqwest::{Client, Method, StatusCode};
use sandbox::pyun::{Endpoint, Fault, FaultRule};
use serde_json::{Value, json};

e2e::on_both_engines! {
    shops_and_offers_are_managed_and_merchants_validate_only_their_own => shops_and_validations;
    thirty_validations_from_six_tills_against_a_quota_of_twenty_give_exactly_twenty => quota_race;
    a_pyun_product_is_granted_through_pyun_and_a_refusal_gives_the_unit_back => pyun_product;
    a_qr_code_scanned_by_a_parked_customer_lowers_the_fee_and_is_never_resent => qr_tokens;
}

async fn call(
    client: &Client,
    server: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    send(client, method, &server.url(path), body).await
}

async fn validate(
    server: &TestServer,
    m: &Client,
    offer: i64,
    plate: &str,
    id: &str,
) -> (StatusCode, Value) {
    call(
        m,
        server,
        Method::POST,
        "/api/v1/shop/validations",
        Some(json!({"offer_id": offer, "plate": plate, "validation_id": id})),
    )
    .await
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// This Shanghai month, as the merchant's page tells its day.
async fn this_month(server: &TestServer, m: &Client) -> String {
    let (_, page) = call(m, server, Method::GET, "/api/v1/shop", None).await;
    page["day"].as_str().expect("the page's day")[..7].to_owned()
}

/// `GET /api/v1/shops/{shop}/statement?month=…` as `by`.
async fn statement(
    server: &TestServer,
    by: &Client,
    shop: i64,
    month: &str,
) -> (StatusCode, Value) {
    call(
        by,
        server,
        Method::GET,
        &format!("/api/v1/shops/{shop}/statement?month={month}"),
        None,
    )
    .await
}

/// `GET /api/v1/shops/{shop}/statement.csv?month=…&encoding=…`: status, disposition, body.
async fn statement_csv(
    server: &TestServer,
    by: &Client,
    shop: i64,
    month: &str,
    encoding: &str,
) -> (StatusCode, String, Vec<u8>) {
    let resp = by
        .get(server.url(&format!(
            "/api/v1/shops/{shop}/statement.csv?month={month}&encoding={encoding}"
        )))
        .send()
        .await
        .expect("CSV request");
    let status = resp.status();
    let disposition = resp
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (
        status,
        disposition,
        resp.bytes().await.expect("CSV body").to_vec(),
    )
}

/// The CSV's rows, cell by cell.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

async fn shops_and_validations(backend: Backend) {
    let site = Site::start(backend).await;
    let server = &site.vip.server;
    let (admin, manager) = (&site.vip.admin, &site.vip.manager);
    let (park_a, park_b) = (site.vip.park_a, site.vip.park_b);

    // Shops: created by a manager of the car park, names unique per car park.
    let tea = shop(server, manager, park_a, "一点点奶茶", Some("S-1")).await;
    for (park, body, status, expected) in [
        (
            park_a,
            json!({"name": "一点点奶茶"}),
            409,
            "shop_name_taken",
        ),
        (park_a, json!({"name": "  "}), 400, "invalid_field"),
        (999_999, json!({"name": "x"}), 404, "not_found"),
    ] {
        let path = format!("/api/v1/parks/{park}/shops");
        let (s, e) = call(manager, server, Method::POST, &path, Some(body)).await;
        assert_eq!((s.as_u16(), code(&e)), (status, expected), "{e}");
    }
    let other = shop(server, admin, park_b, "书店", None).await;
    let (s, list) = call(
        manager,
        server,
        Method::GET,
        &format!("/api/v1/parks/{park_a}/shops"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (s, changed) = call(
        manager,
        server,
        Method::PUT,
        &format!("/api/v1/shops/{tea}"),
        Some(json!({"store_code": "S-2"})),
    )
    .await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(changed["store_code"], "S-2");
    assert_eq!(changed["name"], "一点点奶茶");

    // Offers: exactly one of a product and a discount, quotas ≥ 1, the ledger's own checks.
    let two_hours = offer(
        server,
        manager,
        tea,
        json!({"name": "减1小时", "discount": {"kind": "minutes", "value": 60}, "daily_quota": 5}),
    )
    .await;
    let other_offer = offer(
        server,
        admin,
        other,
        json!({"name": "减5元", "discount": {"kind": "amount", "value": 500}, "daily_quota": 5}),
    )
    .await;
    let offers = format!("/api/v1/shops/{tea}/offers");
    for (body, status, expected) in [
        (
            json!({"name": "a", "product_id": 1, "discount": {"kind": "free"}, "daily_quota": 1}),
            422,
            "offer_shape",
        ),
        (json!({"name": "a", "daily_quota": 1}), 422, "offer_shape"),
        (
            json!({"name": "a", "product_id": 424242, "daily_quota": 1}),
            422,
            "unknown_product",
        ),
        (
            json!({"name": "a", "discount": {"kind": "percent", "value": 2000}, "daily_quota": 1}),
            422,
            "invalid_discount_value",
        ),
        (
            json!({"name": "a", "discount": {"kind": "free"}, "daily_quota": 0}),
            400,
            "invalid_quota",
        ),
        (
            json!({"name": "减1小时", "discount": {"kind": "free"}, "daily_quota": 1}),
            409,
            "offer_name_taken",
        ),
    ] {
        let (s, answer) = call(manager, server, Method::POST, &offers, Some(body.clone())).await;
        assert_eq!(
            (s.as_u16(), code(&answer)),
            (status, expected),
            "{body} → {answer}"
        );
    }
    let (s, changed) = call(
        manager,
        server,
        Method::PUT,
        &format!("/api/v1/offers/{two_hours}"),
        Some(json!({"monthly_quota": 100})),
    )
    .await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(
        (
            changed["monthly_quota"].as_i64(),
            changed["daily_quota"].as_i64()
        ),
        (Some(100), Some(5))
    );
    let (s, list) = call(manager, server, Method::GET, &offers, None).await;
    assert_eq!(s, 200);
    assert_eq!(
        list[0]["discount"],
        json!({"kind": "minutes", "value": 60}),
        "{list}"
    );

    // Merchant accounts: bound to a shop, and only merchants are.
    let (s, e) = call(
        admin,
        server,
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "m-none", "password": MERCHANT_PW, "role": "merchant"})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "shop_required"),
        "{e}"
    );
    let (s, e) = call(admin, server, Method::POST, "/api/v1/users",
        Some(json!({"username": "staff-shop", "password": MERCHANT_PW, "role": "mall_staff", "shop_id": tea}))).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "shop_not_allowed"),
        "{e}"
    );
    let m = merchant(server, admin, "tea-till", tea).await;

    // The merchant sees its shop and nothing else.
    let (s, page) = call(&m, server, Method::GET, "/api/v1/shop", None).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["shop"]["id"], tea);
    assert_eq!(page["offers"][0]["used_today"], 0, "{page}");
    for (method, path) in [
        (Method::GET, "/api/v1/parks".to_owned()),
        (Method::GET, format!("/api/v1/parks/{park_a}")),
        (Method::GET, format!("/api/v1/parks/{park_a}/shops")),
        (Method::GET, format!("/api/v1/shops/{tea}/offers")),
        (Method::GET, format!("/api/v1/parks/{park_a}/sessions")),
        (Method::GET, "/api/v1/coupon-records".to_owned()),
    ] {
        let (s, _) = call(&m, server, method.clone(), &path, None).await;
        assert_eq!(s, 403, "merchant on {method} {path}");
    }
    let (s, _) = call(manager, server, Method::GET, "/api/v1/shop", None).await;
    assert_eq!(s, 403, "a manager has no shop page");
    let (s, e) = validate(server, &m, other_offer, "沪A50001", "v-other").await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_offer"),
        "another shop's offer: {e}"
    );

    // A local discount needs the car parked; it then lowers what the stay owes.
    let (s, e) = validate(server, &m, two_hours, "沪A50001", "v-1").await;
    assert_eq!((s, code(&e)), (StatusCode::CONFLICT, "not_parked"), "{e}");
    let (s, e) = validate(server, &m, two_hours, "not a plate", "v-1").await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::BAD_REQUEST, "invalid_plate"),
        "{e}"
    );
    let session = site.enter(PARK_A, Some("沪A50001"), ago(100)).await;
    let session_id = session["id"].as_i64().unwrap();
    let (s, given) = validate(server, &m, two_hours, "沪A50001", "v-1").await;
    assert_eq!(s, 201, "{given}");
    assert_eq!(given["validation"]["state"], "delivered", "{given}");
    assert_eq!(given["stay"]["figure"]["owed_fen"], 1000, "{given}");
    let (s, stay) = call(
        manager,
        server,
        Method::GET,
        &format!("/api/v1/sessions/{session_id}"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{stay}");
    assert_eq!(stay["figure"]["owed_fen"], 1000, "{stay}");
    let labels: Vec<&str> = stay["discounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["label"].as_str())
        .collect();
    assert_eq!(labels, ["一点点奶茶"], "{stay}");

    // Idempotent on validation_id: the same body again is the same validation; another is refused.
    let (s, again) = validate(server, &m, two_hours, "沪A50001", "v-1").await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["validation"]["id"], given["validation"]["id"]);
    let (s, e) = validate(server, &m, two_hours, "沪A50002", "v-1").await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::CONFLICT, "validation_id_reused"),
        "{e}"
    );
    let (_, stay) = call(
        manager,
        server,
        Method::GET,
        &format!("/api/v1/sessions/{session_id}"),
        None,
    )
    .await;
    assert_eq!(
        stay["figure"]["owed_fen"], 1000,
        "the retry gave nothing more: {stay}"
    );

    // The page counts it once; the history shows it; another day is empty.
    let (_, page) = call(&m, server, Method::GET, "/api/v1/shop", None).await;
    assert_eq!(
        (
            page["offers"][0]["used_today"].as_i64(),
            page["offers"][0]["used_this_month"].as_i64()
        ),
        (Some(1), Some(1)),
        "{page}"
    );
    let (s, history) = call(&m, server, Method::GET, "/api/v1/shop/validations", None).await;
    assert_eq!(s, 200, "{history}");
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history[0]["plate"], "沪A50001");
    let (s, history) = call(
        &m,
        server,
        Method::GET,
        "/api/v1/shop/validations?day=2020-01-01",
        None,
    )
    .await;
    assert_eq!(
        (s.as_u16(), history.as_array().map(Vec::len)),
        (200, Some(0)),
        "{history}"
    );
    let (s, e) = call(
        &m,
        server,
        Method::GET,
        "/api/v1/shop/validations?day=2020-13-45",
        None,
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::BAD_REQUEST, "invalid_day"),
        "{e}"
    );

    // A switched-off offer gives nothing.
    let (s, _) = call(
        manager,
        server,
        Method::PUT,
        &format!("/api/v1/offers/{two_hours}"),
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, e) = validate(server, &m, two_hours, "沪A50001", "v-2").await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "offer_inactive"),
        "{e}"
    );
}

async fn quota_race(backend: Backend) {
    let site = Site::start(backend).await;
    let server = &site.vip.server;
    let shop_id = shop(server, &site.vip.manager, site.vip.park_a, "快餐店", None).await;
    let offer_id = offer(
        server,
        &site.vip.manager,
        shop_id,
        json!({"name": "减1元", "discount": {"kind": "amount", "value": 100}, "daily_quota": 20}),
    )
    .await;
    let plates: Vec<String> = (0..30).map(|i| format!("沪A6{i:04}")).collect();
    for p in &plates {
        site.enter(PARK_A, Some(p), ago(90)).await;
    }
    let (s, _) = call(&site.vip.admin, server, Method::POST, "/api/v1/users",
        Some(json!({"username": "till", "password": MERCHANT_PW, "role": "merchant", "shop_id": shop_id}))).await;
    assert_eq!(s, 201);
    let mut tills = Vec::new();
    for _ in 0..6 {
        tills.push(server.signed_in("till", MERCHANT_PW).await);
    }
    let url = server.url("/api/v1/shop/validations");
    let mut tasks = Vec::new();
    for (t, till) in tills.into_iter().enumerate() {
        let mine: Vec<String> = plates.iter().skip(t).step_by(6).cloned().collect();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for (i, plate) in mine.iter().enumerate() {
                let (s, answer) = send(&till, Method::POST, &url,
                    Some(json!({"offer_id": offer_id, "plate": plate, "validation_id": format!("t{t}-{i}")}))).await;
                out.push((s, answer));
            }
            out
        }));
    }
    let (mut given, mut refused) = (0, 0);
    for task in tasks {
        for (s, answer) in task.await.unwrap() {
            match s.as_u16() {
                201 => given += 1,
                409 if code(&answer) == "quota_exhausted" => {
                    assert_eq!(answer["error"]["details"]["quota"], "daily", "{answer}");
                    refused += 1;
                }
                _ => panic!("unexpected {s}: {answer}"),
            }
        }
    }
    assert_eq!((given, refused), (20, 10));
    let till = server.signed_in("till", MERCHANT_PW).await;
    let (_, page) = call(&till, server, Method::GET, "/api/v1/shop", None).await;
    assert_eq!(page["offers"][0]["used_today"], 20, "{page}");
    let (_, history) = call(&till, server, Method::GET, "/api/v1/shop/validations", None).await;
    assert_eq!(history.as_array().unwrap().len(), 20, "{history}");
    let discounts = site
        .count(
            "SELECT COUNT(*) FROM parking_discounts WHERE source = $1",
            "shop",
        )
        .await;
    assert_eq!(discounts, 20, "one discount per validation given");

    // The month's statement bills the 20 given, each ¥1 off a stay that owed more.
    let manager = &site.vip.manager;
    let month = this_month(server, &till).await;
    let (s, st) = statement(server, manager, shop_id, &month).await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["month"], month.as_str());
    assert_eq!(st["shop"]["id"], shop_id, "{st}");
    assert!(st["park_name"].is_string(), "{st}");
    let lines = st["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{st}");
    let line = &lines[0];
    assert_eq!(
        (&line["offer_id"], &line["kind"], &line["product_id"]),
        (&json!(offer_id), &json!("plate"), &Value::Null),
        "{st}"
    );
    assert_eq!(line["discount"], json!({"kind": "amount", "value": 100}));
    let expected = json!({"delivered": 20, "pending": 0, "refused": 0, "unknown": 0,
        "worth_fen": 2000, "worth_missing": 0});
    assert_eq!(st["totals"], expected, "{st}");
    for k in ["delivered", "refused", "worth_fen", "worth_missing"] {
        assert_eq!(line[k], expected[k], "{k}: {st}");
    }
    // Another month has nothing.
    let (_, empty) = statement(server, manager, shop_id, "2020-01").await;
    assert_eq!(empty["lines"], json!([]), "{empty}");
    assert_eq!(empty["totals"]["delivered"], 0, "{empty}");

    // The CSV: a row per validation and the totals, the same in UTF-8 (with a BOM) and GBK.
    let (s, disposition, utf8) = statement_csv(server, manager, shop_id, &month, "utf-8").await;
    assert_eq!(s, 200);
    assert!(
        disposition.starts_with("attachment; filename=") && disposition.contains(&month),
        "{disposition}"
    );
    let text = std::str::from_utf8(utf8.strip_prefix(b"\xEF\xBB\xBF").expect("a BOM"))
        .expect("UTF-8")
        .to_owned();
    let (s, _, gbk) = statement_csv(server, manager, shop_id, &month, "gbk").await;
    assert_eq!(s, 200);
    let (decoded, _, bad) = encoding_rs::GBK.decode(&gbk);
    assert!(!bad, "valid GBK");
    assert_eq!(decoded, text, "GBK decodes to the same rows");
    let rows = csv_rows(&text);
    assert_eq!(
        rows[0],
        [
            "时间",
            "方式",
            "车牌",
            "优惠",
            "状态",
            "价值(元)",
            "操作人",
            "编号"
        ]
    );
    assert_eq!(rows.len(), 1 + 20 + 1, "{text}");
    let first = &rows[1];
    assert_eq!(
        &first[1..7],
        ["车牌", first[2].as_str(), "减1元", "已送达", "1.00", "till"]
    );
    assert!(plates.contains(&first[2]), "{first:?}");
    assert!(first[0].starts_with(&month), "Shanghai time: {first:?}");
    assert!(
        first[7].starts_with('t'),
        "the till's validation_id: {first:?}"
    );
    let totals = rows.last().unwrap();
    assert_eq!(
        (totals[0].as_str(), totals[5].as_str()),
        ("合计", "20.00"),
        "{totals:?}"
    );

    // What the statement refuses.
    let (s, e) = statement(server, manager, shop_id, "2026-13").await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_month"),
        "{e}"
    );
    let (s, _) = statement(server, manager, shop_id + 1000, &month).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = statement(server, &till, shop_id, &month).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a merchant reads no statement, its own neither"
    );
    let (s, _, _) = statement_csv(server, &till, shop_id, &month, "utf-8").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, body) = statement_csv(server, manager, shop_id, &month, "latin1").await;
    let e: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_encoding"),
        "{e}"
    );

    // A validated car leaves: its discount is used, its recorded worth the same ¥1.
    let gone = first[2].clone();
    site.exit(PARK_A, &gone, chrono::Utc::now()).await;
    let used = site
        .count(
            "SELECT COUNT(*) FROM parking_discounts WHERE state = $1 AND worth_fen = 100",
            "used",
        )
        .await;
    assert_eq!(used, 1, "the exit counted {gone}'s discount");
    let (_, st) = statement(server, manager, shop_id, &month).await;
    assert_eq!(st["totals"], expected, "{st}");
}

/// Reads the merchant's history until validation `id` leaves `pending`.
async fn settled(server: &TestServer, m: &Client, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, history) = call(m, server, Method::GET, "/api/v1/shop/validations", None).await;
        let found = history
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["validation_id"] == id);
        if let Some(v) = found.filter(|v| v["state"] != "pending" || Instant::now() > deadline) {
            return v.clone();
        }
        assert!(Instant::now() < deadline, "validation {id} never appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn pyun_product(backend: Backend) {
    const PARKED: &str = "粤B12345";
    let site = CouponSite::start(backend, coupon_site::sandbox(&[PARKED]), &FAST_RETRIES).await;
    let server = &site.server;
    let shop_id = shop(server, &site.admin, site.park_id, "咖啡店", Some("cafe-88")).await;
    let (s, e) = call(
        &site.admin,
        server,
        Method::POST,
        &format!("/api/v1/shops/{shop_id}/offers"),
        Some(json!({"name": "x", "product_id": site.product_id + 1000, "daily_quota": 3})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_product"),
        "{e}"
    );
    let offer_id = offer(server, &site.admin, shop_id,
        json!({"name": "停车券", "product_id": site.product_id, "daily_quota": 3, "monthly_quota": 50})).await;
    let m = merchant(server, &site.admin, "cafe-till", shop_id).await;

    // Delivered through P云, with the shop's store code instead of the product's.
    let (s, answer) = validate(server, &m, offer_id, PARKED, "c-1").await;
    assert!(s == 200 || s == 202, "{s} {answer}");
    assert!(
        answer["validation"]["coupon_record_id"].is_i64(),
        "{answer}"
    );
    let v = settled(server, &m, "c-1").await;
    assert_eq!(v["state"], "delivered", "{v}");
    let sent = site
        .pyun
        .requests()
        .into_iter()
        .rfind(|r| r.endpoint == Endpoint::Grant)
        .expect("a grant reached P云");
    let store = sent
        .fields
        .iter()
        .find(|(k, _)| k == "store_code")
        .map(|(_, v)| v.as_str());
    assert_eq!(store, Some("cafe-88"));
    let (_, page) = call(&m, server, Method::GET, "/api/v1/shop", None).await;
    assert_eq!(page["offers"][0]["used_today"], 1, "{page}");

    // P云 refuses a car it never saw (1002): refused with its reason, the unit given back.
    let (s, answer) = validate(server, &m, offer_id, "粤B99999", "c-2").await;
    assert!(s == 200 || s == 202, "{s} {answer}");
    let v = settled(server, &m, "c-2").await;
    assert_eq!(v["state"], "refused", "{v}");
    assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{v}");
    assert_eq!(v["quota_returned"], true, "{v}");
    let (_, page) = call(&m, server, Method::GET, "/api/v1/shop", None).await;
    assert_eq!(
        page["offers"][0]["used_today"], 1,
        "the refusal gave its unit back: {page}"
    );
    assert_eq!(page["offers"][0]["used_this_month"], 1, "{page}");
    // Reading it again gives nothing back twice.
    let (_, page) = call(&m, server, Method::GET, "/api/v1/shop", None).await;
    assert_eq!(page["offers"][0]["used_today"], 1, "{page}");

    // Another refusal, seen by the statement alone: it brings the validation up to date itself.
    let (s, answer) = validate(server, &m, offer_id, "粤B99998", "c-3").await;
    assert!(s == 200 || s == 202, "{s} {answer}");
    let month = this_month(server, &m).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let st = loop {
        let (s, st) = statement(server, &site.admin, shop_id, &month).await;
        assert_eq!(s, 200, "{st}");
        if st["totals"]["refused"] == 2 {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "the statement never saw c-3 refused: {st}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let line = &st["lines"][0];
    assert_eq!(line["product_id"], site.product_id, "{st}");
    assert_eq!(line["discount"], Value::Null, "{st}");
    // Delivered once, refused twice and never billed; this car park is not on P云 car-park
    // access, so no `discount.create` tells the delivered coupon's worth.
    let expected = json!({"delivered": 1, "pending": 0, "refused": 2, "unknown": 0,
        "worth_fen": 0, "worth_missing": 1});
    assert_eq!(st["totals"], expected, "{st}");
    let (_, page) = call(&m, server, Method::GET, "/api/v1/shop", None).await;
    assert_eq!(
        page["offers"][0]["used_today"], 1,
        "c-3's unit given back: {page}"
    );
    let (_, _, utf8) = statement_csv(server, &site.admin, shop_id, &month, "utf-8").await;
    let text = String::from_utf8(utf8[3..].to_vec()).unwrap();
    let states: Vec<String> = csv_rows(&text)[1..4].iter().map(|r| r[4].clone()).collect();
    assert_eq!(states, ["已送达", "被拒绝", "被拒绝"], "{text}");
    assert_eq!(
        csv_rows(&text)[2][5],
        "",
        "a refusal is worth nothing billed: {text}"
    );
}

/// `POST /api/v1/shop/qr-tokens` for `offer`.
async fn mint(
    server: &TestServer,
    m: &Client,
    offer: i64,
    single_use: bool,
) -> (StatusCode, Value) {
    call(
        m,
        server,
        Method::POST,
        "/api/v1/shop/qr-tokens",
        Some(json!({"offer_id": offer, "single_use": single_use, "expire_in": 600})),
    )
    .await
}

/// The next `mcoupon/token` call P云 receives meets `fault`.
fn fail_next_token(cloud: &PyunCloud, fault: Fault) {
    cloud.pyun.push_fault(FaultRule {
        endpoint: Some(Endpoint::Token),
        times: 1,
        skip: 0,
        fault,
    });
}

/// Today's use of the merchant's first offer.
async fn used_today(server: &TestServer, m: &Client) -> Value {
    let (_, page) = call(m, server, Method::GET, "/api/v1/shop", None).await;
    page["offers"][0]["used_today"].clone()
}

async fn qr_tokens(backend: Backend) {
    const PARKED: &str = "沪A72001";
    let qr = QrShop::start(backend, 4).await;
    let (cloud, offer_id) = (&qr.cloud, qr.product_offer);
    let site = &cloud.p.site;
    let (server, admin) = (qr.server(), qr.admin());
    let (shop_id, product) = (qr.shop_id, qr.product_id);
    let local = offer(
        server,
        admin,
        qr.shop_id,
        json!({"name": "减1小时", "discount": {"kind": "minutes", "value": 60}, "daily_quota": 4}),
    )
    .await;
    let m = merchant(server, admin, "qr-till", qr.shop_id).await;
    qr.park(PARKED, 100).await;

    // A QR code for one customer: P云's claim link, one unit of quota.
    let (s, token) = mint(server, &m, offer_id, true).await;
    assert_eq!(s, 201, "{token}");
    let url = token["url"].as_str().unwrap();
    let (_, name) = url
        .split_once("/qr/discount?token=")
        .expect("P云's claim link");
    assert_eq!(token["expire_in"], 600, "{token}");
    assert_eq!(used_today(server, &m).await, 1);
    let sent = cloud.pyun.requests();
    let sent = sent
        .iter()
        .rfind(|r| r.endpoint == Endpoint::Token)
        .unwrap();
    for (k, v) in [
        ("store_code", "cafe-88"),
        ("coupon_code", COUPON_CODE),
        ("use_expire", "1"),
    ] {
        assert!(
            sent.fields.iter().any(|(n, x)| n == k && x == v),
            "{k}: {:?}",
            sent.fields
        );
    }

    // The customer scans it: P云 applies 60 minutes at the car park; the fee drops.
    assert_eq!(site.query(PARKED, 0, 0).await["unPayAmount"], 1600);
    let scan = cloud
        .pyun
        .scan_token(name, PARKED)
        .await
        .expect("a live token");
    assert_eq!(scan.code, "1001", "{scan:?}");
    let create = scan.discount_create.expect("discount.create sent");
    assert_eq!(create.result_code.as_deref(), Some("1001"), "{create:?}");
    assert_eq!(site.query(PARKED, 0, 0).await["unPayAmount"], 1000);
    assert!(
        cloud.pyun.scan_token(name, "沪A72002").await.is_err(),
        "single use"
    );
    // The shop's history shows it claimed, by that car; the statement, what it was worth.
    let (_, history) = call(&m, server, Method::GET, "/api/v1/shop/validations", None).await;
    let claimed = &history[0];
    assert_eq!(claimed["kind"], "qr_token", "{history}");
    assert!(claimed["claimed_at"].is_string(), "{history}");
    assert_eq!(claimed["plate"], PARKED, "{history}");
    let month = this_month(server, &m).await;
    let (s, st) = statement(server, admin, shop_id, &month).await;
    assert_eq!(s, 200, "{st}");
    let line = &st["lines"][0];
    assert_eq!(
        (&line["kind"], &line["offer_id"]),
        (&json!("qr_token"), &json!(offer_id)),
        "{st}"
    );
    assert_eq!(
        (
            &line["delivered"],
            &line["worth_fen"],
            &line["worth_missing"]
        ),
        (&json!(1), &json!(600), &json!(0)),
        "60 minutes off a 100-minute stay: {st}"
    );

    // A local discount is no QR code.
    let (s, e) = mint(server, &m, local, false).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "offer_not_pyun"),
        "{e}"
    );

    // P云 refuses (the unit given back) or fails on its side (a token may exist: the unit stays
    // used); both 502 with P云's words.
    for (http_status, pyun_code, words, expected, used) in [
        (200, "403", "商户已停用", "pyun_refused", 1),
        (500, "1500", "系统繁忙", "pyun_failed", 2),
    ] {
        fail_next_token(
            cloud,
            Fault::Answer {
                http_status,
                code: pyun_code.into(),
                message: words.into(),
            },
        );
        let (s, e) = mint(server, &m, offer_id, false).await;
        assert_eq!((s, code(&e)), (StatusCode::BAD_GATEWAY, expected), "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(words),
            "{e}"
        );
        assert_eq!(used_today(server, &m).await, used);
    }

    // No answer in time: 504, never resent (a token may exist), the unit stays used.
    let calls = |pyun: &sandbox::pyun::PyunSandbox| {
        pyun.requests()
            .iter()
            .filter(|r| r.endpoint == Endpoint::Token)
            .count()
    };
    let before = calls(&cloud.pyun);
    fail_next_token(cloud, Fault::Latency { ms: 4_000 });
    let (s, e) = mint(server, &m, offer_id, false).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::GATEWAY_TIMEOUT, "pyun_timeout"),
        "{e}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(calls(&cloud.pyun), before + 1, "sent once, never again");
    assert_eq!(used_today(server, &m).await, 3);
    let (_, history) = call(&m, server, Method::GET, "/api/v1/shop/validations", None).await;
    let states: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["unknown", "unknown", "refused", "delivered"],
        "{history}"
    );

    // The quota holds for QR codes too.
    assert_eq!(mint(server, &m, offer_id, false).await.0, 201);
    // Nobody scanned that one yet: billed once scanned, its worth unknown until then.
    let (_, st) = statement(server, admin, shop_id, &month).await;
    let expected = json!({"delivered": 2, "pending": 0, "refused": 1, "unknown": 2,
        "worth_fen": 600, "worth_missing": 1});
    assert_eq!(st["totals"], expected, "{st}");
    let (s, e) = mint(server, &m, offer_id, false).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::CONFLICT, "quota_exhausted"),
        "{e}"
    );

    // The same product granted to the parked car's plate, while that multi-use QR code is live:
    // P云's `discount.create` for the grant carries the same store and coupon codes, yet is the
    // grant's — its worth (the rest of the fee) on the plate line, none on the token's.
    let plate_offer = offer(
        server,
        admin,
        shop_id,
        json!({"name": "停车券(车牌)", "product_id": product, "daily_quota": 2}),
    )
    .await;
    let (s, answer) = validate(server, &m, plate_offer, PARKED, "p-1").await;
    assert!(s == 200 || s == 202, "{s} {answer}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let st = loop {
        let (_, st) = statement(server, admin, shop_id, &month).await;
        let plate_line = st["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["offer_id"] == plate_offer)
            .cloned();
        if plate_line.is_some_and(|l| l["delivered"] == 1 && l["worth_missing"] == 0) {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "the grant's worth never came: {st}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let lines: Vec<(i64, &str, i64, i64)> = st["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["offer_id"].as_i64().unwrap(),
                l["kind"].as_str().unwrap(),
                l["worth_fen"].as_i64().unwrap(),
                l["worth_missing"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (offer_id, "qr_token", 600, 1),
            (plate_offer, "plate", 1000, 0)
        ],
        "{st}"
    );
}
