//! Car parks wired to Mallcoo: the real binary pointed at an in-process Mallcoo sandbox, an
//! outbound Mallcoo credential, an issued inbound key pair, car parks with and without Mallcoo
//! settings, and a `gate` API key — everything an entry-notice or V1.4 test needs, made through
//! the public APIs.

use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use sandbox::mallcoo::client::{ClientKeys, MallcooClient};
use sandbox::mallcoo::{MallcooSandbox, RunningSandbox};
use serde_json::{Value, json};

use crate::coupon_site::{bearer_client, send};
use crate::server::{Backend, TestServer};

/// A car park with Mallcoo settings the sandbox knows.
pub const PARK: &str = "mc-a";
/// Its Mallcoo `ParkCode` (entry notices), known to the sandbox.
pub const PARK_CODE: &str = "MC-P001";
/// Its Mallcoo `parkId` (V1.4 calls).
pub const MALLCOO_PARK_ID: &str = "mc-park-1";
/// A car park whose `ParkCode` the sandbox does not know (Code 1101).
pub const UNKNOWN_PARK: &str = "mc-b";
/// That car park's `ParkCode`.
pub const UNKNOWN_PARK_CODE: &str = "MC-P404";
/// A car park without any Mallcoo setting.
pub const PLAIN_PARK: &str = "mc-plain";
/// The outbound credential's `AppID`.
pub const OUT_APP_ID: &str = "mc-out-app";
/// Its `PublicKey`.
pub const OUT_PUBLIC_KEY: &str = "PK_mc_out_0001";
/// Its `PrivateKey` (test only).
pub const OUT_PRIVATE_KEY: &str = "SK_mc_out_secret_7f3a";
const ADMIN_PW: &str = "mallcoo-admin-pw-1";

/// The gateway, the Mallcoo sandbox and the clients of one Mallcoo test.
pub struct MallcooSite {
    /// The Mallcoo stand-in (faults, what it received).
    pub mallcoo: MallcooSandbox,
    /// Keeps the sandbox serving.
    pub running: RunningSandbox,
    /// The real `parkbridge serve`.
    pub server: TestServer,
    /// Signed in as an admin.
    pub admin: Client,
    /// A client sending a `gate` API key for every car park.
    pub gate: Client,
    /// Id of `PARK`.
    pub park_id: i64,
    /// The key pair issued to Mallcoo for `PARK`'s V1.4 calls.
    pub inbound: ClientKeys,
}

