//! The event coupon request, `mcoupon/event` (digest §1.3): building its signed form and reading it back.
//!
//! `event_id` is P云's idempotency key, so the same event may be resent after any transient
//! failure. `metadata` travels as one field holding compact JSON, signed verbatim.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fields::{MAX_ID_CHARS, MAX_TEXT_CHARS, Received, RequestError, required};
use super::resend::Idempotency;
use super::sign::SignedForm;
use crate::plate::Plate;

/// Path of the endpoint under P云's base URL.
pub const COUPON_EVENT_PATH: &str = "/gate/1.0/parking/mcoupon/event";

/// Most metadata entries accepted; P云 assigns a handful of business keys per service.
pub const MAX_METADATA_ENTRIES: usize = 16;

/// One metadata value; together with its key at P云 it selects the coupon scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// Describes the value for people; P云 does not interpret it.
    pub name: String,
    /// The business variable (e.g. minutes charged) that P云's rule reads.
    pub value: i32,
}

/// An event that earns a parking coupon, e.g. an EV charging session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponEvent {
    /// The car park's id at P云.
    pub api_store_code: String,
    /// The third-party service type P云 assigned.
    pub api_type: String,
    /// Unique per third party; P云 answers `1403` when it sees it again.
    pub event_id: String,
    /// The car to receive the coupon.
    pub plate: Plate,
    /// Human description of the event.
    pub subject: String,
    /// Variables for a configurable coupon rule; `None` or empty when the rule is fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, EventMetadata>>,
}

impl CouponEvent {
    /// `event_id` lets P云 recognise a resend (`1403`), so resending is harmless (digest §1.3).
    pub const IDEMPOTENCY: Idempotency = Idempotency::Keyed;

    /// Checks required fields and length limits.
    pub fn validate(&self) -> Result<(), RequestError> {
        required("api_store_code", &self.api_store_code, MAX_ID_CHARS)?;
        required("api_type", &self.api_type, MAX_ID_CHARS)?;
        required("event_id", &self.event_id, MAX_ID_CHARS)?;
        required("subject", &self.subject, MAX_TEXT_CHARS)?;
        if let Some(meta) = &self.metadata {
            if meta.len() > MAX_METADATA_ENTRIES {
                return Err(RequestError::Invalid {
                    field: "metadata",
                    reason: format!(
                        "{} entries, at most {MAX_METADATA_ENTRIES} allowed",
                        meta.len()
                    ),
                });
            }
            for (key, entry) in meta {
                required("metadata key", key, MAX_ID_CHARS)?;
                required("metadata name", &entry.name, MAX_ID_CHARS)?;
            }
        }
        Ok(())
    }

    /// Validates and signs the form for `app_id`'s credential.
    pub fn to_signed_form(&self, app_id: &str, secret: &str) -> Result<SignedForm, RequestError> {
        required("app_id", app_id, MAX_ID_CHARS)?;
        self.validate()?;
        let metadata = match &self.metadata {
            Some(m) if !m.is_empty() => metadata_json(m)?,
            _ => String::new(),
        };
        Ok(SignedForm::new(
            [
                ("app_id", app_id),
                ("api_store_code", &self.api_store_code),
                ("api_type", &self.api_type),
                ("event_id", &self.event_id),
                ("plate", self.plate.as_str()),
                ("subject", &self.subject),
                ("metadata", &metadata),
            ],
            secret,
        ))
    }

    /// Reads a received form (signature already verified) into `(app_id, event)`, validated.
    pub fn from_form<K: AsRef<str>, V: AsRef<str>>(
        fields: &[(K, V)],
    ) -> Result<(String, CouponEvent), RequestError> {
        let form = Received::new(fields)?;
        let app_id = form.required("app_id")?.to_owned();
        let metadata = form
            .optional("metadata")
            .map(|text| {
                serde_json::from_str::<BTreeMap<String, EventMetadata>>(text).map_err(|e| {
                    RequestError::Invalid {
                        field: "metadata",
                        reason: e.to_string(),
                    }
                })
            })
            .transpose()?;
        let event = CouponEvent {
            api_store_code: form.required("api_store_code")?.to_owned(),
            api_type: form.required("api_type")?.to_owned(),
            event_id: form.required("event_id")?.to_owned(),
            plate: form.plate()?,
            subject: form.required("subject")?.to_owned(),
            metadata,
        };
        required("app_id", &app_id, MAX_ID_CHARS)?;
        event.validate()?;
        Ok((app_id, event))
    }
}

