//! Time at the protocol edges: Mallcoo's and P云's Asia/Shanghai wall-clock strings, P云's ISO-8601 and epoch ms.
//!
//! Inside ParkBridge every instant is a `DateTime<Utc>`; these functions are the only place where
//! a platform's textual form is produced or read. Asia/Shanghai has had no DST since 1991, so a
//! fixed UTC+8 offset is exact.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, TimeZone, Utc};

/// Seconds east of UTC for Asia/Shanghai (UTC+8, no DST).
const SHANGHAI_OFFSET_SECS: i32 = 8 * 3600;

/// `yyyy-MM-dd HH:mm:ss`, Mallcoo's wall-clock format (Asia/Shanghai).
const MALLCOO_DATETIME: &str = "%Y-%m-%d %H:%M:%S";

/// `yyyyMMddHHmmss`, the `TimeStamp` header of Mallcoo's signed calls (Asia/Shanghai).
const MALLCOO_TIMESTAMP: &str = "%Y%m%d%H%M%S";

/// A time string from a platform that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The text does not match the expected layout.
    #[error("`{value}` is not a time of the form {expected}")]
    BadFormat {
        /// The text received.
        value: String,
        /// The layout expected, as the platform documents it.
        expected: &'static str,
    },
    /// An epoch millisecond value outside chrono's range.
    #[error("{0} ms since the epoch is out of range")]
    OutOfRange(i64),
}

/// The Asia/Shanghai offset (UTC+8).
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(SHANGHAI_OFFSET_SECS).expect("UTC+8 is a valid offset")
}

/// An instant as Shanghai wall-clock time.
pub fn to_shanghai(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&shanghai())
}

/// Formats an instant as Mallcoo's `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai.
pub fn format_mallcoo(t: DateTime<Utc>) -> String {
    wall_clock(t, true).unwrap_or_else(|| to_shanghai(t).format(MALLCOO_DATETIME).to_string())
}

/// `t` in Asia/Shanghai as `yyyy-MM-dd HH:mm:ss` (`separated`) or `yyyyMMddHHmmss`, written
/// digit by digit: chrono's `format` parses its pattern on every call, and the fee query and P云's
/// billing reply write these on every call. `None` outside years 0–9999 and for a leap second
/// (chrono's form then).
fn wall_clock(t: DateTime<Utc>, separated: bool) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let local = t
        .naive_utc()
        .checked_add_signed(chrono::TimeDelta::seconds(i64::from(SHANGHAI_OFFSET_SECS)))
        // A leap second (never one of ours) is chrono's to print.
        .filter(|l| l.nanosecond() < 1_000_000_000)?;
    let year = u32::try_from(local.year()).ok().filter(|y| *y <= 9999)?;
    let fields = [
        (year / 100, ""),
        (year % 100, ""),
        (local.month(), "-"),
        (local.day(), "-"),
        (local.hour(), " "),
        (local.minute(), ":"),
        (local.second(), ":"),
    ];
    let mut out = String::with_capacity(19);
    for (value, separator) in fields {
        if separated {
            out.push_str(separator);
        }
        // Each field is below 100: two digits.
        out.push(char::from(b'0' + (value / 10) as u8));
        out.push(char::from(b'0' + (value % 10) as u8));
    }
    Some(out)
}

/// Reads Mallcoo's `yyyy-MM-dd HH:mm:ss` (Asia/Shanghai) into UTC.
pub fn parse_mallcoo(s: &str) -> Result<DateTime<Utc>, TimeError> {
    parse_shanghai(s, MALLCOO_DATETIME, "yyyy-MM-dd HH:mm:ss")
}

/// Formats an instant as Mallcoo's signing `TimeStamp`, `yyyyMMddHHmmss` in Asia/Shanghai.
pub fn format_mallcoo_timestamp(t: DateTime<Utc>) -> String {
    wall_clock(t, false).unwrap_or_else(|| to_shanghai(t).format(MALLCOO_TIMESTAMP).to_string())
}

/// Reads Mallcoo's signing `TimeStamp` (`yyyyMMddHHmmss`, Asia/Shanghai) into UTC.
pub fn parse_mallcoo_timestamp(s: &str) -> Result<DateTime<Utc>, TimeError> {
    parse_shanghai(s, MALLCOO_TIMESTAMP, "yyyyMMddHHmmss")
}

fn parse_shanghai(
    s: &str,
    layout: &str,
    expected: &'static str,
) -> Result<DateTime<Utc>, TimeError> {
    let bad = || TimeError::BadFormat {
        value: s.to_owned(),
        expected,
    };
    // chrono accepts some sloppy widths (`2026-1-2`) and signed years (`-026-…`, which it then
    // prints as `-0026-…`); the platforms send neither, so every letter of the pattern must be a
    // digit and every other character itself: the accepted language is exactly the documented one.
    let shaped = s.len() == expected.len()
        && s.bytes().zip(expected.bytes()).all(|(c, p)| {
            if p.is_ascii_alphabetic() {
                c.is_ascii_digit()
            } else {
                c == p
            }
        });
    if !shaped {
        return Err(bad());
    }
    let naive = NaiveDateTime::parse_from_str(s, layout).map_err(|_| bad())?;
    shanghai()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(bad)
}

/// Formats an instant as P云's car-park `yyyyMMddHHmmss` (`enter_time`, `next_time`), Asia/Shanghai.
///
/// No timezone is documented for these fields; P云 is a mainland service (pyun-carpark.md D8).
pub fn format_pyun_local(t: DateTime<Utc>) -> String {
    format_mallcoo_timestamp(t)
}

