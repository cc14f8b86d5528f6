//! Why a shop change or a validation is refused, and the one mapping of those reasons to HTTP.

use serde_json::json;

use axum::http::StatusCode;

use super::qr_token::TokenFailure;
use crate::discounts::DiscountsError;
use crate::error::ApiError;

/// A refusal of the shops' API; P云's answers and storage aside, the caller's mistake.
#[derive(Debug, thiserror::Error)]
pub enum ShopsError {
    /// Another shop of the car park has this name.
    #[error("the car park already has a shop named `{0}`")]
    ShopNameTaken(String),
    /// Another offer of the shop has this name.
    #[error("the shop already has an offer named `{0}`")]
    OfferNameTaken(String),
    /// Not exactly one of `product_id` and `discount`.
    #[error("an offer gives exactly one of `product_id` and `discount`")]
    OfferShape,
    /// The product is not a live coupon product of the shop's car park.
    #[error("no such live coupon product at this shop's car park")]
    UnknownProduct,
    /// The offer does not exist or belongs to another shop.
    #[error("no such offer at this shop")]
    UnknownOffer,
    /// The offer or its shop is switched off.
    #[error("this offer is not active")]
    OfferInactive,
    /// A quota ran out for the period.
    #[error("the {period} quota of this offer ({quota}) is used up")]
    QuotaExhausted {
        /// `daily` or `monthly`.
        period: &'static str,
        /// The quota.
        quota: i64,
    },
    /// A local discount needs the car parked in the car park.
    #[error("no car with this plate is parked in this car park")]
    NotParked,
    /// The `validation_id` was used for another validation.
    #[error("validation_id `{0}` already names another validation of this shop")]
    ValidationIdReused(String),
    /// A request field is malformed.
    #[error("{message}")]
    Invalid {
        /// `invalid_plate`, `invalid_field`, ….
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The discount or its stay refused (kind, value), from the ledger's own checks.
    #[error(transparent)]
    Discounts(#[from] DiscountsError),
    /// The coupon request could not be built (car park not configured for P云, …).
    #[error("{0}")]
    Coupon(ApiError),
    /// A QR code needs an offer of a P云 coupon product.
    #[error("a QR code grants a P云 coupon product; this offer is a local discount")]
    NotPyunOffer,
    /// The car park cannot sign P云 calls (no P云 credential, …).
    #[error("the car park is not configured for P云: {0}")]
    PyunNotConfigured(String),
    /// P云 gave no QR token.
    #[error(transparent)]
    Token(#[from] super::qr_token::TokenFailure),
    /// The database failed.
    #[error("storage failure")]
    Storage(#[from] sqlx::Error),
}

impl From<ShopsError> for ApiError {
    fn from(e: ShopsError) -> ApiError {
        let message = e.to_string();
        match e {
            ShopsError::ShopNameTaken(_) => ApiError::conflict("shop_name_taken", message),
            ShopsError::OfferNameTaken(_) => ApiError::conflict("offer_name_taken", message),
            ShopsError::OfferShape => ApiError::unprocessable("offer_shape", message),
            ShopsError::UnknownProduct => ApiError::unprocessable("unknown_product", message),
            ShopsError::UnknownOffer => ApiError::unprocessable("unknown_offer", message),
            ShopsError::OfferInactive => ApiError::unprocessable("offer_inactive", message),
            ShopsError::QuotaExhausted { period, quota } => ApiError::ConflictDetailed {
                code: "quota_exhausted",
                message,
                details: json!({ "quota": period, "limit": quota }),
            },
            ShopsError::NotParked => ApiError::conflict("not_parked", message),
            ShopsError::ValidationIdReused(_) => {
                ApiError::conflict("validation_id_reused", message)
            }
            ShopsError::Invalid { code, message } => ApiError::bad_request(code, message),
            ShopsError::Discounts(d) => match d {
                DiscountsError::Unsupported(m) => {
                    ApiError::unprocessable("unsupported_discount", m)
                }
                other => other.into(),
            },
            ShopsError::Coupon(a) => a,
            ShopsError::NotPyunOffer => ApiError::unprocessable("offer_not_pyun", message),
            ShopsError::PyunNotConfigured(_) => ApiError::conflict("pyun_not_configured", message),
            ShopsError::Token(t) => {
                let (status, code) = match t {
                    TokenFailure::Refused(_) => (StatusCode::BAD_GATEWAY, "pyun_refused"),
                    TokenFailure::Unreachable(_) => {
                        (StatusCode::SERVICE_UNAVAILABLE, "pyun_unreachable")
                    }
                    TokenFailure::NoAnswer => (StatusCode::GATEWAY_TIMEOUT, "pyun_timeout"),
                    TokenFailure::Failed(_) => (StatusCode::BAD_GATEWAY, "pyun_failed"),
                };
                ApiError::Upstream {
                    status,
                    code,
                    message,
                }
            }
            ShopsError::Storage(s) => s.into(),
        }
    }
}
