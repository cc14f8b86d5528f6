//! P云 calling a car park's gateway, for the end-to-end tests: car park A of a Mallcoo
//! [`Site`](crate::mallcoo_v14_site::Site) switched onto P云 car-park access with a
//! `pyun_carpark` credential, and calls signed with its downlink key exactly as P云 signs them
//! (every value a string, S-DOWN `&key=`), their replies checked against the same key.

use protocol::pyun_carpark::down_sign;
use protocol::pyun_carpark::members::Members;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::coupon_site::send;
use crate::mallcoo_v14_site::{MALLCOO_A, Site, worked_example_tariff};
use crate::server::{Backend, TestServer};
use crate::vip_site::PARK_A;

/// P云's `park_uuid` of car park A.
pub const PARK_UUID: &str = "3bad72c0-6204-4b65-90aa-4323ddd1fb5a";
/// The downlink key given to car park A's credential.
pub const DOWNLINK_KEY: &str = "pb-demo-key-2025";
/// The upload secret given to car park A's credential.
pub const UPLOAD_SECRET: &str = "pb-upload-secret-2025";

/// A Mallcoo site whose car park A is on P云 car-park access.
pub struct PyunSite {
    /// Mallcoo's caller, the gate and the people.
    pub site: Site,
    /// The `pyun_carpark` credential's id.
    pub carpark_credential: i64,
    /// Car park A's Mallcoo inbound credential's id.
    pub mallcoo_credential: i64,
}

/// A gateway reply: its members, and whether its `sign` verified with the key (`None`: unsigned).
#[derive(Debug)]
pub struct GatewayReply {
    /// The reply as JSON.
    pub json: Value,
    /// `Some(true)` when signed correctly, `Some(false)` when signed wrongly, `None` unsigned.
    pub signed: Option<bool>,
}

impl GatewayReply {
    /// `result_code`.
    pub fn code(&self) -> &str {
        self.json["result_code"].as_str().unwrap_or_default()
    }
}

/// The body P云 sends: `service` with `fields` for `park_uuid`, every value a string, signed
/// with `key` (S-DOWN).
pub fn signed_body(park_uuid: &str, key: &str, service: &str, fields: &Value) -> String {
    let mut body = Map::new();
    for (k, v) in [
        ("service", service),
        ("version", "1.0"),
        ("charset", "UTF-8"),
        ("park_uuid", park_uuid),
    ] {
        body.insert(k.to_owned(), json!(v));
    }
    for (k, v) in fields.as_object().expect("fields").iter() {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        body.insert(k.clone(), json!(text));
    }
    let pairs: Vec<(String, String)> = body
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let sign = down_sign::sign(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), key);
    body.insert("sign".to_owned(), json!(sign));
    Value::Object(body).to_string()
}

impl PyunSite {
    /// Starts the site and switches car park A on.
    pub async fn start(backend: Backend) -> PyunSite {
        PyunSite::with_server(TestServer::start_on(backend)).await
    }

