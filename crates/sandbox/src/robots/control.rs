//! The control API under `/_sandbox/robots` and the page listing what the robots received.
//!
//! No authentication at all: serve it on loopback only.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::state::{ForcedAnswer, Robot};
use super::{RobotsSandbox, robot_url};

pub(crate) fn routes() -> Router<RobotsSandbox> {
    Router::new()
        .route("/_sandbox/robots", get(page).post(add_robot))
        .route("/_sandbox/robots/messages", get(messages).delete(reset))
        .route("/_sandbox/robots/{id}/force", post(force))
}

/// `POST /_sandbox/robots/{id}/force`.
#[derive(Debug, Deserialize)]
struct ForceBody {
    answer: ForcedAnswer,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

async fn add_robot(
    State(sb): State<RobotsSandbox>,
    headers: HeaderMap,
    Json(robot): Json<Robot>,
) -> Response {
    if robot.id.is_empty()
        || !robot
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "id: letters, digits, - and _ only"})),
        )
            .into_response();
    }
    let url = robot_url(&base_url(&headers), &robot);
    sb.add_robot(robot);
    (StatusCode::CREATED, Json(json!({ "url": url }))).into_response()
}

async fn force(
    State(sb): State<RobotsSandbox>,
    Path(id): Path<String>,
    Json(body): Json<ForceBody>,
) -> StatusCode {
    sb.force(&id, body.answer, body.times);
    StatusCode::NO_CONTENT
}

async fn messages(State(sb): State<RobotsSandbox>) -> Response {
    Json(sb.received()).into_response()
}

async fn reset(State(sb): State<RobotsSandbox>) -> StatusCode {
    sb.reset();
    StatusCode::NO_CONTENT
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /_sandbox/robots`: the messages, newest first, refreshed every 5 s.
async fn page(State(sb): State<RobotsSandbox>) -> Html<String> {
    let mut rows = String::new();
    for m in sb.received().iter().rev() {
        let shown = if m.accepted { "显示" } else { "拒绝" };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{shown}<br><small>{}</small></td><td><pre>{}</pre></td></tr>",
            protocol::time::to_shanghai(m.at).format("%m-%d %H:%M:%S"),
            m.kind.as_str(),
            escape(&m.robot),
            escape(&m.answer.to_string()),
            escape(&m.text),
        ));
    }
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><meta http-equiv=\"refresh\" content=\"5\">\
         <title>告警机器人（沙箱）</title><style>body{{font-family:sans-serif;margin:1rem}}\
         table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}}\
         pre{{white-space:pre-wrap;margin:0}}</style></head><body>\
         <h1>告警机器人（沙箱）</h1><p>企业微信、钉钉、飞书机器人与 Webhook 收到的消息，最新在前。</p>\
         <table><tr><th>时间（北京）</th><th>类型</th><th>机器人</th><th>结果</th><th>内容</th></tr>{rows}</table>\
         </body></html>"
    ))
}
