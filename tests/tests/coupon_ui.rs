//! The coupon pages in headless Chromium against the real binary and the P云 sandbox: a property
//! manager grants a coupon and sees it delivered, reconciles an unknown grant; an admin adds a
//! coupon product.

use e2e::browser::Browser;
use e2e::coupon_site::{self, ADMIN_PW, CouponSite, FAST_RETRIES, MANAGER_PW};
use e2e::page_checks::{PHONE, assert_date_shown, assert_fits_width, set_viewport};
use e2e::server::Backend;
use sandbox::pyun::{Endpoint, Fault, FaultRule};

const PLATE: &str = "粤B12345";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_grants_a_coupon_sees_it_delivered_and_reconciles_an_unknown_one() {
    let site = CouponSite::start(
        Backend::Sqlite,
        coupon_site::sandbox(&[PLATE]),
        &FAST_RETRIES,
    )
    .await;
    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "manager", MANAGER_PW)
        .await;
    browser.click("nav-coupons").await;
    browser.element("coupon-grant-form").await;
    browser
        .select("coupon-park", &site.park_id.to_string())
        .await;
    browser
        .select("coupon-product", &site.product_id.to_string())
        .await;

    // The plate is checked in the browser by the protocol crate while it is typed.
    browser.type_into("coupon-plate", "粤B1234").await;
    let hint = browser.text_of("coupon-plate-hint").await;
    assert!(
        !hint.contains(PLATE),
        "an incomplete plate is not accepted: {hint}"
    );
    browser.type_into("coupon-plate", "粤b12345").await;
    browser
        .wait_for_text("coupon-plate-hint", |t| t.contains(PLATE))
        .await;
    browser.click("coupon-grant-submit").await;
    let serial = browser
        .wait_for_text("coupon-grant-serial", |t| !t.is_empty())
        .await;
    let coupons = site.pyun.coupons();
    assert_eq!(coupons.len(), 1, "the sandbox issued the grant");
    assert_eq!(
        (coupons[0].plate.as_str(), coupons[0].grant_serial.as_str()),
        (PLATE, serial.as_str())
    );
    let state = browser
        .element("coupon-grant-result")
        .await
        .attr("data-state")
        .await
        .unwrap();
    assert_eq!(state.as_deref(), Some("delivered"));
    browser
        .wait_for_text("coupon-records", |t| t.contains(&serial))
        .await;

    // P云 issues the next one but the answer is lost: the grant is unknown and not resent.
    site.pyun.push_fault(FaultRule {
        endpoint: Some(Endpoint::Grant),
        times: 1,
        skip: 0,
        fault: Fault::Drop {
            after_applying: true,
        },
    });
    browser.type_into("coupon-plate", PLATE).await;
    browser.click("coupon-grant-submit").await;
    browser
        .wait_for_text("coupon-grant-result", |t| t.contains("结果未知"))
        .await;
    let ids = wait_for_prefix(&browser, "reconcile-").await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    browser.click(&ids[0]).await;
    browser.click("reconcile-delivered").await;
    browser.type_into("reconcile-note", "P云后台已查到").await;
    browser.click("reconcile-submit").await;
    let id = ids[0].trim_start_matches("reconcile-");
    browser.element(&format!("reconciled-{id}")).await;
    let row_state = browser
        .element(&format!("coupon-record-{id}"))
        .await
        .attr("data-state")
        .await
        .unwrap();
    assert_eq!(row_state.as_deref(), Some("delivered"));
    assert_eq!(site.pyun.requests().len(), 2, "nothing was resent");
    browser.close().await;
}

async fn wait_for_prefix(browser: &Browser, prefix: &str) -> Vec<String> {
    for _ in 0..100 {
        let ids: Vec<String> = browser
            .test_ids_with_prefix(prefix)
            .await
            .into_iter()
            .filter(|i| i.trim_start_matches(prefix).parse::<i64>().is_ok())
            .collect();
        if !ids.is_empty() {
            return ids;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no element with a data-testid starting with {prefix}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_coupon_product_that_managers_can_then_grant() {
    let site = CouponSite::start(
        Backend::Sqlite,
        coupon_site::sandbox(&[PLATE]),
        &FAST_RETRIES,
    )
    .await;
    site.pyun.add_coupon_code("CC-FREE-1H");
    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "root", ADMIN_PW)
        .await;
    browser.click("nav-parks").await;
    browser
        .click(&format!("park-coupons-{}", coupon_site::PARK))
        .await;
    browser.wait_for_text("event-api-type", |_| true).await;
    assert_eq!(
        browser.value_of("event-api-type").await,
        coupon_site::API_TYPE
    );
    browser.type_into("product-name", "免费1小时").await;
    browser.type_into("product-coupon-code", "CC-FREE-1H").await;
    browser.type_into("product-store-code", "shop-9").await;
    browser.type_into("product-quantity", "1").await;
    browser.click("product-save").await;
    browser.element("product-row-免费1小时").await;
    browser.sign_out().await;

    browser
        .sign_in(&site.server.base_url, "manager", MANAGER_PW)
        .await;
    browser.click("nav-coupons").await;
    browser
        .select("coupon-park", &site.park_id.to_string())
        .await;
    let product = browser.element("coupon-product").await;
    let option = product
        .find(fantoccini::Locator::XPath(
            "./option[normalize-space(.)='免费1小时']",
        ))
        .await
        .expect("the new product is offered");
    let value = option.attr("value").await.unwrap().expect("option value");
    browser.select("coupon-product", &value).await;
    browser.type_into("coupon-plate", PLATE).await;
    browser.click("coupon-grant-submit").await;
    browser
        .wait_for_text("coupon-grant-serial", |t| !t.is_empty())
        .await;
    assert_eq!(
        site.pyun.coupons()[0].coupon_code.as_deref(),
        Some("CC-FREE-1H")
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_coupons_page_with_its_records_fits_the_screen() {
    let site = CouponSite::start(
        Backend::Sqlite,
        coupon_site::sandbox(&[PLATE]),
        &FAST_RETRIES,
    )
    .await;
    let (status, body) = site.grant("phone-grant-1", PLATE).await;
    assert!(status.is_success(), "{status} {body}");
    let browser = Browser::start().await;
    set_viewport(&browser, PHONE.0, PHONE.1).await;
    browser
        .sign_in(&site.server.base_url, "manager", MANAGER_PW)
        .await;
    // On a phone the navigation is folded behind its menu: go by address.
    browser.goto(&site.server.url("/coupons")).await;
    browser.element("coupon-record-plate").await;
    assert_fits_width(&browser, "the coupons page").await;

    // The date filters read `YYYY-MM-DD` whatever the browser's locale, and filter by it.
    let today = protocol::time::to_shanghai(chrono::Utc::now()).date_naive();
    let day = today.to_string();
    browser.type_into("coupon-filter-from", &day).await;
    browser.type_into("coupon-filter-to", &day).await;
    assert_date_shown(&browser, "coupon-filter-from", &day).await;
    assert_date_shown(&browser, "coupon-filter-to", &day).await;
    browser.click("coupon-filter-apply").await;
    browser.element("coupon-record-plate").await;
    let yesterday = (today - chrono::Days::new(1)).to_string();
    browser.type_into("coupon-filter-from", &yesterday).await;
    browser.type_into("coupon-filter-to", &yesterday).await;
    browser.click("coupon-filter-apply").await;
    browser.element("coupon-records-empty").await;
    browser.close().await;
}