    /// [`PyunSite::start`] on `server`, started as the caller needs (a P云 base URL, logs).
    pub async fn with_server(server: TestServer) -> PyunSite {
        let site = Site::with_server(server).await;
        let (status, created) = send(
            &site.vip.admin,
            Method::POST,
            &site.vip.server.url("/api/v1/credentials"),
            Some(json!({"name": "P云车场 A", "kind": "pyun_carpark",
                        "upload_secret": UPLOAD_SECRET, "downlink_key": DOWNLINK_KEY})),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        assert!(!created.to_string().contains(DOWNLINK_KEY), "{created}");
        let credential = created["credential"]["id"].as_i64().unwrap();
        let mallcoo = site.credential_id("mallcoo in A").await;
        let p = PyunSite {
            site,
            carpark_credential: credential,
            mallcoo_credential: mallcoo,
        };
        p.put_park_a(json!({})).await;
        p
    }

    /// Replaces car park A with its settings here (Mallcoo, P云 access, the worked-example
    /// tariff, 60 spaces) plus the members of `extra`; asserts 200.
    pub async fn put_park_a(&self, extra: Value) {
        let mut body = json!({
            "code": PARK_A, "name": PARK_A, "tariff": worked_example_tariff(),
            "mallcoo_park_id": MALLCOO_A, "mallcoo_in_credential_id": self.mallcoo_credential,
            "pyun_park_uuid": PARK_UUID, "pyun_carpark_credential_id": self.carpark_credential,
            "total_spaces": 60,
        });
        for (k, v) in extra.as_object().expect("an object") {
            body[k] = v.clone();
        }
        let vip = &self.site.vip;
        let (status, park) = send(
            &vip.admin,
            Method::PUT,
            &vip.server.url(&format!("/api/v1/parks/{}", vip.park_a)),
            Some(body),
        )
        .await;
        assert_eq!(status, 200, "{park}");
    }

    /// Posts `body` as is to the gateway, with `content_type`.
    pub async fn post_raw(&self, body: &str, content_type: &str) -> GatewayReply {
        let resp = self
            .site
            .http
            .post(self.site.vip.server.url("/pyun/v1/gateway"))
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("gateway request");
        assert_eq!(resp.status(), 200, "the gateway always answers 200");
        let text = resp.text().await.expect("body");
        let json: Value = serde_json::from_str(&text).expect("a JSON reply");
        let signed = json.get("sign").map(|_| {
            let members = Members::parse(text.as_bytes()).expect("flat reply");
            down_sign::verify(&members, DOWNLINK_KEY).is_ok()
        });
        GatewayReply { json, signed }
    }

    /// A call of `service` with `fields` (strings, as P云 sends them) for car park A, signed.
    pub async fn call(&self, service: &str, fields: Value) -> GatewayReply {
        self.call_as(PARK_UUID, DOWNLINK_KEY, service, fields).await
    }

    /// A call naming `park_uuid`, signed with `key`.
    pub async fn call_as(
        &self,
        park_uuid: &str,
        key: &str,
        service: &str,
        fields: Value,
    ) -> GatewayReply {
        self.post_raw(
            &signed_body(park_uuid, key, service, &fields),
            "application/json",
        )
        .await
    }

    /// `payment.billing` for `plate`.
    pub async fn bill(&self, plate: &str) -> GatewayReply {
        self.call("service.parking.payment.billing", json!({"plate": plate}))
            .await
    }

    /// `payment.result` paying `order` (a billing reply) with `value`, serial `pay_serial`.
    pub async fn pay(
        &self,
        order: &Value,
        pay_serial: &str,
        value: i64,
        autopay: i64,
    ) -> GatewayReply {
        let pay_time = protocol::time::format_pyun_local(chrono::Utc::now());
        self.call(
            "service.parking.payment.result",
            json!({"parking_serial": order["parking_serial"], "parking_order": order["parking_order"],
                   "pay_serial": pay_serial, "pay_time": pay_time, "value": value,
                   "pay_value": value, "pay_origin": 8, "pay_origin_desc": "微信",
                   "autopay_type": autopay}),
        )
        .await
    }

    /// `discount.create` of P云 `type`/`value` for `plate`, serial `grant_serial`.
    pub async fn grant(
        &self,
        plate: &str,
        grant_serial: &str,
        kind: i64,
        value: i64,
    ) -> GatewayReply {
        self.call(
            "service.parking.discount.create",
            json!({"plate": plate, "grant_serial": grant_serial, "type": kind, "value": value,
                   "store_name": "星巴克", "store_code": "S001", "coupon_name": "停车券",
                   "coupon_code": "C001", "reason": "购物满300"}),
        )
        .await
    }

    /// `discount.destroy` of `grant_serial`.
    pub async fn destroy(&self, grant_serial: &str) -> GatewayReply {
        self.call(
            "service.parking.discount.destroy",
            json!({"grant_serial": grant_serial}),
        )
        .await
    }
}