/// Compact JSON, keys in sorted order (a `BTreeMap`), so the same metadata always signs the same.
fn metadata_json(meta: &BTreeMap<String, EventMetadata>) -> Result<String, RequestError> {
    serde_json::to_string(meta).map_err(|e| RequestError::Invalid {
        field: "metadata",
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyun::{sign::verify_form, urlencoded};

    fn event() -> CouponEvent {
        CouponEvent {
            api_store_code: "P-1001".into(),
            api_type: "CHARGING".into(),
            event_id: "EV-20200908-0001".into(),
            plate: Plate::parse("粤BD07627").unwrap(),
            subject: "【粤BD07627】于【2020-09-08 17:15:58 - 2020-09-08 17:45:26】充电 1119.62 KWH 时长 29 分钟"
                .into(),
            metadata: None,
        }
    }

    #[test]
    fn fixed_rule_event_sends_no_metadata() {
        let form = event().to_signed_form("op1", "s3cret").unwrap();
        let names: Vec<&str> = form.fields().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "api_store_code",
                "api_type",
                "app_id",
                "event_id",
                "plate",
                "subject",
                "sign"
            ]
        );
        assert_eq!(verify_form(form.fields(), "s3cret"), Ok(()));
        let mut e = event();
        e.metadata = Some(BTreeMap::new());
        assert_eq!(e.to_signed_form("op1", "s3cret").unwrap(), form);
    }

    #[test]
    fn metadata_is_one_compact_json_field_signed_verbatim() {
        let mut e = event();
        e.metadata = Some(BTreeMap::from([(
            "charge_minutes".to_owned(),
            EventMetadata {
                name: "充电时长".into(),
                value: 29,
            },
        )]));
        let form = e.to_signed_form("op1", "s3cret").unwrap();
        assert_eq!(
            form.get("metadata"),
            Some(r#"{"charge_minutes":{"name":"充电时长","value":29}}"#)
        );
        let received = urlencoded::decode(form.to_urlencoded().as_bytes()).unwrap();
        assert_eq!(verify_form(&received, "s3cret"), Ok(()));
        assert_eq!(
            CouponEvent::from_form(&received).unwrap(),
            ("op1".into(), e)
        );
    }

    #[test]
    fn incomplete_events_are_refused() {
        let mut e = event();
        e.event_id = "  ".into();
        assert_eq!(e.validate(), Err(RequestError::Missing("event_id")));
        let mut e = event();
        e.subject = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(matches!(
            e.to_signed_form("op1", "s"),
            Err(RequestError::TooLong {
                field: "subject",
                ..
            })
        ));
        assert_eq!(
            event().to_signed_form("", "s"),
            Err(RequestError::Missing("app_id"))
        );
    }

    #[test]
    fn received_forms_are_checked() {
        let form = event().to_signed_form("op1", "s").unwrap();
        let without_plate: Vec<_> = form
            .fields()
            .iter()
            .filter(|(k, _)| k != "plate")
            .cloned()
            .collect();
        assert_eq!(
            CouponEvent::from_form(&without_plate),
            Err(RequestError::Missing("plate"))
        );
        let mut bad_meta = form.fields().to_vec();
        bad_meta.push(("metadata".into(), "{not json".into()));
        assert!(matches!(
            CouponEvent::from_form(&bad_meta),
            Err(RequestError::Invalid {
                field: "metadata",
                ..
            })
        ));
        let mut bad_plate = form.fields().to_vec();
        for (k, v) in &mut bad_plate {
            if k == "plate" {
                *v = "沪A1234".into();
            }
        }
        assert!(matches!(
            CouponEvent::from_form(&bad_plate),
            Err(RequestError::Plate(_))
        ));
    }
}
