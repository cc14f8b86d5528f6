//! P云 car-park access in the admin UI, in headless Chromium against the real binary: an admin
//! creates the two-secret credential and replaces its downlink key through the credentials
//! page (never seeing a secret again), switches a car park on through its form (the browser
//! and the server refusing a missing or taken `park_uuid`, in Chinese), then follows P云's
//! signed calls on the car park's gateway page — each with its service, its code in colour and
//! its request and reply — and sees, on the coupon records, where P云 applied our coupons, and on
//! the stay, the payment P云 collected. Every page fits a phone.

use std::time::{Duration, Instant};

use e2e::browser::Browser;
use e2e::coupon_site::{ADMIN_PW, COUPON_CODE, CouponSite, FAST_RETRIES, PARK, sandbox, send};
use e2e::mallcoo_v14_site::{ago, rfc};
use e2e::page_checks::{self, DESKTOP, PHONE, assert_fits_width, set_viewport};
use e2e::pyun_gateway_site::{GatewayReply, signed_body};
use e2e::server::Backend;
use protocol::pyun_carpark::down_sign;
use protocol::pyun_carpark::members::Members;
use reqwest::Method;
use serde_json::{Value, json};

const PLATE: &str = "沪A70011";
const CREDENTIAL: &str = "pyun-carpark-a";
const UPLOAD_SECRET: &str = "ui-upload-secret-7c1d";
/// The downlink key the credential is created with, then replaced by [`DOWNLINK_KEY`].
const FIRST_KEY: &str = "ui-first-downlink-key-2b9e";
const DOWNLINK_KEY: &str = "ui-downlink-key-5f3a";
/// Car park A's `park_uuid` at P云.
const UUID_A: &str = "8d2f6a10-0c4e-4b8e-9a55-2f1c7e3d9b01";
/// A second car park's, already on access.
const UUID_B: &str = "b7e94c22-51d3-4f0a-8c6e-0a9d3f7b2c44";

/// One call from P云 for car park A, signed with `key`; the reply's `sign` checked with it.
async fn call(site: &CouponSite, key: &str, service: &str, fields: Value) -> GatewayReply {
    let resp = reqwest::Client::new()
        .post(site.server.url("/pyun/v1/gateway"))
        .header("content-type", "application/json")
        .body(signed_body(UUID_A, key, service, &fields))
        .send()
        .await
        .expect("gateway request");
    assert_eq!(resp.status(), 200, "the gateway always answers 200");
    let text = resp.text().await.expect("body");
    let json: Value = serde_json::from_str(&text).expect("a JSON reply");
    let signed = json.get("sign").map(|_| {
        let members = Members::parse(text.as_bytes()).expect("flat reply");
        down_sign::verify(&members, key).is_ok()
    });
    GatewayReply { json, signed }
}

/// `discount.create` of a 60-minute coupon (type 2) for [`PLATE`], serial `grant_serial`.
async fn coupon(site: &CouponSite, grant_serial: &str) -> GatewayReply {
    call(
        site,
        DOWNLINK_KEY,
        "service.parking.discount.create",
        json!({"plate": PLATE, "grant_serial": grant_serial, "type": "2", "value": "60",
               "store_name": "星巴克", "store_code": "S001", "coupon_name": "2小时停车券",
               "coupon_code": COUPON_CODE, "reason": "购物满300"}),
    )
    .await
}

/// A coupon granted through our API and delivered by the P云 sandbox: its serial.
async fn delivered_grant(site: &CouponSite, grant_id: &str) -> String {
    let (status, record) = site.grant(grant_id, PLATE).await;
    assert!(status == 200 || status == 202, "{status} {record}");
    let id = record["id"].as_i64().expect("record id");
    let record = site.settled(id, Duration::from_secs(20)).await;
    assert_eq!(record["state"], "delivered", "{record}");
    record["pyun"]["grant_serial"]
        .as_str()
        .expect("grant serial")
        .to_owned()
}

