//! Car parks, credentials, the master key and the audit log, through the real binary on SQLite
//! and PostgreSQL — including the secret-leak test: secrets go in and never come out.

use e2e::on_both_backends;
use e2e::server::{Backend, TestServer, binary};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const ADMIN_PW: &str = "admin-password-1";
const USER_PW: &str = "user-password-1";

async fn admin(server: &TestServer) -> Client {
    server.add_user("root", "admin", ADMIN_PW);
    server.signed_in("root", ADMIN_PW).await
}

/// Sends `body` (if any) and returns the status and the JSON answer (`Null` when empty).
async fn call(
    server: &TestServer,
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client.request(method, server.url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn tariff_json() -> Value {
    json!({
        "free_minutes": 30,
        "grace_minutes": 20,
        "cycle_cap": 6000,
        "pricing": {"kind": "simple", "first_minutes": 60, "first_price": 800, "unit_minutes": 30, "unit_price": 200}
    })
}

async fn create_park(server: &TestServer, admin: &Client, code: &str, mallcoo: &str) -> i64 {
    let (status, park) = call(
        server,
        admin,
        Method::POST,
        "/api/v1/parks",
        Some(json!({"code": code, "name": format!("Park {code}"), "mallcoo_park_id": mallcoo})),
    )
    .await;
    assert_eq!(status, 201, "{park}");
    park["id"].as_i64().unwrap()
}

on_both_backends! {
    async fn parks_are_created_validated_updated_and_unique(server: TestServer) {
        let admin = admin(&server).await;
        let (status, park) = call(&server, &admin, Method::POST, "/api/v1/parks", Some(json!({
            "code": "north-1", "name": "北区停车场", "pyun_park_uuid": "uuid-1",
            "pyun_api_store_code": "4911419421", "pyun_merchant": "62626601",
            "mallcoo_park_id": "M100", "mallcoo_park_code": "P001"
        }))).await;
        assert_eq!(status, 201, "{park}");
        let id = park["id"].as_i64().unwrap();
        assert_eq!(park["code"], "north-1");
        assert_eq!(park["name"], "北区停车场");
        assert_eq!(park["pyun_merchant"], "62626601");
        assert_eq!(park["mallcoo_park_code"], "P001");
        assert_eq!(park["tariff"]["grace_minutes"], 15, "the example tariff by default");
        assert_eq!(park["pyun_credential_id"], Value::Null);
        assert!(park["created_at"].as_str().unwrap().contains('T'), "RFC 3339: {park}");

        let (status, got) = call(&server, &admin, Method::GET, &format!("/api/v1/parks/{id}"), None).await;
        assert_eq!(status, 200);
        assert_eq!(got, park);

        // Duplicates are 409, decided by the constraints.
        let (status, err) = call(&server, &admin, Method::POST, "/api/v1/parks",
            Some(json!({"code": "north-1", "name": "again"}))).await;
        assert_eq!(status, 409, "{err}");
        assert_eq!(err["error"]["code"], "park_code_taken");
        let (status, err) = call(&server, &admin, Method::POST, "/api/v1/parks",
            Some(json!({"code": "south", "name": "South", "mallcoo_park_id": "M100"}))).await;
        assert_eq!(status, 409, "{err}");
        assert_eq!(err["error"]["code"], "mallcoo_park_id_taken");

        // Validation.
        for (body, code) in [
            (json!({"code": "Upper", "name": "x"}), "invalid_code"),
            (json!({"code": "", "name": "x"}), "invalid_code"),
            (json!({"code": "a".repeat(33), "name": "x"}), "invalid_code"),
            (json!({"code": "ok", "name": " "}), "invalid_name"),
            (json!({"code": "ok", "name": "n".repeat(65)}), "invalid_name"),
            (json!({"code": "ok", "name": "x", "surprise": 1}), "invalid_body"),
            (json!({"code": "ok", "name": "x", "pyun_credential_id": 999}), "invalid_credential"),
            (json!({"code": "ok", "name": "x", "tariff": {"pricing": {"kind": "simple",
                "first_minutes": 0, "first_price": 0, "unit_minutes": 0, "unit_price": 1}}}), "invalid_tariff"),
        ] {
            let (status, err) = call(&server, &admin, Method::POST, "/api/v1/parks", Some(body.clone())).await;
            // A well-formed car park whose values do not fit together or name nothing is 422.
            let want = if matches!(code, "invalid_credential" | "invalid_tariff") { 422 } else { 400 };
            assert_eq!(status, want, "{body}: {err}");
            assert_eq!(err["error"]["code"], code, "{body}: {err}");
        }

        // A full update; an absent tariff keeps the current one, blank identifiers clear.
        let (status, _) = call(&server, &admin, Method::PUT, &format!("/api/v1/parks/{id}/tariff"),
            Some(tariff_json())).await;
        assert_eq!(status, 200);
        let (status, updated) = call(&server, &admin, Method::PUT, &format!("/api/v1/parks/{id}"), Some(json!({
            "code": "north", "name": "北区", "mallcoo_park_id": "", "pyun_merchant": " 777 "
        }))).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["code"], "north");
        assert_eq!(updated["mallcoo_park_id"], Value::Null);
        assert_eq!(updated["pyun_merchant"], "777");
        assert_eq!(updated["tariff"], tariff_json());
        let (status, _) = call(&server, &admin, Method::PUT, "/api/v1/parks/9999",
            Some(json!({"code": "zzz", "name": "z"}))).await;
        assert_eq!(status, 404);
        let other = create_park(&server, &admin, "other", "M200").await;
        let (status, err) = call(&server, &admin, Method::PUT, &format!("/api/v1/parks/{other}"),
            Some(json!({"code": "north", "name": "clash"}))).await;
        assert_eq!(status, 409, "{err}");

        let (status, list) = call(&server, &admin, Method::GET, "/api/v1/parks", None).await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().unwrap().len(), 2);
    }

    async fn each_role_sees_and_edits_only_what_it_may(server: TestServer) {
        let admin = admin(&server).await;
        let a = create_park(&server, &admin, "park-a", "MA").await;
        let b = create_park(&server, &admin, "park-b", "MB").await;
        for (name, role) in [("manager", "property_manager"), ("staff", "mall_staff")] {
            let (status, body) = call(&server, &admin, Method::POST, "/api/v1/users", Some(json!({
                "username": name, "password": USER_PW, "role": role, "parks": [a]
            }))).await;
            assert_eq!(status, 201, "{body}");
        }
        let pm = server.signed_in("manager", USER_PW).await;
        let staff = server.signed_in("staff", USER_PW).await;

        for client in [&pm, &staff] {
            let (status, list) = call(&server, client, Method::GET, "/api/v1/parks", None).await;
            assert_eq!(status, 200);
            let codes: Vec<&str> = list.as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
            assert_eq!(codes, ["park-a"]);
            let (status, _) = call(&server, client, Method::GET, &format!("/api/v1/parks/{a}"), None).await;
            assert_eq!(status, 200);
            // Another car park is not revealed, existing or not.
            for id in [b, 9999] {
                let (status, _) = call(&server, client, Method::GET, &format!("/api/v1/parks/{id}"), None).await;
                assert_eq!(status, 404);
            }
            for (method, path) in [(Method::POST, "/api/v1/parks".to_owned()), (Method::PUT, format!("/api/v1/parks/{a}"))] {
                let (status, _) = call(&server, client, method, &path,
                    Some(json!({"code": "x", "name": "x"}))).await;
                assert_eq!(status, 403);
            }
            let (status, _) = call(&server, client, Method::GET, "/api/v1/credentials", None).await;
            assert_eq!(status, 403);
            let (status, _) = call(&server, client, Method::GET, "/api/v1/audit", None).await;
            assert_eq!(status, 403);
        }

        // The property manager edits its own tariff, not another's.
        let (status, park) = call(&server, &pm, Method::PUT, &format!("/api/v1/parks/{a}/tariff"), Some(tariff_json())).await;
        assert_eq!(status, 200, "{park}");
        assert_eq!(park["tariff"], tariff_json());
        let (status, _) = call(&server, &pm, Method::PUT, &format!("/api/v1/parks/{b}/tariff"), Some(tariff_json())).await;
        assert_eq!(status, 403);
        let mut bad = tariff_json();
        bad["pricing"]["unit_price"] = json!(-5);
        let (status, err) = call(&server, &pm, Method::PUT, &format!("/api/v1/parks/{a}/tariff"), Some(bad)).await;
        assert_eq!(status, 422);
        assert_eq!(err["error"]["code"], "invalid_tariff");
        assert!(err["error"]["message"].as_str().unwrap().contains("pricing.unit_price"), "{err}");
        let (status, _) = call(&server, &staff, Method::PUT, &format!("/api/v1/parks/{a}/tariff"), Some(tariff_json())).await;
        assert_eq!(status, 403, "mall staff is read-only");
        // Anonymous callers are refused everywhere.
        let anon = Client::new();
        let (status, _) = call(&server, &anon, Method::GET, "/api/v1/parks", None).await;
        assert_eq!(status, 401);

        // Every write above is in the audit log, attributed.
        let (status, entries) = call(&server, &admin, Method::GET, "/api/v1/audit?limit=500", None).await;
        assert_eq!(status, 200);
        let entries = entries.as_array().unwrap();
        assert!(entries.iter().any(|e| e["action"] == "park.tariff_update" && e["actor"] == "user:manager"
            && e["target"] == "park:park-a"), "{entries:?}");
        assert!(entries.iter().any(|e| e["action"] == "park.create" && e["actor"] == "user:root"));
    }

    async fn credentials_are_created_listed_replaced_rotated_and_referenced(server: TestServer) {
        let admin = admin(&server).await;
        let (status, created) = call(&server, &admin, Method::POST, "/api/v1/credentials", Some(json!({
            "name": "pyun-main", "kind": "pyun", "app_id": "op74061a7d244f7b7", "app_secret": "e9ae5402dbabc68c1c4x"
        }))).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["credential"]["public"], json!({"app_id": "op74061a7d244f7b7"}));
        assert!(created.get("issued").is_none(), "{created}");
        let pyun = created["credential"]["id"].as_i64().unwrap();

        let (status, created) = call(&server, &admin, Method::POST, "/api/v1/credentials", Some(json!({
            "name": "mallcoo-out", "kind": "mallcoo_outbound", "app_id": "mc-app", "public_key": "PK_1", "private_key": "SK_1_secret"
        }))).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["credential"]["public"], json!({"app_id": "mc-app", "public_key": "PK_1"}));
        let out = created["credential"]["id"].as_i64().unwrap();

        let (status, created) = call(&server, &admin, Method::POST, "/api/v1/credentials", Some(json!({
            "name": "mallcoo-in", "kind": "mallcoo_inbound"
        }))).await;
        assert_eq!(status, 201, "{created}");
        let inbound = created["credential"]["id"].as_i64().unwrap();
        let issued = &created["issued"];
        assert_eq!(issued["app_id"], created["credential"]["public"]["app_id"]);
        assert_eq!(issued["public_key"], created["credential"]["public"]["public_key"]);
        let first_private = issued["private_key"].as_str().unwrap().to_owned();
        assert_eq!(first_private.len(), 64);

        // Validation per kind, and duplicates.
        for (body, code) in [
            (json!({"name": "p2", "kind": "pyun", "app_id": "a"}), "missing_field"),
            (json!({"name": "p2", "kind": "pyun", "app_secret": "s"}), "missing_field"),
            (json!({"name": "p2", "kind": "pyun", "app_id": "a", "app_secret": "s", "private_key": "k"}), "unexpected_field"),
            (json!({"name": "p2", "kind": "pyun", "app_id": "a", "app_secret": " s"}), "invalid_secret"),
            (json!({"name": "p2", "kind": "mallcoo_outbound", "app_id": "a", "private_key": "k"}), "missing_field"),
            (json!({"name": "p2", "kind": "mallcoo_inbound", "private_key": "k"}), "unexpected_field"),
            (json!({"name": "", "kind": "pyun", "app_id": "a", "app_secret": "s"}), "invalid_name"),
            (json!({"name": "p2", "kind": "nope"}), "invalid_body"),
        ] {
            let (status, err) = call(&server, &admin, Method::POST, "/api/v1/credentials", Some(body.clone())).await;
            // Fields the kind needs or does not use are a rule between fields: 422.
            let want = if matches!(code, "missing_field" | "unexpected_field") { 422 } else { 400 };
            assert_eq!(status, want, "{body}: {err}");
            assert_eq!(err["error"]["code"], code, "{body}: {err}");
        }
        let (status, err) = call(&server, &admin, Method::POST, "/api/v1/credentials", Some(json!({
            "name": "pyun-main", "kind": "pyun", "app_id": "x", "app_secret": "y"
        }))).await;
        assert_eq!(status, 409, "{err}");

        // Replace (write-only) and rotate.
        let (status, view) = call(&server, &admin, Method::PUT, &format!("/api/v1/credentials/{pyun}/secret"),
            Some(json!({"secret": "new-pyun-secret"}))).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["public"]["app_id"], "op74061a7d244f7b7");
        assert!(!view.to_string().contains("new-pyun-secret"));
        let (status, _) = call(&server, &admin, Method::PUT, &format!("/api/v1/credentials/{out}/secret"),
            Some(json!({"secret": "SK_2_secret"}))).await;
        assert_eq!(status, 200);
        let (status, err) = call(&server, &admin, Method::PUT, &format!("/api/v1/credentials/{inbound}/secret"),
            Some(json!({"secret": "mine"}))).await;
        assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("use_rotate")));
        let (status, _) = call(&server, &admin, Method::PUT, "/api/v1/credentials/9999/secret",
            Some(json!({"secret": "x"}))).await;
        assert_eq!(status, 404);
        let (status, err) = call(&server, &admin, Method::POST, &format!("/api/v1/credentials/{pyun}/rotate"), None).await;
        assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("not_rotatable")));
        let (status, rotated) = call(&server, &admin, Method::POST, &format!("/api/v1/credentials/{inbound}/rotate"), None).await;
        assert_eq!(status, 200, "{rotated}");
        assert_eq!(rotated["issued"]["app_id"], issued["app_id"], "the AppID stays");
        assert_ne!(rotated["issued"]["public_key"], issued["public_key"]);
        assert_ne!(rotated["issued"]["private_key"].as_str().unwrap(), first_private);

        let (status, list) = call(&server, &admin, Method::GET, "/api/v1/credentials", None).await;
        assert_eq!(status, 200);
        let names: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["mallcoo-in", "mallcoo-out", "pyun-main"]);
        assert_eq!(list[0]["public"]["public_key"], rotated["issued"]["public_key"]);

        // Car parks reference credentials of the right kind only.
        let (status, park) = call(&server, &admin, Method::POST, "/api/v1/parks", Some(json!({
            "code": "linked", "name": "Linked", "pyun_credential_id": pyun,
            "mallcoo_out_credential_id": out, "mallcoo_in_credential_id": inbound
        }))).await;
        assert_eq!(status, 201, "{park}");
        assert_eq!(park["mallcoo_in_credential_id"], inbound);
        for body in [
            json!({"code": "wrong", "name": "W", "pyun_credential_id": out}),
            json!({"code": "wrong", "name": "W", "mallcoo_out_credential_id": inbound}),
            json!({"code": "wrong", "name": "W", "mallcoo_in_credential_id": pyun}),
        ] {
            let (status, err) = call(&server, &admin, Method::POST, "/api/v1/parks", Some(body.clone())).await;
            assert_eq!(status, 422, "{body}: {err}");
            assert_eq!(err["error"]["code"], "invalid_credential");
        }
    }

    async fn the_audit_log_pages_newest_first(server: TestServer) {
        let admin = admin(&server).await;
        for code in ["a1", "a2", "a3"] {
            create_park(&server, &admin, code, &format!("M-{code}")).await;
        }
        let (status, all) = call(&server, &admin, Method::GET, "/api/v1/audit", None).await;
        assert_eq!(status, 200);
        let all = all.as_array().unwrap().clone();
        assert!(all.len() >= 4, "user.create by the CLI and three park.create: {all:?}");
        assert_eq!(all[0]["target"], "park:a3");
        assert!(all[0]["at"].as_str().unwrap().contains('T'));
        let (status, page) = call(&server, &admin, Method::GET, "/api/v1/audit?limit=2", None).await;
        assert_eq!(status, 200);
        assert_eq!(page.as_array().unwrap().len(), 2);
        let before = page[1]["id"].as_i64().unwrap();
        let (_, next) = call(&server, &admin, Method::GET, &format!("/api/v1/audit?limit=1&before={before}"), None).await;
        assert_eq!(next[0]["target"], "park:a1");
        let (status, _) = call(&server, &admin, Method::GET, "/api/v1/audit?limit=100000", None).await;
        assert_eq!(status, 200, "a large limit is capped, not refused");
        for bad in ["limit=0", "limit=abc", "bogus=1"] {
            let (status, err) = call(&server, &admin, Method::GET, &format!("/api/v1/audit?{bad}"), None).await;
            assert_eq!(status, 400, "{bad}: {err}");
            assert_eq!(err["error"]["code"], "invalid_query");
        }
    }

    async fn a_different_master_key_refuses_to_start_and_the_right_one_starts(server: TestServer) {
        let mut server = server;
        let admin = admin(&server).await;
        let (status, _) = call(&server, &admin, Method::POST, "/api/v1/credentials", Some(json!({
            "name": "p", "kind": "pyun", "app_id": "a", "app_secret": "s3cr3t-value"
        }))).await;
        assert_eq!(status, 201);
        let other_key = "ab".repeat(32);
        let stderr = server
            .restart(&[&format!("PARKBRIDGE_MASTER_KEY={other_key}")])
            .expect_err("a different key must not start");
        assert!(
            stderr.contains("this database was sealed with a different master key; set PARKBRIDGE_MASTER_KEY"),
            "{stderr}"
        );
        assert!(!stderr.contains(&other_key), "the key is never echoed: {stderr}");
        // The same key, given as the variable this time, starts (several instances share it so).
        let key = std::fs::read_to_string(server.data_dir.path().join("master.key")).unwrap();
        server
            .restart(&[&format!("PARKBRIDGE_MASTER_KEY={}", key.trim())])
            .expect("the same key starts");
        server.restart(&[]).expect("the key file starts");
        let admin = server.signed_in("root", ADMIN_PW).await;
        let (status, list) = call(&server, &admin, Method::GET, "/api/v1/credentials", None).await;
        assert_eq!(status, 200);
        assert_eq!(list[0]["name"], "p");
    }
}

