//! `feeId`: the identifier of one GetParkingPaymentInfo quote, presented back by PayParkingFee.
//!
//! Format `v2-{session id}-{quoted at, epoch ms}-{totalAmount}-{paidAmount}-{deductionAmount}-{unPayAmount}`,
//! e.g. `v2-42-1764000000000-1300-0-0-1300`. (`v1` named the same fields under the withdrawn
//! reading of §2.2, where `unPayAmount` excluded `deductionAmount`; such a feeId is refused so
//! Mallcoo queries again.) It carries everything PayParkingFee needs to check
//! a payment against its quote, so the query (the hot path) writes nothing. It is not trusted:
//! the session must belong to the authenticated car park, and PayParkingFee recomputes the quote
//! and refuses the payment when `totalAmount` or `paidAmount` differ now (the feeId is stale).

use chrono::{DateTime, Utc};
use protocol::ledger::MallcooAmounts;

use crate::storage::{from_ms, to_ms};

const VERSION: &str = "v2";

/// One quote as named by its `feeId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeId {
    /// The parking session quoted.
    pub session_id: i64,
    /// When the quote was computed (the query's `now`).
    pub quoted_at: DateTime<Utc>,
    /// `totalAmount` of the quote, fen.
    pub total: i64,
    /// `paidAmount` of the quote, fen.
    pub paid: i64,
    /// `deductionAmount` of the quote, fen.
    pub deduction: i64,
    /// `unPayAmount` of the quote, fen.
    pub unpaid: i64,
}

/// A `feeId` we did not issue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("feeId `{0}` is not one of ours")]
pub struct FeeIdError(pub String);

impl FeeId {
    /// The identifier of quote `q` of session `session_id` computed at `now`.
    pub fn of_quote(session_id: i64, now: DateTime<Utc>, q: &MallcooAmounts) -> FeeId {
        FeeId {
            session_id,
            quoted_at: now,
            total: q.total,
            paid: q.paid,
            deduction: q.deduction,
            unpaid: q.unpaid,
        }
    }

    /// The text sent as `feeId`.
    pub fn encode(&self) -> String {
        format!(
            "{VERSION}-{}-{}-{}-{}-{}-{}",
            self.session_id,
            to_ms(self.quoted_at),
            self.total,
            self.paid,
            self.deduction,
            self.unpaid
        )
    }

    /// Reads a `feeId` back; anything but our exact format is refused.
    pub fn parse(text: &str) -> Result<FeeId, FeeIdError> {
        let bad = || FeeIdError(text.chars().take(80).collect());
        let mut parts = text.trim().split('-');
        if parts.next() != Some(VERSION) {
            return Err(bad());
        }
        let mut numbers = [0i64; 6];
        for n in &mut numbers {
            let part = parts.next().ok_or_else(bad)?;
            // Digits only: no sign, no spaces, no leading `+`.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *n = part.parse().map_err(|_| bad())?;
        }
        if parts.next().is_some() || numbers[0] == 0 {
            return Err(bad());
        }
        let [session_id, at, total, paid, deduction, unpaid] = numbers;
        Ok(FeeId {
            session_id,
            quoted_at: from_ms(at),
            total,
            paid,
            deduction,
            unpaid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fee_id_round_trips_and_foreign_ones_are_refused() {
        let id = FeeId {
            session_id: 42,
            quoted_at: from_ms(1_764_000_000_000),
            total: 1300,
            paid: 0,
            deduction: 300,
            unpaid: 1000,
        };
        assert_eq!(id.encode(), "v2-42-1764000000000-1300-0-300-1000");
        assert_eq!(FeeId::parse(&id.encode()), Ok(id));
        for bad in [
            "",
            "20160713",
            "v2-42-1764000000000-1300-0-300",
            "v2-42-1764000000000-1300-0-300-1000-1",
            "v1-42-1764000000000-1300-0-300-1000",
            "v3-42-1764000000000-1300-0-300-1000",
            "v2-0-1764000000000-1300-0-300-1000",
            "v2-42-1764000000000-+1300-0-300-1000",
            "v2-42-1764000000000-99999999999999999999-0-300-1000",
        ] {
            assert!(FeeId::parse(bad).is_err(), "{bad}");
        }
    }
}
