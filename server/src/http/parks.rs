//! Car parks: everyone signed in reads the ones they may act on; admins create and edit them;
//! property managers edit the tariff of their own.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use protocol::tariff::Tariff;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::json::ApiJson;
use super::schema_rules::TariffSchema;
use crate::accounts::CurrentUser;
use crate::audit;
use crate::credentials::{self, CredentialKind};
use crate::error::{ApiError, ErrorBody};
use crate::parks::{self, Park, ParkFields};
use crate::storage::{Db, unique_violation};

/// `GET /api/v1/parks`: admins see all, others the car parks they are assigned.
#[utoipa::path(
    get,
    path = "/api/v1/parks",
    tag = "car parks",
    security(("session" = [])),
    responses(
        (status = 200, description = "The car parks this user may act on", body = [Park]),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Result<Json<Vec<Park>>, ApiError> {
    let all = parks::list(&state.db).await?;
    Ok(Json(
        all.into_iter()
            .filter(|p| user.may_access_park(p.id))
            .collect(),
    ))
}

/// `GET /api/v1/parks/{id}`: 404 also for a car park the user may not see (existence is not revealed).
#[utoipa::path(
    get,
    path = "/api/v1/parks/{id}",
    tag = "car parks",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    responses(
        (status = 200, description = "The car park", body = Park),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Json<Park>, ApiError> {
    if !user.may_access_park(id) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(
        parks::get(&state.db, id).await?.ok_or(ApiError::NotFound)?,
    ))
}

/// A car park as an admin submits it (create and full update).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParkInput {
    /// 1–32 of `a-z 0-9 - _`; unique.
    #[schema(pattern = r"^[a-z0-9_-]{1,32}$")]
    code: String,
    /// 1–64 characters.
    #[schema(max_length = 64, pattern = r"^\S(?:.*\S)?$")]
    name: String,
    /// At most 128 characters; blank means none.
    #[schema(
        pattern = r"^\s*(?:[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]{0,126}[^\s\x00-\x1F\x7F-\x9F])?)?\s*$"
    )]
    pyun_park_uuid: Option<String>,
    /// At most 128 characters; blank means none.
    #[schema(
        pattern = r"^\s*(?:[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]{0,126}[^\s\x00-\x1F\x7F-\x9F])?)?\s*$"
    )]
    pyun_api_store_code: Option<String>,
    /// At most 128 characters; blank means none.
    #[schema(
        pattern = r"^\s*(?:[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]{0,126}[^\s\x00-\x1F\x7F-\x9F])?)?\s*$"
    )]
    pyun_merchant: Option<String>,
    /// At most 128 characters; blank means none.
    #[schema(
        pattern = r"^\s*(?:[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]{0,126}[^\s\x00-\x1F\x7F-\x9F])?)?\s*$"
    )]
    mallcoo_park_id: Option<String>,
    /// At most 128 characters; blank means none.
    #[schema(
        pattern = r"^\s*(?:[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]{0,126}[^\s\x00-\x1F\x7F-\x9F])?)?\s*$"
    )]
    mallcoo_park_code: Option<String>,
    /// The tariff, shaped as in `PUT /api/v1/parks/{id}/tariff`; absent keeps the current one
    /// (on creation: the PROTOCOLS.md §5 example).
    #[schema(value_type = Option<TariffSchema>)]
    tariff: Option<Tariff>,
    pyun_credential_id: Option<i64>,
    mallcoo_out_credential_id: Option<i64>,
    mallcoo_in_credential_id: Option<i64>,
    /// Parking spaces, 0–100000 (the 余位 sign and occupancy); `null` or absent: not configured.
    #[schema(minimum = 0, maximum = 100_000)]
    total_spaces: Option<i64>,
    /// A `pyun_carpark` credential switches P云 car-park access on (needs `pyun_park_uuid`);
    /// `null` or absent: off.
    pyun_carpark_credential_id: Option<i64>,
}

/// The most spaces a car park may declare: beyond any real one, small enough that no sum of
/// them overflows.
const MAX_SPACES: i64 = 100_000;

fn check_code(code: &str) -> Result<(), ApiError> {
    let ok = (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_code",
            "code: 1–32 of a-z, 0-9, - and _",
        ))
    }
}

/// Trims an optional identifier; blank means absent (what an emptied form field sends).
fn optional(field: &'static str, v: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(v) = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > 128 || v.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("{field}: at most 128 printable characters"),
        ));
    }
    Ok(Some(v))
}

fn check_spaces(spaces: Option<i64>) -> Result<Option<i64>, ApiError> {
    match spaces {
        Some(n) if !(0..=MAX_SPACES).contains(&n) => Err(ApiError::bad_request(
            "invalid_field",
            format!("total_spaces: an integer from 0 to {MAX_SPACES}, or null"),
        )),
        _ => Ok(spaces),
    }
}

