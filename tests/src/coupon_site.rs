//! A car park wired to the P云 sandbox: the real binary, a P云 credential, a car park with its
//! P云 codes, event settings, one coupon product, a `coupons` API key and a property manager —
//! everything a coupon test needs, made through the public APIs.

use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Client, StatusCode};
use sandbox::pyun::{PyunSandbox, RunningSandbox};
use serde_json::{Value, json};

use crate::server::{Backend, TestServer};

/// The P云 app the car park's credential names.
pub const APP_ID: &str = "op-test-app";
/// Its secret (test only).
pub const APP_SECRET: &str = "test-secret-5f1c9a7e2b";
/// The event api_type configured at both ends.
pub const API_TYPE: &str = "ev-charging";
/// The coupon code of the configured product.
pub const COUPON_CODE: &str = "CC-2H";
/// The product's name.
pub const PRODUCT: &str = "停车券2小时";
/// The car park's code.
pub const PARK: &str = "mall-a";
/// P云 `api_store_code` of the car park.
pub const STORE: &str = "store-001";
/// P云 `merchant` of the car park.
pub const MERCHANT: &str = "62626601";

/// The admin's password.
pub const ADMIN_PW: &str = "admin-password-1";
/// The property manager's password.
pub const MANAGER_PW: &str = "manager-password-1";

/// Server settings that make retries quick enough for tests. The call timeout stays generous:
/// the suite runs many servers at once on two cores, and a timeout is an outcome of its own.
pub const FAST_RETRIES: [&str; 3] = [
    "PARKBRIDGE_RETRY_BASE_MS=50",
    "PARKBRIDGE_PYUN_TIMEOUT_MS=3000",
    "PARKBRIDGE_RETRY_MAX_ATTEMPTS=4",
];

/// The gateway, the sandbox and the clients of one coupon test.
pub struct CouponSite {
    /// The P云 stand-in (configure faults, read what it received).
    pub pyun: PyunSandbox,
    /// Keeps the sandbox serving.
    pub running: RunningSandbox,
    /// The real `parkbridge serve`.
    pub server: TestServer,
    /// Signed in as an admin.
    pub admin: Client,
    /// Signed in as the car park's property manager.
    pub manager: Client,
    /// A client sending the `coupons` API key.
    pub machine: Client,
    /// The car park's id.
    pub park_id: i64,
    /// The coupon product's id.
    pub product_id: i64,
    /// The P云 credential's id.
    pub credential_id: i64,
}

/// A sandbox knowing our app, api_type and coupon code, with `plates` parked.
pub fn sandbox(plates: &[&str]) -> PyunSandbox {
    let pyun = PyunSandbox::new();
    pyun.add_app(APP_ID, APP_SECRET);
    pyun.add_api_type(API_TYPE);
    pyun.add_coupon_code(COUPON_CODE);
    for p in plates {
        pyun.park(p);
    }
    pyun
}

impl CouponSite {
    /// Starts a sandbox and a gateway pointed at it (`extra`: more serve settings) and configures
    /// the car park.
    pub async fn start(backend: Backend, pyun: PyunSandbox, extra: &[&str]) -> CouponSite {
        let running = pyun
            .start("127.0.0.1:0".parse().expect("address"))
            .await
            .expect("sandbox starts");
        let base = format!("PARKBRIDGE_PYUN_BASE_URL={}", running.base_url);
        let mut args = vec![base.as_str()];
        args.extend_from_slice(extra);
        let server = TestServer::start_with(backend, &args);
        CouponSite::configure_with(pyun, running, server).await
    }

