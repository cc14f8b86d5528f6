//! The one error type of the HTTP layer and its single mapping to status codes.
//!
//! Every handler returns `Result<_, ApiError>`. A client's mistake is a 4xx with a stable
//! snake_case `code`; a server fault is a 500 whose details are logged here, once, and never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything a request can fail with, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or fails validation (400).
    #[error("{message}")]
    BadRequest {
        /// Stable machine-readable reason, snake_case.
        code: &'static str,
        /// Human-readable explanation, safe to show.
        message: String,
    },
    /// No such resource (404).
    #[error("not found")]
    NotFound,
    /// A storage failure: logged, answered as an opaque 500.
    #[error("storage failure")]
    Storage(#[from] sqlx::Error),
}

impl ApiError {
    /// The HTTP status this error maps to; the only place the mapping is decided.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::NotFound => "not_found",
            Self::Storage(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let message = if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
            "internal error; see the server log".to_owned()
        } else {
            self.to_string()
        };
        let body = json!({ "error": { "code": self.code(), "message": message } });
        (status, Json(body)).into_response()
    }
}
