//! On a real (SQLite) database: a gate event of a car park on access queues its upload in its
//! transaction, the leave carries the exit's figure, and a leave waits for its stay's entry.

use chrono::{TimeDelta, Utc};
use protocol::tariff::Tariff;

use super::*;
use crate::outbox::State;
use crate::outbox::store::{self, Filter, Finish, Lease};
use crate::parking::{self, Exited, NewEntry};
use crate::pyun_upload::fields::{EnterFields, LeaveFields};
use crate::storage::Db;

async fn park(db: &Db, code: &str, on_access: bool) -> i64 {
    let credential: i64 = sqlx::query_scalar(
        "INSERT INTO credentials (name, kind, public_json, sealed_secret, created_at, updated_at) \
         VALUES ($1, 'pyun_carpark', '{\"app_id\":\"\"}', $2, 0, 0) RETURNING id",
    )
    .bind(format!("cred-{code}"))
    .bind(vec![0u8; 8])
    .fetch_one(&db.pool)
    .await
    .unwrap();
    sqlx::query_scalar(
        "INSERT INTO car_parks (code, name, tariff_json, pyun_park_uuid, total_spaces, \
         pyun_carpark_credential_id, created_at, updated_at) \
         VALUES ($1, 'P', $2, $3, 10, $4, 0, 0) RETURNING id",
    )
    .bind(code)
    .bind(serde_json::to_string(&Tariff::example()).unwrap())
    .bind(format!("uuid-{code}"))
    .bind(on_access.then_some(credential))
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

async fn rows(db: &Db, park_id: i64) -> Vec<store::Item> {
    let mut items = store::list(
        db,
        &Filter {
            parks: Some(vec![park_id]),
            kinds: vec![Kind::PyunEnter, Kind::PyunLeave],
            limit: 100,
            ..Filter::default()
        },
    )
    .await
    .unwrap();
    items.reverse();
    items
}

fn entry(plate: &str, at: DateTime<Utc>) -> NewEntry {
    NewEntry {
        plate: Some(plate.into()),
        plate_color: Some(2),
        barcode: None,
        at,
        gate: Some("东门入口".into()),
    }
}

#[tokio::test]
async fn gate_events_queue_uploads_that_go_out_entry_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&crate::storage::sqlite_url(&dir.path().join("t.db")))
        .await
        .unwrap();
    let on = park(&db, "on", true).await;
    let off = park(&db, "off", false).await;
    let tariff = Tariff::example();
    let entered_at = Utc::now() - TimeDelta::hours(3);

    let done = parking::enter(&db, on, entry("粤B660PP", entered_at))
        .await
        .unwrap();
    assert!(done.upload_queued);
    parking::enter(&db, on, entry("粤B11111", entered_at))
        .await
        .unwrap();
    let other = parking::enter(&db, off, entry("粤B660PP", entered_at))
        .await
        .unwrap();
    assert!(!other.upload_queued);
    assert!(rows(&db, off).await.is_empty());

    let queued = rows(&db, on).await;
    assert_eq!(queued.len(), 2);
    let first: EnterFields = serde_json::from_str(&queued[0].request_json).unwrap();
    assert_eq!(queued[0].dedupe_key, format!("enter:{}", done.session.id));
    assert_eq!(first.parking_serial, format!("PB{}", done.session.id));
    assert_eq!(first.park_uuid, "uuid-on");
    assert_eq!(first.enter_time, to_ms(done.session.entry_at));
    // Each entry counts itself: 10 spaces, then 1 and 2 cars inside.
    let second: EnterFields = serde_json::from_str(&queued[1].request_json).unwrap();
    assert_eq!(
        (first.remain_parking_space, second.remain_parking_space),
        (Some(9), Some(8))
    );

    // A P云 payment of the stay, then the exit within its grace period.
    let paid_at = entered_at + TimeDelta::minutes(100);
    sqlx::query(
        "INSERT INTO parking_payments (park_id, session_id, order_no, fee_id, pay_time, \
         settled_at, amount_fen, deduction_fen, pay_channel, pay_type, request_digest, \
         answer_json, created_at, channel, pay_origin, pay_origin_desc) \
         VALUES ($1, $2, 'PO1', 'f', $3, $3, 1600, 0, 0, 3, 'd', '{}', $3, 'pyun', 8, '微信')",
    )
    .bind(on)
    .bind(done.session.id)
    .bind(to_ms(paid_at))
    .execute(&db.pool)
    .await
    .unwrap();
    let exit_at = paid_at + TimeDelta::minutes(5);
    let key = parking::SessionKey::Plate("粤B660PP".into());
    let Exited::Closed(closed) = parking::exit(&db, on, &tariff, &key, exit_at, Some("西门出口"))
        .await
        .unwrap()
    else {
        panic!("the stay was open");
    };
    assert_eq!(closed.fee_due_fen, Some(0));
    let queued = rows(&db, on).await;
    let leave_row = queued.iter().find(|i| i.kind == Kind::PyunLeave).unwrap();
    let leave: LeaveFields = serde_json::from_str(&leave_row.request_json).unwrap();
    // 100 min: 1000 + 2 × 300, all paid through P云; one car left inside.
    assert_eq!(
        (leave.total_value, leave.free_value, leave.online_value),
        (1600, 0, 1600)
    );
    assert_eq!(leave.entry, first_with_remain(&first, 9));
    assert_eq!(leave.leave_time, to_ms(exit_at));
    assert_eq!(leave.payment_list.len(), 1);
    assert_eq!(leave.payment_list[0].parking_order, "PO1");
    assert_eq!(
        leave.payment_list[0].pay_origin_desc.as_deref(),
        Some("微信")
    );

    // The worker leases the entries; the leave waits for its own entry only.
    let lease = Lease {
        owner: "test".into(),
        duration: TimeDelta::seconds(30),
    };
    let now = Utc::now();
    let claimed = store::claim_due(&db, &lease, now, 10).await.unwrap();
    let kinds: Vec<_> = claimed
        .iter()
        .map(|i| (i.kind, i.dedupe_key.clone()))
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(claimed.iter().all(|i| i.kind == Kind::PyunEnter));
    assert!(
        store::claim_due(&db, &lease, now, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let ours = claimed
        .iter()
        .find(|i| i.dedupe_key == format!("enter:{}", done.session.id))
        .unwrap();
    let delivered = Finish {
        state: State::Delivered,
        next_attempt_at: None,
        http_status: Some(200),
        pyun: None,
        note: None,
    };
    assert!(
        store::finish(&db, ours.id, "test", &delivered, now)
            .await
            .unwrap()
    );
    let next = store::claim_due(&db, &lease, now, 10).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].dedupe_key, format!("leave:{}", done.session.id));
}

