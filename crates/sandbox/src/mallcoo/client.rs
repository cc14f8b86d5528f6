//! Mallcoo as a client of ParkBridge's V1.4 endpoints (`POST {base}/mallcoo/v1/{Method}`, §2.1):
//! fee queries, payment notices sent several times at once as Mallcoo's retries do, traffic
//! reads, and a retry storm that pays many cars that way and checks the answers.
//!
//! Every call is signed per §2.6 with the car park's inbound key pair over the exact body bytes,
//! as Mallcoo would; the body of a retried payment is byte-identical to the first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use protocol::mallcoo::{
    MallcooKeys, PayChannel, PayFeeRequest, PayFeeResponse, PayType, PaymentInfoRequest,
    PaymentInfoResponse, ResCode, SignedHeaders, TrafficRequest, TrafficResponse, pay_fee,
    payment_info, sign_headers, traffic,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How long one call may take before the client reports it as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Failures a storm report keeps verbatim (the rest are only counted).
const KEPT_FAILURES: usize = 20;

/// The key pair ParkBridge issued to Mallcoo for one car park (credential `mallcoo_inbound`).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientKeys {
    /// `AppID`.
    pub app_id: String,
    /// `PublicKey`.
    pub public_key: String,
    /// `PrivateKey`: signs, never sent.
    pub private_key: String,
}

impl std::fmt::Debug for ClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key stays out of logs and panic messages.
        f.debug_struct("ClientKeys")
            .field("app_id", &self.app_id)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// One call's result as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered<T> {
    /// The HTTP status (200 for every handled case, 401 for refused credentials).
    pub status: u16,
    /// The body, verbatim (retries compare these byte for byte).
    pub body: String,
    /// The decoded answer; `None` unless the status is 200 and the body decodes.
    pub answer: Option<T>,
}

/// A call that got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ClientError(pub String);

/// Plays Mallcoo against one ParkBridge; cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct MallcooClient {
    http: reqwest::Client,
    base_url: String,
    keys: Arc<ClientKeys>,
    park_id: Option<String>,
}

