//! GetParkingPaymentInfo (§2.2): Mallcoo's fee query for one car, and our quote in answer.
//!
//! This is the hot path (Mallcoo re-queries each time the user toggles points or coupons), so
//! the types only carry and check fields; the amounts themselves come from the quote module.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::amount::{self, null_as_default};
use super::reply::{NO_PARKING_RECORD, ResCode};
use super::text;
use super::{MallcooError, VehicleKey};
use crate::time::mallcoo_datetime;

/// The method name, the last segment of `POST {base}/mallcoo/v1/{Method}` (§2.1).
pub const METHOD: &str = "GetParkingPaymentInfo";

/// The fee query as Mallcoo sends it.
///
/// `freeMinutes` and `freeAmount` are not marked optional in the seed, but a first query (before
/// the user picks any benefit) has nothing to put there; absent or `null` reads as 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentInfoRequest {
    /// `parkId`: Mallcoo's id of the car park; `None` when absent or blank (single car park).
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub park_id: Option<String>,
    /// `plateNo`; blank reads as `None`.
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub plate_no: Option<String>,
    /// `barcode` of a parking ticket; blank reads as `None`.
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub barcode: Option<String>,
    /// `freeMinutes`: parking time Mallcoo's benefits waive, in minutes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub free_minutes: u32,
    /// `freeAmount`: money Mallcoo's benefits waive, in fen.
    #[serde(default, with = "amount::fen_or_zero")]
    pub free_amount: i64,
}

impl PaymentInfoRequest {
    /// Checks the request and names the car: exactly one of `plateNo` and `barcode`.
    pub fn validate(&self) -> Result<VehicleKey, MallcooError> {
        // Decoding already refuses negatives; a hand-built request is held to the same rule.
        if self.free_amount < 0 {
            return Err(MallcooError::NegativeAmount {
                field: "freeAmount",
                value: self.free_amount,
            });
        }
        VehicleKey::from_fields(self.plate_no.as_deref(), self.barcode.as_deref())
    }
}

/// The figures of one quote, present only in a successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentQuote {
    /// `feeId`: names this quote; PayParkingFee must present it. Reads the seed's `feeld` too.
    #[serde(alias = "feeld")]
    pub fee_id: String,
    /// `entryTime`, sent as `yyyy-MM-dd HH:mm:ss` Asia/Shanghai.
    #[serde(with = "mallcoo_datetime")]
    pub entry_time: DateTime<Utc>,
    /// `parkingMinutes`: length of the stay so far.
    pub parking_minutes: u32,
    /// `totalAmount`: the whole fee since entry, in fen.
    #[serde(with = "amount::fen")]
    pub total_amount: i64,
    /// `unPayAmount`: what this payment has to cover, in fen.
    #[serde(with = "amount::fen")]
    pub un_pay_amount: i64,
    /// `deductionAmount`: value of the requested free minutes and free amount, in fen.
    #[serde(with = "amount::fen")]
    pub deduction_amount: i64,
    /// `paidAmount`: everything already settled online and offline, in fen.
    #[serde(with = "amount::fen")]
    pub paid_amount: i64,
    /// `offlineDeduction`: a description shown to the user (e.g. a VIP record); omitted when `None`.
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub offline_deduction: Option<String>,
}

/// Our answer: `resCode`/`resMsg`, then the quote's fields on success only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentInfoResponse {
    /// `resCode`: 0 on success (the seed's example shows 1, a typo: its own table says 0).
    pub res_code: ResCode,
    /// `resMsg`: empty on success.
    #[serde(default)]
    pub res_msg: String,
    /// The quote, flattened into the same object; `None` in an error answer.
    #[serde(flatten)]
    pub quote: Option<PaymentQuote>,
}

impl PaymentInfoResponse {
    /// A successful answer carrying `quote`.
    pub fn ok(quote: PaymentQuote) -> Self {
        Self {
            res_code: ResCode::Ok,
            res_msg: String::new(),
            quote: Some(quote),
        }
    }

