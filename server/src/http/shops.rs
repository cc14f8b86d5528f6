//! Admins' and property managers' management of a car park's shops and their offers (issue 17):
//! create, list and change them, audit-logged in the change's transaction; and each shop's
//! monthly statement (对账单), as JSON and as CSV.

use axum::Extension;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use protocol::ledger::DiscountKind;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::json::ApiJson;
use super::vip_csv::csv_response;
use super::vip_records::query;
use crate::accounts::CurrentUser;
use crate::audit;
use crate::coupons::config;
use crate::discounts::DiscountsError;
use crate::error::{ApiError, ErrorBody};
use crate::parks;
use crate::shops::ShopsError;
use crate::shops::statement::{self, Statement};
use crate::shops::store::{
    self, Gives, NewOffer, Offer, OfferChange, Shop, offer_by_id, offers_of_shop, shop_by_id,
};
use crate::shops::validate;

/// Longest shop or offer name, and store code.
const MAX_NAME_CHARS: usize = 64;

/// `value` trimmed; its length is checked as sent, since the OpenAPI `maxLength` is.
fn text(field: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || value.chars().count() > MAX_NAME_CHARS || v.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("`{field}` must be 1 to {MAX_NAME_CHARS} printable characters"),
        ));
    }
    Ok(v.to_owned())
}

fn store_code(value: Option<&str>) -> Result<Option<String>, ApiError> {
    match value.filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => text("store_code", v).map(Some),
    }
}

/// The shop `id` if `user` may manage its car park (404 otherwise).
async fn managed_shop(state: &AppState, user: &CurrentUser, id: i64) -> Result<Shop, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    shop_by_id(&mut conn, id)
        .await?
        .filter(|s| user.may_access_park(s.park_id))
        .ok_or(ApiError::NotFound)
}

/// A new shop.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewShop {
    /// 1–64 characters, unique in the car park.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^\s*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: String,
    /// Its P云 store code (1–64 characters), sent with its coupon grants; empty or absent: the
    /// product's.
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    store_code: Option<String>,
}

/// `POST /api/v1/parks/{id}/shops`.
#[utoipa::path(
    post,
    path = "/api/v1/parks/{id}/shops",
    tag = "shops",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    request_body = NewShop,
    responses(
        (status = 201, description = "The shop", body = Shop),
        (status = 400, description = "`invalid_field`: an empty, too long or control-character name or store code", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin or property manager", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
        (status = 409, description = "`shop_name_taken`", body = ErrorBody),
    )
)]
pub(crate) async fn create_shop(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(park_id): Path<i64>,
    ApiJson(body): ApiJson<NewShop>,
) -> Result<(StatusCode, Json<Shop>), ApiError> {
    if !user.may_access_park(park_id) {
        return Err(ApiError::NotFound);
    }
    parks::get(&state.db, park_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let name = text("name", &body.name)?;
    let code = store_code(body.store_code.as_deref())?;
    let mut tx = state.db.pool.begin().await?;
    let id = store::create_shop(&mut tx, park_id, &name, code.as_deref(), Utc::now()).await?;
    audit::record_on(
        &mut tx,
        &user.actor(),
        "shop.create",
        &format!("shop:{id}"),
        json!({"park": park_id, "name": name, "store_code": code}),
    )
    .await?;
    let shop = shop_by_id(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    tracing::info!(park = park_id, shop = id, by = %user.actor(), "shop created");
    Ok((StatusCode::CREATED, Json(shop)))
}

/// `GET /api/v1/parks/{id}/shops`.
#[utoipa::path(
    get,
    path = "/api/v1/parks/{id}/shops",
    tag = "shops",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    responses(
        (status = 200, description = "The car park's shops, by name", body = [Shop]),
        (status = 400, description = "A path that does not parse", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin or property manager", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
    )
)]
pub(crate) async fn list_shops(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(park_id): Path<i64>,
) -> Result<Json<Vec<Shop>>, ApiError> {
    if !user.may_access_park(park_id) {
        return Err(ApiError::NotFound);
    }
    parks::get(&state.db, park_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(store::shops_of_park(&state.db, park_id).await?))
}

/// A change of a shop; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShopChange {
    /// 1–64 characters, unique in the car park.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^\s*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: Option<String>,
    /// Its P云 store code; empty: none (the product's is sent).
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    store_code: Option<String>,
    /// Whether it may validate.
    active: Option<bool>,
}

