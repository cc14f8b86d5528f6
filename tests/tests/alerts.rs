//! Problems and their digests end to end: the real binary on SQLite and PostgreSQL, P云's
//! stand-in refusing a wrong secret, and the robots' stand-in as DingTalk and WeCom. One digest
//! within the group wait names the car park and the partner, 50 more failures repeat nothing,
//! the fixed secret's first delivery resolves it with one "已恢复" (the channel's last sends
//! list both, newest first); gate silence opens and
//! resolves; a channel whose secret is wrong becomes a problem told to the other channel.

use std::time::Duration;

use e2e::alert_site::{
    DING_SECRET, FAST_ALERTS, PLATE, WECOM_KEY, add_channel, channel_sends, dingtalk, gate_entry,
    problems, robots, set_pyun_secret as set_secret, shown, url_of,
};
use e2e::coupon_site::{APP_SECRET, CouponSite, bearer_client, sandbox, send};
use e2e::on_both_engines;
use e2e::server::Backend;
use protocol::alerts::ChannelKind;
use reqwest::Method;
use serde_json::json;

fn wecom_url(base: &str) -> String {
    url_of(base, ChannelKind::Wecom, WECOM_KEY)
}

async fn a_refused_credential_is_told_once_and_its_recovery_once(backend: Backend) {
    let (robots, running) = robots().await;
    let site = CouponSite::start(backend, sandbox(&[PLATE]), &FAST_ALERTS).await;
    let ding = dingtalk(&site, &running.base_url, DING_SECRET).await;

    set_secret(&site, "not-the-secret").await;
    let (_, r) = site.event("ev-bad-1", PLATE).await;
    assert_eq!(r["state"], "misconfigured", "{r}");
    let first = shown(&robots, 1).await;
    let text = &first[0].text;
    assert!(
        text.contains("新问题") && text.contains("对接凭证被拒绝"),
        "{text}"
    );
    assert!(text.contains("测试广场") && text.contains("P云"), "{text}");
    assert!(
        text.contains("[在 ParkBridge 中处理](http://pb.test/credentials)"),
        "{text}"
    );

    // 50 more refusals within the update interval: the problem counts them, nobody is told again.
    for i in 0..50 {
        let (_, r) = site.event(&format!("ev-bad-more-{i}"), PLATE).await;
        assert_eq!(r["state"], "misconfigured", "{r}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(robots.shown().len(), 1, "{:?}", robots.shown());
    let open = problems(&site, &site.admin, "open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["kind"], "credential_refused");
    assert_eq!(open[0]["count"], 51);
    assert_eq!(open[0]["park_name"], "测试广场");
    assert_eq!(open[0]["link_path"], "/credentials");
    // The car park's property manager sees it too.
    assert_eq!(problems(&site, &site.manager, "open").await.len(), 1);

    // Fixed, and an event delivered: one "已恢复".
    set_secret(&site, APP_SECRET).await;
    let (_, r) = site.event("ev-good", PLATE).await;
    assert_eq!(r["state"], "delivered", "{r}");
    let all = shown(&robots, 2).await;
    assert!(
        all[1].text.contains("已恢复") && all[1].text.contains("**次数**：51"),
        "{}",
        all[1].text
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(robots.shown().len(), 2);
    assert!(problems(&site, &site.admin, "open").await.is_empty());
    let resolved = problems(&site, &site.admin, "resolved").await;
    assert_eq!(resolved[0]["state"], "resolved");
    // Every message went out signed: DingTalk refused none.
    assert!(robots.received().iter().all(|m| m.accepted));
    // The channel's last sends say the same, newest first.
    let sends = channel_sends(&site, ding).await;
    let read: Vec<_> = sends
        .iter()
        .map(|s| (s["message"].as_str(), s["state"].as_str()))
        .collect();
    assert_eq!(
        read,
        [
            (Some("resolved"), Some("sent")),
            (Some("opened"), Some("sent"))
        ],
        "{sends:?}"
    );
    assert_eq!(sends[1]["problem_title"], "对接凭证被拒绝");
    assert_eq!(sends[1]["park_name"], "测试广场");
    assert_eq!(sends[1]["vendor_message"], "ok");
}

async fn gate_silence_opens_and_resolves(backend: Backend) {
    let (robots, running) = robots().await;
    let site = CouponSite::start(backend, sandbox(&[]), &FAST_ALERTS).await;
    let url = wecom_url(&running.base_url);
    add_channel(
        &site,
        json!({"name": "企业微信", "kind": "wecom", "url": url, "kinds": ["gate_silence"]}),
    )
    .await;
    let gate = bearer_client(&site.server.api_key("gate", "gate", None));
    gate_entry(&site, &gate, "mall-a", "粤B10001").await;
    // 4 s of silence, then the 2 s group wait.
    let first = shown(&robots, 1).await;
    assert!(
        first[0].text.contains("道闸长时间无进出记录") && first[0].text.contains("测试广场"),
        "{}",
        first[0].text
    );
    gate_entry(&site, &gate, "mall-a", "粤B10002").await;
    let all = shown(&robots, 2).await;
    assert!(all[1].text.contains("已恢复"), "{}", all[1].text);
}

async fn a_channel_refusing_its_secret_is_a_problem_told_elsewhere(backend: Backend) {
    let (robots, running) = robots().await;
    let site = CouponSite::start(backend, sandbox(&[]), &FAST_ALERTS).await;
    let bad = dingtalk(&site, &running.base_url, "SECwrong").await;
    let url = wecom_url(&running.base_url);
    add_channel(
        &site,
        json!({"name": "企业微信", "kind": "wecom", "url": url}),
    )
    .await;
    let (status, answer) = send(
        &site.admin,
        Method::POST,
        &site
            .server
            .url(&format!("/api/v1/alert-channels/{bad}/test")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["sent"]["outcome"], "misconfigured", "{answer}");
    let told = shown(&robots, 1).await;
    assert!(
        told[0].text.contains("告警通道配置错误") && told[0].text.contains("值班群"),
        "{}",
        told[0].text
    );
    // Told to WeCom, never to the channel that cannot deliver it.
    assert_eq!(told[0].robot, WECOM_KEY);
    let open = problems(&site, &site.admin, "open").await;
    assert_eq!(open[0]["kind"], "channel_misconfigured");
}

async fn a_shop_near_its_quota_is_told_to_the_car_parks_channel(backend: Backend) {
    let (robots, running) = robots().await;
    let site = CouponSite::start(backend, sandbox(&[]), &FAST_ALERTS).await;
    let url = wecom_url(&running.base_url);
    add_channel(
        &site,
        json!({"name": "物业经理", "kind": "wecom", "url": url,
        "kinds": ["shop_quota_nearly_used"], "parks": [site.park_id]}),
    )
    .await;
    let (status, shop) = send(
        &site.manager,
        Method::POST,
        &site
            .server
            .url(&format!("/api/v1/parks/{}/shops", site.park_id)),
        Some(json!({"name": "咖啡店"})),
    )
    .await;
    assert_eq!(status, 201, "{shop}");
    let shop_id = shop["id"].as_i64().unwrap();
    let (status, offer) = send(&site.manager, Method::POST, &site.server.url(&format!("/api/v1/shops/{shop_id}/offers")),
        Some(json!({"name": "免2小时", "discount": {"kind": "minutes", "value": 120}, "daily_quota": 10}))).await;
    assert_eq!(status, 201, "{offer}");
    let (status, user) = send(&site.admin, Method::POST, &site.server.url("/api/v1/users"),
        Some(json!({"username": "till", "password": "merchant-password-1", "role": "merchant", "shop_id": shop_id}))).await;
    assert_eq!(status, 201, "{user}");
    let till = site.server.signed_in("till", "merchant-password-1").await;
    let gate = bearer_client(&site.server.api_key("gate", "gate", None));
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for i in 0..9 {
        let plate = format!("粤B2000{i}");
        let (status, body) = send(
            &gate,
            Method::POST,
            &site.server.url("/api/v1/gate/entries"),
            Some(json!({"park": "mall-a", "plate": plate, "time": time})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = send(
            &till,
            Method::POST,
            &site.server.url("/api/v1/shop/validations"),
            Some(
                json!({"offer_id": offer["id"], "plate": plate, "validation_id": format!("v{i}")}),
            ),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        if i == 7 {
            // 8 of 10 is not yet "nearly used".
            tokio::time::sleep(Duration::from_millis(600)).await;
            assert!(problems(&site, &site.manager, "open").await.is_empty());
        }
    }
    let told = shown(&robots, 1).await;
    assert!(
        told[0].text.contains("商户优惠额度即将用完"),
        "{}",
        told[0].text
    );
    assert!(
        told[0].text.contains("咖啡店「免2小时」今日已用 9 / 10"),
        "{}",
        told[0].text
    );
}

async fn an_unreachable_pyun_is_told(backend: Backend) {
    let (robots, running) = robots().await;
    let pyun = sandbox(&[PLATE]);
    let pyun_running = pyun.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut args = vec![
        "PARKBRIDGE_PYUN_BASE_URL=http://127.0.0.1:9",
        "PARKBRIDGE_PARTNER_UNREACHABLE_SECS=2",
        "PARKBRIDGE_COUPON_WAIT_MS=0",
    ];
    args.extend_from_slice(&FAST_ALERTS);
    let server = e2e::server::TestServer::start_with(backend, &args);
    let site = CouponSite::configure_with(pyun, pyun_running, server).await;
    dingtalk(&site, &running.base_url, DING_SECRET).await;
    let (status, r) = site.event("ev-nowhere", PLATE).await;
    assert_eq!(status, 202, "{r}");
    let told = shown(&robots, 1).await;
    assert!(
        told[0].text.contains("对接平台无法连接") && told[0].text.contains("P云"),
        "{}",
        told[0].text
    );
    let open = problems(&site, &site.admin, "open").await;
    assert!(
        open.iter().any(|p| p["kind"] == "partner_unreachable"),
        "{open:?}"
    );
}

on_both_engines! {
    shop_quota => a_shop_near_its_quota_is_told_to_the_car_parks_channel;
    partner_unreachable => an_unreachable_pyun_is_told;
    credential_refused => a_refused_credential_is_told_once_and_its_recovery_once;
    gate_silence => gate_silence_opens_and_resolves;
    channel_misconfigured => a_channel_refusing_its_secret_is_a_problem_told_elsewhere;
}
