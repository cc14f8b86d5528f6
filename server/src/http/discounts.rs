//! The machine API of discounts (PROTOCOLS.md §5.1) for shop POS terminals, kiosks and local
//! systems: grant a discount to a parked car, idempotent by `discount_id`, and remove it while no
//! payment has counted it. Keys need scope `discounts`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use protocol::ledger::DiscountKind;
use protocol::plate::Plate;
use serde::Deserialize;
use serde_json::json;
use utoipa::openapi::{RefOr, Schema};

use super::AppState;
use super::json::ApiJson;
use super::machine::park_for;
use super::schema_rules::{self, from_json};
use crate::api_keys::MachineClient;
use crate::discounts::{self, DiscountAnswer, GrantRequest, Granted, Source, Vehicle};
use crate::error::{ApiError, ErrorBody};

/// Longest `discount_id`.
const MAX_ID_CHARS: usize = 64;
/// Longest `source_name`.
const MAX_NAME_CHARS: usize = 32;
/// Longest `reason`.
pub(crate) const MAX_REASON_CHARS: usize = 200;

/// A discount for a parked car (or, `free_window`, for a plate).
// Documented by `DiscountBodySchema`, which states the one-of and the kinds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiscountBody {
    park: String,
    plate: Option<String>,
    barcode: Option<String>,
    discount_id: String,
    kind: KindField,
    value: Option<i64>,
    source_name: String,
    reason: Option<String>,
}

/// A kind by name, or by P云's `type` code.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum KindField {
    /// `amount`, `minutes`, `free`, `percent`, `free_window`.
    Name(String),
    /// P云's type: 1, 2, 3, 5, 6 (4 is refused).
    PyunType(i64),
}

/// The kind and value asked for, checked (400 `unsupported_discount`, 422 `invalid_discount_value`).
pub(crate) fn kind_of(kind: &KindField, value: Option<i64>) -> Result<DiscountKind, ApiError> {
    let kind = match kind {
        KindField::Name(name) => DiscountKind::from_parts(name.trim(), value),
        // `free` (3) needs no value; the others say what is missing through their range.
        KindField::PyunType(code) => DiscountKind::from_pyun(*code, value.unwrap_or(0)),
    };
    kind.map_err(|e| discounts::DiscountsError::from(e).into())
}

/// `field` trimmed: 1..=`max` printable characters (400 `invalid_field` otherwise).
pub(crate) fn required_text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("`{field}` must be 1 to {max} printable characters"),
        ));
    }
    Ok(v.to_owned())
}

fn vehicle(plate: Option<&str>, barcode: Option<&str>) -> Result<Vehicle, ApiError> {
    let barcode = barcode.map(str::trim).filter(|b| !b.is_empty());
    match (plate, barcode) {
        (Some(p), None) => Plate::parse(p)
            .map(|p| Vehicle::Plate(p.into_string()))
            .map_err(|e| ApiError::bad_request("invalid_plate", e.to_string())),
        (None, Some(b)) => Ok(Vehicle::Barcode(required_text("barcode", b, 64)?)),
        _ => Err(ApiError::bad_request(
            "invalid_field",
            "send exactly one of `plate` and `barcode`",
        )),
    }
}

/// The answer text with its status, as JSON.
fn json_answer(status: StatusCode, text: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// `POST /api/v1/sessions/discounts`.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/discounts",
    tag = "discounts",
    security(("api_key" = [])),
    request_body = DiscountBodySchema,
    responses(
        (status = 201, description = "Recorded: the discount and the car's open stay with what it owes now (no `stay` for a `free_window` of a plate that is not parked)", body = DiscountAnswer),
        (status = 200, description = "A retry of this `discount_id` with the same payload: the first answer, nothing recorded", body = DiscountAnswer),
        (status = 400, description = "`unsupported_discount` (P云 type 4 or an unknown kind), `invalid_plate`, `invalid_field` (not exactly one of plate and barcode; empty or too long texts), `invalid_body`", body = ErrorBody),
        (status = 403, description = "The key may not act on this car park", body = ErrorBody),
        (status = 409, description = "`discount_id_reused`: the id names another discount in this car park; `no_open_session`: the car is not parked here", body = ErrorBody),
        (status = 422, description = "`unknown_park`; `invalid_discount_value`: the value is outside the kind's range (amount ≥ 1 fen, minutes and free_window 1–527040, percent 1–1000 per mille) or missing; `plate_required`: a free_window for a barcode", body = ErrorBody),
    )
)]
pub(crate) async fn grant(
    State(state): State<AppState>,
    Extension(client): Extension<MachineClient>,
    ApiJson(body): ApiJson<DiscountBody>,
) -> Result<Response, ApiError> {
    let park = park_for(&state, &client, &body.park).await?;
    let vehicle = vehicle(body.plate.as_deref(), body.barcode.as_deref())?;
    let discount_id = required_text("discount_id", &body.discount_id, MAX_ID_CHARS)?;
    let label = required_text("source_name", &body.source_name, MAX_NAME_CHARS)?;
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| required_text("reason", r, MAX_REASON_CHARS))
        .transpose()?;
    let kind = kind_of(&body.kind, body.value)?;
    let created_by = format!("apikey:{}", client.prefix);
    let req = GrantRequest {
        park_id: park.id,
        vehicle,
        discount_id: &discount_id,
        kind,
        label: &label,
        reason: reason.as_deref(),
        created_by: &created_by,
    };
    Ok(
        match discounts::grant(&state.db, &park.fields.tariff, &req, Utc::now()).await? {
            Granted::Created(text) => json_answer(StatusCode::CREATED, text),
            Granted::Replayed(text) => json_answer(StatusCode::OK, text),
        },
    )
}

