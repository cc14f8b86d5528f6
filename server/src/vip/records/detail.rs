//! One record with its recharges, each with where its delivery to P云 stands.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::list::{VipRecordView, record_view};
use crate::storage::{Db, from_ms};

/// Where one recharge's delivery stands: its outbox batch's state and P云's last answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SyncView {
    /// `queued` (not batched yet), or the batch's outbox state.
    pub state: String,
    /// The outbox row (batch) carrying it.
    pub batch_id: Option<i64>,
    /// The full sync the batch belongs to.
    pub full_sync_job: Option<i64>,
    /// Attempts of the batch.
    pub attempts: i64,
    /// P云's `code`.
    pub code: Option<String>,
    /// P云's `message`.
    pub message: Option<String>,
    /// P云's `hint`.
    pub hint: Option<String>,
    /// P云's log reference.
    pub seqno: Option<String>,
    /// Our note on the last attempt.
    pub note: Option<String>,
    /// Last change of the batch.
    pub updated_at: Option<DateTime<Utc>>,
}

/// One recharge as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RechargeView {
    /// Recharge id.
    pub id: i64,
    /// The car park's order number (P云's key).
    pub pay_partner: String,
    /// Units bought.
    pub quantity: i64,
    /// 1 cash, 2 online.
    pub pay_type: u8,
    /// Face value as text.
    pub value: Option<String>,
    /// When it was paid.
    pub pay_time: DateTime<Utc>,
    /// Start of its period.
    pub renewal_start: Option<DateTime<Utc>>,
    /// End of its period (inclusive).
    pub renewal_end: Option<DateTime<Utc>>,
    /// Amount paid, fen.
    pub pay_value_fen: i64,
    /// Who took the payment.
    pub operator: Option<String>,
    /// `ui`, `import` or `api`.
    pub source: String,
    /// Its delivery to P云.
    pub sync: SyncView,
}

/// A record and its recharges, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VipRecordDetail {
    /// The record.
    pub record: VipRecordView,
    /// Its recharges, newest first.
    pub recharges: Vec<RechargeView>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    pay_partner: String,
    quantity: i64,
    pay_type: i64,
    value: Option<String>,
    pay_time: i64,
    renewal_start: Option<i64>,
    renewal_end: Option<i64>,
    pay_value: i64,
    operator: Option<String>,
    source: String,
    outbox_id: Option<i64>,
    state: Option<String>,
    sync_job_id: Option<i64>,
    attempts: Option<i64>,
    pyun_code: Option<String>,
    pyun_message: Option<String>,
    pyun_hint: Option<String>,
    pyun_seqno: Option<String>,
    last_error: Option<String>,
    updated_at: Option<i64>,
}

impl Row {
    fn into_view(self) -> RechargeView {
        RechargeView {
            id: self.id,
            pay_partner: self.pay_partner,
            quantity: self.quantity,
            pay_type: u8::try_from(self.pay_type).unwrap_or(1),
            value: self.value,
            pay_time: from_ms(self.pay_time),
            renewal_start: self.renewal_start.map(from_ms),
            renewal_end: self.renewal_end.map(from_ms),
            pay_value_fen: self.pay_value,
            operator: self.operator,
            source: self.source,
            sync: SyncView {
                state: match (self.outbox_id, self.state) {
                    (Some(_), Some(s)) => s,
                    _ => "queued".to_owned(),
                },
                batch_id: self.outbox_id,
                full_sync_job: self.sync_job_id,
                attempts: self.attempts.unwrap_or(0),
                code: self.pyun_code,
                message: self.pyun_message,
                hint: self.pyun_hint,
                seqno: self.pyun_seqno,
                note: self.last_error,
                updated_at: self.updated_at.map(from_ms),
            },
        }
    }
}

/// The recharges of record `record_id`, newest first (`vip_recharges_record_idx`).
pub(super) async fn recharges_of(
    db: &Db,
    record_id: i64,
) -> Result<Vec<RechargeView>, sqlx::Error> {
    let rows = sqlx::query_as::<_, Row>(
        "SELECT r.id, r.pay_partner, r.quantity, r.pay_type, r.value, r.pay_time, r.renewal_start, \
         r.renewal_end, r.pay_value, r.operator, r.source, r.outbox_id, o.state, o.sync_job_id, \
         o.attempts, o.pyun_code, o.pyun_message, o.pyun_hint, o.pyun_seqno, o.last_error, o.updated_at \
         FROM vip_recharges r LEFT JOIN outbox o ON o.id = r.outbox_id \
         WHERE r.record_id = $1 ORDER BY r.id DESC",
    )
    .bind(record_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(Row::into_view).collect())
}

/// Record `id` with its recharges, if it exists.
pub async fn get_detail(db: &Db, id: i64) -> Result<Option<VipRecordDetail>, sqlx::Error> {
    let Some(record) = record_view(db, id).await? else {
        return Ok(None);
    };
    Ok(Some(VipRecordDetail {
        recharges: recharges_of(db, id).await?,
        record,
    }))
}
