//! Coupon records as people and machine clients see them, and the property managers' routes:
//! list with filters, grant from a configured product, reconcile an `unknown` grant. The same
//! listing shows the other outbox rows by `kind` (P云 uploads, Mallcoo entry notices), so a
//! person sees what was sent for a car park and how the platform answered.

use std::collections::HashMap;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::json::ApiJson;
use super::{AppState, schema_rules};
use crate::accounts::CurrentUser;
use crate::audit;
use crate::coupons::{config, intake};
use crate::error::{ApiError, ErrorBody};
use crate::outbox::store::{self, Filter, Item, NewItem, PyunAnswer, Reconciliation};
use crate::outbox::{Kind, State as RowState};
use crate::parks;
use crate::tokens;

/// A coupon request and where it stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CouponRecord {
    id: i64,
    park_id: i64,
    park_code: String,
    /// `event` or `grant` (coupons); `pyun_enter` / `pyun_leave` (a stay's entry / leave uploaded
    /// to P云 as its car park); `enter_notice` (Mallcoo); `vip_batch`.
    kind: &'static str,
    /// The caller's `event_id` or `grant_id`; `enter:<session>` / `leave:<session>` for uploads.
    key: String,
    plate: Option<String>,
    /// The event's subject or the coupon product's name.
    summary: String,
    state: RowState,
    attempts: u32,
    next_attempt_at: Option<DateTime<Utc>>,
    http_status: Option<u16>,
    /// P云's answer to the last attempt.
    pyun: Option<PyunAnswer>,
    /// Our note when P云's answer does not say it all (or there was none).
    error: Option<String>,
    requested_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    reconciliation: Option<Reconciliation>,
    /// Where to poll it (machine API).
    url: String,
    /// The discount P云's `discount.create` for this coupon recorded on a stay (car parks on P云
    /// car-park access, D15): absent until it arrives.
    #[serde(skip_serializing_if = "Option::is_none")]
    applied: Option<AppliedDiscount>,
}

/// Where a coupon we sent took effect: the stay and what it was worth (PROTOCOLS.md §6, D15).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AppliedDiscount {
    /// The stay (`null` for a plate's free window).
    session_id: Option<i64>,
    /// `active`, `used` or `revoked`.
    state: String,
    /// What it was worth once used (fen).
    worth_fen: Option<i64>,
}

impl CouponRecord {
    pub(crate) fn of(item: Item, park_code: String) -> CouponRecord {
        CouponRecord {
            url: format!("/api/v1/coupons/requests/{}", item.id),
            id: item.id,
            park_id: item.park_id,
            park_code,
            kind: match item.kind {
                Kind::CouponEvent => "event",
                Kind::CouponGrant => "grant",
                Kind::VipBatch => "vip_batch",
                Kind::EnterNotice => "enter_notice",
                Kind::PyunEnter => "pyun_enter",
                Kind::PyunLeave => "pyun_leave",
            },
            key: item.dedupe_key,
            plate: item.plate,
            summary: item.summary,
            state: item.state,
            attempts: item.attempts,
            next_attempt_at: item.next_attempt_at,
            http_status: item.http_status,
            pyun: item.pyun,
            error: item.last_error,
            requested_by: item.requested_by,
            created_at: item.created_at,
            updated_at: item.updated_at,
            finished_at: item.finished_at,
            reconciliation: item.reconciliation,
            applied: None,
        }
    }

    /// Adds the discount P云 applied for this coupon, found by its `grant_serial`.
    pub(crate) async fn with_applied(
        mut self,
        db: &crate::storage::Db,
    ) -> Result<Self, sqlx::Error> {
        let Some(serial) = self.pyun.as_ref().and_then(|p| p.grant_serial.as_deref()) else {
            return Ok(self);
        };
        self.applied = sqlx::query_as::<_, (Option<i64>, String, Option<i64>)>(
            "SELECT session_id, state, worth_fen FROM parking_discounts \
             WHERE park_id = $1 AND source = 'pyun' AND source_key = $2",
        )
        .bind(self.park_id)
        .bind(serial)
        .fetch_optional(&db.pool)
        .await?
        .map(|(session_id, state, worth_fen)| AppliedDiscount {
            session_id,
            state,
            worth_fen,
        });
        Ok(self)
    }

    /// 200 when the outcome is known, else 202 with `Location` to poll.
    pub(crate) fn into_response(self) -> Response {
        let status = if self.state.is_final() {
            StatusCode::OK
        } else {
            StatusCode::ACCEPTED
        };
        let location = HeaderValue::from_str(&self.url).ok();
        let mut response = (status, Json(self)).into_response();
        if let (StatusCode::ACCEPTED, Some(l)) = (status, location) {
            response.headers_mut().insert(header::LOCATION, l);
        }
        response
    }
}

