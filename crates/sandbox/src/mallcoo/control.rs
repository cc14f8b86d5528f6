//! The control API under `/_sandbox/mallcoo/`: configure the stand-in and read what it received.
//!
//! It lets the demo and tests drive a sandbox running in another process. It has no
//! authentication at all: serve it on loopback only, never on a reachable address.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::MallcooSandbox;
use super::faults::FaultRule;

/// Routes of the control API.
pub(crate) fn routes() -> Router<MallcooSandbox> {
    Router::new()
        .route("/_sandbox/mallcoo/notices", get(notices))
        .route("/_sandbox/mallcoo/requests", get(requests))
        .route("/_sandbox/mallcoo/reset", post(reset))
        .route("/_sandbox/mallcoo/apps", post(add_app))
        .route("/_sandbox/mallcoo/park-codes", post(add_park_code))
        .route(
            "/_sandbox/mallcoo/settings",
            get(settings).put(put_settings),
        )
        .route(
            "/_sandbox/mallcoo/faults",
            post(push_fault).delete(clear_faults),
        )
}

/// `POST /_sandbox/mallcoo/apps`: a key pair whose signatures are accepted.
#[derive(Debug, Deserialize)]
struct AppBody {
    app_id: String,
    public_key: String,
    private_key: String,
}

/// `POST /_sandbox/mallcoo/park-codes`.
#[derive(Debug, Deserialize)]
struct ParkCodeBody {
    park_code: String,
}

/// `PUT /_sandbox/mallcoo/settings`: only the fields given change. `GET` returns all of them.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_skew_secs: Option<i64>,
}

async fn notices(State(sb): State<MallcooSandbox>) -> Response {
    Json(sb.notices()).into_response()
}

async fn requests(State(sb): State<MallcooSandbox>) -> Response {
    Json(sb.requests()).into_response()
}

async fn reset(State(sb): State<MallcooSandbox>) -> StatusCode {
    sb.reset();
    StatusCode::NO_CONTENT
}

async fn add_app(State(sb): State<MallcooSandbox>, Json(b): Json<AppBody>) -> StatusCode {
    sb.add_app(&b.app_id, &b.public_key, &b.private_key);
    StatusCode::NO_CONTENT
}

async fn add_park_code(
    State(sb): State<MallcooSandbox>,
    Json(b): Json<ParkCodeBody>,
) -> StatusCode {
    sb.add_park_code(&b.park_code);
    StatusCode::NO_CONTENT
}

async fn settings(State(sb): State<MallcooSandbox>) -> Json<Settings> {
    Json(sb.with(|s| Settings {
        latency_ms: Some(u64::try_from(s.latency.as_millis()).unwrap_or(u64::MAX)),
        max_skew_secs: Some(s.max_skew.num_seconds()),
    }))
}

async fn put_settings(State(sb): State<MallcooSandbox>, Json(b): Json<Settings>) -> StatusCode {
    if let Some(ms) = b.latency_ms {
        sb.set_latency(Duration::from_millis(ms));
    }
    if let Some(secs) = b.max_skew_secs {
        sb.with(|s| s.max_skew = chrono::TimeDelta::seconds(secs.max(0)));
    }
    StatusCode::NO_CONTENT
}

async fn push_fault(State(sb): State<MallcooSandbox>, Json(rule): Json<FaultRule>) -> StatusCode {
    sb.push_fault(rule);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(sb): State<MallcooSandbox>) -> StatusCode {
    sb.clear_faults();
    StatusCode::NO_CONTENT
}
