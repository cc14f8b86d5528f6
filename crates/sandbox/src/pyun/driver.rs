//! P云's own moves towards a registered car park, started from the control API or in-process:
//! a driver paying in the P云 app (`payment.billing` then `payment.result`, §3.1–3.2), a raw
//! payment notice, revoking a coupon (`discount.destroy`, §3.4), `realtime` now or on a timer
//! (§3.5), and any service with any fields (a test of `1503`).
//!
//! Every call goes through `downlink`, so each one is recorded with its reply and `sign_ok`.

use std::time::Duration;

use protocol::pyun_carpark::{Members, Service};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::task::{JoinHandle, JoinSet};

use super::PyunSandbox;
use super::downlink::{DownlinkCall, Target, Trigger, post, prepare};

/// Why a control action could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No car park is registered under this `park_uuid`.
    #[error("unknown car park `{0}`")]
    UnknownPark(String),
}

/// `pay_origin` of a driver who does not say: WeChat, as in the spec's vector V3.
pub const DEFAULT_PAY_ORIGIN: i64 = 8;

/// A driver pays in the P云 app: `POST /_sandbox/driver/pay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverPays {
    /// The car park.
    pub park_uuid: String,
    /// The plate billed.
    pub plate: String,
    /// 0 P云, 4 Alipay, 8 WeChat (default).
    #[serde(default)]
    pub pay_origin: Option<i64>,
    /// Sends the identical notice a second time, as P云 may (`可能发起多次`).
    #[serde(default)]
    pub twice: bool,
    /// Pays this many fen instead of the order's `pay_value` (both `value` and `pay_value`).
    #[serde(default)]
    pub value_override: Option<i64>,
}

/// What the driver's payment did: every call with its reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverPaid {
    /// `payment.billing`.
    pub billing: DownlinkCall,
    /// `payment.result`, unless billing gave nothing to pay.
    pub payment: Option<DownlinkCall>,
    /// The identical `payment.result` again, when `twice`.
    pub repeat: Option<DownlinkCall>,
    /// Why no payment was sent, when none was.
    pub skipped: Option<String>,
}

/// One `payment.result` as given: `POST /_sandbox/downlink/payment-result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentNoticeRequest {
    /// The car park.
    pub park_uuid: String,
    /// The stay (may be `""`, as P云 sends for paid entry).
    pub parking_serial: String,
    /// The order being paid.
    pub parking_order: String,
    /// P云's payment serial.
    pub pay_serial: String,
    /// `value`, fen.
    pub value: i64,
    /// `pay_value`, fen; `value` when absent.
    #[serde(default)]
    pub pay_value: Option<i64>,
    /// 0 none, 1 `先出后扣`, 2 `先扣后出`; not sent when absent.
    #[serde(default)]
    pub autopay_type: Option<i64>,
    /// Default 8 (WeChat).
    #[serde(default)]
    pub pay_origin: Option<i64>,
}

/// `POST /_sandbox/downlink/discount-destroy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountDestroyRequest {
    /// The car park.
    pub park_uuid: String,
    /// The coupon to revoke.
    pub grant_serial: String,
}

/// Any service with any fields: `POST /_sandbox/downlink/call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCall {
    /// The car park.
    pub park_uuid: String,
    /// The `service` sent, known to the gateway or not.
    pub service: String,
    /// Business members, each sent as a string (a number or bool as its text, an object or
    /// array as its JSON); a `version` or `charset` here replaces the envelope's.
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
    /// Sent as `sign` instead of the correct one (a test of `1401`).
    #[serde(default)]
    pub sign: Option<String>,
}

/// P云's words for a `pay_origin`, as `(pay_origin_desc, pay_source)`.
fn origin_words(pay_origin: i64) -> (&'static str, Option<&'static str>) {
    match pay_origin {
        0 => ("P云", None),
        4 => ("支付宝", Some("支付宝")),
        8 => ("微信", Some("微信")),
        _ => ("其他", None),
    }
}

