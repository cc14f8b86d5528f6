//! Recharges a local system sends through the machine API as P云 `ParkingVIP` rows: each row
//! upserts its plate's record and adds a recharge, unless its `pay_partner` is already there.

use chrono::{DateTime, Utc};
use protocol::pyun::ParkingVip;
use protocol::vip::renewal::Period;
use sqlx::AnyConnection;

use super::{
    NewRecharge, NewRecord, RecordsError, Source, check_recharge, check_record, conflict,
    insert_recharge_row, period_for, widen_period,
};
use crate::storage::{Db, from_ms, lock_park, to_ms};

/// What a batch of rows did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyunUpsert {
    /// Rows that added a recharge.
    pub accepted: u64,
    /// Rows whose `pay_partner` was already recorded with the same content.
    pub duplicates: u64,
    /// The recharge of every row, in row order (new or already recorded).
    pub ids: Vec<i64>,
}

/// The stored recharge an order number names, with its record's plate.
#[derive(sqlx::FromRow)]
struct Existing {
    id: i64,
    plate: String,
    quantity: i64,
    pay_type: i64,
    value: Option<String>,
    pay_time: i64,
    renewal_start: Option<i64>,
    renewal_end: Option<i64>,
    pay_value: i64,
    operator: Option<String>,
}

impl Existing {
    /// Whether `row` asks for what is stored. Times the row left out were filled in by us on
    /// its first arrival (now, the computed period), so they are not compared.
    fn same_as(&self, row: &ParkingVip) -> bool {
        let same_time = |stored: Option<i64>, sent: Option<DateTime<Utc>>| {
            sent.is_none_or(|t| stored == Some(to_ms(t)))
        };
        self.plate == row.plate.as_str()
            && self.quantity == i64::from(row.quantity)
            && self.pay_type == i64::from(row.pay_type.code())
            && self.value.as_deref()
                == row
                    .value
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            && same_time(Some(self.pay_time), row.pay_time)
            && same_time(self.renewal_start, row.renewal_start_time)
            && same_time(self.renewal_end, row.renewal_end_time)
            && self.pay_value == row.pay_value.unwrap_or(0)
            && self.operator.as_deref()
                == row
                    .operator
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
    }
}

fn invalid_row(index: usize, e: impl std::fmt::Display) -> RecordsError {
    RecordsError::Invalid {
        field: "rows",
        message: format!("row {index}: {e}"),
    }
}

/// Records `rows` for car park `park_id` in one transaction. A `pay_partner` already recorded
/// with the same content is a duplicate; with different content the whole call is a 409.
pub async fn upsert_from_pyun_rows(
    db: &Db,
    park_id: i64,
    rows: &[ParkingVip],
    by: &str,
) -> Result<PyunUpsert, RecordsError> {
    for (i, row) in rows.iter().enumerate() {
        row.validate().map_err(|e| invalid_row(i, e))?;
        if row.renewal_start_time.is_some() != row.renewal_end_time.is_some() {
            return Err(invalid_row(
                i,
                "renewal_start_time and renewal_end_time go together",
            ));
        }
    }
    let now = Utc::now();
    let mut out = PyunUpsert {
        accepted: 0,
        duplicates: 0,
        ids: Vec::with_capacity(rows.len()),
    };
    let mut tx = db.pool.begin().await?;
    // One call per car park at a time, on every instance: the same call sent again (a client or
    // proxy retrying on another instance) then sees the first one's rows and answers
    // `duplicates`, instead of racing it to insert the plate's record (409 `vip_exists`). And a
    // recharge's id is taken under the lock the batcher takes too, so no later id is batched
    // while an earlier one is still uncommitted: batches keep the order of the calls.
    lock_park(&mut tx, park_id).await?;
    for (i, row) in rows.iter().enumerate() {
        let existing = sqlx::query_as::<_, Existing>(
            "SELECT r.id, v.plate, r.quantity, r.pay_type, r.value, r.pay_time, r.renewal_start, \
             r.renewal_end, r.pay_value, r.operator FROM vip_recharges r \
             JOIN vip_records v ON v.id = r.record_id WHERE r.park_id = $1 AND r.pay_partner = $2",
        )
        .bind(park_id)
        .bind(row.pay_partner.trim())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(existing) = existing {
            if !existing.same_as(row) {
                return Err(RecordsError::PayPartnerTaken(row.pay_partner.clone()));
            }
            out.duplicates += 1;
            out.ids.push(existing.id);
            continue;
        }
        let id = add_row(&mut tx, park_id, row, by, now)
            .await
            .map_err(|e| match e {
                RecordsError::Invalid { field, message } => {
                    invalid_row(i, format!("{field}: {message}"))
                }
                RecordsError::PeriodRequired(t) => invalid_row(
                    i,
                    format!("a {t} card needs renewal_start_time and renewal_end_time"),
                ),
                other => other,
            })?;
        out.accepted += 1;
        out.ids.push(id);
    }
    tx.commit().await?;
    tracing::info!(
        park = park_id,
        accepted = out.accepted,
        duplicates = out.duplicates,
        "VIP rows recorded from the machine API"
    );
    Ok(out)
}

