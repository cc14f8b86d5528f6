//! Mallcoo's rules for an entry notice as the sandbox plays them: keys per `AppID`, known
//! `ParkCode`s, field validation and `TradeID` dedupe. Pure and synchronous, called under the lock.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use protocol::mallcoo::{DEFAULT_MAX_SKEW, MallcooKeys, ReceivedHeaders, verify};
use protocol::plate::Plate;
use protocol::time::parse_mallcoo;
use serde_json::Value;

use super::faults::{Fault, Faults};
use super::records::{AcceptedNotice, NoticeReply, ReceivedNotice};

/// Code of an accepted notice.
pub(crate) const CODE_OK: i64 = 1;
/// Code of a notice with a missing or malformed field (§2.5).
pub(crate) const CODE_BAD_PARAMETER: i64 = 2;
/// Code of a notice naming a car park Mallcoo does not know (§2.5).
pub(crate) const CODE_UNKNOWN_PARK: i64 = 1101;
/// Code in the body of a 401: the open platform's own code for refused credentials.
pub(crate) const CODE_UNAUTHORIZED: i64 = 401;

/// One car park's keys as Mallcoo holds them.
#[derive(Debug, Clone)]
pub(crate) struct AppKeys {
    pub(crate) public_key: String,
    pub(crate) private_key: String,
}

/// The authentication headers of a notice, owned (they outlive the request while it sleeps).
#[derive(Debug, Clone, Default)]
pub(crate) struct Headers {
    pub(crate) app_id: Option<String>,
    pub(crate) public_key: Option<String>,
    pub(crate) timestamp: Option<String>,
    pub(crate) sign: Option<String>,
}

/// What Mallcoo answers: an HTTP status and `{"Code", "Message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) code: i64,
    pub(crate) message: String,
}

impl Reply {
    fn ok() -> Reply {
        Reply {
            status: 200,
            code: CODE_OK,
            message: "成功".to_owned(),
        }
    }

    fn code(code: i64, message: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            code,
            message: message.into(),
        }
    }

    fn unauthorized(message: impl Into<String>) -> Reply {
        Reply {
            status: 401,
            code: CODE_UNAUTHORIZED,
            message: message.into(),
        }
    }
}

/// Everything the sandbox knows and remembers.
#[derive(Debug)]
pub(crate) struct State {
    /// `AppID` → keys.
    pub(crate) apps: HashMap<String, AppKeys>,
    /// `ParkCode`s Mallcoo knows.
    pub(crate) park_codes: HashSet<String>,
    pub(crate) latency: Duration,
    /// Tolerance on `TimeStamp` (§2.1: ±5 minutes).
    pub(crate) max_skew: TimeDelta,
    pub(crate) faults: Faults,
    pub(crate) requests: Vec<ReceivedNotice>,
    pub(crate) accepted: Vec<AcceptedNotice>,
    /// `(ParkCode, TradeID)` → index in `accepted`.
    by_trade: HashMap<(String, String), usize>,
}

/// What the handler learns when a notice arrives.
#[derive(Debug)]
pub(crate) struct Arrival {
    /// The notice's `seq` in `requests`.
    pub(crate) seq: u64,
    /// The fault chosen for it, already counted.
    pub(crate) fault: Option<Fault>,
    /// Global latency to add.
    pub(crate) latency: Duration,
}

impl Default for State {
    fn default() -> Self {
        State {
            apps: HashMap::new(),
            park_codes: HashSet::new(),
            latency: Duration::ZERO,
            max_skew: DEFAULT_MAX_SKEW,
            faults: Faults::default(),
            requests: Vec::new(),
            accepted: Vec::new(),
            by_trade: HashMap::new(),
        }
    }
}

impl State {
    /// Forgets what was received and the faults; keys, park codes and settings stay.
    pub(crate) fn reset(&mut self) {
        self.faults.clear();
        self.requests.clear();
        self.accepted.clear();
        self.by_trade.clear();
    }

