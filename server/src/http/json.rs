//! `ApiJson<T>`: the JSON body extractor whose every rejection is our error envelope (4xx).
//!
//! JSON has one number type: `2.0` is the same integer as `2` (JSON Schema says so, and the
//! OpenAPI document's `integer` fields mean it), so whole numbers written with a fraction are
//! read as integers before the body meets its Rust type.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};

use crate::error::ApiError;

/// A JSON request body; malformed, mistyped or oversize bodies become 4xx envelopes.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut value = match axum::Json::<Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(rejection) => return Err(reject(rejection)),
        };
        whole_floats_as_integers(&mut value);
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|e| {
                // Worded as axum words its own data errors, which clients have seen until now.
                let path = e.path().to_string();
                let why = if path == "." {
                    e.inner().to_string()
                } else {
                    format!("{path}: {}", e.inner())
                };
                ApiError::bad_request(
                    "invalid_body",
                    format!("Failed to deserialize the JSON body into the target type: {why}"),
                )
            })
    }
}

/// Rewrites every float that is a whole number within `i64` (e.g. `2.0`, `-7e3`) as that integer.
fn whole_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                // Beyond 2^53 a float no longer names one integer; leave it for the type to refuse.
                && f.abs() <= 9_007_199_254_740_992.0
            {
                *n = Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_floats_as_integers),
        _ => {}
    }
}

fn reject(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request("malformed_json", e.body_text()),
        JsonRejection::JsonDataError(e) => ApiError::bad_request("invalid_body", e.body_text()),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge
        }
        other => ApiError::bad_request("invalid_body", other.body_text()),
    }
}

/// For `#[serde(default, deserialize_with = "…")]`: a present field, `null` included
/// (`Some(None)`), apart from an absent one (`None`) — a change body's "remove it" vs "keep it".
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_become_integers_and_fractions_stay() {
        let mut v = serde_json::json!({"a": 2.0, "b": [-7e3, 1.5], "c": "2.0", "d": 3});
        whole_floats_as_integers(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": 2, "b": [-7000, 1.5], "c": "2.0", "d": 3})
        );
        let n: u32 = serde_json::from_value(v["a"].clone()).unwrap();
        assert_eq!(n, 2);
    }
}
