//! Each alert channel's call (URL, headers, JSON body) and how its answer is read.
//!
//! Every vendor answers errors inside HTTP 200 (alert-channels.md §A5's lesson): the body's
//! `errcode`/`code` decides. A signature, keyword, IP or URL error is the channel's fault and no
//! retry will fix it (`Misconfigured`); a rate-limit code is retried later; anything else the
//! vendor refuses is this message's fault (`Refused`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::message::{Digest, Phase, Rendered, Style};
use super::sign;

/// A kind of channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// 企业微信 group robot: the URL holds the key.
    Wecom,
    /// 钉钉 custom robot: the URL holds the token; optional `SEC…` signing secret.
    Dingtalk,
    /// 飞书 custom bot: the hook URL; optional signing secret.
    Feishu,
    /// Any HTTPS endpoint taking our JSON, signed `X-ParkBridge-Signature` when a secret is set.
    Webhook,
}

/// Why a channel's settings cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// Not an `http://` or `https://` URL.
    #[error("the URL must start with https:// (or http:// for a local receiver)")]
    NotHttp,
    /// The URL lacks what the vendor's robots need (WeCom `key=`, DingTalk `access_token=`,
    /// Feishu `/open-apis/bot/v2/hook/…`).
    #[error("this is not a {0} robot URL: it lacks {1}")]
    NotRobotUrl(&'static str, &'static str),
    /// DingTalk secrets start with `SEC`.
    #[error("a DingTalk signing secret starts with SEC")]
    DingtalkSecret,
    /// WeCom robots have no signing secret.
    #[error("WeCom robots have no signing secret")]
    WecomSecret,
}

impl ChannelKind {
    /// Every kind.
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Wecom,
        ChannelKind::Dingtalk,
        ChannelKind::Feishu,
        ChannelKind::Webhook,
    ];

    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Wecom => "wecom",
            ChannelKind::Dingtalk => "dingtalk",
            ChannelKind::Feishu => "feishu",
            ChannelKind::Webhook => "webhook",
        }
    }

    /// Reads a stored or API name.
    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How the vendor shows text.
    pub fn style(self) -> Style {
        match self {
            ChannelKind::Wecom | ChannelKind::Dingtalk => Style::Markdown,
            ChannelKind::Feishu | ChannelKind::Webhook => Style::Plain,
        }
    }

    /// The most text bytes one message may hold: WeCom's markdown `content` is 4096 bytes;
    /// DingTalk refuses messages over 20000 bytes and Feishu bodies over 20 KB, so both keep
    /// room for the JSON envelope and escapes.
    pub fn text_limit(self) -> usize {
        match self {
            ChannelKind::Wecom => 4096,
            ChannelKind::Dingtalk | ChannelKind::Feishu => 16_000,
            ChannelKind::Webhook => 16_000,
        }
    }

    /// Whether a digest's settings can work for this kind.
    pub fn check(self, url: &str, secret: Option<&str>) -> Result<(), ChannelError> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ChannelError::NotHttp);
        }
        match self {
            ChannelKind::Wecom if !has_query_value(url, "key") => {
                Err(ChannelError::NotRobotUrl("WeCom", "key="))
            }
            ChannelKind::Wecom if secret.is_some() => Err(ChannelError::WecomSecret),
            ChannelKind::Dingtalk if !has_query_value(url, "access_token") => {
                Err(ChannelError::NotRobotUrl("DingTalk", "access_token="))
            }
            ChannelKind::Dingtalk if secret.is_some_and(|s| !s.starts_with("SEC")) => {
                Err(ChannelError::DingtalkSecret)
            }
            ChannelKind::Feishu if !url.contains("/open-apis/bot/v2/hook/") => Err(
                ChannelError::NotRobotUrl("Feishu", "/open-apis/bot/v2/hook/"),
            ),
            _ => Ok(()),
        }
    }
}

fn has_query_value(url: &str, name: &str) -> bool {
    url.split_once('?').is_some_and(|(_, query)| {
        query.split('&').any(|pair| {
            pair.split_once('=')
                .is_some_and(|(k, v)| k == name && !v.is_empty())
        })
    })
}

