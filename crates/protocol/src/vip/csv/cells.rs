//! The language of each cell: times, amounts in 元, colour, card-type and pay-type names.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::plate::{PlateColor, PlateError};
use crate::pyun::{PayType, VipType};
use crate::time::shanghai;

/// 元 text ("300", "300.5", "300.50") → fen, exactly (no floats); the error is in Chinese.
pub fn parse_yuan(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let bad = || "应为以元为单位的金额，如 300 或 300.50".to_owned();
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (unsigned, negative) = match s.strip_prefix('-') {
        Some(rest) => (rest, true),
        None => (s, false),
    };
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) if digits(frac) => (int, frac),
        Some(_) => return Err(bad()),
        None => (unsigned, ""),
    };
    if !digits(int) {
        return Err(bad());
    }
    if negative {
        return Err("金额不能为负数".to_owned());
    }
    if frac.len() > 2 {
        return Err("金额最多两位小数（分）".to_owned());
    }
    let too_big = || "金额过大".to_owned();
    let yuan: i64 = int.parse().map_err(|_| too_big())?;
    // "300.5" is 50 fen, not 5: pad the fraction to two digits.
    let fen = match frac.len() {
        0 => 0,
        1 => i64::from(frac.as_bytes()[0] - b'0') * 10,
        _ => frac.parse::<i64>().map_err(|_| bad())?,
    };
    yuan.checked_mul(100)
        .and_then(|f| f.checked_add(fen))
        .ok_or_else(too_big)
}

/// fen → 元 with two decimals ("300.00").
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `yyyy-MM-dd` (start or end of that Shanghai day) or `yyyy-MM-dd HH:mm:ss` Shanghai; also the
/// `yyyy/M/d H:mm` forms Excel rewrites dates into when it re-saves a file.
pub(super) fn parse_time(s: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    let (date, time) = match s.split_once(' ') {
        Some((d, t)) => (d, Some(t.trim_start())),
        None => (s, None),
    };
    let sep = if date.contains('/') { '/' } else { '-' };
    let mut ymd = date.split(sep);
    let (y, m, d) = (ymd.next()?, ymd.next()?, ymd.next()?);
    if ymd.next().is_some() {
        return None;
    }
    let day = NaiveDate::from_ymd_opt(
        i32::try_from(number(y, 4, 4)?).ok()?,
        number(m, 1, 2)?,
        number(d, 1, 2)?,
    )?;
    let time = match time {
        None if end_of_day => NaiveTime::from_hms_opt(23, 59, 59)?,
        None => NaiveTime::MIN,
        Some(t) => {
            let mut hms = t.split(':');
            let (h, mi) = (hms.next()?, hms.next()?);
            let sec = hms.next().map_or(Some(0), |s| number(s, 2, 2))?;
            if hms.next().is_some() {
                return None;
            }
            NaiveTime::from_hms_opt(number(h, 1, 2)?, number(mi, 2, 2)?, sec)?
        }
    };
    shanghai()
        .from_local_datetime(&day.and_time(time))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// ASCII digits only, between `min` and `max` of them: `str::parse` would also take a sign.
fn number(s: &str, min: usize, max: usize) -> Option<u32> {
    let ok = (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| s.parse().ok()).flatten()
}

pub(super) fn plate_reason(e: &PlateError) -> String {
    match e {
        PlateError::Empty => "为空".to_owned(),
        PlateError::TooLong { .. } => "过长".to_owned(),
        PlateError::UnknownProvince { found, .. } => format!("「{found}」不是省份简称"),
        PlateError::BadAuthority { .. } => "第 2 位应为发牌机关字母（不含 I、O）".to_owned(),
        PlateError::BadLength { len, .. } => {
            format!("发牌机关字母后有 {len} 位，应为 5 位（新能源 6 位）")
        }
        PlateError::BadCharacter {
            found, position, ..
        } => format!("第 {position} 位不能是「{found}」"),
        PlateError::BadNewEnergy { .. } => {
            "新能源车牌应为 D/F + 字母或数字 + 4 位数字，或 5 位数字 + D/F".to_owned()
        }
        PlateError::BadEmbassy { .. } => "使馆车牌应为「使」加 6 位数字".to_owned(),
    }
}

pub(super) const COLOR_NAMES: [(PlateColor, &str); 6] = [
    (PlateColor::Blue, "蓝"),
    (PlateColor::Yellow, "黄"),
    (PlateColor::White, "白"),
    (PlateColor::Black, "黑"),
    (PlateColor::Green, "绿"),
    (PlateColor::Unknown, "未知"),
];

pub(super) fn color_name(c: PlateColor) -> &'static str {
    COLOR_NAMES
        .iter()
        .find(|(k, _)| *k == c)
        .map_or("未知", |(_, n)| n)
}

/// A colour name ("蓝", "蓝色") or P云 code.
pub(super) fn parse_color(s: &str) -> Option<PlateColor> {
    let name = s.strip_suffix('色').unwrap_or(s);
    COLOR_NAMES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(c, _)| *c)
        .or_else(|| s.parse::<i32>().ok().and_then(PlateColor::from_code))
}

pub(super) const VIP_TYPE_NAMES: [(VipType, &str); 8] = [
    (VipType::Free, "免费"),
    (VipType::Monthly, "月卡"),
    (VipType::StoredValue, "储值卡"),
    (VipType::StoredCount, "储次卡"),
    (VipType::StoredDays, "储天卡"),
    (VipType::Yearly, "年卡"),
    (VipType::Quarterly, "季卡"),
    (VipType::HalfYear, "半年卡"),
];

pub(super) fn vip_type_name(t: VipType) -> &'static str {
    VIP_TYPE_NAMES
        .iter()
        .find(|(k, _)| *k == t)
        .map_or("免费", |(_, n)| n)
}

/// A type name or P云 code 0–7.
pub(super) fn parse_vip_type(s: &str) -> Option<VipType> {
    VIP_TYPE_NAMES
        .iter()
        .find(|(_, n)| *n == s)
        .map(|(t, _)| *t)
        .or_else(|| number(s, 1, 1).and_then(|c| VipType::from_code(i64::from(c))))
}

pub(super) fn pay_type_name(p: PayType) -> &'static str {
    match p {
        PayType::Cash => "现金",
        PayType::Online => "线上",
    }
}

pub(super) fn parse_pay_type(s: &str) -> Option<PayType> {
    match s {
        "现金" | "1" => Some(PayType::Cash),
        "线上" | "2" => Some(PayType::Online),
        _ => None,
    }
}
