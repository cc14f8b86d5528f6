//! `parkbridge demo` end to end: the real binary with its embedded P云 sandbox. A property
//! manager grants the demo coupon product and it reaches the sandbox; after a restart on the
//! same data directory (new sandbox, new app secret) granting still works. The demo car park's
//! simulated traffic reaches the embedded Mallcoo sandbox as signed entry notices, both times,
//! and its leaving cars pay through our own Mallcoo V1.4 endpoints. A fresh demo shows fixed cars
//! (delivered to the sandbox) and coupon records of several outcomes, and its console carries
//! the banner, not a line per delivery. Its two shops' merchants, printed with their passwords,
//! sign in and see their shops, after a restart too.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use e2e::server::{binary, static_dir};
use serde_json::{Value, json};

/// A running `parkbridge demo`, killed when dropped.
struct Demo {
    child: Child,
    /// `http://127.0.0.1:<port>` without a trailing slash.
    base_url: String,
    /// The embedded sandbox's base URL, from the banner.
    sandbox_url: String,
    /// The embedded Mallcoo sandbox's base URL, from the banner.
    mallcoo_url: String,
    /// The alert robots' stand-in's base URL, from the banner.
    robots_url: String,
    /// The `manager` user's password, new at every start.
    manager_password: String,
    /// The merchants' usernames and passwords, new at every start.
    merchants: Vec<(String, String)>,
    /// Every line the demo wrote to stderr so far.
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Demo {
    /// Starts `parkbridge demo` on port 0 over `data_dir`, as a newcomer would (no `RUST_LOG`),
    /// and reads its banner.
    fn start(data_dir: &Path) -> Demo {
        let mut child = Command::new(binary())
            .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .arg("--static-dir")
            .arg(static_dir())
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("parkbridge demo starts");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().expect("piped stderr");
        let lines = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                // Passed on, so a failing run still shows what the demo said.
                eprintln!("demo: {line}");
                lines.lock().expect("not poisoned").push(line);
            }
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        // Reads to the end, so the demo never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (mut base_url, mut sandbox_url, mut manager_password) = (None, None, None);
        let mut mallcoo_url = None;
        let mut robots_url = None;
        let mut merchants = Vec::new();
        // `Data:` is the banner's last line.
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the demo prints its banner within 60 s");
            if let Some(url) = line.strip_prefix("ParkBridge listening on ") {
                base_url = Some(url.trim_end_matches('/').to_owned());
            } else if let Some(rest) = line.strip_prefix("P云 sandbox: ") {
                let url = rest.split_whitespace().next().expect("a URL");
                sandbox_url = Some(url.to_owned());
            } else if let Some(rest) = line.strip_prefix("Alert robots sandbox: ") {
                let url = rest.split_whitespace().next().expect("a URL");
                robots_url = Some(url.trim_end_matches("/_sandbox/robots").to_owned());
            } else if let Some(rest) = line.strip_prefix("Mallcoo sandbox: ") {
                let url = rest.split_whitespace().next().expect("a URL");
                mallcoo_url = Some(url.to_owned());
            } else if let [_, "manager", "/", pw] = line.split_whitespace().collect::<Vec<_>>()[..]
            {
                manager_password = Some(pw.to_owned());
            } else if let ["merchant", user, "/", pw] =
                line.split_whitespace().collect::<Vec<_>>()[..]
            {
                merchants.push((user.to_owned(), pw.to_owned()));
            } else if line.starts_with("Data: ") {
                break;
            }
        }
        Demo {
            child,
            base_url: base_url.expect("address line"),
            sandbox_url: sandbox_url.expect("sandbox line"),
            mallcoo_url: mallcoo_url.expect("Mallcoo sandbox line"),
            robots_url: robots_url.expect("alert robots line"),
            manager_password: manager_password.expect("manager line"),
            merchants,
            stderr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A client signed in as `manager`.
    async fn manager(&self) -> reqwest::Client {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let resp = client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "username": "manager", "password": self.manager_password }))
            .send()
            .await
            .expect("login request");
        assert_eq!(resp.status(), 200, "sign-in as manager failed");
        client
    }

    /// Each printed merchant signs in with its password and sees its own shop, with its offers
    /// and quotas: a café with a local discount, a bookshop with the P云 coupon product.
    async fn merchants_see_their_shops(&self) {
        let mut seen = Vec::new();
        for (user, pw) in &self.merchants {
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("client");
            let resp = client
                .post(self.url("/api/v1/auth/login"))
                .json(&json!({ "username": user, "password": pw }))
                .send()
                .await
                .expect("login request");
            assert_eq!(resp.status(), 200, "sign-in as {user} failed");
            let page = get_json(&client, &self.url("/api/v1/shop")).await;
            let offer = &page["offers"][0];
            assert!(offer["daily_quota"].as_i64().unwrap_or(0) >= 1, "{page}");
            assert_eq!(offer["used_today"], 0, "{page}");
            let gives = if offer["product_id"].is_i64() {
                "product".to_owned()
            } else {
                format!("{}", offer["discount"])
            };
            seen.push((user.clone(), gives));
            // Nothing but its shop: the manager's car parks are not for it.
            let resp = client
                .get(self.url("/api/v1/parks"))
                .send()
                .await
                .expect("GET");
            assert_eq!(resp.status(), 403, "{user} reads car parks");
        }
        seen.sort();
        assert_eq!(
            seen,
            [
                ("books".to_owned(), "product".to_owned()),
                (
                    "cafe".to_owned(),
                    r#"{"kind":"minutes","value":120}"#.to_owned()
                ),
            ],
            "two shops, a merchant each, printed at start"
        );
    }

    /// Grants the demo product to `plate` and checks the sandbox issued exactly that coupon.
    async fn grant_reaches_the_sandbox(&self, plate: &str) -> String {
        let client = self.manager().await;
        let parks: Value = get_json(&client, &self.url("/api/v1/parks")).await;
        let park_id = parks
            .as_array()
            .expect("a list")
            .iter()
            .find(|p| p["code"] == "demo")
            .expect("the demo car park is the manager's")["id"]
            .as_i64()
            .expect("an id");
        let config: Value = get_json(
            &client,
            &self.url(&format!("/api/v1/parks/{park_id}/coupon-config")),
        )
        .await;
        assert_eq!(config["event"]["api_type"], "demo-ev-charging");
        let products = config["products"].as_array().expect("products");
        assert_eq!(products.len(), 1, "one demo product, however many starts");
        let product = &products[0];
        assert_eq!(product["name"], "停车券2小时");
        let resp = client
            .post(self.url("/api/v1/coupon-records/grants"))
            .json(&json!({ "park_id": park_id, "product_id": product["id"], "plate": plate }))
            .send()
            .await
            .expect("grant request");
        let status = resp.status();
        let record: Value = resp.json().await.expect("a JSON record");
        assert_eq!(status, 200, "grant not final: {record}");
        assert_eq!(record["state"], "delivered", "{record}");
        let serial = record["pyun"]["grant_serial"]
            .as_str()
            .expect("a grant serial")
            .to_owned();

        let coupons: Value = get_json(
            &reqwest::Client::new(),
            &format!("{}/_sandbox/coupons", self.sandbox_url),
        )
        .await;
        // The seeded coupon requests may be in the sandbox too, never for this plate.
        let ours: Vec<&Value> = coupons
            .as_array()
            .expect("a list")
            .iter()
            .filter(|c| c["plate"] == plate)
            .collect();
        assert_eq!(ours.len(), 1, "this sandbox issued {plate} this grant only");
        assert_eq!(ours[0]["grant_serial"], serial.as_str());
        assert_eq!(ours[0]["coupon_code"], "DEMO-PARK-2H");
        assert_eq!(ours[0]["app_id"], "demo-app");
        serial
    }

    /// The demo car park's id, as the manager sees it.
    async fn park_id(&self, client: &reqwest::Client) -> i64 {
        let parks = get_json(client, &self.url("/api/v1/parks")).await;
        parks
            .as_array()
            .expect("a list")
            .iter()
            .find(|p| p["code"] == "demo")
            .expect("demo park")["id"]
            .as_i64()
            .expect("an id")
    }

    /// A fresh demo's 固定车 page has cards of several types, one expired and one ending within
    /// the week, and every card reaches the P云 sandbox through the real batcher.
    async fn fixed_cars_are_seeded_and_delivered(&self) {
        let client = self.manager().await;
        let park = self.park_id(&client).await;
        let url = self.url(&format!("/api/v1/parks/{park}/vip/records?limit=50"));
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let records = loop {
            let page = get_json(&client, &url).await;
            let records = page["records"].as_array().expect("records").clone();
            if !records.is_empty() && records.iter().all(|r| r["sync"] == "delivered") {
                break records;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the seeded fixed cars were not all delivered within 60 s: {page}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        assert!(records.len() >= 5, "{records:?}");
        let types: std::collections::BTreeSet<i64> = records
            .iter()
            .map(|r| r["vip_type"].as_i64().expect("a type"))
            .collect();
        assert!(types.len() >= 4, "several card types: {types:?}");
        assert!(
            records.iter().any(|r| r["valid_now"] == false),
            "one expired: {records:?}"
        );
        let week_ahead = chrono::Utc::now() + chrono::TimeDelta::days(7);
        assert!(
            records.iter().any(|r| r["valid_now"] == true
                && r["valid_to"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| t < week_ahead)),
            "one ending within the week: {records:?}"
        );
        let at_pyun: Value = get_json(
            &reqwest::Client::new(),
            &format!("{}/_sandbox/vip/demo-park-uuid", self.sandbox_url),
        )
        .await;
        assert_eq!(
            at_pyun.as_array().expect("a list").len(),
            records.len(),
            "P云 holds every fixed car: {at_pyun}"
        );
    }

    /// A fresh demo's 优惠券 records show delivered, refused and unknown outcomes.
    async fn coupon_records_are_seeded(&self) {
        let client = self.manager().await;
        let url = self.url("/api/v1/coupon-records?limit=50");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let page = get_json(&client, &url).await;
            let states: std::collections::BTreeSet<String> = page["records"]
                .as_array()
                .expect("records")
                .iter()
                .filter_map(|r| r["state"].as_str().map(str::to_owned))
                .collect();
            if ["delivered", "rejected", "unknown"]
                .iter()
                .all(|s| states.contains(*s))
            {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the seeded coupon records did not reach their outcomes within 60 s: {page}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Without `RUST_LOG` the console holds no info lines (deliveries, requests).
    fn console_is_quiet(&self) {
        let lines = self.stderr.lock().expect("not poisoned");
        let chatty: Vec<&String> = lines.iter().filter(|l| l.contains(" INFO ")).collect();
        assert!(
            chatty.is_empty(),
            "info lines on the demo's console: {chatty:?}"
        );
    }
}

impl Demo {
    /// Waits until a digest of the seeded troubles reaches the demo's DingTalk stand-in, signed
    /// and shown, with a link back to this demo's UI.
    async fn alerts_reach_the_robots(&self) {
        let client = reqwest::Client::new();
        let url = format!("{}/_sandbox/robots/messages", self.robots_url);
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        loop {
            let messages: Value = get_json(&client, &url).await;
            let messages = messages.as_array().expect("a list");
            assert!(
                messages.iter().all(|m| m["accepted"] == true),
                "a message was refused: {messages:?}"
            );
            if let Some(m) = messages.first() {
                let text = m["text"].as_str().expect("text");
                assert!(text.contains("ParkBridge · 新问题"), "{text}");
                assert!(text.contains(&self.base_url), "{text}");
                let page = client
                    .get(format!("{}/_sandbox/robots", self.robots_url))
                    .send()
                    .await
                    .expect("the robots' page")
                    .text()
                    .await
                    .expect("text");
                assert!(page.contains("新问题"), "{page}");
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no alert reached the robots' stand-in in 90 s"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Waits until the simulated entries of the demo car park reach the Mallcoo sandbox.
    async fn entries_reach_mallcoo(&self) {
        let client = reqwest::Client::new();
        let url = format!("{}/_sandbox/mallcoo/notices", self.mallcoo_url);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let notices: Value = get_json(&client, &url).await;
            let notices = notices.as_array().expect("a list");
            if !notices.is_empty() {
                assert!(
                    notices
                        .iter()
                        .all(|n| n["park_code"] == "DEMO-MALL-P001"
                            && n["app_id"] == "demo-mallcoo-app"),
                    "{notices:?}"
                );
                let requests: Value = get_json(
                    &client,
                    &format!("{}/_sandbox/mallcoo/requests", self.mallcoo_url),
                )
                .await;
                assert!(
                    requests
                        .as_array()
                        .expect("a list")
                        .iter()
                        .all(|r| r["signature_ok"] == true),
                    "every notice is signed with this start's keys: {requests}"
                );
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no entry notice reached the Mallcoo sandbox within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Waits until the simulation has paid for a car through `/mallcoo/v1/PayParkingFee` (its order
/// numbers are `demo-<hex>`; the seeded history's are `demo-seed-<session>`), reading the
/// demo's SQLite database.
async fn a_live_mallcoo_payment_is_recorded(data_dir: &Path) {
    let url = parkbridge::storage::sqlite_url(&data_dir.join("parkbridge.db"));
    let db = parkbridge::storage::Db::connect(&url)
        .await
        .expect("the demo's database");
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (seeded, live): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN order_no LIKE 'demo-seed-%' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN order_no LIKE 'demo-seed-%' THEN 0 ELSE 1 END), 0) FROM parking_payments",
        )
        .fetch_one(&db.pool)
        .await
        .expect("payments");
        if live > 0 {
            assert!(seeded > 0, "the last 24 h were seeded with payments");
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no car paid through Mallcoo within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The demo's shop till validated parked cars and the manager waived ¥5 on one (seeded once,
/// after the history); the stay's page of that car shows both. Returns the discounts' count.
async fn shop_validations_are_seeded(demo: &Demo, data_dir: &Path) -> i64 {
    let url = parkbridge::storage::sqlite_url(&data_dir.join("parkbridge.db"));
    let db = parkbridge::storage::Db::connect(&url)
        .await
        .expect("the demo's database");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let (waived, total) = loop {
        let (api, waivers, session): (i64, i64, Option<i64>) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN source = 'api' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN source = 'waiver' THEN 1 ELSE 0 END), 0), \
             MAX(CASE WHEN source = 'waiver' THEN session_id END) FROM parking_discounts",
        )
        .fetch_one(&db.pool)
        .await
        .expect("discounts");
        if let (true, Some(session)) = (api > 0 && waivers == 1, session) {
            break (session, api + waivers);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the shop's validations were not seeded within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let stay = get_json(
        &demo.manager().await,
        &demo.url(&format!("/api/v1/sessions/{waived}")),
    )
    .await;
    let labels: Vec<&str> = stay["discounts"]
        .as_array()
        .expect("discounts")
        .iter()
        .filter_map(|d| d["label"].as_str())
        .collect();
    assert_eq!(labels, ["商户减免", "人工减免"], "{stay}");
    total
}

/// The demo car park is on P云 car-park access: the sandbox's coupon reached a parked car through
/// `discount.create` and a driver paid in P云's app (the notice sent twice, recorded once).
async fn pyun_show_case_ran(data_dir: &Path) {
    let url = parkbridge::storage::sqlite_url(&data_dir.join("parkbridge.db"));
    let db = parkbridge::storage::Db::connect(&url)
        .await
        .expect("the demo's database");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (coupons, payments): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM parking_discounts WHERE source = 'pyun' \
                     AND plate = '粤B60001'), \
                    (SELECT COUNT(*) FROM parking_payments WHERE channel = 'pyun')",
        )
        .fetch_one(&db.pool)
        .await
        .expect("show-case rows");
        if coupons == 1 && payments == 1 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the P云 show-case did not run within 60 s: {coupons} coupons, {payments} payments"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let resp = client.get(url).send().await.expect("GET");
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.json().await.expect("JSON")
}

#[tokio::test]
async fn a_demo_grant_reaches_the_embedded_sandbox_across_restarts() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let first = Demo::start(data_dir.path());
    first.fixed_cars_are_seeded_and_delivered().await;
    first.coupon_records_are_seeded().await;
    let serial = first.grant_reaches_the_sandbox("粤B12345").await;
    first.merchants_see_their_shops().await;
    first.entries_reach_mallcoo().await;
    a_live_mallcoo_payment_is_recorded(data_dir.path()).await;
    let discounts = shop_validations_are_seeded(&first, data_dir.path()).await;
    pyun_show_case_ran(data_dir.path()).await;
    first.alerts_reach_the_robots().await;
    first.console_is_quiet();
    drop(first);

    // Same data directory: the set-up is found again, and the new secret re-sealed.
    let second = Demo::start(data_dir.path());
    let again = second.grant_reaches_the_sandbox("粤B12345").await;
    assert_ne!(serial, again, "a new grant, by the new sandbox");
    second.merchants_see_their_shops().await;
    second.entries_reach_mallcoo().await;
    assert_eq!(
        shop_validations_are_seeded(&second, data_dir.path()).await,
        discounts,
        "seeded once, not again on a restart"
    );
}
