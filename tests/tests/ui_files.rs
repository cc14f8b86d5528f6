//! The admin UI's files as a debug build serves them from disk (`--static-dir`): compressed
//! for browsers that accept it, revalidated by ETag with a 304, `no-cache` on every plain name,
//! and index.html for client-side routes. The release binary's built-in copy is proven by
//! tests/tests/package.rs.

use std::io::Read;
use std::path::Path;

use e2e::server::{Backend, TestServer, static_dir};
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};

/// What Chromium sends.
const BROWSER_CODINGS: &str = "gzip, deflate, br, zstd";

async fn get(url: &str, headers: &[(reqwest::header::HeaderName, &str)]) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url);
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    req.send().await.unwrap()
}

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    resp.headers()
        .get(&name)
        .map_or("", |v| v.to_str().unwrap())
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn ungzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn the_wasm_module_is_sent_in_the_best_coding_the_browser_accepts() {
    let server = TestServer::start();
    let url = server.url("/frontend_bg.wasm");
    let on_disk = std::fs::read(static_dir().join("frontend_bg.wasm")).unwrap();

    let br = get(&url, &[(ACCEPT_ENCODING, BROWSER_CODINGS)]).await;
    assert_eq!(br.status(), 200);
    assert_eq!(header(&br, CONTENT_ENCODING), "br");
    assert_eq!(header(&br, CONTENT_TYPE), "application/wasm");
    assert_eq!(header(&br, VARY), "accept-encoding");
    let br_tag = header(&br, ETAG).to_owned();
    let br_body = br.bytes().await.unwrap();
    assert!(
        br_body.len() * 2 < on_disk.len(),
        "Brotli sent {} of {} bytes",
        br_body.len(),
        on_disk.len()
    );
    assert!(unbrotli(&br_body) == on_disk, "the Brotli body is the file");

    let gz = get(&url, &[(ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(header(&gz, CONTENT_ENCODING), "gzip");
    let gz_tag = header(&gz, ETAG).to_owned();
    assert!(ungzip(&gz.bytes().await.unwrap()) == on_disk);

    let plain = get(&url, &[]).await;
    assert_eq!(header(&plain, CONTENT_ENCODING), "");
    let plain_tag = header(&plain, ETAG).to_owned();
    assert!(plain.bytes().await.unwrap() == on_disk);

    // Three representations, three tags: a cache never answers gzip with Brotli bytes.
    assert!(br_tag != gz_tag && gz_tag != plain_tag && br_tag != plain_tag);
    assert!(
        plain_tag.starts_with('"') && plain_tag.ends_with('"'),
        "{plain_tag}"
    );
}

#[tokio::test]
async fn an_unchanged_file_is_answered_304_and_a_rebuilt_one_in_full() {
    // A copy of the built UI this test may change, as a rebuild would.
    let dist = tempfile::tempdir().unwrap();
    copy_dir(&static_dir(), dist.path());
    let dist_arg = dist.path().to_string_lossy().into_owned();
    let server = TestServer::start_with(Backend::Sqlite, &["--static-dir", &dist_arg]);
    let url = server.url("/frontend.js");

    let first = get(&url, &[(ACCEPT_ENCODING, BROWSER_CODINGS)]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, CACHE_CONTROL), "no-cache");
    let tag = header(&first, ETAG).to_owned();

    // The browser revalidates with the tag it holds, in whichever coding it got the file.
    for codings in [BROWSER_CODINGS, "gzip", ""] {
        let again = get(&url, &[(ACCEPT_ENCODING, codings), (IF_NONE_MATCH, &tag)]).await;
        assert_eq!(again.status(), 304, "accepting {codings:?}");
        assert_eq!(header(&again, CACHE_CONTROL), "no-cache");
        assert!(!header(&again, ETAG).is_empty());
        assert!(again.bytes().await.unwrap().is_empty());
    }

    // An upgrade replaces the file: the old tag no longer matches, the new bytes arrive.
    let js = dist.path().join("frontend.js");
    let mut rebuilt = std::fs::read_to_string(&js).unwrap();
    rebuilt.push_str("\n// rebuilt\n");
    std::fs::write(&js, &rebuilt).unwrap();
    let after = get(&url, &[(IF_NONE_MATCH, &tag)]).await;
    assert_eq!(after.status(), 200);
    assert_ne!(header(&after, ETAG), tag);
    assert_eq!(after.text().await.unwrap(), rebuilt);
}

#[tokio::test]
async fn client_side_routes_get_index_html_which_is_always_revalidated() {
    let server = TestServer::start();
    let index = get(&server.url("/"), &[]).await;
    assert_eq!(index.status(), 200);
    assert_eq!(header(&index, CACHE_CONTROL), "no-cache");
    assert!(header(&index, CONTENT_TYPE).starts_with("text/html"));
    let tag = header(&index, ETAG).to_owned();
    let html = index.text().await.unwrap();
    assert!(html.contains(".wasm"), "{html:.200}");

    for path in [
        "/vip/records",
        "/parks/12/tariff",
        "/no-such-file.js",
        "/../etc/passwd",
    ] {
        let resp = get(&server.url(path), &[(ACCEPT_ENCODING, "gzip")]).await;
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(header(&resp, CACHE_CONTROL), "no-cache", "{path}");
        assert_eq!(header(&resp, CONTENT_ENCODING), "gzip", "{path}");
        assert!(
            header(&resp, CONTENT_TYPE).starts_with("text/html"),
            "{path}"
        );
        assert!(
            ungzip(&resp.bytes().await.unwrap()) == html.as_bytes(),
            "{path}"
        );
        // The same page, so the browser's copy of it stays good.
        let again = get(&server.url(path), &[(IF_NONE_MATCH, &tag)]).await;
        assert_eq!(again.status(), 304, "{path}");
    }

    // The API keeps its JSON 404, and the UI answers only reads.
    let api = get(&server.url("/api/v1/no-such-thing"), &[]).await;
    assert_eq!(api.status(), 404);
    assert!(header(&api, CONTENT_TYPE).starts_with("application/json"));
    let post = reqwest::Client::new()
        .post(server.url("/vip/records"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
}

/// Copies the directory `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}
