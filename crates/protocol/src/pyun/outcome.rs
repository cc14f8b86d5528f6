//! Reading any P云 answer — whatever the HTTP status — into an envelope and an outcome class (digest §1.1, §1.6).
//!
//! P云 puts the reason for a failure in the body even on a 4xx/5xx status, so the status alone
//! decides nothing while a body can be read. A body that is not P云's envelope (a proxy's HTML
//! page, nothing, a cut-off answer) is a transient failure that keeps the status and an excerpt
//! for the log.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::text_from;

/// Characters of an undecodable body kept for the log.
const EXCERPT_CHARS: usize = 200;

/// P云's JSON envelope, as far as ParkBridge uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PyunResponse {
    /// P云's result code, kept as text even when it arrived as a number.
    pub code: String,
    /// Human-readable summary (`""` when absent).
    pub message: String,
    /// Detail for a failed request, e.g. "`merchant` Required!".
    pub hint: Option<String>,
    /// P云's log reference, quoted in support tickets.
    pub seqno: Option<String>,
    /// P云's serving node, for support tickets.
    pub data_node: Option<String>,
    /// P云's processing time in milliseconds.
    pub time_cost: Option<i64>,
    /// `payload.grant_serial`, when present and not empty.
    pub grant_serial: Option<String>,
    /// The whole `payload`, for callers that need more than the grant serial.
    pub payload: Option<Value>,
}

impl PyunResponse {
    /// Reads P云's envelope from a body; `None` unless it is a JSON object with a `code`.
    pub fn from_body(body: &[u8]) -> Option<PyunResponse> {
        let Value::Object(mut obj) = serde_json::from_slice::<Value>(body).ok()? else {
            return None;
        };
        let code = obj.get("code").and_then(text_from)?;
        let text = |v: Option<&Value>| v.and_then(text_from);
        let payload = obj.remove("payload").filter(|p| !p.is_null());
        let grant_serial = payload
            .as_ref()
            .and_then(|p| text(p.get("grant_serial")))
            .filter(|s| !s.is_empty());
        Some(PyunResponse {
            code,
            message: text(obj.get("message")).unwrap_or_default(),
            hint: text(obj.get("hint")),
            seqno: text(obj.get("seqno")),
            data_node: text(obj.get("data_node")),
            time_cost: obj.remove("time_cost").and_then(super::lenient::int_from),
            grant_serial,
            payload,
        })
    }
}

/// What a P云 answer means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeClass {
    /// `1001`, `1000`: done.
    Success,
    /// `1002` vehicle not in the car park, `1003` coupon limit: a business refusal.
    Rejected,
    /// `1401`, `401`, `403`: wrong credential or coupon configuration; an admin must act.
    Misconfigured,
    /// `1403`: a duplicate dispatch, which for an idempotent resend means delivered.
    AlreadyDone,
    /// `1405`, `1500`, `5xx`, unknown codes and unreadable answers: may work later.
    Transient,
    /// `400`, `1400`: our request was malformed; resending it cannot help.
    Invalid,
}

impl OutcomeClass {
    /// The class of a P云 `code`.
    pub fn of_code(code: &str) -> OutcomeClass {
        match code.trim() {
            "1001" | "1000" => OutcomeClass::Success,
            "1002" | "1003" => OutcomeClass::Rejected,
            "1401" | "401" | "403" => OutcomeClass::Misconfigured,
            "1403" => OutcomeClass::AlreadyDone,
            // 1400 is not in the seed; P云's 14xx/15xx codes mirror HTTP (1401/401, 1500/500),
            // so it is read as 400's twin: a parameter error.
            "400" | "1400" => OutcomeClass::Invalid,
            _ => OutcomeClass::Transient,
        }
    }

    /// Whether an automatic, bounded retry may help.
    pub fn retryable(self) -> bool {
        self == OutcomeClass::Transient
    }

    /// Whether the request took effect at P云 (success, or already done by an earlier attempt).
    pub fn delivered(self) -> bool {
        matches!(self, OutcomeClass::Success | OutcomeClass::AlreadyDone)
    }
}

/// One P云 call's result, from the HTTP status and body.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// P云 answered with its envelope.
    Answered {
        /// The HTTP status received.
        http_status: u16,
        /// What the code means.
        class: OutcomeClass,
        /// The envelope.
        response: PyunResponse,
    },
    /// The body was not P云's envelope; always transient.
    Undecodable {
        /// The HTTP status received.
        http_status: u16,
        /// The start of the body, lossily decoded, for the log.
        excerpt: String,
    },
}

/// Reads P云's answer from any status and body; never fails.
pub fn decode_response(http_status: u16, body: &[u8]) -> Outcome {
    match PyunResponse::from_body(body) {
        Some(response) => Outcome::Answered {
            http_status,
            class: OutcomeClass::of_code(&response.code),
            response,
        },
        None => Outcome::Undecodable {
            http_status,
            excerpt: excerpt(body),
        },
    }
}

fn excerpt(body: &[u8]) -> String {
    // Only the head is looked at, so a multi-megabyte error page costs nothing.
    let head = &body[..body.len().min(EXCERPT_CHARS * 8)];
    let text = String::from_utf8_lossy(head);
    let mut out: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(EXCERPT_CHARS)
        .collect();
    if out.is_empty() {
        out.push_str("(empty body)");
    }
    out
}

impl Outcome {
    /// The outcome class.
    pub fn class(&self) -> OutcomeClass {
        match self {
            Outcome::Answered { class, .. } => *class,
            Outcome::Undecodable { .. } => OutcomeClass::Transient,
        }
    }

