//! VIP records as CSV: decoding an upload (UTF-8 or GBK), reading and validating records, and writing exports.
//!
//! The `csv` crate does the RFC 4180 work (quoted commas, doubled quotes, newlines inside
//! quotes); this module owns the column names, the cell languages and the Chinese error messages
//! an import report shows. Every problem in a row is collected, so one upload reports them all.
//! `read` validates uploads, `write` produces exports, `cells` holds what one cell may say.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use encoding_rs::{EncoderResult, GBK};
use serde::{Deserialize, Serialize};

use crate::plate::{Plate, PlateColor};
use crate::pyun::{PayType, VipType};

mod cells;
mod read;
mod write;

pub use cells::{format_yuan, parse_yuan};
pub use read::parse_records;
pub use write::{write_recharges, write_records, write_table};

/// The text encoding an upload turned out to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CsvEncoding {
    /// UTF-8 (a BOM, if any, removed).
    #[serde(rename = "utf-8")]
    Utf8,
    /// GBK, what Excel in China saves "CSV" as.
    #[serde(rename = "gbk")]
    Gbk,
}

impl CsvEncoding {
    /// The name the import report carries: `utf-8` or `gbk`.
    pub fn as_str(self) -> &'static str {
        match self {
            CsvEncoding::Utf8 => "utf-8",
            CsvEncoding::Gbk => "gbk",
        }
    }
}

/// The encoding the uploader asked for (`?encoding=auto|utf-8|gbk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum EncodingChoice {
    /// UTF-8 when the bytes are valid UTF-8, else GBK.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// UTF-8 only.
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    /// GBK only.
    #[serde(rename = "gbk", alias = "GBK")]
    Gbk,
}

/// Why an upload cannot be read at all (as opposed to a bad row, which is a [`RowError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// UTF-8 was asked for (or promised by a BOM) and the bytes are not UTF-8.
    #[error("文件不是有效的 UTF-8 编码（第 {offset} 字节处无法解码）")]
    NotUtf8 {
        /// 0-based byte offset of the first undecodable byte, counting a BOM.
        offset: usize,
    },
    /// GBK was asked for and the bytes are not GBK (or carry a UTF-8 BOM).
    #[error("文件不是有效的 GBK 编码")]
    NotGbk,
    /// Automatic detection found neither UTF-8 nor GBK.
    #[error("文件既不是 UTF-8 也不是 GBK 编码的文本")]
    UnknownEncoding,
    /// No header row.
    #[error("文件为空：第 1 行应为表头")]
    Empty,
    /// The header lacks columns every row needs.
    #[error("表头缺少必填列：{}", .0.join("、"))]
    MissingColumns(Vec<String>),
    /// Two header cells name the same column, so which one counts is unclear.
    #[error("表头中「{0}」列出现了不止一次")]
    DuplicateColumn(String),
    /// The header row itself could not be read.
    #[error("第 {line} 行（表头）无法读取：{message}")]
    Malformed {
        /// Line of the file.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
}

/// One data row of a records CSV, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    /// The VIP's car.
    pub plate: Plate,
    /// As given, or the usual colour for the plate's kind.
    pub plate_color: PlateColor,
    /// Logical card number.
    pub card_no: Option<String>,
    /// Physical card number.
    pub card_id: Option<String>,
    /// The car park's VIP tariff id.
    pub charge_type: String,
    /// The kind of card.
    pub vip_type: VipType,
    /// Start of the period, when the file gives one.
    pub valid_from: Option<DateTime<Utc>>,
    /// End of the period (inclusive), when the file gives one.
    pub valid_to: Option<DateTime<Utc>>,
    /// The recharge's order number, when the file gives one.
    pub pay_partner: Option<String>,
    /// Units bought (default 1; 0 allowed).
    pub quantity: u32,
    /// How it was paid (default cash).
    pub pay_type: PayType,
    /// Amount paid, in fen (default 0).
    pub pay_value_fen: i64,
    /// When it was paid, when the file says.
    pub pay_time: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub operator: Option<String>,
}

/// A problem with one row (or, on the header's line, with the header), for the import report.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RowError {
    /// 1-based line of the file where the row starts; the header is line 1.
    pub line: u64,
    /// The column's Chinese name, when one cell is at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What is wrong, in Chinese, naming the column and the value.
    pub message: String,
}

/// What a records CSV held: the valid rows with their lines, every problem found, and the row count.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedRecords {
    /// Valid rows, each with the line it starts on, in file order.
    pub rows: Vec<(u64, RecordRow)>,
    /// Every problem, in file order.
    pub errors: Vec<RowError>,
    /// Data rows read (blank rows not counted).
    pub data_lines: u64,
}

