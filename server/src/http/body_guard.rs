//! Reads JSON bodies at the door: oversize ones are answered 413 in full, and text holding
//! U+0000 (NUL) — in the path, the query or the body — is refused.
//!
//! PostgreSQL's `text` cannot hold NUL (a query binding one fails, which would be a 500), and
//! SQLite would store it: refusing it here answers a clear 400 on both engines alike. No plate,
//! name or code legitimately contains it.
//!
//! A client sending an oversize body is usually still writing when the limit is reached; if we
//! answered and closed at once, it would meet a reset connection instead of the 413. So the
//! rest is read and dropped (bounded in bytes and time, never kept), as nginx's lingering close
//! does.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use protocol::mallcoo::Reply;

use super::BODY_LIMIT;
use crate::error::ApiError;

const MESSAGE: &str = "text may not contain NUL characters (U+0000)";

/// Most bytes of an oversize body read and dropped before closing, beyond the limit.
const DRAIN_MAX: usize = 32 * 1024 * 1024;
/// Longest time spent reading and dropping them.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Answers 413 to an oversize JSON body and 400 (`nul_character`) to a request with a NUL in
/// its path, query or JSON body (Mallcoo's envelope on its routes); passes every other request
/// on, its body read once and handed over whole.
pub async fn guard_body(req: Request, next: Next) -> Response {
    let mallcoo = req.uri().path().starts_with("/mallcoo/");
    let refuse = || {
        if mallcoo {
            (
                axum::http::StatusCode::BAD_REQUEST,
                axum::Json(Reply::error(MESSAGE)),
            )
                .into_response()
        } else {
            ApiError::bad_request("nul_character", MESSAGE).into_response()
        }
    };
    let target = req.uri().path_and_query().map_or("", |pq| pq.as_str());
    if target.to_ascii_lowercase().contains("%00") {
        return refuse();
    }
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let mime = v.split(';').next().unwrap_or("").trim();
            mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
        });
    // Mallcoo sends its JSON without always saying so.
    if !(json || mallcoo) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match read_limited(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        // What the extractor would have said: too large, or (a stalled or vanished client)
        // a timeout that tells it to send again.
        Err(refusal) => {
            let error = match refusal {
                Unread::TooLarge => ApiError::PayloadTooLarge,
                Unread::Stalled => ApiError::BodyTimeout,
            };
            return if mallcoo {
                (
                    error.status_code(),
                    axum::Json(Reply::error(error.to_string())),
                )
                    .into_response()
            } else {
                error.into_response()
            };
        }
    };
    if has_escaped_nul(&bytes) {
        return refuse();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Why a body was not read.
enum Unread {
    /// More than the limit (the rest was drained).
    TooLarge,
    /// The client stopped sending it (`RequestBodyTimeoutLayer` in `build_router`) or went away.
    Stalled,
}

/// The whole body if it holds at most `limit` bytes.
async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, Unread> {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| Unread::Stalled)?.into_data() else {
            continue; // trailers
        };
        if buf.len() + data.len() > limit {
            drain(body).await;
            return Err(Unread::TooLarge);
        }
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}

/// Reads and drops what is left of `body`, within `DRAIN_MAX` bytes and `DRAIN_TIME`.
async fn drain(mut body: Body) {
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut dropped = 0;
        while let Some(Ok(frame)) = body.frame().await {
            dropped += frame.data_ref().map_or(0, Bytes::len);
            if dropped > DRAIN_MAX {
                return;
            }
        }
    })
    .await;
}

/// Whether JSON text holds the escape `\u0000` (a raw NUL byte is invalid JSON and is refused
/// by the parser anyway). Escapes are skipped pairwise, so `\\u0000` (a backslash, then the
/// text `u0000`) does not count.
fn has_escaped_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1..i + 6) == Some(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::has_escaped_nul;

    #[test]
    fn finds_the_nul_escape_and_only_it() {
        assert!(has_escaped_nul(br#"{"a":"x\u0000y"}"#));
        assert!(has_escaped_nul(br#"{"a":"\\\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"a":"\\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"a":"\u0001"}"#));
        assert!(!has_escaped_nul(br#"{"a":"plain"}"#));
    }
}
