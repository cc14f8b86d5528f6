//! Coupon configuration per car park: everyone who may see the car park reads it (property
//! managers pick products from it); admins set the event `api_type`/metadata keys and products.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AppState;
use super::json::ApiJson;
use crate::accounts::CurrentUser;
use crate::audit;
use crate::coupons::config::{self, EventSettings, MetadataKey, Product, ProductFields};
use crate::error::{ApiError, ErrorBody};
use crate::parks;
use crate::storage::unique_violation;

/// Most metadata keys an event rule may take (P云's own limit is not documented).
const MAX_METADATA_KEYS: usize = 16;

/// A car park's coupon configuration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CouponConfig {
    event: EventSettings,
    products: Vec<Product>,
}

async fn visible_park(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), ApiError> {
    if !user.may_access_park(id) || parks::get(&state.db, id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// `GET /api/v1/parks/{id}/coupon-config`.
#[utoipa::path(
    get,
    path = "/api/v1/parks/{id}/coupon-config",
    tag = "coupons",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    responses(
        (status = 200, description = "The event settings and coupon products", body = CouponConfig),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Json<CouponConfig>, ApiError> {
    visible_park(&state, &user, id).await?;
    Ok(Json(CouponConfig {
        event: config::event_settings(&state.db, id).await?,
        products: config::products(&state.db, id).await?,
    }))
}

fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("`{field}` must be 1 to {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// `PUT /api/v1/parks/{id}/coupon-config/event` (admins).
#[utoipa::path(
    put,
    path = "/api/v1/parks/{id}/coupon-config/event",
    tag = "coupons",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    request_body = EventSettings,
    responses(
        (status = 200, description = "The stored settings (trimmed)", body = EventSettings),
        (status = 400, description = "`invalid_field`", body = ErrorBody),
        (status = 422, description = "`duplicate_key`: a metadata key appears twice", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such car park", body = ErrorBody),
    )
)]
pub(crate) async fn set_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<EventSettings>,
) -> Result<Json<EventSettings>, ApiError> {
    visible_park(&state, &user, id).await?;
    let api_type = match body.api_type.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(text("api_type", t, 64)?),
    };
    if body.metadata_keys.len() > MAX_METADATA_KEYS {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("at most {MAX_METADATA_KEYS} metadata keys"),
        ));
    }
    let mut keys: Vec<MetadataKey> = Vec::new();
    for k in &body.metadata_keys {
        let key = text("metadata key", &k.key, 64)?;
        if keys.iter().any(|x| x.key == key) {
            return Err(ApiError::unprocessable(
                "duplicate_key",
                format!("metadata key `{key}` appears twice"),
            ));
        }
        keys.push(MetadataKey {
            key,
            name: text("metadata name", &k.name, 64)?,
        });
    }
    let settings = EventSettings {
        api_type,
        metadata_keys: keys,
    };
    config::set_event_settings(&state.db, id, &settings).await?;
    state.hot.event_settings_changed();
    audit::record(
        &state.db,
        &user.actor(),
        "coupon.event_settings",
        &format!("park:{id}"),
        json!({ "api_type": settings.api_type, "metadata_keys": settings.metadata_keys }),
    )
    .await?;
    Ok(Json(settings))
}

/// A coupon product as an admin submits it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProductBody {
    /// Display name, unique per car park, 1–64 characters.
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: String,
    /// P云 `coupon_code`, 1–64 characters.
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    coupon_code: String,
    /// P云 `store_code`, 1–64 characters.
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    store_code: String,
    /// Coupons per grant, 1–100.
    #[schema(minimum = 1, maximum = 100)]
    quantity: u32,
    /// Default reason sent to P云, up to 256 characters; blank means none.
    #[schema(
        pattern = r"^\s*(?:[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]{0,254}[^\s\x00-\x1F\x7F-\x9F])?)?\s*$"
    )]
    reason: Option<String>,
}

