//! P云 (4pyun) outbound protocol: request signing, the requests ParkBridge sends, and reading P云's answers.
//!
//! Everything here is pure: the credential (`app_id`, `app_secret`) is a parameter of each call,
//! and the HTTP client lives in the server. The P云 sandbox uses the same types the other way
//! round: `urlencoded::decode` → `verify_form` → `CouponEvent::from_form`, or `verify_json` →
//! `VipRechargeBatch::from_json`. Whether a call may be resent after an attempt depends on whether
//! P云 deduplicates it (`resend`): `mcoupon/token` and `grant/create` are never resent once they
//! may have arrived.

pub mod coupon_event;
pub mod coupon_grant;
pub mod coupon_token;
pub mod fields;
pub(crate) mod lenient;
pub mod outcome;
pub mod resend;
pub mod sign;
pub mod urlencoded;
pub mod vip_recharge;
pub mod vip_row;

pub use coupon_event::{COUPON_EVENT_PATH, CouponEvent, EventMetadata};
pub use coupon_grant::{COUPON_GRANT_PATH, CouponGrant};
pub use coupon_token::{
    COUPON_TOKEN_PATH, CouponToken, MAX_EXPIRE_IN_SECS, MIN_EXPIRE_IN_SECS, TokenPayload,
};
pub use fields::RequestError;
pub use outcome::{Outcome, OutcomeClass, PyunResponse, decode_response};
pub use resend::{Idempotency, NextStep, NoAnswer};
pub use sign::{SignError, SignedForm, sign_form, sign_json, verify_form, verify_json};
pub use urlencoded::FormError;
pub use vip_recharge::{DEFAULT_BATCH_SIZE, VIP_RECHARGE_PATH, VipRechargeBatch, batches};
pub use vip_row::{ParkingVip, PayType, VipType};
