//! Reading a records CSV: header matching, then every row validated with each problem collected.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, Utc};

use super::cells::{
    parse_color, parse_pay_type, parse_time, parse_vip_type, parse_yuan, plate_reason,
    vip_type_name,
};
use super::{COLUMNS, Col, CsvError, ParsedRecords, REQUIRED, RecordRow, RowError};
use crate::plate::{Plate, PlateColor};
use crate::pyun::fields::MAX_ID_CHARS;
use crate::pyun::{PayType, VipType};

/// Parses a records CSV (header row required; columns matched by Chinese or English name, any order).
///
/// A plate repeated in the file is an error on its later line; unknown columns are one error on
/// the header's line and are otherwise ignored. `Err` only when the header is missing or unusable.
pub fn parse_records(text: &str) -> Result<ParsedRecords, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = Lines::of(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = ::csv::StringRecord::new();
    let header_line = match reader.read_record(&mut record) {
        Ok(true) => line_of(&record, text, &lines),
        Ok(false) => return Err(CsvError::Empty),
        Err(e) => {
            return Err(CsvError::Malformed {
                line: e.position().map_or(1, |p| lines.line_at(p.byte())),
                message: e.to_string(),
            });
        }
    };
    let mut index: [Option<usize>; COLUMNS.len()] = [None; COLUMNS.len()];
    let mut unknown = Vec::new();
    for (i, name) in record.iter().enumerate() {
        let name = name.trim_start_matches('\u{feff}').trim();
        if name.is_empty() {
            // Spreadsheets leave unnamed trailing columns; they hold nothing we could read.
            continue;
        }
        match Col::named(name) {
            Some(c) if index[c as usize].is_some() => {
                return Err(CsvError::DuplicateColumn(c.zh().to_owned()));
            }
            Some(c) => index[c as usize] = Some(i),
            None => unknown.push(format!("「{name}」")),
        }
    }
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|c| index[**c as usize].is_none())
        .map(|c| c.zh().to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(CsvError::MissingColumns(missing));
    }
    let width = record.len();
    let mut out = ParsedRecords::default();
    if !unknown.is_empty() {
        out.errors.push(RowError {
            line: header_line,
            column: None,
            message: format!("未知的列 {}，已忽略", unknown.join("、")),
        });
    }
    let mut seen: HashMap<Plate, u64> = HashMap::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                out.errors.push(RowError {
                    line: e
                        .position()
                        .map_or(header_line, |p| lines.line_at(p.byte())),
                    column: None,
                    message: format!("无法读取：{e}"),
                });
                break;
            }
        }
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        out.data_lines += 1;
        let mut row = RowCheck {
            line: line_of(&record, text, &lines),
            errors: &mut out.errors,
            failed: false,
        };
        if record.iter().skip(width).any(|f| !f.trim().is_empty()) {
            row.fail(
                None,
                format!("该行有 {} 列，多于表头的 {width} 列", record.len()),
            );
        }
        let cell = |c: Col| {
            index[c as usize]
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        if let Some(r) = read_row(&cell, &mut row, &mut seen) {
            let line = row.line;
            out.rows.push((line, r));
        }
    }
    Ok(out)
}

/// The line a record starts on. The reader places a record that follows blank lines at the
/// first of them, so those are stepped over here to name the line a person sees.
fn line_of(record: &::csv::StringRecord, text: &str, lines: &Lines) -> u64 {
    let Some(pos) = record.position() else {
        return 0;
    };
    let start = usize::try_from(pos.byte()).unwrap_or(usize::MAX);
    let blank = text
        .as_bytes()
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    lines.line_at((start + blank) as u64)
}

/// Where each line of the file starts. A line ends at `\r\n`, `\n` or a lone `\r` (what
/// spreadsheets on old Macs write): the csv crate ends records at all three but counts lines at
/// `\n` only, so a CR-only file would put every row on line 1.
struct Lines {
    /// Byte offset of each line's first byte; line 1 starts at 0.
    starts: Vec<usize>,
}