impl MallcooClient {
    /// A client of the ParkBridge at `base_url` (e.g. `http://127.0.0.1:8080`) signing with
    /// `keys`, naming car park `park_id` (Mallcoo's `parkId`) in every request when given.
    pub fn new(base_url: &str, keys: ClientKeys, park_id: Option<String>) -> MallcooClient {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .pool_max_idle_per_host(256)
            .build()
            .expect("a plain HTTP client always builds");
        MallcooClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            keys: Arc::new(keys),
            park_id,
        }
    }

    /// The `parkId` this client sends.
    pub fn park_id(&self) -> Option<&str> {
        self.park_id.as_deref()
    }

    /// The signed headers of `body` at this moment.
    pub fn sign(&self, body: &str) -> SignedHeaders {
        let keys = MallcooKeys {
            app_id: &self.keys.app_id,
            public_key: &self.keys.public_key,
            private_key: &self.keys.private_key,
        };
        sign_headers(&keys, Utc::now(), body)
    }

    /// Posts `body` to `method` with `headers` as given (tests tamper with them) and decodes
    /// a 200 answer as `T`.
    pub async fn post_signed<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &str,
        headers: &SignedHeaders,
    ) -> Result<Answered<T>, ClientError> {
        let mut request = self
            .http
            .post(format!("{}/mallcoo/v1/{method}", self.base_url))
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers.pairs() {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ClientError(format!("{method}: no answer: {e}")))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|e| ClientError(format!("{method}: answer unreadable: {e}")))?;
        let answer = (status == 200)
            .then(|| serde_json::from_str(&body).ok())
            .flatten();
        Ok(Answered {
            status,
            body,
            answer,
        })
    }

    /// Serialises `request`, signs the exact text and posts it to `method`.
    async fn call<Q: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        request: &Q,
    ) -> Result<Answered<T>, ClientError> {
        let body = serde_json::to_string(request).expect("a V1.4 request always serialises");
        let headers = self.sign(&body);
        self.post_signed(method, &body, &headers).await
    }

    /// GetParkingPaymentInfo for a plate (no benefits); `parkId` filled in from the client.
    pub async fn payment_info_for_plate(
        &self,
        plate: &str,
    ) -> Result<Answered<PaymentInfoResponse>, ClientError> {
        self.payment_info(&PaymentInfoRequest {
            park_id: None,
            plate_no: Some(plate.to_owned()),
            barcode: None,
            free_minutes: 0,
            free_amount: 0,
        })
        .await
    }

    /// GetParkingPaymentInfo (§2.2); a request without `parkId` gets the client's.
    pub async fn payment_info(
        &self,
        request: &PaymentInfoRequest,
    ) -> Result<Answered<PaymentInfoResponse>, ClientError> {
        let mut request = request.clone();
        request.park_id = request.park_id.or_else(|| self.park_id.clone());
        self.call(payment_info::METHOD, &request).await
    }

    /// PayParkingFee (§2.3), once; a request without `parkId` gets the client's.
    pub async fn pay_fee(
        &self,
        request: &PayFeeRequest,
    ) -> Result<Answered<PayFeeResponse>, ClientError> {
        self.pay_with_retries(request, 1)
            .await
            .pop()
            .expect("one call was made")
    }

    /// GetTraffic (§2.4); a request without `parkId` gets the client's.
    pub async fn traffic(
        &self,
        request: &TrafficRequest,
    ) -> Result<Answered<TrafficResponse>, ClientError> {
        let mut request = request.clone();
        request.park_id = request.park_id.or_else(|| self.park_id.clone());
        self.call(traffic::METHOD, &request).await
    }

    /// Sends the same PayParkingFee `copies` times at once — one body, signed once, so every
    /// copy is byte-identical, as Mallcoo's retries of one order are — and returns every
    /// answer in sending order.
    pub async fn pay_with_retries(
        &self,
        request: &PayFeeRequest,
        copies: usize,
    ) -> Vec<Result<Answered<PayFeeResponse>, ClientError>> {
        let mut request = request.clone();
        request.park_id = request.park_id.or_else(|| self.park_id.clone());
        let body: Arc<str> = serde_json::to_string(&request)
            .expect("a V1.4 request always serialises")
            .into();
        let headers = Arc::new(self.sign(&body));
        let mut calls = JoinSet::new();
        for i in 0..copies {
            let (client, body, headers) = (self.clone(), body.clone(), headers.clone());
            calls.spawn(async move {
                (
                    i,
                    client
                        .post_signed::<PayFeeResponse>(pay_fee::METHOD, &body, &headers)
                        .await,
                )
            });
        }
        let mut answers: Vec<_> = calls
            .join_all()
            .await
            .into_iter()
            .collect::<Vec<(usize, _)>>();
        answers.sort_by_key(|(i, _)| *i);
        answers.into_iter().map(|(_, a)| a).collect()
    }

    /// A payment of the whole `unPayAmount` of `quote`'s answer under `order_no`, paid now by
    /// WeChat: Mallcoo's benefits (`deductionAmount`) and the rest in money, adding up to
    /// `unPayAmount` (PROTOCOLS.md §2.3); `None` without a quote or when nothing is due
    /// (ParkBridge refuses to take a payment of a zero quote: it would only restart the grace
    /// period).
    pub fn full_payment(
        order_no: &str,
        plate: &str,
        quote: &PaymentInfoResponse,
    ) -> Option<PayFeeRequest> {
        let q = quote.quote.as_ref().filter(|q| q.un_pay_amount > 0)?;
        let due = q.un_pay_amount;
        let deduction = q.deduction_amount.clamp(0, due);
        Some(PayFeeRequest {
            park_id: None,
            fee_id: q.fee_id.clone(),
            order_no: order_no.to_owned(),
            third_trade_no: Some(format!("wx{order_no}")),
            plate_no: Some(plate.to_owned()),
            barcode: None,
            pay_time: Utc::now(),
            un_pay_amount: due,
            amount: due - deduction,
            deduction_amount: deduction,
            deduction_details: Vec::new(),
            pay_channel: PayChannel::Online,
            pay_type: PayType::WeChat,
            member_info: None,
        })
    }

    /// Quotes each car of `plates` and pays the quote with `settings.copies` concurrent
    /// identical PayParkingFee calls, `settings.concurrency` orders at a time (order `i` is
    /// `{settings.order_prefix}{i}`), and reports what came back.
    pub async fn retry_storm(&self, plates: &[String], settings: &StormSettings) -> StormReport {
        let started = Instant::now();
        let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
        let mut orders = JoinSet::new();
        for (i, plate) in plates.iter().enumerate() {
            let permit = permits.clone().acquire_owned().await.expect("never closed");
            let client = self.clone();
            let plate = plate.clone();
            let order_no = format!("{}{i}", settings.order_prefix);
            let copies = settings.copies;
            orders.spawn(async move {
                let _permit = permit;
                client.storm_order(&plate, &order_no, copies).await
            });
        }
        let mut report = StormReport {
            orders: plates.len(),
            ..StormReport::default()
        };
        while let Some(done) = orders.join_next().await {
            let order = done.unwrap_or_else(|e| OrderOutcome {
                failure: Some(format!("order task failed: {e}")),
                ..OrderOutcome::default()
            });
            report.calls += order.calls;
            report.answers += order.answers;
            report.paid += usize::from(order.paid);
            report.refused += usize::from(order.refused);
            report.identical += usize::from(order.identical);
            if let Some(f) = order.failure {
                report.failed += 1;
                if report.failures.len() < KEPT_FAILURES {
                    report.failures.push(f);
                }
            }
        }
        report.elapsed = started.elapsed();
        report
    }

    /// One order of a storm: quote, then pay `copies` times at once.
    async fn storm_order(&self, plate: &str, order_no: &str, copies: usize) -> OrderOutcome {
        let mut out = OrderOutcome {
            calls: 1,
            ..OrderOutcome::default()
        };
        let quote = match self.payment_info_for_plate(plate).await {
            Ok(a) => a,
            Err(e) => {
                out.failure = Some(format!("{plate}: quote: {e}"));
                return out;
            }
        };
        let Some(request) = quote
            .answer
            .as_ref()
            .and_then(|q| Self::full_payment(order_no, plate, q))
        else {
            out.failure = Some(format!(
                "{plate}: no quote, or nothing due (HTTP {}): {}",
                quote.status, quote.body
            ));
            return out;
        };
        let answers = self.pay_with_retries(&request, copies).await;
        out.calls += answers.len();
        let mut bodies = Vec::new();
        for a in &answers {
            match a {
                Ok(a) if a.answer.is_some() => {
                    out.answers += 1;
                    bodies.push(a.body.as_str());
                }
                Ok(a) => {
                    out.failure = Some(format!(
                        "{order_no}: HTTP {} without an answer: {}",
                        a.status, a.body
                    ));
                }
                Err(e) => out.failure = Some(format!("{order_no}: {e}")),
            }
        }
        out.identical = bodies.len() == copies && bodies.windows(2).all(|w| w[0] == w[1]);
        if out.identical && out.failure.is_none() {
            match answers[0].as_ref().ok().and_then(|a| a.answer.as_ref()) {
                Some(r) if r.res_code == ResCode::Ok => out.paid = true,
                Some(r) => {
                    out.refused = true;
                    out.failure = Some(format!("{order_no}: refused: {}", r.res_msg));
                }
                None => {}
            }
        } else if out.failure.is_none() {
            out.failure = Some(format!(
                "{order_no}: the copies got different answers: {bodies:?}"
            ));
        }
        out
    }
}

