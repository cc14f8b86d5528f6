//! The `EnterInfoNotify` endpoint: record the notice, play any fault and the latency, then answer
//! by Mallcoo's rules.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router, routing::post};
use chrono::Utc;
use protocol::mallcoo::enter_notify::PATH;
use protocol::mallcoo::sign::{HEADER_APP_ID, HEADER_PUBLIC_KEY, HEADER_SIGN, HEADER_TIMESTAMP};
use serde_json::json;

use super::MallcooSandbox;
use super::faults::Fault;
use super::records::NoticeReply;
use super::state::{Headers, Reply};
use crate::pyun::conn::DropConnection;

/// Body of a `MalformedJson` answer: what a proxy in front of Mallcoo sends when it is down.
pub(crate) const MALFORMED_BODY: &str = "<html>upstream error</html>";

/// The route of the notice, at Mallcoo's own path (trailing slash included).
pub(crate) fn routes() -> Router<MallcooSandbox> {
    Router::new().route(PATH, post(notice))
}

fn header_of(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// One notice from arrival to answer (or to the dropped connection).
async fn notice(
    State(sb): State<MallcooSandbox>,
    kill: Option<Extension<DropConnection>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = Headers {
        app_id: header_of(&headers, HEADER_APP_ID),
        public_key: header_of(&headers, HEADER_PUBLIC_KEY),
        timestamp: header_of(&headers, HEADER_TIMESTAMP),
        sign: header_of(&headers, HEADER_SIGN),
    };
    let arrival = sb.with(|s| s.arrive(&h, &body, Utc::now()));
    let mut delay = arrival.latency;
    if let Some(Fault::Latency { ms }) = &arrival.fault {
        delay += Duration::from_millis(*ms);
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let apply = || sb.with(|s| s.apply(&h, &body, Utc::now()));
    let record = |answer: NoticeReply| sb.with(|s| s.answered(arrival.seq, answer));
    let reply = match arrival.fault {
        Some(Fault::Answer {
            http_status,
            code,
            message,
        }) => Reply {
            status: http_status,
            code,
            message,
        },
        Some(Fault::Drop { after_applying }) => {
            if after_applying {
                apply();
            }
            let Some(Extension(kill)) = kill else {
                // Only `start()` serves connections that can be dropped; a router mounted
                // elsewhere gets the nearest thing, an empty 502.
                tracing::warn!("Mallcoo sandbox: Drop fault outside `start()`, answering 502");
                record(NoticeReply {
                    http_status: Some(502),
                    code: None,
                    dropped: false,
                });
                return StatusCode::BAD_GATEWAY.into_response();
            };
            record(NoticeReply {
                http_status: None,
                code: None,
                dropped: true,
            });
            tracing::info!(
                seq = arrival.seq,
                "Mallcoo sandbox: dropping the connection"
            );
            kill.fire();
            // The connection task drops this future with the socket; never answer.
            return std::future::pending().await;
        }
        Some(Fault::MalformedJson { after_applying }) => {
            if after_applying {
                apply();
            }
            record(NoticeReply {
                http_status: Some(200),
                code: None,
                dropped: false,
            });
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html")],
                MALFORMED_BODY,
            )
                .into_response();
        }
        Some(Fault::Latency { .. }) | None => apply(),
    };
    record(NoticeReply {
        http_status: Some(reply.status),
        code: Some(reply.code),
        dropped: false,
    });
    tracing::debug!(
        seq = arrival.seq,
        status = reply.status,
        code = reply.code,
        "Mallcoo sandbox answered"
    );
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Json(json!({"Code": reply.code, "Message": reply.message})),
    )
        .into_response()
}
