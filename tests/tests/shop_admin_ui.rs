//! The 商户 admin pages in headless Chromium against the real binary (issue 17): a property
//! manager creates a shop and two offers — a local discount, and a P云 coupon product with a
//! daily and a monthly quota —, changes one, and the API returns them as typed; wrong entries
//! are refused by the server, whose words stand beside the field; the statement page answers
//! whatever the server says; an admin creates a merchant for the shop on the users page, and
//! that merchant signs in to its shop.

use e2e::browser::Browser;
use e2e::coupon_site::{self, ADMIN_PW, CouponSite, FAST_RETRIES, MANAGER_PW, PRODUCT, send};
use e2e::page_checks::{DESKTOP, PHONE, assert_fits_width, screenshot, set_viewport};
use e2e::server::Backend;
use reqwest::Method;
use serde_json::{Value, json};

const SHOP: &str = "一点点奶茶";
const MERCHANT_PW: &str = "merchant-password-1";

/// Types `text` into each `(test id, text)` input of a form.
async fn fill(browser: &Browser, fields: &[(&str, &str)]) {
    for (id, text) in fields {
        browser.type_into(id, text).await;
    }
}

/// Empties the input `test_id` as a person does (select all, delete): WebDriver's clear fires
/// no `input` event, so the page would keep the old text.
async fn empty(browser: &Browser, test_id: &str) {
    let keys = "\u{E009}a\u{E000}\u{E003}";
    browser
        .element(test_id)
        .await
        .send_keys(keys)
        .await
        .expect("empty the input");
}