fn pair(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

/// A JSON value as the string P云 would send.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl PyunSandbox {
    fn target(&self, park_uuid: &str) -> Result<Target, ControlError> {
        self.with(|s| s.carparks.get(park_uuid).map(Target::of))
            .ok_or_else(|| ControlError::UnknownPark(park_uuid.to_owned()))
    }

    /// A fresh `pay_serial`, unique across sandboxes (the instance prefix) and calls.
    fn next_pay_serial(&self) -> String {
        self.with(|s| {
            s.pay_serials += 1;
            format!("{}PAY{:06}", s.instance(), s.pay_serials)
        })
    }

    /// A driver pays in the P云 app: billing for the plate, then — on `1001` with an order,
    /// even when `pay_value` is 0 — the payment notice for it (twice if asked).
    pub async fn driver_pays(&self, req: &DriverPays) -> Result<DriverPaid, ControlError> {
        let target = self.target(&req.park_uuid)?;
        let billing = prepare(
            &target,
            Service::PaymentBilling.name(),
            [pair("plate", req.plate.as_str())],
            None,
        );
        let billing = post(self, &target, &billing, Trigger::Driver).await;
        let mut paid = DriverPaid {
            billing,
            payment: None,
            repeat: None,
            skipped: None,
        };
        let order = match payable_order(&paid.billing) {
            Ok(order) => order,
            Err(why) => {
                paid.skipped = Some(why);
                return Ok(paid);
            }
        };
        let value = req.value_override.unwrap_or(order.pay_value).to_string();
        let pay_origin = req.pay_origin.unwrap_or(DEFAULT_PAY_ORIGIN);
        let (desc, source) = origin_words(pay_origin);
        let mut fields = vec![
            pair("parking_serial", order.parking_serial),
            pair("parking_order", order.parking_order),
            pair("plate", req.plate.as_str()),
            pair("pay_serial", self.next_pay_serial()),
            pair("pay_time", now_local()),
            pair("value", value.as_str()),
            pair("pay_value", value.as_str()),
            pair("pay_origin", pay_origin.to_string()),
            pair("pay_origin_desc", desc),
            pair("autopay_type", "0"),
        ];
        if let Some(source) = source {
            fields.push(pair("pay_source", source));
        }
        if let Some(free) = order.free_value {
            fields.push(pair("free_value", free));
        }
        fields.retain(|(_, v)| !v.is_empty());
        let notice = prepare(&target, Service::PaymentResult.name(), fields, None);
        paid.payment = Some(post(self, &target, &notice, Trigger::Driver).await);
        if req.twice {
            paid.repeat = Some(post(self, &target, &notice, Trigger::Driver).await);
        }
        Ok(paid)
    }

    /// One `payment.result` exactly as asked (voided orders, cars that left, repeats).
    pub async fn payment_notice(
        &self,
        req: &PaymentNoticeRequest,
    ) -> Result<DownlinkCall, ControlError> {
        let target = self.target(&req.park_uuid)?;
        let pay_origin = req.pay_origin.unwrap_or(DEFAULT_PAY_ORIGIN);
        let mut fields = vec![
            pair("parking_serial", req.parking_serial.as_str()),
            pair("parking_order", req.parking_order.as_str()),
            pair("pay_serial", req.pay_serial.as_str()),
            pair("pay_time", now_local()),
            pair("value", req.value.to_string()),
            pair("pay_value", req.pay_value.unwrap_or(req.value).to_string()),
            pair("pay_origin", pay_origin.to_string()),
            pair("pay_origin_desc", origin_words(pay_origin).0),
        ];
        if let Some(t) = req.autopay_type {
            fields.push(pair("autopay_type", t.to_string()));
        }
        let notice = prepare(&target, Service::PaymentResult.name(), fields, None);
        Ok(post(self, &target, &notice, Trigger::Notice).await)
    }

    /// `discount.destroy` for a coupon.
    pub async fn discount_destroy(
        &self,
        req: &DiscountDestroyRequest,
    ) -> Result<DownlinkCall, ControlError> {
        let target = self.target(&req.park_uuid)?;
        let fields = [pair("grant_serial", req.grant_serial.as_str())];
        let call = prepare(&target, Service::DiscountDestroy.name(), fields, None);
        Ok(post(self, &target, &call, Trigger::Destroy).await)
    }

    /// `realtime` now.
    pub async fn realtime(&self, park_uuid: &str) -> Result<DownlinkCall, ControlError> {
        self.realtime_as(park_uuid, Trigger::Realtime).await
    }

    async fn realtime_as(
        &self,
        park_uuid: &str,
        trigger: Trigger,
    ) -> Result<DownlinkCall, ControlError> {
        let target = self.target(park_uuid)?;
        let call = prepare(&target, Service::Realtime.name(), [], None);
        Ok(post(self, &target, &call, trigger).await)
    }

    /// Any service with any fields, signed unless a `sign` is given.
    pub async fn call_service(&self, req: &ServiceCall) -> Result<DownlinkCall, ControlError> {
        let target = self.target(&req.park_uuid)?;
        let fields = req.fields.iter().map(|(k, v)| (k.clone(), as_text(v)));
        let call = prepare(&target, &req.service, fields, req.sign.clone());
        Ok(post(self, &target, &call, Trigger::Generic).await)
    }

    /// Calls `realtime` on every registered car park every `every`, as P云 polls "以固定频率";
    /// the first round one period from now. Stops when the handle is aborted.
    pub fn poll_realtime_every(&self, every: Duration) -> JoinHandle<()> {
        let sb = self.clone();
        // A zero period would spin; a millisecond is already far faster than P云 polls.
        let every = every.max(Duration::from_millis(1));
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + every;
            let mut ticks = tokio::time::interval_at(start, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let parks: Vec<String> =
                    sb.with(|s| s.carparks.iter().map(|p| p.reg.park_uuid.clone()).collect());
                // In parallel, and each round waits for the last: a slow gateway delays the
                // next round instead of piling calls up.
                let mut round = JoinSet::new();
                for park in parks {
                    let sb = sb.clone();
                    round.spawn(async move { sb.realtime_as(&park, Trigger::Poll).await });
                }
                while round.join_next().await.is_some() {}
            }
        })
    }
}

