//! The VIP store: one record per car park and plate, and its recharges (P云 `ParkingVIP` rows).
//!
//! A record's `valid_from`/`valid_to` are the min/max over its recharges' periods, kept up to
//! date in the same transaction that adds a recharge. New recharges carry `outbox_id` NULL
//! ("queued"); the sync batcher (`vip::sync`) picks them up.

mod bulk;
mod detail;
mod error;
mod list;
mod pyun_rows;

use chrono::{DateTime, TimeDelta, Utc};
use protocol::plate::{Plate, PlateColor};
use protocol::pyun::{PayType, VipType};
use protocol::quote::VipWindow;
use protocol::vip::renewal::{Period, RenewalError, renewal_period};
use sqlx::AnyConnection;

use crate::storage::{Db, from_ms, to_ms, unique_violation};
use crate::tokens;

pub use bulk::{ImportRow, check_import_row, existing_pay_partners, existing_plates, import_rows};
pub use detail::{RechargeView, SyncView, VipRecordDetail, get_detail};
pub use error::RecordsError;
pub use list::{ListFilter, RecordPage, SyncClass, Validity, VipRecordView, list};
pub use pyun_rows::{PyunUpsert, upsert_from_pyun_rows};

/// Longest identifier we store (card numbers, charge types, order numbers), as P云's own limit.
pub const MAX_ID_CHARS: usize = protocol::pyun::fields::MAX_ID_CHARS;
/// Longest `value` (face value as text).
pub const MAX_VALUE_CHARS: usize = 32;

/// Where a recharge came from (the `source` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A person in the admin UI.
    Ui,
    /// A CSV import.
    Import,
    /// The machine API.
    Api,
}

impl Source {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Ui => "ui",
            Source::Import => "import",
            Source::Api => "api",
        }
    }
}

/// A new record's own fields.
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// The car.
    pub plate: Plate,
    /// Its plate colour.
    pub plate_color: PlateColor,
    /// Logical card number.
    pub card_no: Option<String>,
    /// Physical card number.
    pub card_id: Option<String>,
    /// The car park's VIP tariff id.
    pub charge_type: String,
    /// The kind of card.
    pub vip_type: VipType,
}

/// A recharge to add.
#[derive(Debug, Clone)]
pub struct NewRecharge {
    /// Units bought (months, days, ...).
    pub quantity: u32,
    /// Cash or online.
    pub pay_type: PayType,
    /// Face value as text (amount, count, days).
    pub value: Option<String>,
    /// Amount paid, fen (≥ 0).
    pub pay_value_fen: i64,
    /// When it was paid.
    pub pay_time: DateTime<Utc>,
    /// The car park's order number; generated when `None`.
    pub pay_partner: Option<String>,
    /// The period, when given explicitly; computed with `renewal_period` otherwise.
    pub period: Option<Period>,
    /// Who took the payment.
    pub operator: Option<String>,
    /// Where it came from.
    pub source: Source,
}

/// The Chinese name of a card type, as the UI and CSV files show it.
pub fn type_label(t: VipType) -> &'static str {
    match t {
        VipType::Free => "免费",
        VipType::Monthly => "月卡",
        VipType::StoredValue => "储值卡",
        VipType::StoredCount => "储次卡",
        VipType::StoredDays => "储天卡",
        VipType::Yearly => "年卡",
        VipType::Quarterly => "季卡",
        VipType::HalfYear => "半年卡",
    }
}

/// A fresh order number, unique per car park: `PB` + epoch ms + 8 random hex digits.
pub fn generate_pay_partner(now: DateTime<Utc>) -> String {
    format!("PB{}{}", now.timestamp_millis(), tokens::random_hex(4))
}

/// The period a recharge covers: the explicit one (checked), else the renewal of `quantity`
/// units continuing `current_end` at `pay_time`.
pub fn period_for(
    vip_type: VipType,
    quantity: u32,
    explicit: Option<Period>,
    current_end: Option<DateTime<Utc>>,
    pay_time: DateTime<Utc>,
) -> Result<Period, RecordsError> {
    if let Some(p) = explicit {
        if p.end < p.start {
            return Err(RecordsError::invalid(
                "end",
                "the period ends before it starts",
            ));
        }
        return Ok(p);
    }
    match renewal_period(vip_type, quantity, current_end, pay_time) {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(RecordsError::PeriodRequired(type_label(vip_type))),
        Err(RenewalError::ZeroQuantity) => Err(RecordsError::invalid(
            "quantity",
            "a renewal needs a quantity of at least 1",
        )),
        Err(e) => Err(RecordsError::invalid("quantity", e.to_string())),
    }
}

