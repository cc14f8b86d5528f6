//! The demo's fixed cars and coupon records, seeded once on a fresh data directory so that a
//! newcomer finds the 固定车 and 优惠券 pages alive.
//!
//! Nothing here writes a state by hand: the VIP records go through `vip::records` (their
//! recharges are then queued and delivered to the embedded P云 sandbox by the real batcher), and
//! the coupon requests are outbox rows that the real dispatcher delivers once serving starts.
//! Their different outcomes come from the sandbox answering them differently (one refused with
//! P云's `1003`, one whose connection drops after the coupon was issued, so the grant waits,
//! `unknown`, for a person to reconcile), which is P云 behaviour the gateway must handle anyway.

use chrono::{DateTime, Days, NaiveTime, TimeDelta, Utc};
use protocol::plate::{Plate, PlateColor};
use protocol::pyun::{PayType, VipType};
use protocol::time::shanghai;
use protocol::vip::renewal::Period;
use sandbox::pyun::{Endpoint, Fault, FaultRule, PyunSandbox};

use crate::coupons::config;
use crate::coupons::intake::{self, EventInput, GrantInput};
use crate::outbox::{Kind, store};
use crate::parks;
use crate::storage::Db;
use crate::vip::records::{self, NewRecharge, NewRecord, Source};

type SeedError = Box<dyn std::error::Error + Send + Sync>;

/// Who the seeded rows name as their author (audit, `requested_by`, the recharges' operator).
const SEEDER: &str = "demo";

/// One seeded fixed car: its plate, card type, tariff id, and its period in whole Shanghai days
/// from today (negative: in the past), ends inclusive.
struct SeedCar {
    plate: &'static str,
    vip_type: VipType,
    charge_type: &'static str,
    first_day: i64,
    last_day: i64,
    /// What was paid, fen.
    paid_fen: i64,
}

/// Several card types; one expiring within the week, one expired ten days ago.
const CARS: [SeedCar; 6] = [
    SeedCar {
        plate: "沪A8M123",
        vip_type: VipType::Monthly,
        charge_type: "月租A",
        first_day: -20,
        last_day: 40,
        paid_fen: 60_000,
    },
    SeedCar {
        plate: "沪B2Q775",
        vip_type: VipType::Monthly,
        charge_type: "月租A",
        first_day: -27,
        last_day: 3,
        paid_fen: 30_000,
    },
    SeedCar {
        plate: "苏E66Z18",
        vip_type: VipType::Quarterly,
        charge_type: "季卡",
        first_day: -100,
        last_day: -10,
        paid_fen: 80_000,
    },
    SeedCar {
        plate: "沪AD12345",
        vip_type: VipType::Yearly,
        charge_type: "年卡(新能源)",
        first_day: -60,
        last_day: 305,
        paid_fen: 288_000,
    },
    SeedCar {
        plate: "浙A9K301",
        vip_type: VipType::Free,
        charge_type: "商户白名单",
        first_day: -5,
        last_day: 360,
        paid_fen: 0,
    },
    SeedCar {
        plate: "沪C5T620",
        vip_type: VipType::HalfYear,
        charge_type: "半年卡",
        first_day: -30,
        last_day: 152,
        paid_fen: 150_000,
    },
];

/// Seeds what is missing: fixed cars when the car park has none, coupon requests when it has
/// never had one. A restart on the same data directory seeds nothing.
pub(super) async fn seed(
    db: &Db,
    park_id: i64,
    sandbox: &PyunSandbox,
    now: DateTime<Utc>,
) -> Result<(), SeedError> {
    seed_fixed_cars(db, park_id, now).await?;
    seed_coupon_requests(db, park_id, sandbox).await
}

