//! Why a gate event is refused, and the one mapping of those reasons to HTTP answers.

use chrono::{DateTime, Utc};

use crate::error::ApiError;

/// Why a gate event is refused; each variant is a client's mistake except the last two.
#[derive(Debug, thiserror::Error)]
pub enum ParkingError {
    /// The exit is stamped before the entry of its session.
    #[error("exit at {exit} is before the entry at {entry}")]
    ExitBeforeEntry {
        /// The session's entry.
        entry: DateTime<Utc>,
        /// The exit time received.
        exit: DateTime<Utc>,
    },
    /// The barcode already names another car in this car park.
    #[error("barcode `{0}` is already used in this car park")]
    BarcodeTaken(String),
    /// The fee engine refused the car park's data (a stored tariff or VIP window is broken).
    #[error("fee: {0}")]
    Fee(#[from] protocol::quote::QuoteError),
    /// The database failed.
    #[error("storage failure")]
    Storage(#[from] sqlx::Error),
}

impl From<ParkingError> for ApiError {
    fn from(e: ParkingError) -> ApiError {
        match e {
            ParkingError::ExitBeforeEntry { .. } => {
                ApiError::unprocessable("exit_before_entry", e.to_string())
            }
            ParkingError::BarcodeTaken(_) => ApiError::conflict("barcode_taken", e.to_string()),
            // Our stored data is at fault, not the gate's request.
            ParkingError::Fee(q) => ApiError::Internal(q.to_string()),
            ParkingError::Storage(s) => ApiError::Storage(s),
        }
    }
}