/// Optional text: trimmed, empty = absent, at most `max` characters, no control characters.
pub fn clean_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, RecordsError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(RecordsError::invalid(
            field,
            format!("at most {max} characters, no control characters"),
        ));
    }
    Ok(Some(v.to_owned()))
}

fn check_record(r: &NewRecord) -> Result<NewRecord, RecordsError> {
    let charge_type = clean_text("charge_type", Some(&r.charge_type), MAX_ID_CHARS)?
        .ok_or_else(|| RecordsError::invalid("charge_type", "required"))?;
    Ok(NewRecord {
        plate: r.plate.clone(),
        plate_color: r.plate_color,
        card_no: clean_text("card_no", r.card_no.as_deref(), MAX_ID_CHARS)?,
        card_id: clean_text("card_id", r.card_id.as_deref(), MAX_ID_CHARS)?,
        charge_type,
        vip_type: r.vip_type,
    })
}

fn check_recharge(r: &NewRecharge) -> Result<NewRecharge, RecordsError> {
    if r.pay_value_fen < 0 {
        return Err(RecordsError::invalid(
            "pay_value_fen",
            format!("{} fen is negative", r.pay_value_fen),
        ));
    }
    Ok(NewRecharge {
        value: clean_text("value", r.value.as_deref(), MAX_VALUE_CHARS)?,
        pay_partner: clean_text("pay_partner", r.pay_partner.as_deref(), MAX_ID_CHARS)?,
        operator: clean_text("operator", r.operator.as_deref(), MAX_ID_CHARS)?,
        ..r.clone()
    })
}

/// Maps a unique violation of our two VIP constraints to its 409; other errors pass through.
fn conflict(e: sqlx::Error, plate: &str, pay_partner: &str) -> RecordsError {
    // PostgreSQL names the constraint; SQLite's derived name starts with the table.
    match unique_violation(&e) {
        Some(c) if c.starts_with("vip_records") => RecordsError::VipExists(plate.to_owned()),
        Some(c) if c.starts_with("vip_recharges") => {
            RecordsError::PayPartnerTaken(pay_partner.to_owned())
        }
        _ => RecordsError::Storage(e),
    }
}

/// Inserts one recharge row whose `pay_partner` and `period` are decided; returns its id.
async fn insert_recharge_row(
    conn: &mut AnyConnection,
    record_id: i64,
    park_id: i64,
    plate: &str,
    r: &NewRecharge,
    now: DateTime<Utc>,
) -> Result<i64, RecordsError> {
    let pay_partner = r.pay_partner.as_deref().unwrap_or_default();
    let period = r.period;
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO vip_recharges (record_id, park_id, pay_partner, quantity, pay_type, value, pay_time, renewal_start, renewal_end, pay_value, operator, source, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(record_id)
    .bind(park_id)
    .bind(pay_partner)
    .bind(i64::from(r.quantity))
    .bind(i64::from(r.pay_type.code()))
    .bind(r.value.as_deref())
    .bind(to_ms(r.pay_time))
    .bind(period.map(|p| to_ms(p.start)))
    .bind(period.map(|p| to_ms(p.end)))
    .bind(r.pay_value_fen)
    .bind(r.operator.as_deref())
    .bind(r.source.as_str())
    .bind(to_ms(now))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, plate, pay_partner))
}

/// Creates a record with its first recharge in one transaction; returns the record id.
/// 409s: `VipExists` (plate), `PayPartnerTaken`.
pub async fn insert_record(
    db: &Db,
    park_id: i64,
    record: &NewRecord,
    recharge: &NewRecharge,
) -> Result<i64, RecordsError> {
    let record = check_record(record)?;
    let recharge = check_recharge(recharge)?;
    let period = period_for(
        record.vip_type,
        recharge.quantity,
        recharge.period,
        None,
        recharge.pay_time,
    )?;
    let now = Utc::now();
    let pay_partner = recharge
        .pay_partner
        .clone()
        .unwrap_or_else(|| generate_pay_partner(now));
    let plate = record.plate.as_str();
    let mut tx = db.pool.begin().await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO vip_records (park_id, plate, plate_color, card_no, card_id, charge_type, vip_type, valid_from, valid_to, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(park_id)
    .bind(plate)
    .bind(i64::from(record.plate_color.code()))
    .bind(record.card_no.as_deref())
    .bind(record.card_id.as_deref())
    .bind(&record.charge_type)
    .bind(i64::from(record.vip_type.code()))
    .bind(to_ms(period.start))
    .bind(to_ms(period.end))
    .bind(to_ms(now))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| conflict(e, plate, &pay_partner))?;
    let recharge = NewRecharge {
        pay_partner: Some(pay_partner),
        period: Some(period),
        ..recharge
    };
    insert_recharge_row(&mut tx, id, park_id, plate, &recharge, now).await?;
    tx.commit().await?;
    tracing::info!(record = id, park = park_id, "VIP record created");
    Ok(id)
}

