//! Typed client for the server's JSON API, decoding its error envelope.

use gloo_net::http::Request;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// What `GET /healthz` reports.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Health {
    /// `ok` or `degraded`.
    pub(crate) status: String,
    /// Server version.
    pub(crate) version: String,
}

/// The server's error envelope: `{"error": {"code", "message"}}`.
#[derive(Debug, Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Debug, Deserialize)]
struct EnvelopeError {
    message: String,
}

/// A failed call, as text to show the user.
#[derive(Debug, Clone)]
pub(crate) struct ApiError(pub(crate) String);

async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    let resp = Request::get(url)
        .send()
        .await
        .map_err(|e| ApiError(format!("网络错误: {e}")))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| ApiError(format!("读取响应失败: {e}")))?;
    if (200..300).contains(&status) || url == "/healthz" {
        serde_json::from_str(&text).map_err(|e| ApiError(format!("响应格式错误: {e}")))
    } else {
        let msg = serde_json::from_str::<Envelope>(&text)
            .map(|e| e.error.message)
            .unwrap_or_else(|_| format!("HTTP {status}"));
        Err(ApiError(msg))
    }
}

/// `GET /healthz` (its 503 body is still a health report).
pub(crate) async fn health() -> Result<Health, ApiError> {
    get_json("/healthz").await
}
