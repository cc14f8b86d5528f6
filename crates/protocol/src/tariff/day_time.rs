//! `HH:MM` times of day (Asia/Shanghai wall clock) bounding the periods of a time-of-day tariff.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::DAY_MINUTES;

/// A wall-clock time of day as `HH:MM`, stored as minutes since midnight; `24:00` is accepted as an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayTime(u16);

impl DayTime {
    /// `hour:minute`, or `None` outside `00:00`–`24:00`.
    pub fn new(hour: u32, minute: u32) -> Option<Self> {
        let ok = (hour < 24 && minute < 60) || (hour == 24 && minute == 0);
        // The bound check above keeps the value ≤ 1440, so it fits u16.
        ok.then(|| Self((hour * 60 + minute) as u16))
    }

    /// Minutes since midnight, 0–1440.
    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }

    /// The time `minutes` after midnight on the day's clock (taken modulo a day, so always valid).
    pub(crate) fn from_clock_minutes(minutes: i64) -> Self {
        // rem_euclid keeps the value in 0..1440, which fits u16.
        Self(minutes.rem_euclid(DAY_MINUTES) as u16)
    }

    /// Minutes since midnight on the day's clock, where `24:00` is midnight again.
    pub(crate) fn clock_minutes(self) -> i64 {
        i64::from(self.0) % DAY_MINUTES
    }
}

impl fmt::Display for DayTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// Text that is not an `HH:MM` time of day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a time of day HH:MM between 00:00 and 24:00")]
pub struct DayTimeError(pub String);

impl std::str::FromStr for DayTime {
    type Err = DayTimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DayTimeError(s.to_owned());
        let b = s.as_bytes();
        // Exactly `HH:MM`: chrono-style leniency (`7:5`) would let the UI store text it never shows.
        if b.len() != 5 || b[2] != b':' {
            return Err(bad());
        }
        let digits = |i: usize| -> Option<u32> {
            let (hi, lo) = (b[i], b[i + 1]);
            (hi.is_ascii_digit() && lo.is_ascii_digit())
                .then(|| u32::from(hi - b'0') * 10 + u32::from(lo - b'0'))
        };
        let (h, m) = digits(0).zip(digits(3)).ok_or_else(bad)?;
        DayTime::new(h, m).ok_or_else(bad)
    }
}

impl Serialize for DayTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DayTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_times_are_strict_hh_mm() {
        assert_eq!("07:05".parse::<DayTime>().unwrap().minutes(), 425);
        assert_eq!("24:00".parse::<DayTime>().unwrap().to_string(), "24:00");
        for bad in [
            "7:00", "07:0", "24:01", "23:60", "ab:cd", "07-00", "", "+7:00", "07:00 ",
        ] {
            assert!(bad.parse::<DayTime>().is_err(), "{bad} accepted");
        }
    }
}
