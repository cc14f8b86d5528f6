//! The CSV exports of a car park's VIP data: records (one line per record, readable back by the
//! import) and recharges (one line per recharge, with its sync state).
//!
//! A records line carries the record's whole period with the totals of its recharges (quantity,
//! amount) and the latest one's payment details; its order number is left empty so that an import
//! elsewhere generates fresh ones — order numbers are unique per car park at P云.

use protocol::plate::{Plate, PlateColor};
use protocol::pyun::{PayType, VipType};
use protocol::vip::csv::{self, RechargeLine, RecordRow};

use crate::storage::{Db, from_ms};

/// A record with the totals and latest payment of its recharges.
#[derive(sqlx::FromRow)]
struct RecordLine {
    plate: String,
    plate_color: i64,
    card_no: Option<String>,
    card_id: Option<String>,
    charge_type: String,
    vip_type: i64,
    valid_from: Option<i64>,
    valid_to: Option<i64>,
    quantity: Option<i64>,
    pay_value: Option<i64>,
    pay_type: Option<i64>,
    pay_time: Option<i64>,
    operator: Option<String>,
}

/// One recharge with its record's fields and sync state.
#[derive(sqlx::FromRow)]
struct RechargeRow {
    plate: String,
    plate_color: i64,
    vip_type: i64,
    charge_type: String,
    pay_partner: String,
    quantity: i64,
    pay_type: i64,
    value: Option<String>,
    pay_time: i64,
    renewal_start: Option<i64>,
    renewal_end: Option<i64>,
    pay_value: i64,
    operator: Option<String>,
    outbox_id: Option<i64>,
    state: Option<String>,
}

/// Stored codes back to their types; a failure means someone edited the database by hand, and
/// the line is skipped (and logged).
fn decode(plate: &str, color: i64, vip_type: i64) -> Option<(Plate, PlateColor, VipType)> {
    super::stored_codes(plate, color, vip_type)
        .map_err(|why| {
            tracing::warn!(
                plate,
                why,
                "VIP row with invalid stored codes skipped in an export"
            );
        })
        .ok()
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Car park `park_id`'s records as a records CSV (UTF-8 text, no BOM).
pub async fn records_csv(db: &Db, park_id: i64) -> Result<String, sqlx::Error> {
    let rows = sqlx::query_as::<_, RecordLine>(
        "SELECT v.plate, v.plate_color, v.card_no, v.card_id, v.charge_type, v.vip_type, v.valid_from, v.valid_to, \
         (SELECT CAST(SUM(r.quantity) AS BIGINT) FROM vip_recharges r WHERE r.record_id = v.id) AS quantity, \
         (SELECT CAST(SUM(r.pay_value) AS BIGINT) FROM vip_recharges r WHERE r.record_id = v.id) AS pay_value, \
         l.pay_type, l.pay_time, l.operator \
         FROM vip_records v LEFT JOIN vip_recharges l ON l.id = \
         (SELECT MAX(r.id) FROM vip_recharges r WHERE r.record_id = v.id) \
         WHERE v.park_id = $1 ORDER BY v.id",
    )
    .bind(park_id)
    .fetch_all(&db.pool)
    .await?;
    let lines: Vec<RecordRow> = rows
        .into_iter()
        .filter_map(|r| {
            let (plate, plate_color, vip_type) = decode(&r.plate, r.plate_color, r.vip_type)?;
            Some(RecordRow {
                plate,
                plate_color,
                card_no: r.card_no,
                card_id: r.card_id,
                charge_type: r.charge_type,
                vip_type,
                valid_from: r.valid_from.map(from_ms),
                valid_to: r.valid_to.map(from_ms),
                pay_partner: None,
                quantity: count(r.quantity.unwrap_or(0)),
                pay_type: r
                    .pay_type
                    .and_then(PayType::from_code)
                    .unwrap_or(PayType::Cash),
                pay_value_fen: r.pay_value.unwrap_or(0),
                pay_time: r.pay_time.map(from_ms),
                operator: r.operator,
            })
        })
        .collect();
    Ok(csv::write_records(&lines))
}

/// Every recharge of car park `park_id`, oldest first, as the recharges CSV.
pub async fn recharges_csv(db: &Db, park_id: i64) -> Result<String, sqlx::Error> {
    let rows = sqlx::query_as::<_, RechargeRow>(
        "SELECT v.plate, v.plate_color, v.vip_type, v.charge_type, r.pay_partner, r.quantity, r.pay_type, \
         r.value, r.pay_time, r.renewal_start, r.renewal_end, r.pay_value, r.operator, r.outbox_id, o.state \
         FROM vip_recharges r JOIN vip_records v ON v.id = r.record_id \
         LEFT JOIN outbox o ON o.id = r.outbox_id WHERE r.park_id = $1 ORDER BY r.id",
    )
    .bind(park_id)
    .fetch_all(&db.pool)
    .await?;
    let lines: Vec<RechargeLine> = rows
        .into_iter()
        .filter_map(|r| {
            let (plate, plate_color, vip_type) = decode(&r.plate, r.plate_color, r.vip_type)?;
            Some(RechargeLine {
                plate,
                plate_color,
                vip_type,
                charge_type: r.charge_type,
                pay_partner: r.pay_partner,
                quantity: count(r.quantity),
                pay_type: PayType::from_code(r.pay_type).unwrap_or(PayType::Cash),
                value: r.value,
                pay_time: from_ms(r.pay_time),
                renewal_start: r.renewal_start.map(from_ms),
                renewal_end: r.renewal_end.map(from_ms),
                pay_value_fen: r.pay_value,
                operator: r.operator,
                sync_state: match (r.outbox_id, r.state) {
                    (Some(_), Some(s)) => s,
                    _ => "queued".to_owned(),
                },
            })
        })
        .collect();
    Ok(csv::write_recharges(&lines))
}
