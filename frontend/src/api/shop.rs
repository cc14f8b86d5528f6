//! A merchant's own shop (issue 17): `GET /api/v1/shop`, validating a plate, today's history and
//! QR codes (`server/src/http/shop_desk.rs`).
//!
//! Optional fields default, so a field added on the server never breaks the till.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, OfferDiscount, get, post};

/// The shop itself.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ShopInfo {
    /// Id.
    pub(crate) id: i64,
    /// Name, e.g. `一点点奶茶`.
    pub(crate) name: String,
}

/// One offer of the shop with its use today and this month.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct OfferUse {
    /// Id.
    pub(crate) id: i64,
    /// Name, e.g. `减1小时`.
    pub(crate) name: String,
    /// A P云 coupon product (granted through P云; may also be a QR code).
    #[serde(default)]
    pub(crate) product_id: Option<i64>,
    /// A local discount recorded on the stay.
    #[serde(default)]
    pub(crate) discount: Option<OfferDiscount>,
    /// Validations a Shanghai day allows.
    pub(crate) daily_quota: i64,
    /// Validations a month allows, when budgeted.
    #[serde(default)]
    pub(crate) monthly_quota: Option<i64>,
    /// Switched on.
    #[serde(default = "yes")]
    pub(crate) active: bool,
    /// Counted against today's quota.
    #[serde(default)]
    pub(crate) used_today: i64,
    /// Counted against this month.
    #[serde(default)]
    pub(crate) used_this_month: i64,
}

fn yes() -> bool {
    true
}

impl OfferUse {
    /// Whether it is a P云 coupon product (the only kind a QR code can carry).
    pub(crate) fn is_pyun(&self) -> bool {
        self.product_id.is_some()
    }
}

/// `GET /api/v1/shop`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ShopPage {
    /// The shop.
    pub(crate) shop: ShopInfo,
    /// Its car park's name.
    #[serde(default)]
    pub(crate) park_name: String,
    /// Today, Shanghai, `YYYY-MM-DD`.
    #[serde(default)]
    pub(crate) day: String,
    /// Its offers.
    #[serde(default)]
    pub(crate) offers: Vec<OfferUse>,
}

/// A validation as the shop sees it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Validation {
    /// Record id.
    pub(crate) id: i64,
    /// The till's idempotency key.
    pub(crate) validation_id: String,
    /// The offer given.
    pub(crate) offer_id: i64,
    /// Its name.
    #[serde(default)]
    pub(crate) offer_name: String,
    /// `plate` or `qr_token`.
    pub(crate) kind: String,
    /// The plate (plate validations).
    #[serde(default)]
    pub(crate) plate: Option<String>,
    /// `delivered`, `pending`, `refused` or `unknown`.
    pub(crate) state: String,
    /// P云's refusal.
    #[serde(default)]
    pub(crate) reason: Option<String>,
    /// When it was given.
    pub(crate) created_at: DateTime<Utc>,
}

/// What a stay owes after a local discount.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct OwedFigure {
    /// Fen still to pay.
    pub(crate) owed_fen: i64,
}

/// The car's stay in a validation's answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StayOwed {
    /// Its figure now.
    pub(crate) figure: OwedFigure,
}

/// `POST /api/v1/shop/validations`'s answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ValidationAnswer {
    /// The validation.
    pub(crate) validation: Validation,
    /// For a local discount: the stay after it.
    #[serde(default)]
    pub(crate) stay: Option<StayOwed>,
}

/// A minted QR code: P云's claim link and its life.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct MintedToken {
    /// P云's claim link, drawn as the QR code.
    pub(crate) url: String,
    /// When it stops working.
    pub(crate) expires_at: DateTime<Utc>,
    /// Dies at its first claim.
    #[serde(default)]
    pub(crate) single_use: bool,
}

/// `GET /api/v1/shop`.
pub(crate) async fn shop() -> Result<ShopPage, ApiError> {
    get("/api/v1/shop").await
}

/// `POST /api/v1/shop/validations`; the same `validation_id` again answers the same validation.
pub(crate) async fn validate_plate(
    offer_id: i64,
    plate: &str,
    validation_id: &str,
) -> Result<ValidationAnswer, ApiError> {
    post(
        "/api/v1/shop/validations",
        json!({ "offer_id": offer_id, "plate": plate, "validation_id": validation_id }),
    )
    .await
}

/// `GET /api/v1/shop/validations`: today's, newest first.
pub(crate) async fn validations_today() -> Result<Vec<Validation>, ApiError> {
    get("/api/v1/shop/validations").await
}

/// `POST /api/v1/shop/qr-tokens`; never repeated by itself (P云 cannot tell a resend).
pub(crate) async fn mint_qr(
    offer_id: i64,
    single_use: bool,
    expire_in: u32,
) -> Result<MintedToken, ApiError> {
    post(
        "/api/v1/shop/qr-tokens",
        json!({ "offer_id": offer_id, "single_use": single_use, "expire_in": expire_in }),
    )
    .await
}
