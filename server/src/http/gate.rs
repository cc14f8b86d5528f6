//! The machine API of gates (PROTOCOLS.md §3): entries open parking sessions, exits close them
//! with the fee due. Keys need scope `gate`.
//!
//! A plate-less car: the entry omits `plate`; the gate's own ticket number goes in `barcode`, or,
//! without one, ParkBridge issues a barcode and answers it in `session.barcode` for the gate to
//! print. Its exit sends that `barcode` instead of a `plate`.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use protocol::plate::{Plate, PlateColor};
use serde::{Deserialize, Serialize};

use super::json::ApiJson;
use super::machine::park_for;
use super::{AppState, schema_rules};
use crate::api_keys::MachineClient;
use crate::error::{ApiError, ErrorBody};
use crate::parking::{self, Anomaly, Exited, NewEntry, SessionKey, SessionView};

/// How far ahead of our clock an event time may be (gate clocks drift).
const MAX_CLOCK_AHEAD: TimeDelta = TimeDelta::minutes(5);
/// Longest barcode or gate name accepted.
const MAX_TEXT_CHARS: usize = 64;

/// A car entering.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryBody {
    /// The car park's code.
    #[schema(schema_with = schema_rules::park_code)]
    park: String,
    /// The plate as read; omit for a plate-less car.
    #[schema(schema_with = schema_rules::optional_plate)]
    plate: Option<String>,
    /// P云's plate colour code (1 blue, 2 yellow, 3 white, 4 black, 5 green, -1 unknown).
    #[schema(schema_with = schema_rules::optional_plate_color)]
    plate_color: Option<i32>,
    /// The gate's ticket number, at most 64 characters; for a plate-less car without one,
    /// ParkBridge issues it.
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    barcode: Option<String>,
    /// When the car entered, RFC 3339; default now.
    time: Option<DateTime<Utc>>,
    /// The gate's name, at most 64 characters.
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    gate: Option<String>,
}

/// A car leaving: exactly one of `plate` and `barcode`.
// Documented by `schema_rules::ExitBodySchema`, which states the "exactly one".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExitBody {
    /// The car park's code.
    park: String,
    /// The plate as read.
    plate: Option<String>,
    /// The ticket number of a plate-less car, at most 64 characters.
    barcode: Option<String>,
    /// When the car left, RFC 3339; default now.
    time: Option<DateTime<Utc>>,
    /// The gate's name, at most 64 characters.
    gate: Option<String>,
}

/// The session an entry opened.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EntryAnswer {
    /// The new open session.
    session: SessionView,
    /// The plate's previous open session, now `no_exit_seen` (its exit was never seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    closed_previous: Option<SessionView>,
}

/// What an exit did: the closed session with its fee, or an anomaly when no session was open.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ExitAnswer {
    /// The closed session (`fee_due_fen`, `vip`); absent for an anomaly.
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<SessionView>,
    /// True when no open session matched: the exit is recorded for staff, nothing is owed.
    anomaly: bool,
    /// The anomaly recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    anomaly_record: Option<Anomaly>,
}

fn plate_of(raw: &str) -> Result<String, ApiError> {
    Plate::parse(raw)
        .map(Plate::into_string)
        .map_err(|e| ApiError::bad_request("invalid_plate", e.to_string()))
}

fn text(field: &'static str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > MAX_TEXT_CHARS || v.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("`{field}` must be at most {MAX_TEXT_CHARS} printable characters"),
        ));
    }
    Ok(Some(v))
}