impl MallcooSite {
    /// Starts a sandbox and a gateway pointed at it (`extra`: more serve settings) and
    /// configures the three car parks.
    pub async fn start(backend: Backend, extra: &[&str]) -> MallcooSite {
        let mallcoo = MallcooSandbox::new();
        mallcoo.add_app(OUT_APP_ID, OUT_PUBLIC_KEY, OUT_PRIVATE_KEY);
        mallcoo.add_park_code(PARK_CODE);
        let running = mallcoo
            .start("127.0.0.1:0".parse().expect("address"))
            .await
            .expect("sandbox starts");
        let base = format!("PARKBRIDGE_MALLCOO_BASE_URL={}", running.base_url);
        let mut args = vec![base.as_str()];
        args.extend_from_slice(extra);
        let server = TestServer::start_with(backend, &args);
        server.add_user("root", "admin", ADMIN_PW);
        let admin = server.signed_in("root", ADMIN_PW).await;
        let (status, out) = send(
            &admin,
            Method::POST,
            &server.url("/api/v1/credentials"),
            Some(json!({
                "name": "mallcoo-out", "kind": "mallcoo_outbound", "app_id": OUT_APP_ID,
                "public_key": OUT_PUBLIC_KEY, "private_key": OUT_PRIVATE_KEY
            })),
        )
        .await;
        assert_eq!(status, 201, "{out}");
        let (status, inbound) = send(
            &admin,
            Method::POST,
            &server.url("/api/v1/credentials"),
            Some(json!({"name": "mallcoo-in", "kind": "mallcoo_inbound"})),
        )
        .await;
        assert_eq!(status, 201, "{inbound}");
        let issued = &inbound["issued"];
        let text = |v: &Value| v.as_str().expect("issued key").to_owned();
        let inbound_keys = ClientKeys {
            app_id: text(&issued["app_id"]),
            public_key: text(&issued["public_key"]),
            private_key: text(&issued["private_key"]),
        };
        let out_id = out["credential"]["id"].as_i64().expect("id");
        let in_id = inbound["credential"]["id"].as_i64().expect("id");
        let mut ids = Vec::new();
        for body in [
            json!({"code": PARK, "name": "猫酷广场", "mallcoo_park_id": MALLCOO_PARK_ID,
                   "mallcoo_park_code": PARK_CODE, "mallcoo_out_credential_id": out_id,
                   "mallcoo_in_credential_id": in_id}),
            json!({"code": UNKNOWN_PARK, "name": "未登记广场", "mallcoo_park_code": UNKNOWN_PARK_CODE,
                   "mallcoo_out_credential_id": out_id}),
            json!({"code": PLAIN_PARK, "name": "普通广场"}),
        ] {
            let (status, park) = send(
                &admin,
                Method::POST,
                &server.url("/api/v1/parks"),
                Some(body),
            )
            .await;
            assert_eq!(status, 201, "{park}");
            ids.push(park["id"].as_i64().expect("park id"));
        }
        let park_id = ids[0];
        let gate = bearer_client(&server.api_key("gates", "gate", None));
        MallcooSite {
            mallcoo,
            running,
            server,
            admin,
            gate,
            park_id,
            inbound: inbound_keys,
        }
    }

    /// `POST /api/v1/gate/entries`; asserts 201 and returns the answer.
    pub async fn enter(&self, body: Value) -> Value {
        let (status, answer) = send(
            &self.gate,
            Method::POST,
            &self.server.url("/api/v1/gate/entries"),
            Some(body),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
        answer
    }

    /// `POST /api/v1/gate/exits`; asserts 200 and returns the answer.
    pub async fn exit(&self, body: Value) -> Value {
        let (status, answer) = send(
            &self.gate,
            Method::POST,
            &self.server.url("/api/v1/gate/exits"),
            Some(body),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// A V1.4 client signing with `PARK`'s inbound keys and naming its `parkId`.
    pub fn mallcoo_client(&self) -> MallcooClient {
        MallcooClient::new(
            &self.server.base_url,
            self.inbound.clone(),
            Some(MALLCOO_PARK_ID.to_owned()),
        )
    }

    /// The server's database.
    pub async fn db(&self) -> parkbridge::storage::Db {
        parkbridge::storage::Db::connect(&self.server.database_url())
            .await
            .expect("database")
    }

    /// The entry-notice rows: `(dedupe_key, state, attempts, code, last_error)` by id.
    pub async fn notice_rows(&self) -> Vec<NoticeRow> {
        let db = self.db().await;
        sqlx::query_as::<_, NoticeRow>(
            "SELECT outbox.dedupe_key, outbox.state, outbox.attempts, outbox.pyun_code, outbox.last_error, car_parks.code AS park \
             FROM outbox JOIN car_parks ON car_parks.id = outbox.park_id \
             WHERE outbox.kind = 'enter_notice' ORDER BY outbox.id",
        )
        .fetch_all(&db.pool)
        .await
        .expect("outbox rows")
    }
}

/// An entry-notice row as a test reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NoticeRow {
    /// The session id.
    pub dedupe_key: String,
    /// The outbox state.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// Mallcoo's last `Code`.
    pub pyun_code: Option<String>,
    /// Our note on the last attempt.
    pub last_error: Option<String>,
    /// The car park's code.
    pub park: String,
}

/// Waits until `done` holds, polling every 50 ms; panics with `what` after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
