//! Tolerant reading of P云 values that arrive as a number in one document and a string in another.
//!
//! P云's tables declare `int` where its own Java example sends `"1"`, and `code` is a string in
//! the tables but a number from some gateways. We write the declared type and read either.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An integer from a JSON number or a decimal string.
pub(crate) fn int_from(v: Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Text from a JSON string or number (numbers keep their JSON spelling).
pub(crate) fn text_from(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int_in<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D, what: &str) -> Result<T, D::Error> {
    int_from(Value::deserialize(d)?)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            serde::de::Error::custom(format!("expected {what} as a number or a decimal string"))
        })
}

/// Serde adapter: a `u32` written as a number or a decimal string.
pub(crate) fn u32_any<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    int_in(d, "a non-negative integer")
}

/// Serde adapter: an optional `i64` written as a number or a decimal string (`null` is `None`).
pub(crate) fn opt_i64_any<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => int_from(v).map(Some).ok_or_else(|| {
            serde::de::Error::custom("expected an integer as a number or a decimal string")
        }),
    }
}

/// Serde adapter: an optional `u32` written as a number or a decimal string (`null` is `None`).
pub(crate) fn opt_u32_any<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    opt_i64_any(d)?
        .map(|n| {
            u32::try_from(n)
                .map_err(|_| serde::de::Error::custom("expected a non-negative integer"))
        })
        .transpose()
}

/// Serde adapter: text written as a string or a number.
pub(crate) fn string_any<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    text_from(&v).ok_or_else(|| serde::de::Error::custom("expected a string or a number"))
}

/// Serde adapter: optional text written as a string or a number (`null` is `None`).
pub(crate) fn opt_string_any<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => text_from(&v)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("expected a string or a number")),
    }
}
