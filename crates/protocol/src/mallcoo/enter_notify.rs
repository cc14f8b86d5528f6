//! EnterInfoNotify (§2.5): our notice to Mallcoo that a car entered, and how its answer is read.
//!
//! The body is produced once as text, signed as that text and sent as that text; it is never
//! re-serialised between signing and sending.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::amount::null_as_default;
use super::sign::{MallcooKeys, SignedHeaders, sign_headers};
use super::text;
use crate::time::mallcoo_datetime;

/// Mallcoo's open-platform base URL when a car park configures none.
pub const DEFAULT_BASE_URL: &str = "https://openapi10.mallcoo.cn";

/// Path of the entry notice under the base URL (the trailing slash is Mallcoo's).
pub const PATH: &str = "/Parking/V1/EnterInfoNotify/";

/// The entry notice; fields are declared in the order Mallcoo's examples (and our vector) use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterInfoNotify {
    /// `ParkCode`: the car park's id at Mallcoo (its `parkId`).
    #[serde(rename = "ParkCode")]
    pub park_code: String,
    /// `PlateNo`.
    #[serde(rename = "PlateNo")]
    pub plate_no: String,
    /// `InTime`, sent as `yyyy-MM-dd HH:mm:ss` Asia/Shanghai.
    #[serde(rename = "InTime", with = "mallcoo_datetime")]
    pub in_time: DateTime<Utc>,
    /// `TradeID`: our session id, unique per entry.
    #[serde(rename = "TradeID")]
    pub trade_id: String,
}

/// A notice ready to send: the exact body and the headers that sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNotice {
    /// The JSON text to send, byte for byte.
    pub body: String,
    /// `AppID`, `PublicKey`, `TimeStamp`, `Sign` for that body.
    pub headers: SignedHeaders,
}

impl EnterInfoNotify {
    /// The compact JSON text that is both signed and sent.
    pub fn to_body(&self) -> String {
        // Strings and a formatted time cannot fail to serialise into a String.
        serde_json::to_string(self).expect("an EnterInfoNotify always serialises")
    }

    /// The body and its signed headers at `now`.
    pub fn sign(&self, keys: &MallcooKeys<'_>, now: DateTime<Utc>) -> SignedNotice {
        let body = self.to_body();
        let headers = sign_headers(keys, now, &body);
        SignedNotice { body, headers }
    }
}

/// Mallcoo's answer, `{"Code":1,"Message":"成功"}`; other fields (e.g. `Data`) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterNotifyAnswer {
    /// `Code`: 1 success, 2 bad parameter, 1101 unknown car park; read from a number or its text.
    #[serde(rename = "Code", deserialize_with = "lenient_code")]
    pub code: i64,
    /// `Message`.
    #[serde(rename = "Message", default, deserialize_with = "null_as_default")]
    pub message: String,
}

/// What an entry notice's answer means for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnterNotifyOutcome {
    /// `Code` 1: delivered.
    Success,
    /// `Code` 2: Mallcoo refused a parameter; resending the same notice cannot help.
    Invalid {
        /// Mallcoo's `Message`.
        message: String,
    },
    /// `Code` 1101: Mallcoo does not know the car park; an admin must fix the configuration.
    Misconfigured {
        /// Mallcoo's `Message`.
        message: String,
    },
    /// Any other code or an unreadable answer: retry, within the outbox's bounds.
    Transient {
        /// `Code`, when the answer had one.
        code: Option<i64>,
        /// Mallcoo's `Message`, or why the answer could not be read.
        message: String,
    },
}

impl EnterNotifyAnswer {
    /// Mallcoo's success answer (for the sandbox).
    pub fn success() -> Self {
        Self {
            code: 1,
            message: "成功".to_owned(),
        }
    }

    /// Classifies the answer by its `Code`.
    pub fn outcome(&self) -> EnterNotifyOutcome {
        let message = self.message.clone();
        match self.code {
            1 => EnterNotifyOutcome::Success,
            2 => EnterNotifyOutcome::Invalid { message },
            1101 => EnterNotifyOutcome::Misconfigured { message },
            code => EnterNotifyOutcome::Transient {
                code: Some(code),
                message,
            },
        }
    }
}

