//! The leave upload, `internal/leave` (pyun-carpark.md §4.3): the entry's fields again, the exit, the money, and `payment_list`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Entry, FilePart, MAX_URL_CHARS, UploadForm, image, image_hash, non_negative};
use crate::pyun::RequestError;
use crate::pyun::fields::{MAX_TEXT_CHARS, optional, required};
use crate::pyun_carpark::billing::MAX_DOWN_ID_CHARS;

/// How one payment of a stay was made (`payment_list[].pay_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeavePayType {
    /// `1`.
    Cash,
    /// `2`: paid online (P云, Mallcoo, …).
    Online,
    /// `3`: automatic deduction (无感).
    Autopay,
    /// `4`: stored-value card.
    StoredValue,
    /// `8`: a coupon covered the whole fee.
    CouponCovered,
}

impl LeavePayType {
    /// P云's code.
    pub fn code(self) -> i64 {
        match self {
            LeavePayType::Cash => 1,
            LeavePayType::Online => 2,
            LeavePayType::Autopay => 3,
            LeavePayType::StoredValue => 4,
            LeavePayType::CouponCovered => 8,
        }
    }
}

/// One payment of the stay, as `payment_list` lists it. Amounts are fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeavePayment {
    /// How it was paid.
    pub pay_type: LeavePayType,
    /// The channel in words, e.g. `微信`.
    pub pay_origin_desc: Option<String>,
    /// The cashier.
    pub operator: Option<String>,
    /// When it was paid.
    pub pay_time: DateTime<Utc>,
    /// Received, excluding discount.
    pub value: i64,
    /// Discount.
    pub free_value: Option<i64>,
    /// Unique per payment (P云 ignores a repeat); billing's `parking_order` for a P云 payment.
    pub parking_order: String,
    /// Cash change owed.
    pub change_value: Option<i64>,
}

/// The wire shape of a `payment_list` item, in the order and with the JSON types of the spec's
/// vector U2: `pay_type` and `pay_time` as strings, amounts as numbers.
#[derive(Serialize)]
struct WirePayment<'a> {
    pay_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pay_origin_desc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operator: Option<&'a str>,
    pay_time: String,
    value: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    free_value: Option<i64>,
    parking_order: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    change_value: Option<i64>,
}

impl LeavePayment {
    fn validate(&self) -> Result<(), RequestError> {
        required("parking_order", &self.parking_order, MAX_DOWN_ID_CHARS)?;
        optional(
            "pay_origin_desc",
            self.pay_origin_desc.as_deref(),
            MAX_TEXT_CHARS,
        )?;
        optional("operator", self.operator.as_deref(), MAX_TEXT_CHARS)?;
        non_negative("value", Some(self.value))?;
        non_negative("free_value", self.free_value)?;
        non_negative("change_value", self.change_value)
    }

    fn wire(&self) -> WirePayment<'_> {
        WirePayment {
            pay_type: self.pay_type.code().to_string(),
            pay_origin_desc: self.pay_origin_desc.as_deref().filter(|s| !s.is_empty()),
            operator: self.operator.as_deref().filter(|s| !s.is_empty()),
            pay_time: crate::time::epoch_ms(self.pay_time).to_string(),
            value: self.value,
            free_value: self.free_value,
            parking_order: &self.parking_order,
            change_value: self.change_value,
        }
    }
}

/// A leave as uploaded: the entry's fields plus the exit and the money. Amounts are fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leave {
    /// The entry, exactly as uploaded on entry (P云 matches on `enter_time`).
    pub entry: Entry,
    /// Exit, sent as epoch ms.
    pub leave_time: DateTime<Utc>,
    /// A reachable image URL.
    pub leave_image: Option<String>,
    /// The exit image; a file part, signed through `leave_image_hash`.
    pub leave_image_file: Option<Vec<u8>>,
    /// The exit's name.
    pub leave_gate: Option<String>,
    /// The guard on duty.
    pub leave_security: Option<String>,
    /// Total fee.
    pub total_value: Option<i64>,
    /// Total discount.
    pub free_value: Option<i64>,
    /// Paid online.
    pub online_value: Option<i64>,
    /// Stored-value deduction.
    pub balance_value: Option<i64>,
    /// Cash.
    pub cash_value: Option<i64>,
    /// "先出后扣" amount, deducted after the leave.
    pub prepaid_value: Option<i64>,
    /// Why the barrier was opened by hand.
    pub leave_release_reason: Option<String>,
    /// The stay's payments; sent as one JSON-array text part, signed verbatim.
    pub payment_list: Vec<LeavePayment>,
}

impl Leave {
    /// Checks the entry, the exit and the amounts.
    pub fn validate(&self) -> Result<(), RequestError> {
        self.entry.validate()?;
        if self.leave_time < self.entry.enter_time {
            return Err(RequestError::Invalid {
                field: "leave_time",
                reason: "before enter_time".to_owned(),
            });
        }
        for (field, v, max) in [
            ("leave_image", &self.leave_image, MAX_URL_CHARS),
            ("leave_gate", &self.leave_gate, MAX_TEXT_CHARS),
            ("leave_security", &self.leave_security, MAX_TEXT_CHARS),
            (
                "leave_release_reason",
                &self.leave_release_reason,
                MAX_TEXT_CHARS,
            ),
        ] {
            optional(field, v.as_deref(), max)?;
        }
        image("leave_image_file", self.leave_image_file.as_deref())?;
        for (field, v) in self.amounts() {
            non_negative(field, v)?;
        }
        for (index, p) in self.payment_list.iter().enumerate() {
            p.validate().map_err(|e| RequestError::Row {
                index,
                source: Box::new(e),
            })?;
        }
        Ok(())
    }

    fn amounts(&self) -> [(&'static str, Option<i64>); 6] {
        [
            ("total_value", self.total_value),
            ("free_value", self.free_value),
            ("online_value", self.online_value),
            ("balance_value", self.balance_value),
            ("cash_value", self.cash_value),
            ("prepaid_value", self.prepaid_value),
        ]
    }

    /// `payment_list` as sent: compact JSON, `""` (not sent) when there is none.
    pub fn payment_list_json(&self) -> String {
        if self.payment_list.is_empty() {
            return String::new();
        }
        let wire: Vec<WirePayment<'_>> = self.payment_list.iter().map(LeavePayment::wire).collect();
        // A Vec of plain structs of strings and integers cannot fail to serialise.
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Validates and signs the `internal/leave` upload.
    pub fn to_form(&self, app_secret: &str) -> Result<UploadForm, RequestError> {
        self.validate()?;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let mut fields = self.entry.text_fields();
        fields.extend([
            (
                "leave_time",
                crate::time::epoch_ms(self.leave_time).to_string(),
            ),
            ("leave_image", opt(&self.leave_image)),
            (
                "leave_image_hash",
                self.leave_image_file
                    .as_deref()
                    .map(image_hash)
                    .unwrap_or_default(),
            ),
            ("leave_gate", opt(&self.leave_gate)),
            ("leave_security", opt(&self.leave_security)),
            ("leave_release_reason", opt(&self.leave_release_reason)),
            ("payment_list", self.payment_list_json()),
        ]);
        for (field, v) in self.amounts() {
            fields.push((field, v.map(|n| n.to_string()).unwrap_or_default()));
        }
        let mut files = self.entry.files();
        files.extend(self.leave_image_file.iter().map(|bytes| FilePart {
            name: "leave_image_file",
            bytes: bytes.clone(),
        }));
        Ok(UploadForm::new(fields, files, app_secret))
    }
}
