//! Mallcoo's open-platform signature (§2.6): signing our calls to Mallcoo and checking theirs.
//!
//! The same header scheme authenticates both directions, with a key pair per car park. The
//! signature covers the exact body text, so it is computed on the bytes sent and checked on the
//! bytes received, before anything is parsed.

use chrono::{DateTime, TimeDelta, Utc};
use md5::{Digest, Md5};

use crate::time::{format_mallcoo_timestamp, parse_mallcoo_timestamp};

/// Header naming the caller's application.
pub const HEADER_APP_ID: &str = "AppID";
/// Header carrying the public half of the key pair.
pub const HEADER_PUBLIC_KEY: &str = "PublicKey";
/// Header carrying the signing time, `yyyyMMddHHmmss` in Asia/Shanghai.
pub const HEADER_TIMESTAMP: &str = "TimeStamp";
/// Header carrying the 16-hex-digit signature.
pub const HEADER_SIGN: &str = "Sign";

/// How far a `TimeStamp` may be from our clock (§2.1: ±5 minutes), bounding replays.
pub const DEFAULT_MAX_SKEW: TimeDelta = TimeDelta::minutes(5);

/// One car park's Mallcoo key pair; a struct so the two keys cannot be swapped by argument order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MallcooKeys<'a> {
    /// `AppID`.
    pub app_id: &'a str,
    /// `PublicKey`, sent in clear.
    pub public_key: &'a str,
    /// `PrivateKey`, never sent: it only enters the signed text.
    pub private_key: &'a str,
}

/// Mallcoo's `Sign` of a body: the middle 16 digits of upper-case hex MD5 over the framed text.
///
/// ```
/// use protocol::mallcoo::sign::sign;
/// let body = r#"{"ParkCode":"P001","PlateNo":"沪A68688","InTime":"2026-11-24 02:00:00","TradeID":"E1"}"#;
/// assert_eq!(
///     sign("PK_demo_0001", "20261123180000", body, "SK_demo_secret"),
///     "9A363837500D7089"
/// );
/// ```
pub fn sign(public_key: &str, timestamp: &str, body: &str, private_key: &str) -> String {
    sign_bytes(public_key, timestamp, body.as_bytes(), private_key)
}

/// [`sign`] over raw bytes, so inbound bodies are checked exactly as received.
fn sign_bytes(public_key: &str, timestamp: &str, body: &[u8], private_key: &str) -> String {
    let mut md5 = Md5::new();
    for part in [
        b"{publicKey:".as_slice(),
        public_key.as_bytes(),
        b",timeStamp:",
        timestamp.as_bytes(),
        b",data:",
        body,
        b",privateKey:",
        private_key.as_bytes(),
        b"}",
    ] {
        md5.update(part);
    }
    let digest = md5.finalize();
    // Hex digits 8..24 are bytes 4..12 of the 16-byte digest.
    hex::encode_upper(&digest[4..12])
}

/// The four headers of a signed call to Mallcoo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `AppID`.
    pub app_id: String,
    /// `PublicKey`.
    pub public_key: String,
    /// `TimeStamp` (`yyyyMMddHHmmss`, Asia/Shanghai).
    pub timestamp: String,
    /// `Sign`.
    pub sign: String,
}

impl SignedHeaders {
    /// Header name and value pairs, in the order the public clients send them.
    pub fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            (HEADER_APP_ID, &self.app_id),
            (HEADER_PUBLIC_KEY, &self.public_key),
            (HEADER_TIMESTAMP, &self.timestamp),
            (HEADER_SIGN, &self.sign),
        ]
    }
}

/// Signs `body` (the exact text that will be sent; `""` for none) at `now`.
pub fn sign_headers(keys: &MallcooKeys<'_>, now: DateTime<Utc>, body: &str) -> SignedHeaders {
    let timestamp = format_mallcoo_timestamp(now);
    let sign = sign(keys.public_key, &timestamp, body, keys.private_key);
    SignedHeaders {
        app_id: keys.app_id.to_owned(),
        public_key: keys.public_key.to_owned(),
        timestamp,
        sign,
    }
}

/// The authentication headers of an inbound call, as found (absent → `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceivedHeaders<'a> {
    /// `AppID`.
    pub app_id: Option<&'a str>,
    /// `PublicKey`.
    pub public_key: Option<&'a str>,
    /// `TimeStamp`.
    pub timestamp: Option<&'a str>,
    /// `Sign`.
    pub sign: Option<&'a str>,
}

