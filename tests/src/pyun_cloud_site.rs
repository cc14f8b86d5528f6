//! P云's cloud for a car park, for the end-to-end tests: the P云 sandbox with car park A of a
//! [`PyunSite`] registered (its gateway URL, downlink key and upload secret), and the server
//! uploading to it — what P云 received and the admin's upload records, waited for.

use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use sandbox::pyun::{CarParkRegistration, PyunSandbox, RunningSandbox, Upload, UploadPath};
use serde_json::{Value, json};

use crate::coupon_site::{
    API_TYPE, APP_ID, APP_SECRET, COUPON_CODE, FAST_RETRIES, MERCHANT, PRODUCT, STORE,
    bearer_client, send,
};
use crate::pyun_gateway_site::{DOWNLINK_KEY, PARK_UUID, PyunSite, UPLOAD_SECRET};
use crate::server::{Backend, TestServer};
use crate::vip_site::PARK_A;

/// The P云 sandbox knowing car park A, and the site whose server uploads to it.
pub struct PyunCloud {
    /// P云 (both sides).
    pub pyun: PyunSandbox,
    /// Keeps the sandbox serving.
    pub running: RunningSandbox,
    /// The site, car park A on access.
    pub p: PyunSite,
    /// The server's settings, for a restart.
    args: Vec<String>,
}

impl PyunCloud {
    /// Starts the sandbox, a server uploading to it (its logs kept when `capture_logs`) and
    /// registers car park A.
    pub async fn start(backend: Backend, capture_logs: bool) -> PyunCloud {
        PyunCloud::start_with(backend, capture_logs, &[]).await
    }

