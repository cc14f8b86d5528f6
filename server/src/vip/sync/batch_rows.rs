//! A VIP batch as P云 receives it: the recharges its outbox row carries, joined with their
//! records, in id order, signed over the exact bytes sent (PROTOCOLS.md §1.2 JSON scheme).

use protocol::pyun::{ParkingVip, PayType, VIP_RECHARGE_PATH, VipRechargeBatch};

use super::BatchRequest;
use crate::outbox::park_signers::ParkSigner;
use crate::outbox::store::Item;
use crate::pyun_client::Endpoint;
use crate::storage::{Db, from_ms};

/// A batch ready to post.
#[derive(Debug)]
pub struct SignedBatch {
    /// For logs and metrics.
    pub endpoint: Endpoint,
    /// P云's path.
    pub path: &'static str,
    /// The JSON body, byte for byte as signed.
    pub body: Vec<u8>,
    /// The `Authorization` header: the body's signature.
    pub authorization: String,
    /// Rows in the batch.
    pub rows: usize,
}

/// What a batch's outbox row turns into at send time.
#[derive(Debug)]
pub enum Prepared {
    /// A signed request.
    Send(SignedBatch),
    /// Nothing to send: its recharges have since moved to a full sync's batches (the note says so).
    Empty(String),
}

/// Why a batch cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The database could not be read: the lease runs out and the batch is tried again.
    #[error("storage failure: {0}")]
    Storage(#[from] sqlx::Error),
    /// Our configuration lacks something P云 needs: an admin must act.
    #[error("{0}")]
    NotConfigured(String),
    /// A stored row does not make a valid P云 row: the batch is rejected, naming it.
    #[error("{0}")]
    Invalid(String),
}

#[derive(sqlx::FromRow)]
struct RechargeRow {
    plate: String,
    plate_color: i64,
    card_no: Option<String>,
    card_id: Option<String>,
    charge_type: String,
    vip_type: i64,
    quantity: i64,
    pay_partner: String,
    pay_type: i64,
    value: Option<String>,
    pay_time: i64,
    renewal_start: Option<i64>,
    renewal_end: Option<i64>,
    pay_value: i64,
    operator: Option<String>,
}

impl RechargeRow {
    fn into_pyun(self) -> Result<ParkingVip, String> {
        let bad = |what: &str| format!("recharge {} has {what}", self.pay_partner);
        let (plate, plate_color, vip_type) =
            crate::vip::stored_codes(&self.plate, self.plate_color, self.vip_type)
                .map_err(|why| bad(&why))?;
        Ok(ParkingVip {
            plate,
            plate_color,
            card_no: self.card_no.clone(),
            card_id: self.card_id.clone(),
            charge_type: self.charge_type.clone(),
            vip_type,
            quantity: u32::try_from(self.quantity).map_err(|_| bad("a quantity out of range"))?,
            pay_type: PayType::from_code(self.pay_type)
                .ok_or_else(|| bad("an unknown pay_type"))?,
            value: self.value.clone(),
            pay_time: Some(from_ms(self.pay_time)),
            renewal_start_time: self.renewal_start.map(from_ms),
            renewal_end_time: self.renewal_end.map(from_ms),
            pay_value: Some(self.pay_value),
            operator: self.operator.clone(),
            pay_partner: self.pay_partner,
        })
    }
}

/// The rows batch `outbox_id` carries now, oldest first.
pub async fn rows(db: &Db, outbox_id: i64) -> Result<Result<Vec<ParkingVip>, String>, sqlx::Error> {
    let stored = sqlx::query_as::<_, RechargeRow>(
        "SELECT r.plate, r.plate_color, r.card_no, r.card_id, r.charge_type, r.vip_type, c.quantity, \
         c.pay_partner, c.pay_type, c.value, c.pay_time, c.renewal_start, c.renewal_end, c.pay_value, c.operator \
         FROM vip_recharges c JOIN vip_records r ON r.id = c.record_id WHERE c.outbox_id = $1 ORDER BY c.id",
    )
    .bind(outbox_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(stored.into_iter().map(RechargeRow::into_pyun).collect())
}

/// Reads and signs batch `item` for `signer`'s car park.
pub async fn prepare(db: &Db, item: &Item, signer: &ParkSigner) -> Result<Prepared, BatchError> {
    let request: BatchRequest = serde_json::from_str(&item.request_json)
        .map_err(|e| BatchError::Invalid(format!("stored batch unreadable: {e}")))?;
    let park_uuid = signer.park_uuid.clone().ok_or_else(|| {
        BatchError::NotConfigured(format!(
            "car park {} has no P云 park_uuid",
            signer.park_code
        ))
    })?;
    let rows = rows(db, item.id).await?.map_err(BatchError::Invalid)?;
    if rows.is_empty() {
        return Ok(Prepared::Empty(
            "its recharges were moved to a later full sync, which sends them".into(),
        ));
    }
    let count = rows.len();
    let batch = VipRechargeBatch {
        park_uuid,
        complete: request.complete,
        rows,
    };
    let (body, authorization) = batch
        .to_signed_body(signer.secret.expose())
        .map_err(|e| BatchError::Invalid(format!("the batch cannot be sent: {e}")))?;
    Ok(Prepared::Send(SignedBatch {
        endpoint: Endpoint::VipRecharge,
        path: VIP_RECHARGE_PATH,
        body,
        authorization,
        rows: count,
    }))
}
