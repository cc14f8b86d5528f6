//! A merchant's own shop (issue 17): its page's figures, validating a plate, and the day's
//! history. Every route acts on the signed-in merchant's one shop; nothing else is reachable.

use axum::Extension;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::json::ApiJson;
use crate::accounts::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::outbox::store as outbox;
use crate::parks;
use crate::shops::qr_token::{self, MintedToken, TokenRequest};
use crate::shops::quota;
use crate::shops::store::{Offer, Shop, offers_of_shop, shop_by_id};
use crate::shops::validate::{
    self, Validated, ValidationAnswer, ValidationRequest, ValidationView,
};

/// The merchant's shop (a merchant always has one: `users_merchant_shop_check`).
async fn own_shop(state: &AppState, user: &CurrentUser) -> Result<Shop, ApiError> {
    let id = user.shop_id.ok_or(ApiError::Forbidden)?;
    let mut conn = state.db.pool.acquire().await?;
    shop_by_id(&mut conn, id).await?.ok_or(ApiError::Forbidden)
}

/// An offer with today's and this month's use.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OfferUse {
    /// The offer.
    #[serde(flatten)]
    offer: Offer,
    /// Validations counted against today's quota.
    used_today: i64,
    /// Validations counted against this month.
    used_this_month: i64,
}

/// The shop page's figures.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ShopPage {
    /// The shop.
    shop: Shop,
    /// Its car park's name.
    park_name: String,
    /// Today (Shanghai).
    day: String,
    /// Its offers with their use.
    offers: Vec<OfferUse>,
}

/// `GET /api/v1/shop`: the merchant's shop, offers and today's count per offer.
#[utoipa::path(
    get,
    path = "/api/v1/shop",
    tag = "shop",
    security(("session" = [])),
    responses(
        (status = 200, description = "The shop with its offers, each with today's and this month's count", body = ShopPage),
        (status = 400, description = "A request that does not parse", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a merchant", body = ErrorBody),
    )
)]
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Result<Json<ShopPage>, ApiError> {
    let shop = own_shop(&state, &user).await?;
    validate::follow_records(&state.db, shop.id).await?;
    let park = parks::get(&state.db, shop.park_id)
        .await?
        .ok_or(ApiError::Forbidden)?;
    let (day, month) = quota::periods(Utc::now());
    let mut conn = state.db.pool.acquire().await?;
    let mut offers = Vec::new();
    for offer in offers_of_shop(&mut conn, shop.id).await? {
        let used_today = quota::used(&mut conn, offer.id, "day", &day).await?;
        let used_this_month = quota::used(&mut conn, offer.id, "month", &month).await?;
        offers.push(OfferUse {
            offer,
            used_today,
            used_this_month,
        });
    }
    Ok(Json(ShopPage {
        shop,
        park_name: park.fields.name,
        day,
        offers,
    }))
}

/// A validation asked for at the till.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValidationBody {
    /// One of the shop's offers.
    offer_id: i64,
    /// The car's plate.
    #[schema(schema_with = super::schema_rules::plate)]
    plate: String,
    /// The till's idempotency key, 1–64 printable characters: the same body again gets the same
    /// validation; another body under it is refused.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    validation_id: String,
}

/// `POST /api/v1/shop/validations`: validate a plate with one of the shop's offers.
#[utoipa::path(
    post,
    path = "/api/v1/shop/validations",
    tag = "shop",
    security(("session" = [])),
    request_body = ValidationBody,
    responses(
        (status = 201, description = "Given: a local discount recorded on the car's stay (`stay` says what it owes now)", body = ValidationAnswer),
        (status = 202, description = "A P云 coupon grant queued and not yet answered: `state` is `pending` (read the history for its outcome)", body = ValidationAnswer),
        (status = 200, description = "The same `validation_id` and body again, or a P云 grant already answered (`delivered`, `refused` with P云's reason, or `unknown`)", body = ValidationAnswer),
        (status = 400, description = "`invalid_plate`, `invalid_field`; `invalid_request` from the coupon request's own checks", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a merchant", body = ErrorBody),
        (status = 409, description = "`quota_exhausted` (`details.quota`: `daily` or `monthly`, `details.limit`); `not_parked`: a local discount needs the car parked here; `validation_id_reused`: the id names another validation; `pyun_not_configured`", body = ErrorBody),
        (status = 422, description = "`unknown_offer`: not an offer of this shop; `offer_inactive`; `unknown_product`, `unknown_coupon`: the offer's coupon product is gone", body = ErrorBody),
    )
)]
pub(crate) async fn validate_plate(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(body): ApiJson<ValidationBody>,
) -> Result<Response, ApiError> {
    let shop = own_shop(&state, &user).await?;
    let park = parks::get(&state.db, shop.park_id)
        .await?
        .ok_or(ApiError::Forbidden)?;
    let actor = user.actor();
    let req = ValidationRequest {
        offer_id: body.offer_id,
        plate: &body.plate,
        validation_id: &body.validation_id,
        created_by: &actor,
    };
    // Taken before the row is committed, so that its outcome cannot be missed.
    let ticket = state.dispatcher.ticket();
    let (answer, created) =
        match validate::validate(&state.db, &park, &shop, &req, Utc::now()).await? {
            Validated::Created(a) => (a, true),
            Validated::Replayed(a) => (a, false),
        };
    let Some(record) = answer.validation.coupon_record_id else {
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        return Ok((status, Json(answer)).into_response());
    };
    if created {
        state.dispatcher.notify();
    }
    if answer.validation.state == "pending" {
        let waited = state
            .dispatcher
            .wait(ticket, record, state.settings.coupon_wait, !created)
            .await?;
        if waited.is_none() {
            tracing::warn!(record, "a shop validation's coupon record is gone");
        }
    }
    let answer = follow(&state, &shop, answer).await?;
    let status = if answer.validation.state == "pending" {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answer)).into_response())
}

