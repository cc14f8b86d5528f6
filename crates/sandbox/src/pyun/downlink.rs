//! P云 calling a car park's gateway ("云端HTTP接入", pyun-carpark.md §1): one flat JSON object of
//! strings, S-DOWN signed with the park's key, POSTed with a 10 s timeout; the reply is checked
//! (HTTP 200, a JSON object, `result_code`, `sign` when present) and every call is recorded.
//!
//! Signing and reading replies use the protocol crate the gateway itself uses (`down_sign`,
//! `Members`, `ReplyHead`), so the two sides cannot drift apart.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::http::header;
use protocol::pyun_carpark::down_sign::{self, DownSignError, SIGN_MEMBER};
use protocol::pyun_carpark::reply::{CHARSET, VERSION};
use protocol::pyun_carpark::{Members, ReplyHead};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::PyunSandbox;
use super::carparks::CarPark;

/// P云's timeout for a call to the car park (DOC `parking-prepay.md`: "timeout：10000ms").
pub const DOWNLINK_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a downlink call goes and what signs it (no `Debug`: it holds the key).
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) park_uuid: String,
    pub(crate) gateway_url: String,
    pub(crate) key: String,
}

impl Target {
    /// A snapshot of the registration, so a call in flight is not affected by a re-registration.
    pub(crate) fn of(park: &CarPark) -> Target {
        Target {
            park_uuid: park.reg.park_uuid.clone(),
            gateway_url: park.reg.gateway_url.clone(),
            key: park.reg.downlink_key.clone(),
        }
    }
}

/// Why the sandbox made a downlink call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// `discount.create` after a coupon event, grant or QR token scan for a parked car.
    Coupon,
    /// The driver-pays flow (`billing`, then `payment.result`).
    Driver,
    /// A raw `payment.result` from the control API.
    Notice,
    /// `discount.destroy` from the control API.
    Destroy,
    /// `realtime` from the control API.
    Realtime,
    /// `realtime` from the periodic poll.
    Poll,
    /// Any service with any fields from the control API.
    Generic,
}

/// One downlink call and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownlinkCall {
    /// Order the calls were started in, from 1.
    pub seq: u64,
    /// The car park called.
    pub park_uuid: String,
    /// The `service` sent.
    pub service: String,
    /// Why it was made.
    pub trigger: Trigger,
    /// Every member sent, `sign` included (all strings, as P云 sends them).
    pub request: BTreeMap<String, String>,
    /// Whether an answer (or a failure) is in; `false` while the call is in flight.
    pub done: bool,
    /// The reply's HTTP status; `None` when no response came.
    pub http_status: Option<u16>,
    /// The reply parsed as JSON (members with their JSON types); `None` when not JSON.
    pub reply: Option<Value>,
    /// The reply body as received, lossily decoded.
    pub reply_body: String,
    /// The reply's `result_code` as text.
    pub result_code: Option<String>,
    /// The reply's `message`.
    pub message: Option<String>,
    /// `true`/`false`: the reply's `sign` did / did not verify with the park's key; `None`: no `sign`.
    pub sign_ok: Option<bool>,
    /// What the reply got wrong: not HTTP 200, not a JSON object, no `result_code`, a bad
    /// `sign`, another `service` echoed. Empty for a clean reply.
    pub problems: Vec<String>,
    /// Transport failure (refused, timeout, reset); `None` when a response came.
    pub error: Option<String>,
    /// Milliseconds from sending to the end of the reply.
    pub elapsed_ms: u64,
}

/// A request ready to send (and, for a repeated notice, to send again byte for byte).
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    service: String,
    fields: BTreeMap<String, String>,
    body: String,
}

