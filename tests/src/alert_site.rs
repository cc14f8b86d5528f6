//! Alerting for the end-to-end tests (issue 18): the robots' stand-in with a signed DingTalk
//! robot and a WeCom robot, server options that make detection and digests fast, channels
//! through the API, and waits on problems and on what the robots showed.

use std::time::Duration;

use protocol::alerts::ChannelKind;
use reqwest::{Client, Method};
use sandbox::robots::{ReceivedMessage, Robot, RobotsSandbox, RunningSandbox, robot_url};
use serde_json::{Value, json};

use crate::coupon_site::{CouponSite, send};

/// The plate whose coupon events P云's stand-in knows.
pub const PLATE: &str = "粤B12345";
/// The DingTalk robot's access token.
pub const DING_TOKEN: &str = "ops-group";
/// The DingTalk robot's signing secret.
pub const DING_SECRET: &str = "SECops-group-secret";
/// The WeCom robot's key.
pub const WECOM_KEY: &str = "wecom-ops";

/// Timers short enough for a test: a 2 s group wait, passes every 200 ms, links to
/// `http://pb.test`, no quiet hours, and 4 s without a car is gate silence.
pub const FAST_ALERTS: [&str; 5] = [
    "PARKBRIDGE_ALERT_GROUP_WAIT_SECS=2",
    "PARKBRIDGE_ALERT_TICK_MS=200",
    "PARKBRIDGE_PUBLIC_URL=http://pb.test",
    "PARKBRIDGE_GATE_QUIET_HOURS=none",
    "PARKBRIDGE_GATE_SILENCE_SECS=4",
];

/// A robot of `kind` with id `id` as ParkBridge is told of it (the stand-in holds the secret).
pub fn robot(kind: ChannelKind, id: &str) -> Robot {
    Robot {
        kind,
        id: id.to_owned(),
        secret: None,
        keyword: None,
    }
}

/// The URL of robot `id` of `kind` on the stand-in at `base`.
pub fn url_of(base: &str, kind: ChannelKind, id: &str) -> String {
    robot_url(base, &robot(kind, id))
}

/// The robots' stand-in with the signed DingTalk robot [`DING_TOKEN`] and the WeCom robot
/// [`WECOM_KEY`], serving on a loopback port.
pub async fn robots() -> (RobotsSandbox, RunningSandbox) {
    let sb = RobotsSandbox::new();
    sb.add_robot(Robot {
        kind: ChannelKind::Dingtalk,
        id: DING_TOKEN.to_owned(),
        secret: Some(DING_SECRET.to_owned()),
        keyword: None,
    });
    sb.add_robot(robot(ChannelKind::Wecom, WECOM_KEY));
    let running = sb
        .start("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("the robots' stand-in starts");
    (sb, running)
}

/// Creates an alert channel (`body` as the API takes it) as the site's admin; its id.
pub async fn add_channel(site: &CouponSite, body: Value) -> i64 {
    let (status, channel) = send(
        &site.admin,
        Method::POST,
        &site.server.url("/api/v1/alert-channels"),
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
    channel["id"].as_i64().expect("channel id")
}

/// Creates the DingTalk channel "值班群" to [`DING_TOKEN`] signed with `secret`; its id.
pub async fn dingtalk(site: &CouponSite, base: &str, secret: &str) -> i64 {
    let url = url_of(base, ChannelKind::Dingtalk, DING_TOKEN);
    add_channel(
        site,
        json!({"name": "值班群", "kind": "dingtalk", "url": url, "secret": secret}),
    )
    .await
}

/// Waits until the robots showed `n` messages (or fails after 20 s); all of them.
pub async fn shown(sb: &RobotsSandbox, n: usize) -> Vec<ReceivedMessage> {
    for _ in 0..200 {
        let shown = sb.shown();
        if shown.len() >= n {
            return shown;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the robots showed {:?}, not {n} messages", sb.shown());
}

/// The problems in `state` (`open`, `resolved`) as `client` may read them.
pub async fn problems(site: &CouponSite, client: &Client, state: &str) -> Vec<Value> {
    let (status, list) = send(
        client,
        Method::GET,
        &site.server.url(&format!("/api/v1/problems?state={state}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().cloned().unwrap_or_default()
}

/// The open problems, once there are exactly `n` (detection runs every 200 ms; 20 s at most).
pub async fn open_problems(site: &CouponSite, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let list = problems(site, &site.admin, "open").await;
        if list.len() == n {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the server never had {n} open problems");
}

/// Replaces the site's P云 credential's secret, then waits out the signer cache (2 s).
pub async fn set_pyun_secret(site: &CouponSite, secret: &str) {
    let (status, body) = send(
        &site.admin,
        Method::PUT,
        &site.server.url(&format!(
            "/api/v1/credentials/{}/secret",
            site.credential_id
        )),
        Some(json!({"secret": secret})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
}

/// A car enters car park `park` (its code) now, through the gate API.
pub async fn gate_entry(site: &CouponSite, gate: &Client, park: &str, plate: &str) {
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, body) = send(
        gate,
        Method::POST,
        &site.server.url("/api/v1/gate/entries"),
        Some(json!({"park": park, "plate": plate, "time": time})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

/// Channel `id`'s last sends as the site's admin reads them.
pub async fn channel_sends(site: &CouponSite, id: i64) -> Vec<Value> {
    let (status, list) = send(
        &site.admin,
        Method::GET,
        &site
            .server
            .url(&format!("/api/v1/alert-channels/{id}/sends")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().cloned().unwrap_or_default()
}
