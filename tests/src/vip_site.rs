//! Two car parks and the people of a VIP test, made through the public APIs: an admin, a
//! property manager of both car parks and a mall staff member.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::coupon_site::send;
use crate::server::{Backend, TestServer};

/// Code of the first car park.
pub const PARK_A: &str = "vip-a";
/// Code of the second car park.
pub const PARK_B: &str = "vip-b";
/// Every user's password (test only).
pub const PASSWORD: &str = "vip-password-1";

/// The real server with two car parks and three signed-in people.
pub struct VipSite {
    /// The real `parkbridge serve`.
    pub server: TestServer,
    /// Signed in as an admin.
    pub admin: Client,
    /// A property manager of both car parks.
    pub manager: Client,
    /// Mall staff of both car parks.
    pub staff: Client,
    /// Id of `PARK_A`.
    pub park_a: i64,
    /// Id of `PARK_B`.
    pub park_b: i64,
}

impl VipSite {
    /// Starts a server on `backend` and sets up the car parks and people.
    pub async fn start(backend: Backend) -> VipSite {
        VipSite::with_server(TestServer::start_on(backend)).await
    }

    /// Sets up the car parks and people on `server`, started as the caller needs (settings, logs).
    pub async fn with_server(server: TestServer) -> VipSite {
        server.add_user("root", "admin", PASSWORD);
        server.add_user("manager", "property_manager", PASSWORD);
        server.add_user("staff", "mall_staff", PASSWORD);
        let admin = server.signed_in("root", PASSWORD).await;
        let mut parks = Vec::new();
        for (code, name) in [(PARK_A, "甲广场"), (PARK_B, "乙广场")] {
            let (status, park) = send(
                &admin,
                Method::POST,
                &server.url("/api/v1/parks"),
                Some(json!({"code": code, "name": name})),
            )
            .await;
            assert_eq!(status, 201, "{park}");
            parks.push(park["id"].as_i64().expect("park id"));
        }
        let (status, users) = send(&admin, Method::GET, &server.url("/api/v1/users"), None).await;
        assert_eq!(status, 200, "{users}");
        for name in ["manager", "staff"] {
            let id = users
                .as_array()
                .expect("users")
                .iter()
                .find(|u| u["username"] == name)
                .expect("user")["id"]
                .as_i64()
                .expect("id");
            let (status, body) = send(
                &admin,
                Method::PUT,
                &server.url(&format!("/api/v1/users/{id}")),
                Some(json!({"parks": parks})),
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
        VipSite {
            manager: server.signed_in("manager", PASSWORD).await,
            staff: server.signed_in("staff", PASSWORD).await,
            admin,
            park_a: parks[0],
            park_b: parks[1],
            server,
        }
    }

    /// Sends `body` (JSON) as the property manager.
    pub async fn manager_send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        send(&self.manager, method, &self.server.url(path), body).await
    }

    /// Creates a record in car park `park` as the manager; returns the status and answer.
    pub async fn add_record(&self, park: i64, body: Value) -> (StatusCode, Value) {
        self.manager_send(
            Method::POST,
            &format!("/api/v1/parks/{park}/vip/records"),
            Some(body),
        )
        .await
    }

    /// The records list of `park` with `query` (e.g. `plate=B1&validity=valid`).
    pub async fn list(&self, park: i64, query: &str) -> Value {
        let (status, body) = self
            .manager_send(
                Method::GET,
                &format!("/api/v1/parks/{park}/vip/records?{query}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Uploads `bytes` to the import of `park` with `query`; returns the status and answer.
    pub async fn import(&self, park: i64, query: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let resp = self
            .manager
            .post(
                self.server
                    .url(&format!("/api/v1/parks/{park}/vip/import?{query}")),
            )
            .header("content-type", "text/csv")
            .body(bytes)
            .send()
            .await
            .expect("import request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Downloads an export of `park` (`records.csv` or `recharges.csv`) with `query`.
    pub async fn export(
        &self,
        park: i64,
        file: &str,
        query: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let resp = self
            .manager
            .get(
                self.server
                    .url(&format!("/api/v1/parks/{park}/vip/export/{file}?{query}")),
            )
            .send()
            .await
            .expect("export request");
        let status = resp.status();
        let headers = resp.headers().clone();
        (status, headers, resp.bytes().await.expect("body").to_vec())
    }
}
