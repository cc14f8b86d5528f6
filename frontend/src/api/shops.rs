//! The shops part of the API as admins and property managers use it (issue 17): a car park's
//! shops, their offers, and a shop's monthly statement.
//!
//! Field names follow `server/src/shops/store.rs` and `server/src/http/shops.rs`; optional
//! fields default, so a field added on the server never breaks a page.

use protocol::ledger::DiscountKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, get, post, put};

/// A shop of a car park.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Shop {
    /// Id.
    pub(crate) id: i64,
    /// Its car park.
    pub(crate) park_id: i64,
    /// Name, unique in the car park.
    pub(crate) name: String,
    /// Its P云 store code, if it has its own.
    #[serde(default)]
    pub(crate) store_code: Option<String>,
    /// Whether it may validate.
    #[serde(default = "yes")]
    pub(crate) active: bool,
}

fn yes() -> bool {
    true
}

/// The local discount an offer gives, as the server sends it (PROTOCOLS.md §5.1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct OfferDiscount {
    /// `amount`, `minutes`, `free` or `percent`.
    pub(crate) kind: String,
    /// Fen, minutes or per mille (0 for `free`).
    #[serde(default)]
    pub(crate) value: i64,
}

impl OfferDiscount {
    /// The discount as the ledger's kind, if it reads as one.
    pub(crate) fn ledger_kind(&self) -> Option<DiscountKind> {
        DiscountKind::from_parts(&self.kind, Some(self.value)).ok()
    }
}

/// What a shop may give, with its quotas.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Offer {
    /// Id.
    pub(crate) id: i64,
    /// Its shop.
    pub(crate) shop_id: i64,
    /// Name, unique in the shop.
    pub(crate) name: String,
    /// A P云 coupon product of the car park, or none.
    #[serde(default)]
    pub(crate) product_id: Option<i64>,
    /// A local discount, or none.
    #[serde(default)]
    pub(crate) discount: Option<OfferDiscount>,
    /// Validations per Shanghai day.
    pub(crate) daily_quota: i64,
    /// Validations per Shanghai month, if limited.
    #[serde(default)]
    pub(crate) monthly_quota: Option<i64>,
    /// Whether it may be given.
    #[serde(default = "yes")]
    pub(crate) active: bool,
}

/// `GET /api/v1/parks/{id}/shops`, by name.
pub(crate) async fn shops(park_id: i64) -> Result<Vec<Shop>, ApiError> {
    get(&format!("/api/v1/parks/{park_id}/shops")).await
}

/// `POST /api/v1/parks/{id}/shops`; an empty store code is left out.
pub(crate) async fn create_shop(
    park_id: i64,
    name: &str,
    store_code: &str,
) -> Result<Shop, ApiError> {
    let mut body = json!({ "name": name });
    if !store_code.is_empty() {
        body["store_code"] = store_code.into();
    }
    post(&format!("/api/v1/parks/{park_id}/shops"), body).await
}

/// `PUT /api/v1/shops/{id}` with a partial change (`name`, `store_code`, `active`).
pub(crate) async fn update_shop(id: i64, change: Value) -> Result<Shop, ApiError> {
    put(&format!("/api/v1/shops/{id}"), change).await
}

/// `GET /api/v1/shops/{id}/offers`, in creation order.
pub(crate) async fn offers(shop_id: i64) -> Result<Vec<Offer>, ApiError> {
    get(&format!("/api/v1/shops/{shop_id}/offers")).await
}

/// What a new offer gives: a P云 coupon product or a local discount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Gives {
    /// A coupon product of the shop's car park.
    Product(i64),
    /// A local discount recorded in the ledger.
    Discount(DiscountKind),
}

/// `POST /api/v1/shops/{id}/offers`.
pub(crate) async fn create_offer(
    shop_id: i64,
    name: &str,
    gives: Gives,
    daily_quota: i64,
    monthly_quota: Option<i64>,
) -> Result<Offer, ApiError> {
    let mut body = json!({ "name": name, "daily_quota": daily_quota });
    match gives {
        Gives::Product(id) => body["product_id"] = id.into(),
        Gives::Discount(DiscountKind::Free) => body["discount"] = json!({ "kind": "free" }),
        Gives::Discount(k) => body["discount"] = json!({ "kind": k.name(), "value": k.value() }),
    }
    if let Some(m) = monthly_quota {
        body["monthly_quota"] = m.into();
    }
    post(&format!("/api/v1/shops/{shop_id}/offers"), body).await
}

