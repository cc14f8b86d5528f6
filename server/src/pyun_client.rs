//! The one outbound HTTP client, for P云 (its API, and our uploads as a car park) and for Mallcoo's
//! entry notices: posts a signed request, times it, reads any answer (decoding P云's envelope),
//! and says whether a failure provably happened before the request left (PROTOCOLS.md §1.1, §1.4).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use protocol::pyun::{Outcome, SignedForm, decode_response};

/// Largest answer we accept; an envelope is a few hundred bytes, an error page a few KB.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Which platform endpoint a call went to, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `mcoupon/event`.
    CouponEvent,
    /// `mcoupon/grant/create`.
    CouponGrant,
    /// `mcoupon/token`: a QR-code coupon minted at a shop's till.
    CouponToken,
    /// `internal/vip/recharge`.
    VipRecharge,
    /// Mallcoo's `Parking/V1/EnterInfoNotify/`.
    MallcooEnterNotify,
    /// `internal/enter`: an entry uploaded as the car park.
    PyunEnter,
    /// `internal/leave`: a leave uploaded as the car park.
    PyunLeave,
    /// A message to an alert channel (a group-chat robot or a webhook).
    AlertChannel,
}

impl Endpoint {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::CouponEvent => "coupon_event",
            Endpoint::CouponGrant => "coupon_grant",
            Endpoint::CouponToken => "coupon_token",
            Endpoint::VipRecharge => "vip_recharge",
            Endpoint::MallcooEnterNotify => "mallcoo_enter_notify",
            Endpoint::PyunEnter => "pyun_enter",
            Endpoint::PyunLeave => "pyun_leave",
            Endpoint::AlertChannel => "alert_channel",
        }
    }

    /// The platform's name, for error notes people read.
    pub fn platform(self) -> &'static str {
        match self {
            Endpoint::MallcooEnterNotify => "Mallcoo",
            _ => "P云",
        }
    }
}

/// A call that got no decodable-or-not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The request never left (connection refused, DNS): resending cannot duplicate it.
    NotSent(String),
    /// The request may have reached the platform (timeout, reset mid-answer): it may have taken effect.
    MaybeSent(String),
}

impl TransportError {
    /// The metric label of a call that got no answer.
    fn label(&self) -> &'static str {
        match self {
            TransportError::NotSent(_) => "not_sent",
            TransportError::MaybeSent(_) => "no_answer",
        }
    }

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
    /// The platform's answer, or why there was none.
    pub answer: Result<Outcome, TransportError>,
    /// Wall time of the call.
    pub latency: Duration,
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// What one call produced, undecoded: for a platform whose answers the caller reads itself.
#[derive(Debug, Clone)]
pub struct RawCallResult {
    /// The HTTP status and body, or why there was none.
    pub answer: Result<(u16, Bytes), TransportError>,
    /// Wall time of the call.
    pub latency: Duration,
}

/// Posts signed requests to one platform's base URL (one client per platform).
#[derive(Debug, Clone)]
pub struct PyunClient {
    http: Client<Connector, Full<Bytes>>,
    base_url: String,
    timeout: Duration,
}

impl PyunClient {
    /// A client for `base_url` (no trailing slash); every call is bounded by `timeout`.
    pub fn new(base_url: &str, timeout: Duration) -> PyunClient {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        // A connection that cannot be made in time provably sent nothing: `NotSent`.
        http.set_connect_timeout(Some(timeout.min(Duration::from_secs(5))));
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(Arc::new(rustls::crypto::ring::default_provider()))
            .expect("ring supports rustls' default protocol versions")
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let http = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(Duration::from_secs(60))
            .build(tls);
        PyunClient {
            http,
            base_url: base_url.to_owned(),
            timeout,
        }
    }

    /// Posts a signed form to `path`.
    pub async fn post_form(&self, endpoint: Endpoint, path: &str, form: &SignedForm) -> CallResult {
        let request = self.request(
            path,
            "application/x-www-form-urlencoded; charset=utf-8",
            None,
            form.to_urlencoded().into_bytes(),
        );
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
        let request = self.request(path, "application/json", Some(authorization), body);
        self.call(endpoint, request).await
    }

