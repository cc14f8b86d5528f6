//! The P云 sandbox as a car park's cloud, over real HTTP on loopback: uploads in, stays learned,
//! coupons refused or delivered, and P云's downlink calls out to a stand-in gateway.

#[path = "support/carpark_gateway.rs"]
mod gateway;

use std::time::Duration;

use gateway::{Gateway, KEY, Order, Signing};
use protocol::plate::{Plate, PlateColor};
use protocol::pyun::{
    COUPON_EVENT_PATH, COUPON_GRANT_PATH, COUPON_TOKEN_PATH, CouponEvent, CouponGrant, CouponToken,
    SignedForm,
};
use protocol::pyun_carpark::multipart::{self, FilePart};
use protocol::pyun_carpark::{CarType, ENTER_PATH, Entry, LEAVE_PATH, Leave, UploadOutcome};
use protocol::time::from_epoch_ms;
use sandbox::pyun::{PyunSandbox, RunningSandbox, StayChange, Trigger, UploadPath};
use serde_json::{Value, json};

const PARK: &str = "3bad72c0-6204-4b65-90aa-4323ddd1fb5a";
const UPLOAD_SECRET: &str = "pb-upload-secret-2025";
const APP: &str = "op_sandbox_test";
const APP_SECRET: &str = "e9ae5402dbabc68c1c4test";
const API_TYPE: &str = "EV_CHARGING";
const COUPON_CODE: &str = "7cb7cc3e4e27b8a";
const MERCHANT: &str = "62626601";
const STORE_CODE: &str = "P-1001";
const PLATE: &str = "粤B660PP";
const ENTER_MS: i64 = 1_735_781_400_000;
/// The doc sample's one-pixel GIF (pyun-carpark.md §4.5).
const GIF: [u8; 35] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x05, 0x04, 0x04,
    0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44,
    0x01, 0x00, 0x3B,
];

struct World {
    sb: PyunSandbox,
    running: RunningSandbox,
    gw: Gateway,
    client: reqwest::Client,
}

impl World {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .client
            .request(method, self.url(&format!("/_sandbox/{path}")))
            .json(&body)
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

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.control(reqwest::Method::POST, path, body).await
    }

    async fn get(&self, path: &str) -> Value {
        self.control(reqwest::Method::GET, path, Value::Null)
            .await
            .1
    }

    /// Sends a multipart upload; the status and P云's envelope.
    async fn upload(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let resp = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn enter(&self, entry: &Entry, secret: &str) -> (u16, Value) {
        let m = entry
            .to_form(secret)
            .unwrap()
            .multipart("pb-test-boundary")
            .unwrap();
        self.upload(ENTER_PATH, &m.content_type, m.body).await
    }

    async fn leave(&self, leave: &Leave, secret: &str) -> (u16, Value) {
        let m = leave
            .to_form(secret)
            .unwrap()
            .multipart("pb-test-boundary")
            .unwrap();
        self.upload(LEAVE_PATH, &m.content_type, m.body).await
    }

    async fn send_form(&self, path: &str, form: SignedForm) -> Value {
        let resp = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_urlencoded())
            .send()
            .await
            .unwrap();
        resp.json().await.unwrap()
    }

    async fn grant(&self, plate: &str) -> Value {
        let g = CouponGrant {
            merchant: MERCHANT.into(),
            store_code: "4911419421".into(),
            coupon_code: COUPON_CODE.into(),
            quantity: 1,
            plate: Plate::parse(plate).unwrap(),
            parking_serial: None,
            reason: Some("购物满300".into()),
        };
        self.send_form(
            COUPON_GRANT_PATH,
            g.to_signed_form(APP, APP_SECRET).unwrap(),
        )
        .await
    }

    async fn event(&self, event_id: &str, plate: &str) -> Value {
        let e = CouponEvent {
            api_store_code: STORE_CODE.into(),
            api_type: API_TYPE.into(),
            event_id: event_id.into(),
            plate: Plate::parse(plate).unwrap(),
            subject: "充电 30 KWH".into(),
            metadata: None,
        };
        self.send_form(
            COUPON_EVENT_PATH,
            e.to_signed_form(APP, APP_SECRET).unwrap(),
        )
        .await
    }
}

