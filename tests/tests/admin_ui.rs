//! The admin UI in headless Chromium against the real server: sign-in, navigation by role,
//! the language switch, and the admin's pages creating car parks, users and API keys.

use e2e::browser::Browser;
use e2e::server::TestServer;

const PASSWORD: &str = "correct-horse-1";

fn server_with_one_user_per_role() -> TestServer {
    let server = TestServer::start();
    server.add_user("root", "admin", PASSWORD);
    server.add_user("manager", "property_manager", PASSWORD);
    server.add_user("staff", "mall_staff", PASSWORD);
    server
}

async fn nav_of(browser: &Browser) -> Vec<String> {
    browser.element("nav-parks").await;
    browser.test_ids_with_prefix("nav-").await
}

#[tokio::test]
async fn each_role_sees_only_its_pages_and_is_refused_the_others() {
    let server = server_with_one_user_per_role();
    let browser = Browser::start().await;

    browser.sign_in(&server.base_url, "root", PASSWORD).await;
    assert_eq!(
        nav_of(&browser).await,
        [
            "nav-parks",
            "nav-coupons",
            "nav-shops",
            "nav-vip",
            "nav-traffic",
            "nav-sessions",
            "nav-problems",
            "nav-preview",
            // The set-up pages, in the 系统 menu.
            "nav-system",
            "nav-credentials",
            "nav-users",
            "nav-api-keys",
            "nav-audit",
            "nav-alerts"
        ]
    );
    browser.click("nav-system").await;
    assert_eq!(browser.text_of("nav-credentials").await, "凭据");
    browser.click("nav-system").await;
    browser.click("sign-out").await;
    browser.element("login-form").await;

    for (user, nav, refused) in [
        (
            "manager",
            &[
                "nav-parks",
                "nav-coupons",
                "nav-shops",
                "nav-vip",
                "nav-traffic",
                "nav-sessions",
                "nav-problems",
                "nav-preview",
            ][..],
            &["/credentials", "/users", "/api-keys", "/audit"][..],
        ),
        (
            "staff",
            &["nav-parks", "nav-traffic", "nav-sessions", "nav-preview"][..],
            &[
                "/credentials",
                "/users",
                "/api-keys",
                "/audit",
                "/coupons",
                "/vip",
                "/shops",
                "/shops/1/statement",
                "/parks/1/tariff",
            ][..],
        ),
    ] {
        browser.sign_in(&server.base_url, user, PASSWORD).await;
        assert_eq!(nav_of(&browser).await, nav);
        // Pages outside the role's navigation say so when typed in directly.
        for path in refused {
            browser.goto(&server.url(path)).await;
            browser.wait_for_text("forbidden", |t| t == "无权限").await;
            assert!(!browser.exists("user-form").await);
        }
        browser.click("sign-out").await;
        browser.element("login-form").await;
    }

    // Signed out, the signed-in area sends the browser to the sign-in page.
    browser.goto(&server.url("/users")).await;
    browser.element("login-form").await;
    assert!(!browser.exists("nav").await);
    browser.close().await;
}

#[tokio::test]
async fn a_wrong_password_is_explained_next_to_the_form() {
    let server = server_with_one_user_per_role();
    let browser = Browser::start().await;
    browser.goto(&server.url("/login")).await;
    browser.type_into("login-username", "root").await;
    browser
        .type_into("login-password", "not-the-password")
        .await;
    browser.click("login-submit").await;
    browser
        .wait_for_text("login-error", |t| t == "用户名或密码错误")
        .await;
    assert!(!browser.exists("nav").await);
    browser.close().await;
}

#[tokio::test]
async fn the_english_switch_translates_everything_and_survives_a_reload() {
    let server = server_with_one_user_per_role();
    let browser = Browser::start().await;
    browser.goto(&server.url("/login")).await;
    browser.wait_for_text("login-submit", |t| t == "登录").await;
    browser.click("lang-switch").await;
    browser
        .wait_for_text("login-submit", |t| t == "Sign in")
        .await;

    browser.sign_in(&server.base_url, "root", PASSWORD).await;
    browser
        .wait_for_text("nav-parks", |t| t == "Car parks")
        .await;
    browser.wait_for_text("health", |t| t == "Service OK").await;
    browser.client.refresh().await.expect("reload");
    browser
        .wait_for_text("nav-system", |t| t == "System ▾")
        .await;
    assert_eq!(
        browser.text_of("app-title").await,
        "ParkBridge parking gateway"
    );
    let title = browser.client.title().await.expect("title");
    assert_eq!(title, "ParkBridge parking gateway");

    // And back to Chinese, re-rendering what is already on screen.
    browser.click("lang-switch").await;
    browser.wait_for_text("nav-system", |t| t == "系统 ▾").await;
    browser.wait_for_text("sign-out", |t| t == "退出登录").await;
    browser.close().await;
}

