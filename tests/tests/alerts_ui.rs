//! Alerting in the admin UI, in headless Chromium against the real binary and the robots'
//! stand-in: an admin creates a DingTalk channel with its robot URL and SEC secret, sends a test
//! message and reads "已送达" (the robot showed it); a wrong secret shows DingTalk's own 310000
//! and the channel turns "配置错误", which is itself a problem the header counts in red and the
//! problems page links back to the channels. A refused P云 secret is a problem at the car park,
//! listed with its car park and the page where it is fixed; the property manager sees the
//! count too, mall staff do not. A channel paused from the page hears nothing (the robots'
//! stand-in says so) until resumed; each channel's last sends are listed with their state and
//! the vendor's answer, in Chinese and in English; a stored secret is removed and a channel
//! deleted after a confirmation. Routing chosen on the page (car park, problem kind, English)
//! survives a reload and the server honours it: gate silence at either car park does not reach
//! the channel, a refused credential at its car park does. Both pages fit a phone and are
//! photographed.

use std::time::Duration;

use e2e::alert_site::{
    DING_SECRET, DING_TOKEN, FAST_ALERTS, PLATE, WECOM_KEY, add_channel, channel_sends, gate_entry,
    open_problems, problems, robots, set_pyun_secret, url_of,
};
use e2e::browser::Browser;
use e2e::coupon_site::{
    ADMIN_PW, APP_SECRET, CouponSite, MANAGER_PW, bearer_client, sandbox, send,
};
use e2e::page_checks::{self, DESKTOP, PHONE, assert_fits_width, set_viewport};
use e2e::server::Backend;
use protocol::alerts::ChannelKind;
use reqwest::Method;
use sandbox::robots::RobotsSandbox;
use serde_json::{Value, json};

const STAFF_PW: &str = "staff-password-1";
const CHANNEL: &str = "值班群";

