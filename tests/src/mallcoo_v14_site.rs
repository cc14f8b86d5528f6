//! A Mallcoo V1.4 caller for the end-to-end tests: two car parks of a [`VipSite`] with the §5
//! worked-example tariff, car park A wired to Mallcoo with an issued inbound key pair, signed
//! calls made the way Mallcoo makes them, gate entries and exits, and database probes.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use protocol::mallcoo::{MallcooKeys, sign_headers};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::coupon_site::{bearer_client, send};
use crate::server::{Backend, TestServer};
use crate::vip_site::{PARK_A, PARK_B, VipSite};

/// Mallcoo's `parkId` of car park A.
pub const MALLCOO_A: &str = "MC-PARK-A";
/// Mallcoo's `parkId` of car park B.
pub const MALLCOO_B: &str = "MC-PARK-B";

/// The §5 worked example, set explicitly so the expectations below do not depend on a default.
pub fn worked_example_tariff() -> Value {
    json!({
        "free_minutes": 15,
        "grace_minutes": 15,
        "cycle_cap": 5000,
        "pricing": {"kind": "simple", "first_minutes": 60, "first_price": 1000,
                    "unit_minutes": 30, "unit_price": 300}
    })
}

/// One car park's issued inbound key pair.
#[derive(Clone)]
pub struct Keys {
    /// `AppID`.
    pub app_id: String,
    /// `PublicKey`.
    pub public_key: String,
    /// `PrivateKey`.
    pub private_key: String,
}

impl Keys {
    /// The signer's view.
    pub fn as_keys(&self) -> MallcooKeys<'_> {
        MallcooKeys {
            app_id: &self.app_id,
            public_key: &self.public_key,
            private_key: &self.private_key,
        }
    }
}

/// The answer to one Mallcoo call: status, exact body text and its JSON.
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// The exact body.
    pub text: String,
    /// The body as JSON (`null` if it is not).
    pub json: Value,
}

/// Car parks A and B of a [`VipSite`] with the worked-example tariff, A wired to Mallcoo V1.4.
pub struct Site {
    /// The server, its people and car parks.
    pub vip: VipSite,
    /// A plain client for signed Mallcoo calls.
    pub http: Client,
    /// A `gate` key for every car park.
    pub gate: Client,
    /// Car park A's inbound key pair.
    pub keys_a: Keys,
    /// Car park B's inbound key pair.
    pub keys_b: Keys,
}

