//! The records CSV import: decode, parse and check every row against the car park (existing
//! plates and order numbers, computable periods), report, and — only when confirmed — write the
//! valid rows in one transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use protocol::vip::csv::{self, CsvError, EncodingChoice, RecordRow, RowError};
use protocol::vip::renewal::Period;
use serde::Serialize;

use super::records::{self, ImportRow, NewRecharge, NewRecord, RecordsError, Source};
use crate::storage::Db;

/// Valid rows shown in the report.
const PREVIEW_ROWS: usize = 20;

/// Why an upload cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not decodable, or the header is unusable.
    #[error(transparent)]
    BadCsv(#[from] CsvError),
    /// Writing failed (a row raced with another write, or the database failed).
    #[error(transparent)]
    Records(#[from] RecordsError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> ImportError {
        ImportError::Records(RecordsError::Storage(e))
    }
}

/// A problem with one line, for the report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// 1-based line of the file (the header is line 1).
    pub line: u64,
    /// The column's Chinese name, when one cell is at fault.
    pub column: Option<String>,
    /// What is wrong, in Chinese.
    pub message: String,
}

impl From<RowError> for LineError {
    fn from(e: RowError) -> LineError {
        LineError {
            line: e.line,
            column: e.column,
            message: e.message,
        }
    }
}

/// A valid row as the preview shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PreviewRow {
    /// Line of the file.
    pub line: u64,
    /// Normalised plate.
    pub plate: String,
    /// P云 colour code.
    pub plate_color: i32,
    /// P云 card type code.
    pub vip_type: u8,
    /// The car park's VIP tariff id.
    pub charge_type: String,
    /// Start of the period (given or computed).
    pub valid_from: Option<DateTime<Utc>>,
    /// End of the period, inclusive.
    pub valid_to: Option<DateTime<Utc>>,
}

/// What an upload holds and, when confirmed, what was written.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// `utf-8` or `gbk`.
    pub encoding: String,
    /// Data rows in the file.
    pub data_lines: u64,
    /// Rows that would be (or were) written.
    pub valid: u64,
    /// Every problem, by line.
    pub errors: Vec<LineError>,
    /// The first valid rows.
    pub preview: Vec<PreviewRow>,
    /// Whether anything was written.
    pub written: bool,
    /// Records created.
    pub created: u64,
}

fn import_row(row: RecordRow, now: DateTime<Utc>) -> ImportRow {
    ImportRow {
        record: NewRecord {
            plate: row.plate,
            plate_color: row.plate_color,
            card_no: row.card_no,
            card_id: row.card_id,
            charge_type: row.charge_type,
            vip_type: row.vip_type,
        },
        recharge: NewRecharge {
            quantity: row.quantity,
            pay_type: row.pay_type,
            value: None,
            pay_value_fen: row.pay_value_fen,
            pay_time: row.pay_time.unwrap_or(now),
            pay_partner: row.pay_partner,
            period: row
                .valid_from
                .zip(row.valid_to)
                .map(|(start, end)| Period { start, end }),
            operator: row.operator,
            source: Source::Import,
        },
    }
}

fn line_error(line: u64, column: &str, message: String) -> LineError {
    LineError {
        line,
        column: Some(column.to_owned()),
        message,
    }
}

/// Checks `bytes` as a records CSV for car park `park_id`; writes the valid rows when `confirm`.
pub async fn run(
    db: &Db,
    park_id: i64,
    bytes: &[u8],
    choice: EncodingChoice,
    confirm: bool,
    by: &str,
) -> Result<ImportReport, ImportError> {
    let started = std::time::Instant::now();
    let (text, encoding) = csv::decode(bytes, choice)?;
    let parsed = csv::parse_records(&text)?;
    drop(text);
    let parsed_at = started.elapsed();
    let now = Utc::now();
    let mut errors: Vec<LineError> = parsed.errors.into_iter().map(LineError::from).collect();
    // One query each, however many rows: a set lookup per row instead of a round trip.
    let plates = records::existing_plates(db, park_id).await?;
    let partners = if parsed.rows.iter().any(|(_, r)| r.pay_partner.is_some()) {
        records::existing_pay_partners(db, park_id).await?
    } else {
        HashSet::new()
    };
    let mut seen_partners: HashMap<String, u64> = HashMap::new();
    let mut valid: Vec<(u64, ImportRow, Period)> = Vec::with_capacity(parsed.rows.len());
    for (line, row) in parsed.rows {
        if plates.contains(row.plate.as_str()) {
            errors.push(line_error(
                line,
                "车牌号",
                format!("车牌号「{}」已存在于本车场", row.plate),
            ));
            continue;
        }
        if let Some(p) = &row.pay_partner {
            if partners.contains(p) {
                errors.push(line_error(
                    line,
                    "支付单号",
                    format!("支付单号「{p}」已存在于本车场"),
                ));
                continue;
            }
            if let Some(first) = seen_partners.get(p) {
                errors.push(line_error(
                    line,
                    "支付单号",
                    format!("支付单号「{p}」与第 {first} 行重复"),
                ));
                continue;
            }
            seen_partners.insert(p.clone(), line);
        }
        let row = import_row(row, now);
        match records::check_import_row(&row) {
            Ok(period) => valid.push((line, row, period)),
            Err(e) => errors.push(line_error(
                line,
                match &e {
                    RecordsError::Invalid {
                        field: "quantity", ..
                    } => "数量",
                    RecordsError::PeriodRequired(_) => "开始时间",
                    _ => "车牌号",
                },
                format!("第 {line} 行无法导入：{e}"),
            )),
        }
    }
    errors.sort_by_key(|e| e.line);
    let preview = valid
        .iter()
        .take(PREVIEW_ROWS)
        .map(|(line, row, period)| PreviewRow {
            line: *line,
            plate: row.record.plate.as_str().to_owned(),
            plate_color: row.record.plate_color.code(),
            vip_type: row.record.vip_type.code(),
            charge_type: row.record.charge_type.clone(),
            valid_from: Some(period.start),
            valid_to: Some(period.end),
        })
        .collect();
    let mut report = ImportReport {
        encoding: encoding.as_str().to_owned(),
        data_lines: parsed.data_lines,
        valid: valid.len() as u64,
        errors,
        preview,
        written: false,
        created: 0,
    };
    let checked_at = started.elapsed();
    if confirm && !valid.is_empty() {
        let rows: Vec<ImportRow> = valid.into_iter().map(|(_, row, _)| row).collect();
        report.created = records::import_rows(db, park_id, &rows, by).await?;
        report.written = true;
    }
    // Where an import's time goes, for the 100k-rows-in-10-s budget.
    tracing::info!(
        park = park_id,
        parse_ms = parsed_at.as_millis() as u64,
        check_ms = (checked_at - parsed_at).as_millis() as u64,
        write_ms = (started.elapsed() - checked_at).as_millis() as u64,
        "VIP import phases"
    );
    Ok(report)
}