/// What `payment.result` needs from a billing reply.
struct Order {
    parking_serial: String,
    parking_order: String,
    pay_value: i64,
    free_value: Option<String>,
}

/// The order billing offered, or why there is none to pay.
fn payable_order(billing: &DownlinkCall) -> Result<Order, String> {
    if billing.result_code.as_deref() != Some("1001") {
        return Err(format!(
            "billing answered {}",
            billing.result_code.as_deref().unwrap_or("no result_code")
        ));
    }
    let members = Members::parse(billing.reply_body.as_bytes())
        .map_err(|e| format!("billing reply unreadable: {e}"))?;
    let text = |name: &str| members.text(name).map(str::to_owned);
    let parking_order = text("parking_order").ok_or("billing gave no parking_order")?;
    let pay_value = text("pay_value")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v >= 0)
        .ok_or("billing gave no usable pay_value")?;
    Ok(Order {
        parking_serial: text("parking_serial").unwrap_or_default(),
        parking_order,
        pay_value,
        free_value: text("free_value"),
    })
}

/// Now as P云's `yyyyMMddHHmmss`, Asia/Shanghai (D8).
fn now_local() -> String {
    protocol::time::format_pyun_local(chrono::Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pay_origins_have_p_yun_s_words() {
        assert_eq!(origin_words(8), ("微信", Some("微信")));
        assert_eq!(origin_words(4), ("支付宝", Some("支付宝")));
        assert_eq!(origin_words(0), ("P云", None));
        assert_eq!(origin_words(99).0, "其他");
    }

    #[test]
    fn generic_fields_are_sent_as_text() {
        assert_eq!(as_text(&Value::from("x")), "x");
        assert_eq!(as_text(&serde_json::json!(1.50)), "1.5");
        assert_eq!(as_text(&serde_json::json!(true)), "true");
        assert_eq!(as_text(&Value::Null), "");
        assert_eq!(as_text(&serde_json::json!({"a": [1]})), r#"{"a":[1]}"#);
    }

    #[test]
    fn a_pay_serial_is_fresh_each_time() {
        let sb = PyunSandbox::new();
        let a = sb.next_pay_serial();
        assert_ne!(a, sb.next_pay_serial());
        assert!(a.ends_with("PAY000001"), "{a}");
    }
}