    /// An error answer: `resCode` 1 and the message, no other fields.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            res_code: ResCode::Error,
            res_msg: message.into(),
            quote: None,
        }
    }

    /// The answer for a car with no open session: "未查询到停车记录" (§2.2).
    pub fn not_found() -> Self {
        Self::error(NO_PARKING_RECORD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_mallcoo;

    #[test]
    fn a_query_in_the_seed_field_names_decodes_and_round_trips() {
        let json = r#"{"parkId":"","plateNo":"沪A68688","barcode":"","freeMinutes":30,
                       "freeAmount":500.0,"somethingNew":true}"#;
        let req: PaymentInfoRequest = serde_json::from_str(json).unwrap();
        assert_eq!(
            req,
            PaymentInfoRequest {
                park_id: None,
                plate_no: Some("沪A68688".into()),
                barcode: None,
                free_minutes: 30,
                free_amount: 500,
            }
        );
        assert_eq!(req.validate(), Ok(VehicleKey::Plate("沪A68688".into())));
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"plateNo":"沪A68688","freeMinutes":30,"freeAmount":500}"#
        );
        let with_park = PaymentInfoRequest {
            park_id: Some("P1".into()),
            ..req
        };
        assert_eq!(
            serde_json::to_string(&with_park).unwrap(),
            r#"{"parkId":"P1","plateNo":"沪A68688","freeMinutes":30,"freeAmount":500}"#
        );
    }

    #[test]
    fn free_fields_default_to_zero() {
        let req: PaymentInfoRequest =
            serde_json::from_str(r#"{"barcode":"B123","freeMinutes":null}"#).unwrap();
        assert_eq!((req.free_minutes, req.free_amount), (0, 0));
        assert_eq!(req.validate(), Ok(VehicleKey::Barcode("B123".into())));
    }

    #[test]
    fn bad_queries_are_refused() {
        let read = |json: &str| serde_json::from_str::<PaymentInfoRequest>(json);
        let both = read(r#"{"plateNo":"沪A68688","barcode":"B1"}"#).unwrap();
        assert_eq!(both.validate(), Err(MallcooError::BothVehicles));
        let neither = read(r#"{"plateNo":"","freeMinutes":0}"#).unwrap();
        assert_eq!(neither.validate(), Err(MallcooError::NoVehicle));
        let err = read(r#"{"plateNo":"沪A68688","freeAmount":12.5}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("amount 12.5 is not a whole number of fen")
        );
        assert!(read(r#"{"plateNo":"沪A68688","freeAmount":-100}"#).is_err());
        assert!(read(r#"{"plateNo":"沪A68688","freeMinutes":-5}"#).is_err());
    }

    fn seed_quote() -> PaymentQuote {
        // The seed's example figures.
        PaymentQuote {
            fee_id: "20160713".into(),
            entry_time: parse_mallcoo("2016-06-29 10:24:10").unwrap(),
            parking_minutes: 150,
            total_amount: 1300,
            un_pay_amount: 200,
            deduction_amount: 500,
            paid_amount: 1100,
            offline_deduction: None,
        }
    }

    #[test]
    fn a_quote_is_sent_with_fee_id_and_res_code_zero() {
        let json = serde_json::to_string(&PaymentInfoResponse::ok(seed_quote())).unwrap();
        assert_eq!(
            json,
            r#"{"resCode":0,"resMsg":"","feeId":"20160713","entryTime":"2016-06-29 10:24:10","parkingMinutes":150,"totalAmount":1300,"unPayAmount":200,"deductionAmount":500,"paidAmount":1100}"#
        );
        let back: PaymentInfoResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(back, PaymentInfoResponse::ok(seed_quote()));

        let vip = PaymentQuote {
            offline_deduction: Some("月卡车".into()),
            ..seed_quote()
        };
        let v = serde_json::to_value(PaymentInfoResponse::ok(vip)).unwrap();
        assert_eq!(v["offlineDeduction"], "月卡车");
    }

    #[test]
    fn the_seed_example_spelling_feeld_is_still_read() {
        let json = r#"{"resCode":0,"resMsg":"","feeld":"20160713","entryTime":"2016-06-29 10:24:10",
                       "parkingMinutes":150,"totalAmount":1300,"unPayAmount":200,
                       "deductionAmount":500,"paidAmount":1100}"#;
        let r: PaymentInfoResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.quote, Some(seed_quote()));
    }

    #[test]
    fn an_error_answer_carries_only_code_and_message() {
        let json = serde_json::to_string(&PaymentInfoResponse::not_found()).unwrap();
        assert_eq!(json, r#"{"resCode":1,"resMsg":"未查询到停车记录"}"#);
        let back: PaymentInfoResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(back, PaymentInfoResponse::not_found());
    }
}