/// The call rows as shown, newest first: code, service text, badge class.
async fn call_rows(browser: &Browser) -> Vec<(String, String, String)> {
    let v = browser
        .client
        .execute(
            "return [...document.querySelectorAll('tr.clickable[data-testid^=\"pyun-call-\"]')] \
               .map(r => [r.dataset.code, \
                 r.querySelector(\"[data-testid='call-service']\").textContent.trim(), \
                 r.querySelector(\"[data-testid='call-code']\").className]);",
            vec![],
        )
        .await
        .expect("read the call rows");
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().unwrap_or_default().to_owned();
            (s(0), s(1), s(2))
        })
        .collect()
}

/// Waits until the page lists `n` calls, asking for the list again (the refresh button) while
/// it is short: the server stores calls off the request path, a moment after answering them.
async fn wait_for_calls(browser: &Browser, n: usize) -> Vec<(String, String, String)> {
    let started = Instant::now();
    let mut asked = Instant::now();
    loop {
        let rows = call_rows(browser).await;
        if rows.len() == n {
            return rows;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "want {n} calls, the page lists {rows:?}"
        );
        if rows.len() < n && asked.elapsed() > Duration::from_millis(500) {
            browser.click("pyun-refresh").await;
            asked = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Screenshots at laptop and phone width, checking the phone's page does not scroll sideways.
async fn shoot(browser: &Browser, name: &str) {
    page_checks::screenshot(browser, DESKTOP, &format!("{name}-desktop")).await;
    set_viewport(browser, PHONE.0, PHONE.1).await;
    assert_fits_width(browser, name).await;
    page_checks::screenshot(browser, PHONE, &format!("{name}-phone")).await;
    set_viewport(browser, DESKTOP.0, DESKTOP.1).await;
}

/// The credential named `name`'s id, through the API.
async fn credential_id(site: &CouponSite, name: &str) -> i64 {
    let (status, list) = send(
        &site.admin,
        Method::GET,
        &site.server.url("/api/v1/credentials"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .and_then(|l| l.iter().find(|c| c["name"] == name))
        .and_then(|c| c["id"].as_i64())
        .unwrap_or_else(|| panic!("no credential {name}: {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_switches_a_car_park_onto_pyun_access_and_follows_its_gateway() {
    let site = CouponSite::start(Backend::Sqlite, sandbox(&[PLATE]), &FAST_RETRIES).await;
    let browser = Browser::start().await;
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;
    browser
        .sign_in(&site.server.base_url, "root", ADMIN_PW)
        .await;

    // The credential: both secrets are required, in the browser already.
    browser.goto(&site.server.url("/credentials")).await;
    browser.select("credential-kind", "pyun_carpark").await;
    browser.type_into("credential-name", CREDENTIAL).await;
    browser.type_into("credential-app-id", "pyun-app-ui").await;
    browser
        .type_into("credential-upload-secret", UPLOAD_SECRET)
        .await;
    browser.click("credential-create").await;
    browser
        .wait_for_text("credential-form-error", |t| t == "请填写上传密钥和下行密钥")
        .await;
    browser
        .type_into("credential-downlink-key", FIRST_KEY)
        .await;
    browser.click("credential-create").await;
    browser.element("credential-created").await;
    let row = format!("credential-row-{CREDENTIAL}");
    let shown = browser.text_of(&row).await;
    assert!(
        shown.contains("P云车场接入（上传密钥 + 下行密钥）") && shown.contains("pyun-app-ui"),
        "{shown}"
    );
    assert_eq!(browser.value_of("credential-upload-secret").await, "");
    assert_eq!(browser.value_of("credential-downlink-key").await, "");
    let id = credential_id(&site, CREDENTIAL).await;

    // Replacing a secret asks which one first.
    browser
        .click(&format!("credential-replace-{CREDENTIAL}"))
        .await;
    browser.type_into("secret-input", DOWNLINK_KEY).await;
    browser.click("secret-save").await;
    browser
        .wait_for_text("secret-error", |t| t == "请选择要替换的密钥")
        .await;
    browser.click("secret-field-downlink").await;
    browser.type_into("secret-input", DOWNLINK_KEY).await;
    shoot(&browser, "pyun-credentials").await;
    browser.click("secret-save").await;
    browser.element("secret-replaced").await;
    browser.wait_gone("replace-secret-form").await;
    let text = browser.page_text().await;
    for secret in [UPLOAD_SECRET, FIRST_KEY, DOWNLINK_KEY] {
        assert!(!text.contains(secret), "the page shows a secret: {text}");
    }

    // Another car park is on access with UUID_B already.
    let (status, body) = send(
        &site.admin,
        Method::POST,
        &site.server.url("/api/v1/parks"),
        Some(
            json!({"code": "mall-b", "name": "乙广场", "pyun_park_uuid": UUID_B,
                    "pyun_carpark_credential_id": id}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // The car park's form: access needs a park_uuid, one no other car park on access has.
    browser.goto(&site.server.url("/parks")).await;
    browser.click(&format!("edit-park-{PARK}")).await;
    assert_eq!(browser.value_of("park-edit-code").await, PARK);
    assert_eq!(
        browser.value_of("park-edit-pyun-park-uuid").await,
        "park-uuid-1"
    );
    // WebDriver's clear() sends no input event: a space is the blank a person leaves.
    browser.type_into("park-edit-pyun-park-uuid", " ").await;
    // The credentials arrive after the form.
    let option =
        format!("[data-testid='park-edit-pyun-carpark-credential-id'] option[value='{id}']");
    let started = Instant::now();
    while browser.count(&option).await == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "no {option}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser
        .select("park-edit-pyun-carpark-credential-id", &id.to_string())
        .await;
    browser.click("park-edit-save").await;
    browser
        .wait_for_text("park-edit-error", |t| {
            t == "开启 P云车场接入须填写 P云 park_uuid（P云 用它识别车场）"
        })
        .await;
    browser.type_into("park-edit-pyun-park-uuid", UUID_B).await;
    browser.click("park-edit-save").await;
    browser
        .wait_for_text("park-edit-error", |t| {
            t == "另一个已开启 P云车场接入的车场使用了该 P云 park_uuid"
        })
        .await;
    shoot(&browser, "pyun-park-form").await;
    browser.type_into("park-edit-pyun-park-uuid", UUID_A).await;
    browser.click("park-edit-save").await;
    browser.element("park-saved").await;
    browser.wait_gone("park-edit-form").await;
    // Saved with every other field kept.
    let (status, park) = send(
        &site.admin,
        Method::GET,
        &site.server.url(&format!("/api/v1/parks/{}", site.park_id)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{park}");
    assert_eq!(park["pyun_carpark_credential_id"], id, "{park}");
    assert_eq!(park["pyun_park_uuid"], UUID_A, "{park}");
    assert_eq!(park["pyun_credential_id"], site.credential_id, "{park}");
    assert_eq!(park["pyun_api_store_code"], "store-001", "{park}");
    assert!(park["tariff"].is_object(), "{park}");

    // P云 at work: a car inside, a coupon we sent applied, billed and paid; one coupon revoked;
    // a call signed with the replaced key; a plate with no stay.
    let gate = e2e::coupon_site::bearer_client(&site.server.api_key("gate", "gate", Some(PARK)));
    let (status, entered) = send(
        &gate,
        Method::POST,
        &site.server.url("/api/v1/gate/entries"),
        Some(json!({"park": PARK, "plate": PLATE, "time": rfc(ago(100)), "gate": "东1"})),
    )
    .await;
    assert_eq!(status, 201, "{entered}");
    let session = entered["session"]["id"].as_i64().expect("session id");
    let used = delivered_grant(&site, "ui-grant-1").await;
    assert_eq!(coupon(&site, &used).await.code(), "1001");
    let bill = call(
        &site,
        DOWNLINK_KEY,
        "service.parking.payment.billing",
        json!({"plate": PLATE}),
    )
    .await;
    assert_eq!(
        (bill.code(), bill.signed),
        ("1001", Some(true)),
        "{:?}",
        bill.json
    );
    let value = bill.json["pay_value"].as_i64().expect("pay_value");
    let pay_time = protocol::time::format_pyun_local(chrono::Utc::now());
    let paid = call(
        &site,
        DOWNLINK_KEY,
        "service.parking.payment.result",
        json!({"parking_serial": bill.json["parking_serial"], "parking_order": bill.json["parking_order"],
               "pay_serial": "UI-PAY-1", "pay_time": pay_time, "value": value, "pay_value": value,
               "pay_origin": 8, "pay_origin_desc": "微信", "autopay_type": 0}),
    )
    .await;
    assert_eq!(paid.code(), "1001", "{:?}", paid.json);
    let revoked = delivered_grant(&site, "ui-grant-2").await;
    assert_eq!(coupon(&site, &revoked).await.code(), "1001");
    let destroyed = call(
        &site,
        DOWNLINK_KEY,
        "service.parking.discount.destroy",
        json!({"grant_serial": revoked}),
    )
    .await;
    assert_eq!(destroyed.code(), "1001", "{:?}", destroyed.json);
    let stale = call(
        &site,
        FIRST_KEY,
        "service.parking.payment.billing",
        json!({"plate": PLATE}),
    )
    .await;
    assert_eq!(stale.code(), "1401", "{:?}", stale.json);
    let nobody = call(
        &site,
        DOWNLINK_KEY,
        "service.parking.payment.billing",
        json!({"plate": "沪A79999"}),
    )
    .await;
    assert_eq!(nobody.code(), "1002", "{:?}", nobody.json);

    // The gateway page, from the car park's row.
    browser.click(&format!("park-pyun-{PARK}")).await;
    browser
        .wait_for_text("pyun-access-state", |t| t == "已开启")
        .await;
    assert_eq!(browser.text_of("pyun-park-uuid").await, UUID_A);
    assert_eq!(
        browser.value_of("pyun-gateway-url").await,
        format!("{}/pyun/v1/gateway", site.server.base_url)
    );
    let rows = wait_for_calls(&browser, 7).await;
    let seen: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(code, service, class)| (code.as_str(), service.as_str(), class.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("1002", "查费", "badge badge-warn"),
            ("1401", "查费", "badge badge-danger"),
            ("1001", "撤券", "badge badge-ok"),
            ("1001", "发券", "badge badge-ok"),
            ("1001", "支付通知", "badge badge-ok"),
            ("1001", "查费", "badge badge-ok"),
            ("1001", "发券", "badge badge-ok"),
        ]
    );
    // A row opens onto the request and the reply, indented.
    let notice = browser
        .client
        .execute(
            "return [...document.querySelectorAll('tr.clickable')][4].dataset.testid;",
            vec![],
        )
        .await
        .expect("the notice's row")
        .as_str()
        .expect("a test id")
        .to_owned();
    browser.click(&notice).await;
    let detail = notice.replace("pyun-call-", "pyun-call-detail-");
    browser.element(&detail).await;
    let request = browser.text_of("call-request").await;
    assert!(
        request.starts_with("{\n  \"")
            && request.contains("\"service\": \"service.parking.payment.result\"")
            && request.contains("\"pay_serial\": \"UI-PAY-1\""),
        "{request}"
    );
    let reply = browser.text_of("call-reply").await;
    assert!(reply.contains("\"result_code\": \"1001\""), "{reply}");
    // The copy button copies, or selects the address where the browser may not.
    browser.click("pyun-gateway-copy").await;
    let started = Instant::now();
    while !browser.exists("pyun-copied").await && !browser.exists("pyun-copy-failed").await {
        assert!(started.elapsed() < Duration::from_secs(10), "no copy toast");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shoot(&browser, "pyun-gateway").await;
    // A new call shows after a refresh, on top.
    let realtime = call(&site, DOWNLINK_KEY, "service.parking.realtime", json!({})).await;
    assert_eq!(realtime.code(), "1001", "{:?}", realtime.json);
    browser.click("pyun-refresh").await;
    let rows = wait_for_calls(&browser, 8).await;
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("1001", "实时"));
    browser.click("lang-switch").await;
    browser
        .wait_for_text("pyun-access-state", |t| t == "On")
        .await;
    assert_eq!(call_rows(&browser).await[0].1, "Realtime");
    browser.click("lang-switch").await;
    browser
        .wait_for_text("pyun-access-state", |t| t == "已开启")
        .await;

    // The coupon records say where P云 applied each coupon.
    browser.goto(&site.server.url("/coupons")).await;
    let link = format!("已应用于停车记录 #{session}");
    let started = Instant::now();
    while browser.count("[data-testid='coupon-applied']").await < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no applied coupons"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let applied = browser
        .client
        .execute(
            "return [...document.querySelectorAll(\"[data-testid='coupon-applied']\")] \
               .map(a => [a.dataset.state, a.textContent.trim()]);",
            vec![],
        )
        .await
        .expect("read the applied notes");
    assert_eq!(
        applied,
        json!([
            ["revoked", format!("{link} 已撤销")],
            ["used", format!("{link} 抵扣 ¥6.00")]
        ])
    );
    shoot(&browser, "pyun-coupon-records").await;

    // The stay shows the payment P云 collected.
    browser.click("coupon-applied-link").await;
    browser
        .wait_for_text("payment-channel", |t| t == "P云")
        .await;
    assert_eq!(
        browser.text_of("payment-order").await,
        bill.json["parking_order"].as_str().unwrap_or_default()
    );
    assert_eq!(
        browser.attr_of("payment-amount", "data-fen").await,
        Some(value.to_string())
    );
    shoot(&browser, "pyun-stay").await;
    browser.close().await;
}

/// The upload rows on the car park's P云 page, newest first: key, raw state, badge text, badge
/// class, and the P云 plaintext shown under the row (empty when none).
async fn upload_rows(browser: &Browser) -> Vec<[String; 5]> {
    let v = browser
        .client
        .execute(
            "return [...document.querySelectorAll('tr[data-testid^=\"pyun-upload-\"][data-key]')] \
               .map(r => { const b = r.querySelector(\"[data-testid='upload-state']\"); \
                 const next = r.nextElementSibling; \
                 const hint = next && next.classList.contains('upload-hint') \
                   ? next.querySelector(\"[data-testid='upload-sign-hint']\").textContent : ''; \
                 return [r.dataset.key, r.dataset.state, b.textContent.trim(), b.className, hint]; });",
            vec![],
        )
        .await
        .expect("read the upload rows");
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| std::array::from_fn(|i| r[i].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// Waits until the upload rows shown satisfy `done`; panics with them after 30 s.
async fn wait_for_uploads(
    browser: &Browser,
    done: impl Fn(&[[String; 5]]) -> bool,
) -> Vec<[String; 5]> {
    let started = Instant::now();
    loop {
        let rows = upload_rows(browser).await;
        if done(&rows) {
            return rows;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the uploads never showed as wanted: {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sees_the_uploads_pyun_ignored_and_resends_them_once_fixed() {
    use e2e::pyun_gateway_site::{self as carpark, PyunSite};
    use e2e::server::TestServer;
    use e2e::vip_site::{PARK_A, PASSWORD};
    use sandbox::pyun::{CarParkRegistration, PyunSandbox};

    let pyun = PyunSandbox::new();
    let running = pyun
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sandbox starts");
    let base = format!("PARKBRIDGE_PYUN_BASE_URL={}", running.base_url);
    let mut args = vec![base.as_str()];
    args.extend_from_slice(&FAST_RETRIES);
    let server = TestServer::start_with(Backend::Sqlite, &args);
    pyun.register_carpark(CarParkRegistration {
        park_uuid: carpark::PARK_UUID.into(),
        gateway_url: server.url("/pyun/v1/gateway"),
        downlink_key: carpark::DOWNLINK_KEY.into(),
        upload_secret: carpark::UPLOAD_SECRET.into(),
        api_store_code: None,
        merchant: None,
    })
    .expect("registered");
    let p = PyunSite::with_server(server).await;
    let site = &p.site;
    let records = || async {
        let (status, page) = send(
            &site.vip.admin,
            Method::GET,
            &site.vip.server.url(&format!(
                "/api/v1/coupon-records?kind=pyun_uploads&park_id={}",
                site.vip.park_a
            )),
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        page["records"].as_array().cloned().unwrap_or_default()
    };
    let settled = |n: usize| async move {
        let started = Instant::now();
        loop {
            let rows = records().await;
            if rows.len() == n
                && rows
                    .iter()
                    .all(|r| !matches!(r["state"].as_str(), Some("pending" | "sending")))
            {
                return rows;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{rows:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };

    // One stay delivered; then P云 refuses our signature (200 + hint) for another's entry and leave.
    let first = site.enter(PARK_A, Some("沪A70051"), ago(90)).await;
    settled(1).await;
    assert!(pyun.set_sign_hint(carpark::PARK_UUID, true));
    let stay = site.enter(PARK_A, Some("沪A70052"), ago(40)).await;
    settled(2).await;
    site.exit(PARK_A, "沪A70052", ago(2)).await;
    settled(3).await;
    let (first, stay) = (first["id"].as_i64().unwrap(), stay["id"].as_i64().unwrap());

    let browser = Browser::start().await;
    set_viewport(&browser, DESKTOP.0, DESKTOP.1).await;
    browser
        .sign_in(&site.vip.server.base_url, "root", PASSWORD)
        .await;
    browser
        .goto(
            &site
                .vip
                .server
                .url(&format!("/parks/{}/pyun", site.vip.park_a)),
        )
        .await;
    let rows = wait_for_uploads(&browser, |rows| rows.len() == 3).await;
    let keys: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        keys,
        [
            format!("leave:{stay}"),
            format!("enter:{stay}"),
            format!("enter:{first}")
        ]
    );
    for row in &rows[..2] {
        assert_eq!(
            (row[1].as_str(), row[2].as_str(), row[3].as_str()),
            ("misconfigured", "配置错误", "badge badge-warn"),
            "{row:?}"
        );
        assert!(
            row[4].starts_with("签名验证不通过[")
                && row[4].contains("app_secret=***")
                && row[4].contains(&format!("parking_serial=PB{stay}")),
            "P云's plaintext in full: {row:?}"
        );
    }
    assert_eq!(
        (
            rows[2][1].as_str(),
            rows[2][2].as_str(),
            rows[2][4].as_str()
        ),
        ("delivered", "已送达", "")
    );
    let text = browser.text_of("pyun-uploads").await;
    assert!(
        text.contains("上传记录（P云 上传）") && text.contains("上传密钥或 P云 park_uuid 有误"),
        "{text}"
    );
    assert!(!text.contains(carpark::UPLOAD_SECRET), "{text}");
    assert_eq!(
        browser.text_of("pyun-uploads-resend").await,
        "重新发送失败的上传"
    );
    shoot(&browser, "pyun-uploads-misconfigured").await;

    // Fixed at P云's side: the resend puts both back in line and the page follows them.
    assert!(pyun.set_sign_hint(carpark::PARK_UUID, false));
    browser.click("pyun-uploads-resend").await;
    browser
        .wait_for_text("pyun-uploads-requeued", |t| t == "已重新排队 2 条上传")
        .await;
    let rows = wait_for_uploads(&browser, |rows| {
        rows.len() == 3 && rows.iter().all(|r| r[1] == "delivered")
    })
    .await;
    for row in &rows {
        assert_eq!(
            (row[2].as_str(), row[3].as_str(), row[4].as_str()),
            ("已送达", "badge badge-ok", ""),
            "{row:?}"
        );
    }
    browser.wait_gone("pyun-uploads-resend").await;
    let accepted = pyun
        .uploads(Some(carpark::PARK_UUID))
        .into_iter()
        .filter(|u| {
            u.parking_serial.as_deref() == Some(&format!("PB{stay}"))
                && u.answer.code.as_deref() == Some("200")
                && u.hint.is_none()
        })
        .count();
    assert_eq!(accepted, 2, "the entry and the leave, once each");
    shoot(&browser, "pyun-uploads-resent").await;
    browser.click("lang-switch").await;
    browser
        .wait_for_text("pyun-uploads-requeued", |t| {
            t == "2 uploads put back in line"
        })
        .await;
    assert_eq!(upload_rows(&browser).await[0][2], "Delivered");
    browser.close().await;
    drop(running);
}
