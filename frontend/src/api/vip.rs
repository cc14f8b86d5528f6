//! The VIP (固定车) part of the API: records and their recharges.
//!
//! Field names follow the server's answers (`server/src/vip/records/detail.rs`, `list.rs`);
//! every field the UI can live without has a default, so extra or missing optional fields never
//! break a page.

use gloo_net::http::Request;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ApiError, get, lenient_text, post, send};

/// One VIP record as lists and the record page show it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct VipRecordView {
    /// Id.
    pub(crate) id: i64,
    /// Car park id.
    pub(crate) park_id: i64,
    /// Normalised plate.
    pub(crate) plate: String,
    /// P云 plate colour code.
    #[serde(default)]
    pub(crate) plate_color: i32,
    /// Logical card number.
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) card_no: Option<String>,
    /// Physical card number.
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) card_id: Option<String>,
    /// The car park's VIP tariff id.
    #[serde(default)]
    pub(crate) charge_type: String,
    /// P云 VIP type code, 0–7.
    pub(crate) vip_type: u8,
    /// Start of validity (RFC 3339).
    #[serde(default)]
    pub(crate) valid_from: Option<String>,
    /// End of validity, inclusive (RFC 3339).
    #[serde(default)]
    pub(crate) valid_to: Option<String>,
    /// Whether valid right now.
    #[serde(default)]
    pub(crate) valid_now: bool,
    /// Recharges so far.
    #[serde(default)]
    pub(crate) recharge_count: i64,
    /// Worst sync state over its recharges: `none`, `queued`, `pending`, `delivered`, `problem`.
    #[serde(default)]
    pub(crate) sync: String,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub(crate) created_at: String,
    /// Last change (RFC 3339).
    #[serde(default)]
    pub(crate) updated_at: String,
}

impl VipRecordView {
    /// Whether its sync state may still change without anyone acting.
    pub(crate) fn in_flight(&self) -> bool {
        matches!(self.sync.as_str(), "queued" | "pending")
    }
}

/// What P云 answered to a delivery, with our hint on its code and our note when it never did.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub(crate) struct PyunVerdict {
    /// P云's result code.
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) code: Option<String>,
    /// P云's message.
    #[serde(default)]
    pub(crate) message: Option<String>,
    /// Our hint on the code.
    #[serde(default)]
    pub(crate) hint: Option<String>,
    /// Our note when P云 never answered.
    #[serde(default)]
    pub(crate) note: Option<String>,
}

/// Where one recharge stands with P云.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub(crate) struct SyncView {
    /// `queued` (not batched yet), `pending`, `sending`, `delivered`, `rejected`,
    /// `misconfigured`, `failed` or `unknown`.
    #[serde(default)]
    pub(crate) state: String,
    /// The outbox batch carrying it.
    #[serde(default)]
    pub(crate) batch_id: Option<i64>,
    /// The full-sync job that sent it, if any.
    #[serde(default)]
    pub(crate) full_sync_job: Option<i64>,
    /// Calls made so far.
    #[serde(default)]
    pub(crate) attempts: i64,
    /// P云's answer and our words on it.
    #[serde(flatten)]
    pub(crate) answer: PyunVerdict,
    /// P云's sequence number.
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) seqno: Option<String>,
    /// Last change (RFC 3339).
    #[serde(default)]
    pub(crate) updated_at: Option<String>,
}

impl SyncView {
    /// Whether the state may still change without anyone acting.
    pub(crate) fn in_flight(&self) -> bool {
        matches!(self.state.as_str(), "queued" | "pending" | "sending")
    }
}

/// One recharge (renewal) of a record.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct RechargeView {
    /// Id.
    pub(crate) id: i64,
    /// Order number, P云's key for the recharge.
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) pay_partner: Option<String>,
    /// Units bought.
    #[serde(default)]
    pub(crate) quantity: u32,
    /// 1 cash, 2 online.
    #[serde(default)]
    pub(crate) pay_type: u8,
    /// Face value (amount, count or days).
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) value: Option<String>,
    /// When paid (RFC 3339).
    #[serde(default)]
    pub(crate) pay_time: String,
    /// Start of the period it bought (RFC 3339).
    #[serde(default)]
    pub(crate) renewal_start: Option<String>,
    /// End of that period, inclusive (RFC 3339).
    #[serde(default)]
    pub(crate) renewal_end: Option<String>,
    /// Amount paid, in fen.
    #[serde(default)]
    pub(crate) pay_value_fen: i64,
    /// Who entered it.
    #[serde(default)]
    pub(crate) operator: Option<String>,
    /// `ui`, `import` or `api`.
    #[serde(default)]
    pub(crate) source: String,
    /// Where it stands with P云.
    #[serde(default)]
    pub(crate) sync: SyncView,
}

