//! The real binary over loopback HTTP: health, the JSON error envelope, the SPA fallback, the CLI.

use e2e::server::{TestServer, binary};
use serde_json::Value;

#[tokio::test]
async fn healthz_reports_ok_after_a_real_database_round_trip() {
    let server = TestServer::start();
    let resp = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        server.data_dir.path().join("parkbridge.db").is_file(),
        "the SQLite file is created on start"
    );
}

#[tokio::test]
async fn an_unknown_api_path_is_a_json_404_not_the_web_page() {
    let server = TestServer::start();
    let resp = reqwest::get(server.url("/api/v1/no-such-thing"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_frontend_is_served_at_the_root_and_for_client_side_routes() {
    let server = TestServer::start();
    for path in ["/", "/vip/records"] {
        let resp = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("ParkBridge"),
            "{path} did not serve index.html: {html:.200}"
        );
        assert!(
            html.contains(".wasm"),
            "{path}: index.html does not load the wasm app"
        );
    }
}

#[tokio::test]
async fn the_ui_files_are_revalidated_and_its_page_chunks_are_served_as_wasm() {
    let server = TestServer::start();
    let loader = reqwest::get(server.url("/wasm-split/__wasm_split.js"))
        .await
        .unwrap();
    assert_eq!(
        loader.status(),
        200,
        "the chunks' loader is part of the build"
    );
    let loader = loader.text().await.unwrap();
    // The loader must share the main JS module the page loaded, under its plain name.
    assert!(loader.contains("\"../frontend.js\""), "{loader:.300}");
    let chunk = loader
        .split('"')
        .find(|s| s.starts_with("./split_") && s.ends_with(".wasm"))
        .expect("the loader names the page groups' wasm files");
    for path in [
        "/",
        "/frontend.js",
        "/frontend_bg.wasm",
        &format!("/wasm-split/{}", &chunk[2..]),
    ] {
        let resp = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        // Plain names: a browser must ask again, or an upgrade could mix old and new parts.
        assert_eq!(resp.headers()["cache-control"], "no-cache", "{path}");
        if path.ends_with(".wasm") {
            // WebAssembly.instantiateStreaming refuses any other type.
            assert_eq!(resp.headers()["content-type"], "application/wasm", "{path}");
        }
    }
}

#[test]
fn a_busy_port_fails_start_up_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(binary())
        .args(["serve", "--listen", &addr])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "stderr: {stderr}"
    );
}

#[tokio::test]
async fn healthz_checks_postgresql_too() {
    let server = TestServer::start_on(e2e::server::Backend::Postgres);
    let body: Value = reqwest::get(server.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
}

#[test]
fn migrate_creates_the_schema_and_is_idempotent() {
    let server = TestServer::start();
    for _ in 0..2 {
        let out = server.cli(&["migrate"], "");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    }
}

#[test]
fn an_unsupported_database_url_is_refused_clearly() {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(binary())
        .args([
            "migrate",
            "--database-url",
            "mysql://root:hunter2@localhost/db",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the password leaked into the error: {stderr}"
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let mut server = TestServer::start();
    let resp = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        reqwest::get(server.url("/healthz")).await.is_err(),
        "still answering after exit"
    );
}