/// Commits `new`, answers a repeated key with the first row (409 if it asked for something
/// else), and waits briefly for the outcome.
pub(crate) async fn submit_and_wait(
    state: &AppState,
    new: NewItem,
    park_code: String,
) -> Result<Response, ApiError> {
    let ticket = state.dispatcher.ticket();
    let inserted = state.dispatcher.submit(&new).await?;
    if !inserted.created
        && !intake::same_request(new.kind, &inserted.item.request_json, &new.request_json)
    {
        return Err(ApiError::conflict(
            "idempotency_key_reused",
            format!(
                "`{}` was already used for a different request (record {}); use a new key",
                new.dedupe_key, inserted.item.id
            ),
        ));
    }
    let id = inserted.item.id;
    // A row this call created is known not to be final yet: no need to read it back first.
    let item = state
        .dispatcher
        .wait(ticket, id, state.settings.coupon_wait, !inserted.created)
        .await?
        .unwrap_or(inserted.item);
    Ok(CouponRecord::of(item, park_code).into_response())
}

/// Query of the records list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// One car park (else every car park the user may see).
    park_id: Option<i64>,
    /// A whole plate (normalised like stored plates); empty means any.
    #[param(schema_with = schema_rules::plate_filter)]
    plate: Option<String>,
    /// `pending`, `sending`, `delivered`, `rejected`, `misconfigured`, `unknown` or `failed`;
    /// empty means any.
    #[param(pattern = "^(|pending|sending|delivered|rejected|misconfigured|unknown|failed)$")]
    state: Option<String>,
    /// Created at or after.
    from: Option<DateTime<Utc>>,
    /// Created before.
    to: Option<DateTime<Utc>>,
    /// Only records with an id below this one (`next_before_id` of the previous page).
    before_id: Option<i64>,
    /// Which rows: `coupons` (events and grants; the default, also when empty), `event`,
    /// `grant`, `pyun_uploads` (entry and leave uploads to P云), `pyun_enter`, `pyun_leave` or
    /// `enter_notice`.
    #[param(pattern = "^(|coupons|event|grant|pyun_uploads|pyun_enter|pyun_leave|enter_notice)$")]
    kind: Option<String>,
    /// Records per page (default 50); values outside 1–200 are served as 1 or 200.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    limit: Option<u32>,
}

/// A page of records, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
// Named apart from the VIP records' page, which has a `total`: one name, one schema.
#[schema(as = CouponRecordPage)]
pub(crate) struct RecordPage {
    records: Vec<CouponRecord>,
    /// Pass as `before_id` for the next page; `null` on the last.
    next_before_id: Option<i64>,
}

/// `GET /api/v1/coupon-records`: the records of the car parks the user may see (coupons, or the
/// outbox rows of another `kind`).
#[utoipa::path(
    get,
    path = "/api/v1/coupon-records",
    tag = "coupons",
    security(("session" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of records of `kind` (coupons by default), newest first", body = RecordPage),
        (status = 400, description = "`invalid_state`, `invalid_kind`, `invalid_plate`, or a query that does not parse", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a property manager or admin", body = ErrorBody),
        (status = 404, description = "`park_id` names a car park this user may not see", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Json<RecordPage>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let parks = match q.park_id {
        Some(id) if !user.may_access_park(id) => return Err(ApiError::NotFound),
        Some(id) => Some(vec![id]),
        None if user.role == crate::accounts::Role::Admin => None,
        None => Some(user.parks.clone()),
    };
    let state_filter = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(RowState::parse(s).ok_or_else(|| {
            ApiError::bad_request("invalid_state", format!("unknown state `{s}`"))
        })?),
    };
    let plate = match q.plate.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        // A search normalises like every stored plate; a partial plate cannot match anything.
        Some(p) => Some(
            protocol::plate::Plate::parse(p)
                .map_err(|e| ApiError::bad_request("invalid_plate", format!("plate: {e}")))?
                .into_string(),
        ),
    };
    let kinds = kinds_of(q.kind.as_deref().unwrap_or("")).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_kind",
            format!("unknown kind `{}`", q.kind.as_deref().unwrap_or("")),
        )
    })?;
    let filter = Filter {
        parks,
        kinds,
        plate,
        state: state_filter,
        from: q.from,
        to: q.to,
        before_id: q.before_id,
        limit: limit + 1,
    };
    let mut items = store::list(&state.db, &filter).await?;
    let next_before_id = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|i| i.id)
    } else {
        None
    };
    let codes = park_codes(&state).await?;
    let mut records = Vec::with_capacity(items.len());
    for i in items {
        let code = codes.get(&i.park_id).cloned().unwrap_or_default();
        records.push(CouponRecord::of(i, code).with_applied(&state.db).await?);
    }
    Ok(Json(RecordPage {
        records,
        next_before_id,
    }))
}

/// The rows a `kind` filter lists; `None` for a name the listing does not know.
fn kinds_of(name: &str) -> Option<Vec<Kind>> {
    Some(match name {
        "" | "coupons" => vec![Kind::CouponEvent, Kind::CouponGrant],
        "event" => vec![Kind::CouponEvent],
        "grant" => vec![Kind::CouponGrant],
        "pyun_uploads" => vec![Kind::PyunEnter, Kind::PyunLeave],
        "pyun_enter" => vec![Kind::PyunEnter],
        "pyun_leave" => vec![Kind::PyunLeave],
        "enter_notice" => vec![Kind::EnterNotice],
        _ => return None,
    })
}

