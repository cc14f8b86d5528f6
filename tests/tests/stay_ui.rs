//! A stay's page in headless Chromium against the real binary (PROTOCOLS.md §5.1): a car that
//! entered through the gate API 100 minutes ago with two discounts from a shop's machine key
//! shows each discount's worth and what it owes; the fee ahead, priced in the browser, matches
//! `protocol::ledger` at the same moments; a property manager waives ¥3.00 through the form and
//! sees the owed figure fall and the waiver listed under their name; a waiver refused by the
//! server is shown as text; after the car pays through Mallcoo, mall staff see the payment and
//! the fee ahead counting it, without the form; the page fits a phone.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use e2e::browser::Browser;
use e2e::coupon_site::{bearer_client, send};
use e2e::page_checks::{self, PHONE, assert_fits_width, set_viewport};
use e2e::server::Backend;
use e2e::traffic_site::{mallcoo_client, pay};
use e2e::vip_site::{PARK_A, PASSWORD, VipSite};
use fantoccini::Locator;
use protocol::ledger::{self, Discount, DiscountKind};
use protocol::mallcoo::{PayChannel, PayType};
use protocol::quote::Payment;
use protocol::tariff::Tariff;
use reqwest::{Client, Method};
use serde_json::{Value, json};

const DESKTOP: (u32, u32) = (1366, 900);
const PLATE: &str = "沪A51234";
/// A second car, whose waiver the server refuses because it left meanwhile.
const LEAVER: &str = "沪A51235";

