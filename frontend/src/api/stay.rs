//! One stay (PROTOCOLS.md §5.1): `GET /api/v1/sessions/{id}` and a person's waiver.
//!
//! Field names follow `server/src/http/stays.rs` and `server/src/discounts/view.rs`; times are
//! read as UTC instants because the page prices the stay again with `protocol::ledger`.

use chrono::{DateTime, Utc};
use protocol::ledger::{Discount, DiscountKind};
use protocol::quote::{Payment, VipWindow};
use protocol::tariff::Tariff;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, get, post};

/// The session of a stay.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StaySession {
    /// Id.
    pub(crate) id: i64,
    /// Plate, if any.
    #[serde(default)]
    pub(crate) plate: Option<String>,
    /// Ticket number of a plate-less car.
    #[serde(default)]
    pub(crate) barcode: Option<String>,
    /// Entry.
    pub(crate) entry_at: DateTime<Utc>,
    /// Entry gate.
    #[serde(default)]
    pub(crate) entry_gate: Option<String>,
    /// Exit, once closed by an exit.
    #[serde(default)]
    pub(crate) exit_at: Option<DateTime<Utc>>,
    /// Exit gate.
    #[serde(default)]
    pub(crate) exit_gate: Option<String>,
    /// `open`, `closed` or `no_exit_seen`.
    pub(crate) state: String,
}

/// The car park of a stay.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StayPark {
    /// Id.
    pub(crate) id: i64,
    /// Code.
    pub(crate) code: String,
    /// Name.
    pub(crate) name: String,
}

/// The plate's VIP record as the fee engine used it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StayVip {
    /// First instant it is valid.
    pub(crate) valid_from: DateTime<Utc>,
    /// First instant it is no longer valid.
    pub(crate) valid_until: DateTime<Utc>,
    /// What it is, e.g. `月卡 至2026-12-31`.
    #[serde(default)]
    pub(crate) label: String,
}

/// One discount of the stay, with what it is worth now.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StayDiscount {
    /// Row id (recorded order).
    pub(crate) id: i64,
    /// `api`, `waiver`, `pyun` or `shop`.
    pub(crate) source: String,
    /// `amount`, `minutes`, `free`, `percent` or `free_window`.
    pub(crate) kind: String,
    /// Fen, minutes or per mille by kind; 0 for `free`.
    #[serde(default)]
    pub(crate) value: i64,
    /// Who gave it, as Mallcoo shows it (`商户减免`, a shop's name).
    #[serde(default)]
    pub(crate) label: String,
    /// Why, when the giver said.
    #[serde(default)]
    pub(crate) reason: Option<String>,
    /// `apikey:<prefix>`, `user:<name>` or `pyun`.
    #[serde(default)]
    pub(crate) created_by: String,
    /// `active`, `used` or `revoked`.
    pub(crate) state: String,
    /// When it was granted.
    pub(crate) granted_at: DateTime<Utc>,
    /// Fen it takes off now; absent once revoked.
    #[serde(default)]
    pub(crate) worth_now_fen: Option<i64>,
}

impl StayDiscount {
    /// The kind as the ledger takes it; `None` for a kind this page does not know.
    pub(crate) fn ledger_kind(&self) -> Option<DiscountKind> {
        DiscountKind::from_parts(&self.kind, Some(self.value)).ok()
    }
}

/// One payment of the stay.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StayPayment {
    /// Id.
    pub(crate) id: i64,
    /// `mallcoo` or `pyun`.
    pub(crate) channel: String,
    /// The channel's order number.
    #[serde(default)]
    pub(crate) order_no: String,
    /// Fen paid by the payer.
    pub(crate) amount_fen: i64,
    /// Fen of the channel's own benefits settled with it.
    #[serde(default)]
    pub(crate) deduction_fen: i64,
    /// When the payer paid.
    pub(crate) pay_time: DateTime<Utc>,
    /// When it settles the fee (its grace period starts here).
    pub(crate) settled_at: DateTime<Utc>,
}

/// A stay's figure at a moment; every amount is fen.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StayFigure {
    /// The moment priced.
    pub(crate) billing_time: DateTime<Utc>,
    /// Minutes parked, rounded up.
    pub(crate) parking_minutes: i64,
    /// The fee before any discount.
    pub(crate) charge_fen: i64,
    /// What the discounts are worth.
    pub(crate) discount_worth_fen: i64,
    /// What the payments settled.
    pub(crate) paid_fen: i64,
    /// What the car owes.
    pub(crate) owed_fen: i64,
}

/// Everything the stay's page shows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StayDetail {
    /// The session.
    pub(crate) session: StaySession,
    /// Its car park.
    pub(crate) park: StayPark,
    /// The car park's tariff.
    pub(crate) tariff: Tariff,
    /// The plate's VIP record, if any.
    #[serde(default)]
    pub(crate) vip: Option<StayVip>,
    /// Every discount, revoked ones too, in recorded order.
    #[serde(default)]
    pub(crate) discounts: Vec<StayDiscount>,
    /// Every payment, oldest first.
    #[serde(default)]
    pub(crate) payments: Vec<StayPayment>,
    /// What it owes now, or owed at its exit.
    pub(crate) figure: StayFigure,
}

/// A stay's inputs to `protocol::ledger`, owned so that a `ledger::Stay` can borrow them.
#[derive(Debug, Clone)]
pub(crate) struct LedgerInputs {
    /// The VIP window, if any.
    pub(crate) vip: Option<VipWindow>,
    /// The discounts that count (not revoked), in recorded order.
    pub(crate) discounts: Vec<Discount>,
    /// Every payment as the ledger counts it: amount plus Mallcoo's deduction, at settlement.
    pub(crate) payments: Vec<Payment>,
}

impl StayDetail {
    /// The same inputs the server priced the stay with (`server/src/parking/stay.rs`).
    pub(crate) fn ledger_inputs(&self) -> LedgerInputs {
        let mut counted: Vec<&StayDiscount> = self
            .discounts
            .iter()
            .filter(|d| d.state != "revoked")
            .collect();
        // The server's recorded order is row order; `percent` depends on it.
        counted.sort_by_key(|d| d.id);
        LedgerInputs {
            vip: self.vip.as_ref().map(|v| VipWindow {
                valid_from: v.valid_from,
                valid_until: v.valid_until,
                label: v.label.clone(),
            }),
            discounts: counted
                .into_iter()
                .filter_map(|d| {
                    Some(Discount {
                        kind: d.ledger_kind()?,
                        granted_at: d.granted_at,
                        source_label: d.label.clone(),
                    })
                })
                .collect(),
            payments: self
                .payments
                .iter()
                .map(|p| Payment {
                    at: p.settled_at,
                    amount: p.amount_fen.saturating_add(p.deduction_fen),
                })
                .collect(),
        }
    }
}

/// `GET /api/v1/sessions/{id}`.
pub(crate) async fn stay(id: i64) -> Result<StayDetail, ApiError> {
    get(&format!("/api/v1/sessions/{id}")).await
}

/// `POST /api/v1/sessions/{id}/waivers`: `kind` with `value` (none for `free`) and `reason`.
pub(crate) async fn waive(id: i64, kind: &DiscountKind, reason: &str) -> Result<Value, ApiError> {
    let mut body = json!({ "kind": kind.name(), "reason": reason });
    if !matches!(kind, DiscountKind::Free) {
        body["value"] = kind.value().into();
    }
    post(&format!("/api/v1/sessions/{id}/waivers"), body).await
}
