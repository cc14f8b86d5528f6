//! Request counts and latency per route template and status, rendered as Prometheus text at
//! `GET /metrics`.
//!
//! Labels come from axum's `MatchedPath` (`/api/v1/users/{id}`), never the raw URI, so no id,
//! plate or key can reach a label and the number of series stays bounded.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const REQUESTS: &str = "http_requests_total";
const DURATION: &str = "http_request_duration_seconds";
/// Upper bounds in seconds: a gateway answers in milliseconds, a slow database in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder: `metrics` has one global recorder, so every router of this process
/// (tests build several) shares it.
pub(crate) fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), BUCKETS)
                .expect("the bucket list is not empty")
        };
        builder().install_recorder().unwrap_or_else(|e| {
            // Another recorder was installed first (only possible when embedded): render ours empty.
            tracing::warn!(error = %e, "metrics recorder not installed; /metrics will be empty");
            builder().build_recorder().handle()
        })
    })
}

/// Middleware: counts the request and records its latency under its route template.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    // The template is shared (an `Arc` inside): cloned, not copied.
    let route = req.extensions().get::<MatchedPath>().cloned();
    // Only standard methods become label values; anything else is one bucket.
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let start = Instant::now();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    record(route, method, response.status().as_u16(), start.elapsed());
    response
}

/// A series' counter and latency histogram.
type Series = (metrics::Counter, metrics::Histogram);

/// The series registered so far, by route template, then method and status: a bounded set
/// (templates, not paths). Registering through `metrics::counter!` on every request built its
/// key and labels anew and hashed them (allocations and a registry lookup, twice a request).
static SERIES: LazyLock<RwLock<SeriesByRoute>> = LazyLock::new(|| RwLock::new(HashMap::new()));

/// Route template → (method, status, series).
type SeriesByRoute = HashMap<Box<str>, Vec<(&'static str, u16, Series)>>;

/// Counts one request of `route`, `method` and `status` that took `took`.
fn record(route: &str, method: &'static str, status: u16, took: Duration) {
    let bump = |(count, took_hist): &Series| {
        count.increment(1);
        took_hist.record(took.as_secs_f64());
    };
    {
        let known = SERIES.read().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, _, series)) = known
            .get(route)
            .and_then(|v| v.iter().find(|(m, s, _)| *m == method && *s == status))
        {
            bump(series);
            return;
        }
    }
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    let series = (
        metrics::counter!(REQUESTS, &labels),
        metrics::histogram!(DURATION, &labels),
    );
    bump(&series);
    let mut known = SERIES.write().unwrap_or_else(PoisonError::into_inner);
    let list = known.entry(route.into()).or_default();
    // Another request may have registered it meanwhile (the same series either way).
    if !list.iter().any(|(m, s, _)| *m == method && *s == status) {
        list.push((method, status, series));
    }
}

/// `GET /metrics`: Prometheus text exposition.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text: http_requests_total and http_request_duration_seconds by method, route template and status", content_type = "text/plain", body = String))
)]
pub(crate) async fn render() -> impl IntoResponse {
    let handle = handle();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
}
