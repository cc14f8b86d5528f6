//! Operations on the real binary: Prometheus metrics by route template, the OpenAPI document,
//! the body limit and JSON rejections as envelopes, JSON logs, and the documented options.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use e2e::on_both_backends;
use e2e::server::{TestServer, binary};
use parkbridge::http::access::Access;
use parkbridge::http::routes;
use serde_json::{Value, json};

const ADMIN_PW: &str = "admin-password-1";

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let server = TestServer::start();
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let resp = client
            .put(server.url("/api/v1/users/7"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        200
    );
    let resp = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    assert!(
        text.contains(
            r#"http_requests_total{method="PUT",route="/api/v1/users/{id}",status="401"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(
        !text.contains("/users/7"),
        "a raw URI reached a label: {text}"
    );
}

/// The security scheme names an operation must require, by the route's access rule.
fn schemes_for(access: Access) -> &'static [&'static str] {
    match access {
        Access::Public => &[],
        Access::SignedIn | Access::Staff | Access::Merchant | Access::Roles(_) => &["session"],
        Access::Machine(_) | Access::AnyMachine => &["api_key"],
        Access::MallcooSigned => &[
            "mallcoo_app_id",
            "mallcoo_public_key",
            "mallcoo_timestamp",
            "mallcoo_sign",
        ],
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_routes() {
    let server = TestServer::start();
    let resp = reqwest::get(server.url("/api/openapi.json")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    let schemes = &doc["components"]["securitySchemes"];
    // Every route of the real table, so a route added without annotations fails here.
    let table = routes::table();
    assert!(table.len() > 40, "the route table looks truncated");
    let mut missing = Vec::new();
    for route in &table {
        let name = format!("{} {}", route.method, route.path);
        let method = route.method.as_str().to_ascii_lowercase();
        let Some(op) = paths.get(route.path).and_then(|item| item.get(&method)) else {
            missing.push(name);
            continue;
        };
        let responses = op["responses"].as_object();
        assert!(
            responses.is_some_and(|r| !r.is_empty()),
            "{name}: no responses"
        );
        // The operation asks for exactly the credentials the access rule checks, each declared.
        let mut required: Vec<&str> = op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|req| req.as_object().unwrap().keys().map(String::as_str))
            .collect();
        required.sort_unstable();
        let mut expected = schemes_for(route.access).to_vec();
        expected.sort_unstable();
        assert_eq!(required, expected, "{name}: security");
        for scheme in required {
            assert!(schemes[scheme].is_object(), "{name}: {scheme} undeclared");
        }
    }
    assert!(missing.is_empty(), "routed but not documented: {missing:?}");
    assert_eq!(schemes["api_key"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    for (scheme, header) in [
        ("mallcoo_app_id", "AppID"),
        ("mallcoo_public_key", "PublicKey"),
        ("mallcoo_timestamp", "TimeStamp"),
        ("mallcoo_sign", "Sign"),
    ] {
        assert_eq!(schemes[scheme]["in"], "header", "{scheme}");
        assert_eq!(schemes[scheme]["name"], header, "{scheme}");
    }
}

async fn post_raw(
    client: &reqwest::Client,
    url: String,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let resp = client
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

on_both_backends! {
    async fn oversize_and_malformed_bodies_are_4xx_envelopes(server: TestServer) {
        server.add_user("admin", "admin", ADMIN_PW);
        let admin = server.signed_in("admin", ADMIN_PW).await;
        let anonymous = reqwest::Client::new();
        // 2 MiB: a JSON string, so only the size is wrong.
        let big = format!("{{\"name\":\"{}\",\"scopes\":[\"gate\"]}}", "x".repeat(2 * 1024 * 1024)).into_bytes();
        for (client, path) in [(&admin, "/api/v1/api-keys"), (&anonymous, "/api/v1/auth/login")] {
            let (status, body) = post_raw(client, server.url(path), "application/json", big.clone()).await;
            assert_eq!(status, 413, "{path}: {body}");
            assert_eq!(body["error"]["code"], "payload_too_large", "{path}");
        }
        let url = server.url("/api/v1/api-keys");
        let (status, body) = post_raw(&admin, url.clone(), "application/json", b"{\"name\": ".to_vec()).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("malformed_json")), "{body}");
        let (status, body) = post_raw(&admin, url.clone(), "text/plain", b"{}".to_vec()).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("unsupported_media_type")), "{body}");
        let (status, body) = post_raw(&admin, url, "application/json", br#"{"name":"x","scopes":["gate"],"extra":1}"#.to_vec()).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_body")), "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("extra"), "{body}");
    }
}

/// Starts `serve` with `args`/`env`, stops it with SIGTERM once it listens; returns its stderr.
fn serve_and_capture_stderr(args: &[&str], env: &[(&str, &str)]) -> String {
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(binary());
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--static-dir",
        "/nonexistent",
    ])
    .arg("--data-dir")
    .arg(data.path())
    .args(args)
    .env("RUST_LOG", "info")
    .env_remove("PARKBRIDGE_LOG_FORMAT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("ParkBridge listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .trim_end_matches('/')
        .to_owned();
    // An answered request proves the server (and its SIGTERM handler) is running.
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "no graceful stop: {stderr}"
    );
    stderr
}

#[test]
fn log_format_json_writes_one_json_object_per_stderr_line() {
    for (args, env) in [
        (&["--log-format", "json"][..], &[][..]),
        (&[][..], &[("PARKBRIDGE_LOG_FORMAT", "json")][..]),
    ] {
        let stderr = serve_and_capture_stderr(args, env);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(lines.len() >= 2, "too few log lines: {stderr}");
        for line in &lines {
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            assert!(
                v["level"].is_string() && v["fields"]["message"].is_string(),
                "{line}"
            );
        }
        assert!(stderr.contains("\"serving\""), "{stderr}");
    }
    let text = serve_and_capture_stderr(&[], &[]);
    assert!(
        text.lines()
            .any(|l| serde_json::from_str::<Value>(l).is_err()),
        "text is the default: {text}"
    );
}

#[test]
fn serve_help_documents_every_option_with_its_environment_variable() {
    let out = Command::new(binary())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--pyun-base-url",
        "PARKBRIDGE_PYUN_BASE_URL",
        "https://api.4pyun.com",
        "--mallcoo-base-url",
        "PARKBRIDGE_MALLCOO_BASE_URL",
        "https://openapi10.mallcoo.cn",
        "--log-format",
        "PARKBRIDGE_LOG_FORMAT",
        "PARKBRIDGE_LISTEN",
        "PARKBRIDGE_DATABASE_URL",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(binary())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--pyun-base-url",
            "ftp://example.com",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("http"));
}
