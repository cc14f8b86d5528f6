//! `discount.create` / `discount.destroy` (pyun-carpark.md §3.3–3.4, D15, D17): coupons P云
//! issues for a car become §5.1 discounts of source `pyun`, keyed by `grant_serial`; each change
//! revokes the stay's open fee orders, since an order priced without (or with) the coupon must
//! not stay payable.

use chrono::{DateTime, Utc};
use protocol::pyun_carpark::{
    DiscountCreateReply, DiscountDestroyReply, DiscountGrant, DiscountRevocation,
};
use sha2::{Digest, Sha256};

use super::GatewayFailure;
use super::orders;
use super::park::GatewayPark;
use crate::discounts::{self, DiscountsError, NewDiscount, Source, insert_once, lock_open};
use crate::parking::SessionKey;
use crate::parking::stay::{open_stay, stay_by_id};
use crate::shops::claims::{self, ClaimedCoupon};
use crate::storage::Db;

/// How a P云 coupon shows when P云 names no shop.
const PYUN_LABEL: &str = "P云优惠";

/// A recorded grant's state and its stay's, if any.
async fn recorded(
    db: &Db,
    park_id: i64,
    grant_serial: &str,
) -> Result<Option<(i64, String, Option<i64>, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.id, d.state, d.session_id, s.state FROM parking_discounts d \
         LEFT JOIN parking_sessions s ON s.id = d.session_id \
         WHERE d.park_id = $1 AND d.source = 'pyun' AND d.source_key = $2",
    )
    .bind(park_id)
    .bind(grant_serial)
    .fetch_optional(&db.pool)
    .await
}

fn digest(g: &DiscountGrant) -> String {
    let canonical = serde_json::json!({
        "grant_serial": g.grant_serial, "type": g.pyun_type, "value": g.value,
        "parking_serial": g.parking_serial, "plate": g.plate,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// The answer to a grant already recorded: applied once, refused once revoked.
fn again(state: &str, grant_serial: &str) -> DiscountCreateReply {
    tracing::info!(grant_serial, state, "P云 discount.create repeated");
    if state == "revoked" {
        DiscountCreateReply::Revoked
    } else {
        DiscountCreateReply::AlreadyApplied
    }
}

/// Answers `discount.create` at `now`.
pub async fn create(
    db: &Db,
    park: &GatewayPark,
    g: &DiscountGrant,
    now: DateTime<Utc>,
) -> Result<DiscountCreateReply, GatewayFailure> {
    if let Some((_, state, _, _)) = recorded(db, park.id, &g.grant_serial).await? {
        return Ok(again(&state, &g.grant_serial));
    }
    let plate = g
        .plate
        .as_deref()
        .map(protocol::plate::Plate::parse)
        .transpose()
        .map_err(|_| GatewayFailure::Refused("plate 车牌号无效"))?
        .map(|p| p.into_string());
    // The stay: by our serial when P云 sends it, else the plate's open stay.
    let stay = match g
        .parking_serial
        .as_deref()
        .and_then(crate::parking::serial::session_of)
    {
        Some(session) => {
            let mut conn = db.pool.acquire().await?;
            stay_by_id(&mut conn, park.id, session).await?
        }
        None => match &plate {
            Some(p) => open_stay(db, park.id, &SessionKey::Plate(p.clone())).await?,
            None => None,
        },
    };
    let window = g.plate_scoped();
    if !window {
        match &stay {
            None => return Ok(DiscountCreateReply::NoStay),
            Some(s) if !s.is_open() => return Ok(DiscountCreateReply::CarLeft),
            Some(_) => {}
        }
    }
    // A type-5 window belongs to the plate: P云's, or the stay's.
    let plate = plate.or_else(|| stay.as_ref().and_then(|s| s.plate.clone()));
    if window && plate.is_none() {
        return Ok(DiscountCreateReply::NoStay);
    }
    let open = stay.filter(|s| s.is_open());
    let mut tx = db.pool.begin().await?;
    let locked = match &open {
        Some(s) => lock_open(&mut tx, s.id).await?,
        None => false,
    };
    if !locked && !window {
        return Ok(DiscountCreateReply::CarLeft);
    }
    let session = open.as_ref().filter(|_| locked).map(|s| s.id);
    let digest = digest(g);
    let label = g.store_name.as_deref().unwrap_or(PYUN_LABEL);
    let reason = g.reason.as_deref().or(g.coupon_name.as_deref());
    let new = NewDiscount {
        park_id: park.id,
        session_id: if window { None } else { session },
        plate: plate.as_deref(),
        source: Source::Pyun,
        source_key: &g.grant_serial,
        kind: g.kind,
        label,
        reason,
        created_by: "pyun",
        granted_at: now,
        request_digest: &digest,
    };
    let Some(id) = insert_once(&mut tx, &new).await? else {
        drop(tx);
        // A concurrent delivery of the same grant recorded it first.
        let state = recorded(db, park.id, &g.grant_serial)
            .await?
            .map(|r| r.1)
            .unwrap_or_default();
        return Ok(again(&state, &g.grant_serial));
    };
    let voided = match session {
        Some(s) => orders::void_open(&mut tx, s, now).await?,
        None => 0,
    };
    let claimed = ClaimedCoupon {
        park_id: park.id,
        grant_serial: &g.grant_serial,
        store_code: g.store_code.as_deref(),
        coupon_code: g.coupon_code.as_deref(),
        reason: g.reason.as_deref(),
        plate: plate.as_deref(),
        discount_id: id,
    };
    claims::link(&mut tx, &claimed, now).await?;
    tx.commit().await?;
    tracing::info!(park = park.id, discount = id, grant_serial = %g.grant_serial,
        kind = g.kind.name(), value = g.kind.value(), session = ?session, voided,
        coupon_code = ?g.coupon_code, store_code = ?g.store_code, "P云 discount applied");
    Ok(DiscountCreateReply::Applied)
}

/// Answers `discount.destroy` at `now`.
pub async fn destroy(
    db: &Db,
    park: &GatewayPark,
    r: &DiscountRevocation,
    now: DateTime<Utc>,
) -> Result<DiscountDestroyReply, GatewayFailure> {
    let Some((_, state, session, session_state)) = recorded(db, park.id, &r.grant_serial).await?
    else {
        return Ok(DiscountDestroyReply::NotFound);
    };
    if state == "revoked" {
        return Ok(DiscountDestroyReply::AlreadyRevoked);
    }
    if state == "used" || session_state.as_deref().is_some_and(|s| s != "open") {
        return Ok(DiscountDestroyReply::NotRevocable);
    }
    match discounts::revoke(
        db,
        &park.tariff,
        park.id,
        Source::Pyun,
        &r.grant_serial,
        now,
    )
    .await
    {
        Ok(_) => {}
        Err(DiscountsError::Used(_)) => return Ok(DiscountDestroyReply::NotRevocable),
        Err(DiscountsError::Unknown(_)) => return Ok(DiscountDestroyReply::NotFound),
        Err(e) => return Err(e.into()),
    }
    if let Some(s) = session {
        // An order priced with the coupon must not stay payable; a payment for one that slips
        // through meanwhile is refused anyway, its figure having changed.
        let mut conn = db.pool.acquire().await?;
        orders::void_open(&mut conn, s, now).await?;
    }
    tracing::info!(park = park.id, grant_serial = %r.grant_serial, "P云 discount revoked");
    Ok(DiscountDestroyReply::Revoked)
}
