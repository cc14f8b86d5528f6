//! The admin UI in headless Chromium against the real server: wasm loads, talks to the server,
//! the protocol crate's quote runs in the browser, and pages arrive in groups on first use.

use e2e::browser::Browser;
use e2e::server::{Backend, TestServer, static_dir};

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
    // §2.2 (corrected): unPayAmount is the whole fee; Mallcoo collects it less the benefits.
    assert_eq!(browser.text_of("unpaid").await, "¥13.00");
    assert_eq!(browser.text_of("mallcoo-collects").await, "¥10.00");

    // Bad input is explained, not a blank or a panic.
    browser.type_into("entry-time", "yesterday").await;
    let err = browser.text_of("fee-error").await;
    assert!(err.contains("入场时间"), "error text: {err}");

    browser.close().await;
}

/// How many fetched paths contain `part`.
fn fetches_of(paths: &[String], part: &str) -> usize {
    paths.iter().filter(|p| p.contains(part)).count()
}

#[tokio::test]
async fn the_sign_in_page_loads_no_page_code_and_each_page_group_arrives_once_on_first_visit() {
    let server = TestServer::start();
    server.add_user("admin2", "admin", "admin-password-1");
    let browser = Browser::start().await;
    browser.goto(&format!("{}/login", server.base_url)).await;
    browser.element("login-submit").await;
    let at_sign_in = browser.fetched_paths().await;
    assert_eq!(
        fetches_of(&at_sign_in, "/frontend_bg.wasm"),
        1,
        "{at_sign_in:?}"
    );
    assert_eq!(
        fetches_of(&at_sign_in, "/wasm-split/split_"),
        0,
        "the sign-in page fetched page code: {at_sign_in:?}"
    );

    // Signing in lands on the car parks: their group arrives, and nothing else.
    browser.type_into("login-username", "admin2").await;
    browser
        .type_into("login-password", "admin-password-1")
        .await;
    browser.click("login-submit").await;
    browser.element("parks-empty").await;
    let paths = browser.wait_for_fetch("split_park_pages").await;
    for other in [
        "split_vip_pages",
        "split_admin_pages",
        "split_traffic_pages",
        "split_shop_pages",
        "split_shop_admin_pages",
    ] {
        assert_eq!(
            fetches_of(&paths, other),
            0,
            "{other} fetched early: {paths:?}"
        );
    }

    // Another group on its first visit; the parks again without a second download.
    browser.click("nav-users").await;
    browser.element("users-table").await;
    browser.wait_for_fetch("split_admin_pages").await;
    browser.click("nav-parks").await;
    browser.element("parks-empty").await;
    browser.click("nav-api-keys").await;
    // No keys yet: the kit's empty state stands where the table would.
    browser.element("api-keys-table-empty").await;
    let paths = browser.fetched_paths().await;
    for group in ["split_park_pages", "split_admin_pages"] {
        assert_eq!(fetches_of(&paths, group), 1, "{group}: {paths:?}");
    }
    assert_eq!(fetches_of(&paths, "/frontend_bg.wasm"), 1, "{paths:?}");
    browser.close().await;
}

/// Copies the directory `from` into `to`, recursively.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

#[tokio::test]
async fn a_page_group_that_cannot_be_fetched_is_explained_and_the_app_keeps_working() {
    // The built UI without the VIP group's file, as after an upgrade under an open tab.
    let dist = tempfile::tempdir().unwrap();
    copy_dir(&static_dir(), dist.path());
    let split = dist.path().join("wasm-split");
    let vip_group: Vec<_> = std::fs::read_dir(&split)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("split_vip_pages"))
        .collect();
    assert_eq!(vip_group.len(), 1, "the build has one VIP group file");
    std::fs::remove_file(split.join(&vip_group[0])).unwrap();
    let dist_arg = dist.path().to_string_lossy().into_owned();
    let server = TestServer::start_with(Backend::Sqlite, &["--static-dir", &dist_arg]);
    server.add_user("manager", "property_manager", "manager-password-1");
    let browser = Browser::start().await;
    browser
        .sign_in(&server.base_url, "manager", "manager-password-1")
        .await;

    browser.click("nav-vip").await;
    let shown = browser.text_of("page-load-failed").await;
    assert!(shown.contains("页面加载失败"), "shown: {shown}");
    // The frame and the other groups still work: the app did not stop.
    browser.click("nav-parks").await;
    browser.element("parks-empty").await;
    assert_eq!(
        browser
            .text_of("current-user")
            .await
            .split_whitespace()
            .next(),
        Some("manager")
    );

    // Once the file is there again, opening the page again fetches it: a failure is not kept.
    std::fs::copy(
        static_dir().join("wasm-split").join(&vip_group[0]),
        split.join(&vip_group[0]),
    )
    .unwrap();
    browser.click("nav-vip").await;
    browser.element("vip-add-toggle").await;
    assert!(!browser.exists("page-load-failed").await);
    browser.close().await;
}
