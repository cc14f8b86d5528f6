//! Gate events end to end (issue 7, first slice): the real binary over loopback on SQLite and
//! PostgreSQL — entries and exits with the fee of the car park's tariff, VIP plates, re-entries,
//! exits without entry, plate-less cars by barcode, validation, access and a race of entries.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use e2e::coupon_site::{bearer_client, send};
use e2e::server::Backend;
use e2e::vip_site::{PARK_A, PARK_B, VipSite};
use protocol::quote::{Session, quote};
use protocol::tariff::Tariff;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

e2e::on_both_engines! {
    an_exit_closes_the_session_with_the_tariff_fee_and_a_vip_owes_nothing => fees;
    re_entries_anomalies_and_barcodes_are_recorded => sessions;
    bad_events_and_other_keys_are_refused => validation;
    concurrent_entries_of_one_plate_leave_one_open_session => entry_race;
}

fn tariff_json() -> Value {
    json!({
        "free_minutes": 30,
        "grace_minutes": 20,
        "cycle_cap": 6000,
        "pricing": {"kind": "simple", "first_minutes": 60, "first_price": 800, "unit_minutes": 30, "unit_price": 200}
    })
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn post(site: &VipSite, key: &Client, path: &str, body: Value) -> (StatusCode, Value) {
    send(key, Method::POST, &site.server.url(path), Some(body)).await
}

async fn enter(site: &VipSite, key: &Client, body: Value) -> Value {
    let (status, answer) = post(site, key, "/api/v1/gate/entries", body).await;
    assert_eq!(status, 201, "{answer}");
    answer
}

async fn exit(site: &VipSite, key: &Client, body: Value) -> Value {
    let (status, answer) = post(site, key, "/api/v1/gate/exits", body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// One count read straight from the server's database.
async fn count(site: &VipSite, sql: &'static str) -> i64 {
    let db = parkbridge::storage::Db::connect(&site.server.database_url())
        .await
        .unwrap();
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

fn gate_key(site: &VipSite) -> Client {
    bearer_client(&site.server.api_key("gate all", "gate", None))
}

async fn fees(backend: Backend) {
    let site = VipSite::start(backend).await;
    let (status, body) = site
        .manager_send(
            Method::PUT,
            &format!("/api/v1/parks/{}/tariff", site.park_a),
            Some(tariff_json()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let key = gate_key(&site);

    // 2 h 10 min: first hour 800, then three started half hours of 200.
    let entry_at: DateTime<Utc> = "2026-11-20T02:00:00Z".parse().unwrap();
    let exit_at = entry_at + Duration::minutes(130);
    let tariff: Tariff = serde_json::from_value(tariff_json()).unwrap();
    let expected = quote(
        &Session {
            entry: entry_at,
            tariff: &tariff,
        },
        &[],
        None,
        exit_at,
        0,
        0,
    )
    .unwrap()
    .unpaid;
    assert_eq!(expected, 1400);

    let entered = enter(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤b12345", "plate_color": 1, "time": rfc(entry_at), "gate": "东门入口"}),
    )
    .await;
    let s = &entered["session"];
    assert_eq!(s["plate"], "粤B12345");
    assert_eq!(s["state"], "open");
    assert_eq!(s["entry_at"], "2026-11-20T02:00:00Z");
    assert_eq!(s["entry_gate"], "东门入口");
    assert!(entered.get("closed_previous").is_none(), "{entered}");

    let exited = exit(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤B 12345", "time": rfc(exit_at), "gate": "东门出口"}),
    )
    .await;
    assert_eq!(exited["anomaly"], false, "{exited}");
    let s = &exited["session"];
    assert_eq!(s["id"], entered["session"]["id"]);
    assert_eq!(s["state"], "closed");
    assert_eq!(s["exit_at"], "2026-11-20T04:10:00Z");
    assert_eq!(s["exit_gate"], "东门出口");
    assert_eq!(s["fee_due_fen"], expected);
    assert_eq!(s["vip"], false);

    // Within the free minutes: nothing due.
    enter(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤B12345", "time": "2026-11-21T02:00:00Z"}),
    )
    .await;
    let exited = exit(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤B12345", "time": "2026-11-21T02:25:00Z"}),
    )
    .await;
    assert_eq!(exited["session"]["fee_due_fen"], 0, "{exited}");

    // A monthly card valid since yesterday: the same long stay owes nothing.
    let now = Utc::now();
    let (status, rec) = site
        .add_record(
            site.park_a,
            json!({
                "plate": "粤C77777", "charge_type": "MON_A", "vip_type": 1,
                "recharge": {"quantity": 1, "pay_type": 1, "pay_value_fen": 30000,
                    "pay_time": rfc(now - Duration::days(1))}
            }),
        )
        .await;
    assert_eq!(status, 201, "{rec}");
    enter(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤C77777", "time": rfc(now - Duration::hours(3))}),
    )
    .await;
    let exited = exit(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤C77777", "time": rfc(now - Duration::minutes(1))}),
    )
    .await;
    assert_eq!(exited["session"]["fee_due_fen"], 0, "{exited}");
    assert_eq!(exited["session"]["vip"], true, "{exited}");
    // The same plate at the other car park has no card there: it pays the example tariff.
    enter(
        &site,
        &key,
        json!({"park": PARK_B, "plate": "粤C77777", "time": rfc(now - Duration::hours(3))}),
    )
    .await;
    let exited = exit(
        &site,
        &key,
        json!({"park": PARK_B, "plate": "粤C77777", "time": rfc(now - Duration::minutes(1))}),
    )
    .await;
    assert_eq!(exited["session"]["vip"], false, "{exited}");
    assert!(
        exited["session"]["fee_due_fen"].as_i64().unwrap() > 0,
        "{exited}"
    );
}

async fn sessions(backend: Backend) {
    let site = VipSite::start(backend).await;
    let key = gate_key(&site);

    // A second entry closes the first as no_exit_seen; the exit closes the second.
    let first = enter(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤B11111", "time": "2026-11-20T01:00:00Z"}),
    )
    .await;
    let second = enter(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤B11111", "time": "2026-11-20T05:00:00Z"}),
    )
    .await;
    let prev = &second["closed_previous"];
    assert_eq!(prev["id"], first["session"]["id"], "{second}");
    assert_eq!(prev["state"], "no_exit_seen");
    assert!(prev.get("exit_at").is_none(), "{prev}");
    assert_ne!(second["session"]["id"], first["session"]["id"]);
    // Its page prices it up to the entry that closed it (4 h), not up to now (weeks later).
    let (status, stay) = send(
        &site.admin,
        Method::GET,
        &site
            .server
            .url(&format!("/api/v1/sessions/{}", first["session"]["id"])),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stay}");
    assert_eq!(
        stay["figure"]["billing_time"], "2026-11-20T05:00:00Z",
        "{stay}"
    );
    assert_eq!(stay["figure"]["parking_minutes"], 240, "{stay}");
    let exited = exit(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤B11111", "time": "2026-11-20T05:10:00Z"}),
    )
    .await;
    assert_eq!(exited["session"]["id"], second["session"]["id"], "{exited}");
    assert_eq!(
        exited["session"]["fee_due_fen"], 0,
        "within the example's 15 free minutes"
    );

    // The session is closed: a second exit is an anomaly, answered 200 and recorded.
    let again = exit(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤B11111", "time": "2026-11-20T05:11:00Z"}),
    )
    .await;
    assert_eq!(again["anomaly"], true, "{again}");
    assert!(again.get("session").is_none(), "{again}");
    assert_eq!(again["anomaly_record"]["kind"], "exit_without_entry");
    let never = exit(&site, &key, json!({"park": PARK_A, "plate": "粤B22222"})).await;
    assert_eq!(never["anomaly"], true, "{never}");
    assert_ne!(never["anomaly_record"]["id"], again["anomaly_record"]["id"]);
    let rows = count(
        &site,
        "SELECT COUNT(*) FROM gate_anomalies WHERE kind = 'exit_without_entry'",
    )
    .await;
    assert_eq!(rows, 2);

    // A plate-less car: a barcode is issued, and its exit names it.
    let ticket = enter(
        &site,
        &key,
        json!({"park": PARK_A, "time": "2026-11-20T06:00:00Z"}),
    )
    .await;
    let barcode = ticket["session"]["barcode"]
        .as_str()
        .expect("issued barcode")
        .to_owned();
    assert!(ticket["session"].get("plate").is_none(), "{ticket}");
    let exited = exit(
        &site,
        &key,
        json!({"park": PARK_A, "barcode": barcode, "time": "2026-11-20T07:00:00Z"}),
    )
    .await;
    assert_eq!(exited["session"]["id"], ticket["session"]["id"], "{exited}");
    assert_eq!(
        exited["session"]["fee_due_fen"], 1000,
        "an hour of the example tariff"
    );
    // The gate's own ticket number; reused in the same car park it is a conflict.
    let own = enter(&site, &key, json!({"park": PARK_A, "barcode": "G-0001"})).await;
    assert_eq!(own["session"]["barcode"], "G-0001");
    let (status, err) = post(
        &site,
        &key,
        "/api/v1/gate/entries",
        json!({"park": PARK_A, "barcode": "G-0001"}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("barcode_taken"))
    );
    enter(&site, &key, json!({"park": PARK_B, "barcode": "G-0001"})).await;
}

async fn validation(backend: Backend) {
    let site = VipSite::start(backend).await;
    let key = gate_key(&site);
    let code = |v: &Value| v["error"]["code"].clone();
    let future = rfc(Utc::now() + Duration::minutes(10));
    let soon = rfc(Utc::now() + Duration::minutes(2));
    for (path, body, want) in [
        (
            "/api/v1/gate/entries",
            json!({"park": PARK_A, "plate": "ABC"}),
            "invalid_plate",
        ),
        (
            "/api/v1/gate/exits",
            json!({"park": PARK_A, "plate": "粤I12345"}),
            "invalid_plate",
        ),
        (
            "/api/v1/gate/entries",
            json!({"park": PARK_A, "plate": "粤B33333", "time": future}),
            "invalid_time",
        ),
        (
            "/api/v1/gate/exits",
            json!({"park": PARK_A, "plate": "粤B33333", "time": future}),
            "invalid_time",
        ),
        (
            "/api/v1/gate/entries",
            json!({"park": PARK_A, "plate": "粤B33333", "time": "yesterday"}),
            "invalid_body",
        ),
        (
            "/api/v1/gate/entries",
            json!({"park": PARK_A, "plate": "粤B33333", "plate_color": 9}),
            "invalid_field",
        ),
        (
            "/api/v1/gate/exits",
            json!({"park": PARK_A}),
            "invalid_field",
        ),
        (
            "/api/v1/gate/exits",
            json!({"park": PARK_A, "plate": "粤B33333", "barcode": "X"}),
            "invalid_field",
        ),
        (
            "/api/v1/gate/entries",
            json!({"park": "nowhere", "plate": "粤B33333"}),
            "unknown_park",
        ),
    ] {
        let (status, err) = post(&site, &key, path, body.clone()).await;
        assert_eq!(
            (status, code(&err)),
            // The car park and the clock are state: naming what is not there is 422.
            (
                if matches!(want, "unknown_park" | "invalid_time") {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::BAD_REQUEST
                },
                json!(want)
            ),
            "{body}: {err}"
        );
    }
    let (status, err) = post(
        &site,
        &key,
        "/api/v1/gate/entries",
        json!({"park": PARK_A, "plate": "ABC"}),
    )
    .await;
    assert!(
        err["error"]["message"].as_str().unwrap().contains("ABC"),
        "{status} {err}"
    );

    // A gate clock a little ahead is fine; an exit before its entry is not, and changes nothing.
    enter(
        &site,
        &key,
        json!({"park": PARK_A, "plate": "粤B33333", "time": soon}),
    )
    .await;
    let (status, err) = post(
        &site,
        &key,
        "/api/v1/gate/exits",
        json!({"park": PARK_A, "plate": "粤B33333", "time": rfc(Utc::now() - Duration::hours(1))}),
    )
    .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("exit_before_entry")),
        "{err}"
    );
    let open = count(
        &site,
        "SELECT COUNT(*) FROM parking_sessions WHERE plate = '粤B33333' AND state = 'open'",
    )
    .await;
    assert_eq!(open, 1);

    // Scope and car park of the key.
    let body = json!({"park": PARK_A, "plate": "粤B44444"});
    let vip_only = bearer_client(&site.server.api_key("vip", "vip", None));
    let (status, _) = post(&site, &vip_only, "/api/v1/gate/entries", body.clone()).await;
    assert_eq!(status, 403);
    let bound_b = bearer_client(&site.server.api_key("gate b", "gate", Some(PARK_B)));
    let (status, _) = post(&site, &bound_b, "/api/v1/gate/entries", body.clone()).await;
    assert_eq!(status, 403);
    let (status, _) = post(&site, &bound_b, "/api/v1/gate/exits", body.clone()).await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &site,
        &bound_b,
        "/api/v1/gate/entries",
        json!({"park": "nowhere", "plate": "粤B44444"}),
    )
    .await;
    assert_eq!(status, 403);
    enter(
        &site,
        &bound_b,
        json!({"park": PARK_B, "plate": "粤B44444"}),
    )
    .await;
    let (status, _) = post(&site, &Client::new(), "/api/v1/gate/entries", body).await;
    assert_eq!(status, 401);
}

async fn entry_race(backend: Backend) {
    let site = VipSite::start(backend).await;
    let key = gate_key(&site);
    let body = json!({"park": PARK_A, "plate": "粤B55555", "time": "2026-11-20T08:00:00Z"});
    let answers = futures_join(&site, &key, &body, 8).await;
    let mut closed = 0;
    for (status, answer) in &answers {
        assert_eq!(*status, 201, "{answer}");
        if answer.get("closed_previous").is_some() {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 7,
        "every entry but the first closes the one before: {answers:?}"
    );
    let db = parkbridge::storage::Db::connect(&site.server.database_url())
        .await
        .unwrap();
    let states = sqlx::query_as::<_, (String, i64)>(
        "SELECT state, COUNT(*) FROM parking_sessions WHERE plate = '粤B55555' GROUP BY state ORDER BY state",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        states,
        vec![("no_exit_seen".to_owned(), 7), ("open".to_owned(), 1)]
    );
}

/// Sends `body` to the entry route `n` times at once.
async fn futures_join(
    site: &VipSite,
    key: &Client,
    body: &Value,
    n: usize,
) -> Vec<(StatusCode, Value)> {
    let url = site.server.url("/api/v1/gate/entries");
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (key, url, body) = (key.clone(), url.clone(), body.clone());
            tokio::spawn(async move { send(&key, Method::POST, &url, Some(body)).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}
