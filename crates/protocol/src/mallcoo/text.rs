//! Lenient readers for Mallcoo's text fields: blank means absent, a bare number is its text.
//!
//! The seed declares these fields `String` and says several "可空" (may be empty) without saying
//! whether empty is `""`, `null` or a missing key; all three mean "absent" here. Identifiers such
//! as `Identify` ("积分为积分数": a points count for points) or `orderNo` are plausibly sent as
//! JSON numbers by a loosely typed client; their decimal text is kept rather than the request
//! refused, since refusing a payment notice would lose a payment already taken.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// Reads a string, number or `null`; the string is kept verbatim.
struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a number or null")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

/// Optional text: `null`, `""` and whitespace-only read as `None`; pair with `default`.
pub(crate) fn opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(d.deserialize_option(TextVisitor)?
        .filter(|s| !s.trim().is_empty()))
}

/// Text whose absence is the empty string; `validate()` decides whether empty is acceptable.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(d.deserialize_option(TextVisitor)?.unwrap_or_default())
}

/// True when a required text field carries nothing usable.
pub(crate) fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "super::opt")]
        o: Option<String>,
        #[serde(default, deserialize_with = "super::text")]
        t: String,
    }

    fn read(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn blank_null_and_missing_are_absent() {
        for json in [r#"{}"#, r#"{"o":null}"#, r#"{"o":""}"#, r#"{"o":"  "}"#] {
            assert_eq!(read(json).o, None, "{json}");
        }
        assert_eq!(read(r#"{"t":null}"#).t, "");
        assert_eq!(read(r#"{}"#).t, "");
    }

    #[test]
    fn text_is_kept_verbatim_and_numbers_become_text() {
        assert_eq!(read(r#"{"o":" P1 "}"#).o.as_deref(), Some(" P1 "));
        assert_eq!(read(r#"{"o":1200}"#).o.as_deref(), Some("1200"));
        assert_eq!(read(r#"{"t":20160713}"#).t, "20160713");
        assert!(serde_json::from_str::<T>(r#"{"t":[1]}"#).is_err());
    }
}
