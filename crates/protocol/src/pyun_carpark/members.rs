//! A flat JSON object as P云's car-park gateway sees it: each top-level member with the text it is signed as (pyun-carpark.md §2.1).
//!
//! P云's reference gateway reads the body into a `TreeMap<String, String>`, so a number is signed
//! by its literal token (`1.50` stays `1.50`, which no `f64` round trip guarantees) and `null` as
//! `""`. We therefore keep each member's raw token and derive the text from it, instead of
//! parsing into `serde_json::Value` and printing it back.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;

use crate::pyun::RequestError;

/// Why a body is not a flat JSON object (answered `1400`, pyun-carpark.md §1.5 step 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The bytes are not UTF-8.
    #[error("the body is not UTF-8")]
    NotUtf8,
    /// The text is not JSON.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// Valid JSON, but not an object.
    #[error("the body is not a JSON object")]
    NotAnObject,
}

/// The JSON type a member arrived as; it decides how the member is turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonKind {
    /// A string: signed decoded, without quotes or escapes.
    String,
    /// A number: signed by its token as received.
    Number,
    /// `true` / `false`.
    Bool,
    /// `null`: signed as `""`.
    Null,
    /// A nested object: signed as its raw JSON text (never seen from P云; unverified).
    Object,
    /// A nested array: signed as its raw JSON text (never seen from P云; unverified).
    Array,
}

/// One top-level member's value: its JSON type and its signing text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// How the value arrived.
    pub kind: JsonKind,
    /// The text P云 signs it as (§2.1 step 2).
    pub text: String,
}

impl Member {
    /// A scalar's text, or `None` for `null` and the empty string: P云 sends `""` for "absent".
    pub fn scalar(&self) -> Option<&str> {
        match self.kind {
            JsonKind::Object | JsonKind::Array => None,
            _ => Some(self.text.as_str()).filter(|t| !t.is_empty()),
        }
    }
}

/// The members of a flat JSON object by name, in byte order (the order P云 signs in).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Members {
    map: BTreeMap<String, Member>,
}

impl Members {
    /// Reads a body; a repeated name keeps its last value, as Jackson's `TreeMap` does.
    pub fn parse(body: &[u8]) -> Result<Members, BodyError> {
        let text = std::str::from_utf8(body).map_err(|_| BodyError::NotUtf8)?;
        // A BOM is not JSON, but some HTTP stacks prepend one; it carries no member.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let raw: BTreeMap<String, &RawValue> = match serde_json::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                return Err(match serde_json::from_str::<&RawValue>(text) {
                    Ok(_) => BodyError::NotAnObject,
                    Err(_) => BodyError::NotJson(e.to_string()),
                });
            }
        };
        // Already in order: collected, the map is built in bulk rather than by inserts.
        let map = raw
            .into_iter()
            .map(|(name, value)| Ok((name, member(value)?)))
            .collect::<Result<BTreeMap<_, _>, BodyError>>()?;
        Ok(Members { map })
    }

    /// Members built from already-decoded text, each taken as a JSON string.
    pub fn from_strings<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Members {
        let map = pairs
            .into_iter()
            .map(|(k, v)| {
                let member = Member {
                    kind: JsonKind::String,
                    text: v.into(),
                };
                (k.into(), member)
            })
            .collect();
        Members { map }
    }

    /// One member, if present.
    pub fn get(&self, name: &str) -> Option<&Member> {
        self.map.get(name)
    }

    /// A member's scalar text; absent, `null` and `""` are all `None`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Member::scalar)
    }

    /// Every member with its name, in byte order of the name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Member)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of members, `sign` included.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the object was `{}`.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// A required scalar; `""`, `null` and a missing member are the same to P云.
    pub(crate) fn required(&self, field: &'static str, max: usize) -> Result<&str, RequestError> {
        let value = self.optional(field, max)?;
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or(RequestError::Missing(field))
    }

    /// An optional scalar, length-checked; a nested object or array is refused.
    pub(crate) fn optional(
        &self,
        field: &'static str,
        max: usize,
    ) -> Result<Option<&str>, RequestError> {
        let Some(member) = self.get(field) else {
            return Ok(None);
        };
        if matches!(member.kind, JsonKind::Object | JsonKind::Array) {
            return Err(RequestError::Invalid {
                field,
                reason: "expected a string or a number".to_owned(),
            });
        }
        let value = member.scalar();
        crate::pyun::fields::optional(field, value, max)?;
        Ok(value)
    }

    /// An optional integer sent as a JSON number or a decimal string (P云 sends `"500"`).
    pub(crate) fn optional_int(&self, field: &'static str) -> Result<Option<i64>, RequestError> {
        let Some(text) = self.optional(field, MAX_NUMBER_CHARS)? else {
            return Ok(None);
        };
        text.trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| RequestError::Invalid {
                field,
                reason: format!("`{text}` is not an integer"),
            })
    }

    /// A required integer (number or decimal string).
    pub(crate) fn required_int(&self, field: &'static str) -> Result<i64, RequestError> {
        self.optional_int(field)?
            .ok_or(RequestError::Missing(field))
    }

    /// An optional amount or duration: an integer ≥ 0.
    pub(crate) fn optional_non_negative(
        &self,
        field: &'static str,
    ) -> Result<Option<i64>, RequestError> {
        match self.optional_int(field)? {
            Some(n) if n < 0 => Err(RequestError::Invalid {
                field,
                reason: format!("{n} is negative"),
            }),
            other => Ok(other),
        }
    }

    /// A required amount or duration: an integer ≥ 0.
    pub(crate) fn required_non_negative(&self, field: &'static str) -> Result<i64, RequestError> {
        self.optional_non_negative(field)?
            .ok_or(RequestError::Missing(field))
    }

    /// An optional `yyyyMMddHHmmss` time (Asia/Shanghai, D8) as UTC.
    pub(crate) fn optional_time(
        &self,
        field: &'static str,
    ) -> Result<Option<DateTime<Utc>>, RequestError> {
        let Some(text) = self.optional(field, MAX_NUMBER_CHARS)? else {
            return Ok(None);
        };
        crate::time::parse_pyun_local(text.trim())
            .map(Some)
            .map_err(|e| RequestError::Invalid {
                field,
                reason: e.to_string(),
            })
    }

    /// A required `yyyyMMddHHmmss` time (Asia/Shanghai) as UTC.
    pub(crate) fn required_time(&self, field: &'static str) -> Result<DateTime<Utc>, RequestError> {
        self.optional_time(field)?
            .ok_or(RequestError::Missing(field))
    }
}

