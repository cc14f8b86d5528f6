//! The mall's read APIs end to end on SQLite and PostgreSQL: traffic of a car park over two
//! Shanghai days fed through the real gate API (entries, exits and occupancy per hour, totals,
//! cars inside now, free spaces and occupancy, payments by channel, discounts by source), the
//! sessions list (search, state, keyset paging), who may read them, and bad ranges refused with
//! 400.

use e2e::coupon_site::{bearer_client, send};
use e2e::server::Backend;
use e2e::traffic_site::{
    DiscountRow, Expected, at, feed, first_day, insert_discounts, mallcoo_client, pay,
    set_total_spaces, two_days,
};
use e2e::vip_site::{PARK_A, VipSite};
use protocol::mallcoo::{PayChannel, PayType};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

e2e::on_both_engines! {
    traffic_counts_every_hour_exactly_as_fed_through_the_gates => traffic;
    sessions_are_listed_newest_first_with_search_state_and_paging => sessions;
    only_the_car_parks_people_read_it_and_bad_ranges_are_400 => access_and_ranges;
    payments_are_summed_by_channel_and_type_and_per_session => payments;
    free_spaces_occupancy_and_discounts_by_source_are_read_with_the_traffic => spaces_and_discounts;
}

async fn get(site: &VipSite, client: &Client, path: &str) -> (StatusCode, Value) {
    send(client, Method::GET, &site.server.url(path), None).await
}

/// A site whose first car park holds the two days of `two_days()`.
async fn fed_site(backend: Backend) -> VipSite {
    let site = VipSite::start(backend).await;
    let gate = bearer_client(&site.server.api_key("gate", "gate", None));
    feed(&site.server, &gate, PARK_A, &two_days()).await;
    site
}

fn column(hours: &Value, field: &str) -> Vec<i64> {
    hours
        .as_array()
        .expect("hours")
        .iter()
        .map(|h| h[field].as_i64().expect("count"))
        .collect()
}

async fn traffic(backend: Backend) {
    let site = fed_site(backend).await;
    let expected = Expected::of(&two_days());
    let (from, to) = Expected::days();
    let (status, t) = get(
        &site,
        &site.staff,
        &format!("/api/v1/parks/{}/traffic?from={from}&to={to}", site.park_a),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["from"], from.as_str());
    assert_eq!(t["to"], to.as_str());
    let start = expected
        .start
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(t["start"], start.as_str());
    let hours = &t["hours"];
    assert_eq!(hours.as_array().unwrap().len(), 48);
    assert_eq!(hours[0]["label"], format!("{from} 00"));
    assert_eq!(hours[47]["label"], format!("{to} 23"));
    assert_eq!(column(hours, "entries"), expected.entries);
    assert_eq!(column(hours, "exits"), expected.exits);
    assert_eq!(column(hours, "occupancy"), expected.occupancy);
    // Spot checks against the visits as written, so a slip in `Expected` cannot hide one here:
    // 08:00–09:00 of the first day saw 3 entries and 2 exits (the night's car and a short stay).
    assert_eq!((expected.entries[8], expected.exits[8]), (3, 2));
    assert_eq!(t["totals"]["entries"], expected.total_in);
    assert_eq!(t["totals"]["exits"], expected.total_out);
    assert_eq!((expected.total_in, expected.total_out), (15, 11));
    assert_eq!(t["inside_now"], expected.inside_now);
    assert_eq!(expected.inside_now, 3);
    // Inside at the end of the range: the two open cars, the one leaving the next morning,
    // and the returning car whose first exit was missed — once.
    assert_eq!(expected.occupancy[47], 4);
    // No payments were made (`payments` below pays through Mallcoo).
    assert_eq!(t["payments_by_channel"], json!([]));

    // One day alone: the same counts for its 24 hours.
    let (status, one) = get(
        &site,
        &site.manager,
        &format!("/api/v1/parks/{}/traffic?from={to}", site.park_a),
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["to"], to.as_str());
    assert_eq!(column(&one["hours"], "entries"), expected.entries[24..]);
    assert_eq!(column(&one["hours"], "occupancy"), expected.occupancy[24..]);

    // The other car park saw nothing.
    let (status, other) = get(
        &site,
        &site.admin,
        &format!("/api/v1/parks/{}/traffic?from={from}&to={to}", site.park_b),
    )
    .await;
    assert_eq!(status, 200, "{other}");
    assert_eq!(other["totals"], json!({"entries": 0, "exits": 0}));
    assert_eq!(other["inside_now"], 0);
}

