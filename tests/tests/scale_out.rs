//! Scale-out (issue 8): several `parkbridge serve` instances on one PostgreSQL database, reached
//! round robin as through a reverse proxy. Sign-ins, API keys, users and the sign-in rate limit
//! are shared; and with instances SIGKILLed and restarted while a mixed workload flows, every
//! coupon, grant, VIP recharge and entry notice reaches the sandboxes exactly once (grants caught
//! mid-call end `unknown`, PROTOCOLS.md §1.4), and nothing is left in the outbox. The same VIP
//! call sent to several instances at once (a retry on another instance) is recorded once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use e2e::cluster::Cluster;
use e2e::coupon_site::{
    self, API_TYPE, APP_ID, APP_SECRET, COUPON_CODE, MERCHANT, PRODUCT, STORE, bearer_client,
};
use e2e::mallcoo_site::{OUT_APP_ID, OUT_PRIVATE_KEY, OUT_PUBLIC_KEY, PARK_CODE, eventually};
use reqwest::{Client, Method, StatusCode};
use sandbox::mallcoo::MallcooSandbox;
use sandbox::pyun::{Endpoint, PyunSandbox};
use serde_json::{Value, json};

const ADMIN_PW: &str = "cluster-admin-pw-1";
const CLERK_PW: &str = "cluster-clerk-pw-1";
/// The car park of the workload.
const PARK: &str = "scale-a";
/// Its P云 `park_uuid` (VIP sync).
const PARK_UUID: &str = "park-uuid-scale";
/// How long the outbox may take to drain after the last kill: a killed instance's leases run out
/// after the call timeout plus 5 s, and the suite shares two cores.
const QUIESCE: Duration = Duration::from_secs(90);

fn cookie_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

/// Signs in on instance `i` and returns a client that sends the session cookie it was given on
/// every request, whatever the server says later: so a refusal proves the session is revoked in
/// the database, not merely cleared from a cookie jar.
async fn signed_in_on(cluster: &Cluster, i: usize, username: &str, password: &str) -> Client {
    let resp = Client::new()
        .post(cluster.url(i, "/api/v1/auth/login"))
        .json(&login_body(username, password))
        .send()
        .await
        .expect("login request");
    assert_eq!(resp.status(), 200, "sign-in as {username} on instance {i}");
    let cookie = resp
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    assert!(cookie.starts_with("pb_session="), "{cookie}");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        cookie.parse().expect("cookie header"),
    );
    Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