/// The URL as people may see it: the robot URL's key, token or hook id is the credential
/// itself, so all but its last four characters are hidden.
pub fn masked_url(url: &str) -> String {
    fn mask(secret: &str) -> String {
        let tail: String = secret
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    }
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.split_once("/hook/") {
        Some((head, id)) => format!("{head}/hook/{}", mask(id)),
        None => base.to_owned(),
    };
    match query {
        None => base,
        Some(q) => {
            let masked: Vec<String> = q
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) => format!("{k}={}", mask(v)),
                    None => pair.to_owned(),
                })
                .collect();
            format!("{base}?{}", masked.join("&"))
        }
    }
}

/// A channel's settings, as the sender reads them (secrets opened).
#[derive(Debug, Clone, Copy)]
pub struct Channel<'a> {
    /// Its kind.
    pub kind: ChannelKind,
    /// The robot's URL (holds the key or token) or the webhook's.
    pub url: &'a str,
    /// The signing secret, when the robot is in signed mode.
    pub secret: Option<&'a str>,
    /// A keyword the robot requires in every message.
    pub keyword: Option<&'a str>,
}

/// One HTTP POST to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Where, signed query included.
    pub url: String,
    /// Extra headers (`Content-Type` is always JSON).
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: String,
    /// The message as rendered (kept for people to read what was sent).
    pub rendered: Rendered,
}

impl Channel<'_> {
    /// The call that sends `digest` at `now` (the signing time).
    pub fn call(&self, digest: &Digest<'_>, now: DateTime<Utc>) -> Call {
        let keyword = self.keyword.filter(|k| !k.trim().is_empty());
        // The robot refuses a message without its keyword; our titles name "ParkBridge", so a
        // keyword elsewhere is put in front, and its bytes come off the limit.
        let prefix = keyword
            .filter(|k| !digest.title().contains(*k))
            .map(|k| format!("{k} "))
            .unwrap_or_default();
        let style = self.kind.style();
        let mut rendered = digest.render(style, self.kind.text_limit() - prefix.len());
        rendered.text.insert_str(0, &prefix);
        rendered.title.insert_str(0, &prefix);
        let mut url = self.url.to_owned();
        let mut headers = Vec::new();
        let body = match self.kind {
            ChannelKind::Wecom => json!({
                "msgtype": "markdown",
                "markdown": {"content": rendered.text},
            }),
            ChannelKind::Dingtalk => {
                if let Some(secret) = self.secret {
                    url.push(if url.contains('?') { '&' } else { '?' });
                    url.push_str(&sign::dingtalk_query(secret, now.timestamp_millis()));
                }
                json!({
                    "msgtype": "markdown",
                    "markdown": {"title": rendered.title, "text": rendered.text},
                })
            }
            ChannelKind::Feishu => {
                let mut body = json!({
                    "msg_type": "text",
                    "content": {"text": rendered.text},
                });
                if let Some(secret) = self.secret {
                    let ts = now.timestamp();
                    body["timestamp"] = Value::String(ts.to_string());
                    body["sign"] = Value::String(sign::feishu_sign(secret, ts));
                }
                body
            }
            ChannelKind::Webhook => json!({
                "source": "parkbridge",
                "status": match digest.phase {
                    Phase::Resolved => "resolved",
                    Phase::Test => "test",
                    _ => "firing",
                },
                "phase": digest.phase.as_str(),
                "kind": digest.kind.as_str(),
                "park": digest.park,
                "subject": digest.subject,
                "since": digest.since,
                "resolved_at": digest.resolved_at,
                "count": digest.count,
                "title": rendered.title,
                "text": rendered.text,
                "url": digest.link,
            }),
        };
        let body = body.to_string();
        if self.kind == ChannelKind::Webhook
            && let Some(secret) = self.secret
        {
            headers.push((
                "X-ParkBridge-Signature",
                sign::webhook_signature(secret, now.timestamp(), &body),
            ));
        }
        Call {
            url,
            headers,
            body,
            rendered,
        }
    }
}

