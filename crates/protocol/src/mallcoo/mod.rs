//! Mallcoo (猫酷) "车场缴费接口标准 V1.4" (§2): its calls to us, our answers, our entry notice.
//!
//! [`mod@sign`] holds the header signature that authenticates both directions.
//!
//! Field names on the wire are exactly the seed's (`parkId`, `unPayAmount`,
//! `deductionDetails[].Type`, ...). Inside, money is `i64` fen and time is `DateTime<Utc>`; [`amount`] and
//! [`crate::time::mallcoo_datetime`] convert at the edge. Decoding follows two rules: a request
//! is read leniently where its meaning stays unambiguous (blank means absent, unknown keys are
//! ignored, unlisted codes are kept) and strictly where guessing would move money (fractional or
//! negative fen are refused). Each request's `validate()` then checks what serde cannot.

pub mod amount;
pub mod codes;
pub mod enter_notify;
mod error;
pub mod pay_fee;
pub mod payment_info;
mod reply;
pub mod sign;
mod text;
pub mod traffic;
mod vehicle;

pub use codes::{DeductionType, PayChannel, PayType};
pub use enter_notify::{EnterInfoNotify, EnterNotifyAnswer, EnterNotifyOutcome, SignedNotice};
pub use error::MallcooError;
pub use pay_fee::{DeductionDetail, MemberInfo, PayFeeRequest, PayFeeResponse};
pub use payment_info::{PaymentInfoRequest, PaymentInfoResponse, PaymentQuote};
pub use reply::{NO_PARKING_RECORD, Reply, ResCode};
pub use sign::{
    AuthError, DEFAULT_MAX_SKEW, MallcooKeys, ReceivedHeaders, SignedHeaders, sign, sign_headers,
    verify,
};
pub use traffic::{TrafficCounts, TrafficRequest, TrafficResponse};
pub use vehicle::VehicleKey;
