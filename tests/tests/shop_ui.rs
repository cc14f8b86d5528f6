//! A merchant's till in headless Chromium at 390×844 against the real binary (issue 17): the
//! merchant signs in and lands on its shop's page, the only one it may open; types a plate with
//! the plate keyboard's buttons, validates it with a local discount and reads 已送达 while the
//! stay's owed figure (Mallcoo's fee query) drops; reads 今日额度已用完 when an offer's quota is
//! spent; generates a QR code for a P云 coupon product, which — read back from the element's
//! screenshot with a QR decoder — is the claim link the P云 sandbox minted, and which, once a
//! customer scans it with a parked car's plate, lowers that stay's fee; after P云 stays silent
//! the page asks the clerk to press 刷新 and nothing is resent. The page fits the phone.
//!
//! Amounts are the worked-example tariff of the ledger tests: a stay of 100 minutes costs 1600
//! fen; 60 minutes off leaves fee(40 min) = 1000.

use std::time::Duration;

use e2e::browser::Browser;
use e2e::coupon_site::send;
use e2e::page_checks::{self, DESKTOP, PHONE, assert_fits_width, set_viewport};
use e2e::server::Backend;
use e2e::shop_site::{MERCHANT_PW, QrShop, merchant, offer};
use reqwest::Method;
use sandbox::pyun::{Endpoint, Fault, FaultRule};
use serde_json::{Value, json};

/// Validated at the till with the local 60-minute offer.
const PLATE: &str = "沪A72001";
/// Validated twice with the offer of one a day: the second press finds the quota spent.
const SECOND: &str = "沪A72002";
/// Claims the QR code by scanning it.
const SCANNER: &str = "沪A72003";

/// Types `plate` with the keyboard's buttons, from an empty plate.
async fn type_plate(browser: &Browser, plate: &str) {
    if browser
        .attr_of("shop-plate-display", "data-plate")
        .await
        .is_some_and(|p| !p.is_empty())
    {
        browser.click("plate-key-clear").await;
    }
    for c in plate.chars() {
        browser.click(&format!("plate-key-{c}")).await;
    }
    let shown = browser.attr_of("shop-plate-display", "data-plate").await;
    assert_eq!(
        shown.as_deref(),
        Some(plate),
        "the keyboard typed {shown:?}"
    );
}

