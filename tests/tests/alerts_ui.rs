//! Alerting in the admin UI, in headless Chromium against the real binary and the robots'
//! stand-in: an admin creates a DingTalk channel with its robot URL and SEC secret, sends a test
//! message and reads "已送达" (the robot showed it); a wrong secret shows DingTalk's own 310000
//! and the channel turns "配置错误", which is itself a problem the header counts in red and the
//! problems page links back to the channels. A refused P云 secret is a problem at the car park,
//! listed with its car park and the page where it is fixed; the property manager sees the
//! count too, mall staff do not. Both pages fit a phone and are photographed.

use std::time::Duration;

use e2e::browser::Browser;
use e2e::coupon_site::{ADMIN_PW, APP_SECRET, CouponSite, MANAGER_PW, sandbox, send};
use e2e::page_checks::{self, DESKTOP, PHONE, assert_fits_width, set_viewport};
use e2e::server::Backend;
use protocol::alerts::ChannelKind;
use reqwest::Method;
use sandbox::robots::{Robot, RobotsSandbox, RunningSandbox, robot_url};
use serde_json::json;

const PLATE: &str = "粤B12345";
const DING_TOKEN: &str = "ops-group";
const DING_SECRET: &str = "SECops-group-secret";
const STAFF_PW: &str = "staff-password-1";
const CHANNEL: &str = "值班群";

/// Timers short enough for a test: passes every 200 ms, a 2 s group wait.
const FAST_ALERTS: [&str; 3] = [
    "PARKBRIDGE_ALERT_GROUP_WAIT_SECS=2",
    "PARKBRIDGE_ALERT_TICK_MS=200",
    "PARKBRIDGE_GATE_QUIET_HOURS=none",
];

async fn robots() -> (RobotsSandbox, RunningSandbox) {
    let sb = RobotsSandbox::new();
    sb.add_robot(Robot {
        kind: ChannelKind::Dingtalk,
        id: DING_TOKEN.to_owned(),
        secret: Some(DING_SECRET.to_owned()),
        keyword: None,
    });
    let running = sb.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (sb, running)
}

/// Screenshots at laptop and phone width, checking the phone's page does not scroll sideways.
async fn shoot(browser: &Browser, name: &str) {
    page_checks::screenshot(browser, DESKTOP, &format!("{name}-desktop")).await;
    set_viewport(browser, PHONE.0, PHONE.1).await;
    assert_fits_width(browser, name).await;
    page_checks::screenshot(browser, PHONE, &format!("{name}-phone")).await;
    set_viewport(browser, DESKTOP.0, DESKTOP.1).await;
}