    /// Records a notice on arrival (arrival order even when answers overtake each other) and
    /// picks its fault.
    pub(crate) fn arrive(&mut self, headers: &Headers, body: &[u8], now: DateTime<Utc>) -> Arrival {
        let seq = self.requests.len() as u64 + 1;
        let signature_ok = self.authenticate(headers, body, now).is_ok();
        self.requests.push(ReceivedNotice {
            seq,
            app_id: headers.app_id.clone(),
            timestamp: headers.timestamp.clone(),
            signature_ok,
            body: String::from_utf8_lossy(body).into_owned(),
            answer: NoticeReply::default(),
        });
        Arrival {
            seq,
            fault: self.faults.take(),
            latency: self.latency,
        }
    }

    /// Stores the answer given to notice `seq`.
    pub(crate) fn answered(&mut self, seq: u64, answer: NoticeReply) {
        // `seq` is the 1-based index: requests are only appended (a reset in between drops it).
        if let Some(r) = usize::try_from(seq.wrapping_sub(1))
            .ok()
            .and_then(|i| self.requests.get_mut(i))
            .filter(|r| r.seq == seq)
        {
            r.answer = answer;
        }
    }

    /// Checks the signed headers against the keys of their `AppID`; `Err` is the 401's message.
    fn authenticate(&self, h: &Headers, body: &[u8], now: DateTime<Utc>) -> Result<String, String> {
        let app_id = h
            .app_id
            .as_deref()
            .filter(|a| !a.is_empty())
            .ok_or("header AppID is missing or empty")?;
        let keys = self
            .apps
            .get(app_id)
            .ok_or_else(|| format!("AppID `{app_id}` is not known"))?;
        let received = ReceivedHeaders {
            app_id: Some(app_id),
            public_key: h.public_key.as_deref(),
            timestamp: h.timestamp.as_deref(),
            sign: h.sign.as_deref(),
        };
        let keys_ref = MallcooKeys {
            app_id,
            public_key: &keys.public_key,
            private_key: &keys.private_key,
        };
        verify(&received, body, &keys_ref, now, self.max_skew).map_err(|e| e.to_string())?;
        Ok(app_id.to_owned())
    }

    /// Plays one notice by Mallcoo's rules: 401 for bad credentials, then Code 2 for a bad
    /// field, 1101 for an unknown `ParkCode`, else Code 1 (a repeated `TradeID` is answered
    /// Code 1 again and recorded once).
    pub(crate) fn apply(&mut self, h: &Headers, body: &[u8], now: DateTime<Utc>) -> Reply {
        let app_id = match self.authenticate(h, body, now) {
            Ok(a) => a,
            Err(why) => return Reply::unauthorized(why),
        };
        let fields = match read_fields(body) {
            Ok(f) => f,
            Err(why) => return Reply::code(CODE_BAD_PARAMETER, why),
        };
        if !self.park_codes.contains(&fields.park_code) {
            return Reply::code(
                CODE_UNKNOWN_PARK,
                format!("车场不存在: ParkCode `{}`", fields.park_code),
            );
        }
        let key = (fields.park_code.clone(), fields.trade_id.clone());
        match self.by_trade.get(&key) {
            Some(&i) => self.accepted[i].copies += 1,
            None => {
                self.by_trade.insert(key, self.accepted.len());
                self.accepted.push(AcceptedNotice {
                    app_id,
                    park_code: fields.park_code,
                    plate_no: fields.plate_no,
                    in_time: fields.in_time,
                    trade_id: fields.trade_id,
                    copies: 1,
                });
            }
        }
        Reply::ok()
    }
}

/// The four fields of a notice, as sent.
struct Fields {
    park_code: String,
    plate_no: String,
    in_time: String,
    trade_id: String,
}

