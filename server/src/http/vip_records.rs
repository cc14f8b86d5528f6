//! Property managers' VIP routes (contract §2): list a car park's records, add one with its first
//! recharge, read one with its recharges, and renew it.

use axum::Extension;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use protocol::plate::{Plate, PlateColor};
use protocol::pyun::{PayType, VipType};
use protocol::vip::renewal::Period;
use serde::Deserialize;
use serde_json::json;

use super::json::ApiJson;
use super::{AppState, schema_rules};
use crate::accounts::CurrentUser;
use crate::audit;
use crate::error::{ApiError, ErrorBody};
use crate::parks;
use crate::vip::records::{
    self, ListFilter, NewRecharge, NewRecord, RecordPage, Source, SyncClass, Validity,
    VipRecordDetail,
};

/// Largest page of records.
const MAX_LIMIT: u32 = 200;

/// The car park `id` if it exists and `user` may act on it; 404 otherwise (nothing is revealed
/// about car parks the user cannot see).
pub(crate) async fn visible_park(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<parks::Park, ApiError> {
    if !user.may_access_park(id) {
        return Err(ApiError::NotFound);
    }
    parks::get(&state.db, id).await?.ok_or(ApiError::NotFound)
}

/// A query string that does not parse is the client's mistake, answered in our envelope.
pub(crate) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(v)| v)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

/// A recharge as a person enters it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RechargeInput {
    /// Units bought (months, days, …); 0 only with an explicit period.
    #[schema(value_type = i64, minimum = 0, maximum = 4294967295_i64)]
    quantity: u32,
    /// 1 cash, 2 online.
    #[schema(minimum = 1, maximum = 2)]
    pay_type: u8,
    /// Face value as text (amount, count, days).
    value: Option<String>,
    /// Amount paid in fen (≥ 0).
    #[schema(minimum = 0)]
    pay_value_fen: i64,
    /// When it was paid (default now).
    pay_time: Option<DateTime<Utc>>,
    /// The car park's order number (default generated).
    pay_partner: Option<String>,
    /// Start of the period; with `end`, else computed from the card type.
    start: Option<DateTime<Utc>>,
    /// End of the period (inclusive).
    end: Option<DateTime<Utc>>,
}

impl RechargeInput {
    fn into_new(self, user: &CurrentUser) -> Result<NewRecharge, ApiError> {
        let pay_type = PayType::from_code(i64::from(self.pay_type)).ok_or_else(|| {
            ApiError::bad_request("invalid_field", "pay_type must be 1 (cash) or 2 (online)")
        })?;
        let period = match (self.start, self.end) {
            (Some(start), Some(end)) => Some(Period { start, end }),
            (None, None) => None,
            _ => {
                return Err(ApiError::unprocessable(
                    "invalid_field",
                    "give both `start` and `end`, or neither",
                ));
            }
        };
        Ok(NewRecharge {
            quantity: self.quantity,
            pay_type,
            value: self.value,
            pay_value_fen: self.pay_value_fen,
            pay_time: self.pay_time.unwrap_or_else(Utc::now),
            pay_partner: self.pay_partner,
            period,
            operator: Some(user.username.clone()),
            source: Source::Ui,
        })
    }
}

/// A new record and its first recharge.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewVipRecord {
    /// The car's plate.
    #[schema(schema_with = schema_rules::plate)]
    plate: String,
    /// P云 colour code (default from the plate: green for new-energy, else blue).
    #[schema(schema_with = schema_rules::optional_plate_color)]
    plate_color: Option<i32>,
    /// Logical card number.
    card_no: Option<String>,
    /// Physical card number.
    card_id: Option<String>,
    /// The car park's VIP tariff id, 1–64 characters.
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    charge_type: String,
    /// P云 card type code 0–7.
    #[schema(maximum = 7)]
    vip_type: u8,
    /// The first recharge.
    recharge: RechargeInput,
}

fn new_record(body: &NewVipRecord) -> Result<NewRecord, ApiError> {
    let plate = Plate::parse(&body.plate)
        .map_err(|e| ApiError::bad_request("invalid_plate", format!("plate: {e}")))?;
    let plate_color = match body.plate_color {
        None => PlateColor::default_for(plate.kind()),
        Some(c) => PlateColor::from_code(c).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_field",
                format!("plate_color {c} is not one of 1, 2, 3, 4, 5, -1"),
            )
        })?,
    };
    let vip_type = VipType::from_code(i64::from(body.vip_type)).ok_or_else(|| {
        ApiError::bad_request("invalid_field", "vip_type must be a code from 0 to 7")
    })?;
    Ok(NewRecord {
        plate,
        plate_color,
        card_no: body.card_no.clone(),
        card_id: body.card_id.clone(),
        charge_type: body.charge_type.clone(),
        vip_type,
    })
}

/// Filters of the records list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Part of a plate.
    plate: Option<String>,
    /// P云 card type code (0–7 are defined; others match nothing).
    #[param(minimum = 0, maximum = 255)]
    vip_type: Option<u8>,
    /// `valid` or `expired`; empty means any.
    #[param(pattern = "^(?:|valid|expired)$")]
    validity: Option<String>,
    /// `queued`, `pending`, `delivered` or `problem`; empty means any.
    #[param(pattern = "^(?:|queued|pending|delivered|problem)$")]
    sync: Option<String>,
    /// Records to skip.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    offset: Option<u32>,
    /// Page size (default 50); values outside 1–200 are served as 1 or 200.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    limit: Option<u32>,
}

