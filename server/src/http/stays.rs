//! A stay's page for people (PROTOCOLS.md §5.1): the session with its tariff, VIP record,
//! discounts (each with what it is worth now), payments and what the car owes; and a property
//! manager's waiver (人工减免). Admins, and property managers and mall staff of the car park
//! (others get 404, as elsewhere); waivers are for property managers and admins.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use protocol::ledger;
use protocol::tariff::Tariff;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use super::AppState;
use super::discounts::{KindField, MAX_REASON_CHARS, kind_of, required_text};
use super::json::ApiJson;
use super::schema_rules::TariffSchema;
use super::vip_records::visible_park;
use crate::accounts::CurrentUser;
use crate::discounts::{self, DiscountAnswer, DiscountView, FigureView, views_of_stay};
use crate::error::{ApiError, ErrorBody};
use crate::parking::SessionView;
use crate::parking::stay::{stay_by_id, superseded_at};
use crate::storage::from_ms;

/// The car park a stay belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StayPark {
    /// Car park id.
    id: i64,
    /// Its code.
    code: String,
    /// Its name.
    name: String,
}

/// The plate's VIP record as the fee engine used it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StayVip {
    /// First instant it is valid.
    valid_from: DateTime<Utc>,
    /// First instant it is no longer valid.
    valid_until: DateTime<Utc>,
    /// What it is, e.g. `月卡 至2026-12-31`.
    label: String,
}

/// A discount of the stay with what it is worth now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StayDiscount {
    /// The discount.
    #[serde(flatten)]
    discount: DiscountView,
    /// Fen it takes off now, in §5.1's order of application; absent once revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    worth_now_fen: Option<i64>,
}

/// A payment of the stay.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StayPayment {
    /// Payment id.
    id: i64,
    /// The channel: `mallcoo` or `pyun`.
    channel: String,
    /// The channel's order number.
    order_no: String,
    /// Fen paid through Alipay, WeChat, UnionPay or at the counter.
    amount_fen: i64,
    /// Fen of Mallcoo's own benefits (points, coupons, member benefits) settled with it.
    deduction_fen: i64,
    /// When the payer paid.
    pay_time: DateTime<Utc>,
    /// When it settles the fee (its grace period starts here).
    settled_at: DateTime<Utc>,
}

/// Everything a person sees of one stay.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StayDetail {
    /// The session.
    session: SessionView,
    /// Its car park.
    park: StayPark,
    /// The car park's tariff (PROTOCOLS.md §5).
    #[schema(value_type = TariffSchema)]
    tariff: Tariff,
    /// The plate's VIP record, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    vip: Option<StayVip>,
    /// Every discount, revoked ones too, in recorded order.
    discounts: Vec<StayDiscount>,
    /// Every payment, oldest first.
    payments: Vec<StayPayment>,
    /// What it owes now (an open stay), owed at its exit, or — closed by its plate's next entry
    /// (`no_exit_seen`) — owed at that entry.
    figure: FigureView,
}

