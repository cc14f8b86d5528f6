//! Discount kinds (PROTOCOLS.md §5.1): what a caller or P云 may grant a stay, checked, and how
//! each is shown to a person or to Mallcoo's `offlineDeduction`.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Largest `minutes` / `free_window` value: a year, far beyond any stay, so that adding it to a
/// time can never leave chrono's range.
pub const MAX_DISCOUNT_MINUTES: i64 = 366 * 24 * 60;

/// Per mille of a `percent` discount that takes the whole fee off.
pub const PER_MILLE: i64 = 1000;

/// One kind of discount with its value; the same kinds for every source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum DiscountKind {
    /// P云 type 1: the fee is reduced by this many fen (≥ 1).
    Amount(i64),
    /// P云 type 2: the last minutes of the stay (≥ 1) are not charged.
    Minutes(i64),
    /// P云 type 3: the stay costs 0.
    Free,
    /// P云 type 6: this many per mille of the fee (1–1000) is taken off.
    Percent(i64),
    /// P云 type 5: every stay of the plate is free for this many minutes (≥ 1) from the grant,
    /// priced like a VIP window.
    FreeWindow(i64),
}

/// A discount that cannot be granted as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscountError {
    /// P云's type 4 (another tariff) or a kind we do not know: one tariff per car park.
    #[error("discount kind `{0}` is not supported (amount, minutes, free, percent, free_window)")]
    Unsupported(String),
    /// A value outside the kind's range, or missing.
    #[error("a `{kind}` discount needs a value {range} (got {got})")]
    Value {
        /// The kind's name.
        kind: &'static str,
        /// The accepted range, in words.
        range: &'static str,
        /// What was given.
        got: String,
    },
}

impl DiscountKind {
    /// A kind by its name in our API and `value` (ignored for `free`), checked.
    pub fn from_parts(kind: &str, value: Option<i64>) -> Result<DiscountKind, DiscountError> {
        let make = match kind {
            "amount" => DiscountKind::Amount,
            "minutes" => DiscountKind::Minutes,
            "percent" => DiscountKind::Percent,
            "free_window" => DiscountKind::FreeWindow,
            "free" => return Ok(DiscountKind::Free),
            other => return Err(DiscountError::Unsupported(other.to_owned())),
        };
        let Some(value) = value else {
            let probe = make(0);
            return Err(DiscountError::Value {
                kind: probe.name(),
                range: probe.range(),
                got: "nothing".to_owned(),
            });
        };
        make(value).checked()
    }

    /// A kind by P云's `type` code (1, 2, 3, 5, 6) and value, checked; type 4 is refused.
    pub fn from_pyun(type_code: i64, value: i64) -> Result<DiscountKind, DiscountError> {
        let name = match type_code {
            1 => "amount",
            2 => "minutes",
            3 => "free",
            5 => "free_window",
            6 => "percent",
            other => return Err(DiscountError::Unsupported(format!("P云 type {other}"))),
        };
        DiscountKind::from_parts(name, Some(value))
    }

    /// The kind's name in our API and storage.
    pub fn name(self) -> &'static str {
        match self {
            DiscountKind::Amount(_) => "amount",
            DiscountKind::Minutes(_) => "minutes",
            DiscountKind::Free => "free",
            DiscountKind::Percent(_) => "percent",
            DiscountKind::FreeWindow(_) => "free_window",
        }
    }

    /// P云's `type` code.
    pub fn pyun_type(self) -> i64 {
        match self {
            DiscountKind::Amount(_) => 1,
            DiscountKind::Minutes(_) => 2,
            DiscountKind::Free => 3,
            DiscountKind::FreeWindow(_) => 5,
            DiscountKind::Percent(_) => 6,
        }
    }

    /// The value as stored and sent (`free` has none: 0).
    pub fn value(self) -> i64 {
        match self {
            DiscountKind::Amount(v)
            | DiscountKind::Minutes(v)
            | DiscountKind::Percent(v)
            | DiscountKind::FreeWindow(v) => v,
            DiscountKind::Free => 0,
        }
    }

    fn range(self) -> &'static str {
        match self {
            DiscountKind::Amount(_) => "of at least 1 fen",
            DiscountKind::Minutes(_) | DiscountKind::FreeWindow(_) => {
                "from 1 to 527040 minutes (a year)"
            }
            DiscountKind::Percent(_) => "from 1 to 1000 per mille",
            DiscountKind::Free => "(none)",
        }
    }

    /// The kind itself when its value is in range.
    fn checked(self) -> Result<DiscountKind, DiscountError> {
        let ok = match self {
            DiscountKind::Amount(v) => v >= 1,
            DiscountKind::Minutes(v) | DiscountKind::FreeWindow(v) => {
                (1..=MAX_DISCOUNT_MINUTES).contains(&v)
            }
            DiscountKind::Percent(v) => (1..=PER_MILLE).contains(&v),
            DiscountKind::Free => true,
        };
        if ok {
            Ok(self)
        } else {
            Err(DiscountError::Value {
                kind: self.name(),
                range: self.range(),
                got: self.value().to_string(),
            })
        }
    }

    /// The value in words for a person and for `offlineDeduction`: `¥5.00`, `2小时`, `全免`,
    /// `减免 50%`, `2小时内免费`.
    pub fn describe(self) -> String {
        match self {
            DiscountKind::Amount(fen) => yuan(fen),
            DiscountKind::Minutes(m) => duration(m),
            DiscountKind::Free => "全免".to_owned(),
            DiscountKind::Percent(pm) => format!("减免 {}", percent(pm)),
            DiscountKind::FreeWindow(m) => format!("{}内免费", duration(m)),
        }
    }
}

