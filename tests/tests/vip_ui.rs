//! The fixed-car (VIP) pages in headless Chromium against the real binary and the P云 sandbox: a
//! property manager adds a card and renews it and sees both recharges synced; an import with
//! bad rows shows them by line and writes only after confirmation; an admin starts a full sync
//! and watches its progress bar to completion.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use e2e::browser::Browser;
use e2e::coupon_site::{self, ADMIN_PW, APP_ID, CouponSite, MANAGER_PW, PARK, bearer_client, send};
use e2e::page_checks::{PHONE, assert_date_shown, assert_fits_width, set_viewport};
use e2e::server::Backend;
use e2e::traffic_site::{PERSON_PASSWORD, add_person};
use e2e::vip_site::VipSite;
use protocol::pyun::VipType;
use protocol::time::format_mallcoo;
use protocol::vip::renewal_period;
use reqwest::Method;
use serde_json::{Value, json};

const PARK_UUID: &str = "park-uuid-1";
const PLATE: &str = "粤B12345";

/// A gateway and sandbox where the car park's VIP records sync in batches of `batch_size`.
async fn site(batch_size: u32) -> CouponSite {
    let pyun = coupon_site::sandbox(&[]);
    pyun.add_vip_park(PARK_UUID, APP_ID);
    let size = format!("PARKBRIDGE_VIP_BATCH_SIZE={batch_size}");
    CouponSite::start(
        Backend::Sqlite,
        pyun,
        &["PARKBRIDGE_RETRY_BASE_MS=50", size.as_str()],
    )
    .await
}

/// The Shanghai date (`yyyy-MM-dd`) of an instant, as the pages show periods.
fn date(t: chrono::DateTime<Utc>) -> String {
    format_mallcoo(t)[..10].to_owned()
}

/// The car park's records through the API.
async fn records(site: &CouponSite) -> Value {
    let (status, body) = send(
        &site.manager,
        Method::GET,
        &site
            .server
            .url(&format!("/api/v1/parks/{}/vip/records", site.park_id)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_adds_a_card_renews_it_and_sees_both_recharges_reach_pyun() {
    let site = site(200).await;
    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "manager", MANAGER_PW)
        .await;
    browser.click("nav-vip").await;
    browser.select("vip-park", &site.park_id.to_string()).await;
    browser.click("vip-add-toggle").await;

    // The plate is checked in the browser while it is typed.
    browser.type_into("vip-add-plate", "粤B1234").await;
    let hint = browser.element("vip-add-plate-hint").await;
    assert_eq!(
        hint.attr("data-valid").await.unwrap().as_deref(),
        Some("false")
    );
    browser.type_into("vip-add-plate", "粤b12345").await;
    browser
        .wait_for_text("vip-add-plate-hint", |t| t.contains(PLATE))
        .await;
    browser.type_into("vip-add-charge-type", "MON_A").await;
    browser.select("vip-add-type", "1").await;
    browser.type_into("vip-add-quantity", "1").await;
    browser.type_into("vip-add-amount", "300").await;
    // The period the server will compute, previewed by the same protocol code in wasm.
    let first = renewal_period(VipType::Monthly, 1, None, Utc::now())
        .unwrap()
        .unwrap();
    browser
        .wait_for_text("vip-add-period", |t| {
            t.contains(&date(first.start)) && t.contains(&date(first.end))
        })
        .await;
    browser.click("vip-add-submit").await;

    // The record page: one recharge, synced to P云.
    browser
        .wait_for_text("vip-detail-plate", |t| t == PLATE)
        .await;
    wait_for_state(&browser, "delivered", 1).await;
    let held = site.pyun.vip_records(PARK_UUID);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].plate.as_str(), PLATE);
    assert_eq!(held[0].pay_value, Some(30_000));
    assert_eq!(held[0].renewal_start_time, Some(first.start));
    assert_eq!(held[0].renewal_end_time, Some(first.end));

    // Renewing an unexpired card continues right after its end.
    let second = renewal_period(VipType::Monthly, 2, Some(first.end), Utc::now())
        .unwrap()
        .unwrap();
    browser.type_into("vip-renew-quantity", "2").await;
    browser.type_into("vip-renew-amount", "550.5").await;
    browser
        .wait_for_text("vip-renew-period", |t| {
            t.contains(&date(second.start)) && t.contains(&date(second.end))
        })
        .await;
    browser.click("vip-renew-submit").await;
    browser.element("vip-renew-done").await;
    wait_for_state(&browser, "delivered", 2).await;
    let held = site.pyun.vip_records(PARK_UUID);
    assert_eq!(held.len(), 2, "both recharges at P云");
    let renewal = held
        .iter()
        .find(|r| r.pay_value == Some(55_050))
        .expect("the renewal, 550.50 元 in fen");
    assert_eq!(renewal.quantity, 2);
    assert_eq!(renewal.renewal_start_time, Some(second.start));
    assert_eq!(renewal.renewal_end_time, Some(second.end));
    assert_eq!(second.start, first.end + chrono::TimeDelta::seconds(1));
    browser
        .wait_for_text("vip-detail-period", |t| t.contains(&date(second.end)))
        .await;
    browser.close().await;
}