/// `GET /api/v1/sessions/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}",
    tag = "parking",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The stay: session, tariff, VIP record, discounts with their worth now, payments and the figure", body = StayDetail),
        (status = 404, description = "No such stay in a car park of this user", body = ErrorBody),
    )
)]
pub(crate) async fn detail(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Json<StayDetail>, ApiError> {
    let park_id = park_of(&state, id).await?;
    let park = visible_park(&state, &user, park_id).await?;
    let tariff = park.fields.tariff.clone();
    let mut conn = state.db.pool.acquire().await?;
    let stay = stay_by_id(&mut conn, park_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    // A stay closed by its plate's next entry is priced up to that entry, like a closed one.
    let now = superseded_at(&mut conn, park_id, &stay)
        .await?
        .unwrap_or_else(Utc::now);
    let at = stay.priced_at(now);
    let internal = |e: ledger::LedgerError| ApiError::Internal(format!("stay {id}: {e}"));
    let figure = stay.figure(&tariff, now).map_err(internal)?;
    let worths = ledger::worths(&stay.ledger(&tariff), at).map_err(internal)?;
    let views = views_of_stay(&mut conn, park_id, id, stay.plate.as_deref(), at).await?;
    let discounts = views
        .into_iter()
        .map(|discount| {
            let worth_now_fen = stay
                .discount_rows
                .iter()
                .position(|r| r.id == discount.id)
                .map(|i| worths[i]);
            StayDiscount {
                discount,
                worth_now_fen,
            }
        })
        .collect();
    let session = session_view(&mut conn, id).await?;
    let payments = payments_of(&mut conn, id).await?;
    Ok(Json(StayDetail {
        session,
        park: StayPark {
            id: park.id,
            code: park.fields.code,
            name: park.fields.name,
        },
        tariff,
        vip: stay.vip.as_ref().map(|v| StayVip {
            valid_from: v.valid_from,
            valid_until: v.valid_until,
            label: v.label.clone(),
        }),
        discounts,
        payments,
        figure: (&figure).into(),
    }))
}

/// The car park of session `id`, or 404.
async fn park_of(state: &AppState, id: i64) -> Result<i64, ApiError> {
    sqlx::query_scalar("SELECT park_id FROM parking_sessions WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(ApiError::NotFound)
}

async fn session_view(conn: &mut AnyConnection, id: i64) -> Result<SessionView, ApiError> {
    crate::parking::session_by_id(conn, id)
        .await?
        .ok_or(ApiError::NotFound)
}

async fn payments_of(conn: &mut AnyConnection, id: i64) -> Result<Vec<StayPayment>, ApiError> {
    let rows = sqlx::query_as::<_, (i64, String, i64, i64, i64, i64, String)>(
        "SELECT id, order_no, amount_fen, deduction_fen, pay_time, settled_at, channel \
         FROM parking_payments WHERE session_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| StayPayment {
            id: r.0,
            channel: r.6,
            order_no: r.1,
            amount_fen: r.2,
            deduction_fen: r.3,
            pay_time: from_ms(r.4),
            settled_at: from_ms(r.5),
        })
        .collect())
}

/// A waiver (人工减免) a property manager grants a parked car.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WaiverBody {
    /// `amount` (fen), `minutes`, `free` or `percent` (per mille).
    #[schema(value_type = String, pattern = "^(amount|minutes|free|percent)$")]
    kind: String,
    /// Fen (amount ≥ 1), minutes (1–527040) or per mille (1–1000); none for `free`.
    #[schema(minimum = 0)]
    value: Option<i64>,
    /// Why (required; shown on the stay's page and in the audit log), 1–200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    reason: String,
}

/// `POST /api/v1/sessions/{id}/waivers`.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/waivers",
    tag = "parking",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Session id")),
    request_body = WaiverBody,
    responses(
        (status = 201, description = "Recorded and audit-logged: the waiver and what the car owes now", body = DiscountAnswer),
        (status = 400, description = "`unsupported_discount` (a kind other than amount, minutes, free, percent), `invalid_field` (reason), `invalid_body`", body = ErrorBody),
        (status = 404, description = "No such stay in a car park of this user", body = ErrorBody),
        (status = 409, description = "`session_closed`: the car has left", body = ErrorBody),
        (status = 422, description = "`invalid_discount_value`: the value is outside the kind's range or missing", body = ErrorBody),
    )
)]
pub(crate) async fn waive(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<WaiverBody>,
) -> Result<(StatusCode, Json<DiscountAnswer>), ApiError> {
    let park_id = park_of(&state, id).await?;
    let park = visible_park(&state, &user, park_id).await?;
    let reason = required_text("reason", &body.reason, MAX_REASON_CHARS)?;
    if body.kind.trim() == "free_window" {
        return Err(ApiError::bad_request(
            "unsupported_discount",
            "a waiver is for this stay: amount, minutes, free or percent",
        ));
    }
    let kind = kind_of(&KindField::Name(body.kind), body.value)?;
    let answer = discounts::waive(
        &state.db,
        &park.fields.tariff,
        park_id,
        id,
        &discounts::Waiver {
            kind,
            reason: &reason,
            user: &user.username,
        },
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(answer)))
}