/// `PUT /api/v1/offers/{id}` with a partial change (`name`, `daily_quota`, `monthly_quota` —
/// `null` for unlimited —, `active`).
pub(crate) async fn update_offer(id: i64, change: Value) -> Result<Offer, ApiError> {
    put(&format!("/api/v1/offers/{id}"), change).await
}

/// Validations of one state, counted; shared by a statement's lines and its totals.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
pub(crate) struct StatementCounts {
    /// Given: P云 issued the coupon, or the ledger recorded the discount.
    #[serde(default)]
    pub(crate) delivered: i64,
    /// Still on their way to P云.
    #[serde(default)]
    pub(crate) pending: i64,
    /// Refused (by P云, or the quota).
    #[serde(default)]
    pub(crate) refused: i64,
    /// Sent to P云 without an answer.
    #[serde(default)]
    pub(crate) unknown: i64,
    /// Fen the given ones were worth, where known.
    #[serde(default)]
    pub(crate) worth_fen: i64,
    /// How many given ones have no known worth.
    #[serde(default)]
    pub(crate) worth_missing: i64,
}

/// One line of a statement: an offer and one way it was given.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StatementLine {
    /// The offer.
    pub(crate) offer_id: i64,
    /// Its name.
    #[serde(default)]
    pub(crate) offer_name: String,
    /// `plate` (validated at the till) or `qr_token` (a QR code the customer scanned).
    #[serde(default)]
    pub(crate) kind: String,
    /// The P云 coupon product, if the offer grants one.
    #[serde(default)]
    pub(crate) product_id: Option<i64>,
    /// The local discount, if the offer gives one.
    #[serde(default)]
    pub(crate) discount: Option<OfferDiscount>,
    /// The counts.
    #[serde(flatten)]
    pub(crate) counts: StatementCounts,
}

/// The shop a statement is about: the shop as the shops list has it, or (read leniently, the
/// statement being built beside this page) only its name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub(crate) enum StatementShop {
    /// The whole shop.
    Shop(Shop),
    /// Its name.
    Name(String),
}

impl StatementShop {
    /// The shop's name.
    pub(crate) fn name(&self) -> &str {
        match self {
            StatementShop::Shop(s) => &s.name,
            StatementShop::Name(n) => n,
        }
    }

    /// The shop's car park, when the statement says it.
    pub(crate) fn park_id(&self) -> Option<i64> {
        match self {
            StatementShop::Shop(s) => Some(s.park_id),
            StatementShop::Name(_) => None,
        }
    }
}

/// A shop's statement (对账单) for one Shanghai month.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Statement {
    /// The shop.
    pub(crate) shop: StatementShop,
    /// Its car park's name.
    #[serde(default)]
    pub(crate) park_name: String,
    /// `YYYY-MM`.
    #[serde(default)]
    pub(crate) month: String,
    /// One line per offer and kind.
    #[serde(default)]
    pub(crate) lines: Vec<StatementLine>,
    /// The lines added up.
    #[serde(default)]
    pub(crate) totals: StatementCounts,
}

/// `GET /api/v1/shops/{id}/statement?month=YYYY-MM`.
pub(crate) async fn statement(shop_id: i64, month: &str) -> Result<Statement, ApiError> {
    get(&format!("/api/v1/shops/{shop_id}/statement?month={month}")).await
}

/// The address of the statement as CSV, in UTF-8 or (for Excel in Chinese) GBK.
pub(crate) fn statement_csv_url(shop_id: i64, month: &str, gbk: bool) -> String {
    let encoding = if gbk { "gbk" } else { "utf-8" };
    format!("/api/v1/shops/{shop_id}/statement.csv?month={month}&encoding={encoding}")
}
