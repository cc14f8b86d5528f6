//! The admin UI's files: built into a release binary, or read from a directory (debug builds,
//! tests, `--static-dir`). Sent compressed when the browser accepts it, revalidated by `ETag`
//! (a 304 when unchanged), and index.html for every path that names no file, so that a reload
//! on a client-side route works.

mod compress;
mod disk;
#[cfg(embed_ui)]
mod embedded;
mod negotiate;

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use negotiate::Coding;

/// Where the UI's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiSource {
    /// A directory holding Trunk's `dist` output, read on every request.
    Dir(PathBuf),
    /// The copy built into this binary (release builds).
    #[cfg(embed_ui)]
    Embedded,
}

impl UiSource {
    /// Without `--static-dir`: the built-in copy when this binary has one, else `frontend/dist`.
    pub fn built_in_or_default() -> Self {
        #[cfg(embed_ui)]
        let source = UiSource::Embedded;
        #[cfg(not(embed_ui))]
        let source = UiSource::Dir(PathBuf::from("frontend/dist"));
        source
    }

    /// Whether there is an index.html to serve (the server warns at start-up when not).
    pub fn has_index(&self) -> bool {
        match self {
            UiSource::Dir(dir) => dir.join("index.html").is_file(),
            #[cfg(embed_ui)]
            UiSource::Embedded => true,
        }
    }

    /// Where the files come from, for the start-up log.
    pub fn describe(&self) -> String {
        match self {
            UiSource::Dir(dir) => dir.display().to_string(),
            #[cfg(embed_ui)]
            UiSource::Embedded => "built into the binary".to_owned(),
        }
    }

    /// The file at `rel` (no leading slash), if there is one.
    async fn find(&self, rel: &str) -> Option<Entry> {
        match self {
            UiSource::Dir(dir) => disk::find(dir, rel).await,
            #[cfg(embed_ui)]
            UiSource::Embedded => embedded::find(rel),
        }
    }
}

/// One file found, before its bytes are read.
struct Entry {
    /// A value that changes whenever the file's bytes do.
    tag: String,
    content: Content,
}

enum Content {
    /// On disk, read when sent and compressed on the fly.
    Disk(PathBuf),
    /// In the binary, with the copies build.rs compressed.
    #[cfg_attr(not(embed_ui), allow(dead_code))]
    Embedded {
        raw: Bytes,
        br: Option<Bytes>,
        gzip: Option<Bytes>,
    },
}

/// The service that answers every path the API does not own.
pub fn service(source: UiSource) -> MethodRouter {
    // `get` answers HEAD too, and any other method 405 with `Allow: GET,HEAD`.
    get(serve).with_state(Arc::new(source))
}

async fn serve(State(source): State<Arc<UiSource>>, uri: Uri, headers: HeaderMap) -> Response {
    let requested = relative_path(uri.path());
    let found = match requested.as_deref() {
        Some(rel) => source.find(rel).await.map(|e| (rel.to_owned(), e)),
        None => None,
    };
    let found = match found {
        Some(found) => Some(found),
        None => source
            .find("index.html")
            .await
            .map(|e| ("index.html".to_owned(), e)),
    };
    let Some((path, entry)) = found else {
        return (
            StatusCode::NOT_FOUND,
            "the admin UI is not built: run `cargo xtask ui`",
        )
            .into_response();
    };
    let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    let compressible = compress::worth_compressing(&path);
    let mut common = HeaderMap::new();
    common.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(negotiate::cache_control(&path)),
    );
    if compressible {
        common.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if negotiate::still_current(text(header::IF_NONE_MATCH), &entry.tag) {
        insert_etag(&mut common, &entry.tag, None);
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let accepted = if compressible {
        negotiate::accepted(text(header::ACCEPT_ENCODING))
    } else {
        Vec::new()
    };
    let (body, coding) = match body(entry.content, &accepted).await {
        Ok(sent) => sent,
        Err(e) => {
            tracing::error!(path, error = %e, "cannot read a UI file");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mime = mime_guess::from_path(&path)
        .first_raw()
        .unwrap_or("application/octet-stream");
    common.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    insert_etag(&mut common, &entry.tag, coding);
    if let Some(coding) = coding {
        common.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
    (common, Body::from(body)).into_response()
}

/// The request path as a file path under the UI's root, or `None` for one that could step out
/// of it (those get index.html, like any other path that names no file).
fn relative_path(path: &str) -> Option<String> {
    let rel = path.trim_start_matches('/');
    let safe = rel
        .split('/')
        .all(|seg| seg != ".." && seg != "." && !seg.contains(['\\', '\0']));
    if !safe {
        return None;
    }
    if rel.is_empty() || rel.ends_with('/') {
        return Some(format!("{rel}index.html"));
    }
    Some(rel.to_owned())
}

fn insert_etag(headers: &mut HeaderMap, tag: &str, coding: Option<Coding>) {
    if let Ok(v) = HeaderValue::from_str(&negotiate::etag(tag, coding)) {
        headers.insert(header::ETAG, v);
    }
}

/// The bytes to send, in the best coding the browser accepts that we have or can make.
async fn body(content: Content, accepted: &[Coding]) -> std::io::Result<(Bytes, Option<Coding>)> {
    match content {
        Content::Embedded { raw, br, gzip } => {
            for &coding in accepted {
                let copy = match coding {
                    Coding::Brotli => &br,
                    Coding::Gzip => &gzip,
                };
                if let Some(copy) = copy {
                    return Ok((copy.clone(), Some(coding)));
                }
            }
            Ok((raw, None))
        }
        Content::Disk(path) => disk::read(&path, accepted.first().copied()).await,
    }
}
