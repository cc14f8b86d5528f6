//! A session's payments (`parking_payments`, PROTOCOLS.md §2.3) as the fee engine sees them.

use protocol::quote::Payment;
use sqlx::Any;

use crate::storage::from_ms;

/// The payments recorded on session `session_id`, each settling `amount_fen + deduction_fen`
/// at `settled_at` (payTime clamped to [entry, received]), which is what starts the grace period.
pub async fn of_session<'c, E>(ex: E, session_id: i64) -> Result<Vec<Payment>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let rows = sqlx::query_as::<_, (i64, i64)>(
        "SELECT settled_at, amount_fen + deduction_fen FROM parking_payments WHERE session_id = $1",
    )
    .bind(session_id)
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(|(at, fen)| payment(at, fen)).collect())
}

/// One stored payment row (`settled_at` ms, settled fen) as a quote input.
pub fn payment(settled_at_ms: i64, settled_fen: i64) -> Payment {
    Payment {
        at: from_ms(settled_at_ms),
        amount: settled_fen,
    }
}
