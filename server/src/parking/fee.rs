//! The fee due when a car leaves: PROTOCOLS.md §5 through `protocol::quote` at the exit time.

use chrono::{DateTime, Utc};
use protocol::quote::{Session, quote};
use protocol::tariff::Tariff;

use super::{ParkingError, payments};
use crate::storage::Db;
use crate::vip::records::window_for;

/// What the car owes at the exit gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitFee {
    /// Fen still due after payments and deductions.
    pub due_fen: i64,
    /// A VIP record of the plate covered part or all of the stay.
    pub vip: bool,
}

/// The fee of session `session_id` at car park `park_id` from `entry` to `exit` for `plate`
/// (none: plate-less, so no VIP record can apply), after the session's payments: 0 within the
/// grace period of the latest one, only what accrued since the paid quote after it.
pub async fn exit_fee(
    db: &Db,
    park_id: i64,
    session_id: i64,
    tariff: &Tariff,
    plate: Option<&str>,
    entry: DateTime<Utc>,
    exit: DateTime<Utc>,
) -> Result<ExitFee, ParkingError> {
    let vip = match plate {
        Some(p) => window_for(db, park_id, p).await?,
        None => None,
    };
    let payments = payments::of_session(&db.pool, session_id).await?;
    let q = quote(
        &Session { entry, tariff },
        &payments,
        vip.as_ref(),
        exit,
        0,
        0,
    )?;
    Ok(ExitFee {
        due_fen: q.unpaid,
        vip: q.offline_deduction.is_some(),
    })
}