/// Longest text read as a number or a time; real values have at most 19 digits.
const MAX_NUMBER_CHARS: usize = 32;

fn member(raw: &RawValue) -> Result<Member, BodyError> {
    let token = raw.get();
    let (kind, text) = match token.as_bytes().first() {
        Some(b'"') => {
            // serde_json has validated the token, but a lone surrogate escape (`"\ud800"`) passes
            // the raw scan and fails decoding: that is a malformed body, not a panic.
            let text: String =
                serde_json::from_str(token).map_err(|e| BodyError::NotJson(e.to_string()))?;
            (JsonKind::String, text)
        }
        Some(b'{') => (JsonKind::Object, token.to_owned()),
        Some(b'[') => (JsonKind::Array, token.to_owned()),
        Some(b't' | b'f') => (JsonKind::Bool, token.to_owned()),
        Some(b'n') => (JsonKind::Null, String::new()),
        _ => (JsonKind::Number, token.to_owned()),
    };
    Ok(Member { kind, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(body: &str, name: &str) -> Option<(JsonKind, String)> {
        let m = Members::parse(body.as_bytes()).unwrap();
        m.get(name).map(|m| (m.kind, m.text.clone()))
    }

    #[test]
    fn values_become_the_text_p_yun_signs() {
        let body = r#"{"s":"a \"q\" & b=c","n":1.50,"i":500,"t":true,"z":null,"e":"","o":{"a": 1},"l":[1, 2]}"#;
        assert_eq!(
            text_of(body, "s"),
            Some((JsonKind::String, r#"a "q" & b=c"#.into()))
        );
        assert_eq!(text_of(body, "n"), Some((JsonKind::Number, "1.50".into())));
        assert_eq!(text_of(body, "i"), Some((JsonKind::Number, "500".into())));
        assert_eq!(text_of(body, "t"), Some((JsonKind::Bool, "true".into())));
        assert_eq!(text_of(body, "z"), Some((JsonKind::Null, String::new())));
        assert_eq!(text_of(body, "e"), Some((JsonKind::String, String::new())));
        assert_eq!(
            text_of(body, "o"),
            Some((JsonKind::Object, r#"{"a": 1}"#.into()))
        );
        assert_eq!(text_of(body, "l"), Some((JsonKind::Array, "[1, 2]".into())));
    }

    #[test]
    fn whitespace_bom_and_duplicates() {
        let body = "\u{feff} { \"a\" : 1 , \"b\":\"x\", \"a\": \"2\" } ";
        let m = Members::parse(body.as_bytes()).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m.text("a"), Some("2"));
        assert_eq!(m.get("a").unwrap().kind, JsonKind::String);
    }

    #[test]
    fn names_come_out_in_byte_order() {
        let m = Members::parse(
            br#"{"pay_origin_desc":"","pay_origin":"","parking_serial":"","parking_order":"","park_uuid":""}"#,
        )
        .unwrap();
        let names: Vec<&str> = m.iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "park_uuid",
                "parking_order",
                "parking_serial",
                "pay_origin",
                "pay_origin_desc"
            ]
        );
    }

    #[test]
    fn non_objects_are_refused() {
        for (body, expected) in [
            (&b"[1,2]"[..], BodyError::NotAnObject),
            (b"\"x\"", BodyError::NotAnObject),
            (b"12", BodyError::NotAnObject),
            (b"\xff{}", BodyError::NotUtf8),
        ] {
            assert_eq!(Members::parse(body), Err(expected));
        }
        for body in [
            &b""[..],
            b"{",
            b"{\"a\":1}x",
            b"{\"a\":\"\\ud800\"}",
            b"{a:1}",
        ] {
            assert!(
                matches!(Members::parse(body), Err(BodyError::NotJson(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn typed_readers_accept_numbers_and_strings() {
        let m = Members::parse(
            br#"{"a":"500","b":500,"c":" 7 ","d":"-1","e":"x","f":"","g":1.5,"t":"20250102093000","o":{}}"#,
        )
        .unwrap();
        assert_eq!(m.required_int("a"), Ok(500));
        assert_eq!(m.required_int("b"), Ok(500));
        assert_eq!(m.required_int("c"), Ok(7));
        assert_eq!(m.optional_int("f"), Ok(None));
        assert_eq!(m.required_int("f"), Err(RequestError::Missing("f")));
        assert!(m.required_int("e").is_err());
        assert!(m.required_int("g").is_err());
        assert!(m.required_non_negative("d").is_err());
        assert!(m.optional("o", 10).is_err());
        assert_eq!(
            m.required_time("t").map(crate::time::epoch_ms),
            Ok(1_735_781_400_000)
        );
        assert!(m.required_time("a").is_err());
        assert_eq!(m.required("zz", 10), Err(RequestError::Missing("zz")));
    }
}