/// A car entering at `at` through the gate API (at gate 东1); its session id.
async fn enter(site: &VipSite, machine: &Client, plate: &str, at: DateTime<Utc>) -> i64 {
    let (status, body) = send(
        machine,
        Method::POST,
        &site.server.url("/api/v1/gate/entries"),
        Some(json!({"park": PARK_A, "plate": plate, "time": at.to_rfc3339(), "gate": "东1"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["session"]["id"].as_i64().expect("session id")
}

/// Grants `kind`/`value` to `PLATE` through the machine API; the stay's figure in the answer.
async fn grant(site: &VipSite, machine: &Client, id: &str, kind: &str, value: i64) -> Value {
    let (status, body) = send(
        machine,
        Method::POST,
        &site.server.url("/api/v1/sessions/discounts"),
        Some(
            json!({"park": PARK_A, "plate": PLATE, "discount_id": id, "kind": kind,
                    "value": value, "source_name": "商户减免", "reason": "购物满 200 元"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["stay"]["figure"].clone()
}

/// The discount rows as shown: source, kind, state, worth (fen), and the cells' texts.
async fn discount_rows(browser: &Browser) -> Vec<Value> {
    let v = browser
        .client
        .execute(
            "return [...document.querySelectorAll(\"tr[data-testid^='stay-discount-']\")].map(r => { \
               const cell = id => r.querySelector(`[data-testid='${id}']`); \
               return { source: r.dataset.source, kind: r.dataset.kind, state: r.dataset.state, \
                 worth: cell('discount-worth').dataset.fen || null, \
                 source_text: cell('discount-source').textContent.trim(), \
                 value_text: cell('discount-value').textContent.trim(), \
                 label: cell('discount-label').textContent.trim(), \
                 state_text: cell('discount-state').textContent.trim(), \
                 by: cell('discount-by').textContent.trim(), \
                 reason: cell('discount-reason').textContent.trim() }; });",
            vec![],
        )
        .await
        .expect("read the discount rows");
    v.as_array().cloned().unwrap_or_default()
}

/// Waits until the page lists `n` discounts.
async fn wait_for_discounts(browser: &Browser, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let rows = discount_rows(browser).await;
        if rows.len() == n {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "want {n} discounts, the page lists {:?}",
        discount_rows(browser).await
    );
}

/// Each growth row's moment (`data-at`) and owed fen (`data-owed`), in order.
async fn growth_rows(browser: &Browser) -> Vec<(String, DateTime<Utc>, i64)> {
    let v = browser
        .client
        .execute(
            "return [...document.querySelectorAll(\"tr[data-testid^='stay-growth-']\")] \
               .map(r => [r.dataset.testid, r.dataset.at, r.dataset.owed]);",
            vec![],
        )
        .await
        .expect("read the growth rows");
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let at = DateTime::parse_from_rfc3339(r[1].as_str().expect("data-at"))
                .expect("an RFC 3339 moment")
                .with_timezone(&Utc);
            let owed = r[2]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("data-owed");
            (r[0].as_str().unwrap_or_default().to_owned(), at, owed)
        })
        .collect()
}

/// Asserts the growth table: five rows at +15 min … +4 h from the page's now, each owing what
/// `protocol::ledger::figure` says for the stay with `discounts` and `payments` at that moment.
async fn assert_growth(
    browser: &Browser,
    entry: DateTime<Utc>,
    discounts: &[DiscountKind],
    payments: &[Payment],
) {
    let rows = growth_rows(browser).await;
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        ids,
        [
            "stay-growth-15",
            "stay-growth-30",
            "stay-growth-60",
            "stay-growth-120",
            "stay-growth-240"
        ]
    );
    let tariff = Tariff::example();
    let discounts: Vec<Discount> = discounts
        .iter()
        .map(|&kind| Discount {
            kind,
            granted_at: entry,
            source_label: "商户减免".to_owned(),
        })
        .collect();
    let stay = ledger::Stay {
        entry,
        tariff: &tariff,
        vip: None,
        discounts: &discounts,
        payments,
    };
    let first = rows[0].1;
    for (id, at, owed) in &rows {
        let ahead: i64 = id["stay-growth-".len()..].parse().expect("minutes");
        assert_eq!(
            *at - first,
            TimeDelta::minutes(ahead - 15),
            "{id} is priced at {at}"
        );
        let want = ledger::figure(&stay, *at).expect("a figure").owed;
        assert_eq!(*owed, want, "{id} at {at}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_sees_every_discount_waives_part_of_the_fee_and_mall_staff_only_read() {
    let site = VipSite::start(Backend::Sqlite).await;
    let tariff = serde_json::to_value(Tariff::example()).expect("tariff json");
    let (status, body) = send(
        &site.admin,
        Method::PUT,
        &site
            .server
            .url(&format!("/api/v1/parks/{}/tariff", site.park_a)),
        Some(tariff),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    let key = site
        .server
        .api_key("shop-kiosk", "gate,discounts", Some(PARK_A));
    let prefix = key.split('_').nth(1).expect("the key's prefix").to_owned();
    let machine = bearer_client(&key);
    // Whole seconds: the server keeps milliseconds, and the test prices the stay again.
    let entry = DateTime::from_timestamp((Utc::now() - TimeDelta::minutes(100)).timestamp(), 0)
        .expect("entry time");
    let id = enter(&site, &machine, PLATE, entry).await;
    grant(&site, &machine, "kiosk-60min", "minutes", 60).await;
    // §5.1's worked example: 1600 at 100 min; 60 min off → 1000; then half off → 500.
    let figure = grant(&site, &machine, "kiosk-half", "percent", 500).await;
    assert_eq!(
        (figure["charge_fen"].as_i64(), figure["owed_fen"].as_i64()),
        (Some(1600), Some(500)),
        "{figure}"
    );

    let browser = Browser::start().await;
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;
    browser
        .sign_in(&site.server.base_url, "manager", PASSWORD)
        .await;
    // The sessions list shows what the car owes and its discounts, and links its page.
    browser
        .goto(&site.server.url(&format!("/sessions?park={}", site.park_a)))
        .await;
    browser
        .wait_for_text("session-owed", |t| t == "¥5.00")
        .await;
    assert_eq!(browser.text_of("session-worth").await, "¥11.00");
    browser.click("session-link").await;
    browser.wait_for_text("stay-owed", |t| t == "¥5.00").await;
    assert_eq!(
        browser.attr_of("stay-detail", "data-id").await,
        Some(id.to_string())
    );
    assert!(browser.text_of("stay-title").await.contains(PLATE));
    assert_eq!(browser.text_of("stay-charge").await, "¥16.00");
    assert_eq!(browser.text_of("stay-worth").await, "¥11.00");
    assert_eq!(browser.text_of("stay-paid").await, "¥0.00");
    assert_eq!(
        browser.attr_of("stay-state", "data-state").await.as_deref(),
        Some("open")
    );
    // Entry in Shanghai time, to the minute, with its gate.
    let entry_shown = protocol::time::format_mallcoo(entry)[..16].to_owned();
    assert_eq!(
        browser.text_of("stay-entry").await,
        format!("{entry_shown} · 道口：东1")
    );
    assert_eq!(
        browser.text_of("stay-tariff").await,
        "15 分钟内免费；首 60 分钟 ¥10.00，之后每 30 分钟 ¥3.00，每 24 小时封顶 ¥50.00。"
    );
    assert_eq!(browser.text_of("stay-vip").await, "无");
    browser.element("stay-payments-empty").await;

    let rows = wait_for_discounts(&browser, 2).await;
    let seen: Vec<(&str, &str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["source_text"].as_str().unwrap_or_default(),
                r["value_text"].as_str().unwrap_or_default(),
                r["worth"].as_str().unwrap_or_default(),
                r["state_text"].as_str().unwrap_or_default(),
                r["label"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("接口减免", "时长 · 60 分钟", "600", "生效中", "商户减免"),
            ("接口减免", "折扣 · 50%", "500", "生效中", "商户减免"),
        ]
    );
    for r in &rows {
        assert_eq!(r["by"], format!("API 密钥 {prefix}"), "{r}");
        assert_eq!(r["reason"], "购物满 200 元", "{r}");
    }
    assert_growth(
        &browser,
        entry,
        &[DiscountKind::Minutes(60), DiscountKind::Percent(500)],
        &[],
    )
    .await;
    // By hand, an hour on (161–164 min): 2200; 60 min off → 1600; half off → 800.
    assert_eq!(
        browser
            .attr_of("stay-growth-60", "data-owed")
            .await
            .as_deref(),
        Some("800")
    );

    // No reason: the form says so and sends nothing.
    browser.type_into("waiver-value", "3.00").await;
    browser.click("waiver-submit").await;
    browser.element("waiver-reason-error").await;
    assert!(!browser.exists("confirm-dialog").await);
    // With one: a confirmation naming the car and the amount, then the page reads the stay again.
    browser.type_into("waiver-reason", "排队时间过长").await;
    browser.click("waiver-submit").await;
    let question = browser.text_of("confirm-message").await;
    assert!(
        question.contains(PLATE) && question.contains("¥3.00") && question.contains("排队时间过长"),
        "{question}"
    );
    browser.click("confirm-yes").await;
    browser.wait_for_text("stay-owed", |t| t == "¥2.00").await;
    browser.element("stay-waiver-done").await;
    let rows = wait_for_discounts(&browser, 3).await;
    let waiver = &rows[2];
    assert_eq!(waiver["source"], "waiver", "{waiver}");
    assert_eq!(waiver["source_text"], "人工减免");
    assert_eq!(waiver["value_text"], "金额 · ¥3.00");
    assert_eq!(waiver["worth"], "300");
    assert_eq!(waiver["by"], "manager");
    assert_eq!(waiver["reason"], "排队时间过长");
    assert_eq!(browser.text_of("stay-worth").await, "¥14.00");
    assert_eq!(browser.value_of("waiver-reason").await, "");
    assert_growth(
        &browser,
        entry,
        &[
            DiscountKind::Minutes(60),
            DiscountKind::Percent(500),
            DiscountKind::Amount(300),
        ],
        &[],
    )
    .await;

    page_checks::screenshot(&browser, DESKTOP, "stay-manager-desktop").await;
    set_viewport(&browser, PHONE.0, PHONE.1).await;
    assert_fits_width(&browser, "the stay's page with the waiver form").await;
    page_checks::screenshot(&browser, PHONE, "stay-manager-phone").await;
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;

    // A car that leaves while its waiver is being confirmed: the server's refusal is shown.
    let leaver = enter(&site, &machine, LEAVER, Utc::now() - TimeDelta::minutes(30)).await;
    browser
        .goto(&site.server.url(&format!("/sessions/{leaver}")))
        .await;
    browser.select("waiver-kind", "minutes").await;
    browser.type_into("waiver-value", "30").await;
    browser.type_into("waiver-reason", "设备故障").await;
    browser.click("waiver-submit").await;
    browser.element("confirm-dialog").await;
    let (status, body) = send(
        &machine,
        Method::POST,
        &site.server.url("/api/v1/gate/exits"),
        Some(json!({"park": PARK_A, "plate": LEAVER})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    browser.click("confirm-yes").await;
    browser
        .wait_for_text("stay-waiver-error", |t| t == "车辆已出场，不能再减免")
        .await;
    browser.sign_out().await;

    // The car pays what it owes through Mallcoo, ¥0.50 of it with Mallcoo's own benefits.
    let mallcoo = mallcoo_client(&site, site.park_a, "mc-stay").await;
    let (amount, deduction) = pay(
        &mallcoo,
        PLATE,
        "mc-order-1",
        50,
        (PayChannel::Online, PayType::WeChat),
    )
    .await;
    assert_eq!(
        (amount, deduction),
        (150, 50),
        "¥2.00 owed, ¥0.50 of it in benefits"
    );
    let (status, detail) = send(
        &site.manager,
        Method::GET,
        &site.server.url(&format!("/api/v1/sessions/{id}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    let settled = &detail["payments"][0];
    let paid = Payment {
        at: DateTime::parse_from_rfc3339(settled["settled_at"].as_str().expect("settled_at"))
            .expect("a time")
            .with_timezone(&Utc),
        amount: amount + deduction,
    };
    assert_eq!(detail["figure"]["owed_fen"], 0, "{detail}");

    // Mall staff: the same discounts, the payment, the fee ahead counting it; no waiver form.
    browser
        .sign_in(&site.server.base_url, "staff", PASSWORD)
        .await;
    browser
        .goto(&site.server.url(&format!("/sessions?park={}", site.park_a)))
        .await;
    let link = format!("[data-testid='session-{id}'] [data-testid='session-link']");
    browser
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&link))
        .await
        .expect("the stay's link")
        .click()
        .await
        .expect("open the stay");
    browser.wait_for_text("stay-owed", |t| t == "¥0.00").await;
    let rows = wait_for_discounts(&browser, 3).await;
    assert_eq!(rows[2]["by"], "manager");
    assert_eq!(browser.text_of("payment-channel").await, "猫酷");
    assert_eq!(browser.text_of("payment-order").await, "mc-order-1");
    assert_eq!(
        browser.attr_of("payment-amount", "data-fen").await,
        Some(amount.to_string())
    );
    assert_eq!(
        browser.attr_of("payment-deduction", "data-fen").await,
        Some(deduction.to_string())
    );
    assert_eq!(
        browser.attr_of("stay-paid", "data-fen").await,
        Some((amount + deduction).to_string())
    );
    browser.element("stay-growth-240").await;
    assert_growth(
        &browser,
        entry,
        &[
            DiscountKind::Minutes(60),
            DiscountKind::Percent(500),
            DiscountKind::Amount(300),
        ],
        &[paid],
    )
    .await;
    // By hand, four hours on (342–347 min): 4000; 60 min off → 3400; half off → 1700; ¥3.00
    // waived → 1400; less what was paid.
    assert_eq!(
        browser.attr_of("stay-growth-240", "data-owed").await,
        Some((1400 - amount - deduction).to_string())
    );
    // Everything above rendered in the same pass as the form would have; give it a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!browser.exists("stay-waiver-form").await);
    set_viewport(&browser, PHONE.0, PHONE.1).await;
    assert_fits_width(&browser, "the stay's page for mall staff").await;
    page_checks::screenshot(&browser, PHONE, "stay-staff-phone").await;
    browser.close().await;
}
