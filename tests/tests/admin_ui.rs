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
            "nav-credentials",
            "nav-users",
            "nav-api-keys",
            "nav-audit",
            "nav-preview"
        ]
    );
    assert_eq!(browser.text_of("nav-credentials").await, "凭据");
    browser.click("sign-out").await;
    browser.element("login-form").await;

    for user in ["manager", "staff"] {
        browser.sign_in(&server.base_url, user, PASSWORD).await;
        assert_eq!(nav_of(&browser).await, ["nav-parks", "nav-preview"]);
        // Pages outside the role's navigation say so when typed in directly.
        for path in ["/credentials", "/users", "/api-keys", "/audit"] {
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
    browser.wait_for_text("nav-users", |t| t == "Users").await;
    assert_eq!(
        browser.text_of("app-title").await,
        "ParkBridge parking gateway"
    );

    // And back to Chinese, re-rendering what is already on screen.
    browser.click("lang-switch").await;
    browser.wait_for_text("nav-users", |t| t == "用户").await;
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
async fn an_admin_creates_a_car_park_and_sees_it_listed() {
    let server = server_with_one_user_per_role();
    let browser = Browser::start().await;
    browser.sign_in(&server.base_url, "root", PASSWORD).await;
    browser.click("nav-parks").await;
    browser.type_into("park-code", "P001").await;
    browser.type_into("park-name", "万象城停车场").await;
    browser.type_into("park-pyun-park-uuid", "uuid-1234").await;
    browser.click("park-create").await;
    browser
        .wait_for_text("park-name-P001", |t| t == "万象城停车场")
        .await;

    // Its tariff is edited as JSON and checked in the browser by the protocol crate first.
    browser.click("edit-tariff-P001").await;
    browser.type_into("tariff-json", "{ not json").await;
    browser.click("tariff-save").await;
    let err = browser.text_of("tariff-error").await;
    assert!(err.starts_with("JSON 格式错误"), "error text: {err}");
    browser
        .type_into(
            "tariff-json",
            r#"{"free_minutes":15,"grace_minutes":15,"pricing":{"kind":"simple","first_minutes":0,"first_price":500,"unit_minutes":60,"unit_price":300}}"#,
        )
        .await;
    browser.click("tariff-save").await;
    let err = browser.text_of("tariff-error").await;
    assert!(err.starts_with("收费标准无效"), "error text: {err}");
    browser
        .type_into(
            "tariff-json",
            &serde_json::to_string(&example_tariff()).expect("json"),
        )
        .await;
    browser.click("tariff-save").await;
    browser
        .wait_for_text("tariff-saved", |t| t == "已保存")
        .await;
    browser.wait_gone("tariff-editor").await;
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
    browser
        .wait_for_text("api-key-revoked-gate-east", |t| t == "已吊销")
        .await;
    browser.close().await;
}

/// The protocol crate's example tariff, as JSON (the test crate does not depend on `protocol`).
fn example_tariff() -> serde_json::Value {
    serde_json::json!({
        "free_minutes": 15,
        "grace_minutes": 15,
        "pricing": {
            "kind": "simple", "first_minutes": 60, "first_price": 1000, "unit_minutes": 30, "unit_price": 300
        },
        "cycle_cap": 5000
    })
}
