//! The vendors' endpoints, at their real paths.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use protocol::alerts::ChannelKind;

use super::RobotsSandbox;
use super::judge::{Auth, judge};

pub(crate) fn routes() -> Router<RobotsSandbox> {
    Router::new()
        .route("/cgi-bin/webhook/send", post(wecom))
        .route("/robot/send", post(dingtalk))
        .route("/open-apis/bot/v2/hook/{id}", post(feishu))
        .route("/webhook/{name}", post(webhook))
}

fn answer(sb: &RobotsSandbox, kind: ChannelKind, id: &str, auth: Auth, body: &[u8]) -> Response {
    let verdict = sb.with(|s| judge(s, kind, id, &auth, body, Utc::now()));
    let status = StatusCode::from_u16(verdict.status).unwrap_or(StatusCode::OK);
    if verdict.answer.is_null() {
        status.into_response()
    } else {
        (status, axum::Json(verdict.answer)).into_response()
    }
}

async fn wecom(
    State(sb): State<RobotsSandbox>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let key = q.get("key").cloned().unwrap_or_default();
    answer(&sb, ChannelKind::Wecom, &key, Auth::default(), &body)
}

async fn dingtalk(
    State(sb): State<RobotsSandbox>,
    Query(mut q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let token = q.remove("access_token").unwrap_or_default();
    let auth = Auth {
        timestamp: q.remove("timestamp"),
        sign: q.remove("sign"),
        webhook_signature: None,
    };
    answer(&sb, ChannelKind::Dingtalk, &token, auth, &body)
}

async fn feishu(State(sb): State<RobotsSandbox>, Path(id): Path<String>, body: Bytes) -> Response {
    answer(&sb, ChannelKind::Feishu, &id, Auth::default(), &body)
}

async fn webhook(
    State(sb): State<RobotsSandbox>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = Auth {
        webhook_signature: headers
            .get("x-parkbridge-signature")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ..Auth::default()
    };
    answer(&sb, ChannelKind::Webhook, &name, auth, &body)
}