async fn sessions(backend: Backend) {
    let site = fed_site(backend).await;
    let path = |q: &str| format!("/api/v1/parks/{}/sessions?{q}", site.park_a);
    let (status, all) = get(&site, &site.staff, &path("limit=200")).await;
    assert_eq!(status, 200, "{all}");
    let rows = all["sessions"].as_array().unwrap();
    assert_eq!(rows.len(), two_days().len());
    assert!(all.get("next_before").is_none(), "{all}");
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest first");

    // A closed stay shows both ends, its fee and what was paid (nothing yet).
    let closed = rows.iter().find(|r| r["plate"] == "沪A10002").unwrap();
    assert_eq!(closed["state"], "closed");
    let entry = at(first_day(), 8, 0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(closed["entry_at"], entry.as_str());
    // 90 min on the default tariff (§5 example): first hour 1000 + one started half hour 300.
    assert_eq!(closed["fee_due_fen"], 1300);
    assert_eq!(closed["paid_fen"], 0);
    let open = rows.iter().find(|r| r["plate"] == "沪A10011").unwrap();
    assert_eq!(open["state"], "open");
    assert!(open.get("exit_at").is_none() && open.get("fee_due_fen").is_none());

    // Keyset pages of 4 cover every session once, in order.
    let mut paged = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let q = match before {
            Some(b) => format!("limit=4&before={b}"),
            None => "limit=4".to_owned(),
        };
        let (status, page) = get(&site, &site.staff, &path(&q)).await;
        assert_eq!(status, 200, "{page}");
        let rows = page["sessions"].as_array().unwrap();
        assert!(rows.len() <= 4);
        paged.extend(rows.iter().map(|r| r["id"].as_i64().unwrap()));
        match page["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(paged, ids);

    // Search: a whole plate typed loosely matches exactly; a beginning matches by prefix.
    let (_, exact) = get(&site, &site.staff, &path("plate=%E6%B2%AAa%2010015")).await;
    let states: Vec<&str> = exact["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["open", "no_exit_seen"], "{exact}");
    let (_, prefix) = get(&site, &site.staff, &path("plate=%E6%B2%AAA1000")).await;
    assert_eq!(prefix["sessions"].as_array().unwrap().len(), 9, "{prefix}");
    let (_, none) = get(&site, &site.staff, &path("plate=%E7%B2%A4B")).await;
    assert_eq!(none["sessions"], json!([]));

    // State filter.
    let (_, open) = get(&site, &site.staff, &path("state=open")).await;
    assert_eq!(open["sessions"].as_array().unwrap().len(), 3, "{open}");
    let (_, lost) = get(&site, &site.staff, &path("state=no_exit_seen")).await;
    assert_eq!(lost["sessions"].as_array().unwrap().len(), 1, "{lost}");

    // Mistakes are 400s with our envelope.
    for q in ["state=gone", "limit=0", "limit=201", "before=x", "page=2"] {
        let (status, body) = get(&site, &site.staff, &path(q)).await;
        assert_eq!(status, 400, "{q}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{q}: {body}");
    }
}

async fn access_and_ranges(backend: Backend) {
    let site = VipSite::start(backend).await;
    site.server
        .add_user("elsewhere", "mall_staff", "elsewhere-password-1");
    let outsider = site
        .server
        .signed_in("elsewhere", "elsewhere-password-1")
        .await;
    let anonymous = Client::new();
    let traffic = format!("/api/v1/parks/{}/traffic", site.park_a);
    let list = format!("/api/v1/parks/{}/sessions", site.park_a);
    for path in [&traffic, &list] {
        for (who, client) in [
            ("admin", &site.admin),
            ("manager", &site.manager),
            ("staff", &site.staff),
        ] {
            let (status, body) = get(&site, client, path).await;
            assert_eq!(status, 200, "{who} {path}: {body}");
        }
        // Staff of other car parks learn nothing about this one.
        assert_eq!(get(&site, &outsider, path).await.0, 404, "{path}");
        assert_eq!(get(&site, &anonymous, path).await.0, 401, "{path}");
    }
    assert_eq!(
        get(&site, &site.admin, "/api/v1/parks/999999/traffic")
            .await
            .0,
        404
    );
    // Today by default.
    let (_, today) = get(&site, &site.staff, &traffic).await;
    assert_eq!(today["from"], today["to"]);
    assert_eq!(today["hours"].as_array().unwrap().len(), 24);

    for (q, code) in [
        ("from=2026-13-01", "invalid_range"),
        ("from=2026-11-20&to=20261121", "invalid_range"),
        ("from=2026-11-21&to=2026-11-20", "invalid_range"),
        ("from=2026-10-01&to=2026-11-01", "invalid_range"),
        ("from=2026-11-20&days=2", "invalid_query"),
    ] {
        let (status, body) = get(&site, &site.staff, &format!("{traffic}?{q}")).await;
        // An unknown parameter is a malformed query (400); days that make no range are 422.
        let want = if code == "invalid_range" { 422 } else { 400 };
        assert_eq!(status, want, "{q}: {body}");
        assert_eq!(body["error"]["code"], code, "{q}: {body}");
    }
    // 31 days is the most.
    let (status, long) = get(
        &site,
        &site.staff,
        &format!("{traffic}?from=2026-10-01&to=2026-10-31"),
    )
    .await;
    assert_eq!(status, 200, "{long}");
    assert_eq!(long["hours"].as_array().unwrap().len(), 31 * 24);
}

async fn payments(backend: Backend) {
    let site = fed_site(backend).await;
    let park = site.park_a;
    let mallcoo = mallcoo_client(&site, park, "mc-traffic-a").await;
    // The three cars still inside pay today through Mallcoo: two by WeChat (one with 300 fen
    // of benefits), one by Alipay.
    let wechat = (PayChannel::Online, PayType::WeChat);
    let a = pay(&mallcoo, "沪A10011", "o1", 300, wechat).await;
    let b = pay(&mallcoo, "沪A10014", "o2", 0, wechat).await;
    let c = pay(
        &mallcoo,
        "沪A10015",
        "o3",
        0,
        (PayChannel::Online, PayType::Alipay),
    )
    .await;
    assert_eq!(a.1, 300, "the benefit is deducted");

    let today = protocol::time::to_shanghai(chrono::Utc::now())
        .date_naive()
        .to_string();
    let (status, t) = get(
        &site,
        &site.manager,
        &format!("/api/v1/parks/{park}/traffic?from={today}"),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        t["payments_by_channel"],
        json!([
            {"channel": "mallcoo", "pay_channel": 0, "pay_type": 1, "count": 1, "amount_fen": c.0, "deduction_fen": 0},
            {"channel": "mallcoo", "pay_channel": 0, "pay_type": 3, "count": 2, "amount_fen": a.0 + b.0, "deduction_fen": 300},
        ])
    );
    // The two days of the fed traffic saw none of them.
    let (from, to) = Expected::days();
    let (_, past) = get(
        &site,
        &site.manager,
        &format!("/api/v1/parks/{park}/traffic?from={from}&to={to}"),
    )
    .await;
    assert_eq!(past["payments_by_channel"], json!([]));
    // A session's paid sum counts the amount and the deduction.
    let (_, page) = get(
        &site,
        &site.staff,
        &format!("/api/v1/parks/{park}/sessions?plate=%E6%B2%AAA10011"),
    )
    .await;
    assert_eq!(page["sessions"][0]["paid_fen"], a.0 + a.1);
}

async fn spaces_and_discounts(backend: Backend) {
    let site = fed_site(backend).await;
    let (park, other) = (site.park_a, site.park_b);
    let (from, to) = Expected::days();
    let two_days_of = |id: i64| format!("/api/v1/parks/{id}/traffic?from={from}&to={to}");

    // Without spaces configured, only the cars inside are known.
    let (status, t) = get(&site, &site.staff, &two_days_of(park)).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["inside_now"], 3);
    for field in ["total_spaces", "free_now", "occupancy_percent"] {
        assert_eq!(t[field], Value::Null, "{field}: {t}");
    }
    // 3 cars in 8 spaces: 5 free, 37.5% shown as 38.
    set_total_spaces(&site, park, Some(8)).await;
    let (_, t) = get(&site, &site.staff, &two_days_of(park)).await;
    assert_eq!(
        (&t["total_spaces"], &t["free_now"], &t["occupancy_percent"]),
        (&json!(8), &json!(5), &json!(38)),
        "{t}"
    );
    // Fewer spaces than cars: nothing free, over 100%.
    set_total_spaces(&site, park, Some(2)).await;
    let (_, t) = get(&site, &site.staff, &two_days_of(park)).await;
    assert_eq!(
        (&t["free_now"], &t["occupancy_percent"]),
        (&json!(0), &json!(150)),
        "{t}"
    );
    // No spaces at all: nothing free, and no share of nothing.
    set_total_spaces(&site, park, Some(0)).await;
    let (_, t) = get(&site, &site.staff, &two_days_of(park)).await;
    assert_eq!(
        (&t["free_now"], &t["occupancy_percent"]),
        (&json!(0), &Value::Null),
        "{t}"
    );

    // Discounts on the fed stays, granted on either day, outside the range, or elsewhere.
    let (_, page) = get(
        &site,
        &site.staff,
        &format!("/api/v1/parks/{park}/sessions?limit=200"),
    )
    .await;
    let stay = page["sessions"][0]["id"].as_i64().expect("a stay");
    let day1 = first_day();
    let day2 = day1 + chrono::Days::new(1);
    let row = |park_id, source, state, granted_at, worth_fen| DiscountRow {
        park_id,
        session_id: Some(stay),
        source,
        state,
        granted_at,
        worth_fen,
    };
    insert_discounts(
        &site.server,
        &[
            row(park, "api", "used", at(day1, 0, 0), Some(500)),
            row(park, "api", "used", at(day2, 23, 59), Some(300)),
            row(park, "api", "active", at(day1, 12, 0), None),
            // Revoked: neither counted nor summed, whatever it says it was worth.
            row(park, "api", "revoked", at(day1, 12, 30), Some(700)),
            row(park, "waiver", "used", at(day1, 9, 15), Some(1200)),
            row(park, "shop", "active", at(day2, 18, 0), None),
            // The day before and the day after the range.
            row(
                park,
                "api",
                "used",
                at(day1, 0, 0) - chrono::TimeDelta::milliseconds(1),
                Some(999),
            ),
            row(
                park,
                "pyun",
                "used",
                at(day2 + chrono::Days::new(1), 0, 0),
                Some(999),
            ),
            // Another car park's (a plate's free window: no stay).
            DiscountRow {
                park_id: other,
                session_id: None,
                source: "pyun",
                state: "used",
                granted_at: at(day1, 10, 0),
                worth_fen: Some(999),
            },
        ],
    )
    .await;
    let (_, t) = get(&site, &site.manager, &two_days_of(park)).await;
    assert_eq!(
        t["discounts_by_source"],
        json!([
            {"source": "api", "granted": 3, "used_worth_fen": 800},
            {"source": "waiver", "granted": 1, "used_worth_fen": 1200},
            {"source": "pyun", "granted": 0, "used_worth_fen": 0},
            {"source": "shop", "granted": 1, "used_worth_fen": 0},
        ]),
        "{t}"
    );
    let (_, second) = get(
        &site,
        &site.staff,
        &format!("/api/v1/parks/{park}/traffic?from={to}"),
    )
    .await;
    assert_eq!(
        second["discounts_by_source"],
        json!([
            {"source": "api", "granted": 1, "used_worth_fen": 300},
            {"source": "waiver", "granted": 0, "used_worth_fen": 0},
            {"source": "pyun", "granted": 0, "used_worth_fen": 0},
            {"source": "shop", "granted": 1, "used_worth_fen": 0},
        ]),
        "{second}"
    );
    let (_, elsewhere) = get(&site, &site.admin, &two_days_of(other)).await;
    assert_eq!(
        elsewhere["discounts_by_source"][2],
        json!({"source": "pyun", "granted": 1, "used_worth_fen": 999})
    );

    // The document describes the new fields.
    let (_, doc) = get(&site, &Client::new(), "/api/openapi.json").await;
    let fields = &doc["components"]["schemas"]["Traffic"]["properties"];
    for field in [
        "total_spaces",
        "free_now",
        "occupancy_percent",
        "discounts_by_source",
    ] {
        assert!(fields[field].is_object(), "{field} undocumented: {fields}");
    }
}
