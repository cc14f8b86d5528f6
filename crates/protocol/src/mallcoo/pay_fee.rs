//! PayParkingFee (§2.3): Mallcoo's notice that a quoted fee has been paid.
//!
//! Mallcoo sends it after taking the money and retries it (3 times by default), so decoding is
//! lenient wherever the meaning stays clear, and `validate()` refuses only what makes the notice
//! unusable. Whether the amounts match the quote named by `feeId` is the server's check: only it
//! holds the stored quote.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::MallcooError;
use super::amount::{self, null_as_default};
use super::codes::{DeductionType, PayChannel, PayType};
use super::reply::Reply;
use super::text::{self, is_blank};
use crate::time::mallcoo_datetime;

/// The method name, the last segment of `POST {base}/mallcoo/v1/{Method}` (§2.1).
pub const METHOD: &str = "PayParkingFee";

/// The payment notice as Mallcoo sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayFeeRequest {
    /// `parkId`; `None` when absent or blank (single car park).
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub park_id: Option<String>,
    /// `feeId`: the quote this payment settles.
    #[serde(default, deserialize_with = "text::text")]
    pub fee_id: String,
    /// `orderNo`: Mallcoo's order, the idempotency key of the notice.
    #[serde(default, deserialize_with = "text::text")]
    pub order_no: String,
    /// `thirdTradeNo`: the Alipay/WeChat trade number; `None` for a zero-amount payment.
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub third_trade_no: Option<String>,
    /// `plateNo`, if sent; informative only, since `feeId` already names the session.
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub plate_no: Option<String>,
    /// `barcode`, if sent; informative only, like `plateNo`.
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub barcode: Option<String>,
    /// `payTime`, `yyyy-MM-dd HH:mm:ss` Asia/Shanghai.
    #[serde(with = "mallcoo_datetime")]
    pub pay_time: DateTime<Utc>,
    /// `unPayAmount`: what the quote said was due, in fen.
    #[serde(with = "amount::fen")]
    pub un_pay_amount: i64,
    /// `amount`: money actually paid (through Alipay, WeChat…), in fen.
    #[serde(with = "amount::fen")]
    pub amount: i64,
    /// `deductionAmount`: the part covered by benefits, in fen; absent reads as 0.
    #[serde(default, with = "amount::fen_or_zero")]
    pub deduction_amount: i64,
    /// `deductionDetails`: what the deductions were; absent or `null` reads as none.
    #[serde(default, deserialize_with = "null_as_default")]
    pub deduction_details: Vec<DeductionDetail>,
    /// `payChannel`.
    pub pay_channel: PayChannel,
    /// `payType`.
    pub pay_type: PayType,
    /// `memberInfo`, if the payer is a mall member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_info: Option<MemberInfo>,
}

/// One entry of `deductionDetails` (PascalCase keys, as the seed writes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeductionDetail {
    /// `Type`.
    #[serde(rename = "Type")]
    pub kind: DeductionType,
    /// `Identify`: the points count for points, a unique id otherwise.
    #[serde(default, deserialize_with = "text::text")]
    pub identify: String,
    /// `Minutes`: the time deducted, when the deduction is expressed in time.
    #[serde(default, deserialize_with = "null_as_default")]
    pub minutes: u32,
    /// `Amount`: the money deducted, in fen (converted from `Minutes` when those are non-zero).
    #[serde(default, with = "amount::fen_or_zero")]
    pub amount: i64,
}

/// `memberInfo` (PascalCase keys); every field may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MemberInfo {
    /// `Mobile`.
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub mobile: Option<String>,
    /// `CardNo`.
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub card_no: Option<String>,
    /// `CardGrade`.
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub card_grade: Option<String>,
    /// `Bonus`: the member's points total (a `Double` of points, not money), kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus: Option<serde_json::Number>,
}

/// The answer to a payment notice: just `resCode` and `resMsg`.
pub type PayFeeResponse = Reply;

