//! Our replies to P云's calls (pyun-carpark.md §1.5 step 8, D2, D3): one flat JSON object, echoing the service, signed by S-DOWN.
//!
//! The JSON is written here member by member, so the bytes sent are exactly the members signed,
//! in the documented order (`service`, `version`, `charset`, `result_code`, `message`, `hint`,
//! business fields, `sign`), and an empty text is never emitted.

use std::borrow::Cow;

use super::codes::{ResultCode, Service};
use super::down_sign::{self, SIGN_MEMBER};
use super::members::Members;
use crate::pyun::RequestError;

/// The `version` we send.
pub const VERSION: &str = "1.0";

/// The `charset` we send.
pub const CHARSET: &str = "UTF-8";

/// A business member's value: text (signed as is) or an integer (a JSON number, signed by its decimal text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyValue {
    /// Sent as a JSON string.
    Text(String),
    /// Sent as a JSON number: amounts, seconds, counts (D3).
    Int(i64),
}

/// A reply before it is rendered and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    service: String,
    code: ResultCode,
    message: String,
    hint: Option<String>,
    business: Vec<(&'static str, ReplyValue)>,
}

impl Reply {
    /// A reply echoing `service` as received (empty when none could be read: then not sent).
    pub fn new(service: impl Into<String>, code: ResultCode, message: impl Into<String>) -> Reply {
        Reply {
            service: service.into(),
            code,
            message: message.into(),
            hint: None,
            business: Vec::new(),
        }
    }

    /// A reply for one of our services.
    pub fn of(service: Service, code: ResultCode, message: impl Into<String>) -> Reply {
        Reply::new(service.name(), code, message)
    }

    /// `1500`: the call could not be processed now and P云 should retry (§1.5 step 7).
    pub fn internal_error(service: Service, hint: impl Into<String>) -> Reply {
        Reply::of(
            service,
            ResultCode::InternalError,
            super::codes::message::INTERNAL_ERROR,
        )
        .with_hint(hint)
    }

    /// Adds a diagnostic `hint` (never a secret: P云's staff read it).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Reply {
        self.hint = Some(hint.into());
        self
    }

    /// Sets a text member; an empty text is not sent. A name set twice keeps the last value.
    pub(crate) fn text(&mut self, name: &'static str, value: impl Into<String>) {
        self.set(name, ReplyValue::Text(value.into()));
    }

    /// Sets an optional text member.
    pub(crate) fn opt_text(&mut self, name: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(name, v);
        }
    }

    /// Sets an integer member.
    pub(crate) fn int(&mut self, name: &'static str, value: i64) {
        self.set(name, ReplyValue::Int(value));
    }

    /// Sets an optional integer member.
    pub(crate) fn opt_int(&mut self, name: &'static str, value: Option<i64>) {
        if let Some(v) = value {
            self.int(name, v);
        }
    }

    fn set(&mut self, name: &'static str, value: ReplyValue) {
        match self.business.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.business.push((name, value)),
        }
    }

    /// The result code.
    pub fn code(&self) -> ResultCode {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The hint, if any.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The members sent, `sign` excepted, in the order sent: `(name, text, is a number)`. Texts
    /// are borrowed: a billing reply has some thirty, and copying each showed in profiles.
    fn members(&self) -> Vec<(&str, Cow<'_, str>, bool)> {
        let mut out: Vec<(&str, Cow<'_, str>, bool)> = Vec::with_capacity(6 + self.business.len());
        out.extend([
            ("service", Cow::Borrowed(self.service.as_str()), false),
            ("version", Cow::Borrowed(VERSION), false),
            ("charset", Cow::Borrowed(CHARSET), false),
            ("result_code", Cow::Borrowed(self.code.as_str()), false),
            ("message", Cow::Borrowed(self.message.as_str()), false),
        ]);
        if let Some(hint) = &self.hint {
            out.push(("hint", Cow::Borrowed(hint.as_str()), false));
        }
        for (name, value) in &self.business {
            if is_envelope(name) {
                continue;
            }
            match value {
                ReplyValue::Text(t) => out.push((name, Cow::Borrowed(t.as_str()), false)),
                ReplyValue::Int(n) => out.push((name, Cow::Owned(n.to_string()), true)),
            }
        }
        // Never null or empty (§1.5 step 8): both signing conventions then agree.
        out.retain(|(_, text, _)| !text.is_empty());
        out
    }

    /// The S-DOWN plaintext of this reply without the key, for the log.
    pub fn plaintext(&self) -> String {
        let members = self.members();
        down_sign::plaintext(members.iter().map(|(k, v, _)| (*k, v.as_ref())), false)
    }

    /// The body to send: signed when the park's key is known, unsigned otherwise (§1.5 step 4).
    pub fn to_json(&self, key: Option<&str>) -> String {
        let members = self.members();
        // Sized once (quotes, colon and comma per member, and the sign's 32 hex digits): a
        // billing reply is some 700 bytes, grown by doubling it was copied seven times.
        let len: usize = members.iter().map(|(k, v, _)| k.len() + v.len() + 6).sum();
        let mut out = String::with_capacity(len + SIGN_MEMBER.len() + 40);
        out.push('{');
        for (i, (name, text, number)) in members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_string(&mut out, name);
            out.push(':');
            if *number {
                out.push_str(text);
            } else {
                push_string(&mut out, text);
            }
        }
        if let Some(key) = key {
            let sign = down_sign::sign(members.iter().map(|(k, v, _)| (*k, v.as_ref())), key);
            out.push(',');
            push_string(&mut out, SIGN_MEMBER);
            out.push(':');
            push_string(&mut out, &sign);
        }
        out.push('}');
        out
    }
}

