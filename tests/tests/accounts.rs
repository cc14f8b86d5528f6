//! Accounts end to end on SQLite and PostgreSQL: bootstrap by CLI, sign-in, sessions, rate
//! limit, user management and its conflicts.

use e2e::on_both_backends;
use e2e::server::TestServer;
use serde_json::{Value, json};

const ADMIN_PW: &str = "correct horse battery";

async fn login(server: &TestServer, username: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

on_both_backends! {
    async fn the_first_admin_is_bootstrapped_by_cli_and_signs_in_and_out(server: TestServer) {
        server.add_user("root", "admin", ADMIN_PW);
        let resp = login(&server, "root", ADMIN_PW).await;
        assert_eq!(resp.status(), 200);
        let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("pb_session="), "{cookie}");
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(attr), "cookie lacks {attr}: {cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain HTTP must not set Secure: {cookie}");
        let me: Value = resp.json().await.unwrap();
        assert_eq!(me["username"], "root");
        assert_eq!(me["role"], "admin");

        let client = server.signed_in("root", ADMIN_PW).await;
        let me: Value = client.get(server.url("/api/v1/auth/me")).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["username"], "root");
        assert_eq!(client.post(server.url("/api/v1/auth/logout")).send().await.unwrap().status(), 200);
        // The jar's cookie was cleared; a replayed old token is refused too (revoked in the database).
        assert_eq!(client.get(server.url("/api/v1/auth/me")).send().await.unwrap().status(), 401);
    }

    async fn a_revoked_session_token_is_refused_even_if_replayed(server: TestServer) {
        server.add_user("root", "admin", ADMIN_PW);
        let resp = login(&server, "root", ADMIN_PW).await;
        let cookie = resp.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let me = |c: String| {
            let url = server.url("/api/v1/auth/me");
            async move { reqwest::Client::new().get(url).header("cookie", c).send().await.unwrap().status() }
        };
        assert_eq!(me(cookie.clone()).await, 200);
        let out = reqwest::Client::new().post(server.url("/api/v1/auth/logout")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(out.status(), 200);
        assert_eq!(me(cookie).await, 401);
    }

    async fn behind_a_tls_proxy_the_cookie_is_secure(server: TestServer) {
        server.add_user("root", "admin", ADMIN_PW);
        let resp = reqwest::Client::new()
            .post(server.url("/api/v1/auth/login"))
            .header("x-forwarded-proto", "https")
            .json(&json!({ "username": "root", "password": ADMIN_PW }))
            .send()
            .await
            .unwrap();
        assert!(resp.headers()["set-cookie"].to_str().unwrap().contains("Secure"));
    }

    async fn wrong_passwords_are_refused_then_rate_limited_per_account(server: TestServer) {
        server.add_user("root", "admin", ADMIN_PW);
        for _ in 0..5 {
            let resp = login(&server, "root", "wrong password").await;
            assert_eq!(resp.status(), 400);
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "bad_credentials");
        }
        // Even the right password is refused while the account is limited.
        let resp = login(&server, "root", ADMIN_PW).await;
        assert_eq!(resp.status(), 429);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "too_many_requests");
        // Unknown users are answered exactly like wrong passwords.
        let resp = login(&server, "nobody", "whatever1").await;
        assert_eq!(resp.status(), 400);
    }

    async fn one_address_guessing_many_accounts_is_rate_limited(server: TestServer) {
        server.add_user("root", "admin", ADMIN_PW);
        // 20 failures spread over accounts (at most 4 each, under the per-account limit).
        for i in 0..20 {
            let resp = login(&server, &format!("guess{}", i % 5), "wrong password").await;
            assert_eq!(resp.status(), 400, "attempt {i}");
        }
        // This address is now refused, even for a good password of an untouched account.
        assert_eq!(login(&server, "root", ADMIN_PW).await.status(), 429);
    }

    async fn admins_manage_users_and_duplicates_are_a_409(server: TestServer) {
        server.add_user("root", "admin", ADMIN_PW);
        let admin = server.signed_in("root", ADMIN_PW).await;
        let create = |body: Value| admin.post(server.url("/api/v1/users")).json(&body).send();
        let resp = create(json!({ "username": "alice", "password": "alice-pass-1", "role": "mall_staff" })).await.unwrap();
        assert_eq!(resp.status(), 201);
        let alice: Value = resp.json().await.unwrap();
        assert_eq!(alice["role"], "mall_staff");
        assert!(alice.get("password_hash").is_none());

        let resp = create(json!({ "username": "alice", "password": "other-pass-2", "role": "admin" })).await.unwrap();
        assert_eq!(resp.status(), 409);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "username_taken");

        let resp = create(json!({ "username": "bob", "password": "short", "role": "admin" })).await.unwrap();
        assert_eq!(resp.status(), 400);
        let resp = create(json!({ "username": "bob", "password": "long enough", "role": "superuser" })).await.unwrap();
        assert_eq!(resp.status(), 400);
        let resp = create(json!({ "username": "bob", "password": "long enough", "role": "admin", "parks": [999] })).await.unwrap();
        assert_eq!(resp.status(), 422, "an unknown car park is the client's mistake, in a well-formed request");

        // A change naming an unknown car park is refused whole: the role stays as it was.
        let id = alice["id"].as_i64().unwrap();
        let resp = admin.put(server.url(&format!("/api/v1/users/{id}"))).json(&json!({ "role": "admin", "parks": [999] })).send().await.unwrap();
        assert_eq!(resp.status(), 422);
        let users: Value = admin.get(server.url("/api/v1/users")).send().await.unwrap().json().await.unwrap();
        assert_eq!(users[0]["role"], "mall_staff", "{users}");

        // Alice signs in; disabling her ends her session at once.
        let alice_client = server.signed_in("alice", "alice-pass-1").await;
        let id = alice["id"].as_i64().unwrap();
        let resp = admin.put(server.url(&format!("/api/v1/users/{id}"))).json(&json!({ "disabled": true })).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(alice_client.get(server.url("/api/v1/auth/me")).send().await.unwrap().status(), 401);
        assert_eq!(login(&server, "alice", "alice-pass-1").await.status(), 400);

        // The admin cannot lock themself out.
        let me: Value = admin.get(server.url("/api/v1/auth/me")).send().await.unwrap().json().await.unwrap();
        let my_id = me["id"].as_i64().unwrap();
        let resp = admin.put(server.url(&format!("/api/v1/users/{my_id}"))).json(&json!({ "disabled": true })).send().await.unwrap();
        assert_eq!(resp.status(), 422, "self_lockout");

        let users: Value = admin.get(server.url("/api/v1/users")).send().await.unwrap().json().await.unwrap();
        let names: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["alice", "root"]);
    }

    async fn bad_bodies_are_clear_400s_not_500s(server: TestServer) {
        let client = reqwest::Client::new();
        let resp = client.post(server.url("/api/v1/auth/login")).header("content-type", "application/json").body("{not json").send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "malformed_json");
        let resp = client.post(server.url("/api/v1/auth/login")).json(&json!({ "username": "x", "password": "y", "extra": 1 })).send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let resp = client.post(server.url("/api/v1/auth/login")).body("username=x").send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unsupported_media_type");
    }
}

