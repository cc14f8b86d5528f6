//! Why a well-formed Mallcoo request is still not acceptable (checked by each `validate()`).
//!
//! Messages are English and name the seed's field names, so the server can pass them through in
//! `resMsg` or translate them.

/// A Mallcoo request that decoded but breaks a rule of the interface.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MallcooError {
    /// A required field is absent, `null` or blank.
    #[error("{0} is missing or empty")]
    MissingField(&'static str),
    /// An amount below zero in a hand-built request (decoding already refuses them).
    #[error("{field} is {value} fen; amounts cannot be negative")]
    NegativeAmount {
        /// The seed's name of the field.
        field: &'static str,
        /// The offending value.
        value: i64,
    },
    /// Neither vehicle key was given (the seed requires one of the two: 二选一).
    #[error("neither plateNo nor barcode is given; exactly one is required")]
    NoVehicle,
    /// Both vehicle keys were given, so which car is meant is ambiguous.
    #[error("both plateNo and barcode are given; exactly one is allowed")]
    BothVehicles,
    /// `payType` 0 means the deductions covered everything, so no money can have been paid.
    #[error("payType 0 (zero-amount payment) carries amount {0} fen; it must be 0")]
    ZeroPaymentWithAmount(i64),
    /// A traffic window that contains no instant.
    #[error("startTime {start} is not before endTime {end}")]
    EmptyTimeWindow {
        /// `startTime` as received (Mallcoo wall-clock text).
        start: String,
        /// `endTime` as received (Mallcoo wall-clock text).
        end: String,
    },
}
