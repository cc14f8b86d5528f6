//! Admin management of machine clients' API keys: list, create (the key is shown once), revoke.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AppState;
use super::json::ApiJson;
use crate::accounts::CurrentUser;
use crate::api_keys::{self, ApiKeyView, NewKey, Scope};
use crate::audit;
use crate::error::ApiError;
use crate::error::ErrorBody;

/// `GET /api/v1/api-keys`: every key, newest first (never a key or its hash).
#[utoipa::path(
    get,
    path = "/api/v1/api-keys",
    tag = "api keys",
    security(("session" = [])),
    responses(
        (status = 200, description = "Every key, newest first", body = [ApiKeyView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Vec<ApiKeyView>>, ApiError> {
    Ok(Json(api_keys::list(&state.db).await?))
}

/// A new key.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewApiKey {
    /// What the key is for, e.g. `north gate controller`: 1–100 characters, no control characters.
    #[schema(
        max_length = 100,
        pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$"
    )]
    name: String,
    /// At least one scope.
    #[schema(min_items = 1)]
    scopes: Vec<Scope>,
    /// The one car park the key may act on; `null` or absent for all.
    #[serde(default)]
    park_id: Option<i64>,
}

/// The answer to a creation: the only time the full key is ever shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedApiKey {
    /// The full key for `Authorization: Bearer …`; store it now, it cannot be shown again.
    key: String,
    /// The stored key's view.
    api_key: ApiKeyView,
}

/// `POST /api/v1/api-keys`: 201 with the key, shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/api-keys",
    tag = "api keys",
    security(("session" = [])),
    request_body = NewApiKey,
    responses(
        (status = 201, description = "Created; `key` is shown only in this response", body = CreatedApiKey),
        (status = 400, description = "`invalid_name`, `invalid_scopes`", body = ErrorBody),
        (status = 422, description = "`unknown_park`: `park_id` names no car park", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    ApiJson(new): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    let name = new.name.trim();
    api_keys::validate(name, &new.scopes)?;
    if let Some(park_id) = new.park_id
        && !api_keys::park_exists(&state.db, park_id).await?
    {
        return Err(unknown_park(park_id));
    }
    let (key, view) = api_keys::create(
        &state.db,
        NewKey {
            name,
            scopes: &new.scopes,
            park_id: new.park_id,
            created_by: Some(actor.id),
        },
    )
    .await
    .map_err(|e| match &e {
        // The car park was deleted between the check and the insert.
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            unknown_park(new.park_id.unwrap_or_default())
        }
        _ => ApiError::Storage(e),
    })?;
    audit::record(
        &state.db,
        &actor.actor(),
        "api_key.create",
        &format!("apikey:{}", view.prefix),
        json!({ "name": view.name, "scopes": view.scopes, "park_id": view.park_id }),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey { key, api_key: view }),
    ))
}

fn unknown_park(park_id: i64) -> ApiError {
    ApiError::unprocessable("unknown_park", format!("car park {park_id} does not exist"))
}

/// `DELETE /api/v1/api-keys/{id}`: revokes the key; requests with it get 401 from then on.
#[utoipa::path(
    delete,
    path = "/api/v1/api-keys/{id}",
    tag = "api keys",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 200, description = "The revoked key", body = ApiKeyView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Json<ApiKeyView>, ApiError> {
    let view = api_keys::revoke(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    audit::record(
        &state.db,
        &actor.actor(),
        "api_key.revoke",
        &format!("apikey:{}", view.prefix),
        json!({ "name": view.name }),
    )
    .await?;
    Ok(Json(view))
}