/// `PUT /api/v1/shops/{id}`.
#[utoipa::path(
    put,
    path = "/api/v1/shops/{id}",
    tag = "shops",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Shop id")),
    request_body = ShopChange,
    responses(
        (status = 200, description = "The changed shop", body = Shop),
        (status = 400, description = "`invalid_field`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin or property manager", body = ErrorBody),
        (status = 404, description = "No such shop for this user", body = ErrorBody),
        (status = 409, description = "`shop_name_taken`", body = ErrorBody),
    )
)]
pub(crate) async fn update_shop(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ShopChange>,
) -> Result<Json<Shop>, ApiError> {
    let shop = managed_shop(&state, &user, id).await?;
    let name = match &body.name {
        Some(n) => text("name", n)?,
        None => shop.name.clone(),
    };
    let code = match &body.store_code {
        Some(c) => store_code(Some(c))?,
        None => shop.store_code.clone(),
    };
    let active = body.active.unwrap_or(shop.active);
    let mut tx = state.db.pool.begin().await?;
    store::update_shop(&mut tx, id, &name, code.as_deref(), active, Utc::now()).await?;
    audit::record_on(
        &mut tx,
        &user.actor(),
        "shop.update",
        &format!("shop:{id}"),
        json!({"name": name, "store_code": code, "active": active}),
    )
    .await?;
    let shop = shop_by_id(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Json(shop))
}

/// The local discount an offer gives (PROTOCOLS.md §5.1).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiscountField {
    /// `amount` (fen ≥ 1), `minutes` (1–527040), `free` (no value) or `percent` (1–1000 per mille).
    #[schema(pattern = "^(amount|minutes|free|percent)$")]
    kind: String,
    /// The kind's value.
    #[schema(minimum = 0)]
    value: Option<i64>,
}

/// A new offer: exactly one of `product_id` and `discount`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewOfferBody {
    /// 1–64 characters, unique in the shop.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^\s*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: String,
    /// A coupon product of the shop's car park, granted through P云.
    product_id: Option<i64>,
    /// A local discount recorded in the ledger.
    discount: Option<DiscountField>,
    /// Validations per Shanghai day.
    #[schema(minimum = 1)]
    daily_quota: i64,
    /// Validations per Shanghai month; absent: unlimited.
    #[schema(minimum = 1)]
    monthly_quota: Option<i64>,
}

fn quota(field: &str, v: i64) -> Result<i64, ApiError> {
    if v < 1 {
        return Err(ApiError::bad_request(
            "invalid_quota",
            format!("`{field}` is at least 1"),
        ));
    }
    Ok(v)
}

/// `POST /api/v1/shops/{id}/offers`.
#[utoipa::path(
    post,
    path = "/api/v1/shops/{id}/offers",
    tag = "shops",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Shop id")),
    request_body = NewOfferBody,
    responses(
        (status = 201, description = "The offer", body = Offer),
        (status = 400, description = "`invalid_field`, `invalid_quota`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin or property manager", body = ErrorBody),
        (status = 404, description = "No such shop for this user", body = ErrorBody),
        (status = 409, description = "`offer_name_taken`", body = ErrorBody),
        (status = 422, description = "`offer_shape`: not exactly one of `product_id` and `discount`; `unknown_product`: not a live coupon product of the shop's car park; `unsupported_discount`; `invalid_discount_value`", body = ErrorBody),
    )
)]
pub(crate) async fn create_offer(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NewOfferBody>,
) -> Result<(StatusCode, Json<Offer>), ApiError> {
    let shop = managed_shop(&state, &user, id).await?;
    let name = text("name", &body.name)?;
    let daily_quota = quota("daily_quota", body.daily_quota)?;
    let monthly_quota = body
        .monthly_quota
        .map(|m| quota("monthly_quota", m))
        .transpose()?;
    let gives = match (body.product_id, &body.discount) {
        (Some(p), None) => {
            let product = config::product(&state.db, shop.park_id, p)
                .await?
                .filter(|p| !p.archived)
                .ok_or(ShopsError::UnknownProduct)?;
            Gives::Product(product.id)
        }
        (None, Some(d)) => {
            let kind = DiscountKind::from_parts(d.kind.trim(), d.value)
                .map_err(|e| ShopsError::Discounts(DiscountsError::from(e)))?;
            if matches!(kind, DiscountKind::FreeWindow(_)) {
                return Err(ApiError::unprocessable(
                    "unsupported_discount",
                    "a shop validates a parked car's stay: amount, minutes, free or percent",
                ));
            }
            Gives::Discount(kind)
        }
        _ => return Err(ShopsError::OfferShape.into()),
    };
    let new = NewOffer {
        name,
        gives,
        daily_quota,
        monthly_quota,
    };
    let mut tx = state.db.pool.begin().await?;
    let offer_id = store::create_offer(&mut tx, shop.id, &new, Utc::now()).await?;
    let offer = offer_by_id(&mut tx, offer_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    audit::record_on(
        &mut tx,
        &user.actor(),
        "shop.offer.create",
        &format!("offer:{offer_id}"),
        json!({"shop": shop.id, "name": offer.name, "product_id": offer.product_id,
               "discount": offer.discount, "daily_quota": daily_quota, "monthly_quota": monthly_quota}),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(offer)))
}