impl<'a> ReceivedHeaders<'a> {
    /// Collects the four headers through a lookup by name, e.g. over an HTTP header map.
    pub fn from_lookup(mut get: impl FnMut(&'static str) -> Option<&'a str>) -> Self {
        Self {
            app_id: get(HEADER_APP_ID),
            public_key: get(HEADER_PUBLIC_KEY),
            timestamp: get(HEADER_TIMESTAMP),
            sign: get(HEADER_SIGN),
        }
    }
}

/// Why an inbound call is not authenticated; every case is answered 401 (§2.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A header is absent or empty.
    #[error("header {0} is missing or empty")]
    MissingHeader(&'static str),
    /// No car park uses this `AppID` (also for the server's own key lookup).
    #[error("AppID `{0}` is not known")]
    UnknownAppId(String),
    /// The `PublicKey` is not the one issued with this `AppID`.
    #[error("PublicKey does not belong to AppID `{0}`")]
    PublicKeyMismatch(String),
    /// `TimeStamp` is not `yyyyMMddHHmmss`.
    #[error("TimeStamp `{0}` is not of the form yyyyMMddHHmmss (Asia/Shanghai)")]
    MalformedTimestamp(String),
    /// `TimeStamp` is too far from our clock: a replay or a badly set clock.
    #[error("TimeStamp `{timestamp}` is {offset_secs} s from our clock, beyond ±{max_secs} s")]
    StaleTimestamp {
        /// The header as received.
        timestamp: String,
        /// Received time minus our time, in seconds.
        offset_secs: i64,
        /// The tolerance applied, in seconds.
        max_secs: i64,
    },
    /// `Sign` does not match the body, time and keys.
    #[error("Sign does not match the request")]
    BadSignature,
}

/// Checks an inbound call against the car park's keys, on the raw body bytes, before parsing.
pub fn verify(
    received: &ReceivedHeaders<'_>,
    body: &[u8],
    keys: &MallcooKeys<'_>,
    now: DateTime<Utc>,
    max_skew: TimeDelta,
) -> Result<(), AuthError> {
    fn required<'h>(value: Option<&'h str>, name: &'static str) -> Result<&'h str, AuthError> {
        value
            .filter(|v| !v.is_empty())
            .ok_or(AuthError::MissingHeader(name))
    }
    let app_id = required(received.app_id, HEADER_APP_ID)?;
    let public_key = required(received.public_key, HEADER_PUBLIC_KEY)?;
    let timestamp = required(received.timestamp, HEADER_TIMESTAMP)?;
    let their_sign = required(received.sign, HEADER_SIGN)?;

    if app_id != keys.app_id {
        return Err(AuthError::UnknownAppId(app_id.to_owned()));
    }
    // The public key is public: an ordinary comparison leaks nothing.
    if public_key != keys.public_key {
        return Err(AuthError::PublicKeyMismatch(app_id.to_owned()));
    }
    let signed_at = parse_mallcoo_timestamp(timestamp)
        .map_err(|_| AuthError::MalformedTimestamp(timestamp.to_owned()))?;
    let offset = signed_at - now;
    if offset.abs() > max_skew {
        return Err(AuthError::StaleTimestamp {
            timestamp: timestamp.to_owned(),
            offset_secs: offset.num_seconds(),
            max_secs: max_skew.num_seconds(),
        });
    }
    let ours = sign_bytes(keys.public_key, timestamp, body, keys.private_key);
    // Lower-case hex carries the same information, so it is accepted too.
    if constant_time_eq(ours.as_bytes(), their_sign.to_ascii_uppercase().as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::BadSignature)
    }
}

