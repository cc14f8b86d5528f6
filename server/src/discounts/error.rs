//! Why a discount is refused, and the one mapping of those reasons to HTTP answers.

use protocol::ledger::{DiscountError, LedgerError};

use crate::error::ApiError;

/// Why a discount cannot be granted or removed; all but the last two are the caller's mistake.
#[derive(Debug, thiserror::Error)]
pub enum DiscountsError {
    /// P云's type 4, or a kind we do not know.
    #[error("{0}")]
    Unsupported(String),
    /// A value outside the kind's range (or missing).
    #[error("{0}")]
    InvalidValue(String),
    /// The `discount_id` already names a discount with another payload.
    #[error("discount_id `{0}` already names another discount in this car park")]
    IdReused(String),
    /// No open stay for the car (only a `free_window` may be granted to a plate without one).
    #[error("no car with this plate or barcode is parked in this car park")]
    NoOpenSession,
    /// A `free_window` belongs to a plate: a plate-less car cannot have one.
    #[error("a `free_window` discount needs a `plate`")]
    PlateRequired,
    /// No discount under this key in this car park.
    #[error("no discount `{0}` in this car park")]
    Unknown(String),
    /// A payment counted it or the car left: it stays.
    #[error(
        "discount `{0}` was counted by a payment or the car has left: it can no longer be removed"
    )]
    Used(String),
    /// The stay is not open: nothing can be added to it.
    #[error("the stay is closed: the car has left")]
    SessionClosed,
    /// The stay's figure cannot be computed (our stored tariff or VIP data is broken).
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    /// The database failed.
    #[error("storage failure")]
    Storage(#[from] sqlx::Error),
}

impl From<DiscountError> for DiscountsError {
    fn from(e: DiscountError) -> DiscountsError {
        match e {
            DiscountError::Unsupported(_) => DiscountsError::Unsupported(e.to_string()),
            DiscountError::Value { .. } => DiscountsError::InvalidValue(e.to_string()),
        }
    }
}

impl From<DiscountsError> for ApiError {
    fn from(e: DiscountsError) -> ApiError {
        let message = e.to_string();
        match e {
            DiscountsError::Unsupported(_) => {
                ApiError::bad_request("unsupported_discount", message)
            }
            DiscountsError::InvalidValue(_) => {
                ApiError::unprocessable("invalid_discount_value", message)
            }
            DiscountsError::IdReused(_) => ApiError::conflict("discount_id_reused", message),
            DiscountsError::NoOpenSession => ApiError::conflict("no_open_session", message),
            DiscountsError::PlateRequired => ApiError::unprocessable("plate_required", message),
            DiscountsError::Unknown(_) => ApiError::NotFound,
            DiscountsError::Used(_) => ApiError::conflict("discount_used", message),
            DiscountsError::SessionClosed => ApiError::conflict("session_closed", message),
            // Our stored data is at fault, not the request.
            DiscountsError::Ledger(l) => ApiError::Internal(l.to_string()),
            DiscountsError::Storage(s) => ApiError::Storage(s),
        }
    }
}