/// The entry's fields as the leave repeats them: the same but for the space count at exit.
fn first_with_remain(first: &EnterFields, remain: i64) -> EnterFields {
    EnterFields {
        remain_parking_space: Some(remain),
        ..first.clone()
    }
}

#[tokio::test]
async fn sending_signs_with_the_upload_secret_or_says_why_it_cannot() {
    use crate::credentials::{self, CarparkKeys, CredentialKind, PublicParts};
    use crate::pyun_upload::{Prepared, prepare};
    use crate::secrets::{MasterKey, SecretBox};

    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&crate::storage::sqlite_url(&dir.path().join("t.db")))
        .await
        .unwrap();
    let on = park(&db, "on", true).await;
    let done = parking::enter(&db, on, entry("粤B660PP", Utc::now()))
        .await
        .unwrap();
    let row = rows(&db, on).await.remove(0);
    let secrets = SecretBox::new(&MasterKey::from_bytes([7; 32]));

    // The stored secret was sealed under another key: misconfigured, saying so.
    let Prepared::NotConfigured(why) = prepare(&db, &secrets, &row).await.unwrap() else {
        panic!("a secret that does not open cannot sign");
    };
    assert!(why.contains("cannot be opened"), "{why}");

    let credential: i64 =
        sqlx::query_scalar("SELECT pyun_carpark_credential_id FROM car_parks WHERE id = $1")
            .bind(on)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let keys = CarparkKeys {
        upload_secret: "up-secret".into(),
        downlink_key: "down-key".into(),
    };
    let public = PublicParts {
        app_id: String::new(),
        public_key: None,
    };
    assert!(
        credentials::replace(
            &db,
            &secrets,
            credential,
            CredentialKind::PyunCarpark,
            &public,
            &keys.to_secret()
        )
        .await
        .unwrap()
    );
    let Prepared::Send(signed) = prepare(&db, &secrets, &row).await.unwrap() else {
        panic!("a good credential signs");
    };
    assert_eq!(signed.path, protocol::pyun_carpark::ENTER_PATH);
    assert_eq!(signed.parking_serial, format!("PB{}", done.session.id));
    assert!(protocol::pyun::verify_form(signed.form.fields(), "up-secret").is_ok());
    assert!(protocol::pyun::verify_form(signed.form.fields(), "down-key").is_err());

    // Access switched off since: not sent, and a person is told why.
    sqlx::query("UPDATE car_parks SET pyun_carpark_credential_id = NULL WHERE id = $1")
        .bind(on)
        .execute(&db.pool)
        .await
        .unwrap();
    let Prepared::NotConfigured(why) = prepare(&db, &secrets, &row).await.unwrap() else {
        panic!("a car park off access sends nothing");
    };
    assert!(why.contains("no longer on P云 car-park access"), "{why}");
}
