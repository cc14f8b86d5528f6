//! Problem detection on three instances sharing one PostgreSQL database: one instance holds the
//! detection lease; when it is killed (SIGKILL), another takes over within seconds, and the
//! problem it found is told once and resolved once — never twice.

use std::time::Duration;

use e2e::cluster::Cluster;
use e2e::coupon_site::bearer_client;
use protocol::alerts::ChannelKind;
use reqwest::{Client, Method};
use sandbox::robots::{Robot, RobotsSandbox, robot_url};
use serde_json::json;

const ADMIN_PW: &str = "cluster-admin-pw-1";

async fn holder(db: &parkbridge::storage::Db) -> Option<(String, i64)> {
    sqlx::query_as("SELECT holder, until_ms FROM leases WHERE name = 'problem_detection'")
        .fetch_optional(&db.pool)
        .await
        .expect("lease")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_detection_leader_is_replaced_and_nothing_is_told_twice() {
    let robots = RobotsSandbox::new();
    let wecom = Robot {
        kind: ChannelKind::Wecom,
        id: "ops".to_owned(),
        secret: None,
        keyword: None,
    };
    robots.add_robot(wecom.clone());
    let running = robots.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let cluster = Cluster::start(
        3,
        &[
            "PARKBRIDGE_ALERT_GROUP_WAIT_SECS=1",
            "PARKBRIDGE_ALERT_TICK_MS=200",
            "PARKBRIDGE_GATE_QUIET_HOURS=none",
            "PARKBRIDGE_GATE_SILENCE_SECS=3",
        ],
    );
    cluster.server.add_user("root", "admin", ADMIN_PW);
    let admin = Client::builder().cookie_store(true).build().unwrap();
    let (status, _) = cluster
        .send_to(
            0,
            &admin,
            Method::POST,
            "/api/v1/auth/login",
            Some(&json!({"username": "root", "password": ADMIN_PW})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, park) = cluster
        .send_to(
            0,
            &admin,
            Method::POST,
            "/api/v1/parks",
            Some(&json!({"code": "fo-a", "name": "故障转移广场"})),
        )
        .await;
    assert_eq!(status, 201, "{park}");
    let channel =
        json!({"name": "值班", "kind": "wecom", "url": robot_url(&running.base_url, &wecom)});
    let (status, body) = cluster
        .send_to(
            0,
            &admin,
            Method::POST,
            "/api/v1/alert-channels",
            Some(&channel),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let gate = bearer_client(&cluster.server.api_key("gate", "gate", None));
    let enter = |plate: &str| {
        json!({"park": "fo-a", "plate": plate,
               "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)})
    };
    let (status, body) = cluster
        .send(
            &gate,
            Method::POST,
            "/api/v1/gate/entries",
            Some(&enter("粤B30001")),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // Silence: one message, from whichever instance leads.
    let db = parkbridge::storage::Db::connect(&cluster.server.database_url())
        .await
        .unwrap();
    wait(|| robots.shown().len() == 1, "the first message").await;
    let (leader, _) = holder(&db).await.expect("a lease holder");

    // Kill instances until the lease changes hands: the one whose death hands it over led.
    let mut killed = Vec::new();
    for i in 0..3 {
        cluster.kill(i);
        killed.push(i);
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (now_holder, _) = holder(&db).await.expect("a lease holder");
        if now_holder != leader {
            break;
        }
        // Not the leader: bring it back before trying the next.
        let c = &cluster;
        tokio::task::block_in_place(|| c.restart(i));
        killed.pop();
    }
    assert_eq!(
        killed.len(),
        1,
        "killing one instance handed the lease over"
    );
    let (new_holder, _) = holder(&db).await.expect("a lease holder");
    assert_ne!(new_holder, leader);
    // Still one message for the one open problem.
    assert_eq!(robots.shown().len(), 1, "{:?}", robots.shown());

    // The gate speaks: the new leader resolves it, told once.
    let (status, body) = cluster
        .send(
            &gate,
            Method::POST,
            "/api/v1/gate/entries",
            Some(&enter("粤B30002")),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    wait(|| robots.shown().len() == 2, "the resolved message").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let shown = robots.shown();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown[0].text.contains("新问题") && shown[1].text.contains("已恢复"),
        "{shown:?}"
    );
    assert!(shown.iter().all(|m| m.text.contains("故障转移广场")));
}

async fn wait(done: impl Fn() -> bool, what: &str) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}
