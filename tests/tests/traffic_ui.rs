//! The traffic dashboard and the sessions page in headless Chromium against the real binary:
//! two Shanghai days of entries and exits fed through the gate API, the dashboard opened by
//! mall staff shows exactly those counts in its totals, bars and occupancy line, and picks up a
//! new entry by itself; spaces set in the car park form show as free spaces and occupancy,
//! beside discounts by source, photographed on a laptop and a phone.

use chrono::Timelike;
use e2e::browser::Browser;
use e2e::coupon_site::{bearer_client, send};
use e2e::page_checks::{
    DESKTOP, PHONE, assert_date_shown, assert_fits_width, screenshot, set_viewport,
};
use e2e::server::Backend;
use e2e::traffic_site::{
    DiscountRow, Expected, PERSON_PASSWORD, add_person, at, feed, first_day, insert_discounts,
    mallcoo_client, pay, two_days,
};
use e2e::vip_site::{PARK_A, PASSWORD, VipSite};
use protocol::mallcoo::{PayChannel, PayType, TrafficRequest};
use reqwest::Method;
use serde_json::json;

/// Waits until `test_id`'s attribute `name` reads `want`.
async fn wait_attr(browser: &Browser, test_id: &str, name: &str, want: &str) {
    for _ in 0..200 {
        if browser.attr_of(test_id, name).await.as_deref() == Some(want) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{test_id} {name}: want {want}, shows {:?}",
        browser.attr_of(test_id, name).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mall_staff_see_the_fed_traffic_per_hour_and_the_dashboard_refreshes_itself() {
    let site = VipSite::start(Backend::Sqlite).await;
    let gate = bearer_client(&site.server.api_key("gate", "gate", None));
    let visits = two_days();
    feed(&site.server, &gate, PARK_A, &visits).await;
    let expected = Expected::of(&visits);
    // Mallcoo's GetTraffic over [from 00:00, to + 1 day 00:00) Shanghai counts what the
    // dashboard must show.
    let mallcoo = mallcoo_client(&site, site.park_a, "mc-dashboard-a").await;
    let counted = mallcoo
        .traffic(&TrafficRequest {
            park_id: None,
            start_time: expected.start,
            end_time: expected.start + chrono::TimeDelta::days(2),
        })
        .await
        .expect("GetTraffic answered");
    let counts = counted
        .answer
        .and_then(|a| a.counts)
        .unwrap_or_else(|| panic!("GetTraffic: {}", counted.body));
    assert_eq!(
        (counts.in_num, counts.out_num),
        (expected.total_in as u64, expected.total_out as u64)
    );
    add_person(&site, "floor", "mall_staff", &[site.park_a, site.park_b]).await;

    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "floor", PERSON_PASSWORD)
        .await;
    browser.click("nav-traffic").await;
    browser.element("traffic-park").await;
    let (from, to) = Expected::days();
    browser
        .goto(&site.server.url(&format!(
            "/traffic?park={}&from={from}&to={to}",
            site.park_a
        )))
        .await;
    let total_in = expected.total_in.to_string();
    browser
        .wait_for_text("traffic-in-total", |t| t == total_in)
        .await;
    assert_eq!(
        browser.text_of("traffic-out-total").await,
        expected.total_out.to_string()
    );
    assert_eq!(
        browser.text_of("traffic-inside-now").await,
        expected.inside_now.to_string()
    );
    for i in 0..48 {
        for (kind, counts) in [("in", &expected.entries), ("out", &expected.exits)] {
            let id = format!("bar-{kind}-{i}");
            assert_eq!(
                browser.attr_of(&id, "data-count").await,
                Some(counts[i].to_string()),
                "{id}"
            );
        }
    }
    assert_eq!(
        browser.attr_of("bar-in-8", "data-hour").await,
        Some(format!("{from} 08"))
    );
    let occupancy: Vec<String> = expected.occupancy.iter().map(i64::to_string).collect();
    assert_eq!(
        browser.attr_of("occupancy-line", "data-values").await,
        Some(occupancy.join(","))
    );
    browser.element("payments-empty").await;
    // A car arriving late on the second day appears without any reload.
    let late = at(first_day() + chrono::Days::new(1), 23, 40);
    let (status, body) = send(
        &gate,
        Method::POST,
        &site.server.url("/api/v1/gate/entries"),
        Some(json!({"park": PARK_A, "plate": "沪A99999", "time": late.to_rfc3339()})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let more = (expected.total_in + 1).to_string();
    browser
        .wait_for_text("traffic-in-total", |t| t == more)
        .await;
    wait_attr(
        &browser,
        "bar-in-47",
        "data-count",
        &(expected.entries[47] + 1).to_string(),
    )
    .await;
    assert_eq!(
        browser.text_of("traffic-inside-now").await,
        (expected.inside_now + 1).to_string()
    );

    // Today's page: no payment yet; a car pays through Mallcoo and its channel's row appears
    // at the next refresh.
    let today = protocol::time::to_shanghai(chrono::Utc::now())
        .date_naive()
        .to_string();
    browser
        .goto(&site.server.url(&format!(
            "/traffic?park={}&from={today}&to={today}",
            site.park_a
        )))
        .await;
    browser.element("payments-empty").await;
    let (amount, _) = pay(
        &mallcoo,
        "沪A10011",
        "w1",
        0,
        (PayChannel::Online, PayType::WeChat),
    )
    .await;
    browser.element("payment-0-3").await;
    assert_eq!(
        browser
            .attr_of("payment-amount", "data-fen")
            .await
            .as_deref(),
        Some(amount.to_string().as_str())
    );
    assert_eq!(browser.text_of("payment-count").await, "1");

    // The other car park saw nothing.
    browser
        .select("traffic-park", &site.park_b.to_string())
        .await;
    browser
        .wait_for_text("traffic-in-total", |t| t == "0")
        .await;

    // The sessions page finds a plate's stays, newest first.
    browser.click("nav-sessions").await;
    browser
        .select("sessions-park", &site.park_a.to_string())
        .await;
    browser.type_into("sessions-plate", "沪a10015").await;
    browser.click("sessions-apply").await;
    for _ in 0..200 {
        if browser.count("tr[data-testid^='session-']").await == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let states: Vec<String> = {
        let mut s = Vec::new();
        for id in browser.test_ids_with_prefix("session-").await {
            if id
                .chars()
                .skip("session-".len())
                .all(|c| c.is_ascii_digit())
            {
                s.push(browser.attr_of(&id, "data-state").await.unwrap_or_default());
            }
        }
        s
    };
    assert_eq!(states, ["open", "no_exit_seen"]);
    browser.close().await;
}

/// The Shanghai hour now, 0–23.
fn shanghai_hour() -> usize {
    protocol::time::to_shanghai(chrono::Utc::now()).hour() as usize
}

/// The occupancy chart as drawn: the plot's left and right edge (its grid lines) and the x of
/// every point of the line.
async fn occupancy_geometry(browser: &Browser) -> (f64, f64, Vec<f64>) {
    let v = browser
        .client
        .execute(
            "const svg = document.querySelector(\"[data-testid='occupancy-chart']\"); \
             const grid = svg.querySelector('line.grid'); \
             const line = svg.querySelector(\"[data-testid='occupancy-line']\"); \
             return [grid.getAttribute('x1'), grid.getAttribute('x2'), line.getAttribute('points')];",
            vec![],
        )
        .await
        .expect("read the occupancy chart");
    let num = |i: usize| v[i].as_str().and_then(|s| s.parse::<f64>().ok()).unwrap();
    let xs = v[2]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .map(|p| p.split(',').next().unwrap().parse::<f64>().unwrap())
        .collect();
    (num(0), num(1), xs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todays_charts_stop_at_the_present_hour_and_a_past_day_runs_its_whole_length() {
    let site = VipSite::start(Backend::Sqlite).await;
    let gate = bearer_client(&site.server.api_key("gate", "gate", None));
    // A car that came in a minute ago: today has something to draw.
    let (status, body) = send(
        &gate,
        Method::POST,
        &site.server.url("/api/v1/gate/entries"),
        Some(json!({"park": PARK_A, "plate": "沪A20001",
            "time": (chrono::Utc::now() - chrono::TimeDelta::minutes(1)).to_rfc3339()})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    add_person(&site, "floor", "mall_staff", &[site.park_a]).await;
    let browser = Browser::start().await;
    browser
        .sign_in(&site.server.base_url, "floor", PERSON_PASSWORD)
        .await;
    let today = protocol::time::to_shanghai(chrono::Utc::now()).date_naive();
    let open = |day: chrono::NaiveDate| {
        site.server.url(&format!(
            "/traffic?park={}&from={day}&to={day}",
            site.park_a
        ))
    };

    // Today: bars and line end with the hour under way. Read twice if an hour turned meanwhile.
    let mut checked = false;
    for _ in 0..2 {
        let hour = shanghai_hour();
        browser.goto(&open(today)).await;
        browser.element("occupancy-line").await;
        let (left, right, xs) = occupancy_geometry(&browser).await;
        let bars_in = browser.count("[data-testid^='bar-in-']").await;
        let bars_out = browser.count("[data-testid^='bar-out-']").await;
        let values = browser
            .attr_of("occupancy-line", "data-values")
            .await
            .unwrap_or_default();
        if shanghai_hour() != hour {
            continue;
        }
        let slot = (right - left) / 24.0;
        let hour_start = left + slot * hour as f64;
        let hour_end = hour_start + slot;
        assert_eq!(xs.len(), hour + 1, "one point per hour begun: {xs:?}");
        assert!(
            xs.iter().all(|x| *x <= hour_end + 0.05),
            "no point after the present hour (ends at x={hour_end}): {xs:?}"
        );
        let last = xs.last().copied().unwrap_or_default();
        assert!(
            last >= hour_start - 0.05,
            "the line reaches the present hour (x≥{hour_start}): {xs:?}"
        );
        assert_eq!(
            (bars_in, bars_out),
            (hour + 1, hour + 1),
            "no bars, not even empty ones, for hours to come"
        );
        assert!(!browser.exists(&format!("bar-in-{}", hour + 1)).await);
        assert_eq!(values.split(',').count(), hour + 1, "{values}");
        assert!(values.ends_with('1'), "the car inside now: {values}");
        checked = true;
        break;
    }
    assert!(checked, "the hour kept turning");
    // The day picker shows the day as `YYYY-MM-DD`, not in the browser's locale.
    assert_date_shown(&browser, "traffic-from", &today.to_string()).await;
    assert_date_shown(&browser, "traffic-to", &today.to_string()).await;

    // A past day: every hour, the line to the right edge.
    browser.goto(&open(today - chrono::Days::new(1))).await;
    browser.element("occupancy-line").await;
    let (_, right, xs) = occupancy_geometry(&browser).await;
    assert_eq!(xs.len(), 24, "{xs:?}");
    assert!((xs[23] - right).abs() < 0.05, "{xs:?} ends at {right}");
    assert_eq!(browser.count("[data-testid^='bar-in-']").await, 24);
    assert_eq!(browser.count("[data-testid^='bar-out-']").await, 24);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_dashboard_and_the_sessions_list_fit_the_screen() {
    let site = VipSite::start(Backend::Sqlite).await;
    let gate = bearer_client(&site.server.api_key("gate", "gate", None));
    feed(&site.server, &gate, PARK_A, &two_days()).await;
    add_person(&site, "floor", "mall_staff", &[site.park_a]).await;
    let browser = Browser::start().await;
    set_viewport(&browser, PHONE.0, PHONE.1).await;
    browser
        .sign_in(&site.server.base_url, "floor", PERSON_PASSWORD)
        .await;
    let (from, to) = Expected::days();
    browser
        .goto(&site.server.url(&format!(
            "/traffic?park={}&from={from}&to={to}",
            site.park_a
        )))
        .await;
    browser.element("bar-in-47").await;
    assert_fits_width(&browser, "the traffic dashboard").await;

    // On a phone the navigation is folded behind its menu: go by address.
    browser
        .goto(&site.server.url(&format!("/sessions?park={}", site.park_a)))
        .await;
    browser.element("session-plate").await;
    assert_fits_width(&browser, "the sessions list").await;
    browser.close().await;
}

/// Every row of the discounts table: its test id, its cells' text, the worth in fen.
async fn discount_rows(browser: &Browser) -> Vec<(String, String, String)> {
    let v = browser
        .client
        .execute(
            "return [...document.querySelectorAll(\"tr[data-testid^='discount-']\")].map(r => [ \
               r.dataset.testid, \
               [...r.querySelectorAll('td')].map(c => c.innerText.trim()).join('|'), \
               r.querySelector(\"[data-testid='discount-worth']\").dataset.fen]);",
            vec![],
        )
        .await
        .expect("read the discounts table");
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().unwrap_or_default().to_owned();
            (s(0), s(1), s(2))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spaces_set_in_the_car_park_form_show_as_free_spaces_beside_discounts_by_source() {
    let site = VipSite::start(Backend::Sqlite).await;
    let gate = bearer_client(&site.server.api_key("gate", "gate", None));
    feed(&site.server, &gate, PARK_A, &two_days()).await;
    let (status, page) = send(
        &site.staff,
        Method::GET,
        &site
            .server
            .url(&format!("/api/v1/parks/{}/sessions", site.park_a)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let stay = page["sessions"][0]["id"].as_i64().expect("a stay");
    let day1 = first_day();
    let row = |source, state, hour, worth_fen| DiscountRow {
        park_id: site.park_a,
        session_id: Some(stay),
        source,
        state,
        granted_at: at(day1, hour, 0),
        worth_fen,
    };
    insert_discounts(
        &site.server,
        &[
            row("api", "used", 9, Some(500)),
            row("api", "used", 10, Some(1250)),
            row("api", "revoked", 11, Some(700)),
            row("waiver", "used", 12, Some(300)),
            row("shop", "active", 13, None),
        ],
    )
    .await;

    let browser = Browser::start().await;
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;
    browser
        .sign_in(&site.server.base_url, "root", PASSWORD)
        .await;
    // The admin's car park form: a new car park with spaces, a bad value refused in the page,
    // then the spaces of the fed car park set.
    browser.goto(&site.server.url("/parks")).await;
    browser.type_into("park-code", "spaces-ui").await;
    browser.type_into("park-name", "丙广场").await;
    browser.type_into("park-total-spaces", "120").await;
    browser.click("park-create").await;
    browser
        .wait_for_text("park-spaces-spaces-ui", |t| t == "120")
        .await;
    assert_eq!(browser.text_of("park-spaces-vip-a").await, "未配置");
    browser.click("edit-spaces-vip-a").await;
    browser.type_into("spaces-input", "-3").await;
    browser.click("spaces-save").await;
    let err = browser.text_of("spaces-error").await;
    assert!(err.contains("0–100000"), "{err}");
    browser.type_into("spaces-input", "8").await;
    browser.click("spaces-save").await;
    browser
        .wait_for_text("park-spaces-vip-a", |t| t == "8")
        .await;
    browser.wait_gone("spaces-editor").await;
    // Saved through the API, every other field kept.
    let (_, park) = send(
        &site.admin,
        Method::GET,
        &site.server.url(&format!("/api/v1/parks/{}", site.park_a)),
        None,
    )
    .await;
    assert_eq!(
        (&park["total_spaces"], &park["name"]),
        (&json!(8), &json!("甲广场")),
        "{park}"
    );

    // The dashboard: 3 cars inside 8 spaces, and the discounts of the first day by source.
    let (from, to) = Expected::days();
    let dashboard = site.server.url(&format!(
        "/traffic?park={}&from={from}&to={to}",
        site.park_a
    ));
    browser.goto(&dashboard).await;
    browser
        .wait_for_text("traffic-free-now", |t| t == "5")
        .await;
    assert_eq!(browser.text_of("traffic-occupancy-now").await, "38%");
    assert_eq!(browser.text_of("traffic-total-spaces").await, "共 8 个车位");
    assert_eq!(browser.text_of("traffic-inside-now").await, "3");
    let want = [
        ("discount-api", "接口减免|2|¥17.50", "1750"),
        ("discount-waiver", "人工减免|1|¥3.00", "300"),
        ("discount-pyun", "P云停车券|0|¥0.00", "0"),
        ("discount-shop", "商户减免|1|¥0.00", "0"),
    ];
    let rows = discount_rows(&browser).await;
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(got, want);
    assert_fits_width(&browser, "the dashboard on a laptop").await;
    screenshot(&browser, DESKTOP, "traffic-spaces-desktop").await;

    // On a phone: the same figures, stacked, nothing sticking out.
    set_viewport(&browser, PHONE.0, PHONE.1).await;
    browser.goto(&dashboard).await;
    browser
        .wait_for_text("traffic-free-now", |t| t == "5")
        .await;
    browser.element("discount-shop").await;
    assert_fits_width(&browser, "the dashboard on a phone").await;
    screenshot(&browser, PHONE, "traffic-spaces-phone").await;

    // A car park without spaces shows only the cars inside.
    browser
        .select("traffic-park", &site.park_b.to_string())
        .await;
    browser
        .wait_for_text("traffic-in-total", |t| t == "0")
        .await;
    assert!(!browser.exists("traffic-free-now").await);
    assert!(!browser.exists("traffic-occupancy-now").await);
    browser.close().await;
}
