//! P云's answer envelope: `{code, message, hint?, seqno, data_node, time_cost, payload?}` as JSON.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// `data_node` of every answer, so a log line shows it came from the sandbox and not P云.
pub(crate) const DATA_NODE: &str = "sandbox";

/// What one call is answered, before the envelope is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    /// HTTP status.
    pub(crate) status: u16,
    /// P云 `code`.
    pub(crate) code: String,
    /// P云 `message`.
    pub(crate) message: String,
    /// P云 `hint`, the detail of a refusal.
    pub(crate) hint: Option<String>,
    /// P云 `payload`.
    pub(crate) payload: Option<Value>,
}

impl Reply {
    /// A 200 answer with a business code (`1001`, `1002`, ...).
    pub(crate) fn ok(code: &str, message: &str) -> Reply {
        Reply {
            status: 200,
            code: code.to_owned(),
            message: message.to_owned(),
            hint: None,
            payload: None,
        }
    }

    /// HTTP 400 / `400`, P云's parameter error, with the field named in `hint`.
    pub(crate) fn invalid(hint: impl Into<String>) -> Reply {
        Reply {
            status: 400,
            code: "400".into(),
            message: "请求参数错误".into(),
            hint: Some(hint.into()),
            payload: None,
        }
    }

    /// HTTP 400 for a missing field, worded as P云 words it ("`sign` Required!").
    pub(crate) fn required(field: &str) -> Reply {
        Reply::invalid(format!("`{field}` Required!"))
    }

    /// HTTP 401 / `401`: unknown app or wrong signature.
    pub(crate) fn unauthorized(hint: impl Into<String>) -> Reply {
        Reply {
            status: 401,
            code: "401".into(),
            message: "签名错误".into(),
            hint: Some(hint.into()),
            payload: None,
        }
    }

    /// Adds a hint.
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Reply {
        self.hint = Some(hint.into());
        self
    }

    /// Writes the envelope as the HTTP response.
    pub(crate) fn into_response(self, seqno: &str, time_cost_ms: u64) -> Response {
        #[derive(Serialize)]
        struct Envelope<'a> {
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            hint: Option<&'a str>,
            seqno: &'a str,
            data_node: &'a str,
            time_cost: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            payload: Option<&'a Value>,
        }
        let body = serde_json::to_string(&Envelope {
            code: &self.code,
            message: &self.message,
            hint: self.hint.as_deref(),
            seqno,
            data_node: DATA_NODE,
            time_cost: time_cost_ms,
            payload: self.payload.as_ref(),
        })
        // Serialising strings and a `Value` cannot fail; an empty body would still be read as
        // a transient failure by the gateway, which is the honest outcome.
        .unwrap_or_default();
        // A fault may ask for any status; one outside 100..=999 falls back to 500.
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}