fn check_tariff(tariff: &Tariff) -> Result<(), ApiError> {
    tariff
        .validate()
        .map_err(|e| ApiError::unprocessable("invalid_tariff", format!("tariff: {e}")))
}

/// Each credential reference must name a credential of the kind its field needs.
async fn check_credential(
    db: &Db,
    field: &'static str,
    id: Option<i64>,
    kind: CredentialKind,
) -> Result<(), ApiError> {
    let Some(id) = id else { return Ok(()) };
    match credentials::get(db, id).await? {
        Some(c) if c.kind == kind => Ok(()),
        _ => Err(ApiError::unprocessable(
            "invalid_credential",
            format!("{field} must name a {} credential", kind.as_str()),
        )),
    }
}

impl ParkInput {
    /// Validates into storable fields; `current_tariff` is kept when no tariff is given.
    async fn validate(
        self,
        db: &Db,
        current_tariff: Option<Tariff>,
    ) -> Result<ParkFields, ApiError> {
        let code = self.code.trim().to_owned();
        check_code(&code)?;
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(ApiError::bad_request(
                "invalid_name",
                "name: 1–64 characters",
            ));
        }
        let tariff = self
            .tariff
            .or(current_tariff)
            .unwrap_or_else(Tariff::example);
        check_tariff(&tariff)?;
        check_credential(
            db,
            "pyun_credential_id",
            self.pyun_credential_id,
            CredentialKind::Pyun,
        )
        .await?;
        check_credential(
            db,
            "mallcoo_out_credential_id",
            self.mallcoo_out_credential_id,
            CredentialKind::MallcooOutbound,
        )
        .await?;
        check_credential(
            db,
            "pyun_carpark_credential_id",
            self.pyun_carpark_credential_id,
            CredentialKind::PyunCarpark,
        )
        .await?;
        let pyun_park_uuid = optional("pyun_park_uuid", self.pyun_park_uuid)?;
        if self.pyun_carpark_credential_id.is_some() && pyun_park_uuid.is_none() {
            return Err(ApiError::unprocessable(
                "park_uuid_required",
                "P云 car-park access needs pyun_park_uuid: P云 names the car park by it",
            ));
        }
        check_credential(
            db,
            "mallcoo_in_credential_id",
            self.mallcoo_in_credential_id,
            CredentialKind::MallcooInbound,
        )
        .await?;
        Ok(ParkFields {
            code,
            name,
            pyun_park_uuid,
            pyun_api_store_code: optional("pyun_api_store_code", self.pyun_api_store_code)?,
            pyun_merchant: optional("pyun_merchant", self.pyun_merchant)?,
            mallcoo_park_id: optional("mallcoo_park_id", self.mallcoo_park_id)?,
            mallcoo_park_code: optional("mallcoo_park_code", self.mallcoo_park_code)?,
            tariff,
            pyun_credential_id: self.pyun_credential_id,
            mallcoo_out_credential_id: self.mallcoo_out_credential_id,
            mallcoo_in_credential_id: self.mallcoo_in_credential_id,
            total_spaces: check_spaces(self.total_spaces)?,
            pyun_carpark_credential_id: self.pyun_carpark_credential_id,
        })
    }
}

/// A duplicate code or Mallcoo `parkId` is a 409 decided by the constraint; a credential
/// deleted meanwhile is a 400.
fn map_write_error(f: &ParkFields) -> impl FnOnce(sqlx::Error) -> ApiError + '_ {
    move |e| match unique_violation(&e).as_deref() {
        Some(c) if c.contains("pyun_carpark_uuid") || c.contains("pyun_park_uuid") => {
            ApiError::conflict(
                "pyun_park_uuid_taken",
                format!(
                    "another car park on P云 car-park access already has park_uuid {}",
                    f.pyun_park_uuid.as_deref().unwrap_or_default()
                ),
            )
        }
        Some(c) if c.contains("mallcoo_park_id") => ApiError::conflict(
            "mallcoo_park_id_taken",
            format!(
                "another car park already has Mallcoo parkId {}",
                f.mallcoo_park_id.as_deref().unwrap_or_default()
            ),
        ),
        Some(_) => ApiError::conflict(
            "park_code_taken",
            format!("a car park with code {} already exists", f.code),
        ),
        None => match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => ApiError::unprocessable(
                "invalid_credential",
                "a referenced credential does not exist",
            ),
            _ => ApiError::Storage(e),
        },
    }
}

fn audit_detail(id: i64, f: &ParkFields) -> serde_json::Value {
    json!({
        "id": id,
        "code": f.code,
        "name": f.name,
        "pyun_park_uuid": f.pyun_park_uuid,
        "pyun_api_store_code": f.pyun_api_store_code,
        "pyun_merchant": f.pyun_merchant,
        "mallcoo_park_id": f.mallcoo_park_id,
        "mallcoo_park_code": f.mallcoo_park_code,
        "pyun_credential_id": f.pyun_credential_id,
        "mallcoo_out_credential_id": f.mallcoo_out_credential_id,
        "mallcoo_in_credential_id": f.mallcoo_in_credential_id,
        "total_spaces": f.total_spaces,
        "pyun_carpark_credential_id": f.pyun_carpark_credential_id,
    })
}

