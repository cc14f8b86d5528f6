//! Removing a discount (PROTOCOLS.md §5.1): only while it is active and its stay open; once a
//! payment counted it or the car left it is *used* and stays.

use chrono::{DateTime, Utc};
use protocol::tariff::Tariff;

use super::DiscountsError;
use super::grant::answer;
use super::store::{Source, find_by_key};
use super::view::DiscountAnswer;
use crate::storage::{Db, to_ms};

/// Removes the discount recorded under `key` from `source` at car park `park_id`, at `now`. A
/// discount already removed is answered as it is (a retried removal). The stay's session is
/// locked first, as a payment locks it: whichever comes second sees the other's outcome.
pub async fn revoke(
    db: &Db,
    tariff: &Tariff,
    park_id: i64,
    source: Source,
    key: &str,
    now: DateTime<Utc>,
) -> Result<DiscountAnswer, DiscountsError> {
    let unknown = || DiscountsError::Unknown(key.to_owned());
    let found = {
        let mut conn = db.pool.acquire().await?;
        find_by_key(&mut conn, park_id, source, key).await?
    }
    .ok_or_else(unknown)?;
    let mut tx = db.pool.begin().await?;
    // The stay the discount counts for: its own, or (a free window) the plate's open stay.
    let session: Option<i64> = match (found.session_id, found.plate.as_deref()) {
        (Some(id), _) => {
            sqlx::query("UPDATE parking_sessions SET updated_at = updated_at WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            Some(id)
        }
        (None, Some(plate)) => {
            sqlx::query_scalar(
                "UPDATE parking_sessions SET updated_at = updated_at \
                 WHERE park_id = $1 AND plate = $2 AND state = 'open' RETURNING id",
            )
            .bind(park_id)
            .bind(plate)
            .fetch_optional(&mut *tx)
            .await?
        }
        (None, None) => None,
    };
    // Read again under the lock: a payment or exit may have used it meanwhile.
    let (state, session_state) = sqlx::query_as::<_, (String, Option<String>)>(
        "SELECT d.state, s.state FROM parking_discounts d \
         LEFT JOIN parking_sessions s ON s.id = d.session_id WHERE d.id = $1",
    )
    .bind(found.id)
    .fetch_one(&mut *tx)
    .await?;
    let open_stay = session_state.as_deref().is_none_or(|s| s == "open");
    match state.as_str() {
        "revoked" => {}
        "active" if open_stay => {
            sqlx::query(
                "UPDATE parking_discounts SET state = 'revoked', revoked_at = $1, updated_at = $1 \
                 WHERE id = $2 AND state = 'active'",
            )
            .bind(to_ms(now))
            .bind(found.id)
            .execute(&mut *tx)
            .await?;
            tracing::info!(
                park = park_id,
                discount = found.id,
                discount_id = key,
                "discount removed"
            );
        }
        _ => return Err(DiscountsError::Used(key.to_owned())),
    }
    let stay = match (found.session_id, session_state.as_deref()) {
        (Some(id), Some("open")) => Some(id),
        (None, _) => session,
        _ => None,
    };
    let answer = answer(&mut tx, park_id, found.id, stay, tariff, now).await?;
    tx.commit().await?;
    Ok(answer)
}
