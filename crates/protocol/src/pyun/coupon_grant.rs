//! The coupon grant by coupon code, `mcoupon/grant/create` (digest §1.4): its signed form and reading it back.
//!
//! This API has no idempotency key: a grant that may have reached P云 must not be resent
//! automatically. That policy lives with the caller; this module only builds and reads requests.

use serde::{Deserialize, Serialize};

use super::fields::{
    MAX_ID_CHARS, MAX_TEXT_CHARS, Received, RequestError, at_least_one, optional, required,
};
use super::resend::Idempotency;
use super::sign::SignedForm;
use crate::plate::Plate;

/// Path of the endpoint under P云's base URL.
pub const COUPON_GRANT_PATH: &str = "/gate/1.0/parking/mcoupon/grant/create";

/// A request to grant coupons of one configured coupon product to a car.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponGrant {
    /// The car park's merchant number.
    pub merchant: String,
    /// The shop's code, created by the property manager.
    pub store_code: String,
    /// The coupon product, recharged by the property manager.
    pub coupon_code: String,
    /// How many coupons; at least 1, sent as text.
    pub quantity: u32,
    /// The car to receive the coupons.
    pub plate: Plate,
    /// The parking session at P云, when the caller knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_serial: Option<String>,
    /// Why the coupon is granted, shown in P云's records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl CouponGrant {
    /// P云 cannot tell a resent grant from a new one (digest §1.4).
    pub const IDEMPOTENCY: Idempotency = Idempotency::Unkeyed;

    /// Checks required fields, `quantity ≥ 1` and length limits; an empty optional is not sent.
    pub fn validate(&self) -> Result<(), RequestError> {
        required("merchant", &self.merchant, MAX_ID_CHARS)?;
        required("store_code", &self.store_code, MAX_ID_CHARS)?;
        required("coupon_code", &self.coupon_code, MAX_ID_CHARS)?;
        at_least_one("quantity", self.quantity)?;
        optional(
            "parking_serial",
            self.parking_serial.as_deref(),
            MAX_ID_CHARS,
        )?;
        optional("reason", self.reason.as_deref(), MAX_TEXT_CHARS)?;
        Ok(())
    }

    /// Validates and signs the form for `app_id`'s credential.
    pub fn to_signed_form(&self, app_id: &str, secret: &str) -> Result<SignedForm, RequestError> {
        required("app_id", app_id, MAX_ID_CHARS)?;
        self.validate()?;
        let quantity = self.quantity.to_string();
        Ok(SignedForm::new(
            [
                ("app_id", app_id),
                ("merchant", &self.merchant),
                ("store_code", &self.store_code),
                ("coupon_code", &self.coupon_code),
                ("quantity", &quantity),
                ("plate", self.plate.as_str()),
                (
                    "parking_serial",
                    self.parking_serial.as_deref().unwrap_or(""),
                ),
                ("reason", self.reason.as_deref().unwrap_or("")),
            ],
            secret,
        ))
    }

    /// Reads a received form (signature already verified) into `(app_id, grant)`, validated.
    pub fn from_form<K: AsRef<str>, V: AsRef<str>>(
        fields: &[(K, V)],
    ) -> Result<(String, CouponGrant), RequestError> {
        let form = Received::new(fields)?;
        let app_id = form.required("app_id")?.to_owned();
        let quantity = form.whole_number("quantity")?;
        let grant = CouponGrant {
            merchant: form.required("merchant")?.to_owned(),
            store_code: form.required("store_code")?.to_owned(),
            coupon_code: form.required("coupon_code")?.to_owned(),
            quantity,
            plate: form.plate()?,
            parking_serial: form.optional("parking_serial").map(str::to_owned),
            reason: form.optional("reason").map(str::to_owned),
        };
        required("app_id", &app_id, MAX_ID_CHARS)?;
        grant.validate()?;
        Ok((app_id, grant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyun::{sign::verify_form, urlencoded};

    /// The published form vector (digest §1.2) expressed as a grant.
    fn vector_grant() -> CouponGrant {
        CouponGrant {
            merchant: "62626601".into(),
            store_code: "4911419421".into(),
            coupon_code: "7cb7cc3e4e27b8a".into(),
            quantity: 1,
            plate: Plate::parse("粤BA1471").unwrap(),
            parking_serial: None,
            reason: Some("测试派发".into()),
        }
    }

    #[test]
    fn published_vector_signs_through_the_grant_type() {
        let form = vector_grant()
            .to_signed_form("op74061a7d244f7b7", "e9ae5402dbabc68c1c4xxxx")
            .unwrap();
        assert_eq!(form.sign(), "756E3F88FBDB2B82E0A6C37C5EE060E5");
        assert_eq!(form.get("parking_serial"), None);
        assert_eq!(form.get("quantity"), Some("1"));
    }

    #[test]
    fn a_sent_grant_reads_back_identically() {
        let mut g = vector_grant();
        g.quantity = 3;
        g.parking_serial = Some("PS-77".into());
        let form = g.to_signed_form("op1", "s").unwrap();
        let received = urlencoded::decode(form.to_urlencoded().as_bytes()).unwrap();
        assert_eq!(verify_form(&received, "s"), Ok(()));
        assert_eq!(
            CouponGrant::from_form(&received).unwrap(),
            ("op1".into(), g)
        );
    }

    #[test]
    fn bad_grants_are_refused() {
        let mut g = vector_grant();
        g.quantity = 0;
        assert!(matches!(
            g.validate(),
            Err(RequestError::Invalid {
                field: "quantity",
                ..
            })
        ));
        let mut g = vector_grant();
        g.merchant.clear();
        assert_eq!(g.validate(), Err(RequestError::Missing("merchant")));
        let fields = [
            ("app_id", "op1"),
            ("merchant", "m"),
            ("store_code", "s"),
            ("coupon_code", "c"),
            ("quantity", "-1"),
            ("plate", "沪A68688"),
        ];
        assert!(matches!(
            CouponGrant::from_form(&fields),
            Err(RequestError::Invalid {
                field: "quantity",
                ..
            })
        ));
        let dup = [("app_id", "op1"), ("app_id", "op2")];
        assert_eq!(
            CouponGrant::from_form(&dup),
            Err(RequestError::DuplicateField("app_id".into()))
        );
    }
}