/// `GET /api/v1/parks/{id}/vip/records`.
#[utoipa::path(
    get,
    path = "/api/v1/parks/{id}/vip/records",
    tag = "vip",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id"), ListQuery),
    responses(
        (status = 200, description = "A page of records, newest first", body = RecordPage),
        (status = 400, description = "Unknown filter value", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<RecordPage>, ApiError> {
    let q = query(q)?;
    visible_park(&state, &user, id).await?;
    let validity = match q.validity.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some("valid") => Some(Validity::Valid),
        Some("expired") => Some(Validity::Expired),
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("validity must be `valid` or `expired`, not `{other}`"),
            ));
        }
    };
    let sync = match q.sync.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(s) => Some(SyncClass::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!("sync must be queued, pending, delivered or problem, not `{s}`"),
            )
        })?),
    };
    let filter = ListFilter {
        plate: q.plate,
        vip_type: q.vip_type,
        validity,
        sync,
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(50).clamp(1, MAX_LIMIT),
    };
    Ok(Json(records::list(&state.db, id, &filter).await?))
}

/// `POST /api/v1/parks/{id}/vip/records`.
#[utoipa::path(
    post,
    path = "/api/v1/parks/{id}/vip/records",
    tag = "vip",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    request_body = NewVipRecord,
    responses(
        (status = 201, description = "The record with its first recharge", body = VipRecordDetail),
        (status = 400, description = "`invalid_plate`", body = ErrorBody),
        (status = 422, description = "`invalid_field`: values that do not fit together (e.g. `start` without `end`, a renewal of 0 units) or break a limit; `period_required`: this card type needs an explicit `start` and `end`", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
        (status = 409, description = "`vip_exists`, `pay_partner_taken`", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NewVipRecord>,
) -> Result<(StatusCode, Json<VipRecordDetail>), ApiError> {
    visible_park(&state, &user, id).await?;
    let record = new_record(&body)?;
    let recharge = body.recharge.into_new(&user)?;
    let rid = records::insert_record(&state.db, id, &record, &recharge).await?;
    let detail = records::get_detail(&state.db, rid)
        .await?
        .ok_or(ApiError::NotFound)?;
    audit::record(
        &state.db,
        &user.actor(),
        "vip.record.create",
        &format!("vip_record:{rid}"),
        json!({
            "park_id": id,
            "plate": detail.record.plate,
            "vip_type": detail.record.vip_type,
            "pay_partner": detail.recharges.first().map(|r| r.pay_partner.clone()),
        }),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// The record `rid` if `user` may see its car park.
async fn visible_detail(
    state: &AppState,
    user: &CurrentUser,
    rid: i64,
) -> Result<VipRecordDetail, ApiError> {
    let detail = records::get_detail(&state.db, rid)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !user.may_access_park(detail.record.park_id) {
        return Err(ApiError::NotFound);
    }
    Ok(detail)
}

/// `GET /api/v1/vip/records/{rid}`.
#[utoipa::path(
    get,
    path = "/api/v1/vip/records/{rid}",
    tag = "vip",
    security(("session" = [])),
    params(("rid" = i64, Path, description = "Record id")),
    responses(
        (status = 200, description = "The record with its recharges, newest first", body = VipRecordDetail),
        (status = 404, description = "No such record for this user", body = ErrorBody),
    )
)]
pub(crate) async fn detail(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(rid): Path<i64>,
) -> Result<Json<VipRecordDetail>, ApiError> {
    Ok(Json(visible_detail(&state, &user, rid).await?))
}

/// `POST /api/v1/vip/records/{rid}/recharges`: renew.
#[utoipa::path(
    post,
    path = "/api/v1/vip/records/{rid}/recharges",
    tag = "vip",
    security(("session" = [])),
    params(("rid" = i64, Path, description = "Record id")),
    request_body = RechargeInput,
    responses(
        (status = 201, description = "The record with the new recharge", body = VipRecordDetail),
        (status = 400, description = "The request cannot be read", body = ErrorBody),
        (status = 422, description = "`invalid_field`: values that do not fit together (e.g. `start` without `end`, a renewal of 0 units) or break a limit; `period_required`: this card type needs an explicit `start` and `end`", body = ErrorBody),
        (status = 404, description = "No such record for this user", body = ErrorBody),
        (status = 409, description = "`pay_partner_taken`", body = ErrorBody),
    )
)]
pub(crate) async fn renew(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(rid): Path<i64>,
    ApiJson(body): ApiJson<RechargeInput>,
) -> Result<(StatusCode, Json<VipRecordDetail>), ApiError> {
    visible_detail(&state, &user, rid).await?;
    let recharge = body.into_new(&user)?;
    let id = records::add_recharge(&state.db, rid, &recharge).await?;
    let detail = visible_detail(&state, &user, rid).await?;
    let added = detail.recharges.iter().find(|r| r.id == id);
    audit::record(
        &state.db,
        &user.actor(),
        "vip.recharge.add",
        &format!("vip_record:{rid}"),
        json!({
            "recharge_id": id,
            "pay_partner": added.map(|r| r.pay_partner.clone()),
            "renewal_start": added.and_then(|r| r.renewal_start),
            "renewal_end": added.and_then(|r| r.renewal_end),
        }),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(detail)))
}
