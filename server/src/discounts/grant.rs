//! Recording a discount on a stay: the machine API's grant, idempotent by `discount_id`, and a
//! property manager's waiver (人工减免), audit-logged with the change.
//!
//! Both lock the stay's session row before they write (as a payment and the exit do), so a
//! discount is either in the figure a payment settled or recorded after it — never half of each.

use chrono::{DateTime, Utc};
use protocol::ledger::DiscountKind;
use protocol::tariff::Tariff;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use super::DiscountsError;
use super::store::{NewDiscount, Source, find_by_key, insert_once, keep_answer, view_by_id};
use super::view::{DiscountAnswer, StayOwed};
use crate::audit;
use crate::parking::SessionKey;
use crate::parking::stay::{StayRecord, open_stay, stay_by_id};
use crate::storage::Db;
use crate::tokens;

/// The car a discount is for.
pub type Vehicle = SessionKey;

/// A discount asked for through the machine API.
#[derive(Debug, Clone)]
pub struct GrantRequest<'a> {
    /// The car park.
    pub park_id: i64,
    /// The car, by plate or barcode (normalised).
    pub vehicle: Vehicle,
    /// The caller's idempotency key.
    pub discount_id: &'a str,
    /// What it takes off.
    pub kind: DiscountKind,
    /// Who gives it, as shown to people and Mallcoo (`source_name`).
    pub label: &'a str,
    /// Why, if the caller said.
    pub reason: Option<&'a str>,
    /// `apikey:<prefix>`.
    pub created_by: &'a str,
}

impl GrantRequest<'_> {
    /// SHA-256 (hex) of what the discount is: a retry has the same, another discount does not.
    fn digest(&self) -> String {
        let (by, car) = match &self.vehicle {
            SessionKey::Plate(p) => ("plate", p),
            SessionKey::Barcode(b) => ("barcode", b),
        };
        let canonical = json!({
            "park": self.park_id, by: car, "kind": self.kind.name(), "value": self.kind.value(),
            "source_name": self.label, "reason": self.reason,
        });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// A grant's answer (JSON text, as stored and replayed) and whether it was recorded now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Granted {
    /// Recorded by this request.
    Created(String),
    /// A retry of a recorded `discount_id`: the first answer.
    Replayed(String),
}

/// Records the discount `req` asks for at `now`, once per `discount_id` (see the module).
pub async fn grant(
    db: &Db,
    tariff: &Tariff,
    req: &GrantRequest<'_>,
    now: DateTime<Utc>,
) -> Result<Granted, DiscountsError> {
    let digest = req.digest();
    // A retry is answered as the first time, even after the car left.
    if let Some(answer) = replay(db, req, &digest).await? {
        return Ok(answer);
    }
    let window = matches!(req.kind, DiscountKind::FreeWindow(_));
    let plate = match &req.vehicle {
        SessionKey::Plate(p) => Some(p.as_str()),
        SessionKey::Barcode(_) if window => return Err(DiscountsError::PlateRequired),
        SessionKey::Barcode(_) => None,
    };
    let open = open_stay(db, req.park_id, &req.vehicle).await?;
    if open.is_none() && !window {
        return Err(DiscountsError::NoOpenSession);
    }
    let _turn = db.write_turn().await;
    let mut tx = db.pool.begin().await?;
    let locked = match &open {
        Some(stay) => lock_open(&mut tx, stay.id).await?,
        None => false,
    };
    if !locked && !window {
        // The car left since it was found; a concurrent retry may have recorded the key first.
        drop(tx);
        return replay(db, req, &digest)
            .await?
            .ok_or(DiscountsError::NoOpenSession);
    }
    let session = open.as_ref().filter(|_| locked);
    let new = NewDiscount {
        park_id: req.park_id,
        // A free window belongs to the plate, every other kind to the stay.
        session_id: if window { None } else { session.map(|s| s.id) },
        plate,
        source: Source::Api,
        source_key: req.discount_id,
        kind: req.kind,
        label: req.label,
        reason: req.reason,
        created_by: req.created_by,
        granted_at: now,
        request_digest: &digest,
    };
    let Some(id) = insert_once(&mut tx, &new).await? else {
        drop(tx);
        return replay(db, req, &digest)
            .await?
            .ok_or_else(|| DiscountsError::IdReused(req.discount_id.to_owned()));
    };
    let answer = answer(&mut tx, req.park_id, id, session.map(|s| s.id), tariff, now).await?;
    let text = serde_json::to_string(&answer).expect("an answer serialises");
    keep_answer(&mut tx, id, &text).await?;
    tx.commit().await?;
    tracing::info!(
        park = req.park_id,
        discount = id,
        discount_id = req.discount_id,
        kind = req.kind.name(),
        value = req.kind.value(),
        by = req.created_by,
        "discount granted"
    );
    Ok(Granted::Created(text))
}