    /// Whether an automatic, bounded retry may help.
    pub fn retryable(&self) -> bool {
        self.class().retryable()
    }

    /// The HTTP status received.
    pub fn http_status(&self) -> u16 {
        match self {
            Outcome::Answered { http_status, .. } | Outcome::Undecodable { http_status, .. } => {
                *http_status
            }
        }
    }

    /// P云's envelope, when the body was one.
    pub fn response(&self) -> Option<&PyunResponse> {
        match self {
            Outcome::Answered { response, .. } => Some(response),
            Outcome::Undecodable { .. } => None,
        }
    }

    /// P云's log reference, to record with the call.
    pub fn seqno(&self) -> Option<&str> {
        self.response().and_then(|r| r.seqno.as_deref())
    }

    /// The grant serial of a successful dispatch.
    pub fn grant_serial(&self) -> Option<&str> {
        self.response().and_then(|r| r.grant_serial.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_OK: &str = r#"{
"code": "1001",
"data_node": "HS1-1",
"seqno": "86213123",
"payload": {
"grant_serial": "xxxxx"
},
"time_cost": 100,
"message": "操作成功"
}"#;

    const SEED_400: &str = r#"{
"code": "400",
"message": "请求参数错误",
"hint": "`merchant` Required!",
"seqno": "94929a9b0874aa46",
"data_node": "CN-South/HS3-2",
"path": "POST /gate/1.0/parking/mcoupon/grant/create"
}"#;

    const SEED_1500: &str = r#"{
"code": "1500",
"message": "没有匹配到停车记录",
"seqno": "57804ae2e859f58a",
"data_node": "CN-South/HS3-1",
"time_cost": 239,
"payload": {
"grant_serial": ""
}
}"#;

    #[test]
    fn seed_success_example() {
        let o = decode_response(200, SEED_OK.as_bytes());
        assert_eq!(o.class(), OutcomeClass::Success);
        assert!(!o.retryable());
        assert_eq!(o.seqno(), Some("86213123"));
        assert_eq!(o.grant_serial(), Some("xxxxx"));
        let r = o.response().unwrap();
        assert_eq!(r.message, "操作成功");
        assert_eq!(r.time_cost, Some(100));
        assert_eq!(r.data_node.as_deref(), Some("HS1-1"));
    }

    #[test]
    fn seed_400_example_keeps_its_hint() {
        let o = decode_response(400, SEED_400.as_bytes());
        assert_eq!(o.class(), OutcomeClass::Invalid);
        assert!(!o.retryable());
        assert_eq!(o.http_status(), 400);
        let r = o.response().unwrap();
        assert_eq!(r.hint.as_deref(), Some("`merchant` Required!"));
        assert_eq!(r.seqno.as_deref(), Some("94929a9b0874aa46"));
        assert_eq!(r.time_cost, None);
    }

    #[test]
    fn seed_1500_example_is_transient_without_grant_serial() {
        let o = decode_response(500, SEED_1500.as_bytes());
        assert_eq!(o.class(), OutcomeClass::Transient);
        assert!(o.retryable());
        assert_eq!(o.grant_serial(), None);
        assert_eq!(o.response().unwrap().message, "没有匹配到停车记录");
    }

    #[test]
    fn numeric_code_is_kept_as_text() {
        let o = decode_response(200, br#"{"code":1403,"message":"repeat","time_cost":"12"}"#);
        assert_eq!(o.class(), OutcomeClass::AlreadyDone);
        assert!(o.class().delivered());
        let r = o.response().unwrap();
        assert_eq!(r.code, "1403");
        assert_eq!(r.time_cost, Some(12));
    }

    #[test]
    fn every_documented_code_has_its_class() {
        use OutcomeClass::*;
        for (code, class) in [
            ("1001", Success),
            ("1000", Success),
            ("1002", Rejected),
            ("1003", Rejected),
            ("1401", Misconfigured),
            ("401", Misconfigured),
            ("403", Misconfigured),
            ("1403", AlreadyDone),
            ("1405", Transient),
            ("1500", Transient),
            ("500", Transient),
            ("503", Transient),
            ("400", Invalid),
            ("1400", Invalid),
            ("9999", Transient),
        ] {
            assert_eq!(OutcomeClass::of_code(code), class, "{code}");
            assert_eq!(class.retryable(), class == Transient);
        }
    }

    #[test]
    fn html_error_page_is_transient_with_an_excerpt() {
        let html = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body></body></html>";
        let o = decode_response(502, html);
        assert_eq!(o.class(), OutcomeClass::Transient);
        assert_eq!(o.http_status(), 502);
        let Outcome::Undecodable { excerpt, .. } = o else {
            panic!("HTML decoded as an envelope");
        };
        assert_eq!(
            excerpt,
            "<html> <head><title>502 Bad Gateway</title></head> <body></body></html>"
        );
    }

    #[test]
    fn empty_truncated_and_codeless_bodies_are_transient() {
        for body in [
            &b""[..],
            br#"{"code":"1001","message":"#,
            br#"{"message":"no code"}"#,
            br#"{"code":null}"#,
            b"[1,2]",
            &[0xff, 0xfe, 0x00],
        ] {
            let o = decode_response(200, body);
            assert!(matches!(o, Outcome::Undecodable { .. }), "{body:?}");
            assert!(o.retryable());
        }
        let Outcome::Undecodable { excerpt, .. } = decode_response(200, b"") else {
            unreachable!()
        };
        assert_eq!(excerpt, "(empty body)");
        let long = "x".repeat(10_000);
        let Outcome::Undecodable { excerpt, .. } = decode_response(503, long.as_bytes()) else {
            unreachable!()
        };
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS);
    }
}
