//! Entry notices to Mallcoo (PROTOCOLS.md §2.5, §2.6) end to end: the real binary, gate entries
//! over its machine API, the in-process Mallcoo sandbox verifying every signature — on SQLite
//! and PostgreSQL.

use std::time::Duration;

use chrono::{DurationRound, SecondsFormat, TimeDelta, Utc};
use e2e::coupon_site::FAST_RETRIES;
use e2e::mallcoo_site::{
    MallcooSite, OUT_APP_ID, OUT_PUBLIC_KEY, PARK, PARK_CODE, PLAIN_PARK, UNKNOWN_PARK, eventually,
};
use e2e::server::Backend;
use sandbox::mallcoo::{Fault, FaultRule};
use serde_json::json;

e2e::on_both_engines! {
    an_entry_is_notified_once_with_the_exact_fields_and_a_valid_signature => exact_notice;
    a_notice_failing_twice_with_5xx_is_delivered_by_the_third_attempt => retried_notice;
    code_1101_marks_the_notice_misconfigured_without_retrying => unknown_park;
    no_notice_without_mallcoo_settings_or_without_a_plate => nothing_sent;
    a_lost_answer_is_resent_under_the_same_trade_id_and_a_refused_key_is_misconfigured => lost_answer_and_bad_key;
}

/// Generous: the suite runs many servers on two cores.
const WITHIN: Duration = Duration::from_secs(20);

async fn exact_notice(backend: Backend) {
    let site = MallcooSite::start(backend, &FAST_RETRIES).await;
    let entry_at = (Utc::now() - TimeDelta::minutes(30))
        .duration_trunc(TimeDelta::seconds(1))
        .unwrap();
    let entered = site
        .enter(json!({"park": PARK, "plate": "粤b 12345", "time": entry_at.to_rfc3339_opts(SecondsFormat::Secs, true)}))
        .await;
    let session_id = entered["session"]["id"].as_i64().unwrap();
    eventually(WITHIN, "the notice at the sandbox", || async {
        site.mallcoo.notice_count() == 1
    })
    .await;
    eventually(WITHIN, "the row delivered", || async {
        site.notice_rows()
            .await
            .first()
            .is_some_and(|r| r.state == "delivered")
    })
    .await;
    let notices = site.mallcoo.notices();
    assert_eq!(notices.len(), 1);
    let n = &notices[0];
    assert_eq!(n.app_id, OUT_APP_ID);
    assert_eq!(n.park_code, PARK_CODE);
    assert_eq!(n.plate_no, "粤B12345");
    // Shanghai wall time of the entry: UTC + 8 h.
    assert_eq!(
        n.in_time,
        (entry_at + TimeDelta::hours(8))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    );
    assert_eq!(n.trade_id, session_id.to_string());
    assert_eq!(n.copies, 1);
    let requests = site.mallcoo.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(requests[0].signature_ok, "{requests:?}");
    assert_eq!(requests[0].answer.code, Some(1));
    // The exact body: the four fields in Mallcoo's order, nothing else.
    assert_eq!(
        requests[0].body,
        format!(
            r#"{{"ParkCode":"{PARK_CODE}","PlateNo":"粤B12345","InTime":"{}","TradeID":"{session_id}"}}"#,
            n.in_time
        )
    );
    let rows = site.notice_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].dedupe_key.as_str(),
            rows[0].attempts,
            rows[0].pyun_code.as_deref()
        ),
        (session_id.to_string().as_str(), 1, Some("1"))
    );
}

async fn retried_notice(backend: Backend) {
    let site = MallcooSite::start(backend, &FAST_RETRIES).await;
    site.mallcoo.push_fault(FaultRule {
        times: 2,
        skip: 0,
        fault: Fault::Answer {
            http_status: 503,
            code: 500,
            message: "系统繁忙".into(),
        },
    });
    let entered = site.enter(json!({"park": PARK, "plate": "沪A68688"})).await;
    let session_id = entered["session"]["id"].as_i64().unwrap().to_string();
    eventually(WITHIN, "the row delivered", || async {
        site.notice_rows()
            .await
            .first()
            .is_some_and(|r| r.state == "delivered")
    })
    .await;
    let rows = site.notice_rows().await;
    assert_eq!(
        (rows[0].attempts, rows[0].pyun_code.as_deref()),
        (3, Some("1"))
    );
    let requests = site.mallcoo.requests();
    assert_eq!(
        requests
            .iter()
            .map(|r| r.answer.http_status)
            .collect::<Vec<_>>(),
        [Some(503), Some(503), Some(200)]
    );
    // Every attempt names the same entry: one notice at Mallcoo.
    assert!(requests.iter().all(|r| r.signature_ok));
    let notices = site.mallcoo.notices();
    assert_eq!(notices.len(), 1);
    assert_eq!(
        (notices[0].trade_id.as_str(), notices[0].copies),
        (session_id.as_str(), 1)
    );
}