/// Upserts the row's record by plate (its fields become the row's; its period widens) and
/// inserts the recharge.
async fn add_row(
    conn: &mut AnyConnection,
    park_id: i64,
    row: &ParkingVip,
    by: &str,
    now: DateTime<Utc>,
) -> Result<i64, RecordsError> {
    let record = check_record(&NewRecord {
        plate: row.plate.clone(),
        plate_color: row.plate_color,
        card_no: row.card_no.clone(),
        card_id: row.card_id.clone(),
        charge_type: row.charge_type.clone(),
        vip_type: row.vip_type,
    })?;
    let recharge = check_recharge(&NewRecharge {
        quantity: row.quantity,
        pay_type: row.pay_type,
        value: row.value.clone(),
        pay_value_fen: row.pay_value.unwrap_or(0),
        pay_time: row.pay_time.unwrap_or(now),
        pay_partner: Some(row.pay_partner.clone()),
        period: row
            .renewal_start_time
            .zip(row.renewal_end_time)
            .map(|(start, end)| Period { start, end }),
        operator: row.operator.clone().or_else(|| Some(by.to_owned())),
        source: Source::Api,
    })?;
    let plate = record.plate.as_str();
    let current = sqlx::query_as::<_, (i64, Option<i64>)>(
        "SELECT id, valid_to FROM vip_records WHERE park_id = $1 AND plate = $2",
    )
    .bind(park_id)
    .bind(plate)
    .fetch_optional(&mut *conn)
    .await?;
    let period = period_for(
        record.vip_type,
        recharge.quantity,
        recharge.period,
        current.and_then(|(_, to)| to).map(from_ms),
        recharge.pay_time,
    )?;
    let pay_partner = recharge.pay_partner.clone().unwrap_or_default();
    let record_id = match current {
        Some((id, _)) => {
            sqlx::query(
                "UPDATE vip_records SET plate_color = $1, card_no = $2, card_id = $3, charge_type = $4, \
                 vip_type = $5, updated_at = $6 WHERE id = $7",
            )
            .bind(i64::from(record.plate_color.code()))
            .bind(record.card_no.as_deref())
            .bind(record.card_id.as_deref())
            .bind(&record.charge_type)
            .bind(i64::from(record.vip_type.code()))
            .bind(to_ms(now))
            .bind(id)
            .execute(&mut *conn)
            .await?;
            id
        }
        None => sqlx::query_scalar::<_, i64>(
            "INSERT INTO vip_records (park_id, plate, plate_color, card_no, card_id, charge_type, vip_type, valid_from, valid_to, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8, $8) RETURNING id",
        )
        .bind(park_id)
        .bind(plate)
        .bind(i64::from(record.plate_color.code()))
        .bind(record.card_no.as_deref())
        .bind(record.card_id.as_deref())
        .bind(&record.charge_type)
        .bind(i64::from(record.vip_type.code()))
        .bind(to_ms(now))
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| conflict(e, plate, &pay_partner))?,
    };
    let recharge = NewRecharge {
        period: Some(period),
        ..recharge
    };
    let id = insert_recharge_row(conn, record_id, park_id, plate, &recharge, now).await?;
    widen_period(conn, record_id, Some(period)).await?;
    Ok(id)
}