/// The stored answer of `req.discount_id`, or `IdReused` when it names another discount.
async fn replay(
    db: &Db,
    req: &GrantRequest<'_>,
    digest: &str,
) -> Result<Option<Granted>, DiscountsError> {
    let mut conn = db.pool.acquire().await?;
    let Some(found) = find_by_key(&mut conn, req.park_id, Source::Api, req.discount_id).await?
    else {
        return Ok(None);
    };
    if found.request_digest != digest {
        tracing::warn!(
            park = req.park_id,
            discount_id = req.discount_id,
            "discount_id reused with another payload"
        );
        return Err(DiscountsError::IdReused(req.discount_id.to_owned()));
    }
    let text = match found.answer_json {
        Some(text) => text,
        // Never left empty by `grant`; answer what the row says rather than fail the retry.
        None => serde_json::to_string(&DiscountAnswer {
            discount: view_by_id(&mut conn, found.id).await?,
            stay: None,
        })
        .expect("an answer serialises"),
    };
    Ok(Some(Granted::Replayed(text)))
}

/// Locks open session `id` for this transaction (SQLite: the write lock; PostgreSQL: the row),
/// as payments and exits do first. False when it is no longer open.
pub async fn lock_open(conn: &mut AnyConnection, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE parking_sessions SET updated_at = updated_at WHERE id = $1 AND state = 'open'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Discount `id` with the stay `session_id` (if any) and what it owes at `now`.
pub(super) async fn answer(
    conn: &mut AnyConnection,
    park_id: i64,
    id: i64,
    session_id: Option<i64>,
    tariff: &Tariff,
    now: DateTime<Utc>,
) -> Result<DiscountAnswer, DiscountsError> {
    let discount = view_by_id(conn, id).await?;
    let stay = match session_id {
        Some(s) => stay_by_id(conn, park_id, s).await?,
        None => None,
    };
    Ok(DiscountAnswer {
        discount,
        stay: stay.map(|s| owed(&s, tariff, now)).transpose()?,
    })
}

fn owed(
    stay: &StayRecord,
    tariff: &Tariff,
    now: DateTime<Utc>,
) -> Result<StayOwed, DiscountsError> {
    Ok(StayOwed::new(stay, &stay.figure(tariff, now)?))
}

/// A property manager's waiver (人工减免) on open stay `session_id`: recorded, audit-logged in the
/// same transaction, and answered with what the car owes now. A `free_window` belongs to a plate,
/// not to a stay, so it is not a waiver.
pub async fn waive(
    db: &Db,
    tariff: &Tariff,
    park_id: i64,
    session_id: i64,
    waiver: &Waiver<'_>,
    now: DateTime<Utc>,
) -> Result<DiscountAnswer, DiscountsError> {
    let Waiver { kind, reason, user } = *waiver;
    if matches!(kind, DiscountKind::FreeWindow(_)) {
        return Err(DiscountsError::Unsupported(
            "a waiver is for this stay: amount, minutes, free or percent".to_owned(),
        ));
    }
    let _turn = db.write_turn().await;
    let mut tx = db.pool.begin().await?;
    if !lock_open(&mut tx, session_id).await? {
        return Err(DiscountsError::SessionClosed);
    }
    let Some(stay) = stay_by_id(&mut tx, park_id, session_id).await? else {
        return Err(DiscountsError::SessionClosed);
    };
    let key = format!("w{}", tokens::random_hex(8));
    let created_by = format!("user:{user}");
    let digest = hex::encode(Sha256::digest(
        json!({"session": session_id, "kind": kind.name(), "value": kind.value(), "reason": reason})
            .to_string()
            .as_bytes(),
    ));
    let new = NewDiscount {
        park_id,
        session_id: Some(session_id),
        plate: stay.plate.as_deref(),
        source: Source::Waiver,
        source_key: &key,
        kind,
        label: WAIVER_LABEL,
        reason: Some(reason),
        created_by: &created_by,
        granted_at: now,
        request_digest: &digest,
    };
    let id = insert_once(&mut tx, &new)
        .await?
        .ok_or_else(|| DiscountsError::Storage(sqlx::Error::RowNotFound))?;
    audit::record_on(
        &mut tx,
        &created_by,
        "discount.waive",
        &format!("session:{session_id}"),
        json!({"discount": id, "kind": kind.name(), "value": kind.value(), "reason": reason}),
    )
    .await?;
    let answer = answer(&mut tx, park_id, id, Some(session_id), tariff, now).await?;
    tx.commit().await?;
    tracing::info!(park = park_id, session = session_id, discount = id, by = %created_by, "waiver granted");
    Ok(answer)
}

/// A property manager's waiver: what it takes off, why, and who gives it.
#[derive(Debug, Clone, Copy)]
pub struct Waiver<'a> {
    /// What it takes off (not a `free_window`).
    pub kind: DiscountKind,
    /// Why (required).
    pub reason: &'a str,
    /// The user's name.
    pub user: &'a str,
}