/// Presses 验证 and waits for an answer in state `state`; its text.
async fn validate(browser: &Browser, state: &str) -> String {
    let before = browser.attr_of("shop-answer", "data-id").await;
    browser.click("shop-validate-submit").await;
    for _ in 0..200 {
        let now = browser.attr_of("shop-answer", "data-state").await;
        if now.as_deref() == Some(state)
            && browser.attr_of("shop-answer", "data-id").await != before
        {
            return browser.text_of("shop-answer-text").await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no {state} answer; the page says {:?}: {}",
        browser.attr_of("shop-answer", "data-state").await,
        browser.text_of("shop-answer").await
    );
}

/// Waits until offer `id`'s count of today reads `used`.
async fn wait_used(browser: &Browser, id: i64, used: i64) {
    let test_id = format!("shop-use-{id}");
    for _ in 0..200 {
        if browser.attr_of(&test_id, "data-used").await == Some(used.to_string()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{test_id} reads {:?}, not {used}",
        browser.attr_of(&test_id, "data-used").await
    );
}

/// The QR code on the page, decoded from a screenshot of its element.
async fn decode_shown_qr(browser: &Browser) -> String {
    let png = browser
        .element("shop-qr")
        .await
        .screenshot()
        .await
        .expect("a screenshot of the QR element");
    let image = image::load_from_memory(&png)
        .expect("a PNG screenshot")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the element's screenshot");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    content
}

/// The QR tokens the P云 sandbox minted, through its control API.
async fn sandbox_tokens(shop: &QrShop) -> Vec<Value> {
    let url = format!("{}/_sandbox/tokens", shop.cloud.running.base_url);
    let (status, tokens) = send(&reqwest::Client::new(), Method::GET, &url, None).await;
    assert_eq!(status, 200, "{tokens}");
    tokens.as_array().cloned().unwrap_or_default()
}

/// How many `mcoupon/token` calls reached P云.
fn token_calls(shop: &QrShop) -> usize {
    shop.cloud
        .pyun
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Token)
        .count()
}

/// Screenshots at phone and laptop size; the phone's page must not scroll sideways.
async fn shoot(browser: &Browser, name: &str) {
    set_viewport(browser, PHONE.0, PHONE.1).await;
    assert_fits_width(browser, name).await;
    page_checks::screenshot(browser, PHONE, &format!("{name}-phone")).await;
    set_viewport(browser, DESKTOP.0, DESKTOP.1).await;
    page_checks::screenshot(browser, DESKTOP, &format!("{name}-desktop")).await;
    set_viewport(browser, PHONE.0, PHONE.1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_validates_a_typed_plate_and_shows_a_qr_code_that_lowers_the_fee() {
    let shop = QrShop::start(Backend::Sqlite, 4).await;
    let (server, admin) = (shop.server(), shop.admin());
    let hour = offer(
        server,
        admin,
        shop.shop_id,
        json!({"name": "减1小时", "discount": {"kind": "minutes", "value": 60},
               "daily_quota": 5, "monthly_quota": 100}),
    )
    .await;
    let once = offer(
        server,
        admin,
        shop.shop_id,
        json!({"name": "减30分钟", "discount": {"kind": "minutes", "value": 30}, "daily_quota": 1}),
    )
    .await;
    merchant(server, admin, "cafe-till", shop.shop_id).await;
    for plate in [PLATE, SECOND, SCANNER] {
        shop.park(plate, 100).await;
        assert_eq!(shop.owed(plate).await, 1600, "{plate} before any discount");
    }

    let browser = Browser::start().await;
    set_viewport(&browser, PHONE.0, PHONE.1).await;
    browser
        .sign_in(&server.base_url, "cafe-till", MERCHANT_PW)
        .await;

    // The merchant lands on its shop; the navigation offers nothing else; other pages refuse.
    browser.element("shop-validate").await;
    let path = browser
        .client
        .current_url()
        .await
        .expect("url")
        .path()
        .to_owned();
    assert_eq!(path, "/shop");
    assert_eq!(browser.test_ids_with_prefix("nav-").await, ["nav-shop"]);
    browser
        .wait_for_text("shop-title", |t| t.contains("咖啡店"))
        .await;
    browser.goto(&server.url("/parks")).await;
    browser.element("forbidden").await;
    browser.goto(&server.url("/shop")).await;

    // The keyboard: provinces first, then letters and digits; the eighth box is a new-energy
    // plate's; a special last character; backspace takes the last character back.
    browser.element("plate-key-沪").await;
    assert!(
        !browser.exists("plate-key-A").await,
        "letters come after the province"
    );
    type_plate(&browser, PLATE).await;
    assert_eq!(browser.text_of("shop-plate-state").await, "车牌有效");
    browser.click("plate-key-8").await;
    assert_eq!(browser.text_of("shop-plate-state").await, "车牌号无效");
    browser.click("plate-key-backspace").await;
    assert_eq!(browser.text_of("shop-plate-state").await, "车牌有效");
    type_plate(&browser, "粤BD07627").await;
    assert_eq!(browser.text_of("shop-plate-state").await, "新能源车牌有效");
    let class = browser.attr_of("shop-plate-display", "class").await;
    assert!(class.is_some_and(|c| c.contains("green")), "a green plate");
    type_plate(&browser, "粤B1234学").await;
    assert_eq!(browser.text_of("shop-plate-state").await, "车牌有效");
    type_plate(&browser, PLATE).await;
    shoot(&browser, "shop-typed").await;

    // A local discount: 已送达, and the stay owes less.
    browser.click(&format!("shop-offer-{hour}")).await;
    let text = validate(&browser, "delivered").await;
    assert!(text.contains("已送达") && text.contains("¥10.00"), "{text}");
    assert_eq!(shop.owed(PLATE).await, 1000, "60 minutes off");
    wait_used(&browser, hour, 1).await;
    let uses = browser.text_of(&format!("shop-use-{hour}")).await;
    assert!(
        uses.contains("今日 1/5") && uses.contains("本月 1/100"),
        "{uses}"
    );
    let history = browser.text_of("shop-history").await;
    assert!(
        history.contains(PLATE) && history.contains("减1小时"),
        "{history}"
    );

    // An offer of one a day: the second press is refused with the quota, in words.
    type_plate(&browser, SECOND).await;
    browser.click(&format!("shop-offer-{once}")).await;
    validate(&browser, "delivered").await;
    let text = validate(&browser, "quota_exhausted").await;
    assert_eq!(text, "今日额度已用完（1 次）");
    assert_eq!(
        shop.owed(SECOND).await,
        1300,
        "30 minutes off, once: fee(70 min)"
    );
    shoot(&browser, "shop-quota").await;

    // A QR code: what the page draws is the claim link P云 minted.
    browser.click("shop-qr-single").await;
    browser.select("shop-qr-life", "600").await;
    browser.click("shop-qr-generate").await;
    browser.element("shop-qr").await;
    let tokens = sandbox_tokens(&shop).await;
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let claim = tokens[0]["url"].as_str().expect("claim url");
    assert_eq!(decode_shown_qr(&browser).await, claim);
    assert_eq!(tokens[0]["single_use"], true);
    let left = browser.text_of("shop-qr-countdown").await;
    assert!(
        left.starts_with("剩余 09:") || left == "剩余 10:00",
        "{left}"
    );
    wait_used(&browser, shop.product_offer, 1).await;
    shoot(&browser, "shop-qr").await;

    // The customer scans it with a parked car's plate: P云 applies 60 minutes there.
    let url = format!("{}/_sandbox/tokens/scan", shop.cloud.running.base_url);
    let body = json!({"token": tokens[0]["token"], "plate": SCANNER});
    let (status, scan) = send(&reqwest::Client::new(), Method::POST, &url, Some(body)).await;
    assert_eq!(status, 200, "{scan}");
    assert_eq!(
        shop.owed(SCANNER).await,
        1000,
        "the scan lowered the fee: {scan}"
    );

    // P云 stays silent: the clerk is told to press 刷新, and nothing is sent again.
    let before = token_calls(&shop);
    shop.cloud.pyun.push_fault(FaultRule {
        endpoint: Some(Endpoint::Token),
        times: 1,
        skip: 0,
        fault: Fault::Latency { ms: 4_000 },
    });
    browser.click("shop-qr-refresh").await;
    let text = browser
        .wait_for_text("shop-qr-error", |t| !t.is_empty())
        .await;
    assert_eq!(
        browser
            .attr_of("shop-qr-error", "data-code")
            .await
            .as_deref(),
        Some("pyun_timeout")
    );
    assert!(text.contains("请点“刷新”"), "{text}");
    assert!(
        !browser.exists("shop-qr").await,
        "no stale code is left to scan"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(token_calls(&shop), before + 1, "sent once, never again");

    // 刷新 mints a new one.
    browser.click("shop-qr-refresh").await;
    browser.element("shop-qr").await;
    let tokens = sandbox_tokens(&shop).await;
    let newest = tokens
        .last()
        .and_then(|t| t["url"].as_str())
        .expect("a new token");
    assert_ne!(newest, claim);
    assert_eq!(decode_shown_qr(&browser).await, newest);
    wait_used(&browser, shop.product_offer, 3).await;
    shoot(&browser, "shop-page").await;
    browser.close().await;
}