#[tokio::test]
async fn an_admin_creates_and_disables_a_user() {
    let server = server_with_one_user_per_role();
    let browser = Browser::start().await;
    browser.sign_in(&server.base_url, "root", PASSWORD).await;
    browser.click("nav-users").await;
    browser.element("user-row-manager").await;

    // The server's refusal is shown next to the form.
    browser.type_into("user-username", "alice").await;
    browser.type_into("user-password", "short").await;
    browser.click("user-create").await;
    let err = browser.text_of("user-form-error").await;
    assert!(err.contains("password"), "error text: {err}");

    browser.type_into("user-password", "alice-password-1").await;
    browser.select("user-role", "property_manager").await;
    browser.click("user-create").await;
    browser
        .wait_for_text("user-role-alice", |t| t == "物业管理员")
        .await;

    browser.click("user-toggle-alice").await;
    browser
        .wait_for_text("user-status-alice", |t| t == "已停用")
        .await;
    browser.close().await;
}

#[tokio::test]
async fn an_admin_creates_a_car_park_and_its_manager_edits_the_tariff() {
    let server = server_with_one_user_per_role();
    let browser = Browser::start().await;
    browser.sign_in(&server.base_url, "root", PASSWORD).await;
    browser.click("nav-parks").await;
    browser.element("park-form").await;

    // The server's refusal is shown next to the form.
    browser.type_into("park-code", "P 1").await;
    browser.type_into("park-name", "万象城停车场").await;
    browser.click("park-create").await;
    let err = browser.text_of("park-form-error").await;
    assert!(err.contains("code"), "error text: {err}");

    browser.type_into("park-code", "p001").await;
    browser.type_into("park-pyun-park-uuid", "uuid-1234").await;
    browser.click("park-create").await;
    browser
        .wait_for_text("park-name-p001", |t| t == "万象城停车场")
        .await;
    assert_eq!(browser.value_of("park-code").await, "");

    // The manager and the staff member get the new car park.
    browser.click("nav-users").await;
    for user in ["manager", "staff"] {
        browser.click(&format!("user-edit-{user}")).await;
        browser.click("user-edit-park-p001").await;
        browser.click("user-edit-save").await;
        browser.wait_gone("user-edit-form").await;
    }
    browser
        .wait_for_text("user-row-staff", |t| t.contains("p001 万象城停车场"))
        .await;
    browser.sign_out().await;

    // The manager edits its tariff; the protocol crate checks it in the browser first.
    browser.sign_in(&server.base_url, "manager", PASSWORD).await;
    browser.element("park-row-p001").await;
    browser.click("edit-tariff-p001").await;
    browser.type_into("tariff-json", "{ not json").await;
    browser.click("tariff-save").await;
    let err = browser.text_of("tariff-error").await;
    assert!(err.starts_with("JSON 格式错误"), "error text: {err}");
    let no_first_block = r#"{"pricing":{"kind":"simple","first_minutes":0,"first_price":500,"unit_minutes":60,"unit_price":300}}"#;
    browser.type_into("tariff-json", no_first_block).await;
    browser.click("tariff-save").await;
    browser
        .wait_for_text("tariff-error", |t| t.starts_with("收费标准无效"))
        .await;
    let tariff = serde_json::json!({
        "free_minutes": 15,
        "pricing": {
            "kind": "simple", "first_minutes": 60, "first_price": 800, "unit_minutes": 30, "unit_price": 300
        },
        "cycle_cap": 5000
    });
    browser.type_into("tariff-json", &tariff.to_string()).await;
    browser.click("tariff-save").await;
    browser
        .wait_for_text("tariff-saved", |t| t == "已保存")
        .await;
    browser.wait_gone("tariff-editor").await;
    browser
        .wait_for_text("park-tariff-p001", |t| t.contains("¥8.00"))
        .await;
    assert!(
        !browser.exists("park-form").await,
        "only admins create car parks"
    );
    browser.sign_out().await;

    // Mall staff see the car park, read-only.
    browser.sign_in(&server.base_url, "staff", PASSWORD).await;
    browser.element("park-row-p001").await;
    assert!(!browser.exists("edit-tariff-p001").await);
    assert!(!browser.exists("park-form").await);
    browser.close().await;
}

