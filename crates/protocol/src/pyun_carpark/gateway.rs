//! What the car-park gateway does with a call before any handler runs (pyun-carpark.md §1.5 steps 2–6), as pure functions.
//!
//! Two steps, because the key lookup between them is the caller's I/O:
//! [`Inbound::parse`] reads the body (not an object → `1400`, unsigned); the caller looks up the
//! key for [`Inbound::park_uuid`]; [`Inbound::open`] checks the required members (`1400`), the
//! park (`1401`, unsigned), the signature (`1401`), the service (`1503`) and the business fields
//! (`1400`, or `1403` for a coupon type we do not apply). Every refusal comes with its reply body,
//! signed whenever the key is known.

use super::billing::BillingRequest;
use super::codes::{ResultCode, Service, message};
use super::discount::{DiscountGrant, DiscountRevocation, GrantError};
use super::down_sign::{self, Convention, DownSignError, SIGN_MEMBER};
use super::members::{BodyError, Members};
use super::payment_result::PaymentNotice;
use super::reply::{CHARSET, Reply, VERSION};
use crate::ledger::DiscountError;
use crate::pyun::RequestError;

/// Why a call is refused before a handler sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Not a flat JSON object: `1400`.
    #[error(transparent)]
    Body(#[from] BodyError),
    /// `service`, `sign` or `park_uuid` missing or blank: `1400`.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// No key for this park: `1401`, unsigned.
    #[error("unknown park `{0}`")]
    UnknownPark(String),
    /// The signature does not verify: `1401`; log the plaintext and the sign received.
    #[error(transparent)]
    Signature(#[from] DownSignError),
    /// A service we do not implement: `1503`.
    #[error("service `{0}` is not implemented")]
    UnknownService(String),
    /// A business field is missing or malformed: `1400`.
    #[error(transparent)]
    Field(#[from] RequestError),
    /// A coupon type or value we do not apply: `1403`.
    #[error(transparent)]
    Discount(#[from] DiscountError),
}

impl GatewayError {
    /// The `result_code` P云 gets.
    pub fn result_code(&self) -> ResultCode {
        match self {
            GatewayError::Body(_)
            | GatewayError::Missing(_)
            | GatewayError::Field(_)
            | GatewayError::Signature(DownSignError::MissingSign) => ResultCode::BadRequest,
            GatewayError::UnknownPark(_) | GatewayError::Signature(_) => ResultCode::Unauthorized,
            GatewayError::UnknownService(_) => ResultCode::NotImplemented,
            GatewayError::Discount(_) => ResultCode::Refused,
        }
    }

    /// The reply's `message` and `hint` (§1.5; the hint of a signature mismatch is our plaintext without the key).
    fn message_and_hint(&self) -> (&'static str, Option<String>) {
        match self {
            GatewayError::Body(e) => (message::BAD_REQUEST, Some(e.to_string())),
            GatewayError::Missing(f) => (message::BAD_REQUEST, Some(format!("请求参数`{f}`缺失!"))),
            GatewayError::UnknownPark(p) => (message::UNKNOWN_PARK, Some(p.clone())),
            GatewayError::Signature(DownSignError::Mismatch { plaintext, .. }) => {
                (message::BAD_SIGNATURE, Some(plaintext.clone()))
            }
            GatewayError::Signature(DownSignError::MissingSign) => (
                message::BAD_REQUEST,
                Some(format!("请求参数`{SIGN_MEMBER}`缺失!")),
            ),
            GatewayError::UnknownService(s) => (message::NOT_IMPLEMENTED, Some(s.clone())),
            GatewayError::Field(e) => (message::BAD_REQUEST, Some(e.to_string())),
            GatewayError::Discount(e) => (message::DISCOUNT_UNSUPPORTED, Some(e.to_string())),
        }
    }
}

impl From<GrantError> for GatewayError {
    fn from(e: GrantError) -> GatewayError {
        match e {
            GrantError::Field(e) => GatewayError::Field(e),
            GrantError::Refused(e) => GatewayError::Discount(e),
        }
    }
}

/// A refused call: why, and the body to answer with (HTTP 200, always).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Why it was refused.
    pub error: GatewayError,
    /// The reply, before rendering.
    pub reply: Reply,
    /// The rendered reply: signed when the park's key was known.
    pub body: String,
}

impl Rejected {
    fn new(service: &str, error: GatewayError, key: Option<&str>) -> Rejected {
        let (msg, hint) = error.message_and_hint();
        let mut reply = Reply::new(service, error.result_code(), msg);
        if let Some(hint) = hint {
            reply = reply.with_hint(hint);
        }
        let body = reply.to_json(key);
        Rejected { error, reply, body }
    }

    /// The code answered.
    pub fn result_code(&self) -> ResultCode {
        self.error.result_code()
    }
}

/// The common members of an accepted call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The service called.
    pub service: Service,
    /// The park, whose key verified the call.
    pub park_uuid: String,
    /// `version` as sent (not checked: §1.5 step 9).
    pub version: Option<String>,
    /// `charset` as sent (not checked).
    pub charset: Option<String>,
    /// The empty-value convention the signature matched (D1).
    pub convention: Convention,
}

impl Envelope {
    /// Whether `version` and `charset` are the documented `1.0` / `UTF-8`; otherwise log them.
    pub fn is_standard(&self) -> bool {
        self.version.as_deref().is_none_or(|v| v == VERSION)
            && self
                .charset
                .as_deref()
                .is_none_or(|c| c.eq_ignore_ascii_case(CHARSET))
    }
}

/// An accepted call's business fields, decoded and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownlinkRequest {
    /// `payment.billing`.
    Billing(BillingRequest),
    /// `payment.result`.
    PaymentResult(PaymentNotice),
    /// `discount.create`.
    DiscountCreate(DiscountGrant),
    /// `discount.destroy`.
    DiscountDestroy(DiscountRevocation),
    /// `realtime` (no business fields).
    Realtime,
}

