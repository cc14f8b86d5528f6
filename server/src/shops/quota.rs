//! Quota counters: one `shop_quota_usage` row per (offer, day or month), taken with a
//! conditional increment inside the validation's transaction.
//!
//! `UPDATE … SET used = used + 1 WHERE used < quota` is atomic across instances on both engines:
//! PostgreSQL row-locks the counter and re-checks the condition on the committed row when a
//! concurrent taker commits first; SQLite has one writer. A taker that fails rolls back the
//! whole validation, so nothing is given without its unit.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::ShopsError;
use super::store::Offer;

/// The Shanghai day (`YYYY-MM-DD`) and month (`YYYY-MM`) that `at` counts against.
pub fn periods(at: DateTime<Utc>) -> (String, String) {
    let local = at.with_timezone(&protocol::time::shanghai());
    (
        local.format("%Y-%m-%d").to_string(),
        local.format("%Y-%m").to_string(),
    )
}

async fn take_one(
    conn: &mut AnyConnection,
    offer_id: i64,
    kind: &str,
    key: &str,
    limit: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO shop_quota_usage (offer_id, period_kind, period_key, used) \
         VALUES ($1, $2, $3, 0) ON CONFLICT (offer_id, period_kind, period_key) DO NOTHING",
    )
    .bind(offer_id)
    .bind(kind)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(
        "UPDATE shop_quota_usage SET used = used + 1 \
         WHERE offer_id = $1 AND period_kind = $2 AND period_key = $3 AND used < $4",
    )
    .bind(offer_id)
    .bind(kind)
    .bind(key)
    .bind(limit)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Uses one unit of `offer`'s daily and monthly quota for `day`/`month` in the caller's
/// transaction, or says which quota is used up (the caller then rolls back).
pub async fn take(
    conn: &mut AnyConnection,
    offer: &Offer,
    day: &str,
    month: &str,
) -> Result<(), ShopsError> {
    if !take_one(conn, offer.id, "day", day, offer.daily_quota).await? {
        return Err(ShopsError::QuotaExhausted {
            period: "daily",
            quota: offer.daily_quota,
        });
    }
    // The month is counted even without a budget, for the shop's page.
    let monthly = offer.monthly_quota.unwrap_or(i64::MAX);
    if !take_one(conn, offer.id, "month", month, monthly).await? {
        return Err(ShopsError::QuotaExhausted {
            period: "monthly",
            quota: monthly,
        });
    }
    Ok(())
}

/// Gives one unit back to `offer_id`'s `day` and `month` (a validation P云 refused).
pub async fn give_back(
    conn: &mut AnyConnection,
    offer_id: i64,
    day: &str,
    month: &str,
) -> Result<(), sqlx::Error> {
    for (kind, key) in [("day", day), ("month", month)] {
        sqlx::query(
            "UPDATE shop_quota_usage SET used = used - 1 \
             WHERE offer_id = $1 AND period_kind = $2 AND period_key = $3 AND used > 0",
        )
        .bind(offer_id)
        .bind(kind)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Units of `offer_id` used in period `key` of `kind` (`day` or `month`).
pub async fn used(
    conn: &mut AnyConnection,
    offer_id: i64,
    kind: &str,
    key: &str,
) -> Result<i64, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT used FROM shop_quota_usage \
         WHERE offer_id = $1 AND period_kind = $2 AND period_key = $3",
    )
    .bind(offer_id)
    .bind(kind)
    .bind(key)
    .fetch_optional(conn)
    .await?
    .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_counts_against_the_shanghai_day_and_month() {
        // 2026-11-30 16:30 UTC is 2026-12-01 00:30 in Shanghai.
        let at = DateTime::parse_from_rfc3339("2026-11-30T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(periods(at), ("2026-12-01".to_owned(), "2026-12".to_owned()));
    }
}
