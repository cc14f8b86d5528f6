//! Why a VIP write is refused, and the one mapping of those reasons to HTTP answers.

use crate::error::ApiError;

/// Why a VIP write is refused; each variant is a client's mistake except `Storage`.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// The plate already has a record in this car park.
    #[error("plate {0} already has a VIP record in this car park")]
    VipExists(String),
    /// The order number is already used in this car park.
    #[error("pay_partner `{0}` is already used in this car park")]
    PayPartnerTaken(String),
    /// No such record.
    #[error("no such VIP record")]
    NotFound,
    /// The card type has no computable period and none was given.
    #[error("a {0} card needs an explicit start and end")]
    PeriodRequired(&'static str),
    /// A field is unacceptable.
    #[error("`{field}`: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The database failed.
    #[error("storage failure")]
    Storage(#[from] sqlx::Error),
}

impl RecordsError {
    pub(super) fn invalid(field: &'static str, message: impl Into<String>) -> RecordsError {
        RecordsError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<RecordsError> for ApiError {
    fn from(e: RecordsError) -> ApiError {
        match e {
            RecordsError::VipExists(_) => ApiError::conflict("vip_exists", e.to_string()),
            RecordsError::PayPartnerTaken(_) => {
                ApiError::conflict("pay_partner_taken", e.to_string())
            }
            RecordsError::NotFound => ApiError::NotFound,
            RecordsError::PeriodRequired(_) => {
                ApiError::unprocessable("period_required", e.to_string())
            }
            RecordsError::Invalid { .. } => ApiError::unprocessable("invalid_field", e.to_string()),
            RecordsError::Storage(s) => ApiError::Storage(s),
        }
    }
}
