//! The UI kit and the frame in headless Chromium: every page of every role (the merchant's shop
//! page included) fits a 390 px phone and is photographed at 1366×860 and 390×844 into
//! `target/screenshots/`; the admin's navigation stays on one line on a laptop and folds into a
//! menu on a phone; the header's health badge is readable; dates and times read `2026-12-06` /
//! `2026-12-06 08:58`; revoking an API key asks first and confirms with a toast.

use std::time::Duration;

use e2e::browser::Browser;
use e2e::coupon_site::bearer_client;
use e2e::page_checks;
use e2e::shop_site::{self, MERCHANT_PW};
use e2e::traffic_site;
use e2e::vip_site::{PARK_A, PASSWORD, VipSite};
use reqwest::Method;
use serde_json::{Value, json};

const DESKTOP: (u32, u32) = page_checks::DESKTOP;
const PHONE: (u32, u32) = page_checks::PHONE;

/// A page of the signed-in area: its name in screenshots, its path, an element that says it
/// has rendered, and who may open it (admin, property manager, mall staff, merchant).
struct Page {
    name: &'static str,
    path: String,
    ready: &'static str,
    roles: [bool; 4],
}

/// Every page of the frame's section table (`frontend/src/pages/layout.rs`), with real ids.
fn pages(park: i64, vip_record: i64, stay: i64, shop: i64) -> Vec<Page> {
    // A merchant opens its shop's page and nothing else.
    const ALL: [bool; 4] = [true, true, true, false];
    const MANAGERS: [bool; 4] = [true, true, false, false];
    const ADMIN: [bool; 4] = [true, false, false, false];
    const MERCHANT: [bool; 4] = [false, false, false, true];
    let page = |name, path: &str, ready, roles| Page {
        name,
        path: path.to_owned(),
        ready,
        roles,
    };
    vec![
        page("parks", "/parks", "parks-table", ALL),
        page("credentials", "/credentials", "credential-form", ADMIN),
        page("users", "/users", "users-table", ADMIN),
        page("api-keys", "/api-keys", "api-keys-table", ADMIN),
        page("audit", "/audit", "audit-table", ADMIN),
        page("coupons", "/coupons", "coupon-grant-form", MANAGERS),
        page("vip", "/vip", "vip-records", MANAGERS),
        page("shops", "/shops", "shops-table", MANAGERS),
        page(
            "shop-statement",
            &format!("/shops/{shop}/statement"),
            "statement-month",
            MANAGERS,
        ),
        page(
            "vip-record",
            &format!("/vip/{vip_record}"),
            "vip-recharges",
            MANAGERS,
        ),
        page("vip-import", "/vip/import", "vip-import-file", MANAGERS),
        page(
            "coupon-settings",
            &format!("/parks/{park}/coupons"),
            "coupon-settings-title",
            ADMIN,
        ),
        page(
            "pyun-gateway",
            &format!("/parks/{park}/pyun"),
            "pyun-access",
            ADMIN,
        ),
        page("traffic", "/traffic", "traffic-totals", ALL),
        page("sessions", "/sessions", "sessions-table", ALL),
        page("stay", &format!("/sessions/{stay}"), "stay-discounts", ALL),
        page(
            "tariff",
            &format!("/parks/{park}/tariff"),
            "tariff-editor",
            MANAGERS,
        ),
        page("problems", "/problems", "problems-open", MANAGERS),
        page("alerts", "/alerts", "channel-form", ADMIN),
        page("preview", "/preview", "fee-total", ALL),
        page("shop", "/shop", "shop-history", MERCHANT),
    ]
}

/// The four roles: screenshot name, user name.
const ROLES: [(&str, &str); 4] = [
    ("admin", "root"),
    ("manager", "manager"),
    ("staff", "staff"),
    ("merchant", MERCHANT),
];

/// The merchant of the tour's shop.
const MERCHANT: &str = "till";