/// `POST /api/v1/parks`: 201; the tariff defaults to the §5 example.
#[utoipa::path(
    post,
    path = "/api/v1/parks",
    tag = "car parks",
    security(("session" = [])),
    request_body = ParkInput,
    responses(
        (status = 201, description = "Created", body = Park),
        (status = 400, description = "`invalid_code`, `invalid_name`, `invalid_field` (an identifier over 128 characters, `total_spaces` outside 0–100000)", body = ErrorBody),
        (status = 422, description = "`invalid_tariff`: the tariff's values do not fit together (e.g. periods that do not tile the day); `invalid_credential`: a credential id names no credential of the kind its field needs; `park_uuid_required`: P云 car-park access without `pyun_park_uuid`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "`park_code_taken`, `mallcoo_park_id_taken`, `pyun_park_uuid_taken` (another car park on P云 car-park access has this park_uuid)", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    ApiJson(input): ApiJson<ParkInput>,
) -> Result<(StatusCode, Json<Park>), ApiError> {
    let fields = input.validate(&state.db, None).await?;
    let id = parks::create(&state.db, &fields)
        .await
        .map_err(map_write_error(&fields))?;
    audit::record(
        &state.db,
        &actor.actor(),
        "park.create",
        &format!("park:{}", fields.code),
        audit_detail(id, &fields),
    )
    .await?;
    let park = parks::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    state.hot.parks_changed();
    Ok((StatusCode::CREATED, Json(park)))
}

/// `PUT /api/v1/parks/{id}`: replaces every field; an absent tariff keeps the current one.
#[utoipa::path(
    put,
    path = "/api/v1/parks/{id}",
    tag = "car parks",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    request_body = ParkInput,
    responses(
        (status = 200, description = "The updated car park", body = Park),
        (status = 400, description = "`invalid_code`, `invalid_name`, `invalid_field` (an identifier over 128 characters, `total_spaces` outside 0–100000)", body = ErrorBody),
        (status = 422, description = "`invalid_tariff`: the tariff's values do not fit together (e.g. periods that do not tile the day); `invalid_credential`: a credential id names no credential of the kind its field needs; `park_uuid_required`: P云 car-park access without `pyun_park_uuid`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such car park", body = ErrorBody),
        (status = 409, description = "`park_code_taken`, `mallcoo_park_id_taken`, `pyun_park_uuid_taken` (another car park on P云 car-park access has this park_uuid)", body = ErrorBody),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ParkInput>,
) -> Result<Json<Park>, ApiError> {
    let current = parks::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let fields = input
        .validate(&state.db, Some(current.fields.tariff))
        .await?;
    if !parks::update(&state.db, id, &fields)
        .await
        .map_err(map_write_error(&fields))?
    {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &state.db,
        &actor.actor(),
        "park.update",
        &format!("park:{}", fields.code),
        audit_detail(id, &fields),
    )
    .await?;
    state.hot.parks_changed();
    Ok(Json(
        parks::get(&state.db, id).await?.ok_or(ApiError::NotFound)?,
    ))
}

/// `PUT /api/v1/parks/{id}/tariff`: admins, or a property manager of this car park (else 403).
#[utoipa::path(
    put,
    path = "/api/v1/parks/{id}/tariff",
    tag = "car parks",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id")),
    request_body(content = TariffSchema, description = "The tariff (PROTOCOLS.md §5)"),
    responses(
        (status = 200, description = "The car park with its new tariff", body = Park),
        (status = 400, description = "The request cannot be read", body = ErrorBody),
        (status = 422, description = "`invalid_tariff`: the tariff's values do not fit together (e.g. periods that do not tile the day)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Neither an admin nor a property manager of this car park", body = ErrorBody),
        (status = 404, description = "No such car park", body = ErrorBody),
    )
)]
pub(crate) async fn set_tariff(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(tariff): ApiJson<Tariff>,
) -> Result<Json<Park>, ApiError> {
    // The route admits only admins and property managers; this narrows managers to their parks.
    if !actor.may_access_park(id) {
        return Err(ApiError::Forbidden);
    }
    check_tariff(&tariff)?;
    let park = parks::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if !parks::set_tariff(&state.db, id, &tariff).await? {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &state.db,
        &actor.actor(),
        "park.tariff_update",
        &format!("park:{}", park.fields.code),
        json!({ "id": id, "tariff": tariff }),
    )
    .await?;
    state.hot.parks_changed();
    Ok(Json(
        parks::get(&state.db, id).await?.ok_or(ApiError::NotFound)?,
    ))
}