/// A verified call, ready for its handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Common members.
    pub envelope: Envelope,
    /// Business fields.
    pub request: DownlinkRequest,
    /// Every member as received, for the audit log (P云 may add fields we do not read).
    pub members: Members,
}

/// A received call whose body is a JSON object, before the key is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    members: Members,
}

impl Inbound {
    /// Reads the raw body (§1.5 step 2); the refusal is unsigned, as no park could be read.
    pub fn parse(body: &[u8]) -> Result<Inbound, Box<Rejected>> {
        match Members::parse(body) {
            Ok(members) => Ok(Inbound { members }),
            Err(e) => Err(Box::new(Rejected::new("", e.into(), None))),
        }
    }

    /// The park whose key the caller must look up; `None` when absent (then `open(None)`).
    pub fn park_uuid(&self) -> Option<&str> {
        self.members
            .text("park_uuid")
            .filter(|p| !p.trim().is_empty())
    }

    /// The service named, as sent.
    pub fn service(&self) -> Option<&str> {
        self.members.text("service")
    }

    /// Every member as received.
    pub fn members(&self) -> &Members {
        &self.members
    }

    /// Checks the call with the park's key (`None`: no key for this park) and decodes it (§1.5 steps 3–6).
    pub fn open(self, key: Option<&str>) -> Result<Accepted, Box<Rejected>> {
        let service = self.service().unwrap_or_default().to_owned();
        let refuse =
            |error: GatewayError, key: Option<&str>| Box::new(Rejected::new(&service, error, key));
        let present = |name| {
            self.members
                .text(name)
                .is_some_and(|v| !v.trim().is_empty())
        };
        for name in ["service", SIGN_MEMBER, "park_uuid"] {
            if !present(name) {
                return Err(refuse(GatewayError::Missing(name), key));
            }
        }
        let park_uuid = self.park_uuid().unwrap_or_default().to_owned();
        let Some(key) = key else {
            return Err(refuse(GatewayError::UnknownPark(park_uuid), None));
        };
        let convention =
            down_sign::verify(&self.members, key).map_err(|e| refuse(e.into(), Some(key)))?;
        let Some(svc) = Service::from_name(&service) else {
            return Err(refuse(
                GatewayError::UnknownService(service.clone()),
                Some(key),
            ));
        };
        let m = &self.members;
        let request = match svc {
            Service::PaymentBilling => {
                BillingRequest::from_members(m).map(DownlinkRequest::Billing)
            }
            Service::PaymentResult => {
                PaymentNotice::from_members(m).map(DownlinkRequest::PaymentResult)
            }
            Service::DiscountCreate => match DiscountGrant::from_members(m) {
                Ok(g) => Ok(DownlinkRequest::DiscountCreate(g)),
                Err(e) => return Err(refuse(e.into(), Some(key))),
            },
            Service::DiscountDestroy => {
                DiscountRevocation::from_members(m).map(DownlinkRequest::DiscountDestroy)
            }
            Service::Realtime => Ok(DownlinkRequest::Realtime),
        }
        .map_err(|e| refuse(e.into(), Some(key)))?;
        let envelope = Envelope {
            service: svc,
            park_uuid,
            version: m.text("version").map(str::to_owned),
            charset: m.text("charset").map(str::to_owned),
            convention,
        };
        Ok(Accepted {
            envelope,
            request,
            members: self.members,
        })
    }
}

/// Both steps, for a caller that already holds the key (tests, the sandbox).
pub fn receive(body: &[u8], key: Option<&str>) -> Result<Accepted, Box<Rejected>> {
    Inbound::parse(body)?.open(key)
}

#[cfg(test)]
mod tests;
