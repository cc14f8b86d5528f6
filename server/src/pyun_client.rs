//! The one HTTP client for P云: posts a signed request, times it, decodes any answer, and says
//! whether a failure provably happened before the request left (PROTOCOLS.md §1.1, §1.4).

use std::time::{Duration, Instant};

use protocol::pyun::{Outcome, SignedForm, decode_response};

/// Largest P云 answer we read; an envelope is a few hundred bytes, an error page a few KB.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Which P云 endpoint a call went to, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `mcoupon/event`.
    CouponEvent,
    /// `mcoupon/grant/create`.
    CouponGrant,
    /// `internal/vip/recharge`.
    VipRecharge,
}

impl Endpoint {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::CouponEvent => "coupon_event",
            Endpoint::CouponGrant => "coupon_grant",
            Endpoint::VipRecharge => "vip_recharge",
        }
    }
}

/// A call that got no decodable-or-not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The request never left (connection refused, DNS): resending cannot duplicate it.
    NotSent(String),
    /// The request may have reached P云 (timeout, reset mid-answer): it may have taken effect.
    MaybeSent(String),
}

impl TransportError {
    /// The human-readable reason.
    pub fn message(&self) -> &str {
        match self {
            TransportError::NotSent(m) | TransportError::MaybeSent(m) => m,
        }
    }
}

/// What one call produced.
#[derive(Debug, Clone)]
pub struct CallResult {
    /// P云's answer, or why there was none.
    pub answer: Result<Outcome, TransportError>,
    /// Wall time of the call.
    pub latency: Duration,
}

/// Posts signed requests to P云.
#[derive(Debug, Clone)]
pub struct PyunClient {
    http: reqwest::Client,
    base_url: String,
}

impl PyunClient {
    /// A client for `base_url` (no trailing slash); every call is bounded by `timeout`.
    pub fn new(base_url: &str, timeout: Duration) -> PyunClient {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(64)
            .build()
            .expect("a client with only timeouts set always builds");
        PyunClient {
            http,
            base_url: base_url.to_owned(),
        }
    }

    /// Posts a signed form to `path`.
    pub async fn post_form(&self, endpoint: Endpoint, path: &str, form: &SignedForm) -> CallResult {
        let request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(form.to_urlencoded());
        self.call(endpoint, request).await
    }

    /// Posts a signed JSON body (`authorization` = its signature) to `path`.
    pub async fn post_json(
        &self,
        endpoint: Endpoint,
        path: &str,
        body: Vec<u8>,
        authorization: &str,
    ) -> CallResult {
        let request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::AUTHORIZATION, authorization)
            .body(body);
        self.call(endpoint, request).await
    }

    async fn call(&self, endpoint: Endpoint, request: reqwest::RequestBuilder) -> CallResult {
        let start = Instant::now();
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                match read_capped(response).await {
                    Ok(body) => Ok(decode_response(status, &body)),
                    Err(e) => Err(TransportError::MaybeSent(format!(
                        "the answer could not be read: {}",
                        describe(&e)
                    ))),
                }
            }
            Err(e) if e.is_connect() => Err(TransportError::NotSent(format!(
                "cannot connect to P云: {}",
                describe(&e)
            ))),
            Err(e) if e.is_timeout() => Err(TransportError::MaybeSent(
                "no answer from P云 before the timeout".to_owned(),
            )),
            Err(e) => Err(TransportError::MaybeSent(format!(
                "the call to P云 failed: {}",
                describe(&e)
            ))),
        };
        let latency = start.elapsed();
        let code = match &answer {
            Ok(outcome) => outcome
                .response()
                .map_or("undecodable", |r| r.code.as_str())
                .to_owned(),
            Err(TransportError::NotSent(_)) => "not_sent".to_owned(),
            Err(TransportError::MaybeSent(_)) => "no_answer".to_owned(),
        };
        metrics::counter!("parkbridge_pyun_calls_total", "endpoint" => endpoint.as_str(), "code" => code)
            .increment(1);
        metrics::histogram!("parkbridge_pyun_call_duration_seconds", "endpoint" => endpoint.as_str())
            .record(latency.as_secs_f64());
        CallResult { answer, latency }
    }
}

/// Reads at most `MAX_ANSWER_BYTES` of the body; the rest of a huge error page is ignored.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_ANSWER_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_ANSWER_BYTES {
            break;
        }
    }
    Ok(body)
}

/// The error and its causes on one line (the URL is P云's base URL: no secret in it).
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// rustls needs one process-wide crypto provider; ring builds with the C compiler we have.
fn install_crypto_provider() {
    // Err means one is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
