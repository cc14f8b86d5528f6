//! The robots' stand-in over real HTTP on loopback, fed by the protocol crate's channel calls:
//! what ParkBridge will send is accepted when right, and each vendor's refusal is read by
//! `protocol::alerts::classify` the way the sender must act on it.

use chrono::{DateTime, TimeDelta, Utc};
use protocol::alerts::{
    Answer, Channel, ChannelKind, Digest, Language, Phase, ProblemKind, classify,
};
use sandbox::robots::{ForcedAnswer, Robot, RobotsSandbox, RunningSandbox, robot_url};
use serde_json::Value;

fn robot(kind: ChannelKind, id: &str, secret: Option<&str>, keyword: Option<&str>) -> Robot {
    Robot {
        kind,
        id: id.to_owned(),
        secret: secret.map(str::to_owned),
        keyword: keyword.map(str::to_owned),
    }
}

async fn start(robots: &[Robot]) -> (RobotsSandbox, RunningSandbox) {
    let sb = RobotsSandbox::new();
    for r in robots {
        sb.add_robot(r.clone());
    }
    let running = sb.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (sb, running)
}

fn digest(examples: &[String]) -> Digest<'_> {
    Digest {
        phase: Phase::Opened,
        kind: ProblemKind::CredentialRefused,
        park: Some("万达广场"),
        subject: Some("P云 主账号"),
        since: Utc::now(),
        resolved_at: None,
        count: examples.len().max(1) as i64,
        examples,
        link: Some("http://127.0.0.1:8080/credentials"),
        language: Language::ZhCn,
    }
}

/// Sends the call `channel` makes for `digest` at `at`, and reads the answer as the sender will.
fn channel<'a>(kind: ChannelKind, url: &'a str, secret: Option<&'a str>) -> Channel<'a> {
    Channel {
        kind,
        url,
        secret,
        keyword: None,
    }
}