/// Replaces the P云 credential's secret through the API, then waits out the signer cache.
async fn set_pyun_secret(site: &CouponSite, secret: &str) {
    let (status, body) = send(
        &site.admin,
        Method::PUT,
        &site.server.url(&format!(
            "/api/v1/credentials/{}/secret",
            site.credential_id
        )),
        Some(json!({"secret": secret})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
}

/// The open problems through the API, until there are `n` (the detector runs every 200 ms).
async fn open_problems(site: &CouponSite, n: usize) -> Vec<serde_json::Value> {
    for _ in 0..100 {
        let (status, list) = send(
            &site.admin,
            Method::GET,
            &site.server.url("/api/v1/problems?state=open"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{list}");
        let list = list.as_array().cloned().unwrap_or_default();
        if list.len() == n {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the server never had {n} open problems");
}

/// Opens `path`, whose header asks for the open problems again.
async fn open(browser: &Browser, site: &CouponSite, path: &str) {
    browser.goto(&site.server.url(path)).await;
    browser.element("current-user").await;
}

/// The row of the channel, its test id.
fn row() -> String {
    format!("channel-row-{CHANNEL}")
}

/// Clicks `test_id` inside the channel's row.
async fn click_in_row(browser: &Browser, test_id: &str) {
    let css = format!("[data-testid='{}'] [data-testid='{test_id}']", row());
    browser
        .client
        .find(fantoccini::Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .expect("click");
}

/// The text of `test_id` inside the channel's row, once `pred` holds (20 s at most).
async fn row_text(browser: &Browser, test_id: &str, pred: impl Fn(&str) -> bool) -> String {
    let script = format!(
        "const e = document.querySelector(\"[data-testid='{}'] [data-testid='{test_id}']\"); \
         return e ? e.textContent.trim() : null;",
        row()
    );
    for _ in 0..200 {
        let v = browser
            .client
            .execute(&script, vec![])
            .await
            .expect("read the row");
        if let Some(text) = v.as_str()
            && pred(text)
        {
            return text.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{test_id} in the channel's row never matched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_tested_from_the_page_and_problems_are_counted_in_the_header() {
    let (robots, running) = robots().await;
    let site = CouponSite::start(Backend::Sqlite, sandbox(&[PLATE]), &FAST_ALERTS).await;
    site.server.add_user("staff", "mall_staff", STAFF_PW);
    let url = robot_url(
        &running.base_url,
        &Robot {
            kind: ChannelKind::Dingtalk,
            id: DING_TOKEN.to_owned(),
            secret: None,
            keyword: None,
        },
    );
    let browser = Browser::start().await;
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;
    browser
        .sign_in(&site.server.base_url, "root", ADMIN_PW)
        .await;
    // Nothing wrong yet: the count reads 0, not in red.
    browser.wait_for_text("problems-count", |t| t == "0").await;
    let class = browser.attr_of("problems-indicator", "class").await;
    assert!(!class.unwrap_or_default().contains("alarm"));

    // The channel, through the page; a refused URL is explained under its field, in Chinese.
    open(&browser, &site, "/problems").await;
    browser.element("problems-open-empty").await;
    browser.click("problems-channels-link").await;
    browser.element("channels-table-empty").await;
    browser.type_into("channel-name", CHANNEL).await;
    browser.select("channel-kind-select", "dingtalk").await;
    browser
        .type_into("channel-url-input", "https://oapi.dingtalk.com/robot/send")
        .await;
    browser.type_into("channel-secret", DING_SECRET).await;
    browser.click("channel-save").await;
    let said = browser.text_of("channel-url-error").await;
    assert!(said.contains("access_token="), "{said}");
    browser.type_into("channel-url-input", &url).await;
    browser.type_into("channel-secret", DING_SECRET).await;
    browser.click("channel-save").await;
    browser.element(&row()).await;
    assert_eq!(row_text(&browser, "channel-kind", |_| true).await, "钉钉");
    assert_eq!(
        row_text(&browser, "channel-has-secret", |_| true).await,
        "是"
    );
    assert_eq!(
        row_text(&browser, "channel-state", |_| true).await,
        "未测试"
    );
    let masked = row_text(&browser, "channel-url", |_| true).await;
    assert!(
        !masked.contains(DING_TOKEN),
        "the token is masked: {masked}"
    );
    assert_eq!(
        browser.value_of("channel-secret").await,
        "",
        "secrets leave the page"
    );

    // A test message: delivered, the robot showed it, the row says so.
    click_in_row(&browser, "channel-test").await;
    row_text(&browser, "channel-test-outcome", |t| t == "已送达").await;
    row_text(&browser, "channel-state", |t| t == "正常").await;
    let shown = robots.shown();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].robot, DING_TOKEN);

    // A wrong secret: DingTalk's own 310000 in the page, the channel misconfigured.
    click_in_row(&browser, "channel-edit").await;
    browser.element("channel-edit-form").await;
    browser
        .type_into("channel-secret", "SECnot-the-secret")
        .await;
    browser.click("channel-save").await;
    browser.wait_gone("channel-edit-form").await;
    click_in_row(&browser, "channel-test").await;
    row_text(&browser, "channel-test-code", |t| t == "310000").await;
    row_text(&browser, "channel-test-outcome", |t| t.contains("配置错误")).await;
    row_text(&browser, "channel-state", |t| t == "配置错误").await;
    let answer = row_text(&browser, "channel-last-answer", |t| !t.is_empty()).await;
    assert!(answer.contains("310000"), "{answer}");
    assert_eq!(robots.shown().len(), 1, "the robot showed nothing more");
    shoot(&browser, "alert-channels").await;

    // That is a problem: counted in red in the header, listed with a link back to the channels.
    open_problems(&site, 1).await;
    open(&browser, &site, "/problems").await;
    browser.wait_for_text("problems-count", |t| t == "1").await;
    let class = browser.attr_of("problems-indicator", "class").await;
    assert!(class.unwrap_or_default().contains("alarm"), "red when open");
    let listed = browser.text_of("problems-open").await;
    assert!(
        listed.contains("告警通道") && listed.contains(CHANNEL),
        "{listed}"
    );
    let link = browser
        .client
        .execute(
            "return [...document.querySelectorAll(\"[data-testid^='problem-link-']\")].map(a => a.getAttribute('href'));",
            vec![],
        )
        .await
        .expect("links");
    assert_eq!(link, json!(["/alerts"]));

    // Fixed through the page: the secret again, a test delivered; the count goes back to 0.
    browser.click("problems-indicator").await;
    browser.element("problems-open").await;
    browser.click("problems-channels-link").await;
    click_in_row(&browser, "channel-edit").await;
    browser.type_into("channel-secret", DING_SECRET).await;
    browser.click("channel-save").await;
    browser.wait_gone("channel-edit-form").await;
    click_in_row(&browser, "channel-test").await;
    row_text(&browser, "channel-test-outcome", |t| t == "已送达").await;
    open_problems(&site, 0).await;
    open(&browser, &site, "/problems").await;
    browser.wait_for_text("problems-count", |t| t == "0").await;
    browser.element("problems-open-empty").await;
    let resolved = browser.text_of("problems-resolved").await;
    assert!(resolved.contains(CHANNEL), "{resolved}");

    // P云 refuses our secret at the car park: one problem, with its car park and its page.
    set_pyun_secret(&site, "not-the-secret").await;
    let (_, r) = site.event("ev-bad-1", PLATE).await;
    assert_eq!(r["state"], "misconfigured", "{r}");
    let open_list = open_problems(&site, 1).await;
    assert_eq!(open_list[0]["kind"], "credential_refused");
    open(&browser, &site, "/problems").await;
    browser.wait_for_text("problems-count", |t| t == "1").await;
    let id = open_list[0]["id"].as_i64().unwrap();
    let card = browser.text_of(&format!("problem-{id}")).await;
    assert!(card.contains("对接凭证被拒绝"), "{card}");
    assert!(card.contains("测试广场"), "{card}");
    assert_eq!(
        browser
            .attr_of(&format!("problem-link-{id}"), "href")
            .await
            .as_deref(),
        Some("/credentials")
    );
    shoot(&browser, "problems").await;
    browser.click(&format!("problem-link-{id}")).await;
    browser.element("credential-form").await;

    // The property manager sees the count and the page; mall staff neither.
    browser.sign_out().await;
    browser
        .sign_in(&site.server.base_url, "manager", MANAGER_PW)
        .await;
    browser.wait_for_text("problems-count", |t| t == "1").await;
    browser.click("problems-indicator").await;
    let card = browser.text_of(&format!("problem-{id}")).await;
    assert!(card.contains("测试广场"), "{card}");
    assert!(!browser.exists("problems-channels-link").await);
    shoot(&browser, "problems-manager").await;
    browser.sign_out().await;
    browser
        .sign_in(&site.server.base_url, "staff", STAFF_PW)
        .await;
    browser.element("nav-parks").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!browser.exists("problems-indicator").await);
    open(&browser, &site, "/problems").await;
    browser.element("forbidden").await;
    open(&browser, &site, "/alerts").await;
    browser.element("forbidden").await;

    // Back to the right secret so the coupon site's own checks stay meaningful.
    set_pyun_secret(&site, APP_SECRET).await;
    browser.close().await;
}