/// Waits until `count` recharge rows show `state` (the page re-reads them every few seconds).
async fn wait_for_state(browser: &Browser, state: &str, count: usize) {
    let css = format!("tr[data-testid^='vip-recharge-'][data-state='{state}']");
    for _ in 0..200 {
        if browser.count(&css).await >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{count} recharges never reached {state}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_with_bad_rows_shows_them_by_line_and_writes_only_after_confirmation() {
    let site = site(200).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("固定车.csv");
    std::fs::write(
        &file,
        "车牌号,车牌颜色,收费类型,VIP类型,开始时间,结束时间,金额(元)\n\
         粤B11111,蓝,MON_A,月卡,2026-01-01,2026-01-31,300\n\
         粤Z1,蓝,MON_A,月卡,2026-01-01,2026-01-31,300\n\
         粤B22222,蓝,MON_A,周卡,2026-01-01,2026-01-31,300\n\
         粤B33333,黄,YEAR,年卡,2026-01-01,2026-12-31,3000\n\
         粤B44444,蓝,MON_A,月卡,2026-02-30,2026-03-31,300\n",
    )
    .unwrap();
    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "manager", MANAGER_PW)
        .await;
    browser.click("nav-vip").await;
    browser.select("vip-park", &site.park_id.to_string()).await;
    browser.click("vip-import-link").await;
    browser
        .select("vip-import-park", &site.park_id.to_string())
        .await;
    browser
        .element("vip-import-file")
        .await
        .send_keys(&file.to_string_lossy())
        .await
        .unwrap();
    browser.click("vip-import-preview").await;
    browser.element("vip-import-report").await;
    let valid = browser.text_of("vip-import-valid").await;
    assert!(valid.trim().ends_with("：2"), "{valid}");
    let mut lines = Vec::new();
    for id in browser.test_ids_with_prefix("vip-import-error-").await {
        if let Some(line) = browser.element(&id).await.attr("data-line").await.unwrap() {
            lines.push(line);
        }
    }
    assert_eq!(lines, ["3", "4", "6"], "bad plate, unknown type, bad date");
    let messages = browser.text_of("vip-import-errors").await;
    assert!(
        messages.contains("粤Z1") && messages.contains("周卡"),
        "{messages}"
    );
    assert_eq!(records(&site).await["total"], 0, "a preview writes nothing");

    browser.click("vip-import-confirm").await;
    let created = browser.element("vip-import-created").await;
    assert_eq!(
        created.attr("data-created").await.unwrap().as_deref(),
        Some("2")
    );
    let list = records(&site).await;
    assert_eq!(list["total"], 2, "{list}");
    let plates: HashSet<&str> = list["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["plate"].as_str().unwrap())
        .collect();
    assert_eq!(plates, HashSet::from(["粤B11111", "粤B33333"]));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_starts_a_full_sync_and_watches_it_complete() {
    let site = site(50).await;
    let key = site.server.api_key("local-vip", "vip", Some(PARK));
    let machine = bearer_client(&key);
    let rows: Vec<Value> = (0..300)
        .map(|i| {
            json!({
                "plate": format!("粤C{i:05}"), "plate_color": 1, "charge_type": "MON_A",
                "vip_type": 1, "quantity": 1, "pay_partner": format!("pp-{i}"), "pay_type": 1,
                "pay_value": 30000
            })
        })
        .collect();
    let (status, body) = send(
        &machine,
        Method::POST,
        &site.server.url("/api/v1/vip/recharges"),
        Some(json!({"park": PARK, "rows": rows})),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    for _ in 0..300 {
        if site.pyun.vip_records(PARK_UUID).len() == 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Slow enough that the bar is seen moving: the page polls the job every second, so the six
    // batches must take several seconds (at 150 ms each a loaded machine saw only 0 and 100).
    site.pyun.set_latency(Duration::from_millis(700));

    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "root", ADMIN_PW)
        .await;
    browser.click("nav-vip").await;
    browser.select("vip-park", &site.park_id.to_string()).await;
    browser.element("vip-sync-warning").await;
    let start = browser.element("vip-sync-start").await;
    assert!(
        !start.is_enabled().await.unwrap(),
        "disabled until confirmed"
    );
    browser.type_into("vip-sync-confirm-name", "测试").await;
    assert!(
        !start.is_enabled().await.unwrap(),
        "a partial name does not confirm"
    );
    browser.type_into("vip-sync-confirm-name", "测试广场").await;
    assert!(start.is_enabled().await.unwrap());
    browser.click("vip-sync-start").await;
    browser.element("vip-sync-job").await;
    browser
        .wait_for_text("vip-sync-batches", |t| {
            t.contains("/ 6") || t.contains("/6")
        })
        .await;
    let mut seen_partial = false;
    for _ in 0..300 {
        let state = browser
            .attr_of("vip-sync-job", "data-state")
            .await
            .unwrap_or_default();
        let percent = browser
            .attr_of("vip-sync-progress", "data-percent")
            .await
            .unwrap_or_default();
        if state == "running" && percent != "0" && percent != "100" {
            seen_partial = true;
        }
        if state == "done" {
            assert_eq!(percent, "100");
            break;
        }
        assert_ne!(state, "failed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        seen_partial,
        "the progress bar moved through intermediate values"
    );
    browser
        .wait_for_text("vip-sync-state", |t| t.contains("完成"))
        .await;
    assert!(browser.text_of("vip-sync-rows").await.contains("300"));
    let held: HashSet<String> = site
        .pyun
        .vip_records(PARK_UUID)
        .into_iter()
        .map(|r| r.pay_partner)
        .collect();
    assert_eq!(held.len(), 300);
    browser.close().await;
}

/// `n` monthly cards as an import file, plates `粤{authority}00000`… in order.
fn cards(authority: char, n: usize) -> Vec<u8> {
    let mut csv = String::from("车牌号,车牌颜色,收费类型,VIP类型,开始时间,结束时间,金额(元)\n");
    for i in 0..n {
        csv.push_str(&format!(
            "粤{authority}{i:05},蓝,MON_A,月卡,2026-01-01,2026-01-31,300\n"
        ));
    }
    csv.into_bytes()
}

/// Waits until the pager's range reads `range` (e.g. `第 51–100 条`).
async fn wait_for_range(browser: &Browser, range: &str) {
    browser
        .wait_for_text("vip-range", |t| t.contains(range))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_records_pager_shows_its_own_labels_counts_once_and_pages_through_every_record() {
    let site = VipSite::start(Backend::Sqlite).await;
    let (status, report) = site
        .import(site.park_a, "confirm=true", cards('D', 120))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 120, "{report}");
    add_person(&site, "pm", "property_manager", &[site.park_a]).await;
    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "pm", PERSON_PASSWORD)
        .await;
    browser.click("nav-vip").await;
    wait_for_range(&browser, "第 1–50 条，共 120 条").await;

    // The buttons say what they do and nothing of the page's source leaks onto it (a bare
    // `>=` in a `view!` attribute once ended the tag and printed the rest as text).
    assert_eq!(browser.text_of("vip-prev").await, "上一页");
    assert_eq!(browser.text_of("vip-next").await, "下一页");
    let text = browser.page_text().await;
    for source in ["total()", "on : click", "move |", "PAGE_SIZE", "offset()"] {
        assert!(!text.contains(source), "{source:?} on the page: {text}");
    }
    assert_eq!(text.matches("共 120 条").count(), 1, "{text}");

    let enabled = |id: &'static str| {
        let browser = &browser;
        async move { browser.element(id).await.is_enabled().await.unwrap() }
    };
    assert!(!enabled("vip-prev").await, "no page before the first");
    assert!(enabled("vip-next").await);
    assert_eq!(browser.count("tr[data-testid^='vip-record-']").await, 50);
    browser.click("vip-next").await;
    wait_for_range(&browser, "第 51–100 条").await;
    assert!(enabled("vip-prev").await && enabled("vip-next").await);
    browser.click("vip-next").await;
    wait_for_range(&browser, "第 101–120 条").await;
    assert!(!enabled("vip-next").await, "no page after the last");
    assert_eq!(browser.count("tr[data-testid^='vip-record-']").await, 20);
    browser.click("vip-prev").await;
    wait_for_range(&browser, "第 51–100 条").await;

    // The add form's period dates read `YYYY-MM-DD` whatever the browser's locale.
    browser.click("vip-add-toggle").await;
    browser.type_into("vip-add-start", "2026-12-06").await;
    browser.type_into("vip-add-end", "2027-01-05").await;
    assert_date_shown(&browser, "vip-add-start", "2026-12-06").await;
    assert_date_shown(&browser, "vip-add-end", "2027-01-05").await;
    browser
        .wait_for_text("vip-add-period", |t| {
            t.contains("2026-12-06") && t.contains("2027-01-05")
        })
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_list_a_record_and_an_import_preview_fit_the_screen() {
    let site = VipSite::start(Backend::Sqlite).await;
    let (status, report) = site
        .import(site.park_a, "confirm=true", cards('D', 3))
        .await;
    assert_eq!(status, 200, "{report}");
    add_person(&site, "pm", "property_manager", &[site.park_a]).await;
    let browser = Browser::start().await;
    set_viewport(&browser, PHONE.0, PHONE.1).await;
    browser
        .sign_in(&site.server.base_url, "pm", PERSON_PASSWORD)
        .await;
    // On a phone the navigation is folded behind its menu: go by address.
    browser.goto(&site.server.url("/vip")).await;
    browser.element("vip-record-plate").await;
    assert_fits_width(&browser, "the VIP list").await;

    browser.click("vip-record-plate").await;
    browser.element("vip-recharge-pay-partner").await;
    assert_fits_width(&browser, "a VIP record").await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cards.csv");
    let mut bytes = cards('E', 2);
    bytes.extend_from_slice("粤Z1,蓝,MON_A,周卡,2026-01-01,2026-01-31,300\n".as_bytes());
    std::fs::write(&file, bytes).unwrap();
    browser
        .goto(
            &site
                .server
                .url(&format!("/vip/import?park={}", site.park_a)),
        )
        .await;
    browser
        .element("vip-import-file")
        .await
        .send_keys(&file.to_string_lossy())
        .await
        .unwrap();
    browser.click("vip-import-preview").await;
    browser.element("vip-import-errors").await;
    browser.element("vip-import-rows").await;
    assert_fits_width(&browser, "the VIP import preview").await;
    browser.close().await;
}