impl EnterNotifyOutcome {
    /// Reads a raw answer body, whatever the HTTP status; anything undecodable is `Transient`.
    pub fn from_body(body: &[u8]) -> Self {
        let unreadable = |why: String| Self::Transient {
            code: None,
            message: format!("unreadable answer: {why}"),
        };
        // serde also reads a struct from a JSON array (`[1]` would pass as Code 1): only an
        // object is an answer.
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value @ serde_json::Value::Object(_)) => {
                match EnterNotifyAnswer::deserialize(value) {
                    Ok(answer) => answer.outcome(),
                    Err(e) => unreadable(e.to_string()),
                }
            }
            Ok(_) => unreadable("not a JSON object".to_owned()),
            Err(e) => unreadable(e.to_string()),
        }
    }

    /// True when sending the same notice again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

/// Reads `Code` from `1`, `1.0` or `"1"`: a loosely typed answer should not look transient forever.
fn lenient_code<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let raw = text::opt(d)?.ok_or_else(|| serde::de::Error::custom("Code is missing"))?;
    raw.trim()
        .parse()
        .map_err(|_| serde::de::Error::custom(format!("Code `{raw}` is not an integer")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mallcoo::sign::{DEFAULT_MAX_SKEW, ReceivedHeaders, verify};
    use crate::time::parse_pyun_iso;

    fn vector_notice() -> EnterInfoNotify {
        EnterInfoNotify {
            park_code: "P001".into(),
            plate_no: "沪A68688".into(),
            in_time: parse_pyun_iso("2026-11-23T18:00:00Z").unwrap(),
            trade_id: "E1".into(),
        }
    }

    const KEYS: MallcooKeys<'static> = MallcooKeys {
        app_id: "APP_demo",
        public_key: "PK_demo_0001",
        private_key: "SK_demo_secret",
    };

    #[test]
    fn the_body_is_the_vector_text_and_signs_to_the_vector() {
        let n = vector_notice();
        assert_eq!(
            n.to_body(),
            r#"{"ParkCode":"P001","PlateNo":"沪A68688","InTime":"2026-11-24 02:00:00","TradeID":"E1"}"#
        );
        let now = parse_pyun_iso("2026-11-23T10:00:00Z").unwrap();
        let signed = n.sign(&KEYS, now);
        assert_eq!(signed.headers.timestamp, "20261123180000");
        assert_eq!(signed.headers.sign, "9A363837500D7089");
        // The sandbox's side: the received text verifies and decodes back to the notice.
        let h = &signed.headers;
        let received = ReceivedHeaders {
            app_id: Some(&h.app_id),
            public_key: Some(&h.public_key),
            timestamp: Some(&h.timestamp),
            sign: Some(&h.sign),
        };
        assert_eq!(
            verify(
                &received,
                signed.body.as_bytes(),
                &KEYS,
                now,
                DEFAULT_MAX_SKEW
            ),
            Ok(())
        );
        let back: EnterInfoNotify = serde_json::from_str(&signed.body).unwrap();
        assert_eq!(back, n);
    }

    #[test]
    fn answers_are_classified_by_code() {
        let read = |s: &str| EnterNotifyOutcome::from_body(s.as_bytes());
        assert_eq!(
            read(r#"{"Code":1,"Message":"成功"}"#),
            EnterNotifyOutcome::Success
        );
        assert_eq!(
            read(r#"{"Code":"1","Message":"成功","Data":null}"#),
            EnterNotifyOutcome::Success
        );
        assert_eq!(
            read(r#"{"Code":2,"Message":"参数错误"}"#),
            EnterNotifyOutcome::Invalid {
                message: "参数错误".into()
            }
        );
        assert_eq!(
            read(r#"{"Code":1101,"Message":null}"#),
            EnterNotifyOutcome::Misconfigured {
                message: String::new()
            }
        );
        assert_eq!(
            read(r#"{"Code":500,"Message":"busy"}"#),
            EnterNotifyOutcome::Transient {
                code: Some(500),
                message: "busy".into()
            }
        );
        for junk in [
            "",
            "<html>502</html>",
            "{}",
            r#"{"Code":"x"}"#,
            "[1]",
            "\u{0}\u{ff}",
        ] {
            let outcome = read(junk);
            assert!(
                matches!(outcome, EnterNotifyOutcome::Transient { code: None, .. }),
                "{junk:?} gave {outcome:?}"
            );
            assert!(outcome.is_retryable());
        }
        assert!(!read(r#"{"Code":2}"#).is_retryable());
    }

    #[test]
    fn the_success_answer_serialises_like_mallcoo() {
        let json = serde_json::to_string(&EnterNotifyAnswer::success()).unwrap();
        assert_eq!(json, r#"{"Code":1,"Message":"成功"}"#);
    }
}