/// `answer` with its validation brought up to its coupon record.
async fn follow(
    state: &AppState,
    shop: &Shop,
    answer: ValidationAnswer,
) -> Result<ValidationAnswer, ApiError> {
    if let Some(id) = answer.validation.coupon_record_id {
        let record = outbox::get(&state.db, id).await?;
        if record.is_some_and(|r| r.state.is_final()) {
            validate::follow_records(&state.db, shop.id).await?;
        }
    }
    let validation = validate::current(&state.db, shop.id, &answer.validation.validation_id)
        .await?
        .unwrap_or(answer.validation);
    Ok(ValidationAnswer {
        validation,
        stay: answer.stay,
    })
}

/// Which day's history.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// A Shanghai day, `YYYY-MM-DD`; today when absent or empty.
    #[param(pattern = r"^(|\d{4}-\d{2}-\d{2})$")]
    day: Option<String>,
}

/// `GET /api/v1/shop/validations`: the shop's validations of one day, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/shop/validations",
    tag = "shop",
    security(("session" = [])),
    params(HistoryQuery),
    responses(
        (status = 200, description = "The day's validations, newest first", body = [ValidationView]),
        (status = 400, description = "`invalid_day`, or a query that does not parse", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a merchant", body = ErrorBody),
    )
)]
pub(crate) async fn history(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Vec<ValidationView>>, ApiError> {
    let shop = own_shop(&state, &user).await?;
    let day = match q.day.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => quota::periods(Utc::now()).0,
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::bad_request("invalid_day", "`day` is a date, YYYY-MM-DD"))?
            .format("%Y-%m-%d")
            .to_string(),
    };
    validate::follow_records(&state.db, shop.id).await?;
    Ok(Json(validate::of_day(&state.db, shop.id, &day).await?))
}

/// A QR code asked for at the till.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QrTokenBody {
    /// One of the shop's offers of a P云 coupon product.
    offer_id: i64,
    /// The QR dies at its first claim (one customer); otherwise anyone may claim it until it
    /// expires.
    single_use: bool,
    /// Lifetime in seconds, at most one day; P云 raises anything under 300 (its default) to 300.
    #[schema(minimum = 1, maximum = 86400)]
    expire_in: Option<u32>,
}

/// `POST /api/v1/shop/qr-tokens`: a QR code for the customer to scan, from P云 `mcoupon/token`.
#[utoipa::path(
    post,
    path = "/api/v1/shop/qr-tokens",
    tag = "shop",
    security(("session" = [])),
    request_body = QrTokenBody,
    responses(
        (status = 201, description = "Minted: show `url` as a QR code until `expires_at`; one unit of the offer's quota is used", body = MintedToken),
        (status = 400, description = "`invalid_field` (e.g. `expire_in` out of range), or a request that does not parse", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a merchant", body = ErrorBody),
        (status = 409, description = "`quota_exhausted` (`details.quota`, `details.limit`); `pyun_not_configured`: the car park has no P云 credential", body = ErrorBody),
        (status = 422, description = "`unknown_offer`, `offer_inactive`, `offer_not_pyun` (a local discount cannot be a QR code), `unknown_product`", body = ErrorBody),
        (status = 502, description = "`pyun_refused`: P云 answered with a refusal (its code and message), the quota unit is given back; `pyun_failed`: P云 answered with a failure of its own (5xx, `1500`), a token may exist so the unit stays used — press refresh", body = ErrorBody),
        (status = 503, description = "`pyun_unreachable`: P云 could not be reached, nothing was sent; the unit is given back", body = ErrorBody),
        (status = 504, description = "`pyun_timeout`: P云 did not answer in time and the call is never resent (a token may exist): press refresh for a new one; the unit stays used", body = ErrorBody),
    )
)]
pub(crate) async fn qr_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(body): ApiJson<QrTokenBody>,
) -> Result<(StatusCode, Json<MintedToken>), ApiError> {
    let shop = own_shop(&state, &user).await?;
    let park = parks::get(&state.db, shop.park_id)
        .await?
        .ok_or(ApiError::Forbidden)?;
    let actor = user.actor();
    let req = TokenRequest {
        offer_id: body.offer_id,
        single_use: body.single_use,
        expire_in: body.expire_in,
        created_by: &actor,
    };
    let minted =
        qr_token::mint(&state.db, &state.dispatcher, &park, &shop, &req, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(minted)))
}
