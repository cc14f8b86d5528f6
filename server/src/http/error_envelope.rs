//! The last word on refusals: a 4xx that axum itself wrote as plain text (a path segment that
//! is not a number, a query it cannot decode, a body over the limit on a route that reads raw
//! bytes, a wrong method) leaves as an envelope like every other refusal — `{"error": …}` on
//! the API, `{"resCode": 1, "resMsg": …}` to Mallcoo, whose client reads nothing else.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use protocol::mallcoo::Reply;

use crate::error::{ApiError, ErrorBody, ErrorDetail};

/// The most of axum's plain-text explanation we read (they are one line).
const MAX_TEXT: usize = 4 * 1024;

/// Rewrites plain-text 4xx answers of `/api/` and `/mallcoo/` routes as envelopes.
pub async fn envelope_plain_refusals(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let mallcoo = path.starts_with("/mallcoo/");
    let api = path.starts_with("/api/");
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(mallcoo || api) || !status.is_client_error() || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, MAX_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_owned()
    } else {
        text
    };
    if mallcoo {
        return (status, Json(Reply::error(message))).into_response();
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge.into_response(),
        StatusCode::NOT_FOUND => ApiError::NotFound.into_response(),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            ApiError::bad_request("invalid_request", message).into_response()
        }
        // 405 and the like keep their status: the envelope only explains it.
        _ => {
            let code = status
                .canonical_reason()
                .unwrap_or("refused")
                .to_ascii_lowercase()
                .replace(' ', "_");
            let body = ErrorBody {
                error: ErrorDetail {
                    code,
                    message,
                    details: None,
                },
            };
            let mut resp = (status, Json(body)).into_response();
            if let Some(allow) = parts.headers.get(header::ALLOW) {
                resp.headers_mut().insert(header::ALLOW, allow.clone());
            }
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::extract::Path;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::envelope_plain_refusals;

    async fn call(uri: &str) -> (StatusCode, serde_json::Value) {
        let app = Router::new()
            .route(
                "/api/n/{id}",
                get(|Path(id): Path<i64>| async move { id.to_string() }),
            )
            .route(
                "/mallcoo/n/{id}",
                get(|Path(id): Path<i64>| async move { id.to_string() }),
            )
            .route(
                "/plain/{id}",
                get(|Path(id): Path<i64>| async move { id.to_string() }),
            )
            .layer(axum::middleware::from_fn(envelope_plain_refusals));
        let resp = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[tokio::test]
    async fn axum_rejections_become_the_envelope_of_their_route() {
        let (status, body) = call("/api/n/abc").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "invalid_request", "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains("abc"),
            "{body}"
        );
        let (status, body) = call("/mallcoo/n/abc").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["resCode"], 1, "{body}");
        // Outside the API (the web app's paths) nothing is rewritten.
        let (status, body) = call("/plain/abc").await;
        assert_eq!(
            (status, body),
            (StatusCode::BAD_REQUEST, serde_json::Value::Null)
        );
        let (status, _) = call("/api/n/7").await;
        assert_eq!(status, StatusCode::OK);
    }
}
