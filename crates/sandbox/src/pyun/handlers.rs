//! The four third-party P云 endpoints: record the call, play any fault and the latency, then
//! answer by P云's rules. The uploads (`uploads`) play their faults through [`play`] too.

use std::sync::PoisonError;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router, routing::post};
use protocol::pyun::{COUPON_EVENT_PATH, COUPON_GRANT_PATH, COUPON_TOKEN_PATH, VIP_RECHARGE_PATH};

use super::PyunSandbox;
use super::conn::DropConnection;
use super::faults::Fault;
use super::records::{Answer, Endpoint};
use super::reply::Reply;
use super::state::Incoming;

/// Body of a `MalformedJson` answer: what a proxy in front of P云 sends when P云 is down.
pub(crate) const MALFORMED_BODY: &str = "<html>upstream error</html>";

/// Routes of the P云 endpoints, at P云's own paths.
pub(crate) fn routes() -> Router<PyunSandbox> {
    Router::new()
        .route(COUPON_EVENT_PATH, post(event))
        .route(COUPON_GRANT_PATH, post(grant))
        .route(VIP_RECHARGE_PATH, post(vip_recharge))
        .route(COUPON_TOKEN_PATH, post(token))
}

async fn event(
    State(sb): State<PyunSandbox>,
    kill: Option<Extension<DropConnection>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(sb, Endpoint::Event, kill, &headers, body).await
}

async fn grant(
    State(sb): State<PyunSandbox>,
    kill: Option<Extension<DropConnection>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(sb, Endpoint::Grant, kill, &headers, body).await
}

async fn vip_recharge(
    State(sb): State<PyunSandbox>,
    kill: Option<Extension<DropConnection>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(sb, Endpoint::VipRecharge, kill, &headers, body).await
}

async fn token(
    State(sb): State<PyunSandbox>,
    kill: Option<Extension<DropConnection>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(sb, Endpoint::Token, kill, &headers, body).await
}

/// `http://` + the `Host` the caller used, so a claim link reaches this sandbox from where the
/// caller stands; the address `start()` bound when a client sent no `Host`.
fn base_url(sb: &PyunSandbox, headers: &HeaderMap) -> String {
    match headers.get(header::HOST).and_then(|v| v.to_str().ok()) {
        Some(host) if !host.is_empty() => format!("http://{host}"),
        _ => sb.with(|s| s.base_url.clone()),
    }
}

/// One P云 call from arrival to answer (or to the dropped connection).
async fn call(
    sb: PyunSandbox,
    endpoint: Endpoint,
    kill: Option<Extension<DropConnection>>,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let arrival = sb.with(|s| s.arrive(endpoint, &body, authorization.clone()));
    let base_url = base_url(&sb, headers);
    // P云 tells the car park about a coupon once it has answered the issuer: the job is
    // spawned when the answer is decided, or at once when the connection is to be dropped
    // (then no answer ever comes).
    let dropping = matches!(arrival.fault, Some(Fault::Drop { .. }));
    let discount = std::sync::Mutex::new(None);
    let apply = || {
        let incoming = Incoming {
            body: &body,
            authorization: authorization.as_deref(),
            seqno: &arrival.seqno,
            base_url: &base_url,
            now: chrono::Utc::now(),
        };
        let (reply, job) = sb.with(|s| s.apply(endpoint, &incoming));
        match job {
            Some(job) if dropping => {
                tokio::spawn(super::downlink::deliver_discount(sb.clone(), job));
            }
            job => *discount.lock().unwrap_or_else(PoisonError::into_inner) = job,
        }
        reply
    };
    let record = |answer: Answer| sb.with(|s| s.answered(arrival.seq, answer));
    let what = format!("{endpoint:?} #{}", arrival.seq);
    let played = play(arrival.fault, arrival.latency, kill, apply, record, &what).await;
    if let Some(job) = discount
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
    {
        tokio::spawn(super::downlink::deliver_discount(sb.clone(), job));
    }
    let reply = match played {
        Ok(reply) => reply,
        Err(response) => return response,
    };
    // Debug, not info: a benchmark makes thousands of these.
    tracing::debug!(
        seq = arrival.seq,
        ?endpoint,
        status = reply.status,
        code = %reply.code,
        "P云 sandbox answered"
    );
    let time_cost = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    reply.into_response(&arrival.seqno, time_cost)
}

/// Plays the latency and the fault chosen for a call around `apply`, recording what was
/// answered. `Ok` is the envelope to send; `Err` a response already decided (a garbage body or
/// the 502 of an undroppable connection). A dropped connection never returns.
pub(crate) async fn play(
    fault: Option<Fault>,
    latency: Duration,
    kill: Option<Extension<DropConnection>>,
    apply: impl FnOnce() -> Reply,
    record: impl Fn(Answer),
    what: &str,
) -> Result<Reply, Response> {
    let mut delay = latency;
    if let Some(Fault::Latency { ms }) = &fault {
        delay += Duration::from_millis(*ms);
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let reply = match fault {
        Some(Fault::Answer {
            http_status,
            code,
            message,
        }) => Reply {
            status: http_status,
            // A `200` with a hint means "bad signature" to an upload's reader (§4.4), so an
            // injected `200` carries none.
            hint: (code != "200").then(|| "injected by the sandbox".into()),
            code,
            message,
            payload: None,
        },
        Some(Fault::Drop { after_applying }) => {
            if after_applying {
                apply();
            }
            let Some(Extension(kill)) = kill else {
                // Only `start()` serves connections that can be dropped; a router mounted
                // elsewhere gets the nearest thing, an empty 502.
                tracing::warn!("P云 sandbox: Drop fault outside `start()`, answering 502");
                record(Answer {
                    http_status: Some(502),
                    code: None,
                    dropped: false,
                });
                return Err(StatusCode::BAD_GATEWAY.into_response());
            };
            record(Answer {
                http_status: None,
                code: None,
                dropped: true,
            });
            tracing::info!(call = what, "P云 sandbox: dropping the connection");
            kill.fire();
            // The connection task drops this future with the socket; never answer.
            return std::future::pending().await;
        }
        Some(Fault::MalformedJson { after_applying }) => {
            if after_applying {
                apply();
            }
            record(Answer {
                http_status: Some(200),
                code: None,
                dropped: false,
            });
            return Err((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html")],
                MALFORMED_BODY,
            )
                .into_response());
        }
        Some(Fault::Latency { .. }) | None => apply(),
    };
    record(Answer {
        http_status: Some(reply.status),
        code: Some(reply.code.clone()),
        dropped: false,
    });
    Ok(reply)
}