/// `¥12.30` for 1230 fen.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", fen / 100, fen % 100)
}

/// `2小时`, `45分钟`, `1小时30分钟`.
fn duration(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}分钟"),
        (h, 0) => format!("{h}小时"),
        (h, m) => format!("{h}小时{m}分钟"),
    }
}

/// `50%`, `12.5%` for per mille values.
fn percent(per_mille: i64) -> String {
    if per_mille % 10 == 0 {
        format!("{}%", per_mille / 10)
    } else {
        format!("{}.{}%", per_mille / 10, per_mille % 10)
    }
}

/// A discount recorded on a stay (or, `free_window`, on a plate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    /// What it takes off.
    pub kind: DiscountKind,
    /// When it was granted; a `free_window` runs from here.
    pub granted_at: DateTime<Utc>,
    /// Who gave it, as shown in `offlineDeduction`: `商户减免`, `P云停车券`, `人工减免`.
    pub source_label: String,
}

impl Discount {
    /// `商户减免 2小时`: the source and the value, as Mallcoo's `offlineDeduction` lists it.
    pub fn note(&self) -> String {
        format!("{} {}", self.source_label, self.kind.describe())
    }

    /// The window `[granted_at, granted_at + minutes)` of a `free_window`.
    pub(crate) fn free_window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        match self.kind {
            DiscountKind::FreeWindow(m) => {
                let until = self
                    .granted_at
                    .checked_add_signed(TimeDelta::minutes(m.clamp(0, MAX_DISCOUNT_MINUTES)))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                Some((self.granted_at, until))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_and_by_pyun_type_agree() {
        for (code, name, value) in [
            (1, "amount", 500),
            (2, "minutes", 120),
            (3, "free", 0),
            (5, "free_window", 60),
            (6, "percent", 800),
        ] {
            let by_type = DiscountKind::from_pyun(code, value).unwrap();
            assert_eq!(
                by_type,
                DiscountKind::from_parts(name, Some(value)).unwrap()
            );
            assert_eq!(by_type.name(), name);
            assert_eq!(by_type.pyun_type(), code);
            assert_eq!(by_type.value(), value);
        }
    }

    #[test]
    fn type_4_and_unknown_kinds_are_unsupported() {
        assert!(matches!(
            DiscountKind::from_pyun(4, 1),
            Err(DiscountError::Unsupported(_))
        ));
        assert!(matches!(
            DiscountKind::from_parts("tariff", Some(1)),
            Err(DiscountError::Unsupported(_))
        ));
    }

    #[test]
    fn values_out_of_range_are_refused_with_the_range() {
        for (kind, value) in [
            ("amount", Some(0)),
            ("amount", Some(-5)),
            ("minutes", Some(0)),
            ("minutes", Some(MAX_DISCOUNT_MINUTES + 1)),
            ("percent", Some(0)),
            ("percent", Some(1001)),
            ("free_window", Some(-1)),
            ("amount", None),
        ] {
            let e = DiscountKind::from_parts(kind, value).unwrap_err();
            assert!(matches!(e, DiscountError::Value { .. }), "{kind} {value:?}");
            assert!(e.to_string().contains(kind), "{e}");
        }
        assert_eq!(
            DiscountKind::from_parts("free", None).unwrap(),
            DiscountKind::Free
        );
    }

    #[test]
    fn notes_read_as_offline_deduction_shows_them() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let d = |kind, label: &str| Discount {
            kind,
            granted_at: at,
            source_label: label.to_owned(),
        };
        assert_eq!(
            d(DiscountKind::Minutes(120), "商户减免").note(),
            "商户减免 2小时"
        );
        assert_eq!(
            d(DiscountKind::Amount(500), "人工减免").note(),
            "人工减免 ¥5.00"
        );
        assert_eq!(
            d(DiscountKind::Minutes(90), "P云停车券").note(),
            "P云停车券 1小时30分钟"
        );
        assert_eq!(
            d(DiscountKind::Percent(125), "商户减免").note(),
            "商户减免 减免 12.5%"
        );
        assert_eq!(d(DiscountKind::Free, "人工减免").note(), "人工减免 全免");
        assert_eq!(
            d(DiscountKind::FreeWindow(45), "商户减免").note(),
            "商户减免 45分钟内免费"
        );
    }
}
