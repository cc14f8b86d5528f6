//! Mallcoo's `Double` amounts (fen) as our `i64` fen: whole JSON numbers out, checked numbers in.
//!
//! Mallcoo declares every amount as a `Double` counted in fen, so a conforming client may send
//! `1300` or `1300.0`. Fen are indivisible: a fractional, negative or unrepresentable amount is
//! a client's mistake and is refused while decoding, never rounded.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};

/// 2^63: the smallest `f64` that no longer fits an `i64` (every `f64` below it that is whole does).
const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// An amount from Mallcoo that is not a usable number of fen.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AmountError {
    /// The value has a fractional part (fen are indivisible).
    #[error("amount {0} is not a whole number of fen")]
    NotWhole(f64),
    /// The value is below zero; no Mallcoo amount can be.
    #[error("amount {0} is negative")]
    Negative(String),
    /// NaN or an infinity (impossible in JSON, possible in other serde formats).
    #[error("amount {0} is not a finite number")]
    NotFinite(f64),
    /// The value does not fit an `i64` count of fen.
    #[error("amount {0} is out of range")]
    OutOfRange(String),
}

/// Checks a floating-point amount and returns it as whole fen.
pub fn fen_from_f64(v: f64) -> Result<i64, AmountError> {
    if !v.is_finite() {
        return Err(AmountError::NotFinite(v));
    }
    // -0.0 compares equal to 0.0 and is accepted as zero.
    if v < 0.0 {
        return Err(AmountError::Negative(v.to_string()));
    }
    if v.fract() != 0.0 {
        return Err(AmountError::NotWhole(v));
    }
    if v >= I64_LIMIT {
        return Err(AmountError::OutOfRange(v.to_string()));
    }
    // In range and integral, so the conversion is exact.
    Ok(v as i64)
}

/// Checks a signed integer amount.
pub fn fen_from_i64(v: i64) -> Result<i64, AmountError> {
    if v < 0 {
        Err(AmountError::Negative(v.to_string()))
    } else {
        Ok(v)
    }
}

/// Checks an unsigned integer amount.
pub fn fen_from_u64(v: u64) -> Result<i64, AmountError> {
    i64::try_from(v).map_err(|_| AmountError::OutOfRange(v.to_string()))
}

/// Reads one amount; `Option` so that the `null`-tolerant variants can share it.
struct FenVisitor;

impl<'de> Visitor<'de> for FenVisitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount in fen (a non-negative whole JSON number)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        fen_from_i64(v).map(Some).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        fen_from_u64(v).map(Some).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        fen_from_f64(v).map(Some).map_err(E::custom)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(FenVisitor)
    }
}

/// Serde adapter for a required amount: `i64` fen ⇄ whole JSON number.
pub mod fen {
    use super::*;

    /// Writes the fen as a JSON integer (`1300`, never `1300.0`).
    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    /// Reads an integral, non-negative JSON number (`1300` or `1300.0`); `null` is refused.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(FenVisitor)?
            .ok_or_else(|| de::Error::custom("amount is null; a number of fen is required"))
    }
}

/// Serde adapter for an optional amount: `None` ⇄ `null` (or an absent field, with `default`).
pub mod fen_opt {
    use super::*;

    /// Writes `Some` as a JSON integer and `None` as `null` (pair with `skip_serializing_if`).
    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_i64(*v),
            None => s.serialize_none(),
        }
    }

    /// Reads `null` as `None`, otherwise an amount as [`fen`] does.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_option(FenVisitor)
    }
}

/// Serde adapter for an amount whose absence means zero (e.g. `freeAmount`).
pub mod fen_or_zero {
    use super::*;

    /// Writes the fen as a JSON integer.
    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    /// Reads `null` as 0, otherwise an amount as [`fen`] does.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        Ok(d.deserialize_option(FenVisitor)?.unwrap_or(0))
    }
}

/// Reads `null` as the type's default, for Mallcoo fields whose absence has an obvious meaning.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Req {
        #[serde(with = "super::fen")]
        amount: i64,
        #[serde(
            default,
            with = "super::fen_opt",
            skip_serializing_if = "Option::is_none"
        )]
        bonus: Option<i64>,
    }

    fn amount(json: &str) -> Result<i64, String> {
        serde_json::from_str::<Req>(&format!(r#"{{"amount":{json}}}"#))
            .map(|r| r.amount)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_are_accepted_in_either_json_form() {
        assert_eq!(amount("1300"), Ok(1300));
        assert_eq!(amount("1300.0"), Ok(1300));
        assert_eq!(amount("0"), Ok(0));
        assert_eq!(amount("-0.0"), Ok(0));
        assert_eq!(amount("1.3e3"), Ok(1300));
    }

    #[test]
    fn fractional_amounts_are_refused_with_a_clear_message() {
        let err = amount("12.5").unwrap_err();
        assert!(
            err.contains("amount 12.5 is not a whole number of fen"),
            "{err}"
        );
    }

    #[test]
    fn negative_and_out_of_range_amounts_are_refused() {
        assert!(amount("-1").unwrap_err().contains("amount -1 is negative"));
        assert!(
            amount("-3.0")
                .unwrap_err()
                .contains("amount -3 is negative")
        );
        assert!(
            amount("9223372036854775808")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(amount("1e19").unwrap_err().contains("out of range"));
        assert_eq!(amount("9223372036854775807"), Ok(i64::MAX));
    }

    #[test]
    fn non_numbers_are_refused() {
        for bad in [r#""1300""#, "null", "true", "[]"] {
            assert!(amount(bad).is_err(), "{bad} accepted");
        }
        assert!(super::fen_from_f64(f64::NAN).is_err());
        assert!(super::fen_from_f64(f64::INFINITY).is_err());
    }

    #[test]
    fn serialises_as_a_whole_json_number() {
        let r = Req {
            amount: 1300,
            bonus: None,
        };
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"amount":1300}"#);
        let r = Req {
            amount: 0,
            bonus: Some(5),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"amount":0,"bonus":5}"#
        );
    }

    #[test]
    fn optional_amounts_accept_null_and_absence() {
        let r: Req = serde_json::from_str(r#"{"amount":1,"bonus":null}"#).unwrap();
        assert_eq!(r.bonus, None);
        let r: Req = serde_json::from_str(r#"{"amount":1}"#).unwrap();
        assert_eq!(r.bonus, None);
        let r: Req = serde_json::from_str(r#"{"amount":1,"bonus":200.0}"#).unwrap();
        assert_eq!(r.bonus, Some(200));
        assert!(serde_json::from_str::<Req>(r#"{"amount":1,"bonus":0.5}"#).is_err());
    }

    // proptest needs OS randomness, absent on wasm32-unknown-unknown: properties run on the host.
    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn fen_round_trip(v in 0i64..=1_000_000_000_000) {
                let r = Req { amount: v, bonus: Some(v) };
                let json = serde_json::to_string(&r).unwrap();
                prop_assert_eq!(serde_json::from_str::<Req>(&json).unwrap(), r);
                // The same value sent as a Double decodes to the same fen.
                prop_assert_eq!(amount(&format!("{v}.0")), Ok(v));
            }
        }
    }
}