/// The first instant of the Shanghai day `offset` days from `now`'s, in UTC.
fn day_start(now: DateTime<Utc>, offset: i64) -> DateTime<Utc> {
    let today = now.with_timezone(&shanghai()).date_naive();
    let day = if offset >= 0 {
        today.checked_add_days(Days::new(offset.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(offset.unsigned_abs()))
    }
    .unwrap_or(today);
    day.and_time(NaiveTime::MIN)
        .and_local_timezone(shanghai())
        .single()
        .map_or(now, |t| t.with_timezone(&Utc))
}

async fn seed_fixed_cars(db: &Db, park_id: i64, now: DateTime<Utc>) -> Result<(), SeedError> {
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vip_records WHERE park_id = $1")
        .bind(park_id)
        .fetch_one(&db.pool)
        .await?;
    if existing > 0 {
        return Ok(());
    }
    for car in &CARS {
        let plate = Plate::parse(car.plate)?;
        let record = NewRecord {
            plate_color: PlateColor::default_for(plate.kind()),
            plate,
            card_no: None,
            card_id: None,
            charge_type: car.charge_type.to_owned(),
            vip_type: car.vip_type,
        };
        let start = day_start(now, car.first_day);
        let recharge = NewRecharge {
            quantity: 0,
            pay_type: if car.paid_fen == 0 {
                PayType::Cash
            } else {
                PayType::Online
            },
            value: None,
            pay_value_fen: car.paid_fen,
            pay_time: start,
            pay_partner: None,
            // The stored end is inclusive to the second: the last second of the last day.
            period: Some(Period {
                start,
                end: day_start(now, car.last_day + 1) - TimeDelta::seconds(1),
            }),
            operator: Some(SEEDER.to_owned()),
            source: Source::Ui,
        };
        records::insert_record(db, park_id, &record, &recharge).await?;
    }
    Ok(())
}

/// Plates of the seeded coupon requests; none is a plate the demo's tests or visitors grant to.
const GRANT_PLATES: [&str; 3] = ["沪A2B358", "沪D7Y190", "苏A3C662"];
const EVENT_PLATES: [&str; 2] = ["沪AF07788", "浙B1N559"];

async fn seed_coupon_requests(
    db: &Db,
    park_id: i64,
    sandbox: &PyunSandbox,
) -> Result<(), SeedError> {
    let existing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE park_id = $1 AND kind IN ($2, $3)")
            .bind(park_id)
            .bind(Kind::CouponEvent.as_str())
            .bind(Kind::CouponGrant.as_str())
            .fetch_one(&db.pool)
            .await?;
    if existing > 0 {
        return Ok(());
    }
    let park = parks::get(db, park_id)
        .await?
        .ok_or("the demo car park vanished")?;
    let product = config::products(db, park_id)
        .await?
        .into_iter()
        .find(|p| !p.archived)
        .ok_or("the demo car park has no coupon product")?;
    // The first two grants P云 sees are answered differently; the dispatcher may send them in
    // any order, so which plate meets which answer varies, the three outcomes do not.
    sandbox.push_fault(FaultRule {
        endpoint: Some(Endpoint::Grant),
        times: 1,
        skip: 0,
        fault: Fault::Answer {
            http_status: 200,
            code: "1003".to_owned(),
            message: "该车辆今日领券已达上限".to_owned(),
        },
    });
    sandbox.push_fault(FaultRule {
        endpoint: Some(Endpoint::Grant),
        times: 1,
        skip: 0,
        fault: Fault::Drop {
            after_applying: true,
        },
    });
    for (i, plate) in GRANT_PLATES.into_iter().enumerate() {
        let input = GrantInput {
            grant_id: format!("demo-seed-grant-{i}"),
            plate: plate.to_owned(),
            reason: Some("示例：商户消费满额赠送".to_owned()),
            parking_serial: None,
        };
        let row = intake::grant(&park, &product, input, SEEDER).map_err(|e| e.to_string())?;
        store::insert(db, &row, None, Utc::now()).await?;
    }
    let settings = config::event_settings(db, park_id).await?;
    for (i, plate) in EVENT_PLATES.into_iter().enumerate() {
        let kwh: i32 = if i == 0 { 12 } else { 20 };
        let input = EventInput {
            event_id: format!("demo-seed-charge-{i}"),
            plate: plate.to_owned(),
            subject: format!("充电 {kwh} 度"),
            metadata: Some([("charge_kwh".to_owned(), intake::MetadataValue::Value(kwh))].into()),
        };
        let row =
            intake::event(&park, settings.clone(), input, SEEDER).map_err(|e| e.to_string())?;
        store::insert(db, &row, None, Utc::now()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_start_at_shanghai_midnight() {
        // 2026-12-06 01:30 UTC is 09:30 in Shanghai; that day began at 2026-12-05 16:00 UTC.
        let now = DateTime::parse_from_rfc3339("2026-12-06T01:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(day_start(now, 0).to_rfc3339(), "2026-12-05T16:00:00+00:00");
        assert_eq!(day_start(now, 3).to_rfc3339(), "2026-12-08T16:00:00+00:00");
        assert_eq!(
            day_start(now, -10).to_rfc3339(),
            "2026-11-25T16:00:00+00:00"
        );
    }

    #[test]
    fn the_seeded_cars_cover_an_expired_card_and_one_ending_this_week() {
        assert!(CARS.iter().any(|c| c.last_day < 0));
        assert!(CARS.iter().any(|c| (0..7).contains(&c.last_day)));
        for car in &CARS {
            assert!(Plate::parse(car.plate).is_ok(), "{}", car.plate);
            assert!(car.first_day <= car.last_day);
        }
    }
}