/// A site with two car parks, one user per role, a VIP card with a recharge, a gate API key,
/// the stays of eight cars, a waiver on one still parked, and a shop with two offers; its VIP
/// record, stay and shop ids.
async fn site() -> (VipSite, i64, i64, i64) {
    let site = VipSite::start(e2e::server::Backend::Sqlite).await;
    let (status, created) = site
        .add_record(
            site.park_a,
            json!({
                "plate": "粤B12345", "charge_type": "MON_A", "vip_type": 1, "card_no": "C-1",
                "recharge": {"quantity": 1, "pay_type": 1, "pay_value_fen": 30000,
                             "pay_time": "2026-12-06T00:58:00Z"}
            }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let record = created["record"]["id"].as_i64().expect("record id");
    // Cars in and out through the gate API, so the sessions and traffic pages have rows.
    let key = site.server.api_key("gate-east", "gate", Some(PARK_A));
    let visits: Vec<_> = traffic_site::two_days().into_iter().take(8).collect();
    traffic_site::feed(&site.server, &bearer_client(&key), PARK_A, &visits).await;
    // A car still inside, so its page shows the fee ahead and the waiver form, and a waiver on it.
    let entered = chrono::Utc::now() - chrono::TimeDelta::minutes(75);
    let (status, entry) = e2e::coupon_site::send(
        &bearer_client(&key),
        Method::POST,
        &site.server.url("/api/v1/gate/entries"),
        Some(json!({"park": PARK_A, "plate": "沪A66666", "time": entered.to_rfc3339(), "gate": "东1"})),
    )
    .await;
    assert_eq!(status, 201, "{entry}");
    let stay = entry["session"]["id"].as_i64().expect("the new stay");
    let (status, body) = site
        .manager_send(
            Method::POST,
            &format!("/api/v1/sessions/{stay}/waivers"),
            Some(json!({"kind": "minutes", "value": 30, "reason": "排队时间过长"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // A shop with a local discount and a merchant who validated the parked car with it.
    let shop = shop_site::shop(&site.server, &site.admin, site.park_a, "一点点奶茶", None).await;
    let offer = shop_site::offer(
        &site.server,
        &site.admin,
        shop,
        json!({"name": "减1小时", "discount": {"kind": "minutes", "value": 60},
               "daily_quota": 20, "monthly_quota": 300}),
    )
    .await;
    let till = shop_site::merchant(&site.server, &site.admin, MERCHANT, shop).await;
    let (status, body) = e2e::coupon_site::send(
        &till,
        Method::POST,
        &site.server.url("/api/v1/shop/validations"),
        Some(json!({"offer_id": offer, "plate": "沪A66666", "validation_id": "tour-1"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // A second offer, for the shops pages' lists.
    shop_site::offer(
        &site.server,
        &site.admin,
        shop,
        json!({"name": "免2小时", "discount": {"kind": "minutes", "value": 120}, "daily_quota": 50}),
    )
    .await;
    (site, record, stay, shop)
}

/// Resizes the window so that the page's viewport is `size` (see `page_checks::set_viewport`).
async fn viewport(browser: &Browser, (w, h): (u32, u32)) {
    page_checks::set_viewport(browser, w, h).await;
}

/// Waits for `page` to render: its element, then no "加载中…" left, then a moment for the
/// last fetches to paint.
async fn open(browser: &Browser, base: &str, page: &Page) {
    browser.goto(&format!("{base}{}", page.path)).await;
    browser.element(page.ready).await;
    for _ in 0..50 {
        let loading = browser
            .client
            .execute(
                "return [...document.querySelectorAll('.muted')].some(e => e.textContent.includes('加载中'));",
                vec![],
            )
            .await
            .expect("loading check");
        if loading != Value::Bool(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_every_role_fits_a_phone_and_is_photographed_at_both_sizes() {
    let (site, record, stay, shop) = site().await;
    let base = site.server.base_url.clone();
    let browser = Browser::start().await;
    let mut overflowing = Vec::new();
    for (i, (role, user)) in ROLES.into_iter().enumerate() {
        viewport(&browser, DESKTOP).await;
        let password = if user == MERCHANT {
            MERCHANT_PW
        } else {
            PASSWORD
        };
        browser.sign_in(&base, user, password).await;
        for page in pages(site.park_a, record, stay, shop)
            .iter()
            .filter(|p| p.roles[i])
        {
            viewport(&browser, PHONE).await;
            open(&browser, &base, page).await;
            if let Some(why) = page_checks::overflow(&browser).await {
                overflowing.push(format!("{role} {}: {why}", page.path));
            }
            page_checks::screenshot(&browser, PHONE, &format!("{role}-{}-phone", page.name)).await;
            viewport(&browser, DESKTOP).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            page_checks::screenshot(&browser, DESKTOP, &format!("{role}-{}-desktop", page.name))
                .await;
        }
        browser.sign_out().await;
    }
    browser.close().await;
    assert!(
        overflowing.is_empty(),
        "pages scroll sideways at 390 px:\n{}",
        overflowing.join("\n")
    );
}

/// The bounding boxes of the navigation's links and sign-out button, and the nav's own.
const NAV_BOXES_JS: &str = r#"
const nav = document.querySelector('[data-testid=nav]');
const items = [...nav.querySelectorAll('.links > [data-testid^=nav-], .nav-group-toggle'), document.querySelector('[data-testid=sign-out]')];
const box = (e) => { const r = e.getBoundingClientRect(); return { id: e.dataset.testid, top: r.top, bottom: r.bottom, width: r.width }; };
const links = nav.querySelector('.links');
return { nav: box(nav), items: items.map(box),
         clipped: links ? links.scrollWidth > links.clientWidth + 1 : false };
"#;

/// Asserts that every nav item is visible and on the first item's line, nothing scrolled away.
async fn assert_nav_on_one_line(browser: &Browser, lang: &str) {
    let boxes = browser
        .client
        .execute(NAV_BOXES_JS, vec![])
        .await
        .expect("nav boxes");
    let items = boxes["items"].as_array().expect("items");
    // Eight links, the 系统 menu's button and sign-out.
    assert!(items.len() >= 10, "links and sign-out: {items:?}");
    let row_bottom = items[0]["bottom"].as_f64().expect("bottom");
    for item in items {
        assert!(
            item["width"].as_f64().unwrap_or(0.0) > 0.0,
            "{lang}: {} is hidden at 1366 px",
            item["id"]
        );
        assert!(
            item["top"].as_f64().expect("top") < row_bottom,
            "{lang}: {} wraps to a second line at 1366 px: {boxes}",
            item["id"]
        );
    }
    assert_eq!(
        boxes["clipped"],
        Value::Bool(false),
        "{lang}: links scrolled out of view"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_navigation_keeps_one_line_at_1366_and_folds_into_a_menu_on_a_phone() {
    let (site, ..) = site().await;
    let browser = Browser::start().await;
    viewport(&browser, DESKTOP).await;
    browser
        .sign_in(&site.server.base_url, "root", PASSWORD)
        .await;
    browser.element("nav-preview").await;
    assert_nav_on_one_line(&browser, "zh-CN").await;
    browser.click("lang-switch").await;
    browser.wait_for_text("sign-out", |t| t == "Sign out").await;
    assert_nav_on_one_line(&browser, "en").await;
    browser.click("lang-switch").await;
    browser.wait_for_text("sign-out", |t| t == "退出登录").await;

    // The 系统 menu opens under its button, inside the window, over the page; a click
    // elsewhere closes it, and a choice opens the page with the button marked current.
    browser.click("nav-system").await;
    let menu = browser
        .client
        .execute(
            "const ids = ['nav-credentials', 'nav-users', 'nav-api-keys', 'nav-audit', 'nav-alerts']; \
             return ids.map(id => { const r = document.querySelector(`[data-testid='${id}']`).getBoundingClientRect(); \
             return [r.width, r.left, r.right, r.top]; });",
            vec![],
        )
        .await
        .expect("menu boxes");
    let button_bottom = browser
        .client
        .execute(
            "return document.querySelector('[data-testid=nav-system]').getBoundingClientRect().bottom;",
            vec![],
        )
        .await
        .expect("nav box");
    for item in menu.as_array().expect("boxes") {
        let [w, left, right, top] = [0, 1, 2, 3].map(|i| item[i].as_f64().expect("number"));
        assert!(w > 0.0 && left >= 0.0 && right <= 1366.0, "{menu}");
        assert!(
            top >= button_bottom.as_f64().expect("bottom") - 1.0,
            "{menu}"
        );
    }
    assert_eq!(
        browser
            .attr_of("nav-system", "aria-expanded")
            .await
            .as_deref(),
        Some("true")
    );
    page_checks::screenshot(&browser, DESKTOP, "admin-nav-system-menu-desktop").await;
    browser.click("current-user").await;
    assert_eq!(
        browser
            .attr_of("nav-system", "aria-expanded")
            .await
            .as_deref(),
        Some("false")
    );
    browser.click("nav-alerts").await;
    browser.element("channel-form").await;
    let class = browser.attr_of("nav-system", "class").await;
    assert!(
        browser
            .client
            .execute(
                "return document.querySelector('.nav-group').classList.contains('current');",
                vec![]
            )
            .await
            .expect("class")
            == Value::Bool(true),
        "{class:?}"
    );
    assert_eq!(
        browser
            .attr_of("nav-system", "aria-expanded")
            .await
            .as_deref(),
        Some("false"),
        "the menu closes once a page is chosen"
    );

    // A phone: the links wait behind the menu button, which opens and closes them.
    viewport(&browser, PHONE).await;
    let shown = |id: &'static str| {
        let browser = &browser;
        async move {
            let w = browser
                .client
                .execute(
                    "const e = document.querySelector(`[data-testid='${arguments[0]}']`); \
                     return e ? e.getBoundingClientRect().width : 0;",
                    vec![id.into()],
                )
                .await
                .expect("width");
            w.as_f64().unwrap_or(0.0) > 0.0
        }
    };
    assert!(shown("menu-toggle").await, "no menu button on a phone");
    assert!(
        !shown("nav-users").await,
        "links show before the menu opens"
    );
    assert_eq!(
        browser
            .attr_of("menu-toggle", "aria-expanded")
            .await
            .as_deref(),
        Some("false")
    );
    browser.click("menu-toggle").await;
    assert!(shown("nav-users").await, "the menu does not open");
    assert!(
        shown("nav-problems").await,
        "the problems are not in the open menu"
    );
    assert!(
        shown("nav-alerts").await,
        "the 系统 links are not listed in the open menu"
    );
    assert!(shown("sign-out").await, "sign-out is not in the open menu");
    page_checks::screenshot(&browser, PHONE, "admin-nav-menu-phone").await;
    browser.click("nav-users").await;
    browser.element("users-table").await;
    assert!(
        !shown("nav-users").await,
        "the menu stays open after a choice"
    );
    browser.close().await;
}

/// The WCAG contrast ratio of an element's text against the first opaque background behind it.
const CONTRAST_JS: &str = r#"
const el = document.querySelector(`[data-testid='${arguments[0]}']`);
const rgba = (s) => (s.match(/[\d.]+/g) || []).map(Number);
const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
};
let bg = null;
for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) { bg = c; break; }
}
bg = bg || [255, 255, 255];
const fg = rgba(getComputedStyle(el).color);
const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
return { ratio: (a + 0.05) / (b + 0.05), color: getComputedStyle(el).color, background: `rgb(${bg.slice(0, 3)})`, text: el.textContent };
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_badge_is_readable() {
    let (site, ..) = site().await;
    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "root", PASSWORD)
        .await;
    browser.wait_for_text("health", |t| t == "服务正常").await;
    let found = browser
        .client
        .execute(CONTRAST_JS, vec!["health".into()])
        .await
        .expect("contrast");
    let ratio = found["ratio"].as_f64().expect("ratio");
    assert!(
        ratio >= 4.5,
        "the health badge's text has contrast {ratio:.2} < 4.5: {found}"
    );
    browser.close().await;
}

/// `2026-12-06 08:58`: four-digit year, dashes, a space, hours and minutes, no seconds.
fn is_minute_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_and_times_are_typed_and_shown_as_2026_12_06_08_58() {
    let (site, ..) = site().await;
    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "root", PASSWORD)
        .await;

    // A time in a table: the API key's creation time, to the minute.
    browser.goto(&site.server.url("/api-keys")).await;
    browser.element("api-key-row-gate-east").await;
    // The fifth cell is "创建时间" (read by position: main's table had no test id on it).
    let created = browser
        .client
        .execute(
            "return document.querySelector(`[data-testid='api-key-row-gate-east'] td:nth-child(5)`).textContent.trim();",
            vec![],
        )
        .await
        .expect("created cell");
    let created = created.as_str().unwrap_or_default().to_owned();
    assert!(is_minute_time(&created), "created at {created:?}");

    // The tariff editor's entry time: shown and typed as 2026-12-06 08:58, whatever the locale.
    browser
        .goto(&site.server.url(&format!("/parks/{}/tariff", site.park_a)))
        .await;
    browser.element("tariff-editor").await;
    let shown = browser.value_of("try-entry").await;
    assert!(is_minute_time(&shown), "entry shows {shown:?}");
    assert_eq!(
        browser.attr_of("try-entry", "type").await.as_deref(),
        Some("text"),
        "a native date input shows the browser's locale (12/06/2026)"
    );
    browser.type_into("try-entry", "2026-12-06 08:58").await;
    browser.type_into("try-exit", "2026-12-06 10:28").await;
    for _ in 0..100 {
        let minutes = browser.attr_of("try-minutes", "data-minutes").await;
        if minutes.as_deref() == Some("90") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        browser
            .attr_of("try-minutes", "data-minutes")
            .await
            .as_deref(),
        Some("90")
    );
    assert_eq!(browser.value_of("try-entry").await, "2026-12-06 08:58");

    // A wrong date is explained under the field once the field is left.
    browser.type_into("try-entry", "12/06/2026").await;
    browser.click("try-exit").await;
    let error = browser.text_of("try-entry-error").await;
    assert!(error.contains("2026-12-06"), "{error}");
    assert_eq!(
        browser
            .attr_of("try-entry", "aria-invalid")
            .await
            .as_deref(),
        Some("true")
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_an_api_key_asks_first_and_confirms_with_a_toast() {
    let (site, ..) = site().await;
    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "root", PASSWORD)
        .await;
    browser.click("nav-api-keys").await;

    // Cancelled: nothing happens.
    browser.click("api-key-revoke-gate-east").await;
    let question = browser.text_of("confirm-message").await;
    assert!(question.contains("gate-east"), "{question}");
    browser.click("confirm-no").await;
    browser.wait_gone("confirm-dialog").await;
    assert!(browser.exists("api-key-revoke-gate-east").await);

    // Confirmed: the key is revoked and a toast says so, in a live region.
    browser.click("api-key-revoke-gate-east").await;
    browser.click("confirm-yes").await;
    let toast = browser.text_of("api-key-revoked-toast").await;
    assert!(toast.contains("已吊销"), "{toast}");
    let role = browser
        .client
        .execute(
            "return document.querySelector(`[data-testid='api-key-revoked-toast']`).closest('[role=status]') !== null;",
            vec![],
        )
        .await
        .expect("live region");
    assert_eq!(
        role,
        Value::Bool(true),
        "the toast is not in a role=status region"
    );
    browser.element("api-key-revoked-gate-east").await;
    let (status, keys) = e2e::coupon_site::send(
        &site.admin,
        Method::GET,
        &site.server.url("/api/v1/api-keys"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{keys}");
    assert!(
        keys.as_array()
            .expect("keys")
            .iter()
            .any(|k| k["name"] == "gate-east" && k["revoked"] == true),
        "{keys}"
    );
    // The toast goes away by itself.
    browser.wait_gone("api-key-revoked-toast").await;
    browser.close().await;
}
