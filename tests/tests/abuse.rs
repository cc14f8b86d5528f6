//! Abuse (issue 8): what hostile or careless clients send, over real HTTP against the real
//! binary. Huge and endless bodies, slow-loris connections, cross-site forms, SQL and other
//! hostile strings in every field of the route table, and secrets that must never come back out.
//!
//! Covered elsewhere, not repeated here: every route × every role and no session
//! (`access.rs`), sign-in rate limits (`accounts.rs`), 2 MiB and malformed bodies
//! (`operations.rs`), Mallcoo timestamps outside ±5 min — a body first accepted, then re-sent
//! signed 6 minutes earlier, is refused 401 (`mallcoo_api.rs`, `authentication`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use e2e::coupon_site::{self, CouponSite, bearer_client, send};
use e2e::mallcoo_site::eventually;
use e2e::server::{Backend, TestServer};
use protocol::mallcoo::{MallcooKeys, sign_headers};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ADMIN_PW: &str = "abuse-admin-password";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// `host:port` of a server's base URL.
fn authority(server: &TestServer) -> String {
    server
        .base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// The pid of the `parkbridge serve` running on `server`'s data directory (unique per test).
fn server_pid(server: &TestServer) -> u32 {
    let dir = server.data_dir.path().display().to_string();
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let entry = entry.expect("proc entry");
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a == "serve") && args.contains(&dir) {
            return pid;
        }
    }
    panic!("no parkbridge process serves {dir}");
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Sends `head` and then `body` (in 64 KiB writes, stopping quietly when the server closes) on
/// a fresh connection while reading the answer; returns the status line's code and the answer.
/// The writer runs beside the reader: a server that answers early (413) must be heard even
/// though it stops reading.
async fn raw_exchange(addr: String, head: String, body: Vec<Vec<u8>>) -> (u16, String) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        if wr.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for chunk in body {
            if wr.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = wr.flush().await;
        // Keep the write half open until the reader is done (dropping it would half-close).
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rd.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
        }
        if complete_response(&answer) {
            break;
        }
    }
    writer.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let code = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    (code, text)
}

/// The `Cookie` header value of a fresh sign-in as `username`.
async fn session_cookie(server: &TestServer, username: &str, password: &str) -> String {
    let resp = Client::new()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 200);
    let set = resp.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// Whether `bytes` hold a whole response with a `Content-Length` body.
fn complete_response(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .is_some_and(|len| body.len() >= len)
}

/// The JSON body of a raw answer.
fn raw_json(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Asserts `body` is our error envelope with a code and a readable message.
fn assert_envelope(body: &Value, what: &str) {
    let code = body["error"]["code"].as_str().unwrap_or_default();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !code.is_empty() && !message.is_empty(),
        "{what}: not an error envelope: {body}"
    );
}

async fn healthy(server: &TestServer) {
    let resp = reqwest::get(server.url("/healthz")).await.expect("healthz");
    assert_eq!(resp.status(), 200);
}

/// Signs in as `username` and asserts it worked.
async fn can_sign_in(server: &TestServer, username: &str, password: &str) {
    let resp = Client::new()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 200, "{username} can no longer sign in");
}

/// The usernames the admin API lists.
async fn usernames(admin: &Client, users_url: &str) -> BTreeSet<String> {
    let (status, users) = send(admin, Method::GET, users_url, None).await;
    assert_eq!(status, 200, "{users}");
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Huge bodies
// ---------------------------------------------------------------------------------------------

const TEN_MB: usize = 10 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_megabyte_bodies_are_refused_413_without_being_held_and_the_server_keeps_serving() {
    let server = TestServer::start();
    server.add_user("root", "admin", ADMIN_PW);
    let admin = server.signed_in("root", ADMIN_PW).await;
    let (status, park) = send(
        &admin,
        Method::POST,
        &server.url("/api/v1/parks"),
        Some(json!({"code": "big", "name": "大文件广场"})),
    )
    .await;
    assert_eq!(status, 201, "{park}");
    let park = park["id"].as_i64().unwrap();
    let pid = server_pid(&server);
    // Warm up (first requests allocate pools and caches) before the baseline.
    for _ in 0..3 {
        healthy(&server).await;
        can_sign_in(&server, "root", ADMIN_PW).await;
    }
    let before = rss_kib(pid);

    // A JSON string 10 MB long: only the size is wrong. Sent on raw connections that read the
    // answer while still writing: the server answers as soon as the limit is passed and stops
    // reading, so a client that only reads after writing everything meets a closed socket.
    let cookie = session_cookie(&server, "root", ADMIN_PW).await;
    let big = format!(
        "{{\"username\":\"{}\",\"password\":\"x\"}}",
        "x".repeat(TEN_MB)
    )
    .into_bytes();
    let post = |path: &str, cookie: Option<&str>| {
        let cookie = cookie
            .map(|c| format!("Cookie: {c}\r\n"))
            .unwrap_or_default();
        format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{cookie}\r\n",
            authority(&server),
            big.len()
        )
    };
    for (path, cookie) in [
        ("/api/v1/auth/login", None),
        ("/api/v1/api-keys", Some(cookie.as_str())),
        ("/api/v1/users", Some(cookie.as_str())),
        ("/mallcoo/v1/GetParkingPaymentInfo", None),
    ] {
        let (code, answer) =
            raw_exchange(authority(&server), post(path, cookie), vec![big.clone()]).await;
        assert_eq!(code, 413, "{path}: {answer:.300}");
        let body = raw_json(&answer);
        if path.starts_with("/mallcoo/") {
            // Mallcoo's own envelope.
            assert_eq!(body["resCode"], 1, "{path}: {body}");
            assert!(
                body["resMsg"].as_str().is_some_and(|m| !m.is_empty()),
                "{body}"
            );
        } else {
            assert_eq!(body["error"]["code"], "payload_too_large", "{path}: {body}");
        }
    }

    // Eight at once: the server reads at most the limit of each, not 80 MB.
    let sent: Vec<_> = (0..8)
        .map(|_| {
            let head = post("/api/v1/auth/login", None);
            tokio::spawn(raw_exchange(authority(&server), head, vec![big.clone()]))
        })
        .collect();
    for task in sent {
        let (code, answer) = task.await.expect("exchange");
        assert_eq!(code, 413, "{answer:.300}");
    }

    // Chunked, without Content-Length: the limit is counted as the chunks arrive.
    let frame = |data: &[u8]| {
        let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
        framed.extend_from_slice(data);
        framed.extend_from_slice(b"\r\n");
        framed
    };
    let chunk = vec![b'x'; 64 * 1024];
    let mut chunks = vec![frame(b"{\"username\":\"")];
    chunks.extend((0..TEN_MB / chunk.len()).map(|_| frame(&chunk)));
    chunks.push(b"0\r\n\r\n".to_vec());
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        authority(&server)
    );
    let (code, answer) = raw_exchange(authority(&server), head, chunks).await;
    assert_eq!(code, 413, "{answer}");
    assert_eq!(
        raw_json(&answer)["error"]["code"],
        "payload_too_large",
        "{answer}"
    );

    // About 100 MB went to the JSON routes, 80 MB of it at once; each is read to its 1 MiB
    // limit only, then dropped (about 25 MiB of buffers and allocator slack here; holding the
    // eight at once would take 80).
    let grown_mib = rss_kib(pid).saturating_sub(before) / 1024;
    assert!(
        grown_mib < 60,
        "the JSON routes grew the server by {grown_mib} MiB"
    );

    // The VIP import takes files up to 32 MiB; 40 MB is refused the same way.
    let csv = vec![b'x'; 40 * 1024 * 1024];
    let head = format!(
        "POST /api/v1/parks/{park}/vip/import HTTP/1.1\r\nHost: {}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nCookie: {cookie}\r\n\r\n",
        authority(&server),
        csv.len()
    );
    let (code, answer) = raw_exchange(authority(&server), head, vec![csv]).await;
    assert_eq!(code, 413, "{answer:.300}");
    assert_eq!(
        raw_json(&answer)["error"]["code"],
        "payload_too_large",
        "{answer:.300}"
    );

    // The import reads up to its 32 MiB (once, then dropped), plus allocator slack.
    let grown_mib = rss_kib(pid).saturating_sub(before) / 1024;
    assert!(grown_mib < 100, "the server grew by {grown_mib} MiB");
    healthy(&server).await;
    can_sign_in(&server, "root", ADMIN_PW).await;
}