/// A sandbox with `PARK` registered through the control API, pointing at a fresh gateway.
async fn world() -> World {
    let sb = PyunSandbox::new();
    sb.add_app(APP, APP_SECRET);
    sb.add_api_type(API_TYPE);
    sb.add_coupon_code(COUPON_CODE);
    let running = sb.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let gw = Gateway::start().await;
    let w = World {
        sb,
        running,
        gw,
        client: reqwest::Client::new(),
    };
    let (status, body) = w
        .post(
            "carparks",
            json!({"park_uuid": PARK, "gateway_url": w.gw.url, "downlink_key": KEY,
                   "upload_secret": UPLOAD_SECRET, "api_store_code": STORE_CODE,
                   "merchant": MERCHANT}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    w
}

fn entry(serial: &str, plate: &str) -> Entry {
    Entry {
        park_uuid: PARK.into(),
        parking_serial: serial.into(),
        plate: Some(Plate::parse(plate).unwrap()),
        plate_color: PlateColor::Blue,
        plate_type: None,
        card_no: None,
        card_id: None,
        enter_time: from_epoch_ms(ENTER_MS).unwrap(),
        enter_image: None,
        enter_image_file: Some(GIF.to_vec()),
        enter_gate: Some("东门入口".into()),
        enter_security: None,
        car_type: CarType::Temporary,
        car_desc: "临停车".into(),
        car_color: None,
        charge_type: "1".into(),
        vehicle_type: None,
        enter_release_reason: None,
        total_parking_space: Some(500),
        remain_parking_space: Some(123),
    }
}

fn leave(serial: &str, plate: &str) -> Leave {
    Leave {
        entry: entry(serial, plate),
        leave_time: from_epoch_ms(ENTER_MS + 3_600_000).unwrap(),
        leave_image: None,
        leave_image_file: None,
        leave_gate: Some("西门出口".into()),
        leave_security: None,
        total_value: Some(600),
        free_value: None,
        online_value: None,
        balance_value: None,
        cash_value: Some(600),
        prepaid_value: None,
        leave_release_reason: None,
        payment_list: Vec::new(),
    }
}

fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap()
}

fn outcome(v: &Value) -> UploadOutcome {
    UploadOutcome::of_body(v.to_string().as_bytes())
}

#[tokio::test]
async fn uploads_are_verified_deduplicated_and_learned_as_stays() {
    let w = world().await;
    let (status, v) = w.enter(&entry("PS1", PLATE), UPLOAD_SECRET).await;
    assert_eq!((status, code(&v)), (200, "200"), "{v}");
    assert!(
        v.get("hint").is_none(),
        "an accepted upload has no hint: {v}"
    );
    assert!(v["seqno"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(outcome(&v), UploadOutcome::Accepted);

    // A repeat is accepted, ignored and counted.
    let (status, v) = w.enter(&entry("PS1", PLATE), UPLOAD_SECRET).await;
    assert_eq!((status, code(&v)), (200, "200"));
    assert_eq!(outcome(&v), UploadOutcome::Accepted);

    // A wrong secret: P云's "200 + hint", the plaintext with the secret masked.
    let (status, v) = w.enter(&entry("PS2", PLATE), "wrong").await;
    assert_eq!((status, code(&v)), (200, "200"));
    assert_eq!(v["message"], "已忽略当前请求");
    let hint = v["hint"].as_str().unwrap();
    let ours = entry("PS2", PLATE).to_form("x").unwrap().plaintext_masked();
    assert_eq!(hint, format!("签名验证不通过[{ours}]"));
    assert!(matches!(
        outcome(&v),
        UploadOutcome::SignatureRejected { .. }
    ));

    // An unknown car park is intercepted.
    let mut stranger = entry("PS3", PLATE);
    stranger.park_uuid = "someone-else".into();
    let (status, v) = w.enter(&stranger, UPLOAD_SECRET).await;
    assert_eq!((status, code(&v)), (403, "403"));
    assert_eq!(outcome(&v), UploadOutcome::Intercepted);

    // A signed upload without `car_desc`.
    let form = SignedForm::new(
        [
            ("park_uuid", PARK),
            ("parking_serial", "PS4"),
            ("plate_color", "1"),
            ("enter_time", "1735781400000"),
            ("car_type", "1"),
            ("charge_type", "1"),
        ],
        UPLOAD_SECRET,
    );
    let m = multipart::build("b0", form.fields(), &[]).unwrap();
    let (status, v) = w.upload(ENTER_PATH, &m.content_type, m.body).await;
    assert_eq!((status, code(&v)), (400, "400"));
    assert_eq!(v["hint"], "参数`car_desc`未传递");

    // Not multipart at all, and multipart cut short: P云's 400, never a panic.
    let (status, v) = w
        .upload(ENTER_PATH, "application/json", b"{}".to_vec())
        .await;
    assert_eq!((status, code(&v)), (400, "400"), "{v}");
    let (status, v) = w
        .upload(
            ENTER_PATH,
            "multipart/form-data; boundary=b1",
            b"--b1\r\nContent-Disposition: form-data; name=\"plate\"\r\n\r\nunfinished".to_vec(),
        )
        .await;
    assert_eq!((status, code(&v)), (400, "400"), "{v}");

    // The leave closes the stay; a leave alone opens and closes one (note 8).
    let (_, v) = w.leave(&leave("PS1", PLATE), UPLOAD_SECRET).await;
    assert_eq!(code(&v), "200");
    let (_, v) = w.leave(&leave("PS9", "沪A12345"), UPLOAD_SECRET).await;
    assert_eq!(code(&v), "200");
    let (_, v) = w.leave(&leave("PS9", "沪A12345"), UPLOAD_SECRET).await;
    assert_eq!(outcome(&v), UploadOutcome::Accepted);

    let uploads = w.get(&format!("uploads?park_uuid={PARK}")).await;
    let uploads = uploads.as_array().unwrap();
    let summary: Vec<(String, Value, bool, Value)> = uploads
        .iter()
        .map(|u| {
            (
                u["path"].as_str().unwrap().to_owned(),
                u["sign_ok"].clone(),
                u["duplicate"].as_bool().unwrap(),
                u["answer"]["code"].clone(),
            )
        })
        .collect();
    let e = |p: &str, ok: Value, dup, c: &str| (p.to_owned(), ok, dup, json!(c));
    assert_eq!(
        summary,
        [
            e("enter", json!(true), false, "200"),
            e("enter", json!(true), true, "200"),
            e("enter", json!(false), false, "200"),
            // Signed correctly, refused for the missing field.
            e("enter", json!(true), false, "400"),
            e("leave", json!(true), false, "200"),
            e("leave", json!(true), false, "200"),
            e("leave", json!(true), true, "200"),
        ]
    );
    assert_eq!(uploads[0]["image_hash_ok"], true);
    assert_eq!(
        uploads[0]["files"][0]["md5"],
        "DF16D33739DEFE9BDA1F4C45D36FD7A7"
    );
    assert_eq!(uploads[0]["stay_change"], "opened");
    assert!(
        uploads[2]["hint"]
            .as_str()
            .unwrap()
            .starts_with("签名验证不通过[")
    );
    let seqs: Vec<u64> = uploads.iter().map(|u| u["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "arrival order");
    // Every upload is listed without the filter: the stranger's and the unreadable ones too.
    assert_eq!(w.get("uploads").await.as_array().unwrap().len(), 10);
    let all = w.sb.uploads(None);
    assert!(all.iter().any(|u| u.unreadable.is_some()));
    assert_eq!(all[3].park_uuid.as_deref(), Some("someone-else"));

    let stays = w.get(&format!("stays?park_uuid={PARK}")).await;
    let stays = stays.as_array().unwrap();
    assert_eq!(stays.len(), 2);
    assert_eq!(stays[0]["parking_serial"], "PS1");
    assert_eq!(stays[0]["open"], false);
    assert_eq!(stays[0]["enter_repeats"], 1);
    assert_eq!(stays[0]["leave_time"], ENTER_MS + 3_600_000);
    assert_eq!(stays[1]["plate"], "沪A12345");
    assert_eq!(stays[1]["entered"], false);
    assert_eq!(stays[1]["leave_repeats"], 1);
    let view = w.get(&format!("carparks/{PARK}")).await;
    assert_eq!(view["open_stays"], 0);
    assert!(view.get("downlink_key").is_none(), "no secrets: {view}");
}

#[tokio::test]
async fn upload_faults_and_the_sign_hint_mode() {
    let w = world().await;
    let rule = json!({"path": "enter", "times": 2,
        "fault": {"kind": "answer", "http_status": 500, "code": "500", "message": "服务器内部错误"}});
    assert_eq!(w.post("upload-faults", rule).await.0, 204);
    for _ in 0..2 {
        let (status, v) = w.enter(&entry("PS1", PLATE), UPLOAD_SECRET).await;
        assert_eq!((status, code(&v)), (500, "500"));
        assert_eq!(outcome(&v), UploadOutcome::Transient);
    }
    assert!(
        w.sb.stays(None).is_empty(),
        "a faulted upload is not applied"
    );
    let (status, v) = w.enter(&entry("PS1", PLATE), UPLOAD_SECRET).await;
    assert_eq!((status, code(&v)), (200, "200"));

    let (status, _) = w
        .control(
            reqwest::Method::PUT,
            &format!("carparks/{PARK}/sign-hint"),
            json!({"on": true}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, v) = w.leave(&leave("PS1", PLATE), UPLOAD_SECRET).await;
    assert_eq!((status, code(&v)), (200, "200"));
    assert!(matches!(
        outcome(&v),
        UploadOutcome::SignatureRejected { .. }
    ));
    assert_eq!(w.get(&format!("carparks/{PARK}")).await["sign_hint"], true);
    assert!(w.sb.stays(None)[0].open, "ignored while in sign-hint mode");
    w.sb.set_sign_hint(PARK, false);
    let (_, v) = w.leave(&leave("PS1", PLATE), UPLOAD_SECRET).await;
    assert_eq!(outcome(&v), UploadOutcome::Accepted);
    assert!(!w.sb.stays(None)[0].open);

    let (status, _) = w
        .control(
            reqwest::Method::PUT,
            "carparks/nobody/sign-hint",
            json!({"on": true}),
        )
        .await;
    assert_eq!(status, 404);

    // A dropped connection: the gateway under test sees no answer at all.
    let rule = json!({"times": 1, "fault": {"kind": "drop", "after_applying": false}});
    assert_eq!(w.post("upload-faults", rule).await.0, 204);
    let m = entry("PS2", PLATE)
        .to_form(UPLOAD_SECRET)
        .unwrap()
        .multipart("b2")
        .unwrap();
    let sent = w
        .client
        .post(w.url(ENTER_PATH))
        .header("content-type", m.content_type)
        .body(m.body)
        .send()
        .await;
    assert!(sent.is_err(), "the connection is dropped");
    let last = w.sb.uploads(None).pop().unwrap();
    assert!(last.answer.dropped);
    assert_eq!(
        w.control(reqwest::Method::DELETE, "upload-faults", Value::Null)
            .await
            .0,
        204
    );
}

#[tokio::test]
async fn a_coupon_for_a_car_p_yun_never_saw_is_1002_and_a_parked_one_reaches_the_gateway() {
    let w = world().await;
    // Even "every plate parked" does not let a car park's coupon through without an upload.
    w.sb.set_any_plate_parked(true);
    let v = w.grant(PLATE).await;
    assert_eq!(
        (code(&v), v["message"].as_str()),
        ("1002", Some("车辆未入场"))
    );
    assert_eq!(code(&w.event("ev-1", PLATE).await), "1002");
    assert!(w.gw.received().is_empty());

    let (status, _) = w
        .post(
            "coupon-codes",
            json!({"coupon_code": COUPON_CODE, "discount_type": 1, "discount_value": 500,
                   "coupon_name": "5元停车券", "store_name": "肯德基"}),
        )
        .await;
    assert_eq!(status, 204);
    w.enter(&entry("PS1", PLATE), UPLOAD_SECRET).await;
    let v = w.grant(PLATE).await;
    assert_eq!(code(&v), "1001", "{v}");
    let serial = v["payload"]["grant_serial"].as_str().unwrap().to_owned();
    let got = w.gw.wait_for(1).await;
    let create = &got[0];
    assert_eq!(create.content_type.as_deref(), Some("application/json"));
    assert!(create.all_strings, "{}", create.body);
    assert_eq!(
        create.code, "1001",
        "the gateway verified it: {}",
        create.body
    );
    for (k, v) in [
        ("service", "service.parking.discount.create"),
        ("version", "1.0"),
        ("charset", "UTF-8"),
        ("park_uuid", PARK),
        ("parking_serial", "PS1"),
        ("plate", PLATE),
        ("grant_serial", serial.as_str()),
        ("type", "1"),
        ("value", "500"),
        ("store_name", "肯德基"),
        ("store_code", "4911419421"),
        ("coupon_name", "5元停车券"),
        ("coupon_code", COUPON_CODE),
        ("reason", "购物满300"),
    ] {
        assert_eq!(create.get(k), Some(v), "{k}");
    }

    // An event with no configuration: 60 minutes; named by `api_store_code`.
    let v = w.event("ev-2", PLATE).await;
    assert_eq!(code(&v), "1001");
    let got = w.gw.wait_for(2).await;
    assert_eq!(got[1].get("type"), Some("2"));
    assert_eq!(got[1].get("value"), Some("60"));
    assert_eq!(got[1].get("coupon_code"), Some(API_TYPE));
    assert_eq!(got[1].get("store_code"), Some(APP));
    assert_eq!(got[1].get("reason"), Some("充电 30 KWH"));
    assert_eq!(
        got[1].get("grant_serial"),
        v["payload"]["grant_serial"].as_str()
    );

    // The calls are recorded with their verified replies (wait for the second to finish).
    let mut calls = Vec::new();
    for _ in 0..200 {
        calls = w.sb.downlink_calls(Some(PARK));
        if calls.len() == 2 && calls.iter().all(|c| c.done) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(calls.iter().all(|c| c.trigger == Trigger::Coupon
        && c.result_code.as_deref() == Some("1001")
        && c.sign_ok == Some(true)
        && c.problems.is_empty()));
    let listed = w.get(&format!("downlink-calls?park_uuid={PARK}")).await;
    assert_eq!(listed[0]["request"]["grant_serial"], serial.as_str());
    assert_eq!(listed[0]["sign_ok"], true);

    // A grant answered with a dropped connection after issuing still reaches the car park.
    let rule = json!({"endpoint": "grant", "times": 1,
        "fault": {"kind": "drop", "after_applying": true}});
    assert_eq!(w.post("faults", rule).await.0, 204);
    let g = CouponGrant {
        merchant: MERCHANT.into(),
        store_code: "4911419421".into(),
        coupon_code: COUPON_CODE.into(),
        quantity: 1,
        plate: Plate::parse(PLATE).unwrap(),
        parking_serial: None,
        reason: None,
    };
    let sent = w
        .client
        .post(w.url(COUPON_GRANT_PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(g.to_signed_form(APP, APP_SECRET).unwrap().to_urlencoded())
        .send()
        .await;
    assert!(sent.is_err());
    let got = w.gw.wait_for(3).await;
    assert_eq!(
        got[2].get("grant_serial"),
        Some(w.sb.coupons()[2].grant_serial.as_str())
    );

    // After the leave the car is gone again.
    w.leave(&leave("PS1", PLATE), UPLOAD_SECRET).await;
    assert_eq!(code(&w.grant(PLATE).await), "1002");
    // A park that is not registered keeps the third-party rules: every plate parked.
    let other = CouponGrant {
        merchant: "not-a-carpark".into(),
        store_code: "s".into(),
        coupon_code: COUPON_CODE.into(),
        quantity: 1,
        plate: Plate::parse(PLATE).unwrap(),
        parking_serial: None,
        reason: None,
    };
    let v = w
        .send_form(
            COUPON_GRANT_PATH,
            other.to_signed_form(APP, APP_SECRET).unwrap(),
        )
        .await;
    assert_eq!(code(&v), "1001");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        w.gw.received().len(),
        3,
        "no discount.create outside car parks"
    );
}

#[tokio::test]
async fn a_scanned_qr_token_reaches_the_car_park_whose_shop_asked_for_it() {
    const SHOP: &str = "92908284598";
    let w = world().await;
    let (status, _) = w
        .post(
            "coupon-codes",
            json!({"coupon_code": COUPON_CODE, "discount_type": 1, "discount_value": 300,
                   "coupon_name": "3元停车券"}),
        )
        .await;
    assert_eq!(status, 204);
    let store = json!({"store_code": SHOP});
    assert_eq!(
        w.post("carparks/no-such-park/stores", store.clone())
            .await
            .0,
        404
    );
    assert_eq!(
        w.post(&format!("carparks/{PARK}/stores"), store).await.0,
        204
    );
    assert_eq!(
        w.get(&format!("carparks/{PARK}")).await["store_codes"],
        json!([SHOP])
    );
    w.enter(&entry("PS7", PLATE), UPLOAD_SECRET).await;

    let request = CouponToken {
        store_code: SHOP.into(),
        coupon_code: COUPON_CODE.into(),
        quantity: 1,
        use_expire: Some(false),
        expire_in: Some(600),
        reason: Some("商场消费".into()),
    };
    let v = w
        .send_form(
            COUPON_TOKEN_PATH,
            request.to_signed_form(APP, APP_SECRET).unwrap(),
        )
        .await;
    assert_eq!(code(&v), "1001", "{v}");
    let url = v["payload"]["url"].as_str().unwrap();
    let token = url.split_once("?token=").unwrap().1;

    // A car the car park never reported: refused as a grant would be, nothing sent.
    let (status, refused) = w
        .post("tokens/scan", json!({"token": token, "plate": "沪A68688"}))
        .await;
    assert_eq!((status, refused["code"].as_str()), (200, Some("1002")));
    let (status, scanned) = w
        .post("tokens/scan", json!({"token": token, "plate": PLATE}))
        .await;
    assert_eq!(
        (status, scanned["code"].as_str()),
        (200, Some("1001")),
        "{scanned}"
    );
    let call = &scanned["discount_create"];
    assert_eq!(
        (call["result_code"].as_str(), &call["sign_ok"]),
        (Some("1001"), &json!(true)),
        "{call}"
    );
    let got = w.gw.wait_for(1).await;
    assert_eq!(got.len(), 1);
    for (k, v) in [
        ("service", "service.parking.discount.create"),
        ("park_uuid", PARK),
        ("parking_serial", "PS7"),
        ("plate", PLATE),
        ("grant_serial", scanned["grant_serial"].as_str().unwrap()),
        ("type", "1"),
        ("value", "300"),
        ("store_code", SHOP),
        ("coupon_name", "3元停车券"),
        ("coupon_code", COUPON_CODE),
        ("reason", "商场消费"),
    ] {
        assert_eq!(got[0].get(k), Some(v), "{k}");
    }
    assert_eq!(
        w.sb.tokens()[0].claims.len(),
        1,
        "the refused scan claimed nothing"
    );
}

#[tokio::test]
async fn a_driver_pays_in_the_app_and_p_yun_repeats_the_notice() {
    let w = world().await;
    w.gw.script(|s| {
        s.order = Some(Order {
            parking_serial: "PS1".into(),
            parking_order: "PO1".into(),
            total: 3000,
            free: 1000,
        })
    });
    let (status, paid) = w
        .post(
            "driver/pay",
            json!({"park_uuid": PARK, "plate": PLATE, "twice": true}),
        )
        .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["billing"]["result_code"], "1001");
    assert_eq!(paid["billing"]["sign_ok"], true);
    assert_eq!(paid["billing"]["reply"]["pay_value"], 2000);
    assert_eq!(paid["payment"]["result_code"], "1001");
    assert_eq!(paid["repeat"]["result_code"], "1001");
    assert_eq!(paid["skipped"], Value::Null);

    let got = w.gw.received();
    assert_eq!(got.len(), 3);
    let billing = &got[0];
    assert_eq!(
        billing.get("service"),
        Some("service.parking.payment.billing")
    );
    assert_eq!(billing.get("plate"), Some(PLATE));
    let notice = &got[1];
    assert!(notice.all_strings);
    assert_eq!(notice.code, "1001", "{}", notice.body);
    for (k, v) in [
        ("service", "service.parking.payment.result"),
        ("parking_serial", "PS1"),
        ("parking_order", "PO1"),
        ("value", "2000"),
        ("pay_value", "2000"),
        ("free_value", "1000"),
        ("pay_origin", "8"),
        ("pay_origin_desc", "微信"),
        ("autopay_type", "0"),
    ] {
        assert_eq!(notice.get(k), Some(v), "{k}");
    }
    let pay_time = notice.get("pay_time").unwrap();
    assert!(pay_time.len() == 14 && pay_time.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(got[2].body, notice.body, "the repeat is identical");

    // Another payment gets a fresh pay_serial; the override pays another amount.
    let (_, paid) = w
        .post(
            "driver/pay",
            json!({"park_uuid": PARK, "plate": PLATE, "pay_origin": 4, "value_override": 1500}),
        )
        .await;
    assert_eq!(paid["repeat"], Value::Null);
    let got = w.gw.received();
    assert_ne!(got[4].get("pay_serial"), notice.get("pay_serial"));
    assert_eq!(got[4].get("value"), Some("1500"));
    assert_eq!(got[4].get("pay_origin_desc"), Some("支付宝"));

    // Nothing to pay: billing's 1002 ends the flow.
    w.gw.script(|s| s.order = None);
    let (_, paid) = w
        .post("driver/pay", json!({"park_uuid": PARK, "plate": PLATE}))
        .await;
    assert_eq!(paid["billing"]["result_code"], "1002");
    assert_eq!(paid["payment"], Value::Null);
    assert_eq!(paid["skipped"], "billing answered 1002");
    assert_eq!(w.gw.received().len(), 6);

    let (status, _) = w
        .post("driver/pay", json!({"park_uuid": "nobody", "plate": PLATE}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn raw_notices_revocations_realtime_and_any_service() {
    let w = world().await;
    let (status, call) = w
        .post(
            "downlink/payment-result",
            json!({"park_uuid": PARK, "parking_serial": "PS1", "parking_order": "PO-old",
                   "pay_serial": "PAY-1", "value": 700, "autopay_type": 1}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(call["trigger"], "notice");
    assert_eq!(call["request"]["autopay_type"], "1");
    assert_eq!(call["request"]["pay_value"], "700");
    assert_eq!(call["request"]["pay_serial"], "PAY-1");

    let (_, call) = w
        .post(
            "downlink/discount-destroy",
            json!({"park_uuid": PARK, "grant_serial": "G-unknown"}),
        )
        .await;
    assert_eq!(call["result_code"], "1002");
    assert_eq!(call["request"]["grant_serial"], "G-unknown");

    let (_, call) = w
        .post("downlink/realtime", json!({"park_uuid": PARK}))
        .await;
    assert_eq!(call["result_code"], "1001");
    assert_eq!(call["reply"]["total"], 500);
    assert_eq!(call["sign_ok"], true);

    // A service the gateway does not implement, and a forged sign.
    let (_, call) = w
        .post(
            "downlink/call",
            json!({"park_uuid": PARK, "service": "service.parking.vip.query",
                   "fields": {"plate": PLATE, "n": 5, "gate_id": ""}}),
        )
        .await;
    assert_eq!(call["result_code"], "1503");
    assert_eq!(call["request"]["n"], "5");
    assert_eq!(call["request"]["gate_id"], "");
    let (_, call) = w
        .post(
            "downlink/call",
            json!({"park_uuid": PARK, "service": "service.parking.realtime", "sign": "BAD"}),
        )
        .await;
    assert_eq!(call["result_code"], "1401");
    assert_eq!(call["request"]["sign"], "BAD");

    let (status, body) = w
        .post("downlink/realtime", json!({"park_uuid": "nobody"}))
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(w.sb.downlink_calls(None).len(), 5);
}

#[tokio::test]
async fn every_reply_is_checked() {
    let w = world().await;
    w.gw.script(|s| s.signing = Signing::Unsigned);
    let call = w.sb.realtime(PARK).await.unwrap();
    assert_eq!(
        (call.result_code.as_deref(), call.sign_ok),
        (Some("1001"), None)
    );
    assert!(call.problems.is_empty());

    w.gw.script(|s| s.signing = Signing::WrongKey);
    let call = w.sb.realtime(PARK).await.unwrap();
    assert_eq!(call.sign_ok, Some(false));
    assert_eq!(call.problems.len(), 1);

    w.gw.script(|s| {
        s.signing = Signing::Key;
        s.http_status = 500;
    });
    let call = w.sb.realtime(PARK).await.unwrap();
    assert_eq!(call.http_status, Some(500));
    assert_eq!(call.sign_ok, Some(true));
    assert!(call.problems[0].contains("500"));

    // Nobody listening: the failure is recorded, not raised.
    let gone = Gateway::start().await;
    let url = gone.url.clone();
    drop(gone);
    tokio::time::sleep(Duration::from_millis(20)).await;
    w.sb.register_carpark(sandbox::pyun::CarParkRegistration {
        park_uuid: "P-down".into(),
        gateway_url: url,
        downlink_key: KEY.into(),
        upload_secret: "s".into(),
        api_store_code: None,
        merchant: None,
    })
    .unwrap();
    let call = w.sb.realtime("P-down").await.unwrap();
    assert!(call.done && call.error.is_some() && call.http_status.is_none());
    let listed = w.get("carparks").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn realtime_is_polled_on_every_registered_car_park() {
    let w = world().await;
    let poll = w.sb.poll_realtime_every(Duration::from_millis(30));
    let got = w.gw.wait_for(2).await;
    poll.abort();
    assert!(
        got.iter()
            .all(|r| r.get("service") == Some("service.parking.realtime"))
    );
    assert!(
        w.sb.downlink_calls(Some(PARK))
            .iter()
            .all(|c| c.trigger == Trigger::Poll)
    );
}

#[tokio::test]
async fn a_leave_with_another_enter_time_is_a_record_of_its_own() {
    let w = world().await;
    w.enter(&entry("PS1", PLATE), UPLOAD_SECRET).await;
    let mut l = leave("PS1", PLATE);
    l.entry.enter_time = from_epoch_ms(ENTER_MS + 1000).unwrap();
    let (_, v) = w.leave(&l, UPLOAD_SECRET).await;
    assert_eq!(code(&v), "200");
    let up = w.sb.uploads(Some(PARK)).pop().unwrap();
    assert_eq!(up.path, UploadPath::Leave);
    assert_eq!(up.stay_change, Some(StayChange::SeparateRecord));
    // P云 still has the car in: a coupon goes through.
    assert_eq!(code(&w.grant(PLATE).await), "1001");
    // Another image than the one hashed: P云 hashes the file itself, so the signature fails.
    let form = entry("PS5", PLATE).to_form(UPLOAD_SECRET).unwrap();
    let file = FilePart {
        name: "enter_image_file",
        bytes: b"another image".to_vec(),
    };
    let m = multipart::build("b5", form.fields(), &[file]).unwrap();
    let (_, v) = w.upload(ENTER_PATH, &m.content_type, m.body).await;
    assert!(matches!(
        outcome(&v),
        UploadOutcome::SignatureRejected { .. }
    ));
    let up = w.sb.uploads(Some(PARK)).pop().unwrap();
    assert_eq!((up.sign_ok, up.image_hash_ok), (Some(false), Some(false)));
}
