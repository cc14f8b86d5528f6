//! The demo's shop validations and one waiver, seeded once after the car park's history so that
//! a stay's page shows a full ledger: a shop till's machine key (scope `discounts`) grants 2-hour
//! `minutes` discounts to the longest-parked cars through `discounts::grant` — the code behind
//! `POST /api/v1/sessions/discounts` — and the demo property manager waives ¥5 on one of them
//! through `discounts::waive`, the code behind the stay page's waiver form.

use chrono::Utc;
use protocol::ledger::DiscountKind;
use protocol::tariff::Tariff;

use crate::api_keys::{self, NewKey, Scope};
use crate::discounts::{self, GrantRequest, Vehicle, Waiver};
use crate::storage::Db;

type SeedError = Box<dyn std::error::Error + Send + Sync>;

/// Cars validated by the demo shop.
const VALIDATED: i64 = 4;

/// Seeds the validations and the waiver, unless the car park has discounts already.
pub(super) async fn seed(db: &Db, park_id: i64, tariff: &Tariff) -> Result<(), SeedError> {
    let existing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM parking_discounts WHERE park_id = $1 AND source IN ('api', 'waiver')",
    )
    .bind(park_id)
    .fetch_one(&db.pool)
    .await?;
    if existing > 0 {
        return Ok(());
    }
    let parked: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, plate FROM parking_sessions \
         WHERE park_id = $1 AND state = 'open' AND plate IS NOT NULL ORDER BY entry_at LIMIT $2",
    )
    .bind(park_id)
    .bind(VALIDATED)
    .fetch_all(&db.pool)
    .await?;
    let Some((first_session, _)) = parked.first().cloned() else {
        return Ok(());
    };
    let (_, key) = api_keys::create(
        db,
        NewKey {
            name: "商户收银台 POS（示例）",
            scopes: &[Scope::Discounts],
            park_id: Some(park_id),
            created_by: None,
        },
    )
    .await?;
    let created_by = format!("apikey:{}", key.prefix);
    for (i, (_, plate)) in parked.iter().enumerate() {
        let discount_id = format!("demo-pos-{i}");
        let req = GrantRequest {
            park_id,
            vehicle: Vehicle::Plate(plate.clone()),
            discount_id: &discount_id,
            kind: DiscountKind::Minutes(120),
            label: "商户减免",
            reason: Some("消费满 200 元"),
            created_by: &created_by,
        };
        discounts::grant(db, tariff, &req, Utc::now()).await?;
    }
    discounts::waive(
        db,
        tariff,
        park_id,
        first_session,
        &Waiver {
            kind: DiscountKind::Amount(500),
            reason: "道闸抬杆故障，补偿车主",
            user: "manager",
        },
        Utc::now(),
    )
    .await?;
    Ok(())
}
