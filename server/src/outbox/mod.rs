//! The durable outbox: every outbound request is a row committed before any network call, then
//! delivered by a worker that leases it, so nothing is lost on a crash and several instances on
//! one PostgreSQL database never send the same row at once.
//!
//! `store` owns the SQL, `retry` decides what an answer means for a row (pure, unit-tested),
//! `dispatcher` runs deliveries and lets API handlers wait briefly for an outcome, `park_signers`
//! loads what signing a car park's request needs.

pub mod dispatcher;
pub mod park_signers;
pub mod retry;
pub mod store;

use serde::{Deserialize, Serialize};

/// Where a row is in its life: `pending → sending → delivered | rejected | misconfigured |
/// unknown | failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for its (next) attempt.
    Pending,
    /// Leased to one instance, which is sending it now.
    Sending,
    /// The platform accepted it (or had already, for a resent event).
    Delivered,
    /// The platform refused it for a reason about this request (plate not in, limit reached, bad field).
    Rejected,
    /// The platform refused our credentials or configuration, or ours is incomplete: an admin must act.
    Misconfigured,
    /// It may or may not have taken effect at P云; a person must check (grants only).
    Unknown,
    /// Every allowed attempt failed without an answer that settles it.
    Failed,
}

impl State {
    /// Every state.
    pub const ALL: [State; 7] = [
        State::Pending,
        State::Sending,
        State::Delivered,
        State::Rejected,
        State::Misconfigured,
        State::Unknown,
        State::Failed,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sending => "sending",
            State::Delivered => "delivered",
            State::Rejected => "rejected",
            State::Misconfigured => "misconfigured",
            State::Unknown => "unknown",
            State::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the worker is done with it (a person may still reconcile `unknown`).
    pub fn is_final(self) -> bool {
        !matches!(self, State::Pending | State::Sending)
    }
}

/// What a row asks a platform (P云, or Mallcoo for entry notices) to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An event coupon (`mcoupon/event`), idempotent at P云 by `event_id`.
    CouponEvent,
    /// A grant by coupon code (`mcoupon/grant/create`), which P云 cannot deduplicate.
    CouponGrant,
    /// A batch of VIP recharges (`internal/vip/recharge`), idempotent at P云 by `pay_partner`.
    VipBatch,
    /// A car's entry pushed to Mallcoo (`EnterInfoNotify`, §2.5), identified by `TradeID` = our
    /// session id, so a resend names the same entry.
    EnterNotice,
    /// A stay's entry uploaded to P云 as its car park (`internal/enter`, pyun-carpark.md §4.2),
    /// deduplicated at P云 by `parking_serial`.
    PyunEnter,
    /// A stay's leave uploaded to P云 (`internal/leave`, §4.3), after the stay's entry upload.
    PyunLeave,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CouponEvent => "coupon_event",
            Kind::CouponGrant => "coupon_grant",
            Kind::VipBatch => "vip_batch",
            Kind::EnterNotice => "enter_notice",
            Kind::PyunEnter => "pyun_enter",
            Kind::PyunLeave => "pyun_leave",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::CouponEvent,
            Kind::CouponGrant,
            Kind::VipBatch,
            Kind::EnterNotice,
            Kind::PyunEnter,
            Kind::PyunLeave,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Whether resending after an attempt that may have arrived is harmless (the platform
    /// deduplicates: P云 by `event_id`/`pay_partner`/`parking_serial`, Mallcoo by `TradeID`).
    pub fn resendable(self) -> bool {
        match self {
            Kind::CouponEvent
            | Kind::VipBatch
            | Kind::EnterNotice
            | Kind::PyunEnter
            | Kind::PyunLeave => true,
            Kind::CouponGrant => false,
        }
    }

    /// Whether rows of this kind wait for earlier ones, so the end of one may let another go: a
    /// car park's VIP batches go one at a time in id order (a later recharge must not overtake
    /// an earlier one, nor any batch a full sync's wipe); a stay's leave upload waits for its
    /// entry upload (one queue per stay, pyun-carpark.md §4.3).
    pub fn ordered(self) -> bool {
        matches!(self, Kind::VipBatch | Kind::PyunEnter | Kind::PyunLeave)
    }

    /// Whether the row is an upload to P云 as the car park.
    pub fn is_pyun_upload(self) -> bool {
        matches!(self, Kind::PyunEnter | Kind::PyunLeave)
    }
}
