//! The one error type of the HTTP layer and its single mapping to status codes.
//!
//! Every handler returns `Result<_, ApiError>`. A client's mistake is a 4xx with a stable
//! snake_case `code`; a server fault is a 500 whose details are logged here, once, and never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

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
    /// No valid session or API key (401).
    #[error("sign-in required")]
    Unauthorized,
    /// Signed in, but this role or key may not do this (403).
    #[error("not allowed for this account")]
    Forbidden,
    /// A signed-in change sent from another site's page (403); see `http::origin_check`.
    #[error(
        "refused: a change made while signed in must be sent from ParkBridge's own pages, not from another site"
    )]
    CrossOrigin,
    /// No such resource (404).
    #[error("not found")]
    NotFound,
    /// The request conflicts with what exists, e.g. a duplicate name (409).
    #[error("{message}")]
    Conflict {
        /// Stable machine-readable reason, snake_case.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The body is larger than we accept (413).
    #[error("request body too large")]
    PayloadTooLarge,
    /// Too many attempts; try later (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// A storage failure: logged, answered as an opaque 500.
    #[error("storage failure")]
    Storage(#[from] sqlx::Error),
    /// Any other server fault: logged, answered as an opaque 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 with `code` and `message`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A 409 with `code` and `message`.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status this error maps to; the only place the mapping is decided.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::CrossOrigin => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Storage(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::CrossOrigin => "cross_origin",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::Storage(_) | Self::Internal(_) => "internal",
        }
    }
}

/// The JSON error envelope every 4xx/5xx carries: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of the error envelope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable reason, snake_case (e.g. `malformed_json`, `unauthorized`).
    pub code: String,
    /// Human-readable explanation; never a secret or a server fault's details.
    pub message: String,
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
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
            },
        };
        (status, Json(body)).into_response()
    }
}