    /// Posts a JSON `body` with extra `headers` (e.g. Mallcoo's signed `AppID`…`Sign`) to
    /// `path` and returns the answer as received, whatever its status.
    pub async fn post_json_raw(
        &self,
        endpoint: Endpoint,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> RawCallResult {
        let request = self
            .request(path, "application/json", None, body)
            .and_then(|mut r| {
                for (name, value) in headers {
                    let name = header::HeaderName::from_bytes(name.as_bytes())
                        .map_err(|e| format!("cannot build the request: {e}"))?;
                    let value = header::HeaderValue::from_str(value)
                        .map_err(|e| format!("cannot build the request: {e}"))?;
                    r.headers_mut().insert(name, value);
                }
                Ok(r)
            });
        self.raw(endpoint, request).await
    }

    /// Posts a `multipart/form-data` body (`content_type` names its boundary) to `path` and
    /// returns the answer as received, whatever its status: P云 answers uploads with a body
    /// even on a non-200 status, and that body decides (pyun-carpark.md §4.4).
    pub async fn post_multipart(
        &self,
        endpoint: Endpoint,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> RawCallResult {
        let request = self.request(path, content_type, None, body);
        self.raw(endpoint, request).await
    }

    /// Sends `HEAD` to the base URL itself and returns the status and the `Date` header of the
    /// answer (`doctor`'s clock check): nothing is signed, so the platform can act on nothing.
    pub async fn head_date(&self) -> Result<(u16, Option<String>), TransportError> {
        let url = if self.base_url.matches('/').count() > 2 {
            self.base_url.clone()
        } else {
            format!("{}/", self.base_url)
        };
        let request = Request::head(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| TransportError::NotSent(format!("cannot build the request: {e}")))?;
        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| {
                TransportError::NotSent(format!("cannot reach {}: {}", self.base_url, describe(&e)))
            })?;
            let date = response
                .headers()
                .get(header::DATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            Ok((response.status().as_u16(), date))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(TransportError::MaybeSent(format!(
                    "no answer from {} before the timeout",
                    self.base_url
                )))
            })
    }

    /// Sends `request`, times it and counts it by HTTP status; the answer stays undecoded.
    async fn raw(
        &self,
        endpoint: Endpoint,
        request: Result<Request<Full<Bytes>>, String>,
    ) -> RawCallResult {
        let start = Instant::now();
        let answer = self.bounded(endpoint, request).await;
        let latency = start.elapsed();
        let code = match &answer {
            Ok((status, _)) => status.to_string(),
            Err(e) => e.label().to_owned(),
        };
        observe(endpoint, code, latency);
        RawCallResult { answer, latency }
    }

    fn request(
        &self,
        path: &str,
        content_type: &str,
        authorization: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Request<Full<Bytes>>, String> {
        let mut builder = Request::post(format!("{}{path}", self.base_url))
            .header(header::CONTENT_TYPE, content_type)
            .header(header::ACCEPT, "application/json");
        if let Some(a) = authorization {
            builder = builder.header(header::AUTHORIZATION, a);
        }
        builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot build the request: {e}"))
    }

    async fn call(
        &self,
        endpoint: Endpoint,
        request: Result<Request<Full<Bytes>>, String>,
    ) -> CallResult {
        let start = Instant::now();
        let answer = self
            .bounded(endpoint, request)
            .await
            .map(|(status, body)| decode_response(status, &body));
        let latency = start.elapsed();
        let code = match &answer {
            Ok(outcome) => outcome
                .response()
                .map_or("undecodable", |r| r.code.as_str())
                .to_owned(),
            Err(e) => e.label().to_owned(),
        };
        observe(endpoint, code, latency);
        CallResult { answer, latency }
    }

    /// Sends `request` and reads the answer, the whole exchange bounded by the timeout.
    async fn bounded(
        &self,
        endpoint: Endpoint,
        request: Result<Request<Full<Bytes>>, String>,
    ) -> Result<(u16, Bytes), TransportError> {
        match request {
            Err(why) => Err(TransportError::NotSent(why)),
            Ok(request) => {
                match tokio::time::timeout(self.timeout, self.exchange(endpoint, request)).await {
                    Ok(answer) => answer,
                    Err(_) => Err(TransportError::MaybeSent(format!(
                        "no answer from {} before the timeout",
                        endpoint.platform()
                    ))),
                }
            }
        }
    }

    async fn exchange(
        &self,
        endpoint: Endpoint,
        request: Request<Full<Bytes>>,
    ) -> Result<(u16, Bytes), TransportError> {
        let platform = endpoint.platform();
        let response = self.http.request(request).await.map_err(|e| {
            if e.is_connect() {
                TransportError::NotSent(format!("cannot connect to {platform}: {}", describe(&e)))
            } else {
                TransportError::MaybeSent(format!(
                    "the call to {platform} failed: {}",
                    describe(&e)
                ))
            }
        })?;
        let status = response.status().as_u16();
        // An answer is small; one beyond the cap is not the platform's and counts as unreadable.
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| TransportError::MaybeSent(format!("the answer could not be read: {e}")))?
            .to_bytes();
        Ok((status, body))
    }
}

/// Counts and times one call for `/metrics`.
fn observe(endpoint: Endpoint, code: String, latency: Duration) {
    metrics::counter!("parkbridge_pyun_calls_total", "endpoint" => endpoint.as_str(), "code" => code)
        .increment(1);
    metrics::histogram!("parkbridge_pyun_call_duration_seconds", "endpoint" => endpoint.as_str())
        .record(latency.as_secs_f64());
}

/// The error and its causes on one line (no secret: the URL is the platform's base URL).
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
