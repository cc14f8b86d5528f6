//! The tariff editor in headless Chromium against the real binary: a property manager changes
//! the prices in 元, the preview table follows PROTOCOLS.md §5 as typed, a bad value is caught
//! before saving, an entry/exit pair is priced, and after saving and reloading the server bills
//! a stay of that length at the gate exactly as previewed.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use e2e::browser::Browser;
use e2e::coupon_site::{bearer_client, send};
use e2e::server::Backend;
use e2e::traffic_site::{PERSON_PASSWORD, add_person};
use e2e::vip_site::{PARK_A, VipSite};
use reqwest::Method;
use serde_json::json;

/// A simple tariff of §5, in fen and minutes.
struct Simple {
    free: i64,
    first_minutes: i64,
    first_price: i64,
    unit_minutes: i64,
    unit_price: i64,
    cycle_cap: i64,
}

impl Simple {
    /// The fee of a stay of `minutes` by the rules of PROTOCOLS.md §5, written from the spec:
    /// free up to `free` minutes, else 24 h cycles from entry, each priced as a fresh stay
    /// (first block whole as soon as started, then every started unit), each capped.
    fn fee(&self, minutes: i64) -> i64 {
        if minutes <= self.free {
            return 0;
        }
        let mut left = minutes;
        let mut total = 0;
        while left > 0 {
            let cycle = left.min(24 * 60);
            left -= cycle;
            let after_first = (cycle - self.first_minutes).max(0);
            let units = (after_first + self.unit_minutes - 1) / self.unit_minutes;
            total += (self.first_price + units * self.unit_price).min(self.cycle_cap);
        }
        total
    }
}

const DURATIONS: [i64; 13] = [
    15, 30, 60, 90, 120, 180, 240, 360, 480, 720, 1440, 1450, 2880,
];

/// Waits until every row of the preview table shows `tariff`'s fee (as `data-fen`).
async fn preview_shows(browser: &Browser, tariff: &Simple) {
    for m in DURATIONS {
        let want = tariff.fee(m).to_string();
        let id = format!("preview-fee-{m}");
        for attempt in 0.. {
            if browser.attr_of(&id, "data-fen").await.as_deref() == Some(want.as_str()) {
                break;
            }
            assert!(
                attempt < 100,
                "{id}: want {want}, shows {:?}",
                browser.attr_of(&id, "data-fen").await
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Sets an input's value as a person's picker would and fires its `input` event
/// (WebDriver cannot type into `datetime-local` portably).
async fn set_value(browser: &Browser, test_id: &str, value: &str) {
    browser.element(test_id).await;
    browser
        .client
        .execute(
            "const e = document.querySelector(`[data-testid='${arguments[0]}']`); \
             e.value = arguments[1]; e.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![test_id.into(), value.into()],
        )
        .await
        .expect("set value");
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_edits_the_tariff_with_a_live_preview_and_the_gate_bills_what_was_previewed() {
    let site = VipSite::start(Backend::Sqlite).await;
    add_person(&site, "pricing", "property_manager", &[site.park_a]).await;
    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "pricing", PERSON_PASSWORD)
        .await;
    browser.click("nav-parks").await;
    browser.click(&format!("park-tariff-link-{PARK_A}")).await;
    browser.element("tariff-editor").await;

    // A new car park has §5's worked example; the table shows its fees, e.g. 24 h 10 → 60 元.
    let example = Simple {
        free: 15,
        first_minutes: 60,
        first_price: 1000,
        unit_minutes: 30,
        unit_price: 300,
        cycle_cap: 5000,
    };
    assert_eq!(example.fee(1450), 6000);
    assert_eq!(browser.value_of("tariff-unit-price").await, "3.00");
    preview_shows(&browser, &example).await;

    // New prices in 元: first hour 8.50, every half hour 4.
    browser.type_into("tariff-first-price", "8.5").await;
    browser.type_into("tariff-unit-price", "4").await;
    let edited = Simple {
        first_price: 850,
        unit_price: 400,
        ..example
    };
    preview_shows(&browser, &edited).await;
    assert_eq!(
        browser
            .attr_of("preview-fee-90", "data-fen")
            .await
            .as_deref(),
        Some("1250")
    );
    assert_eq!(browser.text_of("preview-fee-90").await, "¥12.50");

    // A bad amount is caught as typed: no fees, no saving.
    browser.type_into("tariff-unit-price", "4.005").await;
    browser
        .wait_for_text("tariff-check", |t| t.contains("单位价格"))
        .await;
    assert_eq!(
        browser
            .attr_of("tariff-check", "data-valid")
            .await
            .as_deref(),
        Some("false")
    );
    assert!(
        browser
            .element("tariff-save")
            .await
            .prop("disabled")
            .await
            .unwrap()
            .is_some_and(|d| d == "true")
    );
    assert_eq!(browser.text_of("preview-fee-90").await, "—");
    // A time-of-day tariff with a gap is refused by the protocol crate's check.
    browser.select("tariff-kind", "time_of_day").await;
    browser.type_into("period-0-end", "18:00").await;
    browser
        .wait_for_text("tariff-check", |t| t.contains("18:00–19:00"))
        .await;
    browser.select("tariff-kind", "simple").await;
    browser.type_into("tariff-unit-price", "4").await;
    preview_shows(&browser, &edited).await;

    // An entry/exit pair: 2 h 10 min costs 8.50 + three started half hours of 4 = 20.50 元.
    let exit_at = Utc::now() - Duration::hours(1);
    let exit_at = exit_at - Duration::seconds(exit_at.timestamp() % 60);
    let entry_at = exit_at - Duration::minutes(130);
    // The kit's date-time inputs read `2026-12-06 08:58`, whatever the browser's locale.
    let local = |t: DateTime<Utc>| protocol::time::format_mallcoo(t)[..16].to_owned();
    set_value(&browser, "try-entry", &local(entry_at)).await;
    set_value(&browser, "try-exit", &local(exit_at)).await;
    browser.wait_for_text("try-fee", |t| t == "¥20.50").await;
    assert_eq!(edited.fee(130), 2050);
    assert_eq!(
        browser
            .attr_of("try-minutes", "data-minutes")
            .await
            .as_deref(),
        Some("130")
    );

    browser.click("tariff-save").await;
    browser.element("tariff-saved").await;

    // After a reload the editor shows what the server stored.
    browser
        .goto(&site.server.url(&format!("/parks/{}/tariff", site.park_a)))
        .await;
    browser.element("tariff-editor").await;
    assert_eq!(browser.value_of("tariff-first-price").await, "8.50");
    assert_eq!(browser.value_of("tariff-unit-price").await, "4.00");
    preview_shows(&browser, &edited).await;

    // The gate bills a stay of that length exactly as previewed.
    let gate = bearer_client(&site.server.api_key("gate a", "gate", Some(PARK_A)));
    let url = |p: &str| site.server.url(&format!("/api/v1/gate/{p}"));
    let (status, body) = send(
        &gate,
        Method::POST,
        &url("entries"),
        Some(json!({"park": PARK_A, "plate": "沪A12345", "time": rfc(entry_at)})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(
        &gate,
        Method::POST,
        &url("exits"),
        Some(json!({"park": PARK_A, "plate": "沪A12345", "time": rfc(exit_at)})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["session"]["fee_due_fen"], 2050, "{body}");
    browser.close().await;
}
