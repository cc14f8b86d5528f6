//! How each vendor judges a call, in the order its errors show up in practice: an unknown robot,
//! a forced answer, an unreadable or too long body, the signature, the keyword, the rate limit.
//!
//! The codes and words are the vendors' (alert-channels.md §A1–A3), so ParkBridge's reading of
//! them is tested against what it will meet.

use chrono::{DateTime, Duration, Utc};
use protocol::alerts::ChannelKind;
use protocol::alerts::sign;
use serde_json::{Value, json};

use super::state::{ForcedAnswer, Robot, State};

/// What arrived, besides the body: the query's signature fields or the webhook's header.
#[derive(Debug, Default)]
pub(crate) struct Auth {
    pub(crate) timestamp: Option<String>,
    pub(crate) sign: Option<String>,
    pub(crate) webhook_signature: Option<String>,
}

/// The answer: HTTP status and body.
pub(crate) struct Verdict {
    pub(crate) status: u16,
    pub(crate) answer: Value,
}

fn ok(kind: ChannelKind) -> Value {
    match kind {
        ChannelKind::Wecom | ChannelKind::Dingtalk => json!({"errcode": 0, "errmsg": "ok"}),
        ChannelKind::Feishu => json!({"code": 0, "msg": "success", "data": {}}),
        ChannelKind::Webhook => json!({"ok": true}),
    }
}

fn error(kind: ChannelKind, code: i64, message: &str) -> Value {
    match kind {
        ChannelKind::Feishu => json!({"code": code, "msg": message, "data": {}}),
        _ => json!({"errcode": code, "errmsg": message}),
    }
}

fn unknown_robot(kind: ChannelKind) -> (u16, Value) {
    match kind {
        ChannelKind::Wecom => (
            200,
            error(kind, 93000, "invalid webhook url, hint: [sandbox]"),
        ),
        ChannelKind::Dingtalk => (200, error(kind, 300001, "token is not exist")),
        ChannelKind::Feishu => (
            200,
            error(
                kind,
                19001,
                "param invalid: incoming webhook access token invalid",
            ),
        ),
        ChannelKind::Webhook => (404, json!({"error": "no such webhook"})),
    }
}

fn bad_sign(kind: ChannelKind) -> (u16, Value) {
    match kind {
        ChannelKind::Wecom => (
            200,
            error(kind, 93000, "invalid webhook url, hint: [sandbox]"),
        ),
        ChannelKind::Dingtalk => (200, error(kind, 310000, "sign not match")),
        ChannelKind::Feishu => (
            200,
            error(
                kind,
                19021,
                "sign match fail or timestamp is not within one hour from current time",
            ),
        ),
        ChannelKind::Webhook => (401, json!({"error": "bad signature"})),
    }
}

fn keyword_missing(kind: ChannelKind) -> (u16, Value) {
    match kind {
        ChannelKind::Dingtalk => (200, error(kind, 310000, "keywords not in content")),
        ChannelKind::Feishu => (200, error(kind, 19024, "Key Words Not Found")),
        _ => bad_sign(kind),
    }
}

fn rate_limited(kind: ChannelKind) -> (u16, Value) {
    match kind {
        ChannelKind::Wecom => (200, error(kind, 45009, "api freq out of limit")),
        ChannelKind::Dingtalk => (
            200,
            error(kind, 130101, "send too fast, exceed 20 times per minute"),
        ),
        ChannelKind::Feishu => (200, error(kind, 11232, "frequency limited")),
        ChannelKind::Webhook => (429, json!({"error": "too many requests"})),
    }
}

/// Title and text of a body the vendor can read, or its "bad request" answer.
fn read(kind: ChannelKind, body: &Value) -> Result<(Option<String>, String), (u16, Value)> {
    let s = |v: &Value| v.as_str().map(str::to_owned);
    let found = match kind {
        ChannelKind::Wecom => match body["msgtype"].as_str() {
            Some("markdown") => s(&body["markdown"]["content"]).map(|t| (None, t)),
            Some("text") => s(&body["text"]["content"]).map(|t| (None, t)),
            _ => None,
        },
        ChannelKind::Dingtalk => match body["msgtype"].as_str() {
            Some("markdown") => s(&body["markdown"]["text"])
                .zip(s(&body["markdown"]["title"]))
                .map(|(t, title)| (Some(title), t)),
            Some("text") => s(&body["text"]["content"]).map(|t| (None, t)),
            _ => None,
        },
        ChannelKind::Feishu => match body["msg_type"].as_str() {
            Some("text") => s(&body["content"]["text"]).map(|t| (None, t)),
            _ => None,
        },
        ChannelKind::Webhook => s(&body["text"]).map(|t| (s(&body["title"]), t)),
    };
    found.ok_or_else(|| match kind {
        ChannelKind::Wecom => (200, error(kind, 40008, "invalid message type")),
        ChannelKind::Dingtalk => (200, error(kind, 40035, "缺少参数 json")),
        ChannelKind::Feishu => (200, error(kind, 9499, "Bad Request")),
        ChannelKind::Webhook => (400, json!({"error": "no text"})),
    })
}

