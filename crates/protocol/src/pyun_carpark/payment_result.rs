//! `service.parking.payment.result` (pyun-carpark.md §3.2): P云's payment notice for an order we issued, and our answers.
//!
//! Only what identifies and settles the payment is required (`parking_order`, `pay_serial`,
//! `pay_time`, `value`). The descriptive fields DOC also marks required are optional here: a
//! notice refused over `pay_origin_desc` would make P云 refund money the driver has paid.

use chrono::{DateTime, Utc};

use super::billing::MAX_DOWN_ID_CHARS;
use super::codes::{ResultCode, Service, message};
use super::members::Members;
use super::reply::Reply;
use crate::pyun::RequestError;
use crate::pyun::fields::{MAX_ID_CHARS, MAX_TEXT_CHARS};

/// Where the money came from (`pay_origin`): 0 P云, 4 Alipay, 8 WeChat, others undefined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayOrigin {
    /// `0`.
    Pyun,
    /// `4`.
    Alipay,
    /// `8`.
    Wechat,
    /// Any other code ("兼容其他未定义": P云 may add some).
    Other(i64),
}

impl PayOrigin {
    /// The origin for a code.
    pub fn from_code(code: i64) -> PayOrigin {
        match code {
            0 => PayOrigin::Pyun,
            4 => PayOrigin::Alipay,
            8 => PayOrigin::Wechat,
            other => PayOrigin::Other(other),
        }
    }

    /// The code.
    pub fn code(self) -> i64 {
        match self {
            PayOrigin::Pyun => 0,
            PayOrigin::Alipay => 4,
            PayOrigin::Wechat => 8,
            PayOrigin::Other(c) => c,
        }
    }
}

/// Whether the payment was an automatic deduction (`autopay_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutopayType {
    /// `0`: the driver paid.
    Manual,
    /// `1` "先出后扣": the car left first; this notice legitimately arrives after the leave.
    LeaveThenDeduct,
    /// `2` "先扣后出": deducted before the car left.
    DeductThenLeave,
    /// A code P云 has not documented.
    Other(i64),
}

impl AutopayType {
    /// The type for a code.
    pub fn from_code(code: i64) -> AutopayType {
        match code {
            0 => AutopayType::Manual,
            1 => AutopayType::LeaveThenDeduct,
            2 => AutopayType::DeductThenLeave,
            other => AutopayType::Other(other),
        }
    }
}

/// A payment notice's business fields. Amounts are fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentNotice {
    /// The stay; empty for paid entry.
    pub parking_serial: Option<String>,
    /// The order we returned from billing: the dedupe key.
    pub parking_order: String,
    /// The lane to open, if P云 passes one.
    pub gate_id: Option<String>,
    /// The virtual plate of a car without plates that paid for entry.
    pub plate: Option<String>,
    /// P云's payment serial: tells a repeat of this notice from a second payment.
    pub pay_serial: String,
    /// When the driver paid.
    pub pay_time: DateTime<Utc>,
    /// The order's payable amount excluding discount (DOC since 2023-04-12); credited to the stay (D11).
    pub value: i64,
    /// The car park's discount.
    pub free_value: Option<i64>,
    /// Where the money came from.
    pub pay_origin: Option<PayOrigin>,
    /// Where the money came from, in words, e.g. `P云`.
    pub pay_origin_desc: Option<String>,
    /// The payer's channel in words, e.g. `微信`.
    pub pay_source: Option<String>,
    /// Automatic deduction, if any.
    pub autopay_type: Option<AutopayType>,
    /// What the driver actually paid (added 2023-04-12; absent from older senders).
    pub pay_value: Option<i64>,
    /// Other deductions, e.g. membership points.
    pub reduce_value: Option<i64>,
}

impl PaymentNotice {
    /// Reads the business fields of a verified request.
    pub fn from_members(m: &Members) -> Result<PaymentNotice, RequestError> {
        let text = |f: &'static str, max| -> Result<Option<String>, RequestError> {
            Ok(m.optional(f, max)?.map(str::to_owned))
        };
        Ok(PaymentNotice {
            parking_serial: text("parking_serial", MAX_DOWN_ID_CHARS)?,
            parking_order: m.required("parking_order", MAX_DOWN_ID_CHARS)?.to_owned(),
            gate_id: text("gate_id", MAX_DOWN_ID_CHARS)?,
            plate: text("plate", MAX_ID_CHARS)?,
            pay_serial: m.required("pay_serial", MAX_DOWN_ID_CHARS)?.to_owned(),
            pay_time: m.required_time("pay_time")?,
            value: m.required_non_negative("value")?,
            free_value: m.optional_non_negative("free_value")?,
            pay_origin: m.optional_int("pay_origin")?.map(PayOrigin::from_code),
            pay_origin_desc: text("pay_origin_desc", MAX_TEXT_CHARS)?,
            pay_source: text("pay_source", MAX_TEXT_CHARS)?,
            autopay_type: m.optional_int("autopay_type")?.map(AutopayType::from_code),
            pay_value: m.optional_non_negative("pay_value")?,
            reduce_value: m.optional_non_negative("reduce_value")?,
        })
    }

    /// What the driver paid: `pay_value`, or `value` from a sender that predates it (§3.2 step 7).
    pub fn paid(&self) -> i64 {
        self.pay_value.unwrap_or(self.value)
    }

    /// Whether a notice after the car left is expected (`先出后扣`, §3.2 step 5).
    pub fn after_leave_expected(&self) -> bool {
        self.autopay_type == Some(AutopayType::LeaveThenDeduct)
    }
}