async fn send(channel: Channel<'_>, digest: &Digest<'_>, at: DateTime<Utc>) -> Answer {
    let call = channel.call(digest, at);
    let mut req = reqwest::Client::new()
        .post(&call.url)
        .header("content-type", "application/json")
        .body(call.body.clone());
    for (name, value) in &call.headers {
        req = req.header(*name, value);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.bytes().await.unwrap();
    classify(channel.kind, status, &body)
}

#[tokio::test]
async fn signed_dingtalk_and_feishu_messages_are_shown_and_wrong_secrets_refused() {
    let ding = robot(
        ChannelKind::Dingtalk,
        "tok1",
        Some("SECright"),
        Some("ParkBridge"),
    );
    let fei = robot(ChannelKind::Feishu, "hook1", Some("right"), None);
    let (sb, running) = start(&[ding.clone(), fei.clone()]).await;
    let ding_url = robot_url(&running.base_url, &ding);
    let fei_url = robot_url(&running.base_url, &fei);
    let d = digest(&[]);
    let (ding_url, fei_url) = (ding_url.as_str(), fei_url.as_str());

    let now = Utc::now();
    assert_eq!(
        send(
            channel(ChannelKind::Dingtalk, ding_url, Some("SECright")),
            &d,
            now
        )
        .await,
        Answer::Delivered
    );
    assert_eq!(
        send(
            channel(ChannelKind::Feishu, fei_url, Some("right")),
            &d,
            now
        )
        .await,
        Answer::Delivered
    );
    let shown = sb.shown();
    assert_eq!(shown.len(), 2);
    assert!(
        shown[0]
            .title
            .as_deref()
            .unwrap()
            .contains("对接凭证被拒绝")
    );
    assert!(
        shown[1].text.contains("车场：万达广场"),
        "{}",
        shown[1].text
    );

    // A wrong secret, a missing one, and a right one signed two hours ago: the channel's fault.
    for (url, kind, secret, at) in [
        (ding_url, ChannelKind::Dingtalk, Some("SECwrong"), now),
        (ding_url, ChannelKind::Dingtalk, None, now),
        (
            ding_url,
            ChannelKind::Dingtalk,
            Some("SECright"),
            now - TimeDelta::hours(2),
        ),
        (fei_url, ChannelKind::Feishu, Some("wrong"), now),
        (
            fei_url,
            ChannelKind::Feishu,
            Some("right"),
            now - TimeDelta::hours(2),
        ),
    ] {
        let answer = send(channel(kind, url, secret), &d, at).await;
        assert!(
            matches!(answer, Answer::Misconfigured { .. }),
            "{kind:?} {secret:?}: {answer:?}"
        );
    }
    assert_eq!(sb.shown().len(), 2);
    assert_eq!(sb.received().len(), 7);
}

#[tokio::test]
async fn a_missing_keyword_is_the_channels_fault_and_ours_puts_it_in() {
    let ding = robot(ChannelKind::Dingtalk, "tok2", None, Some("停车告警"));
    let fei = robot(ChannelKind::Feishu, "hook2", None, Some("停车告警"));
    let (sb, running) = start(&[ding.clone(), fei.clone()]).await;
    let d = digest(&[]);
    for r in [&ding, &fei] {
        let url = robot_url(&running.base_url, r);
        let without = Channel {
            kind: r.kind,
            url: &url,
            secret: None,
            keyword: None,
        };
        let answer = send(without, &d, Utc::now()).await;
        assert!(matches!(answer, Answer::Misconfigured { .. }), "{answer:?}");
        let with = Channel {
            keyword: Some("停车告警"),
            ..without
        };
        assert_eq!(send(with, &d, Utc::now()).await, Answer::Delivered);
    }
    assert!(sb.shown().iter().all(|m| m.text.starts_with("停车告警 ")));
}

#[tokio::test]
async fn the_twenty_first_message_in_a_minute_is_rate_limited() {
    let r = robot(ChannelKind::Dingtalk, "busy", None, None);
    let (_sb, running) = start(std::slice::from_ref(&r)).await;
    let url = robot_url(&running.base_url, &r);
    let channel = Channel {
        kind: r.kind,
        url: &url,
        secret: None,
        keyword: None,
    };
    let d = digest(&[]);
    for _ in 0..20 {
        assert_eq!(send(channel, &d, Utc::now()).await, Answer::Delivered);
    }
    let answer = send(channel, &d, Utc::now()).await;
    assert!(
        matches!(&answer, Answer::RateLimited { code, .. } if code == "130101"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn wecom_unknown_keys_and_forced_answers_read_as_the_sender_must_act() {
    let r = robot(ChannelKind::Wecom, "key1", None, None);
    let (sb, running) = start(std::slice::from_ref(&r)).await;
    let url = robot_url(&running.base_url, &r);
    let examples: Vec<String> = (0..500).map(|i| format!("券 #{i}：签名错误")).collect();
    let d = digest(&examples);
    let channel = Channel {
        kind: ChannelKind::Wecom,
        url: &url,
        secret: None,
        keyword: None,
    };
    // A long digest still fits WeCom's 4096-byte markdown.
    assert_eq!(send(channel, &d, Utc::now()).await, Answer::Delivered);
    assert!(sb.shown()[0].text.contains("…及其他"));

    let unknown = url.replace("key1", "nope");
    let answer = send(
        Channel {
            url: &unknown,
            ..channel
        },
        &d,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(&answer, Answer::Misconfigured { code, .. } if code == "93000"),
        "{answer:?}"
    );

    sb.force("key1", ForcedAnswer::RateLimit, 1);
    sb.force("key1", ForcedAnswer::ServerError, 1);
    assert!(matches!(
        send(channel, &d, Utc::now()).await,
        Answer::RateLimited { .. }
    ));
    assert!(matches!(
        send(channel, &d, Utc::now()).await,
        Answer::Transient { .. }
    ));
    assert_eq!(send(channel, &d, Utc::now()).await, Answer::Delivered);
}

#[tokio::test]
async fn the_webhook_checks_our_signature_and_the_control_api_lists_messages() {
    let r = robot(ChannelKind::Webhook, "am", Some("whsec"), None);
    let (_sb, running) = start(std::slice::from_ref(&r)).await;
    let url = robot_url(&running.base_url, &r);
    let d = digest(&[]);
    let good = Channel {
        kind: ChannelKind::Webhook,
        url: &url,
        secret: Some("whsec"),
        keyword: None,
    };
    assert_eq!(send(good, &d, Utc::now()).await, Answer::Delivered);
    let bad = Channel {
        secret: Some("other"),
        ..good
    };
    assert!(matches!(
        send(bad, &d, Utc::now()).await,
        Answer::Misconfigured { .. }
    ));

    let http = reqwest::Client::new();
    let listed: Value = http
        .get(format!("{}/_sandbox/robots/messages", running.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["accepted"], true);
    assert_eq!(listed[1]["http_status"], 401);
    // Robots added through the control API answer at the URL it returns.
    let added: Value = http
        .post(format!("{}/_sandbox/robots", running.base_url))
        .json(&serde_json::json!({"kind": "feishu", "id": "new-hook"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_url = added["url"].as_str().unwrap().to_owned();
    assert!(
        new_url.ends_with("/open-apis/bot/v2/hook/new-hook"),
        "{new_url}"
    );
    let feishu = Channel {
        kind: ChannelKind::Feishu,
        url: &new_url,
        secret: None,
        keyword: None,
    };
    assert_eq!(send(feishu, &d, Utc::now()).await, Answer::Delivered);
    let page = http
        .get(format!("{}/_sandbox/robots", running.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("告警机器人（沙箱）") && page.contains("万达广场"),
        "{page}"
    );
}

/// Posts `body` to `url` as JSON; the answer's status and body.
async fn post_raw(url: &str, body: &Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn wecom_counts_its_limits_in_utf8_bytes_per_message_type() {
    let r = robot(ChannelKind::Wecom, "key-limits", None, None);
    let (sb, running) = start(std::slice::from_ref(&r)).await;
    let url = robot_url(&running.base_url, &r);
    // 停 is 3 bytes: 1365 of them and a byte more is 4096 bytes, exactly markdown's limit.
    let at_limit = format!("{}x", "停".repeat(1365));
    assert_eq!(at_limit.len(), 4096);
    let markdown = |content: &str| serde_json::json!({"msgtype": "markdown", "markdown": {"content": content}});
    let text = |content: &str| serde_json::json!({"msgtype": "text", "text": {"content": content}});
    let (status, answer) = post_raw(&url, &markdown(&at_limit)).await;
    assert_eq!(
        (status, answer["errcode"].as_i64()),
        (200, Some(0)),
        "{answer}"
    );
    let over = format!("{at_limit}x");
    let (_, answer) = post_raw(&url, &markdown(&over)).await;
    assert_eq!(answer["errcode"], 40058, "{answer}");
    assert_eq!(answer["errmsg"], "markdown.content exceed max length 4096");
    // Plain text is half as long: 2048 bytes pass, 2049 do not.
    let half = format!("{}xx", "停".repeat(682));
    assert_eq!(half.len(), 2048);
    let (_, answer) = post_raw(&url, &text(&half)).await;
    assert_eq!(answer["errcode"], 0, "{answer}");
    let (_, answer) = post_raw(&url, &text(&format!("{half}x"))).await;
    assert_eq!(answer["errcode"], 40058, "{answer}");
    assert_eq!(answer["errmsg"], "text.content exceed max length 2048");
    // ParkBridge sends WeCom markdown, cut within its 4096 bytes however long the digest.
    let examples: Vec<String> = (0..3000)
        .map(|i| format!("第 {i} 张券：签名错误，请核对密钥"))
        .collect();
    let d = digest(&examples);
    let call = channel(ChannelKind::Wecom, &url, None).call(&d, Utc::now());
    let body: Value = serde_json::from_str(&call.body).unwrap();
    assert_eq!(body["msgtype"], "markdown");
    let content = body["markdown"]["content"].as_str().unwrap();
    assert!(
        content.len() <= 4096 && content.len() > 3500,
        "{} bytes",
        content.len()
    );
    assert_eq!(
        send(channel(ChannelKind::Wecom, &url, None), &d, Utc::now()).await,
        Answer::Delivered
    );
    assert_eq!(sb.shown().len(), 3);
}
