//! The machine API for coupons (PROTOCOLS.md §3): EV chargers, POS and kiosks ask for an event
//! coupon or a grant with an API key of scope `coupons`, and poll the record if the outcome took
//! longer than the brief wait.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::coupon_records::{CouponRecord, submit_and_wait};
use super::json::ApiJson;
use super::machine::park_for;
use super::{AppState, schema_rules};
use crate::api_keys::MachineClient;
use crate::coupons::intake::{self, EventInput, GrantInput, MetadataValue};
use crate::error::{ApiError, ErrorBody};
use crate::outbox::store;
use crate::parks;

/// An event coupon request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventBody {
    /// The car park's code.
    #[schema(schema_with = schema_rules::park_code)]
    park: String,
    /// Unique per caller: the idempotency key, also sent to P云; 1–64 characters.
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    event_id: String,
    /// The car.
    #[schema(schema_with = schema_rules::plate)]
    plate: String,
    /// What happened, e.g. the charging session.
    subject: String,
    /// Values for a configurable rule: `{"<key>": 12}` or `{"<key>": {"name": "…", "value": 12}}`.
    metadata: Option<BTreeMap<String, MetadataValue>>,
}

/// A grant request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantBody {
    /// The car park's code.
    #[schema(schema_with = schema_rules::park_code)]
    park: String,
    /// The name an admin gave the coupon product.
    coupon: String,
    /// The car.
    #[schema(schema_with = schema_rules::plate)]
    plate: String,
    /// Unique per caller: the idempotency key; 1–64 characters.
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    grant_id: String,
    /// Why; defaults to the product's reason.
    reason: Option<String>,
    /// P云's parking serial, when known.
    parking_serial: Option<String>,
}

/// `POST /api/v1/coupons/events`.
#[utoipa::path(
    post,
    path = "/api/v1/coupons/events",
    tag = "coupons",
    security(("api_key" = [])),
    request_body = EventBody,
    responses(
        (status = 200, description = "The outcome is known (delivered, rejected, …)", body = CouponRecord),
        (status = 202, description = "Accepted and durable; poll the `url` (also in `Location`)", body = CouponRecord),
        (status = 400, description = "`invalid_plate`, `invalid_request`", body = ErrorBody),
        (status = 422, description = "`unknown_park`: no car park has this code", body = ErrorBody),
        (status = 403, description = "The key may not act on this car park", body = ErrorBody),
        (status = 409, description = "Car park not configured, or `event_id` reused for another request", body = ErrorBody),
    )
)]
pub(crate) async fn create_event(
    State(state): State<AppState>,
    Extension(client): Extension<MachineClient>,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<Response, ApiError> {
    let park = park_for(&state, &client, &body.park).await?;
    let input = EventInput {
        event_id: body.event_id,
        plate: body.plate,
        subject: body.subject,
        metadata: body.metadata,
    };
    let settings = state.hot.event_settings(&state.db, park.id).await?;
    let new = intake::event(&park, settings, input, &client.actor())?;
    submit_and_wait(&state, new, park.fields.code).await
}

/// `POST /api/v1/coupons/grants`.
#[utoipa::path(
    post,
    path = "/api/v1/coupons/grants",
    tag = "coupons",
    security(("api_key" = [])),
    request_body = GrantBody,
    responses(
        (status = 200, description = "The outcome is known", body = CouponRecord),
        (status = 202, description = "Accepted and durable; poll the `url`", body = CouponRecord),
        (status = 400, description = "`invalid_plate`, `invalid_field`", body = ErrorBody),
        (status = 422, description = "`unknown_park`: no car park has this code; `unknown_coupon`: no such live coupon product there", body = ErrorBody),
        (status = 403, description = "The key may not act on this car park", body = ErrorBody),
        (status = 409, description = "Car park not configured, or `grant_id` reused for another request", body = ErrorBody),
    )
)]
pub(crate) async fn create_grant(
    State(state): State<AppState>,
    Extension(client): Extension<MachineClient>,
    ApiJson(body): ApiJson<GrantBody>,
) -> Result<Response, ApiError> {
    let park = park_for(&state, &client, &body.park).await?;
    let product = intake::product_named(&state.db, &park, &body.coupon).await?;
    let input = GrantInput {
        grant_id: body.grant_id,
        plate: body.plate,
        reason: body.reason,
        parking_serial: body.parking_serial,
    };
    let new = intake::grant(&park, &product, input, &client.actor())?;
    submit_and_wait(&state, new, park.fields.code).await
}

/// `GET /api/v1/coupons/requests/{id}`: poll a record.
#[utoipa::path(
    get,
    path = "/api/v1/coupons/requests/{id}",
    tag = "coupons",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "Record id")),
    responses(
        (status = 200, description = "Final outcome", body = CouponRecord),
        (status = 202, description = "Still being delivered", body = CouponRecord),
        (status = 404, description = "No such record for this key's car parks", body = ErrorBody),
    )
)]
pub(crate) async fn get_request(
    State(state): State<AppState>,
    Extension(client): Extension<MachineClient>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let item = store::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if !client.may_access_park(item.park_id) {
        return Err(ApiError::NotFound);
    }
    let code = parks::get(&state.db, item.park_id)
        .await?
        .map(|p| p.fields.code)
        .unwrap_or_default();
    Ok(CouponRecord::of(item, code)
        .with_applied(&state.db)
        .await?
        .into_response())
}