/// `GET` `path` as `client`, expecting 200.
async fn read(site: &CouponSite, client: &reqwest::Client, path: &str) -> Value {
    let (status, body) = send(client, Method::GET, &site.server.url(path), None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_sets_up_a_shop_and_its_offers_and_an_admin_gives_it_a_merchant() {
    let site = CouponSite::start(Backend::Sqlite, coupon_site::sandbox(&[]), &FAST_RETRIES).await;
    let base = site.server.base_url.clone();
    let browser = Browser::start().await;
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;
    browser.sign_in(&base, "manager", MANAGER_PW).await;
    browser.click("nav-shops").await;
    browser.element("shops-table-empty").await;

    // A shop: an empty name is refused by the server, in words beside the field.
    fill(
        &browser,
        &[("shop-name", "   "), ("shop-store-code", "S-1")],
    )
    .await;
    browser.click("shop-save").await;
    let refused = browser.text_of("shop-name-error").await;
    assert!(refused.contains("1–64"), "{refused}");
    browser.type_into("shop-name", SHOP).await;
    browser.click("shop-save").await;
    browser.element(&format!("shop-row-{SHOP}")).await;
    // A second shop of the same name is refused.
    browser.type_into("shop-name", SHOP).await;
    browser.click("shop-save").await;
    let taken = browser.text_of("shop-name-error").await;
    assert_eq!(taken, "本车场已有同名商户");
    empty(&browser, "shop-name").await;

    // The new shop's offers are open below it. Wrong entries: the server says why, beside
    // the field, and nothing is created.
    browser
        .wait_for_text("offers-title", |t| t.contains(SHOP))
        .await;
    browser.select("offer-kind", "minutes").await;
    fill(
        &browser,
        &[
            ("offer-name", ""),
            ("offer-value", "120"),
            ("offer-daily", "50"),
        ],
    )
    .await;
    browser.click("offer-save").await;
    let empty_name = browser.text_of("offer-name-error").await;
    assert!(empty_name.contains("名称"), "{empty_name}");
    fill(&browser, &[("offer-name", "免2小时"), ("offer-daily", "0")]).await;
    browser.click("offer-save").await;
    let zero = browser.text_of("offer-daily-error").await;
    assert_eq!(zero, "限额须为不小于 1 的整数");
    fill(&browser, &[("offer-daily", "50"), ("offer-monthly", "-3")]).await;
    browser.click("offer-save").await;
    let negative = browser.text_of("offer-monthly-error").await;
    assert_eq!(negative, "限额须为不小于 1 的整数");
    let shops = read(
        &site,
        &site.manager,
        &format!("/api/v1/parks/{}/shops", site.park_id),
    )
    .await;
    assert_eq!(shops.as_array().map(Vec::len), Some(1), "{shops}");
    let shop_id = shops[0]["id"].as_i64().expect("shop id");
    let offers_path = format!("/api/v1/shops/{shop_id}/offers");
    assert_eq!(read(&site, &site.manager, &offers_path).await, json!([]));

    // A local discount, unlimited per month.
    empty(&browser, "offer-monthly").await;
    browser.click("offer-save").await;
    let gives = browser.text_of("offer-gives-免2小时").await;
    assert_eq!(gives, "免 120 分钟");
    assert_eq!(browser.text_of("offer-monthly-免2小时").await, "不限");

    // A P云 coupon product of the car park, with a daily and a monthly quota.
    browser.select("offer-gives", "product").await;
    browser
        .select("offer-product", &site.product_id.to_string())
        .await;
    fill(
        &browser,
        &[
            ("offer-name", "停车券"),
            ("offer-daily", "20"),
            ("offer-monthly", "300"),
        ],
    )
    .await;
    browser.click("offer-save").await;
    let gives = browser.text_of("offer-gives-停车券").await;
    assert_eq!(gives, format!("P云券：{PRODUCT}"));
    assert_eq!(browser.text_of("offer-daily-停车券").await, "20 次/天");
    assert_eq!(browser.text_of("offer-monthly-停车券").await, "300 次/月");
    browser
        .wait_for_text(&format!("shop-offers-count-{SHOP}"), |t| t == "2")
        .await;

    // A change: the first offer's name and quotas (what it gives stays, and says so).
    browser.click("offer-edit-免2小时").await;
    assert_eq!(browser.text_of("offer-gives-fixed").await, "免 120 分钟");
    assert_eq!(browser.value_of("offer-daily").await, "50");
    fill(
        &browser,
        &[
            ("offer-name", "免两小时"),
            ("offer-daily", "80"),
            ("offer-monthly", "1000"),
        ],
    )
    .await;
    browser.click("offer-save").await;
    browser
        .wait_for_text("offer-daily-免两小时", |t| t == "80 次/天")
        .await;
    assert!(!browser.exists("offer-row-免2小时").await);
    // And the shop's store code.
    browser.click(&format!("shop-edit-{SHOP}")).await;
    browser.type_into("shop-store-code", "S-2").await;
    browser.click("shop-save").await;
    browser
        .wait_for_text(&format!("shop-store-code-{SHOP}"), |t| t == "S-2")
        .await;

    // The API holds them as entered.
    let shops = read(
        &site,
        &site.manager,
        &format!("/api/v1/parks/{}/shops", site.park_id),
    )
    .await;
    assert_eq!(
        (
            &shops[0]["name"],
            &shops[0]["store_code"],
            &shops[0]["active"]
        ),
        (&json!(SHOP), &json!("S-2"), &json!(true)),
        "{shops}"
    );
    let offers = read(&site, &site.manager, &offers_path).await;
    let pick = |o: &Value| {
        json!([
            o["name"],
            o["product_id"],
            o["discount"],
            o["daily_quota"],
            o["monthly_quota"],
            o["active"]
        ])
    };
    assert_eq!(
        offers
            .as_array()
            .expect("offers")
            .iter()
            .map(pick)
            .collect::<Vec<_>>(),
        vec![
            json!(["免两小时", null, {"kind": "minutes", "value": 120}, 80, 1000, true]),
            json!(["停车券", site.product_id, null, 20, 300, true]),
        ],
        "{offers}"
    );

    screenshot(&browser, DESKTOP, "manager-shops-desktop").await;
    set_viewport(&browser, PHONE.0, PHONE.1).await;
    assert_fits_width(&browser, "the shops page").await;
    screenshot(&browser, PHONE, "manager-shops-phone").await;

    // The statement: two cars parked three hours validated by a till with 免两小时; the page
    // shows this Shanghai month, the line and its totals as the server counts them, and CSV
    // links in both encodings.
    let gate = coupon_site::bearer_client(&site.server.api_key("gate", "gate", None));
    let entered = (chrono::Utc::now() - chrono::TimeDelta::hours(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, user) = send(&site.admin, Method::POST, &site.server.url("/api/v1/users"),
        Some(json!({"username": "till-api", "password": MERCHANT_PW, "role": "merchant", "shop_id": shop_id}))).await;
    assert_eq!(status, 201, "{user}");
    let till = site.server.signed_in("till-api", MERCHANT_PW).await;
    let two_hours = offers.as_array().expect("offers")[0]["id"].clone();
    for (i, plate) in ["粤B50001", "粤B50002"].into_iter().enumerate() {
        let (status, body) = send(
            &gate,
            Method::POST,
            &site.server.url("/api/v1/gate/entries"),
            Some(json!({"park": coupon_site::PARK, "plate": plate, "time": entered})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = send(
            &till,
            Method::POST,
            &site.server.url("/api/v1/shop/validations"),
            Some(json!({"offer_id": two_hours, "plate": plate, "validation_id": format!("s-{i}")})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;
    browser.click(&format!("shop-statement-{SHOP}")).await;
    let month = protocol::time::to_shanghai(chrono::Utc::now())
        .format("%Y-%m")
        .to_string();
    assert_eq!(browser.value_of("statement-month").await, month);
    for (id, encoding) in [("statement-csv", "utf-8"), ("statement-csv-gbk", "gbk")] {
        let href = browser.attr_of(id, "href").await.unwrap_or_default();
        assert_eq!(
            href,
            format!("/api/v1/shops/{shop_id}/statement.csv?month={month}&encoding={encoding}")
        );
    }
    browser.element("statement-lines").await;
    let statement = read(
        &site,
        &site.manager,
        &format!("/api/v1/shops/{shop_id}/statement?month={month}"),
    )
    .await;
    assert_eq!(statement["totals"]["delivered"], 2, "{statement}");
    assert_eq!(
        browser.text_of("statement-total-delivered").await.trim(),
        "2"
    );
    assert_eq!(browser.text_of("statement-total-refused").await.trim(), "0");
    let worth = statement["totals"]["worth_fen"].as_i64().expect("worth");
    assert!(
        worth > 0,
        "two stays of three hours, two free hours each: {statement}"
    );
    assert_eq!(
        browser
            .attr_of("statement-total-worth", "data-fen")
            .await
            .as_deref(),
        Some(worth.to_string().as_str())
    );
    assert!(
        browser
            .text_of("statement-total-worth")
            .await
            .contains(&format!("{}.{:02}", worth / 100, worth % 100)),
        "{}",
        browser.text_of("statement-total-worth").await
    );
    screenshot(&browser, DESKTOP, "manager-shop-statement-desktop").await;
    set_viewport(&browser, PHONE.0, PHONE.1).await;
    assert_fits_width(&browser, "the statement page").await;
    screenshot(&browser, PHONE, "manager-shop-statement-phone").await;
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;
    browser.sign_out().await;

    // An admin gives the shop a merchant: role 商户, the car park, then the shop.
    browser.sign_in(&base, "root", ADMIN_PW).await;
    browser.click("nav-users").await;
    browser.element("users-table").await;
    fill(
        &browser,
        &[
            ("user-username", "tea-till"),
            ("user-password", MERCHANT_PW),
        ],
    )
    .await;
    browser.select("user-role", "merchant").await;
    browser
        .select("user-shop-park", &site.park_id.to_string())
        .await;
    browser.select("user-shop", &shop_id.to_string()).await;
    browser.click("user-create").await;
    browser
        .wait_for_text("user-role-tea-till", |t| t == "商户")
        .await;
    browser
        .wait_for_text("user-shop-tea-till", |t| t == format!("商户：{SHOP}"))
        .await;
    screenshot(&browser, DESKTOP, "admin-users-merchant-desktop").await;
    browser.close().await;

    // The merchant signs in and reaches its shop.
    let merchant = site.server.signed_in("tea-till", MERCHANT_PW).await;
    let page = read(&site, &merchant, "/api/v1/shop").await;
    assert_eq!(page["shop"]["id"], shop_id, "{page}");
    assert_eq!(page["shop"]["name"], SHOP, "{page}");
}