#[test]
fn cli_refuses_a_duplicate_username_and_a_short_password() {
    let server = TestServer::start();
    server.add_user("root", "admin", ADMIN_PW);
    let out = server.cli(
        &[
            "user",
            "add",
            "--username",
            "root",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "another-pass\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already taken"));
    let out = server.cli(
        &[
            "user",
            "add",
            "--username",
            "eve",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"));
}

/// One failed sign-in for `username` reported as coming from `forwarded_for`.
async fn login_via_proxy(
    server: &TestServer,
    forwarded_for: &str,
    username: &str,
    password: &str,
) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(server.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_address_limit_counts_each_client_not_the_proxy() {
    // The test client connects from 127.0.0.1, which plays the reverse proxy.
    let server = TestServer::start_with(
        e2e::server::Backend::Sqlite,
        &["--trusted-proxies", "127.0.0.1"],
    );
    server.add_user("root", "admin", ADMIN_PW);
    // 20 failures from one client behind the proxy (spread over accounts)…
    for i in 0..20 {
        let status =
            login_via_proxy(&server, "203.0.113.7", &format!("guess{}", i % 5), "wrong").await;
        assert_eq!(status, 400, "attempt {i}");
    }
    // …limit that client only; the others behind the same proxy still sign in.
    assert_eq!(
        login_via_proxy(&server, "203.0.113.7", "root", ADMIN_PW).await,
        429
    );
    assert_eq!(
        login_via_proxy(&server, "203.0.113.8", "root", ADMIN_PW).await,
        200
    );
    // What a client writes to the left of the proxy's entry is not believed.
    assert_eq!(
        login_via_proxy(&server, "198.51.100.9, 203.0.113.7", "root", ADMIN_PW).await,
        429
    );
}

#[tokio::test]
async fn without_trusted_proxies_a_forged_x_forwarded_for_does_not_escape_the_limit() {
    let server = TestServer::start();
    server.add_user("root", "admin", ADMIN_PW);
    for i in 0..20 {
        // A new made-up address on every attempt: all of them count against the real peer.
        let status = login_via_proxy(
            &server,
            &format!("203.0.113.{i}"),
            &format!("guess{}", i % 5),
            "wrong",
        )
        .await;
        assert_eq!(status, 400, "attempt {i}");
    }
    assert_eq!(
        login_via_proxy(&server, "203.0.113.200", "root", ADMIN_PW).await,
        429
    );
}