fn too_long(
    kind: ChannelKind,
    body_len: usize,
    text: &str,
    markdown: bool,
) -> Option<(u16, Value)> {
    match kind {
        ChannelKind::Wecom if markdown && text.len() > 4096 => Some((
            200,
            error(kind, 40058, "markdown.content exceed max length 4096"),
        )),
        ChannelKind::Wecom if !markdown && text.len() > 2048 => Some((
            200,
            error(kind, 40058, "text.content exceed max length 2048"),
        )),
        ChannelKind::Dingtalk if body_len > 20_000 => Some((
            200,
            error(kind, 460101, "message too long, exceed 20000 bytes"),
        )),
        ChannelKind::Feishu if body_len > 20 * 1024 => {
            Some((200, error(kind, 9499, "Bad Request: body too large")))
        }
        _ => None,
    }
}

fn signed_correctly(
    robot: &Robot,
    secret: &str,
    auth: &Auth,
    body: &Value,
    raw: &str,
    now: DateTime<Utc>,
) -> bool {
    let within_hour = |t: DateTime<Utc>| (now - t).abs() <= Duration::hours(1);
    match robot.kind {
        ChannelKind::Dingtalk => {
            let Some(ms) = auth
                .timestamp
                .as_deref()
                .and_then(|t| t.parse::<i64>().ok())
            else {
                return false;
            };
            DateTime::from_timestamp_millis(ms).is_some_and(within_hour)
                && auth.sign.as_deref() == Some(sign::dingtalk_sign(secret, ms).as_str())
        }
        ChannelKind::Feishu => {
            let Some(s) = body["timestamp"]
                .as_str()
                .and_then(|t| t.parse::<i64>().ok())
            else {
                return false;
            };
            DateTime::from_timestamp(s, 0).is_some_and(within_hour)
                && body["sign"].as_str() == Some(sign::feishu_sign(secret, s).as_str())
        }
        ChannelKind::Webhook => auth
            .webhook_signature
            .as_deref()
            .is_some_and(|h| sign::webhook_signature_matches(secret, h, raw)),
        ChannelKind::Wecom => true,
    }
}

/// Whether one more message now would break the vendor's rate limit: WeCom and DingTalk 20 a
/// minute; Feishu 100 a minute and 5 a second.
fn over_limit(
    kind: ChannelKind,
    times: &std::collections::VecDeque<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let within = |d: Duration| times.iter().filter(|t| now - **t < d).count();
    match kind {
        ChannelKind::Wecom | ChannelKind::Dingtalk => within(Duration::minutes(1)) >= 20,
        ChannelKind::Feishu => {
            within(Duration::minutes(1)) >= 100 || within(Duration::seconds(1)) >= 5
        }
        ChannelKind::Webhook => false,
    }
}

/// Judges one call to robot `id` of `kind`, records it, and returns the answer.
pub(crate) fn judge(
    state: &mut State,
    kind: ChannelKind,
    id: &str,
    auth: &Auth,
    raw: &[u8],
    now: DateTime<Utc>,
) -> Verdict {
    let raw_text = String::from_utf8_lossy(raw).into_owned();
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let readable = read(kind, &body);
    let (title, text) = readable.clone().unwrap_or_default();
    let robot = state.robots.get(id).filter(|r| r.kind == kind).cloned();
    let outcome: Result<(), (u16, Value)> = (|| {
        let robot = robot.ok_or_else(|| unknown_robot(kind))?;
        if let Some(forced) = state.forced.get_mut(id).and_then(|q| q.pop_front()) {
            return Err(match forced {
                ForcedAnswer::BadSign => bad_sign(kind),
                ForcedAnswer::RateLimit => rate_limited(kind),
                ForcedAnswer::KeywordMissing => keyword_missing(kind),
                ForcedAnswer::ServerError => (502, Value::Null),
            });
        }
        readable.clone()?;
        let markdown = body["msgtype"] == "markdown";
        if let Some(refusal) = too_long(kind, raw.len(), &text, markdown) {
            return Err(refusal);
        }
        if let Some(secret) = robot.secret.as_deref()
            && !signed_correctly(&robot, secret, auth, &body, &raw_text, now)
        {
            return Err(bad_sign(kind));
        }
        if let Some(keyword) = robot.keyword.as_deref()
            && kind != ChannelKind::Wecom
            && !text.contains(keyword)
            && !title.as_deref().is_some_and(|t| t.contains(keyword))
        {
            return Err(keyword_missing(kind));
        }
        let times = state.accepted_at.entry(id.to_owned()).or_default();
        if over_limit(kind, times, now) {
            return Err(rate_limited(kind));
        }
        times.push_back(now);
        while times.len() > 200 {
            times.pop_front();
        }
        Ok(())
    })();
    let (status, answer, accepted) = match outcome {
        Ok(()) => (200, ok(kind), true),
        Err((status, answer)) => (status, answer, false),
    };
    state.received.push(super::state::ReceivedMessage {
        at: now,
        kind,
        robot: id.to_owned(),
        title,
        text,
        accepted,
        http_status: status,
        answer: answer.clone(),
    });
    Verdict { status, answer }
}