/// How a retry storm runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StormSettings {
    /// Identical PayParkingFee calls per order, sent at once (Mallcoo retries up to 3 times).
    pub copies: usize,
    /// Orders in flight at once.
    pub concurrency: usize,
    /// Prefix of the `orderNo`s, so two storms on one database do not share orders.
    pub order_prefix: String,
}

impl Default for StormSettings {
    fn default() -> Self {
        StormSettings {
            copies: 3,
            concurrency: 32,
            order_prefix: "storm-".to_owned(),
        }
    }
}

/// What a retry storm saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StormReport {
    /// Orders attempted (one per car).
    pub orders: usize,
    /// HTTP calls made (quotes and every payment copy).
    pub calls: usize,
    /// Payment copies answered with a decodable 200 answer.
    pub answers: usize,
    /// Orders whose copies all got the same answer, byte for byte.
    pub identical: usize,
    /// Orders answered `resCode` 0.
    pub paid: usize,
    /// Orders answered `resCode` 1 (identically by every copy).
    pub refused: usize,
    /// Orders that did not end paid with identical answers.
    pub failed: usize,
    /// The first failures, described.
    pub failures: Vec<String>,
    /// Wall time of the storm.
    pub elapsed: Duration,
}

impl StormReport {
    /// True when every order was paid and every order's copies got identical answers.
    pub fn all_paid_identically(&self) -> bool {
        self.paid == self.orders && self.identical == self.orders && self.failed == 0
    }

    /// Orders paid per second of the storm.
    pub fn payments_per_sec(&self) -> f64 {
        self.paid as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// One order's tally.
#[derive(Debug, Default)]
struct OrderOutcome {
    calls: usize,
    answers: usize,
    identical: bool,
    paid: bool,
    refused: bool,
    failure: Option<String>,
}