/// How a waiver shows in `offlineDeduction` and on the stay's page.
pub const WAIVER_LABEL: &str = "人工减免";

/// A discount another feature records on an open stay inside its own transaction (a shop's
/// validation, whose quota must be used in the same one).
#[derive(Debug, Clone, Copy)]
pub struct StayGrant<'a> {
    /// The car park.
    pub park_id: i64,
    /// The open stay.
    pub session_id: i64,
    /// Where it comes from; with `source_key`, recorded once.
    pub source: Source,
    /// The source's key.
    pub source_key: &'a str,
    /// What it takes off (not a `free_window`: that belongs to a plate, not a stay).
    pub kind: DiscountKind,
    /// Who gives it, as people and Mallcoo read it.
    pub label: &'a str,
    /// `user:<name>`.
    pub created_by: &'a str,
    /// SHA-256 (hex) of the request.
    pub request_digest: &'a str,
}

/// Records `g` on its stay within the caller's transaction: locks the stay first, as every
/// writer of a stay does, and answers the discount with what the car owes now. `None` when the
/// stay is no longer open; `IdReused` when the key is taken.
pub async fn grant_on_stay(
    conn: &mut AnyConnection,
    tariff: &Tariff,
    g: &StayGrant<'_>,
    now: DateTime<Utc>,
) -> Result<Option<(i64, DiscountAnswer)>, DiscountsError> {
    if matches!(g.kind, DiscountKind::FreeWindow(_)) {
        return Err(DiscountsError::Unsupported(
            "a free_window belongs to a plate, not to a stay".to_owned(),
        ));
    }
    if !lock_open(conn, g.session_id).await? {
        return Ok(None);
    }
    let Some(stay) = stay_by_id(conn, g.park_id, g.session_id).await? else {
        return Ok(None);
    };
    let new = NewDiscount {
        park_id: g.park_id,
        session_id: Some(g.session_id),
        plate: stay.plate.as_deref(),
        source: g.source,
        source_key: g.source_key,
        kind: g.kind,
        label: g.label,
        reason: None,
        created_by: g.created_by,
        granted_at: now,
        request_digest: g.request_digest,
    };
    let id = insert_once(conn, &new)
        .await?
        .ok_or_else(|| DiscountsError::IdReused(g.source_key.to_owned()))?;
    let answer = answer(conn, g.park_id, id, Some(g.session_id), tariff, now).await?;
    keep_answer(
        conn,
        id,
        &serde_json::to_string(&answer).expect("an answer serialises"),
    )
    .await?;
    Ok(Some((id, answer)))
}