/// `GET /api/v1/shops/{id}/offers`.
#[utoipa::path(
    get,
    path = "/api/v1/shops/{id}/offers",
    tag = "shops",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Shop id")),
    responses(
        (status = 200, description = "The shop's offers", body = [Offer]),
        (status = 400, description = "A path that does not parse", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin or property manager", body = ErrorBody),
        (status = 404, description = "No such shop for this user", body = ErrorBody),
    )
)]
pub(crate) async fn list_offers(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Offer>>, ApiError> {
    let shop = managed_shop(&state, &user, id).await?;
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(offers_of_shop(&mut conn, shop.id).await?))
}

/// A change of an offer; absent fields stay. What it gives cannot change (its validations are
/// billed by it): make a new offer instead.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfferChangeBody {
    /// 1–64 characters, unique in the shop.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^\s*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: Option<String>,
    /// Validations per Shanghai day.
    #[schema(minimum = 1)]
    daily_quota: Option<i64>,
    /// Validations per Shanghai month; `null`: unlimited.
    #[serde(default, deserialize_with = "super::json::present")]
    #[schema(minimum = 1)]
    monthly_quota: Option<Option<i64>>,
    /// Whether it may be given.
    active: Option<bool>,
}

/// `PUT /api/v1/offers/{id}`.
#[utoipa::path(
    put,
    path = "/api/v1/offers/{id}",
    tag = "shops",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Offer id")),
    request_body = OfferChangeBody,
    responses(
        (status = 200, description = "The changed offer", body = Offer),
        (status = 400, description = "`invalid_field`, `invalid_quota`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin or property manager", body = ErrorBody),
        (status = 404, description = "No such offer for this user", body = ErrorBody),
        (status = 409, description = "`offer_name_taken`", body = ErrorBody),
    )
)]
pub(crate) async fn update_offer(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<OfferChangeBody>,
) -> Result<Json<Offer>, ApiError> {
    let offer = {
        let mut conn = state.db.pool.acquire().await?;
        offer_by_id(&mut conn, id)
            .await?
            .ok_or(ApiError::NotFound)?
    };
    managed_shop(&state, &user, offer.shop_id).await?;
    let change = OfferChange {
        name: match &body.name {
            Some(n) => text("name", n)?,
            None => offer.name.clone(),
        },
        daily_quota: quota("daily_quota", body.daily_quota.unwrap_or(offer.daily_quota))?,
        monthly_quota: match body.monthly_quota {
            Some(m) => m.map(|m| quota("monthly_quota", m)).transpose()?,
            None => offer.monthly_quota,
        },
        active: body.active.unwrap_or(offer.active),
    };
    let mut tx = state.db.pool.begin().await?;
    store::update_offer(&mut tx, id, &change, Utc::now()).await?;
    audit::record_on(
        &mut tx,
        &user.actor(),
        "shop.offer.update",
        &format!("offer:{id}"),
        json!({"name": change.name, "daily_quota": change.daily_quota,
               "monthly_quota": change.monthly_quota, "active": change.active}),
    )
    .await?;
    let offer = offer_by_id(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Json(offer))
}

/// Which month a statement covers.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatementQuery {
    /// `YYYY-MM`, a Shanghai month; absent: the current one.
    #[param(pattern = r"^\d{4}-\d{2}$")]
    month: Option<String>,
}