/// The columns of a record that a renewal reads.
#[derive(sqlx::FromRow)]
struct RecordHead {
    park_id: i64,
    plate: String,
    vip_type: i64,
    valid_to: Option<i64>,
}

/// Adds a recharge to record `record_id` and widens the record's period to cover it; returns
/// the recharge id. Without an explicit period the renewal continues the record's `valid_to`.
pub async fn add_recharge(
    db: &Db,
    record_id: i64,
    recharge: &NewRecharge,
) -> Result<i64, RecordsError> {
    let recharge = check_recharge(recharge)?;
    let now = Utc::now();
    let mut tx = db.pool.begin().await?;
    // Writing first takes the row lock (PostgreSQL) or the write lock (SQLite), so two
    // renewals of one card cannot both continue from the same old end.
    let touched = sqlx::query("UPDATE vip_records SET updated_at = $1 WHERE id = $2")
        .bind(to_ms(now))
        .bind(record_id)
        .execute(&mut *tx)
        .await?;
    if touched.rows_affected() == 0 {
        return Err(RecordsError::NotFound);
    }
    let head = sqlx::query_as::<_, RecordHead>(
        "SELECT park_id, plate, vip_type, valid_to FROM vip_records WHERE id = $1",
    )
    .bind(record_id)
    .fetch_one(&mut *tx)
    .await?;
    let vip_type = VipType::from_code(head.vip_type).unwrap_or(VipType::Free);
    let period = period_for(
        vip_type,
        recharge.quantity,
        recharge.period,
        head.valid_to.map(from_ms),
        recharge.pay_time,
    )?;
    let pay_partner = recharge
        .pay_partner
        .clone()
        .unwrap_or_else(|| generate_pay_partner(now));
    let recharge = NewRecharge {
        pay_partner: Some(pay_partner),
        period: Some(period),
        ..recharge
    };
    let id = insert_recharge_row(
        &mut tx,
        record_id,
        head.park_id,
        &head.plate,
        &recharge,
        now,
    )
    .await?;
    widen_period(&mut tx, record_id, Some(period)).await?;
    tx.commit().await?;
    tracing::info!(record = record_id, recharge = id, "VIP recharge added");
    Ok(id)
}

/// Sets the record's period to the min/max of its own and `period`.
async fn widen_period(
    conn: &mut AnyConnection,
    record_id: i64,
    period: Option<Period>,
) -> Result<(), sqlx::Error> {
    let Some(p) = period else { return Ok(()) };
    sqlx::query(
        "UPDATE vip_records SET \
         valid_from = CASE WHEN valid_from IS NULL OR valid_from > $1 THEN $1 ELSE valid_from END, \
         valid_to = CASE WHEN valid_to IS NULL OR valid_to < $2 THEN $2 ELSE valid_to END \
         WHERE id = $3",
    )
    .bind(to_ms(p.start))
    .bind(to_ms(p.end))
    .bind(record_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The VIP window of `plate` at car park `park_id` for the fee engine, if it has a record with a
/// period. The stored end is inclusive to the second; the window's end is exclusive.
pub async fn window_for(
    db: &Db,
    park_id: i64,
    plate: &str,
) -> Result<Option<VipWindow>, sqlx::Error> {
    let row = sqlx::query_as::<_, (i64, Option<i64>, Option<i64>)>(
        "SELECT vip_type, valid_from, valid_to FROM vip_records WHERE park_id = $1 AND plate = $2",
    )
    .bind(park_id)
    .bind(plate)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.and_then(|(vip_type, from, to)| window_of(vip_type, from, to)))
}

/// The fee engine's window of a record's stored `vip_type`, `valid_from` and `valid_to` (ms; the
/// end inclusive to the second), for callers that read the record in a join of their own.
pub fn window_of(vip_type: i64, from: Option<i64>, to: Option<i64>) -> Option<VipWindow> {
    let (from, to) = (from_ms(from?), from_ms(to?));
    let label = VipType::from_code(vip_type).map_or("VIP", type_label);
    Some(VipWindow {
        valid_from: from,
        valid_until: to + TimeDelta::seconds(1),
        label: format!(
            "{label} 至{}",
            protocol::time::to_shanghai(to).format("%Y-%m-%d")
        ),
    })
}

#[cfg(test)]
mod tests;