/// `DELETE /api/v1/sessions/discounts/{park}/{discount_id}`.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions/discounts/{park}/{discount_id}",
    tag = "discounts",
    security(("api_key" = [])),
    params(
        ("park" = String, Path, description = "The car park's code", pattern = "^[a-z0-9_-]{1,32}$"),
        ("discount_id" = String, Path, description = "The `discount_id` it was granted under"),
    ),
    responses(
        (status = 200, description = "Removed (or already removed): the discount, and the car's open stay with what it owes now", body = DiscountAnswer),
        (status = 403, description = "The key may not act on this car park", body = ErrorBody),
        (status = 404, description = "No discount under this id in this car park", body = ErrorBody),
        (status = 409, description = "`discount_used`: a payment counted it or the car left; it stays", body = ErrorBody),
        (status = 422, description = "`unknown_park`", body = ErrorBody),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Extension(client): Extension<MachineClient>,
    Path((park, discount_id)): Path<(String, String)>,
) -> Result<axum::Json<DiscountAnswer>, ApiError> {
    let park = park_for(&state, &client, &park).await?;
    let answer = discounts::revoke(
        &state.db,
        &park.fields.tariff,
        park.id,
        Source::Api,
        discount_id.trim(),
        Utc::now(),
    )
    .await?;
    Ok(axum::Json(answer))
}

/// The discount body, written out: exactly one of `plate` and `barcode`, and a kind by name or
/// by P云 type code.
pub(crate) struct DiscountBodySchema;

impl utoipa::PartialSchema for DiscountBodySchema {
    fn schema() -> RefOr<Schema> {
        let printable = r"^[^\x00-\x1F\x7F-\x9F]*$";
        let filled = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";
        let text = |max: usize, description: &str| {
            json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": filled,
                "description": description})
        };
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["park", "discount_id", "kind", "source_name"],
            "description": "A discount (PROTOCOLS.md §5.1) for the car parked with this plate or barcode; a `free_window` is for the plate, parked or not.",
            "properties": {
                "park": serde_json::to_value(schema_rules::park_code()).expect("serialisable"),
                "plate": serde_json::to_value(schema_rules::optional_plate()).expect("serialisable"),
                "barcode": {"type": ["string", "null"], "maxLength": 64, "pattern": printable,
                    "description": "The ticket number of a plate-less car."},
                "discount_id": text(MAX_ID_CHARS, "Your id for this discount, unique per car park: a retry with the same payload is answered as the first time."),
                "kind": {"oneOf": [
                    {"type": "string", "enum": ["amount", "minutes", "free", "percent", "free_window"]},
                    {"type": "integer", "enum": [1, 2, 3, 5, 6],
                        "description": "P云's type: 1 amount, 2 minutes, 3 free, 5 free_window, 6 percent (4 is refused: one tariff per car park)."},
                ]},
                "value": {"type": ["integer", "null"], "format": "int64", "minimum": 0,
                    "description": "Fen (amount ≥ 1), minutes (minutes, free_window: 1–527040) or per mille (percent: 1–1000, 800 = 80 % off); none for free."},
                "source_name": text(MAX_NAME_CHARS, "Who gives it, as the driver and Mallcoo see it, e.g. `商户减免` or the shop's name."),
                "reason": {"type": ["string", "null"], "maxLength": MAX_REASON_CHARS, "pattern": printable,
                    "description": "Why, for the stay's page."},
            },
            "oneOf": [
                {"required": ["plate"], "properties": {
                    "plate": {"type": "string"},
                    "barcode": {"type": ["string", "null"], "pattern": r"^\s*$"},
                }},
                {"required": ["barcode"], "properties": {
                    "barcode": {"type": "string", "pattern": filled},
                    "plate": {"type": "null"},
                }},
            ],
        });
        from_json(&schema)
    }
}

impl utoipa::ToSchema for DiscountBodySchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "DiscountBody".into()
    }
}