/// Which month a statement's CSV covers, and its encoding.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatementCsvQuery {
    /// `YYYY-MM`, a Shanghai month; absent: the current one.
    #[param(pattern = r"^\d{4}-\d{2}$")]
    month: Option<String>,
    /// `utf-8` (default, with a BOM) or `gbk`.
    #[param(pattern = "^(?:utf-8|utf8|UTF-8|gbk|GBK)$")]
    encoding: Option<String>,
}

/// The month asked for, or 422 `invalid_month`.
fn statement_month(month: Option<&str>) -> Result<String, ApiError> {
    match month {
        None => Ok(crate::shops::quota::periods(Utc::now()).1),
        Some(m) => statement::parse_month(m).ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_month",
                format!("`month` must be a month written YYYY-MM, not `{m}`"),
            )
        }),
    }
}

/// Shop `id`'s statement for `month`, its pending P云 validations brought up to date; `check`
/// refuses the rest of the query once the shop and month are known good.
async fn statement_of(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    month: Option<&str>,
    check: impl FnOnce() -> Result<(), ApiError>,
) -> Result<Statement, ApiError> {
    let shop = managed_shop(state, user, id).await?;
    let month = statement_month(month)?;
    check()?;
    let park = parks::get(&state.db, shop.park_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    validate::follow_records(&state.db, shop.id).await?;
    Ok(statement::of_month(&state.db, &park, shop, &month, Utc::now()).await?)
}

/// The CSV's encoding as `csv_response` names it, or 422 `invalid_encoding`.
fn csv_encoding(encoding: Option<&str>) -> Result<&'static str, ApiError> {
    match encoding {
        None | Some("utf-8" | "utf8" | "UTF-8") => Ok("utf-8"),
        Some("gbk" | "GBK") => Ok("gbk"),
        Some(other) => Err(ApiError::unprocessable(
            "invalid_encoding",
            format!("`encoding` must be `utf-8` or `gbk`, not `{other}`"),
        )),
    }
}

/// `GET /api/v1/shops/{id}/statement`.
#[utoipa::path(
    get,
    path = "/api/v1/shops/{id}/statement",
    tag = "shops",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Shop id"), StatementQuery),
    responses(
        (status = 200, description = "The shop's validations of the month by offer and kind: states, and what the delivered ones were worth as far as known (`worth_missing` counts the others); refused ones are never billed", body = Statement),
        (status = 400, description = "`invalid_query`: a query or path that does not parse", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin or property manager", body = ErrorBody),
        (status = 404, description = "No such shop for this user", body = ErrorBody),
        (status = 422, description = "`invalid_month`: `month` is not a month written YYYY-MM", body = ErrorBody),
    )
)]
pub(crate) async fn statement_json(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    q: Result<Query<StatementQuery>, QueryRejection>,
) -> Result<Json<Statement>, ApiError> {
    let q = query(q)?;
    Ok(Json(
        statement_of(&state, &user, id, q.month.as_deref(), || Ok(())).await?,
    ))
}

/// `GET /api/v1/shops/{id}/statement.csv`.
#[utoipa::path(
    get,
    path = "/api/v1/shops/{id}/statement.csv",
    tag = "shops",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Shop id"), StatementCsvQuery),
    responses(
        (status = 200, description = "A row per validation of the month (时间 Shanghai, 方式, 车牌, 优惠, 状态, 价值(元), 操作人, 编号), then the totals row; UTF-8 with a BOM or GBK, as an attachment", content_type = "text/csv"),
        (status = 400, description = "`invalid_query`: a query or path that does not parse", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin or property manager", body = ErrorBody),
        (status = 404, description = "No such shop for this user", body = ErrorBody),
        (status = 422, description = "`invalid_month`: `month` is not a month written YYYY-MM; `invalid_encoding`: not `utf-8` or `gbk`; `not_gbk_encodable`: a stored character GBK cannot hold", body = ErrorBody),
    )
)]
pub(crate) async fn statement_csv(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    q: Result<Query<StatementCsvQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let mut encoding = "utf-8";
    let s = statement_of(&state, &user, id, q.month.as_deref(), || {
        encoding = csv_encoding(q.encoding.as_deref())?;
        Ok(())
    })
    .await?;
    let name = format!("statement-shop{}-{}.csv", s.shop.id, s.month);
    csv_response(statement::csv_text(&s), Some(encoding), name)
}