/// Reads P云's car-park `yyyyMMddHHmmss` (`pay_time`, `expire_time`; Asia/Shanghai) into UTC.
pub fn parse_pyun_local(s: &str) -> Result<DateTime<Utc>, TimeError> {
    parse_shanghai(s, MALLCOO_TIMESTAMP, "yyyyMMddHHmmss")
}

/// Formats an instant as P云's ISO-8601 UTC form, e.g. `2022-09-30T16:00:00Z`.
pub fn format_pyun_iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Reads an ISO-8601 / RFC 3339 time (any offset) into UTC.
pub fn parse_pyun_iso(s: &str) -> Result<DateTime<Utc>, TimeError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| TimeError::BadFormat {
            value: s.to_owned(),
            expected: "ISO-8601, e.g. 2022-09-30T16:00:00Z",
        })
}

/// Milliseconds since the Unix epoch, as P云's `pay_time`.
pub fn epoch_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// An instant from milliseconds since the Unix epoch.
pub fn from_epoch_ms(ms: i64) -> Result<DateTime<Utc>, TimeError> {
    DateTime::from_timestamp_millis(ms).ok_or(TimeError::OutOfRange(ms))
}

/// Serde adapter for a `DateTime<Utc>` carried as Mallcoo's `yyyy-MM-dd HH:mm:ss` string.
pub mod mallcoo_datetime {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises as `yyyy-MM-dd HH:mm:ss` (Asia/Shanghai).
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_mallcoo(*t))
    }

    /// Deserialises from `yyyy-MM-dd HH:mm:ss` (Asia/Shanghai).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_mallcoo(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        parse_pyun_iso(s).unwrap()
    }

    #[test]
    fn mallcoo_times_are_shanghai_wall_clock() {
        let t = utc("2026-11-23T18:00:00Z");
        assert_eq!(format_mallcoo(t), "2026-11-24 02:00:00");
        assert_eq!(parse_mallcoo("2026-11-24 02:00:00").unwrap(), t);
        assert_eq!(
            format_mallcoo_timestamp(utc("2026-11-23T10:00:00Z")),
            "20261123180000"
        );
        assert_eq!(
            parse_mallcoo_timestamp("20261123180000").unwrap(),
            utc("2026-11-23T10:00:00Z")
        );
    }

    #[test]
    fn sloppy_or_foreign_layouts_are_rejected() {
        for bad in [
            "2026-1-2 3:04:05",
            "2026-11-24T02:00:00",
            "2026-11-24 02:00",
            "",
            "2026-13-01 00:00:00",
            // A signed year of the right length (found by the mallcoo_request fuzz target:
            // chrono read it as year −26 and printed it back as `-0026-…`).
            "-026-11-24 10:00:00",
            "+026-11-24 10:00:00",
            "2026-11-24 10:00:0 ",
        ] {
            assert!(parse_mallcoo(bad).is_err(), "{bad} accepted");
        }
        assert!(parse_mallcoo_timestamp("2026112318000").is_err());
        assert!(parse_mallcoo_timestamp("-0261123180000").is_err());
    }

    proptest::proptest! {
        /// The digits written by hand are chrono's, for every second of years 0–9999 and the
        /// edges beyond (leap days, year and century turns included).
        #[test]
        fn wall_clock_digits_are_chronos(secs in -62_167_219_200_i64..253_402_300_800_i64) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let local = to_shanghai(t);
            proptest::prop_assert_eq!(format_mallcoo(t), local.format(MALLCOO_DATETIME).to_string());
            proptest::prop_assert_eq!(
                format_mallcoo_timestamp(t),
                local.format(MALLCOO_TIMESTAMP).to_string()
            );
        }
    }

    #[test]
    fn wall_clock_edges_match_chrono() {
        for iso in [
            "2024-02-28T16:00:00Z",
            "2024-02-29T15:59:59Z",
            "1999-12-31T16:00:00Z",
            "9999-12-31T15:59:59Z",
            "9999-12-31T16:00:00Z",
            "0000-01-01T00:00:00Z",
            "-0001-12-31T15:59:59Z",
            "2026-12-07T06:30:00.999Z",
        ] {
            let t = DateTime::parse_from_rfc3339(iso)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|_| {
                    // rfc3339 has no negative years: build that one by hand.
                    DateTime::from_timestamp(-62_167_248_001, 0).unwrap()
                });
            let local = to_shanghai(t);
            assert_eq!(
                format_mallcoo(t),
                local.format(MALLCOO_DATETIME).to_string(),
                "{iso}"
            );
            assert_eq!(
                format_mallcoo_timestamp(t),
                local.format(MALLCOO_TIMESTAMP).to_string(),
                "{iso}"
            );
        }
    }

    #[test]
    fn pyun_car_park_times_are_shanghai_wall_clock() {
        // pyun-carpark.md V2/U1: entry 2025-01-02 09:30:00 +08:00 is epoch ms 1735781400000.
        let t = parse_pyun_local("20250102093000").unwrap();
        assert_eq!(epoch_ms(t), 1_735_781_400_000);
        assert_eq!(format_pyun_local(t), "20250102093000");
        assert!(parse_pyun_local("2025010209300").is_err());
        assert!(parse_pyun_local("2025-01-02 09:30").is_err());
    }

    #[test]
    fn pyun_renewal_example_round_trips() {
        // Seed 002: 2022-09-30T16:00:00Z is 2022-10-01 00:00:00 in Shanghai.
        let t = parse_pyun_iso("2022-09-30T16:00:00Z").unwrap();
        assert_eq!(format_mallcoo(t), "2022-10-01 00:00:00");
        assert_eq!(format_pyun_iso(t), "2022-09-30T16:00:00Z");
        assert_eq!(from_epoch_ms(epoch_ms(t)).unwrap(), t);
    }
}
