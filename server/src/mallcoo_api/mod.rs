//! Mallcoo V1.4 inbound (PROTOCOLS.md §2.1–2.4): Mallcoo's fee queries, payment notices and
//! traffic queries, answered from our parking sessions.
//!
//! `auth` finds the car park and checks the signature on the raw body; `decode` turns the body
//! into the protocol crate's request types with a Chinese `resMsg` naming the faulty field;
//! `payment_info` (the hot path: reads only), `pay_fee` (idempotent by `orderNo`) and `traffic`
//! do the work; `fee_id` is the quote identifier that links a payment to its quote. The HTTP
//! handlers live in `http/mallcoo_v14.rs`.

pub mod auth;
pub mod decode;
pub mod fee_id;
pub mod pay_fee;
pub mod payment_info;
pub mod traffic;

/// Why a Mallcoo call is not answered with success.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The caller is not authenticated (missing, stale or wrong signature): HTTP 401.
    #[error("{0}")]
    Unauthenticated(String),
    /// A handled refusal: HTTP 200 with `resCode` 1 and this `resMsg` (Chinese, naming the field).
    #[error("{0}")]
    Refused(String),
    /// The database failed: HTTP 500, logged, details never sent.
    #[error("storage failure")]
    Storage(#[from] sqlx::Error),
    /// Our own stored data is unusable (e.g. a tariff that no longer validates): HTTP 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Refusal {
    /// A handled refusal with `message` as `resMsg`.
    pub fn refused(message: impl Into<String>) -> Refusal {
        Refusal::Refused(message.into())
    }
}
