//! A customer's scan of a shop's QR code, as P云 tells the car park: the `discount.create` for
//! the coupon the scan issued, linked back to the token's validation (issue 17), so the shop's
//! statement shows what the token was worth and its history shows it claimed.
//!
//! `discount.create` does not name the token (pyun-carpark.md §3.3, §5): it carries the shop's
//! `store_code`, the product's `coupon_code` (DOC marks it required, P云's gateway class lacks it)
//! and the token's `reason`. So the link is made by what is honest to match: a delivered QR
//! validation of this car park whose shop sends that store code (its own, else its product's),
//! whose product has that coupon code when one is sent, still claimable when the coupon arrives
//! (not expired, with a minute's grace for P云's clock and the delivery; a single-use token not
//! claimed yet) — the one whose `reason` matches first, then the oldest. When one shop has
//! several live tokens of one product at once, a claim may be put on a sibling token: the shop,
//! offer, counts and worth stay right, which token of the two was scanned may not.
//!
//! Coupons we granted ourselves (`grant/create`, `event`) loop back through `discount.create`
//! with the same store and coupon codes: a coupon whose `grant_serial` is one of our outbox rows,
//! or that arrives for a plate whose grant is still on its way to P云, is never taken for a scan.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::AnyConnection;

use crate::storage::to_ms;

/// What `discount.create` said of the coupon, as far as a link needs it.
#[derive(Debug, Clone, Copy)]
pub struct ClaimedCoupon<'a> {
    /// The car park.
    pub park_id: i64,
    /// P云's serial of the coupon.
    pub grant_serial: &'a str,
    /// The shop's `store_code`.
    pub store_code: Option<&'a str>,
    /// The product's `coupon_code`.
    pub coupon_code: Option<&'a str>,
    /// The token's `reason` (we send `<shop> <offer>`).
    pub reason: Option<&'a str>,
    /// The normalised plate the customer bound it to.
    pub plate: Option<&'a str>,
    /// The discount recorded for it.
    pub discount_id: i64,
}

/// How long after our estimate of a token's end a claim of it is still believed.
const GRACE: TimeDelta = TimeDelta::seconds(60);

/// Links `coupon` to the QR validation it most likely came from (see the module), in the
/// caller's transaction; the validation's id, or `None` when nothing matches.
pub async fn link(
    conn: &mut AnyConnection,
    coupon: &ClaimedCoupon<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    let Some(store_code) = coupon.store_code.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let ours: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE park_id = $1 AND kind IN ('coupon_grant', 'coupon_event') \
         AND (grant_serial = $2 OR (plate = $3 AND state IN ('pending', 'sending'))) LIMIT 1",
    )
    .bind(coupon.park_id)
    .bind(coupon.grant_serial)
    .bind(coupon.plate)
    .fetch_optional(&mut *conn)
    .await?;
    if ours.is_some() {
        return Ok(None);
    }
    type Candidate = (i64, String, String, Option<i64>, i64);
    let candidates = sqlx::query_as::<_, Candidate>(
        "SELECT v.id, s.name, o.name, v.token_single_use, \
         (SELECT COUNT(*) FROM shop_token_claims c WHERE c.validation_id = v.id) \
         FROM shop_validations v JOIN shops s ON s.id = v.shop_id \
         JOIN shop_offers o ON o.id = v.offer_id JOIN coupon_products p ON p.id = o.product_id \
         WHERE s.park_id = $1 AND v.kind = 'qr_token' AND v.state = 'delivered' \
         AND COALESCE(s.store_code, p.store_code) = $2 \
         AND ($3 = '' OR p.coupon_code = $3) \
         AND v.created_at <= $4 AND v.token_expires_at > $5 ORDER BY v.id",
    )
    .bind(coupon.park_id)
    .bind(store_code)
    .bind(coupon.coupon_code.unwrap_or(""))
    .bind(to_ms(now + GRACE))
    .bind(to_ms(now - GRACE))
    .fetch_all(&mut *conn)
    .await?;
    let open: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| !(c.3 == Some(1) && c.4 > 0))
        .collect();
    let reason = coupon.reason.map(str::trim);
    let chosen = open
        .iter()
        .find(|c| reason == Some(format!("{} {}", c.1, c.2).as_str()))
        .or_else(|| open.first())
        .map(|c| c.0);
    let Some(validation) = chosen else {
        return Ok(None);
    };
    sqlx::query(
        "INSERT INTO shop_token_claims (discount_id, validation_id, plate, claimed_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(coupon.discount_id)
    .bind(validation)
    .bind(coupon.plate)
    .bind(to_ms(now))
    .execute(&mut *conn)
    .await?;
    // The first claim's plate shows in the shop's history and statement.
    sqlx::query(
        "UPDATE shop_validations SET plate = COALESCE(plate, $1), updated_at = $2 WHERE id = $3",
    )
    .bind(coupon.plate)
    .bind(to_ms(now))
    .bind(validation)
    .execute(&mut *conn)
    .await?;
    tracing::info!(
        park = coupon.park_id,
        validation,
        discount = coupon.discount_id,
        grant_serial = coupon.grant_serial,
        "QR token claim linked to its shop validation"
    );
    Ok(Some(validation))
}