impl Lines {
    fn of(text: &str) -> Lines {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 1;
                }
                b'\r' | b'\n' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        Lines { starts }
    }

    /// The 1-based line holding byte `at`.
    fn line_at(&self, at: u64) -> u64 {
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        self.starts.partition_point(|&s| s <= at) as u64
    }
}

/// Collects one row's problems, remembering whether there was any.
struct RowCheck<'a> {
    line: u64,
    errors: &'a mut Vec<RowError>,
    failed: bool,
}

impl RowCheck<'_> {
    fn fail(&mut self, column: Option<Col>, message: String) {
        self.failed = true;
        self.errors.push(RowError {
            line: self.line,
            column: column.map(|c| c.zh().to_owned()),
            message,
        });
    }

    /// Optional free text, trimmed, within P云's length limit.
    fn text(&mut self, col: Col, value: Option<&str>) -> Option<String> {
        let s = value?;
        if s.chars().count() > MAX_ID_CHARS {
            let head: String = s.chars().take(16).collect();
            self.fail(
                Some(col),
                format!("{}「{head}…」过长：最多 {MAX_ID_CHARS} 个字符", col.zh()),
            );
            return None;
        }
        Some(s.to_owned())
    }

    /// A time cell: `Ok(None)` when empty, `Err(())` when bad (already reported).
    fn time(
        &mut self,
        col: Col,
        value: Option<&str>,
        end_of_day: bool,
    ) -> Result<Option<DateTime<Utc>>, ()> {
        let Some(s) = value else { return Ok(None) };
        match parse_time(s, end_of_day) {
            Some(t) => Ok(Some(t)),
            None => {
                self.fail(
                    Some(col),
                    format!(
                        "{}「{s}」无效：应为 yyyy-MM-dd 或 yyyy-MM-dd HH:mm:ss（北京时间）",
                        col.zh()
                    ),
                );
                Err(())
            }
        }
    }
}

