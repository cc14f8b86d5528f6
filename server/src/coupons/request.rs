//! What an accepted coupon request stores (the outbox row's `request_json`) and how it becomes
//! P云's signed form at send time, with the car park's current codes and credential.
//!
//! The request is fixed when accepted (api_type, coupon product fields); the car park's
//! `api_store_code`, `merchant` and secret are read when it is sent, so a fixed configuration
//! error lets waiting rows go out.

use std::collections::BTreeMap;

use protocol::plate::Plate;
use protocol::pyun::{
    COUPON_EVENT_PATH, COUPON_GRANT_PATH, CouponEvent, CouponGrant, EventMetadata, RequestError,
    SignedForm,
};
use serde::{Deserialize, Serialize};

use crate::outbox::Kind;
use crate::outbox::park_signers::ParkSigner;
use crate::pyun_client::Endpoint;

/// An event coupon as accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRequest {
    /// P云's api_type configured for the car park when the request was accepted.
    pub api_type: String,
    /// The caller's idempotency key, sent to P云 as is.
    pub event_id: String,
    /// The car.
    pub plate: Plate,
    /// The event's description.
    pub subject: String,
    /// Values for a configurable coupon rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, EventMetadata>>,
}

impl EventRequest {
    /// The protocol message for a car park whose `api_store_code` is `store`.
    pub fn to_event(&self, store: &str) -> CouponEvent {
        CouponEvent {
            api_store_code: store.to_owned(),
            api_type: self.api_type.clone(),
            event_id: self.event_id.clone(),
            plate: self.plate.clone(),
            subject: self.subject.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

/// A grant by coupon code as accepted: the product's fields at that moment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrantRequest {
    /// The coupon product.
    pub product_id: i64,
    /// Its name then.
    pub product_name: String,
    /// P云 `coupon_code`.
    pub coupon_code: String,
    /// P云 `store_code`.
    pub store_code: String,
    /// How many coupons.
    pub quantity: u32,
    /// The car.
    pub plate: Plate,
    /// P云's parking serial, when the caller knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_serial: Option<String>,
    /// Why, shown in P云's records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl GrantRequest {
    /// The protocol message for a car park whose `merchant` is `merchant`.
    pub fn to_grant(&self, merchant: &str) -> CouponGrant {
        CouponGrant {
            merchant: merchant.to_owned(),
            store_code: self.store_code.clone(),
            coupon_code: self.coupon_code.clone(),
            quantity: self.quantity,
            plate: self.plate.clone(),
            parking_serial: self.parking_serial.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// A request ready to post.
#[derive(Debug)]
pub struct Signed {
    /// For logs and metrics.
    pub endpoint: Endpoint,
    /// P云's path.
    pub path: &'static str,
    /// The signed form.
    pub form: SignedForm,
}

/// Signs a stored request of `kind` for `signer`'s car park; `Err` names what to fix.
pub fn sign(kind: Kind, request_json: &str, signer: &ParkSigner) -> Result<Signed, String> {
    let code = &signer.park_code;
    let invalid = |e: RequestError| format!("the request cannot be sent: {e}");
    match kind {
        Kind::CouponEvent => {
            let request: EventRequest = serde_json::from_str(request_json)
                .map_err(|e| format!("stored request unreadable: {e}"))?;
            let store = signer
                .api_store_code
                .as_deref()
                .ok_or_else(|| format!("car park {code} has no P云 api_store_code"))?;
            let form = request
                .to_event(store)
                .to_signed_form(&signer.app_id, signer.secret.expose())
                .map_err(invalid)?;
            Ok(Signed {
                endpoint: Endpoint::CouponEvent,
                path: COUPON_EVENT_PATH,
                form,
            })
        }
        Kind::VipBatch => Err("a VIP batch is signed by vip::sync::batch_rows".to_owned()),
        Kind::EnterNotice => Err("an entry notice is signed by mallcoo_out".to_owned()),
        Kind::PyunEnter | Kind::PyunLeave => {
            Err("an upload is signed by pyun_upload with the car-park credential".to_owned())
        }
        Kind::CouponGrant => {
            let request: GrantRequest = serde_json::from_str(request_json)
                .map_err(|e| format!("stored request unreadable: {e}"))?;
            let merchant = signer
                .merchant
                .as_deref()
                .ok_or_else(|| format!("car park {code} has no P云 merchant number"))?;
            let form = request
                .to_grant(merchant)
                .to_signed_form(&signer.app_id, signer.secret.expose())
                .map_err(invalid)?;
            Ok(Signed {
                endpoint: Endpoint::CouponGrant,
                path: COUPON_GRANT_PATH,
                form,
            })
        }
    }
}
