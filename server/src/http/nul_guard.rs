//! Refuses text holding U+0000 (NUL) anywhere a caller can put text: path, query, JSON body.
//!
//! PostgreSQL's `text` cannot hold NUL (a query binding one fails, which would be a 500), and
//! SQLite would store it: refusing it at the door answers a clear 400 on both engines alike.
//! No plate, name or code legitimately contains it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use protocol::mallcoo::Reply;

use super::BODY_LIMIT;
use crate::error::ApiError;

const MESSAGE: &str = "text may not contain NUL characters (U+0000)";

/// Answers 400 (`nul_character`; Mallcoo's envelope on its routes) to a request with a NUL in
/// its path, query or JSON body; passes every other request on unchanged.
pub async fn refuse_nul(req: Request, next: Next) -> Response {
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
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        // Over the limit (or the client went away): what the extractor would have said.
        return if mallcoo {
            (
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                axum::Json(Reply::error("request body too large")),
            )
                .into_response()
        } else {
            ApiError::PayloadTooLarge.into_response()
        };
    };
    if has_escaped_nul(&bytes) {
        return refuse();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
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
        assert!(!has_escaped_nul(br#"{"a":"\u00001"}"#.replace("0000", "0001").as_bytes()));
        assert!(!has_escaped_nul(br#"{"a":"plain"}"#));
    }
}