fn login_body(username: &str, password: &str) -> Value {
    json!({"username": username, "password": password})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_users_api_keys_and_the_sign_in_limit_are_shared_by_three_instances() {
    let cluster = Cluster::start(3, &[]);
    cluster.server.add_user("root", "admin", ADMIN_PW);
    let (a, b, c) = (0, 1, 2);

    // Signed in through A: the cookie (a session row in the database) works on B and C.
    let admin = signed_in_on(&cluster, a, "root", ADMIN_PW).await;
    for i in [a, b, c] {
        let (status, me) = cluster
            .send_to(i, &admin, Method::GET, "/api/v1/auth/me", None)
            .await;
        assert_eq!(status, 200, "instance {i}: {me}");
        assert_eq!(me["username"], "root");
    }

    // A user created on A signs in on C.
    let (status, body) = cluster
        .send_to(
            a,
            &admin,
            Method::POST,
            "/api/v1/users",
            Some(&json!({"username": "clerk", "password": CLERK_PW, "role": "mall_staff"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let clerk = signed_in_on(&cluster, c, "clerk", CLERK_PW).await;
    // Round robin, as a proxy spreads one browser's requests: every answer is the signed-in one.
    for _ in 0..6 {
        let (status, me) = cluster
            .send(&clerk, Method::GET, "/api/v1/auth/me", None)
            .await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["username"], "clerk");
        assert_eq!(me["role"], "mall_staff");
    }

    // An API key created through B authenticates on A; revoked through C, A refuses it.
    let (status, created) = cluster
        .send_to(
            b,
            &admin,
            Method::POST,
            "/api/v1/api-keys",
            Some(&json!({"name": "north gate", "scopes": ["gate"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().expect("the key, shown once");
    let key_id = created["api_key"]["id"].as_i64().expect("key id");
    let gate = bearer_client(key);
    let (status, who) = cluster
        .send_to(a, &gate, Method::GET, "/api/v1/machine/whoami", None)
        .await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["name"], "north gate");
    let (status, body) = cluster
        .send_to(
            c,
            &admin,
            Method::DELETE,
            &format!("/api/v1/api-keys/{key_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = cluster
        .send_to(a, &gate, Method::GET, "/api/v1/machine/whoami", None)
        .await;
    assert_eq!(status, 401, "a key revoked on C still works on A");

    // Signing out on C revokes the session everywhere: the same cookie is refused by A and B.
    let (status, body) = cluster
        .send_to(c, &admin, Method::POST, "/api/v1/auth/logout", None)
        .await;
    assert_eq!(status, 200, "{body}");
    for i in [a, b, c] {
        let (status, _) = cluster
            .send_to(i, &admin, Method::GET, "/api/v1/auth/me", None)
            .await;
        assert_eq!(
            status, 401,
            "instance {i} still accepts a session signed out on C"
        );
    }
    // Only that session: the clerk's, made on C, still works on A.
    let (status, _) = cluster
        .send_to(a, &clerk, Method::GET, "/api/v1/auth/me", None)
        .await;
    assert_eq!(status, 200);

    // Failed sign-ins count across instances: five wrong passwords spread over A, B and C lock
    // the account on every instance, even with the right password.
    let guesser = cookie_client();
    for i in [a, b, c, a, b] {
        let (status, body) = cluster
            .send_to(
                i,
                &guesser,
                Method::POST,
                "/api/v1/auth/login",
                Some(&login_body("clerk", "wrong-password")),
            )
            .await;
        assert_eq!(status, 400, "instance {i}: {body}");
    }
    for i in [c, a] {
        let (status, body) = cluster
            .send_to(
                i,
                &guesser,
                Method::POST,
                "/api/v1/auth/login",
                Some(&login_body("clerk", CLERK_PW)),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "instance {i} let a sixth try in: {body}"
        );
    }
    // The limit is per account: another user still signs in, through any instance.
    let (status, body) = cluster
        .send(
            &cookie_client(),
            Method::POST,
            "/api/v1/auth/login",
            Some(&login_body("root", ADMIN_PW)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_killed_in_turn_deliver_every_coupon_recharge_and_entry_notice_once() {
    exactly_once_under_kills(3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_killed_in_turn_deliver_every_coupon_recharge_and_entry_notice_once() {
    exactly_once_under_kills(2).await;
}

/// The sandboxes, the cluster and the clients of the workload.
struct Site {
    pyun: PyunSandbox,
    mallcoo: MallcooSandbox,
    cluster: Arc<Cluster>,
    /// An API key for `PARK` with the `coupons`, `vip` and `gate` scopes.
    machine: Client,
    park_id: i64,
    // Keep the sandboxes serving.
    _pyun_running: sandbox::pyun::RunningSandbox,
    _mallcoo_running: sandbox::mallcoo::RunningSandbox,
}

/// Starts both sandboxes (answering after `latency`, so that kills land mid-call) and `n`
/// instances, and configures one car park for P云 coupons, VIP sync and Mallcoo entry notices —
/// through the round robin, so the setup itself crosses instances.
async fn start_site(n: usize, latency: Duration) -> Site {
    let pyun = coupon_site::sandbox(&[]);
    pyun.set_any_plate_parked(true);
    pyun.set_plate_limit(1_000_000);
    pyun.add_vip_park(PARK_UUID, APP_ID);
    pyun.set_latency(latency);
    let pyun_running = pyun
        .start("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("P云 sandbox starts");
    let mallcoo = MallcooSandbox::new();
    mallcoo.add_app(OUT_APP_ID, OUT_PUBLIC_KEY, OUT_PRIVATE_KEY);
    mallcoo.add_park_code(PARK_CODE);
    mallcoo.set_latency(latency);
    let mallcoo_running = mallcoo
        .start("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("Mallcoo sandbox starts");
    let pyun_base = format!("PARKBRIDGE_PYUN_BASE_URL={}", pyun_running.base_url);
    let mallcoo_base = format!("PARKBRIDGE_MALLCOO_BASE_URL={}", mallcoo_running.base_url);
    let settings = [
        pyun_base,
        mallcoo_base,
        "PARKBRIDGE_RETRY_BASE_MS=50".to_owned(),
        // A lease lasts the call timeout + 5 s: what a killed instance's rows wait for.
        "PARKBRIDGE_PYUN_TIMEOUT_MS=2000".to_owned(),
        // A coupon call answers with its outcome (a call takes the sandbox's latency), so each
        // stream has one delivery in flight; shorter than the time between kills, so a retried
        // call whose row a killed instance holds answers 202 instead of chasing the next kill.
        "PARKBRIDGE_COUPON_WAIT_MS=1000".to_owned(),
        // Small, frequent VIP batches: many of them are in flight when an instance dies.
        "PARKBRIDGE_VIP_BATCH_SIZE=4".to_owned(),
        "PARKBRIDGE_VIP_FLUSH_MS=100".to_owned(),
    ];
    let cluster = tokio::task::spawn_blocking(move || {
        let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
        Cluster::start(n, &settings)
    })
    .await
    .expect("cluster starts");
    cluster.server.add_user("root", "admin", ADMIN_PW);
    let admin = cookie_client();
    let post = |path: &'static str, body: Value| {
        let cluster = &cluster;
        let admin = &admin;
        async move {
            let (status, answer) = cluster.send(admin, Method::POST, path, Some(&body)).await;
            assert!(status.is_success(), "POST {path}: {status} {answer}");
            answer
        }
    };
    post("/api/v1/auth/login", login_body("root", ADMIN_PW)).await;
    let pyun_cred = post(
        "/api/v1/credentials",
        json!({"name": "pyun", "kind": "pyun", "app_id": APP_ID, "app_secret": APP_SECRET}),
    )
    .await["credential"]["id"]
        .as_i64()
        .expect("credential id");
    let mallcoo_cred = post(
        "/api/v1/credentials",
        json!({"name": "mallcoo-out", "kind": "mallcoo_outbound", "app_id": OUT_APP_ID,
               "public_key": OUT_PUBLIC_KEY, "private_key": OUT_PRIVATE_KEY}),
    )
    .await["credential"]["id"]
        .as_i64()
        .expect("credential id");
    let park_id = post(
        "/api/v1/parks",
        json!({"code": PARK, "name": "扩容广场", "pyun_api_store_code": STORE,
               "pyun_merchant": MERCHANT, "pyun_park_uuid": PARK_UUID,
               "pyun_credential_id": pyun_cred, "mallcoo_park_code": PARK_CODE,
               "mallcoo_out_credential_id": mallcoo_cred}),
    )
    .await["id"]
        .as_i64()
        .expect("park id");
    let (status, body) = cluster
        .send(
            &admin,
            Method::PUT,
            &format!("/api/v1/parks/{park_id}/coupon-config/event"),
            Some(&json!({"api_type": API_TYPE, "metadata_keys": []})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = cluster
        .send(
            &admin,
            Method::POST,
            &format!("/api/v1/parks/{park_id}/coupon-products"),
            Some(
                &json!({"name": PRODUCT, "coupon_code": COUPON_CODE, "store_code": "shop-7",
                         "quantity": 1, "reason": "消费满200元"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let key = cluster
        .server
        .api_key("mixed", "coupons,vip,gate", Some(PARK));
    Site {
        pyun,
        mallcoo,
        cluster: Arc::new(cluster),
        machine: bearer_client(&key),
        park_id,
        _pyun_running: pyun_running,
        _mallcoo_running: mallcoo_running,
    }
}

/// What the clients sent and were told.
#[derive(Default)]
struct Sent {
    events: Vec<String>,
    /// `(grant_id, plate)`.
    grants: Vec<(String, String)>,
    /// `pay_partner`s in the order they were accepted.
    recharges: Vec<String>,
    /// Session ids the gate was given.
    sessions: Vec<i64>,
}

/// Posts coupon events `ev-<stream>-<k>` one after another until `stop`.
async fn event_stream(site: &Site, stream: usize, stop: &AtomicBool) -> Vec<String> {
    let mut sent = Vec::new();
    for k in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let event_id = format!("ev-{stream}-{k}");
        let body = json!({"park": PARK, "event_id": event_id, "plate": "粤B12345",
                          "subject": "充电 12 KWH"});
        let (status, answer) = site
            .cluster
            .send(
                &site.machine,
                Method::POST,
                "/api/v1/coupons/events",
                Some(&body),
            )
            .await;
        assert!(
            status == 200 || status == 202,
            "{event_id}: {status} {answer}"
        );
        sent.push(event_id);
    }
    sent
}

/// Grants the product to a new plate each time, one after another until `stop`.
async fn grant_stream(site: &Site, stop: &AtomicBool) -> Vec<(String, String)> {
    let mut sent = Vec::new();
    for k in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let (grant_id, plate) = (format!("gr-{k}"), format!("粤G{k:05}"));
        let body = json!({"park": PARK, "coupon": PRODUCT, "plate": plate, "grant_id": grant_id});
        let (status, answer) = site
            .cluster
            .send(
                &site.machine,
                Method::POST,
                "/api/v1/coupons/grants",
                Some(&body),
            )
            .await;
        assert!(
            status == 200 || status == 202,
            "{grant_id}: {status} {answer}"
        );
        sent.push((grant_id, plate));
    }
    sent
}

/// A recharge of a new plate, as a local system sends it.
fn recharge(k: usize) -> Value {
    json!({
        "plate": format!("粤V{k:05}"), "plate_color": 1, "card_no": format!("C{k}"),
        "charge_type": "MON_A", "vip_type": 1, "quantity": 1,
        "pay_partner": format!("pp-{k:06}"), "pay_type": 2, "value": "1",
        "pay_time": "1767225600000",
        "renewal_start_time": "2025-12-31T16:00:00Z", "renewal_end_time": "2026-01-31T15:59:59Z",
        "pay_value": 30000, "operator": "本地系统"
    })
}

/// Posts VIP recharges, three per call, one call after another until `stop`.
async fn recharge_stream(site: &Site, stop: &AtomicBool) -> Vec<String> {
    let mut sent = Vec::new();
    for call in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let rows: Vec<Value> = (call * 3..call * 3 + 3).map(recharge).collect();
        let body = json!({"park": PARK, "rows": rows});
        let (status, answer) = site
            .cluster
            .send(
                &site.machine,
                Method::POST,
                "/api/v1/vip/recharges",
                Some(&body),
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        // A call retried after its instance died answers `duplicates` for what it recorded.
        let answered =
            answer["accepted"].as_u64().unwrap_or(0) + answer["duplicates"].as_u64().unwrap_or(0);
        assert_eq!(answered, 3, "{answer}");
        sent.extend(
            rows.iter()
                .map(|r| r["pay_partner"].as_str().unwrap().to_owned()),
        );
        // About one call per batch, which P云 takes the sandbox's latency to answer: a car
        // park's batches go out one at a time, so a faster stream only builds a backlog.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    sent
}

/// Cars entering, a new plate each, one after another until `stop`.
async fn gate_stream(site: &Site, stop: &AtomicBool) -> Vec<i64> {
    let mut sessions = Vec::new();
    for k in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let body = json!({"park": PARK, "plate": format!("沪E{k:05}")});
        let (status, answer) = site
            .cluster
            .send(
                &site.machine,
                Method::POST,
                "/api/v1/gate/entries",
                Some(&body),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
        sessions.push(answer["session"]["id"].as_i64().expect("session id"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sessions
}

/// Kills instance `c % n` every ~1.5 s and restarts it, `cycles` times; returns the kills made.
fn kill_in_turn(cluster: &Cluster, cycles: usize) -> usize {
    let n = cluster.len();
    for c in 0..cycles {
        std::thread::sleep(Duration::from_millis(1200));
        cluster.kill(c % n);
        std::thread::sleep(Duration::from_millis(300));
        cluster.restart(c % n);
    }
    cycles
}

/// An outbox row as the test reads it: `(kind, dedupe_key, plate, state, attempts, grant_serial)`.
type OutboxRow = (String, String, Option<String>, String, i64, Option<String>);

fn of_kind<'a>(rows: &'a [OutboxRow], kind: &str) -> Vec<&'a OutboxRow> {
    rows.iter().filter(|r| r.0 == kind).collect()
}

async fn exactly_once_under_kills(n: usize) {
    let started = Instant::now();
    let site = start_site(n, Duration::from_millis(250)).await;
    let set_up = started.elapsed();
    let stop = Arc::new(AtomicBool::new(false));
    // Every instance dies at least twice.
    let cycles = 2 * n;
    let killer = {
        let cluster = Arc::clone(&site.cluster);
        let stop = Arc::clone(&stop);
        tokio::task::spawn_blocking(move || {
            let kills = kill_in_turn(&cluster, cycles);
            stop.store(true, Ordering::Relaxed);
            kills
        })
    };
    let (events_a, events_b, grants, recharges, sessions) = tokio::join!(
        event_stream(&site, 0, &stop),
        event_stream(&site, 1, &stop),
        grant_stream(&site, &stop),
        recharge_stream(&site, &stop),
        gate_stream(&site, &stop),
    );
    let kills = killer.await.expect("the killer thread");
    let workload = started.elapsed() - set_up;
    let sent = Sent {
        events: events_a.into_iter().chain(events_b).collect(),
        grants,
        recharges,
        sessions,
    };

    // Quiescence: nothing left to send (a killed instance's leases run out and are recovered).
    let db = parkbridge::storage::Db::connect(&site.cluster.server.database_url())
        .await
        .expect("database");
    eventually(QUIESCE, "the outbox to drain", || async {
        let open: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')")
                .fetch_one(&db.pool)
                .await
                .expect("count");
        let unbatched: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM vip_recharges WHERE outbox_id IS NULL")
                .fetch_one(&db.pool)
                .await
                .expect("count");
        open == 0 && unbatched == 0
    })
    .await;
    let drained = started.elapsed() - set_up - workload;
    let rows: Vec<OutboxRow> = sqlx::query_as(
        "SELECT kind, dedupe_key, plate, state, attempts, grant_serial FROM outbox ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("outbox rows");

    // Coupon events: each one the clients sent was issued exactly once (resends after a kill
    // are answered 1403 and issue nothing), and every row says delivered.
    let coupons = site.pyun.coupons();
    let mut issued: HashMap<&str, usize> = HashMap::new();
    for c in coupons.iter().filter(|c| c.endpoint == Endpoint::Event) {
        *issued
            .entry(c.event_id.as_deref().expect("an event's id"))
            .or_default() += 1;
    }
    let twice: Vec<_> = issued.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "events issued more than once: {twice:?}");
    let expected: HashSet<&str> = sent.events.iter().map(String::as_str).collect();
    let got: HashSet<&str> = issued.keys().copied().collect();
    assert_eq!(got, expected, "every event issued, and only those");
    let event_rows = of_kind(&rows, "coupon_event");
    assert_eq!(event_rows.len(), expected.len());
    assert!(
        event_rows.iter().all(|r| r.3 == "delivered"),
        "{event_rows:?}"
    );

    // Grants have no idempotency key at P云: never sent twice. One caught mid-call by a kill
    // ends `unknown` for a person to check (each stream has one call in flight, so at most one
    // per kill); every other grant was issued exactly once, under the serial we recorded.
    let mut granted: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in coupons.iter().filter(|c| c.endpoint == Endpoint::Grant) {
        granted
            .entry(c.plate.as_str())
            .or_default()
            .push(c.grant_serial.as_str());
    }
    let grant_rows = of_kind(&rows, "coupon_grant");
    assert_eq!(grant_rows.len(), sent.grants.len());
    let sent_plates: HashSet<&str> = sent.grants.iter().map(|(_, p)| p.as_str()).collect();
    assert!(
        granted.keys().all(|p| sent_plates.contains(p)),
        "a coupon for a plate nobody granted"
    );
    let mut unknown = 0;
    for row in &grant_rows {
        let plate = row.2.as_deref().expect("a grant's plate");
        let serials = granted.get(plate).cloned().unwrap_or_default();
        assert!(
            serials.len() <= 1,
            "grant {} sent {} times",
            row.1,
            serials.len()
        );
        match row.3.as_str() {
            "delivered" => assert_eq!(
                serials,
                vec![row.5.as_deref().expect("a delivered grant's serial")],
                "grant {}",
                row.1
            ),
            "unknown" => unknown += 1,
            other => panic!("grant {} ended {other}", row.1),
        }
    }
    assert!(
        unknown <= kills,
        "{unknown} grants unknown after {kills} kills"
    );

    // VIP recharges: each one at P云 once (P云 keys them on pay_partner) and none missing; P云
    // first saw them in the order they were recorded, because a car park's batches go out one
    // after another even when the instance sending one dies and another resends it.
    let at_pyun: Vec<String> = site
        .pyun
        .vip_records(PARK_UUID)
        .into_iter()
        .map(|r| r.pay_partner)
        .collect();
    assert_eq!(at_pyun, sent.recharges, "VIP recharges at P云, in order");
    let vip_calls: Vec<_> = site
        .pyun
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::VipRecharge)
        .collect();
    let position: HashMap<&str, usize> = sent
        .recharges
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    for call in &vip_calls {
        let body: Value = serde_json::from_str(&call.body).expect("a JSON batch");
        let at: Vec<usize> = body["row"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| position[r["pay_partner"].as_str().expect("pay_partner")])
            .collect();
        assert!(
            at.windows(2).all(|w| w[1] == w[0] + 1),
            "a batch out of order: {at:?}"
        );
    }
    let batch_rows = of_kind(&rows, "vip_batch");
    assert!(
        batch_rows.iter().all(|r| r.3 == "delivered"),
        "{batch_rows:?}"
    );

    // Entry notices: every entry recorded (including one a retried call may have recorded twice)
    // reached Mallcoo under its own TradeID, once, with its plate; none missing, none extra.
    let entries: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, plate FROM parking_sessions WHERE park_id = $1")
            .bind(site.park_id)
            .fetch_all(&db.pool)
            .await
            .expect("sessions");
    let plates: HashMap<String, Option<String>> = entries
        .iter()
        .map(|(id, plate)| (id.to_string(), plate.clone()))
        .collect();
    assert!(
        sent.sessions
            .iter()
            .all(|id| plates.contains_key(&id.to_string())),
        "a session the gate was given is not recorded"
    );
    let notices = site.mallcoo.notices();
    let trade_ids: HashSet<&str> = notices.iter().map(|n| n.trade_id.as_str()).collect();
    assert_eq!(trade_ids.len(), notices.len(), "a TradeID accepted twice");
    let expected: HashSet<&str> = plates.keys().map(String::as_str).collect();
    assert_eq!(trade_ids, expected, "one notice per entry, none missing");
    for notice in &notices {
        assert_eq!(notice.park_code, PARK_CODE);
        assert_eq!(
            Some(notice.plate_no.as_str()),
            plates[&notice.trade_id].as_deref()
        );
    }
    let notice_rows = of_kind(&rows, "enter_notice");
    assert!(
        notice_rows.iter().all(|r| r.3 == "delivered"),
        "{notice_rows:?}"
    );

    // The kills landed mid-delivery: some rows were leased by an instance that died (resent by
    // another after the lease ran out, or a grant left unknown). Without that, this proves little.
    let resent = rows.iter().filter(|r| r.4 > 1).count();
    assert!(
        resent + unknown > 0,
        "no kill caught a delivery in flight; the test did not exercise recovery"
    );
    let resent_notices = notices.iter().filter(|n| n.copies > 1).count();
    eprintln!(
        "{n} instances, {kills} kills; set-up {set_up:.1?}, workload {workload:.1?}, drained in \
         {drained:.1?}: {} events, {} grants ({unknown} unknown), \
         {} VIP recharges in {} batches ({} calls), {} entries ({resent_notices} notices resent); \
         {resent} rows sent again after a kill; {} P云 calls, {} Mallcoo calls",
        sent.events.len(),
        sent.grants.len(),
        sent.recharges.len(),
        batch_rows.len(),
        vip_calls.len(),
        entries.len(),
        site.pyun.requests().len(),
        site.mallcoo.requests().len(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_vip_call_sent_to_three_instances_at_once_is_recorded_once_and_answered_202() {
    // What a client or proxy retrying a slow call on another instance does.
    let cluster = Cluster::start(3, &[]);
    cluster.server.add_user("root", "admin", ADMIN_PW);
    let admin = signed_in_on(&cluster, 0, "root", ADMIN_PW).await;
    let (status, park) = cluster
        .send(
            &admin,
            Method::POST,
            "/api/v1/parks",
            Some(&json!({"code": PARK, "name": "扩容广场"})),
        )
        .await;
    assert_eq!(status, 201, "{park}");
    let machine = bearer_client(&cluster.server.api_key("local-vip", "vip", Some(PARK)));
    let rounds = 15;
    for round in 0..rounds {
        let rows: Vec<Value> = (round * 3..round * 3 + 3).map(recharge).collect();
        let body = json!({"park": PARK, "rows": rows});
        let call = |i: usize| {
            cluster.send_to(
                i,
                &machine,
                Method::POST,
                "/api/v1/vip/recharges",
                Some(&body),
            )
        };
        let answers = tokio::join!(call(0), call(1), call(2));
        let mut accepted = 0;
        for (status, answer) in [answers.0, answers.1, answers.2] {
            assert_eq!(status, 202, "round {round}: {answer}");
            assert_eq!(
                answer["accepted"].as_u64().unwrap_or(0)
                    + answer["duplicates"].as_u64().unwrap_or(0),
                3,
                "{answer}"
            );
            accepted += answer["accepted"].as_u64().unwrap_or(0);
        }
        assert_eq!(
            accepted, 3,
            "round {round}: each row accepted by exactly one call"
        );
    }
    let db = parkbridge::storage::Db::connect(&cluster.server.database_url())
        .await
        .expect("database");
    let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vip_recharges")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(recorded, i64::try_from(rounds * 3).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_pyun_payment_notice_sent_to_three_instances_at_once_records_one_payment() {
    use e2e::pyun_gateway_site::{DOWNLINK_KEY, UPLOAD_SECRET, signed_body};
    // P云 retrying a slow notice lands on another instance while the first still works on it.
    let cluster = Cluster::start(3, &[]);
    cluster.server.add_user("root", "admin", ADMIN_PW);
    let admin = signed_in_on(&cluster, 0, "root", ADMIN_PW).await;
    let (status, created) = cluster
        .send(
            &admin,
            Method::POST,
            "/api/v1/credentials",
            Some(&json!({"name": "P云车场", "kind": "pyun_carpark",
                         "upload_secret": UPLOAD_SECRET, "downlink_key": DOWNLINK_KEY})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, park) = cluster
        .send(
            &admin,
            Method::POST,
            "/api/v1/parks",
            Some(
                &json!({"code": PARK, "name": "扩容广场", "pyun_park_uuid": PARK_UUID,
                         "pyun_carpark_credential_id": created["credential"]["id"]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{park}");
    let gate = bearer_client(&cluster.server.api_key("gate", "gate", Some(PARK)));
    let http = Client::new();
    let post = |i: usize, body: String| {
        let http = http.clone();
        let url = cluster.url(i, "/pyun/v1/gateway");
        async move {
            let text = http
                .post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            serde_json::from_str::<Value>(&text).unwrap()
        }
    };
    let entered = (chrono::Utc::now() - chrono::Duration::minutes(100)).to_rfc3339();
    let rounds = 10;
    for round in 0..rounds {
        let plate = format!("沪B{:05}", 10000 + round);
        let (status, entry) = cluster
            .send(
                &gate,
                Method::POST,
                "/api/v1/gate/entries",
                Some(&json!({"park": PARK, "plate": plate, "time": entered})),
            )
            .await;
        assert_eq!(status, 201, "{entry}");
        let bill = post(
            round % 3,
            signed_body(
                PARK_UUID,
                DOWNLINK_KEY,
                "service.parking.payment.billing",
                &json!({"plate": plate}),
            ),
        )
        .await;
        assert_eq!(bill["result_code"], "1001", "{bill}");
        let notice = signed_body(
            PARK_UUID,
            DOWNLINK_KEY,
            "service.parking.payment.result",
            &json!({"parking_serial": bill["parking_serial"], "parking_order": bill["parking_order"],
                    "pay_serial": format!("PAY-{round}"),
                    "pay_time": protocol::time::format_pyun_local(chrono::Utc::now()),
                    "value": bill["pay_value"], "pay_origin": 8, "pay_origin_desc": "微信"}),
        );
        let answers = tokio::join!(
            post(0, notice.clone()),
            post(1, notice.clone()),
            post(2, notice.clone())
        );
        for answer in [answers.0, answers.1, answers.2] {
            assert_eq!(answer["result_code"], "1001", "round {round}: {answer}");
        }
    }
    let db = parkbridge::storage::Db::connect(&cluster.server.database_url())
        .await
        .expect("database");
    let recorded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM parking_payments WHERE channel = 'pyun'")
            .fetch_one(&db.pool)
            .await
            .expect("count");
    assert_eq!(
        recorded, rounds as i64,
        "one payment per notice, whichever instance took it"
    );
}