/// Reads and validates the body; `Err` is Code 2's message, naming the field.
fn read_fields(body: &[u8]) -> Result<Fields, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("参数错误: body is not JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("参数错误: body is not a JSON object".to_owned());
    };
    let text = |name: &str| -> Result<String, String> {
        match map.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                Err(format!("参数错误: {name} is missing or empty"))
            }
            Some(_) => Err(format!("参数错误: {name} is not a string")),
        }
    };
    let fields = Fields {
        park_code: text("ParkCode")?,
        plate_no: text("PlateNo")?,
        in_time: text("InTime")?,
        trade_id: text("TradeID")?,
    };
    Plate::parse(&fields.plate_no)
        .map_err(|e| format!("参数错误: PlateNo `{}`: {e}", fields.plate_no))?;
    parse_mallcoo(&fields.in_time).map_err(|_| {
        format!(
            "参数错误: InTime `{}` is not yyyy-MM-dd HH:mm:ss",
            fields.in_time
        )
    })?;
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::mallcoo::sign_headers;

    const BODY: &str =
        r#"{"ParkCode":"P001","PlateNo":"沪A68688","InTime":"2026-11-24 02:00:00","TradeID":"E1"}"#;

    fn state() -> State {
        let mut s = State::default();
        s.apps.insert(
            "APP".into(),
            AppKeys {
                public_key: "PK".into(),
                private_key: "SK".into(),
            },
        );
        s.park_codes.insert("P001".into());
        s
    }

    fn signed(body: &str, at: DateTime<Utc>) -> Headers {
        let keys = MallcooKeys {
            app_id: "APP",
            public_key: "PK",
            private_key: "SK",
        };
        let h = sign_headers(&keys, at, body);
        Headers {
            app_id: Some(h.app_id),
            public_key: Some(h.public_key),
            timestamp: Some(h.timestamp),
            sign: Some(h.sign),
        }
    }

    #[test]
    fn a_valid_notice_is_accepted_once_per_trade_id() {
        let mut s = state();
        let now = Utc::now();
        for _ in 0..2 {
            let r = s.apply(&signed(BODY, now), BODY.as_bytes(), now);
            assert_eq!((r.status, r.code), (200, CODE_OK));
        }
        assert_eq!(s.accepted.len(), 1);
        assert_eq!(s.accepted[0].copies, 2);
        assert_eq!(s.accepted[0].in_time, "2026-11-24 02:00:00");
    }

    #[test]
    fn bad_credentials_are_401_and_stale_times_too() {
        let mut s = state();
        let now = Utc::now();
        let mut h = signed(BODY, now);
        h.sign = Some("0000000000000000".into());
        assert_eq!(s.apply(&h, BODY.as_bytes(), now).status, 401);
        let stale = signed(BODY, now - TimeDelta::minutes(6));
        let r = s.apply(&stale, BODY.as_bytes(), now);
        assert_eq!(r.status, 401);
        assert!(r.message.contains("TimeStamp"), "{}", r.message);
        let mut other = signed(BODY, now);
        other.app_id = Some("OTHER".into());
        assert_eq!(s.apply(&other, BODY.as_bytes(), now).status, 401);
        assert!(s.accepted.is_empty());
    }

    #[test]
    fn bad_fields_are_code_2_and_unknown_parks_1101() {
        let mut s = state();
        let now = Utc::now();
        for body in [
            r#"{"ParkCode":"P001","PlateNo":"","InTime":"2026-11-24 02:00:00","TradeID":"E1"}"#,
            r#"{"ParkCode":"P001","PlateNo":"沪A68688","InTime":"2026-11-24T02:00:00Z","TradeID":"E1"}"#,
            r#"{"ParkCode":"P001","PlateNo":"沪A68688","InTime":"2026-11-24 02:00:00"}"#,
            r#"{"ParkCode":"P001","PlateNo":"T1764000000ABC","InTime":"2026-11-24 02:00:00","TradeID":"E1"}"#,
            "[1]",
        ] {
            let r = s.apply(&signed(body, now), body.as_bytes(), now);
            assert_eq!((r.status, r.code), (200, CODE_BAD_PARAMETER), "{body}");
        }
        let body = BODY.replace("P001", "P999");
        let r = s.apply(&signed(&body, now), body.as_bytes(), now);
        assert_eq!((r.status, r.code), (200, CODE_UNKNOWN_PARK));
        assert!(s.accepted.is_empty());
    }
}