// ---------------------------------------------------------------------------------------------
// 2. Slow-loris and idle connections
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_after_the_header_timeout_while_others_are_served() {
    let server = TestServer::start_with(Backend::Sqlite, &["PARKBRIDGE_HEADER_TIMEOUT_SECS=3"]);
    server.add_user("root", "admin", ADMIN_PW);
    let addr = authority(&server);

    // 150 clients send a request's headers one byte a second and never finish; 50 connect and
    // send nothing. Each task ends when the server closes its connection.
    let opened = Instant::now();
    let mut loris = Vec::new();
    for i in 0..200 {
        let stream = TcpStream::connect(&addr).await.expect("connect");
        let dribble = i < 150;
        loris.push(tokio::spawn(async move {
            let (mut rd, mut wr) = stream.into_split();
            let header = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow-{i}: ");
            let mut bytes = header
                .into_bytes()
                .into_iter()
                .chain(std::iter::repeat(b'a'));
            let mut buf = [0u8; 1024];
            loop {
                tokio::select! {
                    read = rd.read(&mut buf) => match read {
                        // The server closed (with or without an answer): done.
                        Ok(0) | Err(_) => return,
                        // Whatever it says (a 408), keep waiting for the close.
                        Ok(_) => {}
                    },
                    () = tokio::time::sleep(Duration::from_secs(1)) => {
                        if dribble {
                            let byte = [bytes.next().expect("endless")];
                            if wr.write_all(&byte).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }));
    }

    // Meanwhile an ordinary client is served.
    healthy(&server).await;
    let held = loris.iter().filter(|t| !t.is_finished()).count();
    assert!(
        held > 0,
        "the slow connections were not even open while others were served"
    );
    can_sign_in(&server, "root", ADMIN_PW).await;

    // An idle keep-alive connection: one answered request, then silence.
    let mut idle = TcpStream::connect(&addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    let idle_closed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match idle.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        idle_closed.is_ok(),
        "an idle keep-alive connection stayed open 30 s"
    );

    // Every slow connection is closed, well before the 30 s this waits at most (without a
    // timeout they stay open forever and the test fails here).
    for (i, task) in loris.into_iter().enumerate() {
        let closed = tokio::time::timeout(
            Duration::from_secs(30).saturating_sub(opened.elapsed()),
            task,
        )
        .await;
        closed
            .unwrap_or_else(|_| panic!("slow connection {i} still open after 30 s"))
            .expect("task");
    }
    healthy(&server).await;
    can_sign_in(&server, "root", ADMIN_PW).await;
}

/// Sends `head` and the first `sent` bytes of a body, then stalls; returns the answer (if any)
/// and whether the server closed the connection, within 30 s.
async fn stall_mid_body(addr: &str, head: &str, sent: &[u8]) -> (String, bool) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(sent).await.expect("part of the body");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&answer).into_owned(), closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_is_answered_408_and_its_connection_closed() {
    let server = TestServer::start_with(Backend::Sqlite, &["PARKBRIDGE_HEADER_TIMEOUT_SECS=2"]);
    server.add_user("root", "admin", ADMIN_PW);
    let addr = authority(&server);
    // A JSON sign-in and a Mallcoo call that promise 200 bytes and send 20 (slow POST).
    for (path, envelope) in [
        ("/api/v1/auth/login", "\"code\":\"body_timeout\""),
        ("/mallcoo/v1/GetParkingPaymentInfo", "\"resCode\":1"),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
        );
        let started = Instant::now();
        let (answer, closed) = stall_mid_body(&addr, &head, br#"{"username":"root","#).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer:?}");
        assert!(answer.contains(envelope), "{path}: {answer:?}");
        assert!(closed, "{path}: the stalled connection stayed open");
        // The pause that counts is the server's 2 s, not the 30 s this waits at most.
        assert!(started.elapsed() < Duration::from_secs(20), "{path}");
    }
    // Many stalled bodies at once hold nothing: others are served meanwhile and afterwards.
    let stalled: Vec<_> = (0..50)
        .map(|_| {
            let addr = addr.clone();
            tokio::spawn(async move {
                let head = format!(
                    "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
                );
                stall_mid_body(&addr, &head, b"{").await
            })
        })
        .collect();
    healthy(&server).await;
    can_sign_in(&server, "root", ADMIN_PW).await;
    for task in stalled {
        let (answer, closed) = task.await.expect("task");
        assert!(answer.starts_with("HTTP/1.1 408") && closed, "{answer:?}");
    }
    can_sign_in(&server, "root", ADMIN_PW).await;
}

// ---------------------------------------------------------------------------------------------
// 3. Cross-site request forgery
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_change_sent_from_another_origin_is_refused_403_and_changes_nothing() {
    let server = TestServer::start();
    server.add_user("root", "admin", ADMIN_PW);
    let admin = server.signed_in("root", ADMIN_PW).await;
    let users_url = server.url("/api/v1/users");
    let new_user = |name: &str| json!({"username": name, "password": "a-long-password-1", "role": "mall_staff", "parks": []});

    // What a page on another site makes the admin's browser send.
    for (name, header, value) in [
        ("evil1", "origin", "http://evil.example"),
        ("evil2", "origin", "null"),
        ("evil3", "referer", "http://evil.example/form.html"),
        // Another port of the same host is another origin.
        ("evil4", "origin", "http://127.0.0.1:1"),
    ] {
        let resp = admin
            .post(&users_url)
            .header(header, value)
            .json(&new_user(name))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{header}: {value}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "cross_origin", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("another site"),
            "{body}"
        );
    }
    let users = usernames(&admin, &users_url).await;
    assert!(
        users.iter().all(|u| !u.starts_with("evil")),
        "a refused request created a user: {users:?}"
    );
    // Every changing method is guarded: the sessions of root are not revoked from elsewhere.
    let resp = admin
        .delete(server.url("/api/v1/users/1/sessions"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // Reads are not changes (and a cross-site page cannot read the answer anyway).
    let resp = admin
        .get(&users_url)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // The admin UI's own requests name our origin, as browsers do on every POST; curl and
    // scripts name none. Both work.
    let resp = admin
        .post(&users_url)
        .header("origin", server.base_url.clone())
        .json(&new_user("same_origin"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let resp = admin
        .post(&users_url)
        .header("referer", server.url("/users"))
        .json(&new_user("same_referer"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let (status, body) = send(
        &admin,
        Method::POST,
        &users_url,
        Some(new_user("no_origin")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let users = usernames(&admin, &users_url).await;
    for name in ["same_origin", "same_referer", "no_origin"] {
        assert!(users.contains(name), "{name} missing: {users:?}");
    }

    // API keys and Mallcoo signatures are not ambient credentials: an Origin does not matter.
    let gate = bearer_client(&server.api_key("gate", "gate", None));
    let (status, park) = send(
        &admin,
        Method::POST,
        &server.url("/api/v1/parks"),
        Some(json!({"code": "csrf", "name": "CSRF 广场"})),
    )
    .await;
    assert_eq!(status, 201, "{park}");
    let resp = gate
        .post(server.url("/api/v1/gate/entries"))
        .header("origin", "http://evil.example")
        .json(&json!({"park": "csrf", "plate": "沪A12345"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let resp = Client::new()
        .post(server.url("/mallcoo/v1/GetParkingPaymentInfo"))
        .header("origin", "http://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    // Refused for its missing signature, in Mallcoo's envelope, not by the origin check.
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["resCode"], 1, "{body}");
}

// ---------------------------------------------------------------------------------------------
// 4. Hostile strings in every field
// ---------------------------------------------------------------------------------------------

/// A hostile string and whether a free-text field must store it (others may refuse it).
struct Hostile {
    text: String,
    storable: bool,
}

fn hostile_strings() -> Vec<Hostile> {
    let h = |text: &str, storable| Hostile {
        text: text.to_owned(),
        storable,
    };
    vec![
        h("'; DROP TABLE users; --", true),
        h("\" OR 1=1 --", true),
        h("%_\\", true),
        h("🚗🅿️ 停车 👩🏽‍💻", true),
        h("a\u{0}b", false),
        Hostile {
            text: "长".repeat(10_000),
            storable: false,
        },
    ]
}

/// Who sends a route's requests in the hostile-strings test.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    Admin,
    Coupons,
    Gate,
    Vip,
    Discounts,
    Mallcoo,
    Merchant,
}

/// One route of the table, with the concrete path and a valid body the test mutates.
struct Case {
    method: Method,
    /// The route table's path (`/api/v1/parks/{id}`), to prove the table is covered.
    template: &'static str,
    path: String,
    caller: Caller,
    body: Value,
}

/// The ids a case's path and body refer to.
struct Ids {
    park: i64,
    product: i64,
    credential: i64,
    victim: i64,
    record: i64,
    coupon_record: i64,
    mallcoo_in: i64,
    shop: i64,
    offer: i64,
    channel: i64,
}

/// Every JSON-accepting route of the table with a valid body.
fn json_cases(ids: &Ids) -> Vec<Case> {
    let &Ids {
        park,
        product,
        credential,
        victim,
        record,
        coupon_record,
        mallcoo_in,
        shop,
        offer,
        channel,
    } = ids;
    let park_code = coupon_site::PARK;
    let c = |method: Method, template: &'static str, path: String, caller, body| Case {
        method,
        template,
        path,
        caller,
        body,
    };
    let now = chrono::Utc::now();
    let shanghai = (now + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    vec![
        c(
            Method::POST,
            "/api/v1/auth/login",
            "/api/v1/auth/login".into(),
            Caller::Anonymous,
            json!({"username": "nobody", "password": "wrong-password"}),
        ),
        c(
            Method::POST,
            "/api/v1/users",
            "/api/v1/users".into(),
            Caller::Admin,
            json!({"username": "hostile", "password": "a-long-password-1", "role": "mall_staff", "parks": [park]}),
        ),
        c(
            Method::PUT,
            "/api/v1/users/{id}",
            format!("/api/v1/users/{victim}"),
            Caller::Admin,
            json!({"role": "mall_staff", "parks": [park], "disabled": false, "password": "another-password-2"}),
        ),
        c(
            Method::POST,
            "/api/v1/parks",
            "/api/v1/parks".into(),
            Caller::Admin,
            json!({"code": "hostile-park", "name": "名字", "pyun_park_uuid": "u", "pyun_api_store_code": "s",
                 "pyun_merchant": "m", "mallcoo_park_id": "mp", "mallcoo_park_code": "mc"}),
        ),
        c(
            Method::PUT,
            "/api/v1/parks/{id}",
            format!("/api/v1/parks/{park}"),
            Caller::Admin,
            json!({"code": park_code, "name": "测试广场", "pyun_api_store_code": coupon_site::STORE,
                 "pyun_merchant": coupon_site::MERCHANT, "pyun_park_uuid": "park-uuid-1",
                 "pyun_credential_id": credential, "mallcoo_park_id": "MC-ABUSE",
                 "mallcoo_in_credential_id": mallcoo_in}),
        ),
        c(
            Method::PUT,
            "/api/v1/parks/{id}/tariff",
            format!("/api/v1/parks/{park}/tariff"),
            Caller::Admin,
            json!({"free_minutes": 15, "grace_minutes": 15, "cycle_cap": 5000,
                 "pricing": {"kind": "simple", "first_minutes": 60, "first_price": 1000,
                             "unit_minutes": 30, "unit_price": 300}}),
        ),
        c(
            Method::POST,
            "/api/v1/credentials",
            "/api/v1/credentials".into(),
            Caller::Admin,
            json!({"name": "hostile-cred", "kind": "pyun", "app_id": "app", "app_secret": "secret"}),
        ),
        c(
            Method::PUT,
            "/api/v1/credentials/{id}/secret",
            format!("/api/v1/credentials/{credential}/secret"),
            Caller::Admin,
            json!({"secret": coupon_site::APP_SECRET}),
        ),
        c(
            Method::POST,
            "/api/v1/api-keys",
            "/api/v1/api-keys".into(),
            Caller::Admin,
            json!({"name": "hostile-key", "scopes": ["gate"], "park_id": park}),
        ),
        c(
            Method::POST,
            "/api/v1/coupons/events",
            "/api/v1/coupons/events".into(),
            Caller::Coupons,
            json!({"park": park_code, "event_id": "ev-1", "plate": "粤B12345", "subject": "充电",
                 "metadata": {"charge_kwh": 12}}),
        ),
        c(
            Method::POST,
            "/api/v1/coupons/grants",
            "/api/v1/coupons/grants".into(),
            Caller::Coupons,
            json!({"park": park_code, "coupon": coupon_site::PRODUCT, "plate": "粤B12345", "grant_id": "g-1",
                 "reason": "消费", "parking_serial": "ps-1"}),
        ),
        c(
            Method::POST,
            "/api/v1/coupon-records/grants",
            "/api/v1/coupon-records/grants".into(),
            Caller::Admin,
            json!({"park_id": park, "product_id": product, "plate": "粤B12345", "reason": "补发", "grant_id": "ui-1"}),
        ),
        c(
            Method::POST,
            "/api/v1/coupon-records/{id}/reconcile",
            format!("/api/v1/coupon-records/{coupon_record}/reconcile"),
            Caller::Admin,
            json!({"resolution": "delivered", "note": "查过了"}),
        ),
        c(
            Method::PUT,
            "/api/v1/parks/{id}/coupon-config/event",
            format!("/api/v1/parks/{park}/coupon-config/event"),
            Caller::Admin,
            json!({"api_type": coupon_site::API_TYPE, "metadata_keys": [{"key": "charge_kwh", "name": "充电度数"}]}),
        ),
        c(
            Method::POST,
            "/api/v1/parks/{id}/coupon-products",
            format!("/api/v1/parks/{park}/coupon-products"),
            Caller::Admin,
            json!({"name": "产品", "coupon_code": "CC", "store_code": "SC", "quantity": 1, "reason": "理由"}),
        ),
        c(
            Method::PUT,
            "/api/v1/parks/{id}/coupon-products/{pid}",
            format!("/api/v1/parks/{park}/coupon-products/{product}"),
            Caller::Admin,
            json!({"name": coupon_site::PRODUCT, "coupon_code": coupon_site::COUPON_CODE, "store_code": "shop-7", "quantity": 1, "reason": "理由"}),
        ),
        c(
            Method::POST,
            "/api/v1/parks/{id}/vip-sync",
            format!("/api/v1/parks/{park}/vip-sync"),
            Caller::Admin,
            json!({"confirm_name": "not the name"}),
        ),
        c(
            Method::POST,
            "/api/v1/parks/{id}/vip/records",
            format!("/api/v1/parks/{park}/vip/records"),
            Caller::Admin,
            json!({"plate": "粤B54321", "charge_type": "MON_A", "vip_type": 1, "card_no": "C-1", "card_id": "ID-1",
                 "recharge": {"quantity": 1, "pay_type": 1, "pay_value_fen": 30000, "value": "1",
                              "pay_partner": "pp", "pay_time": "2026-01-15T04:00:00Z"}}),
        ),
        c(
            Method::POST,
            "/api/v1/vip/records/{rid}/recharges",
            format!("/api/v1/vip/records/{record}/recharges"),
            Caller::Admin,
            json!({"quantity": 1, "pay_type": 1, "pay_value_fen": 30000, "value": "1", "pay_partner": "pp2",
                 "pay_time": "2026-02-15T04:00:00Z"}),
        ),
        c(
            Method::POST,
            "/api/v1/vip/recharges",
            "/api/v1/vip/recharges".into(),
            Caller::Vip,
            json!({"park": park_code, "rows": [{
              "plate": "粤B00001", "plate_color": 1, "card_no": "C1", "charge_type": "MON_A", "vip_type": 1,
              "quantity": 1, "pay_partner": "pp-000001", "pay_type": 2, "value": "1",
              "pay_time": "1767225600000", "renewal_start_time": "2025-12-31T16:00:00Z",
              "renewal_end_time": "2026-01-31T15:59:59Z", "pay_value": 30000, "operator": "本地系统"}]}),
        ),
        c(
            Method::POST,
            "/api/v1/gate/entries",
            "/api/v1/gate/entries".into(),
            Caller::Gate,
            json!({"park": park_code, "plate": "沪A11111", "gate": "东门"}),
        ),
        c(
            Method::POST,
            "/api/v1/gate/exits",
            "/api/v1/gate/exits".into(),
            Caller::Gate,
            json!({"park": park_code, "plate": "沪A11111", "gate": "西门"}),
        ),
        c(
            Method::POST,
            "/api/v1/sessions/discounts",
            "/api/v1/sessions/discounts".into(),
            Caller::Discounts,
            json!({"park": park_code, "plate": "沪A11111", "discount_id": "d-1", "kind": "minutes",
                 "value": 60, "source_name": "商户减免", "reason": "消费满额"}),
        ),
        c(
            Method::POST,
            "/api/v1/sessions/{id}/waivers",
            "/api/v1/sessions/1/waivers".into(),
            Caller::Admin,
            json!({"kind": "amount", "value": 500, "reason": "道闸故障"}),
        ),
        c(
            Method::POST,
            "/mallcoo/v1/GetParkingPaymentInfo",
            "/mallcoo/v1/GetParkingPaymentInfo".into(),
            Caller::Mallcoo,
            json!({"parkId": "MC-ABUSE", "plateNo": "沪A11111"}),
        ),
        c(
            Method::POST,
            "/mallcoo/v1/PayParkingFee",
            "/mallcoo/v1/PayParkingFee".into(),
            Caller::Mallcoo,
            json!({"parkId": "MC-ABUSE", "feeId": "f-1", "orderNo": "o-1", "thirdTradeNo": "WX1", "plateNo": "沪A11111",
                 "payTime": shanghai, "unPayAmount": 0, "amount": 0, "deductionAmount": 0,
                 "deductionDetails": [], "payChannel": 0, "payType": 0}),
        ),
        c(
            Method::POST,
            "/mallcoo/v1/GetTraffic",
            "/mallcoo/v1/GetTraffic".into(),
            Caller::Mallcoo,
            json!({"parkId": "MC-ABUSE", "startTime": "2026-11-20 08:00:00", "endTime": "2026-11-20 09:00:00"}),
        ),
        c(
            Method::POST,
            "/api/v1/parks/{id}/shops",
            format!("/api/v1/parks/{park}/shops"),
            Caller::Admin,
            json!({"name": "奶茶店", "store_code": "S-1"}),
        ),
        c(
            Method::PUT,
            "/api/v1/shops/{id}",
            format!("/api/v1/shops/{shop}"),
            Caller::Admin,
            json!({"name": "咖啡店", "store_code": "S-2", "active": true}),
        ),
        c(
            Method::POST,
            "/api/v1/shops/{id}/offers",
            format!("/api/v1/shops/{shop}/offers"),
            Caller::Admin,
            json!({"name": "减1小时", "discount": {"kind": "minutes", "value": 60}, "daily_quota": 5}),
        ),
        c(
            Method::PUT,
            "/api/v1/offers/{id}",
            format!("/api/v1/offers/{offer}"),
            Caller::Admin,
            json!({"name": "减2小时", "daily_quota": 6, "monthly_quota": 60, "active": true}),
        ),
        c(
            Method::POST,
            "/api/v1/alert-channels",
            "/api/v1/alert-channels".into(),
            Caller::Admin,
            json!({"name": "值班群", "kind": "dingtalk",
                   "url": "http://127.0.0.1:9/robot/send?access_token=t", "secret": "SECabc",
                   "keyword": "停车", "kinds": ["gate_silence"], "language": "zh-CN"}),
        ),
        c(
            Method::PUT,
            "/api/v1/alert-channels/{id}",
            format!("/api/v1/alert-channels/{channel}"),
            Caller::Admin,
            json!({"name": "值班群二", "url": "http://127.0.0.1:9/robot/send?access_token=u",
                   "secret": "SECdef", "keyword": "停车场", "kinds": ["gate_silence"], "language": "en"}),
        ),
        c(
            Method::POST,
            "/api/v1/shop/validations",
            "/api/v1/shop/validations".into(),
            Caller::Merchant,
            json!({"offer_id": offer, "plate": "粤B12345", "validation_id": "v-hostile"}),
        ),
        // No string member: the hostile strings stand where a number belongs.
        c(
            Method::POST,
            "/api/v1/shop/qr-tokens",
            "/api/v1/shop/qr-tokens".into(),
            Caller::Merchant,
            json!({"offer_id": offer, "single_use": true, "expire_in": "600"}),
        ),
        // P云's gateway answers every body 200 with a result_code; a hostile value only changes
        // which refusal (unknown park, bad signature, bad field) it reads.
        c(
            Method::POST,
            "/pyun/v1/gateway",
            "/pyun/v1/gateway".into(),
            Caller::Anonymous,
            json!({"service": "service.parking.payment.billing", "version": "1.0", "charset": "UTF-8",
                   "park_uuid": "abuse-park", "plate": "沪A11111", "sign": "00000000000000000000000000000000"}),
        ),
    ]
}

/// POST routes that take no JSON body (their path parameters are still attacked, as are those
/// of the DELETE routes).
const NO_JSON_BODY: [&str; 6] = [
    "/api/v1/auth/logout",
    "/api/v1/alert-channels/{id}/test",
    "/api/v1/credentials/{id}/rotate",
    "/api/v1/parks/{id}/pyun-uploads/resend",
    "/api/v1/parks/{id}/vip-sync/resend",
    "/api/v1/parks/{id}/vip/import",
];

/// Query parameters of the GET routes that take some.
fn query_params(template: &str) -> &'static [&'static str] {
    match template {
        "/api/v1/coupon-records" => &[
            "plate",
            "state",
            "from",
            "to",
            "park_id",
            "before_id",
            "limit",
        ],
        "/api/v1/parks/{id}/vip/records" => {
            &["plate", "validity", "sync", "vip_type", "offset", "limit"]
        }
        "/api/v1/parks/{id}/sessions" => &["plate", "state", "before", "limit"],
        "/api/v1/parks/{id}/traffic" => &["from", "to"],
        "/api/v1/audit" => &["limit", "before"],
        "/api/v1/shop/validations" => &["day"],
        "/api/v1/parks/{id}/vip/export/records.csv"
        | "/api/v1/parks/{id}/vip/export/recharges.csv" => &["encoding"],
        _ => &[],
    }
}

/// Every string in `v` replaced, one at a time: the JSON pointers of its string leaves.
fn string_leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::String(_) => out.push(at),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                string_leaves(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                string_leaves(item, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

/// `text` percent-encoded for a path segment or query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The clients of the hostile-strings test.
struct Callers {
    anonymous: Client,
    admin: Client,
    coupons: Client,
    gate: Client,
    vip: Client,
    discounts: Client,
    http: Client,
    mallcoo: (String, String, String),
    merchant: Client,
}

impl Callers {
    /// Sends `body` (raw text, so that Mallcoo's signature covers the exact bytes) and returns
    /// the status and the answer's JSON.
    async fn send(
        &self,
        caller: Caller,
        method: Method,
        url: &str,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let client = match caller {
            Caller::Anonymous => &self.anonymous,
            Caller::Admin => &self.admin,
            Caller::Coupons => &self.coupons,
            Caller::Gate => &self.gate,
            Caller::Vip => &self.vip,
            Caller::Discounts => &self.discounts,
            Caller::Mallcoo => &self.http,
            Caller::Merchant => &self.merchant,
        };
        let mut req = client.request(method, url);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_owned());
            if let Caller::Mallcoo = caller {
                let (app_id, public_key, private_key) = &self.mallcoo;
                let keys = MallcooKeys {
                    app_id,
                    public_key,
                    private_key,
                };
                for (name, value) in sign_headers(&keys, chrono::Utc::now(), body).pairs() {
                    req = req.header(name, value);
                }
            }
        }
        let resp = req.send().await.expect("answered");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// Never a 5xx; a refusal is an envelope with a message (Mallcoo's on its routes).
fn assert_handled(status: StatusCode, body: &Value, what: &str) {
    assert!(!status.is_server_error(), "{what}: {status} {body}");
    if status.is_client_error() {
        if what.contains("/mallcoo/") {
            assert_eq!(body["resCode"], 1, "{what}: {status} {body}");
            assert!(
                body["resMsg"].as_str().is_some_and(|m| !m.is_empty()),
                "{what}: {body}"
            );
        } else {
            assert_envelope(body, &format!("{what} ({status})"));
        }
    }
}

async fn hostile_strings_scenario(backend: Backend) {
    let site = CouponSite::start(
        backend,
        coupon_site::sandbox(&["粤B12345"]),
        &coupon_site::FAST_RETRIES,
    )
    .await;
    let server = &site.server;
    let park = site.park_id;
    // Mallcoo's inbound keys for the car park, and what the other routes need.
    let (status, inbound) = send(
        &site.admin,
        Method::POST,
        &server.url("/api/v1/credentials"),
        Some(json!({"name": "mallcoo-in", "kind": "mallcoo_inbound"})),
    )
    .await;
    assert_eq!(status, 201, "{inbound}");
    let issued = &inbound["issued"];
    let key = |k: &str| issued[k].as_str().unwrap().to_owned();
    let (status, body) = send(&site.admin, Method::PUT, &server.url(&format!("/api/v1/parks/{park}")), Some(json!({
        "code": coupon_site::PARK, "name": "测试广场", "pyun_api_store_code": coupon_site::STORE,
        "pyun_merchant": coupon_site::MERCHANT, "pyun_park_uuid": "park-uuid-1",
        "pyun_credential_id": site.credential_id, "mallcoo_park_id": "MC-ABUSE",
        "mallcoo_in_credential_id": inbound["credential"]["id"],
    }))).await;
    assert_eq!(status, 200, "{body}");
    server.add_user("victim", "mall_staff", "victim-password-1");
    let (_, users) = send(&site.admin, Method::GET, &server.url("/api/v1/users"), None).await;
    let victim = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "victim")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, created) = send(&site.admin, Method::POST, &server.url(&format!("/api/v1/parks/{park}/vip/records")), Some(json!({
        "plate": "粤B12345", "charge_type": "MON_A", "vip_type": 1,
        "recharge": {"quantity": 1, "pay_type": 1, "pay_value_fen": 30000, "pay_time": "2026-01-15T04:00:00Z"}
    }))).await;
    assert_eq!(status, 201, "{created}");
    let record = created["record"]["id"].as_i64().unwrap();
    let (status, event) = site.event("ev-seed", "粤B12345").await;
    assert!(status.is_success(), "{event}");
    // A shop with a P云-product offer and its merchant, for the shops' routes.
    let (status, made) = send(
        &site.admin,
        Method::POST,
        &server.url(&format!("/api/v1/parks/{park}/shops")),
        Some(json!({"name": "abuse shop"})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let shop = made["id"].as_i64().unwrap();
    let (status, made) = send(
        &site.admin,
        Method::POST,
        &server.url(&format!("/api/v1/shops/{shop}/offers")),
        Some(json!({"name": "券", "product_id": site.product_id, "daily_quota": 1000})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let offer = made["id"].as_i64().unwrap();
    let (status, made) = send(&site.admin, Method::POST, &server.url("/api/v1/users"),
        Some(json!({"username": "abuse-till", "password": "merchant-password-1", "role": "merchant", "shop_id": shop}))).await;
    assert_eq!(status, 201, "{made}");
    let merchant = server.signed_in("abuse-till", "merchant-password-1").await;
    // An alert channel, for its change route (its robot is nowhere: tests answer `transient`).
    let (status, made) = send(
        &site.admin,
        Method::POST,
        &server.url("/api/v1/alert-channels"),
        Some(json!({"name": "abuse channel", "kind": "wecom",
                    "url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=k"})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let channel = made["id"].as_i64().unwrap();
    let ids = Ids {
        park,
        product: site.product_id,
        credential: site.credential_id,
        victim,
        record,
        coupon_record: event["id"].as_i64().expect("coupon record id"),
        mallcoo_in: inbound["credential"]["id"].as_i64().unwrap(),
        shop,
        offer,
        channel,
    };
    let callers = Callers {
        anonymous: Client::new(),
        admin: site.admin.clone(),
        coupons: site.machine.clone(),
        gate: bearer_client(&server.api_key("gate", "gate", None)),
        vip: bearer_client(&server.api_key("vip", "vip", Some(coupon_site::PARK))),
        discounts: bearer_client(&server.api_key("till", "discounts", None)),
        http: Client::new(),
        mallcoo: (key("app_id"), key("public_key"), key("private_key")),
        merchant,
    };
    let hostile = hostile_strings();
    let cases = json_cases(&ids);

    // The table is covered: every changing route has a case or takes no JSON body.
    let table = parkbridge::http::routes::table();
    for route in &table {
        if matches!(route.method, Method::GET | Method::DELETE)
            || NO_JSON_BODY.contains(&route.path)
        {
            continue;
        }
        assert!(
            cases
                .iter()
                .any(|c| c.template == route.path && c.method == route.method),
            "no hostile-strings case for {} {}",
            route.method,
            route.path
        );
    }

    // Each string field of each body, one at a time, gets each hostile string.
    for case in &cases {
        let mut leaves = Vec::new();
        string_leaves(&case.body, String::new(), &mut leaves);
        assert!(!leaves.is_empty(), "{}", case.path);
        for leaf in &leaves {
            for h in &hostile {
                let mut body = case.body.clone();
                *body.pointer_mut(leaf).unwrap() = Value::String(h.text.clone());
                let (status, answer) = callers
                    .send(
                        case.caller,
                        case.method.clone(),
                        &server.url(&case.path),
                        Some(&body.to_string()),
                    )
                    .await;
                let what = format!("{} {} {leaf}={:.30?}", case.method, case.path, h.text);
                assert_handled(status, &answer, &what);
            }
        }
    }

    // Path parameters and query values of every route.
    for route in &table {
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let caller = match route.access {
            parkbridge::http::access::Access::Machine(_)
            | parkbridge::http::access::Access::AnyMachine => Caller::Coupons,
            parkbridge::http::access::Access::MallcooSigned => Caller::Mallcoo,
            parkbridge::http::access::Access::Merchant => Caller::Merchant,
            _ => Caller::Admin,
        };
        if route.path == "/api/v1/auth/logout" {
            continue; // would sign the admin out; it has no parameters anyway
        }
        let body = (method != Method::GET && method != Method::DELETE).then_some("{}");
        for h in &hostile {
            // A URL holds at most 64 KiB: the long string is ASCII here (still 10 000 chars).
            let text = if h.text.len() > 10_000 {
                "x".repeat(10_000)
            } else {
                h.text.clone()
            };
            if route.path.contains('{') {
                let path: String = route
                    .path
                    .split('/')
                    .map(|seg| {
                        if seg.starts_with('{') {
                            encode(&text)
                        } else {
                            seg.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                let (status, answer) = callers
                    .send(caller, method.clone(), &server.url(&path), body)
                    .await;
                assert_handled(status, &answer, &format!("{} {}", route.method, route.path));
            }
            let concrete = route.path.replace("{id}", &park.to_string());
            for param in query_params(route.path) {
                let url = server.url(&format!("{concrete}?{param}={}", encode(&text)));
                let (status, answer) = callers.send(caller, method.clone(), &url, None).await;
                assert_handled(status, &answer, &format!("GET {concrete}?{param}"));
            }
        }
    }

    // Free text is stored byte for byte: a product's name, a car park's name, a key's name.
    // The products go to a fresh car park, as names are unique per car park.
    let (status, fresh) = send(
        &site.admin,
        Method::POST,
        &server.url("/api/v1/parks"),
        Some(json!({"code": "readback", "name": "回读广场"})),
    )
    .await;
    assert_eq!(status, 201, "{fresh}");
    let fresh = fresh["id"].as_i64().unwrap();
    for (i, h) in hostile.iter().enumerate() {
        let products = server.url(&format!("/api/v1/parks/{fresh}/coupon-products"));
        let (status, answer) = send(
            &site.admin,
            Method::POST,
            &products,
            Some(json!({
                "name": h.text, "coupon_code": format!("CC-{i}"), "store_code": "s", "quantity": 1
            })),
        )
        .await;
        let config = server.url(&format!("/api/v1/parks/{fresh}/coupon-config"));
        let (_, config) = send(&site.admin, Method::GET, &config, None).await;
        let stored = config["products"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"].as_str() == Some(&h.text));
        if status == 201 {
            assert!(stored, "product {:.30?} not read back identically", h.text);
        } else {
            assert!(
                !h.storable,
                "product name {:.30?} refused: {answer}",
                h.text
            );
            assert_envelope(&answer, "product name");
            assert!(!stored);
        }

        let (status, answer) = send(
            &site.admin,
            Method::POST,
            &server.url("/api/v1/parks"),
            Some(json!({
                "code": format!("weird-{i}"), "name": h.text
            })),
        )
        .await;
        if status == 201 {
            let id = answer["id"].as_i64().unwrap();
            let (_, park) = send(
                &site.admin,
                Method::GET,
                &server.url(&format!("/api/v1/parks/{id}")),
                None,
            )
            .await;
            assert_eq!(park["name"].as_str(), Some(h.text.as_str()), "park name");
        } else {
            assert!(!h.storable, "park name {:.30?} refused: {answer}", h.text);
            assert_envelope(&answer, "park name");
        }

        let (status, answer) = send(
            &site.admin,
            Method::POST,
            &server.url("/api/v1/api-keys"),
            Some(json!({
                "name": h.text, "scopes": ["gate"]
            })),
        )
        .await;
        if status == 201 {
            let (_, keys) = send(
                &site.admin,
                Method::GET,
                &server.url("/api/v1/api-keys"),
                None,
            )
            .await;
            assert!(
                keys.as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["name"].as_str() == Some(&h.text)),
                "key name {:.30?} not read back identically",
                h.text
            );
        } else {
            assert!(!h.storable, "key name {:.30?} refused: {answer}", h.text);
            assert_envelope(&answer, "key name");
        }
    }

    // A plate search for `%` or `_` is a search for those characters, not a wildcard.
    for wildcard in ["%", "_", "%'--", "\\"] {
        let found = site
            .manager
            .get(server.url(&format!(
                "/api/v1/parks/{park}/vip/records?plate={}",
                encode(wildcard)
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(found.status(), 200);
        let found: Value = found.json().await.unwrap();
        let n = found["records"].as_array().map_or(0, Vec::len);
        assert_eq!(n, 0, "plate search {wildcard:?} matched: {found}");
    }

    // And the database is intact: the people are all there and can still sign in.
    let (status, users) = send(&site.admin, Method::GET, &server.url("/api/v1/users"), None).await;
    assert_eq!(status, 200, "{users}");
    let names: BTreeSet<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    for name in ["root", "manager", "victim"] {
        assert!(names.contains(name), "{name} missing: {names:?}");
    }
    can_sign_in(server, "root", coupon_site::ADMIN_PW).await;
    can_sign_in(server, "manager", coupon_site::MANAGER_PW).await;
}

e2e::on_both_engines! {
    hostile_strings_in_every_field_are_refused_or_stored_verbatim_and_the_database_survives => hostile_strings_scenario;
}

// ---------------------------------------------------------------------------------------------
// 5. Secrets never leak
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_response_the_logs_the_metrics_or_the_frontend_bundle() {
    use sandbox::mallcoo::MallcooSandbox;

    const MC_OUT_PRIVATE: &str = "SK_abuse_out_secret_93be17";
    const ROOT_PW: &str = coupon_site::ADMIN_PW;
    // Both sandboxes, and one server pointed at them that logs everything at debug.
    let pyun = coupon_site::sandbox(&["粤B12345"]);
    let pyun_running = pyun.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mallcoo = MallcooSandbox::new();
    mallcoo.add_app("mc-out-app", "PK_abuse_out", MC_OUT_PRIVATE);
    mallcoo.add_park_code("MC-P001");
    let mallcoo_running = mallcoo.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let server = TestServer::start_capturing_logs(
        Backend::Sqlite,
        &[
            &format!("PARKBRIDGE_PYUN_BASE_URL={}", pyun_running.base_url),
            &format!("PARKBRIDGE_MALLCOO_BASE_URL={}", mallcoo_running.base_url),
        ],
    );
    let site = CouponSite::configure_with(pyun, pyun_running, server).await;
    let server = &site.server;
    let park = site.park_id;
    let admin = &site.admin;

    // Every kind of secret: P云 app_secret (set, then replaced), Mallcoo key pairs, API keys,
    // passwords, the master key.
    let (status, body) = send(
        admin,
        Method::PUT,
        &server.url(&format!(
            "/api/v1/credentials/{}/secret",
            site.credential_id
        )),
        Some(json!({"secret": "replaced-secret-0b7d4e21"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.to_string().contains("replaced-secret"), "{body}");
    let (status, body) = send(
        admin,
        Method::PUT,
        &server.url(&format!(
            "/api/v1/credentials/{}/secret",
            site.credential_id
        )),
        Some(json!({"secret": coupon_site::APP_SECRET})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, out) = send(
        admin,
        Method::POST,
        &server.url("/api/v1/credentials"),
        Some(json!({
            "name": "mallcoo-out", "kind": "mallcoo_outbound", "app_id": "mc-out-app",
            "public_key": "PK_abuse_out", "private_key": MC_OUT_PRIVATE
        })),
    )
    .await;
    assert_eq!(status, 201, "{out}");
    // Written, never shown back (unlike a pair ParkBridge issues, shown once below).
    assert!(!out.to_string().contains(MC_OUT_PRIVATE), "{out}");
    let (status, inbound) = send(
        admin,
        Method::POST,
        &server.url("/api/v1/credentials"),
        Some(json!({"name": "mallcoo-in", "kind": "mallcoo_inbound"})),
    )
    .await;
    assert_eq!(status, 201, "{inbound}");
    let in_private = inbound["issued"]["private_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let in_keys = (
        inbound["issued"]["app_id"].as_str().unwrap().to_owned(),
        inbound["issued"]["public_key"].as_str().unwrap().to_owned(),
        in_private.clone(),
    );
    let (status, body) = send(admin, Method::PUT, &server.url(&format!("/api/v1/parks/{park}")), Some(json!({
        "code": coupon_site::PARK, "name": "测试广场", "pyun_api_store_code": coupon_site::STORE,
        "pyun_merchant": coupon_site::MERCHANT, "pyun_park_uuid": "park-uuid-1",
        "pyun_credential_id": site.credential_id, "mallcoo_park_id": "MC-SECRET",
        "mallcoo_park_code": "MC-P001", "mallcoo_out_credential_id": out["credential"]["id"],
        "mallcoo_in_credential_id": inbound["credential"]["id"],
    }))).await;
    assert_eq!(status, 200, "{body}");
    let (status, created_key) = send(
        admin,
        Method::POST,
        &server.url("/api/v1/api-keys"),
        Some(json!({"name": "ui-key", "scopes": ["gate"]})),
    )
    .await;
    assert_eq!(status, 201, "{created_key}");
    let ui_key = created_key["key"]
        .as_str()
        .expect("the key is shown once")
        .to_owned();
    let gate_key = server.api_key("gate", "gate", None);
    let master_key = std::fs::read_to_string(server.data_dir.path().join("master.key"))
        .expect("the master key file")
        .trim()
        .to_owned();
    assert_eq!(master_key.len(), 64, "64 hex digits");

    // Exercise what uses them: a coupon (P云, signed with app_secret), an entry notice
    // (Mallcoo outbound), a V1.4 fee query (inbound signature), sign-ins, key calls.
    let (status, r) = site.event("ev-secret", "粤B12345").await;
    assert!(status.is_success(), "{r}");
    let gate = bearer_client(&gate_key);
    let (status, r) = send(
        &gate,
        Method::POST,
        &server.url("/api/v1/gate/entries"),
        Some(json!({"park": coupon_site::PARK, "plate": "沪A77777"})),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    eventually(
        Duration::from_secs(20),
        "the entry notice reaching Mallcoo",
        || async { mallcoo.notice_count() > 0 },
    )
    .await;
    let body = json!({"parkId": "MC-SECRET", "plateNo": "沪A77777"}).to_string();
    let (app_id, public_key, private_key) = &in_keys;
    let keys = MallcooKeys {
        app_id,
        public_key,
        private_key,
    };
    let signed = sign_headers(&keys, chrono::Utc::now(), &body);
    let mut req = Client::new()
        .post(server.url("/mallcoo/v1/GetParkingPaymentInfo"))
        .header("content-type", "application/json")
        .body(body.clone());
    for (name, value) in signed.pairs() {
        req = req.header(name, value);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let quote: Value = resp.json().await.unwrap();
    assert_eq!(quote["resCode"], 0, "{quote}");
    let inbound_sign = signed.sign.clone();
    let (status, _) = send(
        &bearer_client(&ui_key),
        Method::GET,
        &server.url("/api/v1/machine/whoami"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    can_sign_in(server, "manager", coupon_site::MANAGER_PW).await;
    let resp = Client::new()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": "root", "password": "wrong-but-close-admin-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "a wrong password is refused");

    // The secrets, and the signatures made with them.
    let mut secrets: Vec<(String, String)> = vec![
        ("P云 app_secret".into(), coupon_site::APP_SECRET.into()),
        (
            "replaced P云 secret".into(),
            "replaced-secret-0b7d4e21".into(),
        ),
        ("Mallcoo outbound private key".into(), MC_OUT_PRIVATE.into()),
        ("Mallcoo inbound private key".into(), in_private),
        ("API key (CLI)".into(), gate_key.clone()),
        (
            "API key secret part".into(),
            gate_key.rsplit('_').next().unwrap().to_owned(),
        ),
        ("API key (admin UI)".into(), ui_key.clone()),
        ("admin password".into(), ROOT_PW.into()),
        ("manager password".into(), coupon_site::MANAGER_PW.into()),
        (
            "wrong password".into(),
            "wrong-but-close-admin-password".into(),
        ),
        ("master key".into(), master_key.clone()),
        ("inbound Mallcoo signature".into(), inbound_sign),
    ];
    for r in site.pyun.requests() {
        if let Some(sign) = r
            .fields
            .iter()
            .find(|(k, _)| k == "sign")
            .map(|(_, v)| v.clone())
        {
            secrets.push(("P云 signature".into(), sign));
        }
    }
    for n in mallcoo.requests() {
        let timestamp = n.timestamp.clone().expect("a TimeStamp header");
        let sign = protocol::mallcoo::sign("PK_abuse_out", &timestamp, &n.body, MC_OUT_PRIVATE);
        secrets.push(("Mallcoo outbound signature".into(), sign));
    }
    assert!(
        secrets.iter().any(|(what, _)| what == "P云 signature"),
        "no P云 call was made"
    );
    assert!(
        secrets
            .iter()
            .any(|(what, _)| what == "Mallcoo outbound signature"),
        "no Mallcoo call was made"
    );
    let leaks = |text: &str, place: &str| {
        for (what, secret) in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "the {what} appears in {place}"
            );
        }
    };

    // Every GET route of the table, as the admin and as the manager.
    let record_id = 1;
    for route in parkbridge::http::routes::table() {
        if route.method != Method::GET {
            continue;
        }
        let path = route
            .path
            .replace("{id}", &park.to_string())
            .replace("{park}", &park.to_string())
            .replace("{rid}", &record_id.to_string());
        for (who, client) in [
            ("admin", admin),
            ("manager", &site.manager),
            ("key", &site.machine),
        ] {
            let resp = client.get(server.url(&path)).send().await.unwrap();
            let headers = format!("{:?}", resp.headers());
            let body = resp.text().await.unwrap();
            leaks(&headers, &format!("the headers of GET {path} ({who})"));
            leaks(&body, &format!("GET {path} ({who})"));
        }
    }
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    leaks(&metrics, "/metrics");
    let index = reqwest::get(server.url("/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    leaks(&index, "the index page");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = server.logs();
    assert!(logs.contains("DEBUG"), "debug logs were not captured");
    leaks(&logs, "the logs");

    // The built frontend: nothing secret was compiled in.
    let dist = e2e::server::static_dir();
    let mut files = vec![dist.clone()];
    let mut scanned = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        leaks(&text, &path.display().to_string());
        // What only the server's storage knows: the key file, the sealed and hashed columns.
        for name in [
            "master.key",
            "PARKBRIDGE_MASTER_KEY",
            "sealed_secret",
            "password_hash",
            "token_hash",
            "key_hash",
        ] {
            assert!(!text.contains(name), "{name} appears in {}", path.display());
        }
        scanned += 1;
    }
    assert!(
        scanned >= 3,
        "frontend/dist holds only {scanned} files: is it built?"
    );
}