/// One recharge as the recharges export lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RechargeLine {
    /// The VIP's car.
    pub plate: Plate,
    /// The plate's colour.
    pub plate_color: PlateColor,
    /// The kind of card.
    pub vip_type: VipType,
    /// The car park's VIP tariff id.
    pub charge_type: String,
    /// The recharge's order number.
    pub pay_partner: String,
    /// Units bought.
    pub quantity: u32,
    /// How it was paid.
    pub pay_type: PayType,
    /// Face value (amount, count or days) as text.
    pub value: Option<String>,
    /// When it was paid.
    pub pay_time: DateTime<Utc>,
    /// Start of the renewed period.
    pub renewal_start: Option<DateTime<Utc>>,
    /// End of the renewed period (inclusive).
    pub renewal_end: Option<DateTime<Utc>>,
    /// Amount paid, in fen.
    pub pay_value_fen: i64,
    /// Who recorded it.
    pub operator: Option<String>,
    /// Where its sync to P云 stands (`delivered`, `pending`...).
    pub sync_state: String,
}

/// The columns of a records CSV, in the order `write_records` writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Plate,
    PlateColor,
    CardNo,
    CardId,
    ChargeType,
    VipType,
    ValidFrom,
    ValidTo,
    PayPartner,
    Quantity,
    PayType,
    Amount,
    PayTime,
    Operator,
}

/// Column, Chinese header, English header; indexed by `Col as usize`.
const COLUMNS: [(Col, &str, &str); 14] = [
    (Col::Plate, "车牌号", "plate"),
    (Col::PlateColor, "车牌颜色", "plate_color"),
    (Col::CardNo, "卡号", "card_no"),
    (Col::CardId, "物理卡号", "card_id"),
    (Col::ChargeType, "收费类型", "charge_type"),
    (Col::VipType, "VIP类型", "vip_type"),
    (Col::ValidFrom, "开始时间", "valid_from"),
    (Col::ValidTo, "结束时间", "valid_to"),
    (Col::PayPartner, "支付单号", "pay_partner"),
    (Col::Quantity, "数量", "quantity"),
    (Col::PayType, "支付方式", "pay_type"),
    (Col::Amount, "金额(元)", "amount_yuan"),
    (Col::PayTime, "支付时间", "pay_time"),
    (Col::Operator, "操作员", "operator"),
];

const REQUIRED: [Col; 3] = [Col::Plate, Col::ChargeType, Col::VipType];

/// The recharges export's header, in `RechargeLine` order.
const RECHARGE_HEADER: [&str; 14] = [
    "车牌号",
    "车牌颜色",
    "VIP类型",
    "收费类型",
    "支付单号",
    "数量",
    "支付方式",
    "面值",
    "支付时间",
    "开始时间",
    "结束时间",
    "金额(元)",
    "操作员",
    "同步状态",
];

impl Col {
    fn zh(self) -> &'static str {
        COLUMNS[self as usize].1
    }

    /// Chinese exactly, English ignoring ASCII case; Excel users also type full-width brackets.
    fn named(name: &str) -> Option<Col> {
        COLUMNS
            .iter()
            .find(|(_, zh, en)| name.eq_ignore_ascii_case(zh) || name.eq_ignore_ascii_case(en))
            .map(|c| c.0)
            .or_else(|| (name == "金额（元）").then_some(Col::Amount))
    }
}

/// Decodes the upload: strips a UTF-8 BOM; Auto = UTF-8 if the bytes are valid UTF-8, else GBK.
pub fn decode(bytes: &[u8], choice: EncodingChoice) -> Result<(String, CsvEncoding), CsvError> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let (bom, body) = match bytes.strip_prefix(BOM) {
        Some(body) => (BOM.len(), body),
        None => (0, bytes),
    };
    let utf8 = || {
        std::str::from_utf8(body)
            .map(|s| (s.to_owned(), CsvEncoding::Utf8))
            .map_err(|e| CsvError::NotUtf8 {
                offset: bom + e.valid_up_to(),
            })
    };
    let gbk = || {
        GBK.decode_without_bom_handling_and_without_replacement(body)
            .map(|s| (Cow::into_owned(s), CsvEncoding::Gbk))
    };
    match choice {
        EncodingChoice::Utf8 => utf8(),
        // A BOM is a promise of UTF-8: GBK bytes never start with one.
        EncodingChoice::Gbk if bom > 0 => Err(CsvError::NotGbk),
        EncodingChoice::Gbk => gbk().ok_or(CsvError::NotGbk),
        EncodingChoice::Auto if bom > 0 => utf8(),
        EncodingChoice::Auto => utf8().or_else(|_| gbk().ok_or(CsvError::UnknownEncoding)),
    }
}

/// Encodes an export as GBK for Excel in China; fails naming the first character GBK cannot hold.
pub fn encode_gbk(text: &str) -> Result<Vec<u8>, String> {
    let mut encoder = GBK.new_encoder();
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    loop {
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
        rest = &rest[read..];
        match result {
            EncoderResult::InputEmpty => return Ok(out),
            EncoderResult::OutputFull => out.reserve(rest.len() * 2 + 16),
            EncoderResult::Unmappable(c) => {
                let at = text.len() - rest.len() - c.len_utf8();
                let line = text[..at].matches('\n').count() + 1;
                return Err(format!(
                    "第 {line} 行的字符「{c}」（U+{:04X}）无法用 GBK 编码，请导出为 UTF-8",
                    u32::from(c)
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