#[cfg(test)]
impl Prepared {
    /// The value sent for `name`, if any.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// The envelope (`service`, `version`, `charset`, `park_uuid`), then `business`, which may
/// override an envelope member (a test sending another `version`), then `sign`: computed over
/// every member, or `sign_override` as given (a test of a bad signature).
pub(crate) fn prepare(
    target: &Target,
    service: &str,
    business: impl IntoIterator<Item = (String, String)>,
    sign_override: Option<String>,
) -> Prepared {
    let mut fields: BTreeMap<String, String> = [
        ("service", service),
        ("version", VERSION),
        ("charset", CHARSET),
        ("park_uuid", target.park_uuid.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    fields.extend(business);
    fields.remove(SIGN_MEMBER);
    let sign = sign_override.unwrap_or_else(|| {
        down_sign::sign(
            fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &target.key,
        )
    });
    fields.insert(SIGN_MEMBER.to_owned(), sign);
    let body = serde_json::to_string(&fields).unwrap_or_default();
    Prepared {
        service: fields
            .get("service")
            .cloned()
            .unwrap_or_else(|| service.to_owned()),
        fields,
        body,
    }
}

/// Sends a prepared request, records the call, and returns the record.
pub(crate) async fn post(
    sb: &PyunSandbox,
    target: &Target,
    prepared: &Prepared,
    trigger: Trigger,
) -> DownlinkCall {
    let mut call = DownlinkCall {
        seq: 0,
        park_uuid: target.park_uuid.clone(),
        service: prepared.service.clone(),
        trigger,
        request: prepared.fields.clone(),
        done: false,
        http_status: None,
        reply: None,
        reply_body: String::new(),
        result_code: None,
        message: None,
        sign_ok: None,
        problems: Vec::new(),
        error: None,
        elapsed_ms: 0,
    };
    call.seq = sb.with(|s| s.record_call(call.clone()));
    let started = Instant::now();
    let sent = sb
        .client
        .post(&target.gateway_url)
        .header(header::CONTENT_TYPE, "application/json")
        .timeout(DOWNLINK_TIMEOUT)
        .body(prepared.body.clone())
        .send()
        .await;
    match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            match resp.bytes().await {
                Ok(body) => check_reply(&mut call, status, &body, &target.key),
                Err(e) => {
                    call.http_status = Some(status);
                    call.error = Some(format!("reading the reply failed: {e}"));
                }
            }
        }
        Err(e) => call.error = Some(describe(&e)),
    }
    call.done = true;
    call.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::debug!(
        seq = call.seq,
        service = %call.service,
        code = ?call.result_code,
        sign_ok = ?call.sign_ok,
        error = ?call.error,
        "P云 sandbox: downlink call done"
    );
    sb.with(|s| s.finish_call(&call));
    call
}

/// reqwest's error with its cause chain, which says *why* ("connection refused", "timed out").
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        text.push_str(" (timeout)");
    }
    text
}

/// Fills the reply part of `call`, noting everything a careful P云 would complain about.
fn check_reply(call: &mut DownlinkCall, status: u16, body: &[u8], key: &str) {
    call.http_status = Some(status);
    call.reply_body = String::from_utf8_lossy(body).into_owned();
    call.reply = serde_json::from_slice(body).ok();
    if status != 200 {
        call.problems.push(format!("HTTP {status}, not 200"));
    }
    let members = match Members::parse(body) {
        Ok(m) => m,
        Err(e) => {
            call.problems.push(format!("the reply is unreadable: {e}"));
            return;
        }
    };
    match ReplyHead::from_members(&members) {
        Ok(head) => {
            if let Some(echo) = head.service.as_deref().filter(|s| *s != call.service) {
                call.problems
                    .push(format!("the reply echoes service `{echo}`"));
            }
            call.result_code = Some(head.code);
            call.message = Some(head.message);
        }
        Err(e) => call.problems.push(format!("no usable result_code: {e}")),
    }
    call.sign_ok = match down_sign::verify(&members, key) {
        Ok(_) => Some(true),
        Err(DownSignError::MissingSign) => None,
        Err(DownSignError::Mismatch { plaintext, .. }) => {
            call.problems.push(format!(
                "the reply's sign does not verify; plaintext `{plaintext}`"
            ));
            Some(false)
        }
    };
}

/// The `discount.create` P云 sends after issuing a coupon for a car the car park has open.
#[derive(Clone)]
pub(crate) struct DiscountJob {
    pub(crate) target: Target,
    pub(crate) fields: Vec<(String, String)>,
}

/// Sends a `discount.create`: spawned once a coupon call has been answered, awaited by a token
/// scan (whose control call answers with it).
pub(crate) async fn deliver_discount(sb: PyunSandbox, job: DiscountJob) -> DownlinkCall {
    let prepared = prepare(
        &job.target,
        protocol::pyun_carpark::Service::DiscountCreate.name(),
        job.fields,
        None,
    );
    post(&sb, &job.target, &prepared, Trigger::Coupon).await
}