async fn unknown_park(backend: Backend) {
    let site = MallcooSite::start(backend, &FAST_RETRIES).await;
    site.enter(json!({"park": UNKNOWN_PARK, "plate": "沪A11111"}))
        .await;
    eventually(WITHIN, "the row settled", || async {
        site.notice_rows()
            .await
            .first()
            .is_some_and(|r| r.state != "pending" && r.state != "sending")
    })
    .await;
    let rows = site.notice_rows().await;
    assert_eq!(rows[0].state, "misconfigured", "{rows:?}");
    assert_eq!(
        (rows[0].attempts, rows[0].pyun_code.as_deref()),
        (1, Some("1101"))
    );
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("ParkCode")),
        "{rows:?}"
    );
    // Longer than several retry delays (50 ms base): still the one call.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(site.mallcoo.requests().len(), 1);
    assert!(site.mallcoo.notices().is_empty());
    assert_eq!(site.notice_rows().await[0].attempts, 1);
}

async fn nothing_sent(backend: Backend) {
    let site = MallcooSite::start(backend, &FAST_RETRIES).await;
    // No Mallcoo settings: no row at all.
    site.enter(json!({"park": PLAIN_PARK, "plate": "沪A22222"}))
        .await;
    // A plate-less car at a Mallcoo car park (issued barcode, and a gate's own ticket): no row.
    let issued = site.enter(json!({"park": PARK})).await;
    assert!(issued["session"]["barcode"].is_string(), "{issued}");
    site.enter(json!({"park": PARK, "barcode": "GATE-TICKET-1"}))
        .await;
    // Then a plated car at the Mallcoo car park: its notice is the only one that arrives.
    let plated = site.enter(json!({"park": PARK, "plate": "沪A33333"})).await;
    eventually(WITHIN, "the plated car's notice", || async {
        site.mallcoo.notice_count() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rows = site.notice_rows().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].park, PARK);
    assert_eq!(
        rows[0].dedupe_key,
        plated["session"]["id"].as_i64().unwrap().to_string()
    );
    assert_eq!(site.mallcoo.requests().len(), 1);
    assert_eq!(site.mallcoo.notices()[0].plate_no, "沪A33333");
}

async fn lost_answer_and_bad_key(backend: Backend) {
    let site = MallcooSite::start(backend, &FAST_RETRIES).await;
    // Mallcoo records the notice, then the connection drops before its answer: we cannot know
    // it arrived, so it is resent — under the same TradeID, so Mallcoo still has one entry.
    site.mallcoo.push_fault(FaultRule {
        times: 1,
        skip: 0,
        fault: Fault::Drop {
            after_applying: true,
        },
    });
    let entered = site.enter(json!({"park": PARK, "plate": "沪A55555"})).await;
    let session_id = entered["session"]["id"].as_i64().unwrap().to_string();
    eventually(WITHIN, "the row delivered", || async {
        site.notice_rows()
            .await
            .first()
            .is_some_and(|r| r.state == "delivered")
    })
    .await;
    assert_eq!(site.notice_rows().await[0].attempts, 2);
    let notices = site.mallcoo.notices();
    assert_eq!(notices.len(), 1);
    assert_eq!(
        (notices[0].trade_id.as_str(), notices[0].copies),
        (session_id.as_str(), 2)
    );

    // Mallcoo no longer accepts our key: 401, an admin must act, nothing is retried.
    site.mallcoo
        .add_app(OUT_APP_ID, OUT_PUBLIC_KEY, "SK_rotated_at_mallcoo");
    site.enter(json!({"park": PARK, "plate": "沪A66666"})).await;
    eventually(WITHIN, "the second row settled", || async {
        site.notice_rows()
            .await
            .get(1)
            .is_some_and(|r| r.state != "pending" && r.state != "sending")
    })
    .await;
    let rows = site.notice_rows().await;
    assert_eq!(
        (rows[1].state.as_str(), rows[1].attempts),
        ("misconfigured", 1),
        "{rows:?}"
    );
    assert!(
        rows[1]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("credentials")),
        "{rows:?}"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let requests = site.mallcoo.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert_eq!(requests[2].answer.http_status, Some(401));
    assert_eq!(site.mallcoo.notices().len(), 1);
}
