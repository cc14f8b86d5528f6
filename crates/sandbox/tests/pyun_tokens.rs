//! QR-code coupons in the P云 sandbox over real HTTP on loopback: `mcoupon/token` minted with
//! P云's signature rules and faults, then scanned by customers through the control API.
//! (A scan reaching a registered car park's gateway is in `pyun_carpark.rs`.)

use std::time::Duration;

use protocol::pyun::{COUPON_TOKEN_PATH, CouponToken, TokenPayload, decode_response};
use sandbox::pyun::{Endpoint, PyunSandbox, RunningSandbox, ScanError};
use serde_json::{Value, json};

/// The app and secret of P云's own `mcoupon/token` vector (pyun-carpark.md §5).
const APP: &str = "op2728846bdb3780e";
const SECRET: &str = "ags3j97jdnbcizb5z8ubc1xijc011zcj";
const STORE: &str = "92908284598";
const COUPON_CODE: &str = "7cb7cc3e4e27b8a";
/// Longest any single call may take before a test calls it a hang.
const HANG: Duration = Duration::from_secs(10);

struct Site {
    sb: PyunSandbox,
    running: RunningSandbox,
    client: reqwest::Client,
}

impl Site {
    /// A sandbox that knows `APP` and `COUPON_CODE`, with every plate parked (third-party rules).
    async fn start() -> Site {
        let sb = PyunSandbox::new();
        sb.add_app(APP, SECRET);
        sb.add_coupon_code(COUPON_CODE);
        sb.set_any_plate_parked(true);
        let running = sb.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
        Site {
            sb,
            running,
            client: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }

    /// Posts a form to `mcoupon/token`: the HTTP status and the body as text.
    async fn post_token_form(&self, body: String) -> reqwest::Result<(u16, String)> {
        let send = self
            .client
            .post(self.url(COUPON_TOKEN_PATH))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send();
        let resp = tokio::time::timeout(HANG, send).await.expect("hang")?;
        Ok((resp.status().as_u16(), resp.text().await?))
    }

    /// Mints a token signed with `secret`: the status and the envelope.
    async fn mint(&self, req: &CouponToken, secret: &str) -> (u16, Value) {
        let form = req.to_signed_form(APP, secret).unwrap();
        let (status, body) = self.post_token_form(form.to_urlencoded()).await.unwrap();
        (status, serde_json::from_str(&body).unwrap())
    }

    /// Mints a token that must succeed; its name, read from the claim link.
    async fn minted(&self, req: &CouponToken) -> String {
        let form = req.to_signed_form(APP, SECRET).unwrap();
        let (status, body) = self.post_token_form(form.to_urlencoded()).await.unwrap();
        let payload = TokenPayload::from_outcome(&decode_response(status, body.as_bytes()))
            .unwrap_or_else(|| panic!("no claim link in {status} {body}"));
        let (_, token) = payload.url.split_once("?token=").unwrap();
        token.to_owned()
    }

    /// The customer scans `token` with `plate` through the HTTP control call.
    async fn scan(&self, token: &str, plate: &str) -> (u16, Value) {
        let resp = self
            .client
            .post(self.url("/_sandbox/tokens/scan"))
            .json(&json!({"token": token, "plate": plate}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn tokens(&self) -> Value {
        let resp = self.client.get(self.url("/_sandbox/tokens")).send();
        resp.await.unwrap().json().await.unwrap()
    }
}

/// The request of P云's signature vector: single-use, 600 s.
fn vector_request() -> CouponToken {
    CouponToken {
        store_code: STORE.into(),
        coupon_code: COUPON_CODE.into(),
        quantity: 1,
        use_expire: Some(true),
        expire_in: Some(600),
        reason: None,
    }
}

/// A token anyone may claim until it expires.
fn timed_request() -> CouponToken {
    CouponToken {
        use_expire: Some(false),
        quantity: 2,
        reason: Some("商场消费".into()),
        ..vector_request()
    }
}

#[tokio::test]
async fn a_signed_request_gets_a_claim_link_and_each_call_a_new_token() {
    let site = Site::start().await;
    let form = vector_request().to_signed_form(APP, SECRET).unwrap();
    assert_eq!(form.sign(), "0BB9C86B96957D60B4A266FC9CEF1965");
    let (status, a) = site.mint(&vector_request(), SECRET).await;
    assert_eq!((status, a["code"].as_str()), (200, Some("1001")), "{a}");
    assert_eq!(
        a["payload"]["expire_in"], 600,
        "a number, as in P云's example"
    );
    let url = a["payload"]["url"].as_str().unwrap();
    let prefix = format!("{}/qr/discount?token=", site.running.base_url);
    assert!(url.starts_with(&prefix), "{url}");
    let (_, b) = site.mint(&vector_request(), SECRET).await;
    assert_ne!(a["payload"]["url"], b["payload"]["url"], "no idempotency");

    // Below five minutes P云 uses five minutes, whatever the client sends.
    let raw = format!(
        "app_id={APP}&store_code={STORE}&coupon_code={COUPON_CODE}&quantity=1&expire_in=60"
    );
    let fields = protocol::pyun::urlencoded::decode(raw.as_bytes()).unwrap();
    let signed = protocol::pyun::sign_form(&fields, SECRET);
    let (status, body) = site
        .post_token_form(format!("{raw}&sign={signed}"))
        .await
        .unwrap();
    let short: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status, &short["payload"]["expire_in"]), (200, &json!(300)));

    let listed = site.tokens().await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0]["url"].as_str(), Some(url));
    assert_eq!(listed[0]["single_use"], true);
    assert_eq!(listed[0]["store_code"], STORE);
    assert_eq!(listed[0]["seqno"], a["seqno"]);
    assert_eq!(listed[2]["single_use"], false);
    let first = &site.sb.tokens()[0];
    assert_eq!(
        first.expires_at - first.minted_at,
        chrono::TimeDelta::seconds(600)
    );
    assert!(first.claims.is_empty());
    assert!(site.sb.coupons().is_empty(), "minting issues nothing");
    assert!(
        site.sb
            .requests()
            .iter()
            .all(|r| r.endpoint == Endpoint::Token && r.answer.code.as_deref() == Some("1001"))
    );
}

