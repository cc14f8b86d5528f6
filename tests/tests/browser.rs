//! The admin UI in headless Chromium against the real server: wasm loads, talks to the server,
//! and the protocol crate's quote runs in the browser.

use e2e::browser::Browser;
use e2e::server::TestServer;

#[tokio::test]
async fn typing_an_entry_time_updates_the_fee_computed_in_wasm() {
    let server = TestServer::start();
    // The preview belongs to the signed-in area; the least privileged role may use it.
    server.add_user("staff", "mall_staff", "staff-password-1");
    let browser = Browser::start().await;
    browser
        .sign_in(&server.base_url, "staff", "staff-password-1")
        .await;
    browser.click("nav-preview").await;

    // The page fetched /healthz from the server it came from.
    browser.wait_for_text("health", |t| t == "服务正常").await;

    // §5's worked example: first 60 min ¥10, every started 30 min ¥3 after that.
    browser.type_into("query-time", "2026-11-23 11:01").await;
    browser.type_into("entry-time", "2026-11-23 10:00").await;
    browser.wait_for_text("fee-total", |t| t == "¥13.00").await;
    assert_eq!(browser.text_of("parking-minutes").await, "61 分钟");

    // A later entry: a 15-minute stay is free.
    browser.type_into("entry-time", "2026-11-23 10:46").await;
    browser.wait_for_text("fee-total", |t| t == "¥0.00").await;

    // 23 hours hit the 24 h cap of ¥50.
    browser.type_into("entry-time", "2026-11-22 12:01").await;
    browser.wait_for_text("fee-total", |t| t == "¥50.00").await;

    // Mallcoo's free minutes deduct the last 30 minutes' worth: fee(61) − fee(31) = ¥3.
    browser.type_into("entry-time", "2026-11-23 10:00").await;
    browser.type_into("free-minutes", "30").await;
    browser.wait_for_text("deduction", |t| t == "¥3.00").await;
    assert_eq!(browser.text_of("unpaid").await, "¥10.00");

    // Bad input is explained, not a blank or a panic.
    browser.type_into("entry-time", "yesterday").await;
    let err = browser.text_of("fee-error").await;
    assert!(err.contains("入场时间"), "error text: {err}");

    browser.close().await;
}