/// Compares without an early exit, so timing does not reveal how many leading digits match.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // The length is public (always 16 for a well-formed Sign); only the content is secret.
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_pyun_iso;

    const BODY: &str =
        r#"{"ParkCode":"P001","PlateNo":"沪A68688","InTime":"2026-11-24 02:00:00","TradeID":"E1"}"#;
    const KEYS: MallcooKeys<'static> = MallcooKeys {
        app_id: "APP_demo",
        public_key: "PK_demo_0001",
        private_key: "SK_demo_secret",
    };

    fn at(iso: &str) -> DateTime<Utc> {
        parse_pyun_iso(iso).unwrap()
    }

    /// 20261123180000 in Shanghai.
    fn signing_time() -> DateTime<Utc> {
        at("2026-11-23T10:00:00Z")
    }

    fn check(received: &ReceivedHeaders<'_>, now: DateTime<Utc>) -> Result<(), AuthError> {
        verify(received, BODY.as_bytes(), &KEYS, now, DEFAULT_MAX_SKEW)
    }

    fn good() -> SignedHeaders {
        sign_headers(&KEYS, signing_time(), BODY)
    }

    fn received(h: &SignedHeaders) -> ReceivedHeaders<'_> {
        let pairs = h.pairs();
        ReceivedHeaders::from_lookup(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
    }

    #[test]
    fn the_digest_vector_reproduces() {
        assert_eq!(
            sign("PK_demo_0001", "20261123180000", BODY, "SK_demo_secret"),
            "9A363837500D7089"
        );
        let h = good();
        assert_eq!(h.timestamp, "20261123180000");
        assert_eq!(h.sign, "9A363837500D7089");
        assert_eq!(
            h.pairs().map(|(n, _)| n),
            ["AppID", "PublicKey", "TimeStamp", "Sign"]
        );
    }

    #[test]
    fn a_correct_call_within_five_minutes_passes() {
        let h = good();
        assert_eq!(check(&received(&h), signing_time()), Ok(()));
        let edge = signing_time() + TimeDelta::minutes(5);
        assert_eq!(check(&received(&h), edge), Ok(()));
        let lower = SignedHeaders {
            sign: h.sign.to_ascii_lowercase(),
            ..h.clone()
        };
        assert_eq!(check(&received(&lower), signing_time()), Ok(()));
    }

    #[test]
    fn each_missing_header_is_named() {
        let h = good();
        let full = received(&h);
        let cases = [
            (
                ReceivedHeaders {
                    app_id: None,
                    ..full
                },
                "AppID",
            ),
            (
                ReceivedHeaders {
                    public_key: Some(""),
                    ..full
                },
                "PublicKey",
            ),
            (
                ReceivedHeaders {
                    timestamp: None,
                    ..full
                },
                "TimeStamp",
            ),
            (ReceivedHeaders { sign: None, ..full }, "Sign"),
        ];
        for (r, name) in cases {
            assert_eq!(
                check(&r, signing_time()),
                Err(AuthError::MissingHeader(name))
            );
        }
    }

    #[test]
    fn foreign_app_or_public_key_is_refused() {
        let h = good();
        let r = ReceivedHeaders {
            app_id: Some("OTHER"),
            ..received(&h)
        };
        assert_eq!(
            check(&r, signing_time()),
            Err(AuthError::UnknownAppId("OTHER".into()))
        );
        let r = ReceivedHeaders {
            public_key: Some("PK_other"),
            ..received(&h)
        };
        assert_eq!(
            check(&r, signing_time()),
            Err(AuthError::PublicKeyMismatch("APP_demo".into()))
        );
    }

    #[test]
    fn malformed_and_stale_timestamps_are_refused() {
        let h = good();
        let r = ReceivedHeaders {
            timestamp: Some("2026-11-23 18:00:00"),
            ..received(&h)
        };
        assert_eq!(
            check(&r, signing_time()),
            Err(AuthError::MalformedTimestamp("2026-11-23 18:00:00".into()))
        );
        let late = signing_time() + TimeDelta::seconds(301);
        assert_eq!(
            check(&received(&h), late),
            Err(AuthError::StaleTimestamp {
                timestamp: "20261123180000".into(),
                offset_secs: -301,
                max_secs: 300,
            })
        );
        let early = signing_time() - TimeDelta::minutes(6);
        assert!(matches!(
            check(&received(&h), early),
            Err(AuthError::StaleTimestamp {
                offset_secs: 360,
                ..
            })
        ));
    }

    #[test]
    fn a_wrong_signature_or_altered_body_is_refused() {
        let h = good();
        let r = ReceivedHeaders {
            sign: Some("9A363837500D7088"),
            ..received(&h)
        };
        assert_eq!(check(&r, signing_time()), Err(AuthError::BadSignature));
        let r = ReceivedHeaders {
            sign: Some("9A36"),
            ..received(&h)
        };
        assert_eq!(check(&r, signing_time()), Err(AuthError::BadSignature));
        let tampered = BODY.replace("P001", "P002");
        assert_eq!(
            verify(
                &received(&h),
                tampered.as_bytes(),
                &KEYS,
                signing_time(),
                DEFAULT_MAX_SKEW
            ),
            Err(AuthError::BadSignature)
        );
        let other_secret = MallcooKeys {
            private_key: "SK_other",
            ..KEYS
        };
        assert_eq!(
            verify(
                &received(&h),
                BODY.as_bytes(),
                &other_secret,
                signing_time(),
                DEFAULT_MAX_SKEW
            ),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn an_empty_body_is_signed_as_empty_text() {
        let h = sign_headers(&KEYS, signing_time(), "");
        assert_eq!(
            h.sign,
            sign("PK_demo_0001", "20261123180000", "", "SK_demo_secret")
        );
        assert_eq!(
            verify(&received(&h), b"", &KEYS, signing_time(), DEFAULT_MAX_SKEW),
            Ok(())
        );
    }
}