#[tokio::test]
async fn credentials_are_written_never_shown_and_issued_pairs_appear_once() {
    let server = server_with_one_user_per_role();
    let browser = Browser::start().await;
    browser.sign_in(&server.base_url, "root", PASSWORD).await;
    browser.click("nav-credentials").await;

    let secret = "pyun-secret-Zq81x";
    browser.type_into("credential-name", "pyun-main").await;
    browser.select("credential-kind", "pyun").await;
    browser.type_into("credential-app-id", "app-0001").await;
    browser.type_into("credential-app-secret", secret).await;
    browser.click("credential-create").await;
    browser
        .wait_for_text("credential-row-pyun-main", |t| t.contains("app-0001"))
        .await;
    assert_eq!(browser.value_of("credential-app-secret").await, "");
    assert!(!browser.page_text().await.contains(secret));

    // Replace: an empty password input, cleared once sent; the value never comes back.
    let replacement = "pyun-secret-Replaced-77";
    browser.click("credential-replace-pyun-main").await;
    assert_eq!(browser.value_of("secret-input").await, "");
    let kind = browser.element("secret-input").await.attr("type").await;
    assert_eq!(kind.expect("attribute"), Some("password".to_owned()));
    browser.type_into("secret-input", replacement).await;
    browser.click("secret-save").await;
    browser
        .wait_for_text("secret-replaced", |t| t == "密钥已替换")
        .await;
    assert!(!browser.page_text().await.contains(replacement));

    // Mallcoo inbound: we issue the pair, shown once with a warning.
    browser.type_into("credential-name", "mallcoo-in").await;
    browser.select("credential-kind", "mallcoo_inbound").await;
    browser.wait_gone("credential-app-id").await;
    browser.click("credential-create").await;
    let warning = browser.text_of("issued-pair").await;
    assert!(warning.contains("只显示这一次"), "box: {warning}");
    let private_key = browser.text_of("issued-private-key").await;
    assert!(private_key.len() > 20, "private key: {private_key:?}");
    browser.element("credential-row-mallcoo-in").await;
    browser.click("issued-dismiss").await;
    browser.wait_gone("issued-pair").await;
    assert!(!browser.page_text().await.contains(&private_key));

    browser.click("credential-rotate-mallcoo-in").await;
    let rotated = browser
        .wait_for_text("issued-private-key", |t| t.len() > 20)
        .await;
    assert_ne!(rotated, private_key);
    browser.client.refresh().await.expect("reload");
    browser.element("credential-row-mallcoo-in").await;
    assert!(!browser.exists("issued-pair").await);

    // The audit log records each change, newest first, and holds no secret.
    browser.click("nav-audit").await;
    browser.element("audit-row").await;
    assert_eq!(browser.text_of("audit-action").await, "credential.rotate");
    // Fewer entries than a page: the end of the log is said, not a "more" button.
    browser
        .wait_for_text("audit-end", |t| t == "没有更多了")
        .await;
    assert!(!browser.exists("audit-more").await);
    let page = browser.page_text().await;
    assert!(
        page.contains("credential.secret_replace"),
        "audit page: {page}"
    );
    for s in [secret, replacement, private_key.as_str(), rotated.as_str()] {
        assert!(!page.contains(s), "the audit page shows a secret");
    }
    browser.close().await;
}

#[tokio::test]
async fn an_api_key_is_shown_once_and_never_listed() {
    let server = server_with_one_user_per_role();
    let browser = Browser::start().await;
    browser.sign_in(&server.base_url, "root", PASSWORD).await;
    browser.click("nav-api-keys").await;
    browser.type_into("api-key-name", "gate-east").await;
    // No scope chosen: refused in the browser.
    browser.click("api-key-create").await;
    browser
        .wait_for_text("api-key-form-error", |t| t == "至少选择一个权限范围")
        .await;
    browser.click("api-key-scope-gate").await;
    browser.click("api-key-create").await;
    let key = browser.text_of("new-api-key").await;
    assert!(key.len() >= 20, "key: {key:?}");
    browser.element("api-key-row-gate-east").await;
    let listed = browser.text_of("api-keys-table").await;
    assert!(!listed.contains(&key), "the list shows the key: {listed}");

    // A reload forgets it: shown once.
    browser.client.refresh().await.expect("reload");
    browser.element("api-key-row-gate-east").await;
    assert!(!browser.exists("new-api-key").await);
    assert!(!browser.page_text().await.contains(&key));

    browser.click("api-key-revoke-gate-east").await;
    // Revoking asks first (the kit's confirm dialog).
    browser.click("confirm-yes").await;
    browser
        .wait_for_text("api-key-revoked-gate-east", |t| t == "已吊销")
        .await;
    browser.close().await;
}
