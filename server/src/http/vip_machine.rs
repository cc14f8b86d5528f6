//! The machine API for VIP recharges (PROTOCOLS.md §3): a local system that keeps its own VIP
//! list sends P云 `ParkingVIP` rows with an API key of scope `vip`; ParkBridge records them and
//! its sync delivers them to P云.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::pyun::ParkingVip;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::json::ApiJson;
use super::machine::park_for;
use super::{AppState, schema_rules};
use crate::api_keys::MachineClient;
use crate::audit;
use crate::error::{ApiError, ErrorBody};
use crate::vip::records;

/// Most rows one call may carry.
const MAX_ROWS: usize = 1000;

/// A batch of recharges for one car park.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VipRows {
    /// The car park's code.
    #[schema(schema_with = schema_rules::park_code)]
    park: String,
    /// P云 `ParkingVIP` rows (PROTOCOLS.md §1.5 field names), 1 to 1000.
    #[schema(value_type = Vec<schema_rules::ParkingVipSchema>, min_items = 1, max_items = 1000)]
    rows: Vec<ParkingVip>,
}

/// What the call recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct VipRowsAccepted {
    /// Rows that added a recharge.
    accepted: u64,
    /// Rows already recorded with the same content (nothing added).
    duplicates: u64,
    /// The recharge of every row, in row order.
    recharge_ids: Vec<i64>,
}

/// `POST /api/v1/vip/recharges`.
#[utoipa::path(
    post,
    path = "/api/v1/vip/recharges",
    tag = "vip",
    security(("api_key" = [])),
    request_body = VipRows,
    responses(
        (status = 202, description = "Recorded; delivered to P云 by the sync", body = VipRowsAccepted),
        (status = 400, description = "`invalid_body`, `invalid_field` (not 1 to 1000 rows)", body = ErrorBody),
        (status = 422, description = "`unknown_park`: no car park has this code; `invalid_field`: a row breaks a limit (lengths, `pay_value ≥ 0`, a period that ends before it starts), named by its index", body = ErrorBody),
        (status = 403, description = "The key may not act on this car park", body = ErrorBody),
        (status = 409, description = "`pay_partner_taken`: an order number already recorded with other content", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(client): Extension<MachineClient>,
    ApiJson(body): ApiJson<VipRows>,
) -> Result<(StatusCode, Json<VipRowsAccepted>), ApiError> {
    let park = park_for(&state, &client, &body.park).await?;
    if body.rows.is_empty() || body.rows.len() > MAX_ROWS {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("`rows` must hold 1 to {MAX_ROWS} rows"),
        ));
    }
    let done =
        records::upsert_from_pyun_rows(&state.db, park.id, &body.rows, &client.actor()).await?;
    if done.accepted > 0 {
        audit::record(
            &state.db,
            &client.actor(),
            "vip.recharge.api",
            &format!("park:{}", park.id),
            json!({ "accepted": done.accepted, "duplicates": done.duplicates }),
        )
        .await?;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(VipRowsAccepted {
            accepted: done.accepted,
            duplicates: done.duplicates,
            recharge_ids: done.ids,
        }),
    ))
}
