//! P云 with ParkBridge as the car park (pyun-carpark.md): the gateway P云 calls (S-DOWN, `&key=`) and the entry/leave uploads we send (S-FORM multipart, `&app_secret=`).
//!
//! Pure like the rest of the crate: keys, secrets, times and multipart boundaries are
//! parameters; the server does the HTTP and the database. The downlink flow is
//! [`gateway::Inbound::parse`] → key lookup by `park_uuid` → [`gateway::Inbound::open`] → a
//! handler → a typed reply's `reply().to_json(Some(key))`.
//!
//! This is a separate module from [`crate::pyun`], which is P云's third-party API (ParkBridge
//! calling P云 about coupons and VIPs): the two roles sign differently and share only the form
//! signer, reused by the uploads.

pub mod billing;
pub mod codes;
pub mod discount;
pub mod down_sign;
pub mod gateway;
pub mod members;
pub mod multipart;
pub mod payment_result;
pub mod realtime;
pub mod reply;
pub mod upload;
pub mod upload_outcome;

pub use billing::{BillingOrder, BillingReply, BillingRequest, BillingTarget};
pub use codes::{ResultCode, Service};
pub use discount::{
    DiscountCreateReply, DiscountDestroyReply, DiscountGrant, DiscountRevocation, GrantError,
};
pub use down_sign::{Convention, DownSignError};
pub use gateway::{Accepted, DownlinkRequest, Envelope, GatewayError, Inbound, Rejected, receive};
pub use members::{BodyError, Members};
pub use payment_result::{AutopayType, PayOrigin, PaymentNotice, PaymentResultReply};
pub use realtime::RealtimeReply;
pub use reply::{Reply, ReplyHead};
pub use upload::{
    CarType, ENTER_PATH, Entry, LEAVE_PATH, Leave, LeavePayType, LeavePayment, UploadForm,
    image_hash,
};
pub use upload_outcome::UploadOutcome;
