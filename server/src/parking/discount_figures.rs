//! Discounts by source over a range, for the dashboard: how many were granted and what the used
//! ones were worth (PROTOCOLS.md §5.1; rows of migration 0007's `parking_discounts`).

use serde::Serialize;

use crate::storage::Db;

/// Every source of a discount, in the order the dashboard lists them (the table's CHECK).
pub const SOURCES: [&str; 4] = ["api", "waiver", "pyun", "shop"];

/// The discounts of one source granted over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SourceDiscounts {
    /// `api` (our machine API, 接口减免), `waiver` (a property manager's, 人工减免), `pyun`
    /// (P云停车券) or `shop` (商户减免).
    #[schema(example = "api")]
    pub source: String,
    /// Discounts granted in the range (`granted_at`), revoked ones left out.
    pub granted: i64,
    /// Fen those of them that were used were worth when used (`worth_fen`); active ones count 0
    /// until they are used.
    pub used_worth_fen: i64,
}

/// The discounts of car park `park_id` granted in `[start_ms, end_ms)`, one entry per source in
/// `SOURCES` order, zeros included (so a chart's rows do not come and go).
pub async fn by_source(
    db: &Db,
    park_id: i64,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<SourceDiscounts>, sqlx::Error> {
    // One range scan of `parking_discounts_park_granted_idx`.
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT source, COUNT(*), \
         CAST(COALESCE(SUM(CASE WHEN state = 'used' THEN worth_fen ELSE 0 END), 0) AS BIGINT) \
         FROM parking_discounts \
         WHERE park_id = $1 AND granted_at >= $2 AND granted_at < $3 AND state <> 'revoked' \
         GROUP BY source",
    )
    .bind(park_id)
    .bind(start_ms)
    .bind(end_ms)
    .fetch_all(&db.pool)
    .await?;
    Ok(SOURCES
        .iter()
        .map(|source| {
            let (granted, used_worth_fen) = rows
                .iter()
                .find(|(s, _, _)| s == source)
                .map_or((0, 0), |(_, n, fen)| (*n, *fen));
            SourceDiscounts {
                source: (*source).to_owned(),
                granted,
                used_worth_fen,
            }
        })
        .collect())
}