    /// Configures the car park on `server`, whose P云 base URL the caller already pointed at
    /// `running` (or elsewhere, for tests of an unreachable P云).
    pub async fn configure_with(
        pyun: PyunSandbox,
        running: RunningSandbox,
        server: TestServer,
    ) -> CouponSite {
        server.add_user("root", "admin", ADMIN_PW);
        let admin = server.signed_in("root", ADMIN_PW).await;
        let (status, created) = send(
            &admin,
            reqwest::Method::POST,
            &server.url("/api/v1/credentials"),
            Some(json!({
                "name": "pyun", "kind": "pyun", "app_id": APP_ID, "app_secret": APP_SECRET
            })),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let credential_id = created["credential"]["id"].as_i64().expect("credential id");
        let (status, park) = send(&admin, reqwest::Method::POST, &server.url("/api/v1/parks"), Some(json!({
            "code": PARK, "name": "测试广场", "pyun_api_store_code": STORE, "pyun_merchant": MERCHANT,
            "pyun_park_uuid": "park-uuid-1", "pyun_credential_id": credential_id
        }))).await;
        assert_eq!(status, 201, "{park}");
        let park_id = park["id"].as_i64().expect("park id");
        let (status, body) = send(
            &admin,
            reqwest::Method::PUT,
            &server.url(&format!("/api/v1/parks/{park_id}/coupon-config/event")),
            Some(json!({
                "api_type": API_TYPE, "metadata_keys": [{"key": "charge_kwh", "name": "充电度数"}]
            })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, product) = send(&admin, reqwest::Method::POST, &server.url(&format!("/api/v1/parks/{park_id}/coupon-products")), Some(json!({
            "name": PRODUCT, "coupon_code": COUPON_CODE, "store_code": "shop-7", "quantity": 1, "reason": "消费满200元"
        }))).await;
        assert_eq!(status, 201, "{product}");
        let product_id = product["id"].as_i64().expect("product id");
        server.add_user("manager", "property_manager", MANAGER_PW);
        let (status, body) = send(
            &admin,
            reqwest::Method::GET,
            &server.url("/api/v1/users"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        let manager_id = body
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["username"] == "manager")
            .expect("manager")["id"]
            .as_i64()
            .expect("id");
        let (status, body) = send(
            &admin,
            reqwest::Method::PUT,
            &server.url(&format!("/api/v1/users/{manager_id}")),
            Some(json!({"parks": [park_id]})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let manager = server.signed_in("manager", MANAGER_PW).await;
        let key = server.api_key("charger", "coupons", Some(PARK));
        CouponSite {
            machine: bearer_client(&key),
            pyun,
            running,
            server,
            admin,
            manager,
            park_id,
            product_id,
            credential_id,
        }
    }

    /// `POST /api/v1/coupons/events` for `plate` with `event_id`.
    pub async fn event(&self, event_id: &str, plate: &str) -> (StatusCode, Value) {
        self.post_machine("/api/v1/coupons/events", json!({
            "park": PARK, "event_id": event_id, "plate": plate,
            "subject": format!("【{plate}】充电 12.5 KWH 时长 29 分钟"), "metadata": {"charge_kwh": 12}
        })).await
    }

    /// `POST /api/v1/coupons/grants` of the product for `plate` with `grant_id`.
    pub async fn grant(&self, grant_id: &str, plate: &str) -> (StatusCode, Value) {
        self.post_machine(
            "/api/v1/coupons/grants",
            json!({
                "park": PARK, "coupon": PRODUCT, "plate": plate, "grant_id": grant_id
            }),
        )
        .await
    }

    /// POSTs `body` to `path` with the API key.
    pub async fn post_machine(&self, path: &str, body: Value) -> (StatusCode, Value) {
        send(
            &self.machine,
            reqwest::Method::POST,
            &self.server.url(path),
            Some(body),
        )
        .await
    }

    /// The record `id` through the machine API.
    pub async fn record(&self, id: i64) -> Value {
        let (status, body) = send(
            &self.machine,
            reqwest::Method::GET,
            &self.server.url(&format!("/api/v1/coupons/requests/{id}")),
            None,
        )
        .await;
        assert!(status == 200 || status == 202, "{status} {body}");
        body
    }

    /// Polls record `id` until its state is final; panics after `within`.
    pub async fn settled(&self, id: i64, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let record = self.record(id).await;
            if !matches!(record["state"].as_str(), Some("pending" | "sending")) {
                return record;
            }
            assert!(
                Instant::now() < deadline,
                "record {id} not settled within {within:?}: {record}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A client sending `Authorization: Bearer <key>`.
pub fn bearer_client(key: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {key}")).expect("header"),
    );
    Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// Sends a request and returns the status and JSON answer (`Null` when empty or not JSON).
pub async fn send(
    client: &Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client.request(method, url);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
