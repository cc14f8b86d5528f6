//! Throughput: `events` event coupons fired over `concurrency` connections at a gateway that
//! answers 202 at once, timed until P云 (the sandbox) has issued every coupon.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::latency::plate;
use super::server::PARK_CODE;
use sandbox::pyun::{Endpoint, PyunSandbox};

/// How often delivery progress is read from the sandbox.
const POLL: Duration = Duration::from_millis(20);
/// Delivery is given up as stuck after this long without a new coupon.
const STALL: Duration = Duration::from_secs(30);

/// What the throughput run measured.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// Events fired.
    pub events: usize,
    /// Concurrent connections.
    pub concurrency: usize,
    /// Events the gateway accepted (200 or 202).
    pub accepted: usize,
    /// Calls refused or failed, with the first such answer.
    pub refused: (usize, Option<String>),
    /// From the first call to the last answer.
    pub intake: Duration,
    /// From the first call until the sandbox had issued `events` coupons; `None` when delivery
    /// stalled first.
    pub end_to_end: Option<Duration>,
    /// Coupons issued for this run's events.
    pub coupons: usize,
    /// Coupons issued twice for one event_id (the sandbox refuses a repeat, so this is a check
    /// of the sandbox and of our counting as much as of the gateway).
    pub duplicate_coupons: usize,
    /// Fired events with no coupon.
    pub missing: usize,
    /// Event calls P云 received beyond one per event (retries of a call whose answer was lost).
    pub redeliveries: usize,
}

/// Fires the events and waits for their coupons.
pub async fn run(
    sandbox: &PyunSandbox,
    gateway_url: &str,
    api_key: &str,
    events: usize,
    concurrency: usize,
) -> Result<Throughput, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(concurrency)
        .build()
        .map_err(|e| e.to_string())?;
    let url = Arc::new(format!("{gateway_url}/api/v1/coupons/events"));
    let auth = Arc::new(format!("Bearer {api_key}"));
    let bodies: Arc<Vec<String>> = Arc::new(
        (0..events)
            .map(|i| {
                json!({
                    "park": PARK_CODE,
                    "event_id": event_id(i),
                    "plate": plate(i),
                    "subject": "bench charging session",
                })
                .to_string()
            })
            .collect(),
    );
    let before = sandbox.coupon_count();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();

    let poller = {
        let sandbox = sandbox.clone();
        tokio::spawn(async move {
            let mut seen = 0;
            let mut last_progress = Instant::now();
            loop {
                tokio::time::sleep(POLL).await;
                let now = sandbox.coupon_count().saturating_sub(before);
                if now >= events {
                    return Some(started.elapsed());
                }
                if now > seen {
                    seen = now;
                    last_progress = Instant::now();
                } else if last_progress.elapsed() > STALL {
                    return None;
                }
            }
        })
    };

    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, url, auth, bodies, next) = (
            client.clone(),
            url.clone(),
            auth.clone(),
            bodies.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut accepted = 0usize;
            let mut refused: (usize, Option<String>) = (0, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let sent = client
                    .post(url.as_str())
                    .header("authorization", auth.as_str())
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let outcome = match sent {
                    Ok(resp) => {
                        let status = resp.status();
                        // Read the body so the connection goes back to the pool.
                        let text = resp.text().await.unwrap_or_default();
                        if matches!(status.as_u16(), 200 | 202) {
                            Ok(())
                        } else {
                            Err(format!("{status} {text}"))
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                match outcome {
                    Ok(()) => accepted += 1,
                    Err(e) => {
                        refused.0 += 1;
                        refused.1.get_or_insert(e);
                    }
                }
            }
            (accepted, refused)
        }));
    }
    let mut accepted = 0;
    let mut refused: (usize, Option<String>) = (0, None);
    for w in workers {
        let (a, r) = w.await.map_err(|e| format!("a load task failed: {e}"))?;
        accepted += a;
        refused.0 += r.0;
        if refused.1.is_none() {
            refused.1 = r.1;
        }
    }
    let intake = started.elapsed();
    let end_to_end = poller
        .await
        .map_err(|e| format!("the progress poller failed: {e}"))?;
    // A duplicate delivery would arrive after the count was reached: give it time to show.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let ours: Vec<String> = sandbox
        .coupons()
        .into_iter()
        .skip(before)
        .filter_map(|c| c.event_id)
        .filter(|id| id.starts_with(EVENT_PREFIX))
        .collect();
    let distinct: HashSet<&str> = ours.iter().map(String::as_str).collect();
    let expected: HashSet<String> = (0..events).map(event_id).collect();
    let missing = expected
        .iter()
        .filter(|id| !distinct.contains(id.as_str()))
        .count();
    let calls = sandbox
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Event)
        .filter(|r| {
            r.fields
                .iter()
                .any(|(k, v)| k == "event_id" && v.starts_with(EVENT_PREFIX))
        })
        .count();
    Ok(Throughput {
        events,
        concurrency,
        accepted,
        refused,
        intake,
        end_to_end,
        coupons: ours.len(),
        duplicate_coupons: ours.len() - distinct.len(),
        missing,
        redeliveries: calls.saturating_sub(distinct.len()),
    })
}

const EVENT_PREFIX: &str = "tp-";

fn event_id(i: usize) -> String {
    format!("{EVENT_PREFIX}{i}")
}

/// Events per second over `d`; zero for a zero duration.
pub fn rate(n: usize, d: Duration) -> f64 {
    let secs = d.as_secs_f64();
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}