#[cfg(unix)]
#[test]
fn the_master_key_file_is_created_owner_only_and_a_readable_one_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let mut server = TestServer::start();
    let path = server.data_dir.path().join("master.key");
    let meta = std::fs::metadata(&path).expect("master.key is created on first start");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.trim().len(), 64);
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let stderr = server
        .restart(&[])
        .expect_err("a group/world-readable key file is refused");
    assert!(stderr.contains("chmod 600"), "{stderr}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    server.restart(&[]).expect("starts again once fixed");
}

#[test]
fn a_malformed_master_key_variable_is_refused_with_a_clear_message() {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data.path())
        .env("PARKBRIDGE_MASTER_KEY", "not-hex-at-all")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PARKBRIDGE_MASTER_KEY must hold exactly 64 hexadecimal digits"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-hex-at-all"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// The secret-leak test.

/// Every response of the leak scenario: status, headers and body, as one searchable text.
#[derive(Default)]
struct Transcript {
    text: String,
}

impl Transcript {
    async fn call(
        &mut self,
        server: &TestServer,
        client: &Client,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = client.request(method.clone(), server.url(path));
        if let Some(body) = &body {
            req = req.json(body);
        }
        self.record(method.as_str(), path, req.send().await.expect("request"))
            .await
    }

    async fn raw(
        &mut self,
        server: &TestServer,
        client: &Client,
        method: Method,
        path: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        let resp = client
            .request(method.clone(), server.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request");
        self.record(method.as_str(), path, resp).await
    }

    async fn record(
        &mut self,
        method: &str,
        path: &str,
        resp: reqwest::Response,
    ) -> (StatusCode, Value) {
        let status = resp.status();
        self.text.push_str(&format!("{method} {path} → {status}\n"));
        for (name, value) in resp.headers() {
            self.text.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        let body = resp.text().await.expect("body");
        self.text.push_str(&body);
        self.text.push('\n');
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }
}

fn contains_bytes(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn secrets_never_leak(backend: Backend) {
    const PYUN_1: &str = "pyunSecretAlpha7Q2x9Lk4";
    const PYUN_2: &str = "pyunSecretBravo3Vn8Wd1p";
    const MALLCOO_1: &str = "mallcooPrivCharlie5Hs6Tq0z";
    const MALLCOO_2: &str = "mallcooPrivDelta8Jr2Yx7m";
    const REJECTED: &str = "rejectedSecretEcho4Kp1Zs9";
    let mut server = TestServer::start_capturing_logs(backend, &[]);
    let admin = admin(&server).await;
    let mut t = Transcript::default();

    let (status, pyun) = t
        .call(
            &server,
            &admin,
            Method::POST,
            "/api/v1/credentials",
            Some(json!({
                "name": "pyun", "kind": "pyun", "app_id": "op-leak-test", "app_secret": PYUN_1
            })),
        )
        .await;
    assert_eq!(status, 201);
    let pyun = pyun["credential"]["id"].as_i64().unwrap();
    let (status, out) = t.call(&server, &admin, Method::POST, "/api/v1/credentials", Some(json!({
        "name": "mallcoo-out", "kind": "mallcoo_outbound", "app_id": "mc", "public_key": "PK_leak", "private_key": MALLCOO_1
    }))).await;
    assert_eq!(status, 201);
    let out = out["credential"]["id"].as_i64().unwrap();

    // Our issued private keys are shown once, in their own answer; kept apart from the transcript.
    let resp = admin
        .post(server.url("/api/v1/credentials"))
        .json(&json!({"name": "mallcoo-in", "kind": "mallcoo_inbound"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    let inbound = created["credential"]["id"].as_i64().unwrap();
    let issued_1 = created["issued"]["private_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = admin
        .post(server.url(&format!("/api/v1/credentials/{inbound}/rotate")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let rotated: Value = resp.json().await.unwrap();
    let issued_2 = rotated["issued"]["private_key"]
        .as_str()
        .unwrap()
        .to_owned();

    // Replace, list, and use them from car parks.
    let (status, _) = t
        .call(
            &server,
            &admin,
            Method::PUT,
            &format!("/api/v1/credentials/{pyun}/secret"),
            Some(json!({"secret": PYUN_2})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = t
        .call(
            &server,
            &admin,
            Method::PUT,
            &format!("/api/v1/credentials/{out}/secret"),
            Some(json!({"secret": MALLCOO_2})),
        )
        .await;
    assert_eq!(status, 200);
    t.call(&server, &admin, Method::GET, "/api/v1/credentials", None)
        .await;
    let (status, park) = t
        .call(
            &server,
            &admin,
            Method::POST,
            "/api/v1/parks",
            Some(json!({
                "code": "leak", "name": "Leak", "pyun_credential_id": pyun,
                "mallcoo_out_credential_id": out, "mallcoo_in_credential_id": inbound
            })),
        )
        .await;
    assert_eq!(status, 201);
    let park = park["id"].as_i64().unwrap();
    t.call(&server, &admin, Method::GET, "/api/v1/parks", None)
        .await;
    t.call(
        &server,
        &admin,
        Method::GET,
        &format!("/api/v1/parks/{park}"),
        None,
    )
    .await;

    // Mistakes that carry a secret in the body: every answer is a 4xx naming the field only.
    let mistakes = [
        (
            Method::POST,
            "/api/v1/credentials".to_owned(),
            json!({"name": "x", "kind": "pyun", "app_id": "a", "app_secret": REJECTED, "unknown": 1}),
        ),
        (
            Method::POST,
            "/api/v1/credentials".to_owned(),
            json!({"name": "x", "kind": "pyun", "app_id": "a", "app_secret": format!("{REJECTED} ")}),
        ),
        (
            Method::POST,
            "/api/v1/credentials".to_owned(),
            json!({"name": "x", "kind": "pyun", "app_id": "a", "app_secret": REJECTED, "private_key": REJECTED}),
        ),
        (
            Method::POST,
            "/api/v1/credentials".to_owned(),
            json!({"name": "x", "kind": "mallcoo_inbound", "private_key": REJECTED}),
        ),
        (
            Method::POST,
            "/api/v1/credentials".to_owned(),
            json!({"name": "pyun", "kind": "pyun", "app_id": "a", "app_secret": REJECTED}),
        ),
        (
            Method::PUT,
            format!("/api/v1/credentials/{pyun}/secret"),
            json!({"secret": REJECTED, "extra": true}),
        ),
        (
            Method::PUT,
            format!("/api/v1/credentials/{inbound}/secret"),
            json!({"secret": REJECTED}),
        ),
        (
            Method::PUT,
            "/api/v1/credentials/9999/secret".to_owned(),
            json!({"secret": REJECTED}),
        ),
        (
            Method::PUT,
            format!("/api/v1/credentials/{pyun}/secret"),
            json!({"secret": [REJECTED]}),
        ),
    ];
    for (method, path, body) in mistakes {
        let (status, _) = t
            .call(&server, &admin, method, &path, Some(body.clone()))
            .await;
        assert!(status.is_client_error(), "{path} {body}: {status}");
    }
    let (status, _) = t
        .raw(
            &server,
            &admin,
            Method::PUT,
            &format!("/api/v1/credentials/{pyun}/secret"),
            &format!(r#"{{"secret": "{REJECTED}""#),
        )
        .await;
    assert_eq!(status, 400, "truncated JSON");
    let (status, _) = t
        .call(
            &server,
            &Client::new(),
            Method::PUT,
            &format!("/api/v1/credentials/{pyun}/secret"),
            Some(json!({"secret": REJECTED})),
        )
        .await;
    assert_eq!(status, 401);

    let (status, audit) = t
        .call(
            &server,
            &admin,
            Method::GET,
            "/api/v1/audit?limit=500",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "credential.create",
        "credential.secret_replace",
        "credential.rotate",
        "park.create",
    ] {
        assert!(actions.contains(&action), "{action} audited: {actions:?}");
    }

    // The sealed secrets survive a restart with the same key.
    server.restart(&[]).expect("restarts with its key file");
    let admin = server.signed_in("root", ADMIN_PW).await;
    t.call(&server, &admin, Method::GET, "/api/v1/credentials", None)
        .await;

    // The search. Logs were written at debug level for all of the above.
    let logs = server.logs();
    assert!(logs.contains("DEBUG"), "debug logging was on: {logs:.500}");
    let master_key = std::fs::read_to_string(server.data_dir.path().join("master.key")).unwrap();
    let all_secrets = [
        PYUN_1,
        PYUN_2,
        MALLCOO_1,
        MALLCOO_2,
        REJECTED,
        &issued_1,
        &issued_2,
        master_key.trim(),
    ];
    let mut stored = Vec::new();
    match backend {
        Backend::Sqlite => {
            for entry in std::fs::read_dir(server.data_dir.path()).unwrap() {
                let path = entry.unwrap().path();
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("parkbridge.db"))
                {
                    stored.extend(std::fs::read(&path).unwrap());
                }
            }
            assert!(!stored.is_empty());
        }
        Backend::Postgres => {
            let dump = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(server.database_url())
                .output()
                .expect("pg_dump runs");
            assert!(
                dump.status.success(),
                "{}",
                String::from_utf8_lossy(&dump.stderr)
            );
            stored = dump.stdout;
            assert!(
                contains_bytes(&stored, "op-leak-test"),
                "the dump holds the credentials"
            );
        }
    }
    for secret in all_secrets {
        assert!(
            !t.text.contains(secret),
            "a response or header holds a secret: {secret}"
        );
        assert!(!logs.contains(secret), "the logs hold a secret: {secret}");
        assert!(
            !contains_bytes(&stored, secret),
            "the database holds a secret in clear: {secret}"
        );
    }
    assert!(
        t.text.contains("app_secret"),
        "the transcript is real: {:.300}",
        t.text
    );
}

#[tokio::test]
async fn secrets_never_reach_a_response_a_header_a_log_line_or_the_database_sqlite() {
    secrets_never_leak(Backend::Sqlite).await;
}

#[tokio::test]
async fn secrets_never_reach_a_response_a_header_a_log_line_or_the_database_postgres() {
    secrets_never_leak(Backend::Postgres).await;
}

#[tokio::test]
async fn the_demo_creates_its_car_park_for_the_manager_and_the_staff() {
    use std::io::{BufRead, BufReader};
    let data = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(binary())
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--static-dir",
            "/nonexistent",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut base = String::new();
    let mut passwords = std::collections::HashMap::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("ParkBridge listening on ") {
            base = url.trim_end_matches('/').to_owned();
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [_, user, "/", pw] = words[..] {
            passwords.insert(user.to_owned(), pw.to_owned());
        }
        if line.starts_with("Data:") {
            break;
        }
    }
    for user in ["manager", "staff", "admin"] {
        let client = Client::builder().cookie_store(true).build().unwrap();
        let resp = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": user, "password": passwords[user]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{user}");
        let parks: Value = client
            .get(format!("{base}/api/v1/parks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(parks.as_array().unwrap().len(), 1, "{user}: {parks}");
        assert_eq!(parks[0]["code"], "demo");
        assert_eq!(parks[0]["name"], "示例停车场");
        assert_eq!(parks[0]["tariff"]["pricing"]["first_price"], 1000);
    }
    let _ = child.kill();
    let _ = child.wait();
}
