//! Added latency: the same event coupon sent straight to P云 (the sandbox) and through the
//! gateway, sequentially on one keep-alive connection each, from the same client.
//!
//! The two kinds of call alternate (direct, gateway, direct, …) rather than running as two
//! blocks, so a burst of load from elsewhere on a shared machine lands on both samples alike
//! instead of skewing whichever block it hit.

use std::time::Instant;

use protocol::plate::Plate;
use protocol::pyun::{COUPON_EVENT_PATH, CouponEvent};
use serde_json::{Value, json};

use super::report::Percentiles;
use super::server::{API_TYPE, APP_ID, APP_SECRET, PARK_CODE, STORE_CODE};

/// What the latency run measured.
#[derive(Debug, Clone)]
pub struct Latency {
    /// Calls counted per kind (warm-up excluded).
    pub calls: usize,
    /// Direct calls to the sandbox.
    pub baseline: Percentiles,
    /// Calls through ParkBridge, answered with the delivered outcome.
    pub gateway: Percentiles,
    /// Gateway calls (warm-up included) not answered 200 `delivered`, with the first such answer.
    pub not_delivered: (usize, Option<String>),
}

/// A plate for call `i`: distinct plates, all valid.
pub(crate) fn plate(i: usize) -> String {
    format!("粤B{:05}", i % 100_000)
}

/// Runs `warmup + calls` pairs of calls and keeps the last `calls`.
pub async fn run(
    sandbox_url: &str,
    gateway_url: &str,
    api_key: &str,
    calls: usize,
    warmup: usize,
) -> Result<Latency, String> {
    // One idle connection per host: sequential calls then always reuse the same socket.
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .build()
        .map_err(|e| e.to_string())?;
    let direct_url = format!("{sandbox_url}{COUPON_EVENT_PATH}");
    let gateway_events = format!("{gateway_url}/api/v1/coupons/events");
    let auth = format!("Bearer {api_key}");
    let mut direct = Vec::with_capacity(calls);
    let mut gateway = Vec::with_capacity(calls);
    let mut not_delivered = (0, None);
    for i in 0..warmup + calls {
        // Bodies are built (and signed) before the clock starts: the client's own work is not
        // what either figure is about.
        let form = CouponEvent {
            api_store_code: STORE_CODE.to_owned(),
            api_type: API_TYPE.to_owned(),
            event_id: format!("direct-{i}"),
            plate: Plate::parse(&plate(i)).map_err(|e| e.to_string())?,
            subject: "bench charging session".to_owned(),
            metadata: None,
        }
        .to_signed_form(APP_ID, APP_SECRET)
        .map_err(|e| e.to_string())?
        .to_urlencoded();
        let started = Instant::now();
        let resp = client
            .post(&direct_url)
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(form)
            .send()
            .await
            .map_err(|e| format!("direct call: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| format!("direct call: {e}"))?;
        let took = started.elapsed();
        let code = serde_json::from_str::<Value>(&text).ok();
        let code = code.as_ref().and_then(|v| v["code"].as_str());
        if !status.is_success() || code != Some("1001") {
            return Err(format!(
                "direct call to the sandbox was not a coupon: {status} {text}"
            ));
        }
        if i >= warmup {
            direct.push(took);
        }

        let body = json!({
            "park": PARK_CODE,
            "event_id": format!("lat-{i}"),
            "plate": plate(i),
            "subject": "bench charging session",
        })
        .to_string();
        let started = Instant::now();
        let resp = client
            .post(&gateway_events)
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("gateway call: {e}"))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("gateway call: {e}"))?;
        let took = started.elapsed();
        let state = serde_json::from_str::<Value>(&text).ok();
        let state = state.as_ref().and_then(|v| v["state"].as_str());
        if status.as_u16() != 200 || state != Some("delivered") {
            not_delivered.0 += 1;
            not_delivered
                .1
                .get_or_insert_with(|| format!("{status} {text}"));
        }
        if i >= warmup {
            gateway.push(took);
        }
    }
    Ok(Latency {
        calls,
        baseline: Percentiles::of(&mut direct),
        gateway: Percentiles::of(&mut gateway),
        not_delivered,
    })
}