/// Our answer to a payment notice (§3.2's algorithm, D10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentResultReply {
    /// `1001`: recorded now; `parking_serial` only for paid entry.
    Processed {
        /// The real stay serial, for paid entry.
        parking_serial: Option<String>,
    },
    /// `1001`: the same `pay_serial` was recorded before.
    AlreadyProcessed,
    /// `1403`: the order was superseded, paid by another payment, or the car left; P云 refunds.
    Revoked,
    /// `1403`: we never issued this order (D10: a refund is safest for money we cannot place).
    UnknownOrder,
}

impl PaymentResultReply {
    /// The reply to render and sign.
    pub fn reply(&self) -> Reply {
        let of = |code, msg| Reply::of(Service::PaymentResult, code, msg);
        match self {
            PaymentResultReply::Processed { parking_serial } => {
                let mut r = of(ResultCode::Ok, message::OK);
                r.opt_text("parking_serial", parking_serial.as_deref());
                r
            }
            PaymentResultReply::AlreadyProcessed => of(ResultCode::Ok, message::ALREADY_PROCESSED),
            PaymentResultReply::Revoked => of(ResultCode::Refused, message::ORDER_REVOKED),
            PaymentResultReply::UnknownOrder => of(ResultCode::Refused, message::ORDER_UNKNOWN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{epoch_ms, parse_pyun_local};

    const KEY: &str = "pb-demo-key-2025";

    fn notice(body: &str) -> Result<PaymentNotice, RequestError> {
        PaymentNotice::from_members(&Members::parse(body.as_bytes()).unwrap())
    }

    #[test]
    fn v3_notice_reads() {
        let n = notice(r#"{"service":"service.parking.payment.result","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_serial":"PS20250102093000001","parking_order":"PO20250102153012000001","plate":"粤B660PP","pay_serial":"20250102153105075500112137","pay_time":"20250102153105","value":"2000","free_value":"1000","pay_value":"2000","pay_origin":"8","pay_origin_desc":"微信","pay_source":"微信","sign":"6BBB75D9F597A6B41805920073FC8B5B"}"#).unwrap();
        assert_eq!(n.parking_order, "PO20250102153012000001");
        assert_eq!(n.parking_serial.as_deref(), Some("PS20250102093000001"));
        // 2025-01-02 15:31:05 +08:00.
        assert_eq!(epoch_ms(n.pay_time), 1_735_803_065_000);
        assert_eq!((n.value, n.free_value, n.paid()), (2000, Some(1000), 2000));
        assert_eq!(n.pay_origin, Some(PayOrigin::Wechat));
        assert!(!n.after_leave_expected());
    }

    #[test]
    fn official_notice_without_pay_value_falls_back_to_value() {
        // DOC parking/api/payment-notify.md request example (2018, before `pay_value` existed).
        let n = notice(r#"{"charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_order":"201811301049350025","parking_serial":"8c598afd-2cb8-4cec-8f73-4fd4391d2fc6","pay_origin":"4","pay_origin_desc":"支付宝","pay_source": "支付宝","pay_serial":"20181130105240075500112137","pay_time":"20181130105250","service":"service.parking.payment.result","sign":"E7D7371549C2B4E3AE38C3A028973020","value":"500","version":"1.0"}"#).unwrap();
        assert_eq!(n.pay_value, None);
        assert_eq!(n.paid(), 500);
        assert_eq!(n.pay_origin, Some(PayOrigin::Alipay));
        assert_eq!(n.pay_time, parse_pyun_local("20181130105250").unwrap());
    }

    #[test]
    fn bad_notices_name_the_field() {
        let base =
            r#""parking_order":"O","pay_serial":"S","pay_time":"20250102153105","value":"1""#;
        assert!(notice(&format!("{{{base}}}")).is_ok());
        for (body, field) in [
            (
                r#"{"pay_serial":"S","pay_time":"20250102153105","value":"1"}"#.to_owned(),
                "parking_order",
            ),
            (format!(r#"{{{base},"value":"-1"}}"#), "value"),
            (format!(r#"{{{base},"value":""}}"#), "value"),
            (format!(r#"{{{base},"pay_time":"2025-01-02"}}"#), "pay_time"),
            (format!(r#"{{{base},"autopay_type":"x"}}"#), "autopay_type"),
            (format!(r#"{{{base},"pay_value":1.5}}"#), "pay_value"),
        ] {
            let e = notice(&body).unwrap_err();
            assert!(
                matches!(&e, RequestError::Missing(f) | RequestError::Invalid { field: f, .. } if *f == field),
                "{body}: {e}"
            );
        }
        let n = notice(&format!(r#"{{{base},"autopay_type":1,"pay_origin":"9"}}"#)).unwrap();
        assert!(n.after_leave_expected());
        assert_eq!(n.pay_origin, Some(PayOrigin::Other(9)));
    }

    #[test]
    fn replies() {
        let ok = PaymentResultReply::Processed {
            parking_serial: None,
        }
        .reply()
        .to_json(Some(KEY));
        assert!(
            ok.ends_with(r#""sign":"9AE5E4C4061CC235AAA17F185C100CAF"}"#),
            "{ok}"
        );
        let revoked = PaymentResultReply::Revoked.reply().to_json(Some(KEY));
        assert!(
            revoked.ends_with(r#""sign":"500C5443EA2131B74DB3C0BE16E9263B"}"#),
            "{revoked}"
        );
        let unknown = PaymentResultReply::UnknownOrder.reply();
        assert_eq!(
            (unknown.code(), unknown.message()),
            (ResultCode::Refused, "订单不存在")
        );
        assert_eq!(
            PaymentResultReply::AlreadyProcessed.reply().code(),
            ResultCode::Ok
        );
        let paid_entry = PaymentResultReply::Processed {
            parking_serial: Some("PS1".into()),
        }
        .reply()
        .to_json(None);
        assert!(paid_entry.contains(r#""parking_serial":"PS1""#));
    }
}