fn read_row<'r>(
    cell: &impl Fn(Col) -> Option<&'r str>,
    row: &mut RowCheck<'_>,
    seen: &mut HashMap<Plate, u64>,
) -> Option<RecordRow> {
    let plate = match cell(Col::Plate) {
        None => {
            row.fail(Some(Col::Plate), "车牌号为空".to_owned());
            None
        }
        Some(s) => match Plate::parse(s) {
            Ok(p) => Some(p),
            Err(e) => {
                row.fail(
                    Some(Col::Plate),
                    format!("车牌号「{s}」无效：{}", plate_reason(&e)),
                );
                None
            }
        },
    };
    if let Some(p) = &plate {
        match seen.entry(p.clone()) {
            Entry::Occupied(first) => {
                let first = *first.get();
                row.fail(
                    Some(Col::Plate),
                    format!("车牌号「{p}」与第 {first} 行重复"),
                );
            }
            Entry::Vacant(v) => {
                v.insert(row.line);
            }
        }
    }
    let plate_color = match cell(Col::PlateColor) {
        None => plate.as_ref().map(|p| PlateColor::default_for(p.kind())),
        Some(s) => {
            let c = parse_color(s);
            if c.is_none() {
                row.fail(
                    Some(Col::PlateColor),
                    format!("车牌颜色「{s}」无效：应为 蓝 黄 白 黑 绿 未知，或代码 1–5、-1"),
                );
            }
            c
        }
    };
    let card_no = row.text(Col::CardNo, cell(Col::CardNo));
    let card_id = row.text(Col::CardId, cell(Col::CardId));
    let charge_type = match cell(Col::ChargeType) {
        None => {
            row.fail(Some(Col::ChargeType), "收费类型为空".to_owned());
            None
        }
        s => row.text(Col::ChargeType, s),
    };
    let vip_type = match cell(Col::VipType) {
        None => {
            row.fail(Some(Col::VipType), "VIP类型为空".to_owned());
            None
        }
        Some(s) => {
            let t = parse_vip_type(s);
            if t.is_none() {
                row.fail(
                    Some(Col::VipType),
                    format!(
                        "VIP类型「{s}」无效：应为 月卡 储值卡 储次卡 储天卡 年卡 季卡 半年卡 免费，或代码 0–7"
                    ),
                );
            }
            t
        }
    };
    let from_cell = cell(Col::ValidFrom);
    let to_cell = cell(Col::ValidTo);
    let valid_from = row.time(Col::ValidFrom, from_cell, false);
    let valid_to = row.time(Col::ValidTo, to_cell, true);
    if let (Ok(from), Ok(to)) = (valid_from, valid_to) {
        check_period(row, vip_type, from, to, from_cell, to_cell);
    }
    let pay_partner = row.text(Col::PayPartner, cell(Col::PayPartner));
    let quantity = match cell(Col::Quantity) {
        None => Some(1),
        Some(s) => {
            let q = s
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| s.parse::<u32>().ok())
                .flatten();
            if q.is_none() {
                row.fail(
                    Some(Col::Quantity),
                    format!("数量「{s}」无效：应为不小于 0 的整数"),
                );
            }
            q
        }
    };
    let pay_type = match cell(Col::PayType) {
        None => Some(PayType::Cash),
        Some(s) => {
            let p = parse_pay_type(s);
            if p.is_none() {
                row.fail(
                    Some(Col::PayType),
                    format!("支付方式「{s}」无效：应为 现金 或 线上（代码 1 或 2）"),
                );
            }
            p
        }
    };
    let pay_value_fen = match cell(Col::Amount) {
        None => Some(0),
        Some(s) => match parse_yuan(s) {
            Ok(fen) => Some(fen),
            Err(why) => {
                row.fail(Some(Col::Amount), format!("金额(元)「{s}」无效：{why}"));
                None
            }
        },
    };
    let pay_time = row.time(Col::PayTime, cell(Col::PayTime), false);
    let operator = row.text(Col::Operator, cell(Col::Operator));
    if row.failed {
        return None;
    }
    Some(RecordRow {
        plate: plate?,
        plate_color: plate_color?,
        card_no,
        card_id,
        charge_type: charge_type?,
        vip_type: vip_type?,
        valid_from: valid_from.ok()?,
        valid_to: valid_to.ok()?,
        pay_partner,
        quantity: quantity?,
        pay_type: pay_type?,
        pay_value_fen: pay_value_fen?,
        pay_time: pay_time.ok()?,
        operator,
    })
}

/// Free, StoredValue and StoredCount have no renewal rule, so their period must be in the file;
/// the others take both dates or neither (then the importer computes the period).
fn check_period(
    row: &mut RowCheck<'_>,
    vip_type: Option<VipType>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    from_cell: Option<&str>,
    to_cell: Option<&str>,
) {
    const BOTH: &str = "开始时间和结束时间须同时填写或同时留空";
    match (from, to) {
        (Some(f), Some(t)) if t < f => row.fail(
            Some(Col::ValidTo),
            format!(
                "结束时间「{}」早于开始时间「{}」",
                to_cell.unwrap_or_default(),
                from_cell.unwrap_or_default()
            ),
        ),
        (Some(_), None) => row.fail(Some(Col::ValidTo), format!("结束时间为空：{BOTH}")),
        (None, Some(_)) => row.fail(Some(Col::ValidFrom), format!("开始时间为空：{BOTH}")),
        (None, None) => {
            if let Some(t) = vip_type.filter(|t| {
                matches!(
                    t,
                    VipType::Free | VipType::StoredValue | VipType::StoredCount
                )
            }) {
                row.fail(
                    Some(Col::ValidFrom),
                    format!("VIP类型「{}」须填写开始时间和结束时间", vip_type_name(t)),
                );
            }
        }
        (Some(_), Some(_)) => {}
    }
}