impl ProductBody {
    fn validate(self) -> Result<ProductFields, ApiError> {
        if !(1..=100).contains(&self.quantity) {
            return Err(ApiError::bad_request(
                "invalid_field",
                "`quantity` must be 1 to 100",
            ));
        }
        Ok(ProductFields {
            name: text("name", &self.name, 64)?,
            coupon_code: text("coupon_code", &self.coupon_code, 64)?,
            store_code: text("store_code", &self.store_code, 64)?,
            quantity: self.quantity,
            reason: match self.reason.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(r) => Some(text("reason", r, 256)?),
            },
        })
    }
}

fn name_taken(f: &ProductFields) -> impl FnOnce(sqlx::Error) -> ApiError + '_ {
    move |e| {
        if unique_violation(&e).is_some_and(|c| c.contains("name")) {
            ApiError::conflict(
                "duplicate_name",
                format!(
                    "a coupon product named `{}` exists at this car park (archived ones included)",
                    f.name
                ),
            )
        } else {
            e.into()
        }
    }
}

fn audit_detail(p: &Product) -> serde_json::Value {
    json!({ "name": p.name, "coupon_code": p.coupon_code, "store_code": p.store_code, "quantity": p.quantity })
}

/// `POST /api/v1/parks/{id}/coupon-products` (admins).
#[utoipa::path(
    post,
    path = "/api/v1/parks/{id}/coupon-products",
    tag = "coupons",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    request_body = ProductBody,
    responses(
        (status = 201, description = "Created", body = Product),
        (status = 400, description = "`invalid_field`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such car park", body = ErrorBody),
        (status = 409, description = "`duplicate_name`", body = ErrorBody),
    )
)]
pub(crate) async fn create_product(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ProductBody>,
) -> Result<(StatusCode, Json<Product>), ApiError> {
    visible_park(&state, &user, id).await?;
    let fields = body.validate()?;
    let product = config::create_product(&state.db, id, &fields)
        .await
        .map_err(name_taken(&fields))?;
    audit::record(
        &state.db,
        &user.actor(),
        "coupon.product_create",
        &format!("park:{id}"),
        audit_detail(&product),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(product)))
}

/// `PUT /api/v1/parks/{id}/coupon-products/{pid}` (admins).
#[utoipa::path(
    put,
    path = "/api/v1/parks/{id}/coupon-products/{pid}",
    tag = "coupons",
    security(("session" = [])),
    params(
        ("id" = i64, Path, description = "Car park id"),
        ("pid" = i64, Path, description = "Coupon product id"),
    ),
    request_body = ProductBody,
    responses(
        (status = 200, description = "The updated product", body = Product),
        (status = 400, description = "`invalid_field`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such car park or product", body = ErrorBody),
        (status = 409, description = "`duplicate_name`", body = ErrorBody),
    )
)]
pub(crate) async fn update_product(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, pid)): Path<(i64, i64)>,
    ApiJson(body): ApiJson<ProductBody>,
) -> Result<Json<Product>, ApiError> {
    visible_park(&state, &user, id).await?;
    let fields = body.validate()?;
    let product = config::update_product(&state.db, id, pid, &fields)
        .await
        .map_err(name_taken(&fields))?
        .ok_or(ApiError::NotFound)?;
    audit::record(
        &state.db,
        &user.actor(),
        "coupon.product_update",
        &format!("park:{id}"),
        audit_detail(&product),
    )
    .await?;
    Ok(Json(product))
}

/// `DELETE /api/v1/parks/{id}/coupon-products/{pid}` (admins): archives it.
#[utoipa::path(
    delete,
    path = "/api/v1/parks/{id}/coupon-products/{pid}",
    tag = "coupons",
    security(("session" = [])),
    params(
        ("id" = i64, Path, description = "Car park id"),
        ("pid" = i64, Path, description = "Coupon product id"),
    ),
    responses(
        (status = 204, description = "Archived"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such car park or product", body = ErrorBody),
    )
)]
pub(crate) async fn archive_product(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, pid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    visible_park(&state, &user, id).await?;
    if !config::archive_product(&state.db, id, pid).await? {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &state.db,
        &user.actor(),
        "coupon.product_archive",
        &format!("park:{id}"),
        json!({ "product_id": pid }),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