/// What a vendor's answer means for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Shown in the group.
    Delivered,
    /// Too many messages: send again later.
    RateLimited {
        /// The vendor's code.
        code: String,
        /// The vendor's words.
        message: String,
    },
    /// Signature, keyword, IP allowlist or URL refused: the channel needs a person.
    Misconfigured {
        /// The vendor's code.
        code: String,
        /// The vendor's words.
        message: String,
    },
    /// This message refused for another reason (too long, bad body): not retried.
    Refused {
        /// The vendor's code.
        code: String,
        /// The vendor's words.
        message: String,
    },
    /// No usable answer (5xx, not JSON): try again with back-off.
    Transient {
        /// What happened.
        reason: String,
    },
}

/// Reads a vendor's answer to a call.
pub fn classify(kind: ChannelKind, status: u16, body: &[u8]) -> Answer {
    let http = |what: &str| (status.to_string(), format!("HTTP {status} {what}"));
    match status {
        429 => {
            let (code, message) = http("Too Many Requests");
            return Answer::RateLimited { code, message };
        }
        401 | 403 | 404 | 410 => {
            let (code, message) = http("(the URL or token is not accepted)");
            return Answer::Misconfigured { code, message };
        }
        500..=599 => {
            return Answer::Transient {
                reason: format!("HTTP {status}"),
            };
        }
        200..=299 => {}
        _ => {
            let (code, message) = http("refused");
            return Answer::Refused { code, message };
        }
    }
    if kind == ChannelKind::Webhook {
        // Our webhook's receivers answer with HTTP alone.
        return Answer::Delivered;
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Answer::Transient {
            reason: "the answer is not JSON".to_owned(),
        };
    };
    let number = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| value.get(*n).and_then(Value::as_i64))
    };
    let text = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| value.get(*n).and_then(Value::as_str))
            .unwrap_or("")
            .to_owned()
    };
    let (code, message) = if kind == ChannelKind::Feishu {
        (
            number(&["code", "StatusCode"]),
            text(&["msg", "StatusMessage"]),
        )
    } else {
        (number(&["errcode"]), text(&["errmsg"]))
    };
    let Some(code) = code else {
        return Answer::Transient {
            reason: "the answer has no result code".to_owned(),
        };
    };
    let rate_limited = matches!(
        (kind, code),
        (ChannelKind::Wecom, 45009)
            | (ChannelKind::Dingtalk, 130101)
            | (ChannelKind::Feishu, 11232)
    );
    // WeCom 93000 invalid webhook URL; DingTalk 310000 keyword/sign/IP, 300001 and 300005
    // unknown token; Feishu 19021 sign, 19022 IP, 19024 keyword, 19001 unknown hook.
    let misconfigured = matches!(
        (kind, code),
        (ChannelKind::Wecom, 93000 | 40001 | 40014)
            | (ChannelKind::Dingtalk, 310000 | 300001 | 300005)
            | (ChannelKind::Feishu, 19001 | 19021 | 19022 | 19024)
    );
    let code_text = code.to_string();
    if code == 0 {
        Answer::Delivered
    } else if rate_limited {
        Answer::RateLimited {
            code: code_text,
            message,
        }
    } else if misconfigured {
        Answer::Misconfigured {
            code: code_text,
            message,
        }
    } else {
        Answer::Refused {
            code: code_text,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::problem::{Language, ProblemKind};
    use chrono::TimeZone;

    fn digest(phase: Phase) -> Digest<'static> {
        Digest {
            phase,
            kind: ProblemKind::GateSilence,
            park: Some("万达广场"),
            subject: None,
            since: Utc.with_ymd_and_hms(2026, 12, 6, 2, 0, 0).unwrap(),
            resolved_at: None,
            count: 1,
            examples: &[],
            link: Some("https://pb.example.cn/parks/1"),
            language: Language::ZhCn,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_700_000_000_001).unwrap()
    }

    fn body(call: &Call) -> Value {
        serde_json::from_str(&call.body).unwrap()
    }

    #[test]
    fn dingtalk_signs_in_the_query_and_sends_markdown_with_its_keyword() {
        let channel = Channel {
            kind: ChannelKind::Dingtalk,
            url: "https://oapi.dingtalk.com/robot/send?access_token=abc",
            secret: Some("this is secret"),
            keyword: Some("停车"),
        };
        let call = channel.call(&digest(Phase::Opened), now());
        assert_eq!(
            call.url,
            "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000001\
             &sign=aOZ0Y%2FR7BCg4xs87AcG5MYf26YmwfVRTLD0z3X%2Bp%2FmM%3D"
        );
        let b = body(&call);
        assert_eq!(b["msgtype"], "markdown");
        let text = b["markdown"]["text"].as_str().unwrap();
        assert!(
            text.starts_with("停车 ### ParkBridge · 新问题 · 道闸长时间无进出记录"),
            "{text}"
        );
        assert!(
            b["markdown"]["title"]
                .as_str()
                .unwrap()
                .starts_with("停车 ")
        );
    }

    #[test]
    fn a_keyword_already_in_the_title_is_not_repeated() {
        let channel = Channel {
            kind: ChannelKind::Wecom,
            url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
            secret: None,
            keyword: Some("ParkBridge"),
        };
        let call = channel.call(&digest(Phase::Opened), now());
        let b = body(&call);
        assert!(
            b["markdown"]["content"]
                .as_str()
                .unwrap()
                .starts_with("### ParkBridge")
        );
        assert_eq!(call.url, channel.url);
    }

    #[test]
    fn feishu_signs_in_the_body_with_seconds() {
        let channel = Channel {
            kind: ChannelKind::Feishu,
            url: "https://open.feishu.cn/open-apis/bot/v2/hook/uuid",
            secret: Some("demo"),
            keyword: None,
        };
        let at = Utc.timestamp_opt(100, 0).unwrap();
        let b = body(&channel.call(&digest(Phase::Resolved), at));
        assert_eq!(b["timestamp"], "100");
        assert_eq!(b["sign"], "jquNHnVOwmDRfw+vqTIrY5dooJAgi5EcRtLsQE4wfXg=");
        assert_eq!(b["msg_type"], "text");
        assert!(b["content"]["text"].as_str().unwrap().contains("已恢复"));
    }

    #[test]
    fn the_webhook_carries_the_problem_and_a_verifiable_signature() {
        let channel = Channel {
            kind: ChannelKind::Webhook,
            url: "https://alerts.example.cn/hook",
            secret: Some("whsec"),
            keyword: None,
        };
        let call = channel.call(&digest(Phase::Resolved), now());
        let b = body(&call);
        assert_eq!(b["status"], "resolved");
        assert_eq!(b["kind"], "gate_silence");
        assert_eq!(b["park"], "万达广场");
        let (name, value) = &call.headers[0];
        assert_eq!(*name, "X-ParkBridge-Signature");
        assert!(sign::webhook_signature_matches("whsec", value, &call.body));
    }

    #[test]
    fn every_message_fits_its_vendor() {
        let examples: Vec<String> = (0..2000)
            .map(|i| format!("第 {i} 条：某某原因很长很长"))
            .collect();
        for kind in ChannelKind::ALL {
            let mut d = digest(Phase::Updated);
            d.examples = &examples;
            d.count = 2000;
            let channel = Channel {
                kind,
                url: "https://x/open-apis/bot/v2/hook/u?key=k&access_token=t",
                secret: None,
                keyword: Some("关键词"),
            };
            let call = channel.call(&d, now());
            assert!(call.rendered.text.len() <= kind.text_limit(), "{kind:?}");
            assert!(call.body.len() <= 20_000, "{kind:?}: {}", call.body.len());
            assert!(call.rendered.text.contains("…及其他"), "{kind:?}");
        }
    }

    #[test]
    fn vendor_answers_are_read_from_the_body() {
        use ChannelKind::*;
        let ok = |k, b: &str| classify(k, 200, b.as_bytes());
        assert_eq!(
            ok(Wecom, r#"{"errcode":0,"errmsg":"ok"}"#),
            Answer::Delivered
        );
        assert!(matches!(
            ok(
                Wecom,
                r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#
            ),
            Answer::RateLimited { .. }
        ));
        assert!(matches!(
            ok(Wecom, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#),
            Answer::Misconfigured { .. }
        ));
        assert_eq!(
            ok(Dingtalk, r#"{"errcode":0,"errmsg":"ok"}"#),
            Answer::Delivered
        );
        assert!(matches!(
            ok(Dingtalk, r#"{"errcode":130101,"errmsg":"send too fast"}"#),
            Answer::RateLimited { .. }
        ));
        assert_eq!(
            ok(Dingtalk, r#"{"errcode":310000,"errmsg":"sign not match"}"#),
            Answer::Misconfigured {
                code: "310000".into(),
                message: "sign not match".into()
            }
        );
        assert!(matches!(
            ok(
                Dingtalk,
                r#"{"errcode":460101,"errmsg":"message too long"}"#
            ),
            Answer::Refused { .. }
        ));
        assert_eq!(
            ok(Feishu, r#"{"code":0,"msg":"success","data":{}}"#),
            Answer::Delivered
        );
        assert_eq!(
            ok(Feishu, r#"{"StatusCode":0,"StatusMessage":"success"}"#),
            Answer::Delivered
        );
        assert!(matches!(
            ok(Feishu, r#"{"code":19021,"msg":"sign match fail"}"#),
            Answer::Misconfigured { .. }
        ));
        assert!(matches!(
            ok(Feishu, r#"{"code":19024,"msg":"Key Words Not Found"}"#),
            Answer::Misconfigured { .. }
        ));
        assert!(matches!(
            ok(Feishu, r#"{"code":11232,"msg":"frequency limited"}"#),
            Answer::RateLimited { .. }
        ));
        assert!(matches!(
            ok(Feishu, r#"{"code":9499,"msg":"Bad Request"}"#),
            Answer::Refused { .. }
        ));
        assert!(matches!(
            ok(Feishu, "<html>portal</html>"),
            Answer::Transient { .. }
        ));
        assert!(matches!(ok(Wecom, "{}"), Answer::Transient { .. }));
        assert_eq!(ok(Webhook, ""), Answer::Delivered);
        assert!(matches!(
            classify(Webhook, 503, b""),
            Answer::Transient { .. }
        ));
        assert!(matches!(
            classify(Webhook, 429, b""),
            Answer::RateLimited { .. }
        ));
        assert!(matches!(
            classify(Feishu, 404, b""),
            Answer::Misconfigured { .. }
        ));
        assert!(matches!(
            classify(Webhook, 400, b""),
            Answer::Refused { .. }
        ));
    }

    #[test]
    fn settings_are_checked_per_kind() {
        use ChannelKind::*;
        assert_eq!(
            Wecom.check(
                "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
                None
            ),
            Ok(())
        );
        assert!(
            Wecom
                .check("https://qyapi.weixin.qq.com/cgi-bin/webhook/send", None)
                .is_err()
        );
        assert_eq!(
            Wecom.check(
                "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
                Some("s")
            ),
            Err(ChannelError::WecomSecret)
        );
        assert!(
            Dingtalk
                .check(
                    "https://oapi.dingtalk.com/robot/send?access_token=t",
                    Some("SECabc")
                )
                .is_ok()
        );
        assert_eq!(
            Dingtalk.check(
                "https://oapi.dingtalk.com/robot/send?access_token=t",
                Some("abc")
            ),
            Err(ChannelError::DingtalkSecret)
        );
        assert!(
            Dingtalk
                .check("https://oapi.dingtalk.com/robot/send?access_token=", None)
                .is_err()
        );
        assert!(
            Feishu
                .check("https://open.feishu.cn/open-apis/bot/v2/hook/u", Some("s"))
                .is_ok()
        );
        assert!(Feishu.check("https://open.feishu.cn/other", None).is_err());
        assert_eq!(Webhook.check("ftp://x", None), Err(ChannelError::NotHttp));
    }

    #[test]
    fn urls_shown_to_people_hide_keys_tokens_and_hook_ids() {
        assert_eq!(
            masked_url(
                "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
            ),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…5aaa"
        );
        assert_eq!(
            masked_url("https://open.feishu.cn/open-apis/bot/v2/hook/0f7c-abcd"),
            "https://open.feishu.cn/open-apis/bot/v2/hook/…abcd"
        );
        assert_eq!(masked_url("https://a.cn/hook"), "https://a.cn/hook");
    }
}
