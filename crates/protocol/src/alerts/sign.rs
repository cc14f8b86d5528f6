//! The robots' signatures (alert-channels.md §A4) and our own webhook's.
//!
//! DingTalk and Feishu both sign `timestamp + "\n" + secret` with HMAC-SHA256 but swap key and
//! message, count time differently (ms / s) and send it differently (query / body): the classic
//! mistake is reusing one for the other (Feishu answers `19021`). Each scheme is one function so
//! the difference stays visible.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::pyun::urlencoded;

type HmacSha256 = Hmac<Sha256>;

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// DingTalk's `sign` before URL encoding: Base64(HMAC-SHA256(key = secret, "{ms}\n{secret}")).
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let message = format!("{timestamp_ms}\n{secret}");
    BASE64.encode(hmac_sha256(secret.as_bytes(), message.as_bytes()))
}

/// The query DingTalk's signed mode appends to the robot URL: `timestamp=…&sign=…`, encoded so
/// that `+`, `/` and `=` survive (a raw `+` reads as a space: `310000 sign not match`).
pub fn dingtalk_query(secret: &str, timestamp_ms: i64) -> String {
    let sign = dingtalk_sign(secret, timestamp_ms);
    urlencoded::encode(&[("timestamp", timestamp_ms.to_string()), ("sign", sign)])
}

/// Feishu's `sign`: Base64(HMAC-SHA256(key = "{s}\n{secret}", empty message)), sent as-is in
/// the JSON body beside `timestamp` (seconds, as a string).
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    BASE64.encode(hmac_sha256(key.as_bytes(), b""))
}

/// The generic webhook's `X-ParkBridge-Signature` header, Stripe's shape:
/// `t={unix seconds},v1={hex HMAC-SHA256(secret, "{t}.{body}")}`. The timestamp is signed with
/// the body so a receiver can refuse replays older than its tolerance.
pub fn webhook_signature(secret: &str, timestamp_s: i64, body: &str) -> String {
    let signed = format!("{timestamp_s}.{body}");
    let mac = hmac_sha256(secret.as_bytes(), signed.as_bytes());
    format!("t={timestamp_s},v1={}", hex::encode(mac))
}

/// Checks a `X-ParkBridge-Signature` header against the body, as a receiver does (our sandbox
/// and the tests): every `v1` is tried, in constant time per candidate.
pub fn webhook_signature_matches(secret: &str, header: &str, body: &str) -> bool {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => candidates.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = timestamp else { return false };
    candidates.iter().any(|candidate| {
        let mut mac =
            HmacSha256::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
        mac.update(format!("{t}.{body}").as_bytes());
        mac.verify_slice(candidate).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// alert-channels.md §A4, Feishu's official sample inputs.
    #[test]
    fn feishu_reproduces_the_spec_vectors() {
        assert_eq!(
            feishu_sign("demo", 100),
            "jquNHnVOwmDRfw+vqTIrY5dooJAgi5EcRtLsQE4wfXg="
        );
        assert_eq!(
            feishu_sign("demo", 1_599_360_473),
            "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="
        );
    }

    /// alert-channels.md §A4: the vector chosen so the signature holds `+`, `/` and `=`.
    #[test]
    fn dingtalk_reproduces_the_spec_vector_and_encodes_it() {
        assert_eq!(
            dingtalk_sign("this is secret", 1_700_000_000_001),
            "aOZ0Y/R7BCg4xs87AcG5MYf26YmwfVRTLD0z3X+p/mM="
        );
        assert_eq!(
            dingtalk_query("this is secret", 1_700_000_000_001),
            "timestamp=1700000000001&sign=aOZ0Y%2FR7BCg4xs87AcG5MYf26YmwfVRTLD0z3X%2Bp%2FmM%3D"
        );
    }

    #[test]
    fn the_two_robot_schemes_differ() {
        // Same secret and instant (1 s = 1000 ms): a DingTalk signature never passes for Feishu.
        assert_ne!(feishu_sign("demo", 100), dingtalk_sign("demo", 100_000));
    }

    #[test]
    fn a_webhook_signature_verifies_only_for_its_body_and_secret() {
        let body = r#"{"status":"firing"}"#;
        let header = webhook_signature("whsec", 1_765_000_000, body);
        // Computed independently: Python's hmac.new(b"whsec", b"1765000000." + body, sha256).
        assert_eq!(
            header,
            "t=1765000000,v1=99a2bcd88be9791643138dfa449c41ad84eb16e20ffa8c8792f20079b481d037"
        );
        assert!(webhook_signature_matches("whsec", &header, body));
        assert!(!webhook_signature_matches("other", &header, body));
        assert!(!webhook_signature_matches(
            "whsec",
            &header,
            r#"{"status":"resolved"}"#
        ));
        let replayed_at_other_time = header.replace("t=1765000000", "t=1765000001");
        assert!(!webhook_signature_matches(
            "whsec",
            &replayed_at_other_time,
            body
        ));
        assert!(!webhook_signature_matches("whsec", "v1=zz", body));
    }
}