fn event_time(time: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, ApiError> {
    let now = Utc::now();
    match time {
        None => Ok(now),
        Some(t) if t > now + MAX_CLOCK_AHEAD => Err(ApiError::unprocessable(
            "invalid_time",
            format!("`time` {t} is more than 5 minutes in the future"),
        )),
        Some(t) => Ok(t),
    }
}

/// `POST /api/v1/gate/entries`.
#[utoipa::path(
    post,
    path = "/api/v1/gate/entries",
    tag = "gate",
    security(("api_key" = [])),
    request_body = EntryBody,
    responses(
        (status = 201, description = "The open session; a plate-less car without `barcode` gets an issued one in `session.barcode`", body = EntryAnswer),
        (status = 400, description = "`invalid_plate`, `invalid_field`, `invalid_body`", body = ErrorBody),
        (status = 422, description = "`unknown_park`: no car park has this code", body = ErrorBody),
        (status = 403, description = "The key may not act on this car park", body = ErrorBody),
        (status = 409, description = "`barcode_taken`: the barcode already names a car in this car park", body = ErrorBody),
    )
)]
pub(crate) async fn entry(
    State(state): State<AppState>,
    Extension(client): Extension<MachineClient>,
    ApiJson(body): ApiJson<EntryBody>,
) -> Result<(StatusCode, Json<EntryAnswer>), ApiError> {
    let park = park_for(&state, &client, &body.park).await?;
    let plate = body.plate.as_deref().map(plate_of).transpose()?;
    if let Some(code) = body.plate_color
        && PlateColor::from_code(code).is_none()
    {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("`plate_color` {code} is not a P云 colour code"),
        ));
    }
    let entry = NewEntry {
        plate,
        plate_color: body.plate_color.map(i64::from),
        barcode: text("barcode", body.barcode)?,
        at: event_time(body.time)?,
        gate: text("gate", body.gate)?,
    };
    let done = parking::enter(&state.db, park.id, entry).await?;
    if done.notice_queued || done.upload_queued {
        // Committed without `submit`: the worker sends it now rather than at its next poll.
        state.dispatcher.notify();
    }
    Ok((
        StatusCode::CREATED,
        Json(EntryAnswer {
            session: done.session,
            closed_previous: done.closed_previous,
        }),
    ))
}

/// `POST /api/v1/gate/exits`.
#[utoipa::path(
    post,
    path = "/api/v1/gate/exits",
    tag = "gate",
    security(("api_key" = [])),
    request_body = schema_rules::ExitBodySchema,
    responses(
        (status = 200, description = "The closed session with `fee_due_fen` (tariff, VIP record, Mallcoo payments within their grace period) and `anomaly: false`; or, with no open session, `anomaly: true` and the recorded `anomaly_record`", body = ExitAnswer),
        (status = 400, description = "`invalid_plate`, `invalid_field` (not exactly one of plate and barcode)", body = ErrorBody),
        (status = 422, description = "`unknown_park`: no car park has this code; `invalid_time`: more than 5 minutes ahead; `exit_before_entry`: the exit is before the open session's entry", body = ErrorBody),
        (status = 403, description = "The key may not act on this car park", body = ErrorBody),
    )
)]
pub(crate) async fn exit(
    State(state): State<AppState>,
    Extension(client): Extension<MachineClient>,
    ApiJson(body): ApiJson<ExitBody>,
) -> Result<Json<ExitAnswer>, ApiError> {
    let park = park_for(&state, &client, &body.park).await?;
    let barcode = text("barcode", body.barcode)?;
    let key = match (body.plate.as_deref(), barcode) {
        (Some(p), None) => SessionKey::Plate(plate_of(p)?),
        (None, Some(b)) => SessionKey::Barcode(b),
        _ => {
            return Err(ApiError::bad_request(
                "invalid_field",
                "send exactly one of `plate` and `barcode`",
            ));
        }
    };
    let at = event_time(body.time)?;
    let gate = text("gate", body.gate)?;
    let done = parking::exit(
        &state.db,
        park.id,
        &park.fields.tariff,
        &key,
        at,
        gate.as_deref(),
    )
    .await?;
    if matches!(done, Exited::Closed(_)) && park.fields.pyun_carpark_credential_id.is_some() {
        // A leave upload was committed with the exit (the car park is on P云 car-park access;
        // were this setting a moment stale, the worker's next poll sends it anyway).
        state.dispatcher.notify();
    }
    Ok(Json(match done {
        Exited::Closed(s) => ExitAnswer {
            session: Some(s),
            anomaly: false,
            anomaly_record: None,
        },
        Exited::Anomaly(a) => ExitAnswer {
            session: None,
            anomaly: true,
            anomaly_record: Some(a),
        },
    }))
}