    /// [`PyunCloud::start`] with more serve settings (`NAME=value`).
    pub async fn start_with(backend: Backend, capture_logs: bool, extra: &[&str]) -> PyunCloud {
        let pyun = PyunSandbox::new();
        let running = pyun
            .start("127.0.0.1:0".parse().unwrap())
            .await
            .expect("sandbox starts");
        let mut args = vec![format!("PARKBRIDGE_PYUN_BASE_URL={}", running.base_url)];
        args.extend(FAST_RETRIES.iter().chain(extra).map(|a| a.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = if capture_logs {
            TestServer::start_capturing_logs(backend, &refs)
        } else {
            TestServer::start_with(backend, &refs)
        };
        let cloud = PyunCloud {
            pyun,
            running,
            p: PyunSite::with_server(server).await,
            args,
        };
        cloud.register(&cloud.gateway_url(), false);
        cloud
    }

    /// (Re)registers car park A at P云 with `gateway_url`, and with the third-party codes P云
    /// finds it by for coupon events and grants when `coupons`.
    fn register(&self, gateway_url: &str, coupons: bool) {
        self.pyun
            .register_carpark(CarParkRegistration {
                park_uuid: PARK_UUID.into(),
                gateway_url: gateway_url.into(),
                downlink_key: DOWNLINK_KEY.into(),
                upload_secret: UPLOAD_SECRET.into(),
                api_store_code: coupons.then(|| STORE.into()),
                merchant: coupons.then(|| MERCHANT.into()),
            })
            .expect("registered");
    }

    /// The server's gateway URL.
    pub fn gateway_url(&self) -> String {
        self.p.site.vip.server.url("/pyun/v1/gateway")
    }

    /// Registers car park A at P云 under `gateway_url` (a wrong one: P云 cannot reach us),
    /// with its coupon codes (see [`PyunCloud::send_coupons_too`]).
    pub fn point_pyun_at(&self, gateway_url: &str) {
        self.register(gateway_url, true);
    }

    /// Kills the server with SIGKILL and starts it again on the same database and settings;
    /// P云 is told its new gateway URL.
    pub fn kill_and_restart(&mut self) {
        let refs: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.p
            .site
            .vip
            .server
            .restart(&refs)
            .expect("the killed server starts again on its database");
        self.register(&self.gateway_url(), false);
    }

    /// Car park A also sends coupons to P云 as a third party ([`crate::coupon_site`]'s app, api_type,
    /// coupon code and product, P云 finding the car park by its store code and merchant):
    /// returns a client with a `coupons` API key for it.
    pub async fn send_coupons_too(&self) -> Client {
        let pyun = &self.pyun;
        pyun.add_app(APP_ID, APP_SECRET);
        pyun.add_api_type(API_TYPE);
        pyun.add_coupon_code(COUPON_CODE);
        self.register(&self.gateway_url(), true);
        let vip = &self.p.site.vip;
        let url = |path: &str| vip.server.url(path);
        let (status, created) = send(
            &vip.admin,
            Method::POST,
            &url("/api/v1/credentials"),
            Some(
                json!({"name": "P云第三方", "kind": "pyun", "app_id": APP_ID,
                        "app_secret": APP_SECRET}),
            ),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        self.p
            .put_park_a(json!({
                "pyun_credential_id": created["credential"]["id"],
                "pyun_api_store_code": STORE, "pyun_merchant": MERCHANT,
            }))
            .await;
        let park = vip.park_a;
        let (status, body) = send(
            &vip.admin,
            Method::PUT,
            &url(&format!("/api/v1/parks/{park}/coupon-config/event")),
            Some(json!({"api_type": API_TYPE, "metadata_keys": []})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, product) = send(
            &vip.admin,
            Method::POST,
            &url(&format!("/api/v1/parks/{park}/coupon-products")),
            Some(
                json!({"name": PRODUCT, "coupon_code": COUPON_CODE, "store_code": "shop-7",
                        "quantity": 1, "reason": "消费满200元"}),
            ),
        )
        .await;
        assert_eq!(status, 201, "{product}");
        bearer_client(&vip.server.api_key("charger", "coupons", Some(PARK_A)))
    }

    /// The uploads of stay `serial` P云 received, in arrival order.
    pub fn of(&self, serial: &str) -> Vec<Upload> {
        self.pyun
            .uploads(Some(PARK_UUID))
            .into_iter()
            .filter(|u| u.parking_serial.as_deref() == Some(serial))
            .collect()
    }

    /// Waits until `done` holds for stay `serial`'s uploads; panics with them after 30 s.
    pub async fn wait(&self, serial: &str, done: impl Fn(&[Upload]) -> bool) -> Vec<Upload> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let uploads = self.of(serial);
            if done(&uploads) {
                return uploads;
            }
            assert!(
                Instant::now() < deadline,
                "uploads of {serial} never settled: {uploads:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The car park's upload records as the admin's listing shows them, newest first.
    pub async fn records(&self) -> Vec<Value> {
        let vip = &self.p.site.vip;
        let (status, page) = send(
            &vip.admin,
            Method::GET,
            &vip.server.url(&format!(
                "/api/v1/coupon-records?kind=pyun_uploads&park_id={}&limit=200",
                vip.park_a
            )),
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        page["records"].as_array().unwrap().clone()
    }

    /// Waits until the upload record `key` is final; returns it.
    pub async fn final_record(&self, key: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let records = self.records().await;
            if let Some(r) = records.iter().find(|r| r["key"] == key)
                && !matches!(r["state"].as_str(), Some("pending" | "sending"))
            {
                return r.clone();
            }
            assert!(
                Instant::now() < deadline,
                "record {key} never final: {records:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A text part of an upload.
pub fn field<'a>(u: &'a Upload, name: &str) -> Option<&'a str> {
    u.fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Accepted by P云: answered `200` without a hint, signature verified.
pub fn accepted(u: &Upload) -> bool {
    u.answer.code.as_deref() == Some("200") && u.hint.is_none() && u.sign_ok == Some(true)
}

/// The first accepted upload of `path`.
pub fn accepted_of(uploads: &[Upload], path: UploadPath) -> Option<&Upload> {
    uploads.iter().find(|u| u.path == path && accepted(u))
}