/// Envelope members are set by `Reply` itself; a business member of that name would send the key twice.
fn is_envelope(name: &str) -> bool {
    matches!(
        name,
        "service" | "version" | "charset" | "result_code" | "message" | "hint" | SIGN_MEMBER
    )
}

/// Appends `s` as a JSON string literal (serde_json's escaping: `"`, `\` and controls only).
/// Written by hand: a billing reply has some thirty strings, and going through a `Value` cost two
/// allocations and the formatter each, a third of the billing call's instructions (callgrind).
fn push_string(out: &mut String, s: &str) {
    // Nearly every string of a reply needs no escape: copied whole, after one scan.
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        if escaped.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escaped);
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

/// The common members of a reply as read back (a sandbox playing P云, and our round-trip tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyHead {
    /// The echoed `service`, if sent.
    pub service: Option<String>,
    /// `result_code` as text (it arrives as a string or, from some gateways, a number).
    pub code: String,
    /// `message` (`""` when absent).
    pub message: String,
    /// `hint`, if sent.
    pub hint: Option<String>,
}

impl ReplyHead {
    /// Reads the common members; only `result_code` is required.
    pub fn from_members(members: &Members) -> Result<ReplyHead, RequestError> {
        Ok(ReplyHead {
            service: members.text("service").map(str::to_owned),
            code: members
                .required("result_code", MAX_CODE_CHARS)?
                .trim()
                .to_owned(),
            message: members.text("message").unwrap_or_default().to_owned(),
            hint: members.text("hint").map(str::to_owned),
        })
    }

    /// The code, when it is one we know.
    pub fn result_code(&self) -> Option<ResultCode> {
        ResultCode::from_code(&self.code)
    }
}

const MAX_CODE_CHARS: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyun_carpark::codes::message;
    use crate::pyun_carpark::down_sign::{Convention, verify};

    const KEY: &str = "pb-demo-key-2025";

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_does() {
        let mut every_control: String = (0u8..0x20).map(char::from).collect();
        every_control.push_str("\"\\/ 沪A12345 \u{7f} é");
        for s in ["", "plain", "车牌", every_control.as_str(), "\"", "end\\"] {
            let mut ours = String::new();
            push_string(&mut ours, s);
            assert_eq!(ours, serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn v3_replies_byte_for_byte() {
        let ok = Reply::of(Service::PaymentResult, ResultCode::Ok, message::OK);
        assert_eq!(
            ok.to_json(Some(KEY)),
            r#"{"service":"service.parking.payment.result","version":"1.0","charset":"UTF-8","result_code":"1001","message":"成功","sign":"9AE5E4C4061CC235AAA17F185C100CAF"}"#
        );
        let revoked = Reply::of(
            Service::PaymentResult,
            ResultCode::Refused,
            message::ORDER_REVOKED,
        );
        assert_eq!(
            revoked.plaintext(),
            "charset=UTF-8&message=订单已撤销&result_code=1403&service=service.parking.payment.result&version=1.0"
        );
        assert!(
            revoked
                .to_json(Some(KEY))
                .ends_with(r#""sign":"500C5443EA2131B74DB3C0BE16E9263B"}"#)
        );
    }

    #[test]
    fn empties_are_never_sent_and_the_reply_verifies() {
        let mut r = Reply::new("", ResultCode::BadRequest, message::BAD_REQUEST).with_hint("");
        r.text("plate", "");
        r.text("a", "x\"y\\z\n");
        r.int("n", -3);
        r.text("a", "last wins");
        let body = r.to_json(Some(KEY));
        assert_eq!(
            body,
            r#"{"version":"1.0","charset":"UTF-8","result_code":"1400","message":"请求参数错误","a":"last wins","n":-3,"sign":""#
                .to_owned()
                + &down_sign::sign(
                    [
                        ("version", "1.0"),
                        ("charset", "UTF-8"),
                        ("result_code", "1400"),
                        ("message", "请求参数错误"),
                        ("a", "last wins"),
                        ("n", "-3"),
                    ],
                    KEY
                )
                + "\"}"
        );
        let members = Members::parse(body.as_bytes()).unwrap();
        assert_eq!(verify(&members, KEY), Ok(Convention::Indistinct));
        let head = ReplyHead::from_members(&members).unwrap();
        assert_eq!(head.result_code(), Some(ResultCode::BadRequest));
        assert_eq!(head.service, None);
    }

    #[test]
    fn unsigned_without_a_key() {
        let body = Reply::new("x", ResultCode::Unauthorized, message::UNKNOWN_PARK).to_json(None);
        assert!(!body.contains("sign"), "{body}");
        assert!(Members::parse(body.as_bytes()).is_ok());
    }

    #[test]
    fn official_reply_examples_read_back() {
        // DOC parking/guideline/http.md: `result_code` as a JSON number, `message` empty.
        let http = r#"{"parking_serial":"PARK749582826155802625","enter_free_time":60,"message":"","result_code":1001,"service":"service.parking.payment.billing","charset":"UTF-8"}"#;
        let head = ReplyHead::from_members(&Members::parse(http.as_bytes()).unwrap()).unwrap();
        assert_eq!(head.result_code(), Some(ResultCode::Ok));
        assert_eq!(head.message, "");
        // DOC parking/api/parking-prepay.md, with its curly quote mended: no service echo.
        let prepay = r#"{"result_code":"1001","message":"OK"}"#;
        let head = ReplyHead::from_members(&Members::parse(prepay.as_bytes()).unwrap()).unwrap();
        assert_eq!(head.service, None);
        assert_eq!(head.code, "1001");
    }
}
