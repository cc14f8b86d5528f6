//! How the API shows a discount and the stay it changed.

use chrono::{DateTime, Utc};
use protocol::ledger::Figure;
use serde::{Deserialize, Serialize};

use crate::parking::stay::StayRecord;

/// One discount as callers and the stay's page see it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiscountView {
    /// Row id.
    pub id: i64,
    /// The caller's key: our API's `discount_id`, P云's `grant_serial`, a waiver's own id.
    pub discount_id: String,
    /// `api`, `waiver`, `pyun` or `shop`.
    pub source: String,
    /// The stay it belongs to; absent for a `free_window` (it belongs to the plate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<i64>,
    /// The plate, when the car has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
    /// `amount`, `minutes`, `free`, `percent` or `free_window` (PROTOCOLS.md §5.1).
    pub kind: String,
    /// Fen, minutes or per mille by kind; 0 for `free`.
    pub value: i64,
    /// The value in words, e.g. `2小时`, `¥5.00`, `减免 50%`.
    pub description: String,
    /// Who gave it, as Mallcoo's `offlineDeduction` shows it, e.g. `商户减免`.
    pub label: String,
    /// Why, when the giver said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who recorded it: `apikey:<prefix>`, `user:<name>`, `pyun`.
    pub created_by: String,
    /// `active` (counts, removable), `used` (a payment or the exit counted it) or `revoked`.
    pub state: String,
    /// When it was granted; a `free_window` runs from here.
    pub granted_at: DateTime<Utc>,
    /// When a payment or the exit counted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_at: Option<DateTime<Utc>>,
    /// When it was removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Fen it was worth when used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worth_fen: Option<i64>,
}

/// A stay's figure (PROTOCOLS.md §5.1) at a moment; every amount is fen ≥ 0.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FigureView {
    /// The moment priced: now, the exit of a closed stay, or a payment's time within its grace.
    pub billing_time: DateTime<Utc>,
    /// Minutes parked, rounded up.
    pub parking_minutes: i64,
    /// The fee before any discount (Mallcoo `totalAmount`).
    pub charge_fen: i64,
    /// The fee after every discount.
    pub discounted_fen: i64,
    /// What the discounts are worth: `charge_fen − discounted_fen`.
    pub discount_worth_fen: i64,
    /// What the payments of every channel settled.
    pub paid_fen: i64,
    /// What the car owes: `max(0, discounted_fen − paid_fen)`.
    pub owed_fen: i64,
}

impl From<&Figure> for FigureView {
    fn from(f: &Figure) -> FigureView {
        FigureView {
            billing_time: f.billing_time,
            parking_minutes: f.parking_minutes,
            charge_fen: f.charge,
            discounted_fen: f.discounted,
            discount_worth_fen: f.discount_worth,
            paid_fen: f.paid,
            owed_fen: f.owed,
        }
    }
}

/// The stay a discount changed, with what it owes now.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StayOwed {
    /// Session id.
    pub session_id: i64,
    /// The plate, when the car has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
    /// The ticket number, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    /// Entry time.
    pub entry_at: DateTime<Utc>,
    /// The stay's figure when the answer was given.
    pub figure: FigureView,
}

impl StayOwed {
    /// `stay` with `figure`.
    pub fn new(stay: &StayRecord, figure: &Figure) -> StayOwed {
        StayOwed {
            session_id: stay.id,
            plate: stay.plate.clone(),
            barcode: stay.barcode.clone(),
            entry_at: stay.entry,
            figure: figure.into(),
        }
    }
}

/// What granting or removing a discount answers.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiscountAnswer {
    /// The discount.
    pub discount: DiscountView,
    /// The car's open stay with what it owes now; absent when the car is not parked (a
    /// `free_window` for a plate, or a removal after the car left).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stay: Option<StayOwed>,
}