#[tokio::test]
async fn bad_signatures_unknown_apps_and_unknown_coupons_are_refused() {
    let site = Site::start().await;
    let (status, v) = site.mint(&vector_request(), "not the secret").await;
    assert_eq!((status, v["code"].as_str()), (401, Some("401")), "{v}");
    let (status, _) = site
        .post_token_form(format!("app_id=op_unknown&store_code={STORE}&sign=X"))
        .await
        .unwrap();
    assert_eq!(status, 401);

    let mut unknown = vector_request();
    unknown.coupon_code = "7cb7cc3e4e27b8".into();
    let (status, v) = site.mint(&unknown, SECRET).await;
    assert_eq!(
        (status, v["code"].as_str(), v["message"].as_str()),
        (500, Some("500"), Some("优惠券:7cb7cc3e4e27b8不存在"))
    );
    // Signed, but without a shop: P云's parameter error names the field.
    let fields = [
        ("app_id", APP),
        ("coupon_code", COUPON_CODE),
        ("quantity", "1"),
    ];
    let signed = protocol::pyun::sign_form(&fields, SECRET);
    let (status, body) = site
        .post_token_form(format!(
            "app_id={APP}&coupon_code={COUPON_CODE}&quantity=1&sign={signed}"
        ))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status, v["code"].as_str()), (400, Some("400")), "{v}");
    assert!(v["hint"].as_str().unwrap().contains("store_code"), "{v}");
    assert!(site.sb.tokens().is_empty());
}

