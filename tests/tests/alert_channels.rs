//! Alert channels through the real binary on SQLite and PostgreSQL, with the robots' stand-in as
//! the vendors: an admin configures DingTalk, Feishu, WeCom and webhook channels, "send a test
//! message" shows each vendor's answer and sets the channel's state, bad settings are refused
//! with their codes, and a robot's token or secret never comes back out. Each channel's last
//! sends read back newest first: which message about which problem, its state (a rate limit
//! waiting for its retry included) and the vendor's own code and words.

use e2e::on_both_engines;
use e2e::server::{Backend, TestServer};
use protocol::alerts::ChannelKind;
use reqwest::{Client, Method, StatusCode};
use sandbox::robots::{ForcedAnswer, Robot, RobotsSandbox, RunningSandbox, robot_url};
use serde_json::{Value, json};

const ADMIN_PW: &str = "admin-password-1";
const DING_TOKEN: &str = "ding-token-7f3a9c";
const DING_SECRET: &str = "SECding-secret-42bd";
const FEISHU_HOOK: &str = "feishu-hook-5e21";
const FEISHU_SECRET: &str = "feishu-secret-90aa";
const WECOM_KEY: &str = "wecom-key-c0ffee";
const HOOK_SECRET: &str = "whsec-3141";

async fn call(
    server: &TestServer,
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client.request(method, server.url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn robot(kind: ChannelKind, id: &str, secret: Option<&str>, keyword: Option<&str>) -> Robot {
    Robot {
        kind,
        id: id.to_owned(),
        secret: secret.map(str::to_owned),
        keyword: keyword.map(str::to_owned),
    }
}

async fn robots() -> (RobotsSandbox, RunningSandbox) {
    let sb = RobotsSandbox::new();
    sb.add_robot(robot(
        ChannelKind::Dingtalk,
        DING_TOKEN,
        Some(DING_SECRET),
        Some("停车"),
    ));
    sb.add_robot(robot(
        ChannelKind::Feishu,
        FEISHU_HOOK,
        Some(FEISHU_SECRET),
        None,
    ));
    sb.add_robot(robot(ChannelKind::Wecom, WECOM_KEY, None, None));
    sb.add_robot(robot(ChannelKind::Webhook, "am", Some(HOOK_SECRET), None));
    let running = sb.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (sb, running)
}

async fn admin(server: &TestServer) -> Client {
    server.add_user("root", "admin", ADMIN_PW);
    server.signed_in("root", ADMIN_PW).await
}

async fn test_message(server: &TestServer, admin: &Client, id: i64) -> Value {
    let (status, answer) = call(
        server,
        admin,
        Method::POST,
        &format!("/api/v1/alert-channels/{id}/test"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn channels_are_tested_against_the_vendors_answers(backend: Backend) {
    let server =
        TestServer::start_capturing_logs(backend, &["--public-url", "https://pb.example.cn/"]);
    let (sb, running) = robots().await;
    let admin = admin(&server).await;
    let base = &running.base_url;
    let ding_url = robot_url(base, &robot(ChannelKind::Dingtalk, DING_TOKEN, None, None));

    let (status, ding) = call(
        &server,
        &admin,
        Method::POST,
        "/api/v1/alert-channels",
        Some(json!({
            "name": "物业值班群", "kind": "dingtalk", "url": ding_url, "secret": DING_SECRET,
            "keyword": "停车", "kinds": ["gate_silence", "credential_refused"],
        })),
    )
    .await;
    assert_eq!(status, 201, "{ding}");
    assert_eq!(ding["state"], "untested");
    assert_eq!(ding["has_secret"], true);
    assert_eq!(ding["language"], "zh-CN");
    assert_eq!(ding["kinds"], json!(["gate_silence", "credential_refused"]));
    assert!(
        ding["url"]
            .as_str()
            .unwrap()
            .ends_with("access_token=…3a9c"),
        "{ding}"
    );
    let ding_id = ding["id"].as_i64().unwrap();

    // Signed, with the keyword: DingTalk shows it, and the channel is ok.
    let answer = test_message(&server, &admin, ding_id).await;
    assert_eq!(answer["sent"]["outcome"], "delivered", "{answer}");
    assert_eq!(answer["channel"]["state"], "ok");
    let shown = sb.shown();
    assert_eq!(shown.len(), 1);
    assert!(
        shown[0].text.contains("测试消息") && shown[0].text.contains("物业值班群"),
        "{}",
        shown[0].text
    );
    assert!(
        shown[0].text.contains("https://pb.example.cn/alerts"),
        "{}",
        shown[0].text
    );

    // A wrong secret: DingTalk's 310000, the channel misconfigured; fixed, it works again.
    let (status, changed) = call(
        &server,
        &admin,
        Method::PUT,
        &format!("/api/v1/alert-channels/{ding_id}"),
        Some(json!({"secret": "SECwrong"})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["state"], "untested");
    let answer = test_message(&server, &admin, ding_id).await;
    assert_eq!(answer["sent"]["outcome"], "misconfigured", "{answer}");
    assert_eq!(answer["sent"]["code"], "310000");
    assert_eq!(answer["sent"]["message"], "sign not match");
    assert_eq!(answer["channel"]["state"], "misconfigured");
    assert!(
        answer["channel"]["last_answer"]
            .as_str()
            .unwrap()
            .contains("310000")
    );
    call(
        &server,
        &admin,
        Method::PUT,
        &format!("/api/v1/alert-channels/{ding_id}"),
        Some(json!({"secret": DING_SECRET})),
    )
    .await;
    // Without the keyword the robot refuses (310000 keywords not in content) …
    let (status, _) = call(
        &server,
        &admin,
        Method::PUT,
        &format!("/api/v1/alert-channels/{ding_id}"),
        Some(json!({"keyword": null})),
    )
    .await;
    assert_eq!(status, 200);
    let answer = test_message(&server, &admin, ding_id).await;
    assert_eq!(
        answer["sent"]["message"], "keywords not in content",
        "{answer}"
    );
    // … with it, the message carries it.
    call(
        &server,
        &admin,
        Method::PUT,
        &format!("/api/v1/alert-channels/{ding_id}"),
        Some(json!({"keyword": "停车"})),
    )
    .await;
    assert_eq!(
        test_message(&server, &admin, ding_id).await["sent"]["outcome"],
        "delivered"
    );

    // Feishu signed in the body, WeCom, and our webhook with its HMAC header.
    for (name, kind, url, secret) in [
        (
            "飞书群",
            "feishu",
            robot_url(base, &robot(ChannelKind::Feishu, FEISHU_HOOK, None, None)),
            Some(FEISHU_SECRET),
        ),
        (
            "企业微信群",
            "wecom",
            robot_url(base, &robot(ChannelKind::Wecom, WECOM_KEY, None, None)),
            None,
        ),
        (
            "Alertmanager",
            "webhook",
            robot_url(base, &robot(ChannelKind::Webhook, "am", None, None)),
            Some(HOOK_SECRET),
        ),
    ] {
        let mut body = json!({"name": name, "kind": kind, "url": url, "language": "en"});
        if let Some(s) = secret {
            body["secret"] = json!(s);
        }
        let (status, channel) = call(
            &server,
            &admin,
            Method::POST,
            "/api/v1/alert-channels",
            Some(body),
        )
        .await;
        assert_eq!(status, 201, "{channel}");
        let answer = test_message(&server, &admin, channel["id"].as_i64().unwrap()).await;
        assert_eq!(answer["sent"]["outcome"], "delivered", "{kind}: {answer}");
    }
    let shown = sb.shown();
    assert_eq!(shown.len(), 5, "{shown:?}");
    assert!(shown[2].text.contains("Test message") && shown[2].text.contains("飞书群"));

    // An unknown WeCom key: 93000, misconfigured.
    let bad_key = robot_url(base, &robot(ChannelKind::Wecom, "nope", None, None));
    let (_, channel) = call(
        &server,
        &admin,
        Method::POST,
        "/api/v1/alert-channels",
        Some(json!({"name": "旧群", "kind": "wecom", "url": bad_key})),
    )
    .await;
    let answer = test_message(&server, &admin, channel["id"].as_i64().unwrap()).await;
    assert_eq!(answer["sent"]["code"], "93000", "{answer}");
    assert_eq!(answer["channel"]["state"], "misconfigured");

    // Nothing read back holds a token, key, hook id or secret.
    let (_, list) = call(&server, &admin, Method::GET, "/api/v1/alert-channels", None).await;
    let (_, audit) = call(&server, &admin, Method::GET, "/api/v1/audit", None).await;
    for text in [list.to_string(), audit.to_string(), server.logs()] {
        for secret in [
            DING_TOKEN,
            DING_SECRET,
            FEISHU_HOOK,
            FEISHU_SECRET,
            WECOM_KEY,
            HOOK_SECRET,
        ] {
            assert!(!text.contains(secret), "{secret} leaked");
        }
    }
    assert_eq!(list.as_array().unwrap().len(), 5);

    // Deleted: gone, and a second delete or test is 404.
    let (status, _) = call(
        &server,
        &admin,
        Method::DELETE,
        &format!("/api/v1/alert-channels/{ding_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &server,
        &admin,
        Method::POST,
        &format!("/api/v1/alert-channels/{ding_id}/test"),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn bad_settings_are_refused_with_their_codes(backend: Backend) {
    let server = TestServer::start_on(backend);
    let admin = admin(&server).await;
    let ding = "http://127.0.0.1:9/robot/send?access_token=t";
    let cases = [
        (
            json!({"name": "a", "kind": "wecom", "url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=k", "secret": "s"}),
            422,
            "invalid_channel",
        ),
        (
            json!({"name": "a", "kind": "wecom", "url": "http://127.0.0.1:9/cgi-bin/webhook/send"}),
            422,
            "invalid_channel",
        ),
        (
            json!({"name": "a", "kind": "dingtalk", "url": ding, "secret": "not-sec"}),
            422,
            "invalid_channel",
        ),
        (
            json!({"name": "a", "kind": "feishu", "url": "https://open.feishu.cn/elsewhere"}),
            422,
            "invalid_channel",
        ),
        (
            json!({"name": "a", "kind": "dingtalk", "url": "ftp://x"}),
            400,
            "invalid_url",
        ),
        (
            json!({"name": "a", "kind": "dingtalk", "url": "http://x y"}),
            400,
            "invalid_url",
        ),
        (
            json!({"name": "a", "kind": "slack", "url": ding}),
            400,
            "invalid_field",
        ),
        (
            json!({"name": " a", "kind": "dingtalk", "url": ding}),
            400,
            "invalid_field",
        ),
        (
            json!({"name": "a", "kind": "dingtalk", "url": ding, "language": "fr"}),
            400,
            "invalid_field",
        ),
        (
            json!({"name": "a", "kind": "dingtalk", "url": ding, "parks": [999]}),
            422,
            "unknown_park",
        ),
        (
            json!({"name": "a", "kind": "dingtalk", "url": ding, "kinds": ["gate"]}),
            422,
            "unknown_problem_kind",
        ),
        (
            json!({"name": "a", "kind": "dingtalk", "url": ding, "secret": " SECx"}),
            400,
            "invalid_secret",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer) = call(
            &server,
            &admin,
            Method::POST,
            "/api/v1/alert-channels",
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (got.as_u16(), answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
        assert!(
            !answer.to_string().contains("access_token=t"),
            "the URL is echoed: {answer}"
        );
    }
    let ok = json!({"name": "值班群", "kind": "dingtalk", "url": ding});
    let (status, channel) = call(
        &server,
        &admin,
        Method::POST,
        "/api/v1/alert-channels",
        Some(ok.clone()),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
    let (status, answer) = call(
        &server,
        &admin,
        Method::POST,
        "/api/v1/alert-channels",
        Some(ok),
    )
    .await;
    assert_eq!(
        (status.as_u16(), answer["error"]["code"].as_str()),
        (409, Some("channel_name_taken"))
    );
    // A change is checked against the channel as it will be: a secret not starting with SEC.
    let id = channel["id"].as_i64().unwrap();
    let (status, answer) = call(
        &server,
        &admin,
        Method::PUT,
        &format!("/api/v1/alert-channels/{id}"),
        Some(json!({"secret": "plain"})),
    )
    .await;
    assert_eq!(
        (status.as_u16(), answer["error"]["code"].as_str()),
        (422, Some("invalid_channel"))
    );
    let (status, _) = call(
        &server,
        &admin,
        Method::PUT,
        "/api/v1/alert-channels/999",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 404);
    // Paused and back.
    let (_, paused) = call(
        &server,
        &admin,
        Method::PUT,
        &format!("/api/v1/alert-channels/{id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(paused["enabled"], false);
    let (_, resumed) = call(
        &server,
        &admin,
        Method::PUT,
        &format!("/api/v1/alert-channels/{id}"),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(resumed["enabled"], true);
    // Unreachable robot: the test answers, it does not fail.
    let answer = test_message(&server, &admin, id).await;
    assert_eq!(answer["sent"]["outcome"], "transient", "{answer}");
    assert_eq!(answer["channel"]["state"], "failing");
    // A property manager may not touch channels.
    server.add_user("pm", "property_manager", ADMIN_PW);
    let pm = server.signed_in("pm", ADMIN_PW).await;
    let (status, _) = call(&server, &pm, Method::GET, "/api/v1/alert-channels", None).await;
    assert_eq!(status, 403);
}

/// `GET /api/v1/alert-channels/{id}/sends` as `admin`, with `query` (e.g. `?limit=1`).
async fn sends(server: &TestServer, admin: &Client, id: i64, query: &str) -> (StatusCode, Value) {
    call(
        server,
        admin,
        Method::GET,
        &format!("/api/v1/alert-channels/{id}/sends{query}"),
        None,
    )
    .await
}

/// The channel's sends once `pred` holds for them (detection runs every 200 ms; 20 s at most).
async fn sends_when(
    server: &TestServer,
    admin: &Client,
    id: i64,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..100 {
        let (status, list) = sends(server, admin, id, "").await;
        assert_eq!(status, 200, "{list}");
        let list = list.as_array().cloned().unwrap_or_default();
        if pred(&list) {
            return list;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("channel {id}'s sends never came to what was awaited");
}

async fn each_channels_last_sends_read_back_newest_first(backend: Backend) {
    let server = TestServer::start_with(
        backend,
        &[
            "PARKBRIDGE_ALERT_GROUP_WAIT_SECS=1",
            "PARKBRIDGE_ALERT_TICK_MS=200",
        ],
    );
    let (sb, running) = robots().await;
    let admin = admin(&server).await;
    let base = &running.base_url;
    let create = |body: Value| {
        let (server, admin) = (&server, &admin);
        async move {
            let (status, channel) = call(
                server,
                admin,
                Method::POST,
                "/api/v1/alert-channels",
                Some(body),
            )
            .await;
            assert_eq!(status, 201, "{channel}");
            channel["id"].as_i64().unwrap()
        }
    };
    // DingTalk with a wrong secret; WeCom told of misconfigured channels; a second WeCom robot
    // for gate silence only.
    let ding_url = robot_url(base, &robot(ChannelKind::Dingtalk, DING_TOKEN, None, None));
    let ding = create(
        json!({"name": "物业值班群", "kind": "dingtalk", "url": ding_url,
        "secret": "SECwrong", "keyword": "停车"}),
    )
    .await;
    let wecom_url = robot_url(base, &robot(ChannelKind::Wecom, WECOM_KEY, None, None));
    let wecom = create(
        json!({"name": "企业微信群", "kind": "wecom", "url": wecom_url,
        "kinds": ["channel_misconfigured"]}),
    )
    .await;
    sb.add_robot(robot(ChannelKind::Wecom, "gate-only", None, None));
    let gate_url = robot_url(base, &robot(ChannelKind::Wecom, "gate-only", None, None));
    let gate = create(json!({"name": "道闸群", "kind": "wecom", "url": gate_url,
        "kinds": ["gate_silence"]}))
    .await;
    let (status, list) = sends(&server, &admin, ding, "").await;
    assert_eq!((status.as_u16(), list.clone()), (200, json!([])));

    // WeCom's first message about the misconfigured channel meets its rate limit once.
    sb.force(WECOM_KEY, ForcedAnswer::RateLimit, 1);
    let answer = test_message(&server, &admin, ding).await;
    assert_eq!(answer["sent"]["outcome"], "misconfigured", "{answer}");
    let list = sends_when(&server, &admin, ding, |l| !l.is_empty()).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["message"], "test");
    assert_eq!(list[0]["state"], "misconfigured");
    assert_eq!(list[0]["vendor_code"], "310000");
    assert_eq!(list[0]["vendor_message"], "sign not match");
    assert_eq!(list[0]["problem_kind"], Value::Null);

    let list = sends_when(&server, &admin, wecom, |l| {
        l.first().is_some_and(|s| s["state"] == "rate_limited")
    })
    .await;
    let first = &list[0];
    assert_eq!(first["message"], "opened", "{first}");
    assert_eq!(first["problem_kind"], "channel_misconfigured");
    assert_eq!(first["problem_title"], "告警通道配置错误");
    assert_eq!(first["problem_label"], "物业值班群");
    assert_eq!(first["park_id"], Value::Null);
    assert_eq!(first["vendor_code"], "45009");
    assert_eq!(first["vendor_message"], "api freq out of limit");
    assert_eq!(first["attempts"], 1);
    // Tried again in a minute, not now.
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let wait = at(&first["next_attempt_at"]) - at(&first["at"]);
    assert!(
        wait >= chrono::TimeDelta::seconds(55) && wait <= chrono::TimeDelta::seconds(65),
        "{first}"
    );

    // A test message since: first in the list, delivered.
    let answer = test_message(&server, &admin, wecom).await;
    assert_eq!(answer["sent"]["outcome"], "delivered", "{answer}");
    let (status, list) = sends(&server, &admin, wecom, "").await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(
        (
            &list[0]["message"],
            &list[0]["state"],
            &list[0]["vendor_code"]
        ),
        (&json!("test"), &json!("sent"), &Value::Null)
    );
    assert_eq!(list[1]["message"], "opened");
    let (_, one) = sends(&server, &admin, wecom, "?limit=1").await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0]["message"], "test");

    // The gate-only channel was told nothing: routing by kind.
    let (_, list) = sends(&server, &admin, gate, "").await;
    assert_eq!(list, json!([]));
    assert!(sb.received().iter().all(|m| m.robot != "gate-only"));

    // Refusals: a limit outside 1–50, an unreadable one, no such channel.
    for (query, status, code) in [
        ("?limit=0", 400, "invalid_limit"),
        ("?limit=51", 400, "invalid_limit"),
        ("?limit=ten", 400, "invalid_request"),
        ("?since=1", 400, "invalid_request"),
    ] {
        let (got, answer) = sends(&server, &admin, wecom, query).await;
        assert_eq!(
            (got.as_u16(), answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{query}: {answer}"
        );
    }
    let (status, _) = sends(&server, &admin, 999, "").await;
    assert_eq!(status, 404);

    // No robot's token, key or secret in what is read back.
    for id in [ding, wecom] {
        let (_, list) = sends(&server, &admin, id, "?limit=50").await;
        for secret in [DING_TOKEN, "SECwrong", WECOM_KEY] {
            assert!(
                !list.to_string().contains(secret),
                "{secret} leaked: {list}"
            );
        }
    }
    // A deleted channel's sends go with it.
    let (status, _) = call(
        &server,
        &admin,
        Method::DELETE,
        &format!("/api/v1/alert-channels/{ding}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = sends(&server, &admin, ding, "").await;
    assert_eq!(status, 404);
}

on_both_engines! {
    channels_tested => channels_are_tested_against_the_vendors_answers;
    bad_settings => bad_settings_are_refused_with_their_codes;
    last_sends => each_channels_last_sends_read_back_newest_first;
}