impl super::state::State {
    /// Records a call as it starts; returns its `seq`.
    pub(crate) fn record_call(&mut self, mut call: DownlinkCall) -> u64 {
        let seq = self.downlink_calls.len() as u64 + 1;
        call.seq = seq;
        self.downlink_calls.push(call);
        seq
    }

    /// Replaces a started call's record with its outcome.
    pub(crate) fn finish_call(&mut self, call: &DownlinkCall) {
        if let Some(slot) = usize::try_from(call.seq.saturating_sub(1))
            .ok()
            .and_then(|i| self.downlink_calls.get_mut(i))
        {
            *slot = call.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::pyun_carpark::{Reply, ResultCode, Service};

    const KEY: &str = "pb-demo-key-2025";

    fn target() -> Target {
        Target {
            park_uuid: "3bad72c0-6204-4b65-90aa-4323ddd1fb5a".into(),
            gateway_url: "http://127.0.0.1:1/gw".into(),
            key: KEY.into(),
        }
    }

    #[test]
    fn v1_billing_request_is_signed_as_the_spec_says() {
        let p = prepare(
            &target(),
            Service::PaymentBilling.name(),
            [("plate".to_owned(), "粤B660PP".to_owned())],
            None,
        );
        // pyun-carpark.md §2.3 V1.
        assert_eq!(p.get("sign"), Some("46DA4B3E5334F0C5F0FC770C7C0C92E0"));
        let back: BTreeMap<String, String> = serde_json::from_str(&p.body).unwrap();
        assert_eq!(back, p.fields);
        let accepted =
            protocol::pyun_carpark::receive(p.body.as_bytes(), Some(KEY)).expect("verifies");
        assert_eq!(accepted.envelope.service, Service::PaymentBilling);
    }

    #[test]
    fn business_fields_may_override_the_envelope_and_the_sign() {
        let p = prepare(
            &target(),
            "service.parking.vip.query",
            [
                ("version".to_owned(), "2.0".to_owned()),
                ("sign".to_owned(), "ignored".to_owned()),
            ],
            Some("BAD".into()),
        );
        assert_eq!(p.get("version"), Some("2.0"));
        assert_eq!(p.get("sign"), Some("BAD"));
        assert_eq!(p.service, "service.parking.vip.query");
    }

    fn checked(status: u16, body: &str) -> DownlinkCall {
        let mut call = DownlinkCall {
            seq: 1,
            park_uuid: "p".into(),
            service: Service::PaymentResult.name().into(),
            trigger: Trigger::Notice,
            request: BTreeMap::new(),
            done: false,
            http_status: None,
            reply: None,
            reply_body: String::new(),
            result_code: None,
            message: None,
            sign_ok: None,
            problems: Vec::new(),
            error: None,
            elapsed_ms: 0,
        };
        check_reply(&mut call, status, body.as_bytes(), KEY);
        call
    }

    #[test]
    fn replies_are_checked() {
        let signed = Reply::of(Service::PaymentResult, ResultCode::Ok, "成功").to_json(Some(KEY));
        let c = checked(200, &signed);
        assert_eq!(
            (c.result_code.as_deref(), c.sign_ok),
            (Some("1001"), Some(true))
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);

        let c = checked(200, r#"{"result_code":1001,"message":"OK"}"#);
        assert_eq!((c.result_code.as_deref(), c.sign_ok), (Some("1001"), None));

        let forged = signed.replace("成功", "失败");
        let c = checked(200, &forged);
        assert_eq!(c.sign_ok, Some(false));
        assert_eq!(c.problems.len(), 1);

        let c = checked(500, "<html>");
        assert_eq!(c.problems.len(), 2, "{:?}", c.problems);
        assert!(c.reply.is_none() && c.result_code.is_none());

        let other = Reply::of(Service::Realtime, ResultCode::Ok, "成功").to_json(None);
        assert!(checked(200, &other).problems[0].contains("echoes"));
        assert!(checked(200, "{}").problems[0].contains("result_code"));
    }
}