impl PayFeeRequest {
    /// Refuses a notice that cannot be recorded.
    ///
    /// Checked: `feeId` and `orderNo` present; no negative amount; `payType` 0 with `amount` 0.
    /// Not checked here: `amount + deductionAmount` against the quote (the server's job), the
    /// deduction details summing to `deductionAmount` (the seed does not promise it: `freeAmount`
    /// may have no detail line), `thirdTradeNo` (empty for 0-yuan and possibly for offline
    /// payments), and `plateNo`/`barcode` (a payment already taken is not refused because both or
    /// neither came along; `feeId` names the session).
    pub fn validate(&self) -> Result<(), MallcooError> {
        if is_blank(&self.fee_id) {
            return Err(MallcooError::MissingField("feeId"));
        }
        if is_blank(&self.order_no) {
            return Err(MallcooError::MissingField("orderNo"));
        }
        let amounts = [
            ("unPayAmount", self.un_pay_amount),
            ("amount", self.amount),
            ("deductionAmount", self.deduction_amount),
        ]
        .into_iter()
        .chain(
            self.deduction_details
                .iter()
                .map(|d| ("deductionDetails.Amount", d.amount)),
        );
        for (field, value) in amounts {
            if value < 0 {
                return Err(MallcooError::NegativeAmount { field, value });
            }
        }
        if self.pay_type == PayType::ZeroAmount && self.amount != 0 {
            return Err(MallcooError::ZeroPaymentWithAmount(self.amount));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_mallcoo;

    const SEED_STYLE: &str = r#"{
        "parkId": "P1", "feeId": "F20261124", "orderNo": "MC0001", "thirdTradeNo": "4200001",
        "plateNo": "沪A68688", "barcode": "", "payTime": "2026-11-24 10:30:00",
        "unPayAmount": 1300.0, "amount": 800, "deductionAmount": 500.0,
        "deductionDetails": [
            {"Type": 2, "Identify": "CPN-77", "Minutes": 0, "Amount": 300},
            {"Type": 3, "Identify": 200, "Minutes": 0, "Amount": 200.0}
        ],
        "payChannel": 0, "payType": 3,
        "memberInfo": {"Mobile": "13800000000", "CardNo": "", "CardGrade": "金卡", "Bonus": 1200.5},
        "clientVersion": "9.9"
    }"#;

    fn seed_style() -> PayFeeRequest {
        serde_json::from_str(SEED_STYLE).unwrap()
    }

    #[test]
    fn a_notice_in_the_seed_field_names_decodes() {
        let r = seed_style();
        assert_eq!(r.park_id.as_deref(), Some("P1"));
        assert_eq!(r.pay_time, parse_mallcoo("2026-11-24 10:30:00").unwrap());
        assert_eq!(
            (r.un_pay_amount, r.amount, r.deduction_amount),
            (1300, 800, 500)
        );
        assert_eq!(r.barcode, None);
        assert_eq!(r.deduction_details[1].kind, DeductionType::Points);
        assert_eq!(r.deduction_details[1].identify, "200");
        assert_eq!(r.deduction_details[1].amount, 200);
        assert_eq!(
            (r.pay_channel, r.pay_type),
            (PayChannel::Online, PayType::WeChat)
        );
        let member = r.member_info.as_ref().unwrap();
        assert_eq!(member.card_no, None);
        assert_eq!(member.bonus.as_ref().and_then(|b| b.as_f64()), Some(1200.5));
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn it_serialises_with_the_seed_keys_and_round_trips() {
        let r = seed_style();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"parkId":"P1","feeId":"F20261124","orderNo":"MC0001","thirdTradeNo":"4200001","#,
                r#""plateNo":"沪A68688","payTime":"2026-11-24 10:30:00","unPayAmount":1300,"#,
                r#""amount":800,"deductionAmount":500,"deductionDetails":["#,
                r#"{"Type":2,"Identify":"CPN-77","Minutes":0,"Amount":300},"#,
                r#"{"Type":3,"Identify":"200","Minutes":0,"Amount":200}],"#,
                r#""payChannel":0,"payType":3,"memberInfo":{"Mobile":"13800000000","#,
                r#""CardGrade":"金卡","Bonus":1200.5}}"#
            )
        );
        assert_eq!(serde_json::from_str::<PayFeeRequest>(&json).unwrap(), r);
    }

    #[test]
    fn a_zero_yuan_payment_may_omit_the_optional_parts() {
        let json = r#"{"feeId":"F1","orderNo":"MC2","thirdTradeNo":"","barcode":"B9",
                       "payTime":"2026-11-24 10:30:00","unPayAmount":500,"amount":0,
                       "deductionAmount":500,"deductionDetails":null,"payChannel":0,
                       "payType":0,"memberInfo":null}"#;
        let r: PayFeeRequest = serde_json::from_str(json).unwrap();
        assert_eq!(r.third_trade_no, None);
        assert!(r.deduction_details.is_empty());
        assert_eq!(r.member_info, None);
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn unusable_notices_are_refused() {
        let mut r = seed_style();
        r.order_no = " ".into();
        assert_eq!(r.validate(), Err(MallcooError::MissingField("orderNo")));
        let mut r = seed_style();
        r.fee_id.clear();
        assert_eq!(r.validate(), Err(MallcooError::MissingField("feeId")));
        let mut r = seed_style();
        r.pay_type = PayType::ZeroAmount;
        assert_eq!(r.validate(), Err(MallcooError::ZeroPaymentWithAmount(800)));
        let mut r = seed_style();
        r.deduction_details[0].amount = -1;
        assert!(matches!(
            r.validate(),
            Err(MallcooError::NegativeAmount { .. })
        ));
    }

    #[test]
    fn bad_amounts_and_times_fail_to_decode() {
        let bad = |from: &str, to: &str| {
            let json = SEED_STYLE.replace(from, to);
            assert_ne!(json, SEED_STYLE, "{from} not in the sample");
            serde_json::from_str::<PayFeeRequest>(&json)
                .unwrap_err()
                .to_string()
        };
        assert!(
            bad(r#""amount": 800"#, r#""amount": 12.5"#)
                .contains("amount 12.5 is not a whole number of fen")
        );
        assert!(bad(r#""amount": 800"#, r#""amount": -800"#).contains("negative"));
        assert!(bad(r#""Amount": 300"#, r#""Amount": 0.5"#).contains("not a whole number"));
        assert!(bad("2026-11-24 10:30:00", "2026/11/24 10:30:00").contains("yyyy-MM-dd HH:mm:ss"));
        // A time in another layout, and a code sent as text, are refused too.
        bad("2026-11-24 10:30:00", "1764000000");
        bad(r#""payType": 3"#, r#""payType": "3""#);
    }
}
