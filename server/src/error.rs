//! The one error type of the HTTP layer and its single mapping to status codes.
//!
//! Every handler returns `Result<_, ApiError>`. A client's mistake is a 4xx with a stable
//! snake_case `code`; a server fault is a 500 whose details are logged here, once, and never sent.
//! A database that cannot be reached for now is neither: a 503 `database_unavailable` with
//! `Retry-After`, so clients (gates, Mallcoo, load balancers) retry instead of reporting a bug.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::storage::is_unavailable;

/// Seconds a client is told to wait before retrying while the database is unreachable.
const RETRY_AFTER_SECS: &str = "5";

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
    /// The request matches the document, but what it names does not exist or the current state
    /// does not allow it, e.g. an unknown car park code in the body (422). Kept apart from 400 so
    /// that a client (and the contract test) can tell a malformed request from a refused one.
    #[error("{message}")]
    Unprocessable {
        /// Stable machine-readable reason, snake_case.
        code: &'static str,
        /// Human-readable explanation, safe to show.
        message: String,
    },
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
    /// A 409 whose envelope carries machine-readable `details` (e.g. which quota was reached).
    #[error("{message}")]
    ConflictDetailed {
        /// Stable machine-readable reason, snake_case.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
        /// What a client needs to act on the refusal.
        details: serde_json::Value,
    },
    /// A partner the request needed (P云) refused it (502), could not be reached (503) or did
    /// not answer in time (504); the message says what the person should do.
    #[error("{message}")]
    Upstream {
        /// 502, 503 or 504.
        status: StatusCode,
        /// Stable machine-readable reason, snake_case.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The body is larger than we accept (413).
    #[error("request body too large")]
    PayloadTooLarge,
    /// The client stopped sending its body for longer than the server waits (408).
    #[error("the request body stopped arriving; send it again")]
    BodyTimeout,
    /// Too many attempts; try later (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// The database cannot be reached for now (down, restarting, cut off): 503, retry later.
    #[error("the database is unavailable; retry in a few seconds")]
    Unavailable(#[source] sqlx::Error),
    /// A storage failure: logged, answered as an opaque 500 — or as `Unavailable` when the
    /// error says the database is unreachable (decided in `status_code`, for every handler).
    #[error("storage failure")]
    Storage(sqlx::Error),
    /// Any other server fault: logged, answered as an opaque 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        if is_unavailable(&e) {
            ApiError::Unavailable(e)
        } else {
            ApiError::Storage(e)
        }
    }
}

impl ApiError {
    /// A 400 with `code` and `message`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A 422 with `code` and `message`.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Unprocessable {
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
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::ConflictDetailed { .. } => StatusCode::CONFLICT,
            Self::Upstream { status, .. } => *status,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Storage(e) if is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Storage(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Conflict { code, .. }
            | Self::ConflictDetailed { code, .. }
            | Self::Upstream { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::CrossOrigin => "cross_origin",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::BodyTimeout => "body_timeout",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::Unavailable(_) => "database_unavailable",
            Self::Storage(e) if is_unavailable(e) => "database_unavailable",
            Self::Storage(_) | Self::Internal(_) => "internal",
        }
    }
}

impl ApiError {
    /// The driver's reason, for the log (sqlx errors never carry the database URL).
    fn source_text(&self) -> String {
        match self {
            Self::Unavailable(e) | Self::Storage(e) => e.to_string(),
            other => other.to_string(),
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
    /// Machine-readable particulars of some refusals (e.g. `quota_exhausted`: which quota).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let upstream = matches!(self, Self::Upstream { .. });
        let unavailable = status == StatusCode::SERVICE_UNAVAILABLE && !upstream;
        let message = if upstream {
            // The partner's fault, not ours: the person needs its words, the log one line.
            tracing::warn!(error = %self, "request failed: partner");
            self.to_string()
        } else if unavailable {
            // Expected while the database is down; one line per request, not an error report.
            tracing::warn!(error = %self.source_text(), "request failed: database unavailable");
            "the database is unavailable; retry in a few seconds".to_owned()
        } else if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
            "internal error; see the server log".to_owned()
        } else {
            self.to_string()
        };
        let details = match &self {
            Self::ConflictDetailed { details, .. } => Some(details.clone()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                details,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if unavailable {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_a_503_however_the_handler_wrapped_it() {
        for e in [
            ApiError::from(sqlx::Error::PoolTimedOut),
            ApiError::Storage(sqlx::Error::PoolTimedOut),
            ApiError::from(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())),
        ] {
            assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE, "{e:?}");
            assert_eq!(e.code(), "database_unavailable");
            let response = e.into_response();
            assert_eq!(response.headers()[header::RETRY_AFTER], RETRY_AFTER_SECS);
        }
        let bug = ApiError::from(sqlx::Error::RowNotFound);
        assert_eq!(bug.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(bug.code(), "internal");
    }
}