/// Screenshots at laptop and phone width, checking the phone's page does not scroll sideways.
async fn shoot(browser: &Browser, name: &str) {
    page_checks::screenshot(browser, DESKTOP, &format!("{name}-desktop")).await;
    set_viewport(browser, PHONE.0, PHONE.1).await;
    assert_fits_width(browser, name).await;
    page_checks::screenshot(browser, PHONE, &format!("{name}-phone")).await;
    set_viewport(browser, DESKTOP.0, DESKTOP.1).await;
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

/// Clicks `test_id` inside the element `scope` (a test id).
async fn click_within(browser: &Browser, scope: &str, test_id: &str) {
    let css = format!("[data-testid='{scope}'] [data-testid='{test_id}']");
    browser
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .expect("click");
}

/// Clicks `test_id` inside the channel's row.
async fn click_in_row(browser: &Browser, test_id: &str) {
    click_within(browser, &row(), test_id).await;
}

/// The texts of every `test_id` inside `scope`, as the page shows them now.
async fn texts_in(browser: &Browser, scope: &str, test_id: &str) -> Vec<String> {
    let script = format!(
        "return [...document.querySelectorAll(\"[data-testid='{scope}'] [data-testid='{test_id}']\")] \
         .map(e => e.textContent.trim());"
    );
    let v = browser
        .client
        .execute(&script, vec![])
        .await
        .expect("read the texts");
    serde_json::from_value::<Vec<String>>(v).unwrap_or_default()
}

/// The texts of every `test_id` inside `scope`, once `pred` holds for them (20 s at most).
async fn texts_within(
    browser: &Browser,
    scope: &str,
    test_id: &str,
    pred: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let mut last = Vec::new();
    for _ in 0..200 {
        last = texts_in(browser, scope, test_id).await;
        if pred(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{test_id} in {scope} never matched: {last:?}");
}

/// The texts of every `test_id` in channel `name`'s last sends, pressing 刷新 until `pred`
/// holds for them (the list is read on demand, not polled; 20 s at most).
async fn sends_texts(
    browser: &Browser,
    name: &str,
    test_id: &str,
    pred: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let scope = format!("channel-sends-{name}");
    let mut last = Vec::new();
    for _ in 0..60 {
        browser.click("channel-sends-refresh").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        last = texts_in(browser, &scope, test_id).await;
        if pred(&last) {
            return last;
        }
    }
    panic!("{test_id} in {scope} never matched: {last:?}");
}

/// The text of `test_id` inside the channel's row, once `pred` holds (20 s at most).
async fn row_text(browser: &Browser, test_id: &str, pred: impl Fn(&str) -> bool) -> String {
    let texts = texts_within(browser, &row(), test_id, |t| {
        t.first().is_some_and(|t| pred(t))
    })
    .await;
    texts[0].clone()
}

/// Waits until robot `id` showed `n` messages (20 s at most); its messages' texts.
async fn shown_by(robots: &RobotsSandbox, id: &str, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let texts: Vec<String> = robots
            .shown()
            .into_iter()
            .filter(|m| m.robot == id)
            .map(|m| m.text)
            .collect();
        if texts.len() >= n {
            return texts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("robot {id} never showed {n} messages: {:?}", robots.shown());
}

/// The channels as the API lists them.
async fn channels(site: &CouponSite) -> Vec<Value> {
    let (status, list) = send(
        &site.admin,
        Method::GET,
        &site.server.url("/api/v1/alert-channels"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().cloned().unwrap_or_default()
}

/// Channel `id` as the API lists it.
async fn channel(site: &CouponSite, id: i64) -> Value {
    channels(site)
        .await
        .into_iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("channel {id} is listed"))
}

/// Whether the checkbox `test_id` is checked.
async fn checked(browser: &Browser, test_id: &str) -> bool {
    browser
        .element(test_id)
        .await
        .prop("checked")
        .await
        .expect("checked property")
        .is_some_and(|v| v == "true")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_tested_from_the_page_and_problems_are_counted_in_the_header() {
    let (robots, running) = robots().await;
    let site = CouponSite::start(Backend::Sqlite, sandbox(&[PLATE]), &FAST_ALERTS).await;
    site.server.add_user("staff", "mall_staff", STAFF_PW);
    let url = url_of(&running.base_url, ChannelKind::Dingtalk, DING_TOKEN);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_channel_hears_nothing_until_resumed_and_its_sends_are_listed() {
    let (robots, running) = robots().await;
    let base = &running.base_url;
    let site = CouponSite::start(Backend::Sqlite, sandbox(&[PLATE]), &FAST_ALERTS).await;
    let ding = add_channel(
        &site,
        json!({"name": CHANNEL, "kind": "dingtalk", "secret": DING_SECRET,
               "url": url_of(base, ChannelKind::Dingtalk, DING_TOKEN)}),
    )
    .await;
    add_channel(
        &site,
        json!({"name": "企业微信群", "kind": "wecom",
               "url": url_of(base, ChannelKind::Wecom, WECOM_KEY)}),
    )
    .await;
    let browser = Browser::start().await;
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;
    browser
        .sign_in(&site.server.base_url, "root", ADMIN_PW)
        .await;
    // Reached from the navigation's 系统 menu.
    browser.click("nav-alerts").await;
    browser.element(&row()).await;
    texts_within(
        &browser,
        &format!("channel-sends-{CHANNEL}"),
        "channel-sends-empty",
        |t| t.len() == 1,
    )
    .await;

    // Paused from the page; P云 then refuses our secret at the car park.
    click_in_row(&browser, "channel-pause").await;
    row_text(&browser, "channel-enabled", |t| t == "已暂停").await;
    assert_eq!(
        channel(&site, ding).await["enabled"],
        false,
        "paused through the API too"
    );
    set_pyun_secret(&site, "not-the-secret").await;
    let (_, r) = site.event("ev-paused-1", PLATE).await;
    assert_eq!(r["state"], "misconfigured", "{r}");
    // WeCom is told; the paused DingTalk robot receives nothing (a second more bounds it).
    let told = shown_by(&robots, WECOM_KEY, 1).await;
    assert!(told[0].contains("对接凭证被拒绝"), "{told:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        robots.received().iter().all(|m| m.robot != DING_TOKEN),
        "a paused channel was sent to: {:?}",
        robots.received()
    );
    let wecom_sends = "channel-sends-企业微信群";
    sends_texts(&browser, "企业微信群", "channel-send-state", |t| {
        t == ["已送达"]
    })
    .await;
    texts_within(&browser, wecom_sends, "channel-send-message", |t| {
        t == ["首次"]
    })
    .await;
    let what = texts_within(&browser, wecom_sends, "channel-send-what", |t| t.len() == 1).await;
    assert!(
        what[0].contains("对接凭证被拒绝") && what[0].contains("测试广场"),
        "{what:?}"
    );
    let ding_sends = format!("channel-sends-{CHANNEL}");
    texts_within(&browser, &ding_sends, "channel-sends-empty", |t| {
        t.len() == 1
    })
    .await;

    // Resumed: DingTalk is told of the problem still open, and its list says so.
    click_in_row(&browser, "channel-pause").await;
    row_text(&browser, "channel-enabled", |t| t == "启用中").await;
    let told = shown_by(&robots, DING_TOKEN, 1).await;
    assert!(told[0].contains("对接凭证被拒绝"), "{told:?}");
    sends_texts(&browser, CHANNEL, "channel-send-state", |t| t == ["已送达"]).await;
    texts_within(&browser, &ding_sends, "channel-send-answer", |t| {
        t == ["ok"]
    })
    .await;
    shoot(&browser, "alert-channels-sends").await;

    // The page in English: the channels, their states and their sends.
    browser.click("lang-switch").await;
    browser.wait_for_text("sign-out", |t| t == "Sign out").await;
    row_text(&browser, "channel-enabled", |t| t == "Active").await;
    row_text(&browser, "channel-kind", |t| t == "DingTalk").await;
    texts_within(&browser, &ding_sends, "channel-send-message", |t| {
        t == ["First"]
    })
    .await;
    texts_within(&browser, &ding_sends, "channel-send-state", |t| {
        t == ["Sent"]
    })
    .await;
    let what = texts_within(&browser, &ding_sends, "channel-send-what", |t| t.len() == 1).await;
    assert!(what[0].contains("Credential refused"), "{what:?}");
    assert_eq!(browser.text_of("nav-system").await, "System ▾");
    shoot(&browser, "alert-channels-en").await;
    browser.click("lang-switch").await;
    browser.wait_for_text("sign-out", |t| t == "退出登录").await;

    // The stored secret removed: the robot, still in signed mode, now refuses (310000).
    click_in_row(&browser, "channel-edit").await;
    browser.element("channel-edit-form").await;
    browser.click("channel-remove-secret").await;
    browser.wait_gone("channel-edit-form").await;
    row_text(&browser, "channel-has-secret", |t| t == "否").await;
    assert_eq!(
        channel(&site, ding).await["has_secret"],
        false,
        "the secret is gone on the server"
    );
    click_in_row(&browser, "channel-test").await;
    row_text(&browser, "channel-test-code", |t| t == "310000").await;
    let states = sends_texts(&browser, CHANNEL, "channel-send-state", |t| t.len() == 2).await;
    assert_eq!(states, ["配置错误", "已送达"], "newest first");
    let codes = texts_within(&browser, &ding_sends, "channel-send-code", |t| t.len() == 1).await;
    assert_eq!(codes, ["310000"]);

    // Deleting asks first: "no" keeps the channel, "yes" removes it and its sends.
    click_in_row(&browser, "channel-delete").await;
    let question = browser.text_of("confirm-message").await;
    assert!(question.contains(CHANNEL), "{question}");
    browser.click("confirm-no").await;
    browser.wait_gone("confirm-dialog").await;
    assert!(browser.exists(&row()).await);
    click_in_row(&browser, "channel-delete").await;
    browser.click("confirm-yes").await;
    browser.element("channel-deleted").await;
    browser.wait_gone(&row()).await;
    browser.wait_gone(&ding_sends).await;
    let left: Vec<Value> = channels(&site).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["name"], "企业微信群");

    set_pyun_secret(&site, APP_SECRET).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_chosen_on_the_page_is_kept_and_honoured_by_the_server() {
    const ROUTED: &str = "A-coupons";
    const ROUTED_ROBOT: &str = "wecom-routed";
    let (robots, running) = robots().await;
    robots.add_robot(e2e::alert_site::robot(ChannelKind::Wecom, ROUTED_ROBOT));
    let base = &running.base_url;
    let site = CouponSite::start(Backend::Sqlite, sandbox(&[PLATE]), &FAST_ALERTS).await;
    let (status, park_b) = send(
        &site.admin,
        Method::POST,
        &site.server.url("/api/v1/parks"),
        Some(json!({"code": "mall-b", "name": "东区停车场"})),
    )
    .await;
    assert_eq!(status, 201, "{park_b}");
    // Everything goes to this one, so what the routed channel misses was due.
    add_channel(
        &site,
        json!({"name": "全部", "kind": "wecom", "url": url_of(base, ChannelKind::Wecom, WECOM_KEY)}),
    )
    .await;

    // In English: a WeCom channel for car park A's refused credentials, messages in English.
    let browser = Browser::start().await;
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;
    browser
        .sign_in(&site.server.base_url, "root", ADMIN_PW)
        .await;
    browser.click("lang-switch").await;
    browser.wait_for_text("sign-out", |t| t == "Sign out").await;
    browser.click("nav-alerts").await;
    browser.element("channel-row-全部").await;
    browser.type_into("channel-name", ROUTED).await;
    browser.select("channel-kind-select", "wecom").await;
    browser
        .type_into(
            "channel-url-input",
            &url_of(base, ChannelKind::Wecom, ROUTED_ROBOT),
        )
        .await;
    browser.click("channel-park-mall-a").await;
    browser.click("channel-kind-credential_refused").await;
    browser.select("channel-language", "en").await;
    browser.click("channel-save").await;
    let routed_row = format!("channel-row-{ROUTED}");
    texts_within(&browser, &routed_row, "channel-parks", |t| {
        t == ["mall-a 测试广场"]
    })
    .await;
    texts_within(&browser, &routed_row, "channel-kinds", |t| {
        t == ["Credential refused"]
    })
    .await;

    // Kept: after a reload the edit form shows the same choices, and so does the API.
    browser.client.refresh().await.expect("reload");
    click_within(&browser, &routed_row, "channel-edit").await;
    browser.element("channel-edit-form").await;
    assert!(checked(&browser, "channel-park-mall-a").await);
    assert!(!checked(&browser, "channel-park-mall-b").await);
    assert!(checked(&browser, "channel-kind-credential_refused").await);
    assert!(!checked(&browser, "channel-kind-gate_silence").await);
    assert_eq!(browser.value_of("channel-language").await, "en");
    assert_eq!(browser.text_of("nav-system").await, "System ▾");
    shoot(&browser, "alert-channels-routing-en").await;
    browser.click("channel-cancel").await;
    let routed = channels(&site)
        .await
        .into_iter()
        .find(|c| c["name"] == ROUTED)
        .expect("the routed channel");
    assert_eq!(routed["parks"], json!([site.park_id]));
    assert_eq!(routed["kinds"], json!(["credential_refused"]));
    assert_eq!(routed["language"], "en");

    // Honoured: gate silence at both car parks (another kind) and a refused credential at A.
    let gate = bearer_client(&site.server.api_key("gate", "gate", None));
    gate_entry(&site, &gate, "mall-a", "粤B30001").await;
    gate_entry(&site, &gate, "mall-b", "粤B30002").await;
    set_pyun_secret(&site, "not-the-secret").await;
    let (_, r) = site.event("ev-routed-1", PLATE).await;
    assert_eq!(r["state"], "misconfigured", "{r}");
    let all = shown_by(&robots, WECOM_KEY, 3).await;
    assert_eq!(
        all.iter()
            .filter(|t| t.contains("道闸长时间无进出记录"))
            .count(),
        2,
        "{all:?}"
    );
    let routed_told = shown_by(&robots, ROUTED_ROBOT, 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let routed_told_now = shown_by(&robots, ROUTED_ROBOT, 1).await;
    assert_eq!(routed_told_now.len(), 1, "{routed_told_now:?}");
    assert!(
        routed_told[0].contains("Credential refused") && routed_told[0].contains("测试广场"),
        "{}",
        routed_told[0]
    );
    assert_eq!(problems(&site, &site.admin, "open").await.len(), 3);
    let sends = channel_sends(&site, routed["id"].as_i64().unwrap()).await;
    assert_eq!(sends.len(), 1, "{sends:?}");
    let what = sends_texts(&browser, ROUTED, "channel-send-what", |t| t.len() == 1).await;
    assert!(what[0].contains("Credential refused"), "{what:?}");

    set_pyun_secret(&site, APP_SECRET).await;
    browser.close().await;
}