pub(crate) async fn park_codes(state: &AppState) -> Result<HashMap<i64, String>, ApiError> {
    Ok(parks::list(&state.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.fields.code))
        .collect())
}

/// A grant a property manager asks for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
// Named apart from the machine API's `GrantBody` (`/api/v1/coupons/grants`): one name, one schema.
#[schema(as = ManagerGrantBody)]
pub(crate) struct GrantBody {
    /// The car park.
    park_id: i64,
    /// A coupon product configured at that car park.
    product_id: i64,
    /// The car's plate.
    #[schema(schema_with = schema_rules::plate)]
    plate: String,
    /// Why (shown at P云).
    reason: Option<String>,
    /// Lets the UI resubmit safely; generated when absent. 1–64 characters.
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    grant_id: Option<String>,
}

/// `POST /api/v1/coupon-records/grants`: grant a configured product to a plate.
#[utoipa::path(
    post,
    path = "/api/v1/coupon-records/grants",
    tag = "coupons",
    security(("session" = [])),
    request_body = GrantBody,
    responses(
        (status = 200, description = "Outcome known (a repeated `grant_id` gets the first record)", body = CouponRecord),
        (status = 202, description = "Still in progress; poll the `Location`", body = CouponRecord,
            headers(("Location" = String, description = "Where to poll the record"))),
        (status = 400, description = "`invalid_plate`, `invalid_request`", body = ErrorBody),
        (status = 422, description = "`unknown_coupon`: no such live coupon product at this car park", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a property manager or admin", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
        (status = 409, description = "`pyun_not_configured`, or `idempotency_key_reused`: `grant_id` used for a different request", body = ErrorBody),
    )
)]
pub(crate) async fn grant(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(body): ApiJson<GrantBody>,
) -> Result<Response, ApiError> {
    if !user.may_access_park(body.park_id) {
        return Err(ApiError::NotFound);
    }
    let park = parks::get(&state.db, body.park_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let product = config::product(&state.db, park.id, body.product_id)
        .await?
        .ok_or_else(|| {
            ApiError::unprocessable("unknown_coupon", "no such coupon product at this car park")
        })?;
    let input = intake::GrantInput {
        grant_id: body
            .grant_id
            .unwrap_or_else(|| format!("ui-{}", tokens::random_hex(12))),
        plate: body.plate,
        reason: body.reason,
        parking_serial: None,
    };
    let new = intake::grant(&park, &product, input, &user.actor())?;
    submit_and_wait(&state, new, park.fields.code).await
}

/// How a person settles an `unknown` grant.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReconcileBody {
    /// `delivered` or `not_delivered`.
    resolution: String,
    /// What the person found, at most 500 characters.
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/coupon-records/{id}/reconcile`: record what a person found at P云.
#[utoipa::path(
    post,
    path = "/api/v1/coupon-records/{id}/reconcile",
    tag = "coupons",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Coupon record id")),
    request_body = ReconcileBody,
    responses(
        (status = 200, description = "The reconciled record", body = CouponRecord),
        (status = 400, description = "`invalid_resolution`, `invalid_note`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a property manager or admin", body = ErrorBody),
        (status = 404, description = "No such record for this user", body = ErrorBody),
        (status = 409, description = "`not_unknown`: only an `unknown` outcome can be reconciled", body = ErrorBody),
    )
)]
pub(crate) async fn reconcile(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ReconcileBody>,
) -> Result<Json<CouponRecord>, ApiError> {
    let item = store::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if !user.may_access_park(item.park_id) {
        return Err(ApiError::NotFound);
    }
    let delivered = match body.resolution.as_str() {
        "delivered" => true,
        "not_delivered" => false,
        other => {
            return Err(ApiError::bad_request(
                "invalid_resolution",
                format!("resolution must be `delivered` or `not_delivered`, not `{other}`"),
            ));
        }
    };
    let note = body.note.trim();
    if note.chars().count() > 500 {
        return Err(ApiError::bad_request(
            "invalid_note",
            "the note has at most 500 characters",
        ));
    }
    if !store::reconcile(&state.db, id, &user.actor(), delivered, note, Utc::now()).await? {
        return Err(ApiError::conflict(
            "not_unknown",
            "only a record whose outcome is unknown can be reconciled",
        ));
    }
    audit::record(
        &state.db,
        &user.actor(),
        "coupon.reconcile",
        &format!("coupon_record:{id}"),
        json!({ "resolution": body.resolution, "note": note }),
    )
    .await?;
    let item = store::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let code = parks::get(&state.db, item.park_id)
        .await?
        .map(|p| p.fields.code)
        .unwrap_or_default();
    Ok(Json(
        CouponRecord::of(item, code).with_applied(&state.db).await?,
    ))
}
