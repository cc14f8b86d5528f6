//! What P云's answer to an entry or leave upload means (pyun-carpark.md §4.4), whatever the HTTP status.
//!
//! P云 reports a bad upload signature as `200` with a hint, not as an error code (DOC note 6), so
//! a plain "code is 200" check would drop every record of a misconfigured park silently.

use crate::pyun::PyunResponse;

/// What P云's answer to an upload means (§4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    /// `200` without hint, `1000`, `1001`: done.
    Accepted,
    /// `200` with a hint: P云 refused the signature and says so only in the hint.
    ///
    /// Integration: a failure; diff [`hint_plaintext`] against
    /// [`UploadForm::plaintext_masked`](super::upload::UploadForm::plaintext_masked).
    /// Production: log, alert, drop — one record must never block the queue (D18).
    SignatureRejected {
        /// P云's hint, its plaintext with `app_secret=***`.
        hint: String,
    },
    /// `400`: a bad parameter; resending cannot help.
    Invalid {
        /// P云's hint, e.g. "参数`enter_time`未传递".
        hint: Option<String>,
    },
    /// `403`: intercepted; a configuration problem.
    Intercepted,
    /// `500`, `503`, anything else, or no readable answer: retry with backoff (`parking_serial` dedupes).
    Transient,
}

impl UploadOutcome {
    /// Classifies P云's answer from its body; the body decides even on a non-200 status.
    pub fn of_body(body: &[u8]) -> UploadOutcome {
        let Some(r) = PyunResponse::from_body(body) else {
            return UploadOutcome::Transient;
        };
        let hint = r.hint.filter(|h| !h.trim().is_empty());
        match (r.code.trim(), hint) {
            ("200", Some(hint)) => UploadOutcome::SignatureRejected { hint },
            ("200" | "1000" | "1001", _) => UploadOutcome::Accepted,
            ("400", hint) => UploadOutcome::Invalid { hint },
            ("403", _) => UploadOutcome::Intercepted,
            _ => UploadOutcome::Transient,
        }
    }
}

/// The plaintext inside P云's signature hint, `签名验证不通过[…]`, for diffing with ours.
pub fn hint_plaintext(hint: &str) -> Option<&str> {
    let start = hint.find('[')? + 1;
    let end = hint.rfind(']')?;
    hint.get(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified() {
        for (body, expected) in [
            (
                r#"{"code":"200","message":"成功受理"}"#,
                UploadOutcome::Accepted,
            ),
            (
                r#"{"code":1001,"message":"OK","hint":""}"#,
                UploadOutcome::Accepted,
            ),
            (r#"{"code":"1000"}"#, UploadOutcome::Accepted),
            (
                r#"{"code":"403","message":"拦截"}"#,
                UploadOutcome::Intercepted,
            ),
            (r#"{"code":"500"}"#, UploadOutcome::Transient),
            (r#"{"code":"503"}"#, UploadOutcome::Transient),
            ("<html>502</html>", UploadOutcome::Transient),
            ("", UploadOutcome::Transient),
        ] {
            assert_eq!(UploadOutcome::of_body(body.as_bytes()), expected, "{body}");
        }
        assert_eq!(
            UploadOutcome::of_body(r#"{"code":"400","hint":"参数`enter_time`未传递"}"#.as_bytes()),
            UploadOutcome::Invalid {
                hint: Some("参数`enter_time`未传递".into())
            }
        );
    }

    #[test]
    fn a_200_with_hint_is_a_signature_failure_we_can_diff() {
        // The shape DOC shows: `签名验证不通过[car_color=1&…&vehicle_type=1&app_secret=***]`.
        let echoed = "car_color=1&plate=粤B660PP&vehicle_type=1&app_secret=***";
        let body = serde_json::json!({
            "code": "200",
            "message": "已忽略当前请求",
            "hint": format!("签名验证不通过[{echoed}]"),
        })
        .to_string();
        let UploadOutcome::SignatureRejected { hint } = UploadOutcome::of_body(body.as_bytes())
        else {
            panic!("not a signature failure: {body}")
        };
        assert_eq!(hint_plaintext(&hint), Some(echoed));
        assert_eq!(hint_plaintext("no brackets"), None);
        assert_eq!(hint_plaintext("]["), None);
    }
}
