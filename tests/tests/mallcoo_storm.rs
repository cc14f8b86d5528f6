//! Mallcoo's retry storm (issue 7, "done when"): every order's PayParkingFee sent 3 times at once,
//! as Mallcoo's retries can arrive, by the sandbox's Mallcoo client over real HTTP against the
//! real binary — 10,000 orders on SQLite, 1,000 on PostgreSQL. Zero duplicate payments in the
//! database, every order's three answers byte-identical, every session paid exactly once.

use std::sync::Arc;
use std::time::Instant;

use chrono::{SecondsFormat, TimeDelta, Utc};
use e2e::mallcoo_site::{MallcooSite, PARK};
use e2e::server::Backend;
use sandbox::mallcoo::client::StormSettings;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_orders_sent_three_times_at_once_pay_once_each_on_sqlite() {
    storm(Backend::Sqlite, 10_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_orders_sent_three_times_at_once_pay_once_each_on_postgres() {
    storm(Backend::Postgres, 1_000).await;
}

/// Enters `plates` at `PARK` two hours ago, 32 at a time.
async fn enter_all(site: &Arc<MallcooSite>, plates: &[String]) {
    let at = (Utc::now() - TimeDelta::hours(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let permits = Arc::new(Semaphore::new(32));
    let mut entries = JoinSet::new();
    for plate in plates {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (site, plate, at) = (site.clone(), plate.clone(), at.clone());
        entries.spawn(async move {
            let _permit = permit;
            site.enter(json!({"park": PARK, "plate": plate, "time": at}))
                .await;
        });
    }
    while let Some(done) = entries.join_next().await {
        done.expect("entry task");
    }
}

async fn count(site: &MallcooSite, sql: &'static str) -> i64 {
    let db = site.db().await;
    sqlx::query_scalar::<_, i64>(sql)
        .bind(site.park_id)
        .fetch_one(&db.pool)
        .await
        .expect(sql)
}

async fn storm(backend: Backend, orders: usize) {
    let site = Arc::new(MallcooSite::start(backend, &[]).await);
    let plates: Vec<String> = (0..orders).map(|i| format!("沪A{i:05}")).collect();
    let started = Instant::now();
    enter_all(&site, &plates).await;
    eprintln!("{orders} entries in {:?}", started.elapsed());

    let client = site.mallcoo_client();
    let report = client
        .retry_storm(
            &plates,
            &StormSettings {
                copies: 3,
                concurrency: 64,
                order_prefix: "storm-".to_owned(),
            },
        )
        .await;
    eprintln!(
        "storm: {} orders, {} calls in {:?} ({:.0} payments/s)",
        report.orders,
        report.calls,
        report.elapsed,
        report.payments_per_sec()
    );
    assert!(report.all_paid_identically(), "{report:#?}");
    assert_eq!(report.orders, orders);
    assert_eq!(
        report.calls,
        orders * 4,
        "a quote and three copies per order"
    );
    assert_eq!(report.answers, orders * 3);

    let orders = i64::try_from(orders).unwrap();
    assert_eq!(
        count(
            &site,
            "SELECT COUNT(*) FROM parking_payments WHERE park_id = $1"
        )
        .await,
        orders,
        "one payment per order"
    );
    assert_eq!(
        count(
            &site,
            "SELECT COUNT(*) FROM (SELECT order_no FROM parking_payments WHERE park_id = $1 \
             GROUP BY order_no HAVING COUNT(*) > 1) dup"
        )
        .await,
        0,
        "no order recorded twice"
    );
    assert_eq!(
        count(
            &site,
            "SELECT COUNT(*) FROM parking_sessions s WHERE s.park_id = $1 \
             AND (SELECT COUNT(*) FROM parking_payments p WHERE p.session_id = s.id) <> 1"
        )
        .await,
        0,
        "every session paid exactly once"
    );

    // Mallcoo re-querying the paid cars (within their grace period) finds nothing due, so a
    // second storm over them pays nothing.
    let sample = &plates[..plates.len().min(200)];
    let again = client
        .retry_storm(
            sample,
            &StormSettings {
                order_prefix: "again-".to_owned(),
                ..StormSettings::default()
            },
        )
        .await;
    assert_eq!((again.paid, again.failed), (0, sample.len()), "{again:#?}");
    assert!(
        again.failures.iter().all(|f| f.contains("nothing due")),
        "{again:#?}"
    );

    // A late retry of a recorded order (the same orderNo and payload, re-signed later, three
    // at once) gets the first answer byte for byte and records nothing.
    let late = &plates[plates.len() - 1];
    let first_answer = "{\"resCode\":0,\"resMsg\":\"成功\"}";
    let db = site.db().await;
    let (fee_id, amount, pay_time): (String, i64, i64) = sqlx::query_as(
        "SELECT fee_id, amount_fen, pay_time FROM parking_payments WHERE park_id = $1 AND order_no = $2",
    )
    .bind(site.park_id)
    .bind(format!("storm-{}", plates.len() - 1))
    .fetch_one(&db.pool)
    .await
    .expect("the last order's payment");
    let request = protocol::mallcoo::PayFeeRequest {
        park_id: None,
        fee_id,
        order_no: format!("storm-{}", plates.len() - 1),
        third_trade_no: Some(format!("wxstorm-{}", plates.len() - 1)),
        plate_no: Some(late.clone()),
        barcode: None,
        pay_time: chrono::DateTime::from_timestamp_millis(pay_time).expect("a time"),
        un_pay_amount: amount,
        amount,
        deduction_amount: 0,
        deduction_details: Vec::new(),
        pay_channel: protocol::mallcoo::PayChannel::Online,
        pay_type: protocol::mallcoo::PayType::WeChat,
        member_info: None,
    };
    for answer in client.pay_with_retries(&request, 3).await {
        let answer = answer.expect("an answer");
        assert_eq!(
            answer.body, first_answer,
            "the stored answer, byte for byte"
        );
    }
    assert_eq!(
        count(
            &site,
            "SELECT COUNT(*) FROM parking_payments WHERE park_id = $1"
        )
        .await,
        orders,
        "neither the second storm nor the late retry records anything"
    );
}