#[tokio::test]
async fn a_single_use_token_issues_once() {
    let site = Site::start().await;
    let token = site.minted(&vector_request()).await;
    let (status, first) = site.scan(&token, "粤b 660pp").await;
    assert_eq!(
        (status, first["code"].as_str()),
        (200, Some("1001")),
        "{first}"
    );
    assert_eq!(first["plate"], "粤B660PP");
    let (status, second) = site.scan(&token, "沪A68688").await;
    assert_eq!(status, 409, "{second}");
    let coupons = site.sb.coupons();
    assert_eq!(coupons.len(), 1);
    let c = &coupons[0];
    assert_eq!(
        (c.endpoint, c.token.as_deref(), c.coupon_code.as_deref()),
        (Endpoint::Token, Some(token.as_str()), Some(COUPON_CODE))
    );
    assert_eq!(
        first["grant_serial"].as_str(),
        Some(c.grant_serial.as_str())
    );
    let claims = &site.sb.tokens()[0].claims;
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].plate, "粤B660PP");

    assert_eq!(site.scan("no-such-token", "沪A68688").await.0, 404);
    assert_eq!(site.scan(&token, "not a plate").await.0, 400);
}

#[tokio::test]
async fn a_timed_token_issues_to_every_plate_until_it_expires() {
    let site = Site::start().await;
    let token = site.minted(&timed_request()).await;
    for plate in ["粤B660PP", "沪A68688"] {
        let outcome = site.sb.scan_token(&token, plate).await.unwrap();
        assert_eq!(outcome.code, "1001", "{outcome:?}");
        assert!(
            outcome.discount_create.is_none(),
            "no car park lists the shop"
        );
    }
    let coupons = site.sb.coupons();
    assert_eq!(coupons.len(), 2);
    assert!(coupons.iter().all(|c| c.quantity == 2));
    assert_ne!(coupons[0].grant_serial, coupons[1].grant_serial);

    // The plate limit counts scans as it counts grants; a refused scan claims nothing.
    site.sb.set_plate_limit(1);
    let refused = site.sb.scan_token(&token, "粤B660PP").await.unwrap();
    assert_eq!(
        (refused.code.as_str(), refused.grant_serial),
        ("1003", None)
    );
    assert_eq!(site.sb.tokens()[0].claims.len(), 2);

    let resp = site
        .client
        .post(site.url(&format!("/_sandbox/tokens/{token}/expire")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let (status, body) = site.scan(&token, "京A12345").await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(
        site.sb.scan_token(&token, "京A12345").await,
        Err(ScanError::Expired(token.clone()))
    );
    assert!(!site.sb.expire_token("no-such-token"));
    assert_eq!(site.sb.coupons().len(), 2);
}

#[tokio::test]
async fn faults_apply_to_token_calls() {
    let site = Site::start().await;
    for rule in [
        json!({"endpoint": "token", "times": 1,
               "fault": {"kind": "answer", "http_status": 503, "code": "503", "message": "服务不可用"}}),
        json!({"endpoint": "token", "times": 1,
               "fault": {"kind": "drop", "after_applying": true}}),
    ] {
        let resp = site
            .client
            .post(site.url("/_sandbox/faults"))
            .json(&rule)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 204);
    }
    let (status, v) = site.mint(&vector_request(), SECRET).await;
    assert_eq!((status, v["code"].as_str()), (503, Some("503")));
    assert!(
        site.sb.tokens().is_empty(),
        "an injected answer applies nothing"
    );
    let form = vector_request().to_signed_form(APP, SECRET).unwrap();
    assert!(site.post_token_form(form.to_urlencoded()).await.is_err());
    // Minted before the drop: a token exists that its caller never saw.
    assert_eq!(site.sb.tokens().len(), 1);
    let answers: Vec<_> = site.sb.requests().into_iter().map(|r| r.answer).collect();
    assert_eq!(answers[0].http_status, Some(503));
    assert!(answers[1].dropped);
}
