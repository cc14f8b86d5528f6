//! The store on a temp SQLite database: the fee engine's window and the sync classes derived
//! from outbox rows (which only the lead's batcher creates, so they are arranged here by hand).

use chrono::{DateTime, TimeDelta, Utc};
use protocol::plate::{Plate, PlateColor};
use protocol::pyun::{PayType, VipType};

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn db_with_park() -> (tempfile::TempDir, Db, i64) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&crate::storage::sqlite_url(&dir.path().join("t.db")))
        .await
        .unwrap();
    let park = sqlx::query_scalar::<_, i64>(
        "INSERT INTO car_parks (code, name, tariff_json, created_at, updated_at) VALUES ('p', 'P', '{}', 0, 0) RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    (dir, db, park)
}

fn monthly(plate: &str) -> NewRecord {
    NewRecord {
        plate: Plate::parse(plate).unwrap(),
        plate_color: PlateColor::Blue,
        card_no: None,
        card_id: None,
        charge_type: "MON_A".into(),
        vip_type: VipType::Monthly,
    }
}

fn paid(at: DateTime<Utc>) -> NewRecharge {
    NewRecharge {
        quantity: 1,
        pay_type: PayType::Cash,
        value: None,
        pay_value_fen: 30000,
        pay_time: at,
        pay_partner: None,
        period: None,
        operator: None,
        source: Source::Ui,
    }
}

#[tokio::test]
async fn the_fee_engine_window_ends_one_second_after_the_inclusive_end() {
    let (_dir, db, park) = db_with_park().await;
    // 2026-01-15 12:00 Shanghai: Jan 15 00:00 to Feb 14 23:59:59 Shanghai.
    insert_record(
        &db,
        park,
        &monthly("粤B12345"),
        &paid(at("2026-01-15T04:00:00Z")),
    )
    .await
    .unwrap();
    let w = window_for(&db, park, "粤B12345").await.unwrap().unwrap();
    assert_eq!(w.valid_from, at("2026-01-14T16:00:00Z"));
    assert_eq!(w.valid_until, at("2026-02-14T16:00:00Z"));
    assert_eq!(w.label, "月卡 至2026-02-14");
    assert_eq!(window_for(&db, park, "粤B54321").await.unwrap(), None);
    assert_eq!(window_for(&db, park + 1, "粤B12345").await.unwrap(), None);
}

async fn batch(db: &Db, park: i64, key: &str, state: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO outbox (park_id, kind, dedupe_key, summary, request_json, requested_by, state, attempts, pyun_code, created_at, updated_at) \
         VALUES ($1, 'vip_batch', $2, 'batch', '{}', 'test', $3, 1, '1002', 0, 0) RETURNING id",
    )
    .bind(park)
    .bind(key)
    .bind(state)
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

async fn link(db: &Db, recharge: i64, outbox: i64) {
    sqlx::query("UPDATE vip_recharges SET outbox_id = $1 WHERE id = $2")
        .bind(outbox)
        .bind(recharge)
        .execute(&db.pool)
        .await
        .unwrap();
}

async fn classes(db: &Db, park: i64, sync: SyncClass) -> Vec<String> {
    let filter = ListFilter {
        sync: Some(sync),
        limit: 50,
        ..ListFilter::default()
    };
    let mut plates: Vec<String> = list(db, park, &filter)
        .await
        .unwrap()
        .records
        .into_iter()
        .map(|r| r.plate)
        .collect();
    plates.sort();
    plates
}

#[tokio::test]
async fn a_record_shows_the_worst_sync_state_of_its_recharges() {
    let (_dir, db, park) = db_with_park().await;
    let now = Utc::now();
    let a = insert_record(&db, park, &monthly("粤B00001"), &paid(now))
        .await
        .unwrap();
    let a2 = add_recharge(&db, a, &paid(now + TimeDelta::hours(1)))
        .await
        .unwrap();
    insert_record(&db, park, &monthly("粤B00002"), &paid(now))
        .await
        .unwrap();
    let c = insert_record(&db, park, &monthly("粤B00003"), &paid(now))
        .await
        .unwrap();
    let first = |id| {
        let db = db.clone();
        async move {
            get_detail(&db, id)
                .await
                .unwrap()
                .unwrap()
                .recharges
                .last()
                .unwrap()
                .id
        }
    };
    let (a1, c1) = (first(a).await, first(c).await);
    assert_eq!(classes(&db, park, SyncClass::Queued).await.len(), 3);

    let delivered = batch(&db, park, "b1", "delivered").await;
    let rejected = batch(&db, park, "b2", "rejected").await;
    link(&db, a1, delivered).await;
    link(&db, a2, rejected).await;
    link(&db, c1, delivered).await;
    assert_eq!(classes(&db, park, SyncClass::Problem).await, ["粤B00001"]);
    assert_eq!(classes(&db, park, SyncClass::Queued).await, ["粤B00002"]);
    assert_eq!(classes(&db, park, SyncClass::Delivered).await, ["粤B00003"]);
    assert!(classes(&db, park, SyncClass::Pending).await.is_empty());

    let detail = get_detail(&db, a).await.unwrap().unwrap();
    assert_eq!(detail.record.sync, SyncClass::Problem);
    assert_eq!(detail.recharges[0].sync.state, "rejected");
    assert_eq!(detail.recharges[0].sync.batch_id, Some(rejected));
    assert_eq!(detail.recharges[0].sync.code.as_deref(), Some("1002"));
    assert_eq!(detail.recharges[1].sync.state, "delivered");

    sqlx::query("UPDATE outbox SET state = 'pending' WHERE id = $1")
        .bind(rejected)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(classes(&db, park, SyncClass::Pending).await, ["粤B00001"]);
    assert!(classes(&db, park, SyncClass::Problem).await.is_empty());
}
