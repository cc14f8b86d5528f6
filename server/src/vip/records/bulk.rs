//! Bulk writes for the CSV import: every row in one transaction, with multi-row INSERTs.
//!
//! One statement carries up to `CHUNK_ROWS` rows: 13 parameters a row stays far below SQLite's
//! 32766 bound parameters and PostgreSQL's 65535. A statement per row would cost a round trip
//! each, which is what makes 100k rows take minutes instead of seconds.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use protocol::vip::renewal::Period;
use sqlx::{Any, AssertSqlSafe};

use super::{
    NewRecharge, NewRecord, RecordsError, Source, check_recharge, check_record, conflict,
    generate_pay_partner, period_for,
};
use crate::storage::{Db, to_ms, values_sql};

/// Rows per INSERT statement.
const CHUNK_ROWS: usize = 2000;
/// Bound parameters per record row.
const RECORD_COLS: usize = 11;
/// Bound parameters per recharge row.
const RECHARGE_COLS: usize = 13;

/// One imported line: a new record and its first recharge.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The record.
    pub record: NewRecord,
    /// Its first recharge (source is forced to `import`).
    pub recharge: NewRecharge,
}

/// The period `row` would get, after every check `import_rows` makes of it (the preview's
/// per-row verdict).
pub fn check_import_row(row: &ImportRow) -> Result<Period, RecordsError> {
    let record = check_record(&row.record)?;
    let recharge = check_recharge(&row.recharge)?;
    period_for(
        record.vip_type,
        recharge.quantity,
        recharge.period,
        None,
        recharge.pay_time,
    )
}

/// The plates that already have a record in car park `park_id` (one query).
pub async fn existing_plates(db: &Db, park_id: i64) -> Result<HashSet<String>, sqlx::Error> {
    let plates =
        sqlx::query_scalar::<_, String>("SELECT plate FROM vip_records WHERE park_id = $1")
            .bind(park_id)
            .fetch_all(&db.pool)
            .await?;
    Ok(plates.into_iter().collect())
}

/// The order numbers already used in car park `park_id` (one query).
pub async fn existing_pay_partners(db: &Db, park_id: i64) -> Result<HashSet<String>, sqlx::Error> {
    let partners =
        sqlx::query_scalar::<_, String>("SELECT pay_partner FROM vip_recharges WHERE park_id = $1")
            .bind(park_id)
            .fetch_all(&db.pool)
            .await?;
    Ok(partners.into_iter().collect())
}

/// Writes every row (record + first recharge, source `import`) in one transaction; returns the
/// number of records created. Any invalid row, existing plate or used order number fails the
/// whole import: the preview reports those first.
pub async fn import_rows(
    db: &Db,
    park_id: i64,
    rows: &[ImportRow],
    by: &str,
) -> Result<u64, RecordsError> {
    let now = Utc::now();
    let now_ms = to_ms(now);
    // One random prefix per import plus the row index: unique, without 100k random draws.
    let prefix = generate_pay_partner(now);
    let mut prepared = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let record = check_record(&row.record)?;
        let mut recharge = check_recharge(&row.recharge)?;
        let period = period_for(
            record.vip_type,
            recharge.quantity,
            recharge.period,
            None,
            recharge.pay_time,
        )?;
        recharge.source = Source::Import;
        if recharge.operator.is_none() {
            recharge.operator = Some(by.to_owned());
        }
        let pay_partner = recharge
            .pay_partner
            .clone()
            .unwrap_or_else(|| format!("{prefix}{i:06}"));
        prepared.push((record, recharge, period, pay_partner));
    }
    let mut tx = db.pool.begin().await?;
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(prepared.len());
    for chunk in prepared.chunks(CHUNK_ROWS) {
        let sql = values_sql(
            db.backend,
            "INSERT INTO vip_records (park_id, plate, plate_color, card_no, card_id, charge_type, vip_type, valid_from, valid_to, created_at, updated_at)",
            RECORD_COLS,
            chunk.len(),
            " RETURNING id, plate",
        );
        let mut q = sqlx::query_as::<Any, (i64, String)>(AssertSqlSafe(sql));
        for (record, _, period, _) in chunk {
            q = q
                .bind(park_id)
                .bind(record.plate.as_str().to_owned())
                .bind(i64::from(record.plate_color.code()))
                .bind(record.card_no.clone())
                .bind(record.card_id.clone())
                .bind(record.charge_type.clone())
                .bind(i64::from(record.vip_type.code()))
                .bind(to_ms(period.start))
                .bind(to_ms(period.end))
                .bind(now_ms)
                .bind(now_ms);
        }
        let created = q
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| conflict(e, "(a plate of the file)", ""))?;
        ids.extend(created.into_iter().map(|(id, plate)| (plate, id)));
    }
    for chunk in prepared.chunks(CHUNK_ROWS) {
        let sql = values_sql(
            db.backend,
            "INSERT INTO vip_recharges (record_id, park_id, pay_partner, quantity, pay_type, value, pay_time, renewal_start, renewal_end, pay_value, operator, source, created_at)",
            RECHARGE_COLS,
            chunk.len(),
            "",
        );
        let mut q = sqlx::query::<Any>(AssertSqlSafe(sql));
        for (record, recharge, period, pay_partner) in chunk {
            let record_id = ids.get(record.plate.as_str()).copied().ok_or_else(|| {
                RecordsError::invalid("plate", format!("{} appears twice", record.plate))
            })?;
            q = q
                .bind(record_id)
                .bind(park_id)
                .bind(pay_partner.clone())
                .bind(i64::from(recharge.quantity))
                .bind(i64::from(recharge.pay_type.code()))
                .bind(recharge.value.clone())
                .bind(to_ms(recharge.pay_time))
                .bind(to_ms(period.start))
                .bind(to_ms(period.end))
                .bind(recharge.pay_value_fen)
                .bind(recharge.operator.clone())
                .bind(Source::Import.as_str())
                .bind(now_ms);
        }
        q.execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, "", "(an order number of the file)"))?;
    }
    tx.commit().await?;
    let created = prepared.len() as u64;
    tracing::info!(park = park_id, created, "VIP records imported");
    Ok(created)
}