/// `t` as RFC 3339 (gate times).
pub fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `t` as Mallcoo writes times: `yyyy-MM-dd HH:mm:ss`, Asia/Shanghai.
pub fn shanghai(t: DateTime<Utc>) -> String {
    (t + Duration::hours(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// `minutes` ago plus half a minute, from now: a stay that lasts `minutes` when quoted within
/// the next 30 s (stays are rounded up to whole minutes).
pub fn ago(minutes: i64) -> DateTime<Utc> {
    now_s() - Duration::minutes(minutes) + Duration::seconds(30)
}

/// Now, to the whole second (gate times travel with second precision).
pub fn now_s() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap()
}

impl Site {
    /// Two car parks with the worked-example tariff; A gets a Mallcoo parkId and key pair.
    /// B's are added by `configure_b` (so the single-car-park rule can be seen first).
    pub async fn start(backend: Backend) -> Site {
        Site::with_server(TestServer::start_on(backend)).await
    }

    /// [`Site::start`] on `server`, started as the caller needs (settings, logs).
    pub async fn with_server(server: TestServer) -> Site {
        let vip = VipSite::with_server(server).await;
        let keys_a = Self::issue_keys(&vip, "mallcoo in A").await;
        let keys_b = Self::issue_keys(&vip, "mallcoo in B").await;
        let gate = bearer_client(&vip.server.api_key("gate all", "gate", None));
        let site = Site {
            vip,
            http: Client::new(),
            gate,
            keys_a,
            keys_b,
        };
        site.configure(PARK_A, site.vip.park_a, MALLCOO_A, "mallcoo in A")
            .await;
        site
    }

    /// Issues a Mallcoo inbound key pair named `name`.
    pub async fn issue_keys(vip: &VipSite, name: &str) -> Keys {
        let (status, created) = send(
            &vip.admin,
            Method::POST,
            &vip.server.url("/api/v1/credentials"),
            Some(json!({"name": name, "kind": "mallcoo_inbound"})),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let issued = &created["issued"];
        Keys {
            app_id: issued["app_id"].as_str().unwrap().to_owned(),
            public_key: issued["public_key"].as_str().unwrap().to_owned(),
            private_key: issued["private_key"].as_str().unwrap().to_owned(),
        }
    }

    /// The id of credential `name`.
    pub async fn credential_id(&self, name: &str) -> i64 {
        let (status, list) = send(
            &self.vip.admin,
            Method::GET,
            &self.vip.server.url("/api/v1/credentials"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{list}");
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .expect("credential")["id"]
            .as_i64()
            .unwrap()
    }

    /// Gives car park `id` the worked-example tariff, Mallcoo `parkId` and inbound credential.
    pub async fn configure(&self, code: &str, id: i64, mallcoo_park_id: &str, credential: &str) {
        let credential = self.credential_id(credential).await;
        let (status, body) = send(
            &self.vip.admin,
            Method::PUT,
            &self.vip.server.url(&format!("/api/v1/parks/{id}")),
            Some(json!({
                "code": code, "name": code, "tariff": worked_example_tariff(),
                "mallcoo_park_id": mallcoo_park_id,
                "mallcoo_in_credential_id": credential,
            })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Wires car park B to Mallcoo too.
    pub async fn configure_b(&self) {
        self.configure(PARK_B, self.vip.park_b, MALLCOO_B, "mallcoo in B")
            .await;
    }

    /// Posts `body` to `/mallcoo/v1/{method}`, signed with `keys` at `at`.
    pub async fn call_at(
        &self,
        method: &str,
        body: &str,
        keys: &Keys,
        at: DateTime<Utc>,
    ) -> Answer {
        let headers = sign_headers(&keys.as_keys(), at, body);
        let mut req = self
            .http
            .post(self.vip.server.url(&format!("/mallcoo/v1/{method}")))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers.pairs() {
            req = req.header(name, value);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, text, json }
    }

    /// A correctly signed call for car park A; must be answered 200.
    pub async fn call(&self, method: &str, body: &Value) -> Value {
        let answer = self
            .call_at(method, &body.to_string(), &self.keys_a, Utc::now())
            .await;
        assert_eq!(answer.status, 200, "{method}: {}", answer.text);
        answer.json
    }

    /// The fee query of car park A for `plate`.
    pub async fn query(&self, plate: &str, free_minutes: u32, free_amount: i64) -> Value {
        self.call(
            "GetParkingPaymentInfo",
            &json!({"parkId": MALLCOO_A, "plateNo": plate,
                    "freeMinutes": free_minutes, "freeAmount": free_amount}),
        )
        .await
    }

    /// A payment notice for car park A paying `quote` with `amount` + `deduction`.
    pub fn pay_body(order: &str, quote: &Value, amount: i64, deduction: i64) -> Value {
        json!({
            "parkId": MALLCOO_A, "feeId": quote["feeId"], "orderNo": order,
            "thirdTradeNo": format!("WX{order}"), "plateNo": "",
            "payTime": shanghai(Utc::now()), "unPayAmount": quote["unPayAmount"],
            "amount": amount, "deductionAmount": deduction,
            "deductionDetails": [], "payChannel": 0, "payType": if amount == 0 { 0 } else { 3 },
        })
    }

    /// A gate entry; asserts 201 and returns the session.
    pub async fn enter(&self, park: &str, plate: Option<&str>, at: DateTime<Utc>) -> Value {
        let mut body = json!({"park": park, "time": rfc(at)});
        if let Some(p) = plate {
            body["plate"] = json!(p);
        }
        let (status, answer) = send(
            &self.gate,
            Method::POST,
            &self.vip.server.url("/api/v1/gate/entries"),
            Some(body),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
        answer["session"].clone()
    }

    /// A gate exit; asserts 200 and returns the answer.
    pub async fn exit(&self, park: &str, plate: &str, at: DateTime<Utc>) -> Value {
        let (status, answer) = send(
            &self.gate,
            Method::POST,
            &self.vip.server.url("/api/v1/gate/exits"),
            Some(json!({"park": park, "plate": plate, "time": rfc(at)})),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// `sql` (one `$1` text parameter) as a count.
    pub async fn count(&self, sql: &'static str, order: &str) -> i64 {
        let db = parkbridge::storage::Db::connect(&self.vip.server.database_url())
            .await
            .unwrap();
        sqlx::query_scalar::<_, i64>(sql)
            .bind(order)
            .fetch_one(&db.pool)
            .await
            .unwrap()
    }

    /// Stores a settled payment on `session` directly, as PayParkingFee records one.
    pub async fn plant_payment(&self, session: i64, settled_at: DateTime<Utc>, fen: i64) {
        let db = parkbridge::storage::Db::connect(&self.vip.server.database_url())
            .await
            .unwrap();
        let at = settled_at.timestamp_millis();
        sqlx::query(
            "INSERT INTO parking_payments (park_id, session_id, order_no, fee_id, pay_time, \
             settled_at, amount_fen, deduction_fen, pay_channel, pay_type, request_digest, \
             answer_json, created_at) \
             VALUES ($1, $2, $3, 'planted', $4, $4, $5, 0, 1, 1, 'planted', '{}', $4)",
        )
        .bind(self.vip.park_a)
        .bind(session)
        .bind(format!("PLANTED-{session}"))
        .bind(at)
        .bind(fen)
        .execute(&db.pool)
        .await
        .unwrap();
    }

    /// How many payments order `order` recorded.
    pub async fn payments_of_order(&self, order: &str) -> i64 {
        self.count(
            "SELECT COUNT(*) FROM parking_payments WHERE order_no = $1",
            order,
        )
        .await
    }
}

/// Asserts a `resCode` 1 answer whose `resMsg` contains `needle`.
pub fn assert_refused(answer: &Value, needle: &str) {
    assert_eq!(answer["resCode"], 1, "{answer}");
    let msg = answer["resMsg"].as_str().unwrap_or_default();
    assert!(msg.contains(needle), "resMsg {msg:?} lacks {needle:?}");
}
