//! A stay's discounts become *used* (PROTOCOLS.md §5.1) when a payment or the exit counts them:
//! from then on they stay, with what they were worth.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use crate::parking::stay::StayRecord;
use crate::storage::to_ms;

/// Marks `stay`'s active discounts used at `at`, each with its worth from `worths` (index for
/// index with `stay.discounts`, as `protocol::ledger::worths` gives them). Runs in the
/// transaction of the payment or exit that counted them, after it locked the session.
pub async fn mark_used(
    conn: &mut AnyConnection,
    stay: &StayRecord,
    worths: &[i64],
    at: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let mut marked = 0;
    for (row, worth) in stay.discount_rows.iter().zip(worths) {
        if !row.active {
            continue;
        }
        let done = sqlx::query(
            "UPDATE parking_discounts SET state = 'used', used_at = $1, worth_fen = $2, \
             updated_at = $1 WHERE id = $3 AND state = 'active'",
        )
        .bind(to_ms(at))
        .bind(*worth)
        .bind(row.id)
        .execute(&mut *conn)
        .await?;
        marked += done.rows_affected() as usize;
    }
    if marked > 0 {
        tracing::info!(session = stay.id, marked, "discounts used");
    }
    Ok(marked)
}