/// A record with its recharges, newest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct VipRecordDetail {
    /// The record.
    pub(crate) record: VipRecordView,
    /// Its recharges.
    #[serde(default)]
    pub(crate) recharges: Vec<RechargeView>,
}

/// One page of the records list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct VipRecordPage {
    /// The records.
    pub(crate) records: Vec<VipRecordView>,
    /// Matches over all pages.
    #[serde(default)]
    pub(crate) total: u64,
}

/// Filters and paging for the records list; empty texts are left out of the query.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct VipFilter {
    /// Plate substring.
    pub(crate) plate: String,
    /// VIP type code.
    pub(crate) vip_type: String,
    /// `valid` or `expired`.
    pub(crate) validity: String,
    /// Sync state.
    pub(crate) sync: String,
    /// Rows skipped.
    pub(crate) offset: u64,
}

/// Rows per page of the records list.
pub(crate) const PAGE_SIZE: u64 = 50;

/// What a recharge form sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct RechargeInput {
    /// Units bought.
    pub(crate) quantity: u32,
    /// 1 cash, 2 online.
    pub(crate) pay_type: u8,
    /// Face value, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<String>,
    /// Amount paid, in fen.
    pub(crate) pay_value_fen: i64,
    /// Explicit start (RFC 3339); the server computes the period when both dates are absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) start: Option<String>,
    /// Explicit end (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) end: Option<String>,
}

/// What the add form sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct NewVipRecord {
    /// Plate, normalised.
    pub(crate) plate: String,
    /// P云 plate colour code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plate_color: Option<i32>,
    /// Logical card number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) card_no: Option<String>,
    /// Physical card number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) card_id: Option<String>,
    /// The car park's VIP tariff id.
    pub(crate) charge_type: String,
    /// P云 VIP type code.
    pub(crate) vip_type: u8,
    /// The first recharge.
    pub(crate) recharge: RechargeInput,
}

fn to_body<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Decode(e.to_string()))
}

/// `GET /api/v1/parks/{id}/vip/records` with `filter`, one page of [`PAGE_SIZE`].
pub(crate) async fn vip_records(
    park_id: i64,
    filter: &VipFilter,
) -> Result<VipRecordPage, ApiError> {
    let offset = filter.offset.to_string();
    let limit = PAGE_SIZE.to_string();
    let params = [
        ("plate", filter.plate.as_str()),
        ("vip_type", filter.vip_type.as_str()),
        ("validity", filter.validity.as_str()),
        ("sync", filter.sync.as_str()),
        ("offset", offset.as_str()),
        ("limit", limit.as_str()),
    ];
    let builder = Request::get(&format!("/api/v1/parks/{park_id}/vip/records"))
        .query(params.into_iter().filter(|(_, v)| !v.is_empty()));
    send(builder, None).await
}

/// `POST /api/v1/parks/{id}/vip/records`.
pub(crate) async fn create_vip(
    park_id: i64,
    record: &NewVipRecord,
) -> Result<VipRecordDetail, ApiError> {
    post(
        &format!("/api/v1/parks/{park_id}/vip/records"),
        to_body(record)?,
    )
    .await
}

/// `GET /api/v1/vip/records/{rid}`.
pub(crate) async fn vip_record(id: i64) -> Result<VipRecordDetail, ApiError> {
    get(&format!("/api/v1/vip/records/{id}")).await
}

/// `POST /api/v1/vip/records/{rid}/recharges`.
pub(crate) async fn add_recharge(
    id: i64,
    recharge: &RechargeInput,
) -> Result<VipRecordDetail, ApiError> {
    post(
        &format!("/api/v1/vip/records/{id}/recharges"),
        to_body(recharge)?,
    )
    .await
}
