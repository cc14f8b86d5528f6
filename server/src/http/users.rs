//! Admin management of users: list, create, change role/parks/password, disable, end sessions.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::json::ApiJson;
use crate::accounts::users::{self, UserView};
use crate::accounts::{CurrentUser, Role, password, sessions};
use crate::audit;
use crate::error::{ApiError, ErrorBody};
use crate::storage::unique_violation;

/// `GET /api/v1/users`.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    security(("session" = [])),
    responses(
        (status = 200, description = "Every user, by username", body = [UserView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(users::list(&state.db).await?))
}

/// A new user.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    /// 3–64 letters, digits or `_ - . @`.
    #[schema(pattern = r"^[\w.@-]{3,64}$")]
    username: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
    password: String,
    role: Role,
    #[serde(default)]
    parks: Vec<i64>,
    /// The shop a `merchant` is bound to: required for merchants, refused for other roles.
    shop_id: Option<i64>,
}

fn check_username(name: &str) -> Result<(), ApiError> {
    let ok = (3..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_username",
            "username: 3–64 letters, digits or _ - . @",
        ))
    }
}

/// Refuses passwords shorter than the minimum.
pub(crate) fn check_password(pw: &str) -> Result<(), ApiError> {
    if pw.chars().count() < password::MIN_LEN {
        return Err(ApiError::bad_request(
            "weak_password",
            format!("password: at least {} characters", password::MIN_LEN),
        ));
    }
    Ok(())
}

fn map_park_error(e: sqlx::Error) -> ApiError {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            ApiError::unprocessable("unknown_park", "one of the car parks does not exist")
        }
        _ => ApiError::Storage(e),
    }
}

/// A merchant's car parks: its shop's, whatever `parks` says (the shop is what binds it). Other
/// roles keep `parks` and may not name a shop.
async fn merchant_shop(
    state: &AppState,
    role: Role,
    shop_id: Option<i64>,
    parks: Vec<i64>,
) -> Result<Vec<i64>, ApiError> {
    match (role, shop_id) {
        (Role::Merchant, None) => Err(ApiError::unprocessable(
            "shop_required",
            "a merchant is bound to one shop: send `shop_id`",
        )),
        (Role::Merchant, Some(id)) => {
            let mut conn = state.db.pool.acquire().await?;
            let shop = crate::shops::store::shop_by_id(&mut conn, id)
                .await?
                .ok_or_else(|| ApiError::unprocessable("unknown_shop", "no such shop"))?;
            Ok(vec![shop.park_id])
        }
        (_, Some(_)) => Err(ApiError::unprocessable(
            "shop_not_allowed",
            "only a merchant is bound to a shop",
        )),
        (_, None) => Ok(parks),
    }
}

/// `POST /api/v1/users`: 201 with the user; 409 when the username is taken.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    security(("session" = [])),
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 400, description = "`invalid_username`, `weak_password`", body = ErrorBody),
        (status = 422, description = "`unknown_park`: one of `parks` names no car park; `shop_required`: a merchant needs a `shop_id`; `shop_not_allowed`: only merchants have one; `unknown_shop`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Username taken", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let username = new.username.trim().to_owned();
    check_username(&username)?;
    check_password(&new.password)?;
    let parks = merchant_shop(&state, new.role, new.shop_id, new.parks).await?;
    let hash = password::hash(new.password).await;
    let id = users::create_in_shop(&state.db, &username, &hash, new.role, &parks, new.shop_id)
        .await
        .map_err(|e| {
            if unique_violation(&e).is_some() {
                ApiError::conflict(
                    "username_taken",
                    format!("username {username} is already taken"),
                )
            } else {
                map_park_error(e)
            }
        })?;
    audit::record(
        &state.db,
        &actor.actor(),
        "user.create",
        &format!("user:{username}"),
        json!({ "role": new.role, "parks": parks, "shop_id": new.shop_id }),
    )
    .await?;
    let user = users::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(user.view)))
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserChange {
    role: Option<Role>,
    parks: Option<Vec<i64>>,
    disabled: Option<bool>,
    /// At least 8 characters; signs the user out everywhere.
    #[schema(min_length = 8)]
    password: Option<String>,
}

/// `PUT /api/v1/users/{id}`: disabling or a new password also ends the user's sessions.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}",
    tag = "users",
    security(("session" = [])),
    params(("id" = i64, Path, description = "User id")),
    request_body = UserChange,
    responses(
        (status = 200, description = "The changed user", body = UserView),
        (status = 400, description = "`weak_password`", body = ErrorBody),
        (status = 422, description = "`unknown_park`: one of `parks` names no car park; `self_lockout`: an admin may not disable or demote their own account; `merchant_role_fixed`: a merchant's role cannot be changed, nor another role changed to merchant", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(change): ApiJson<UserChange>,
) -> Result<Json<UserView>, ApiError> {
    let user = users::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?
        .view;
    if id == actor.id
        && (change.disabled == Some(true) || change.role.is_some_and(|r| r != Role::Admin))
    {
        return Err(ApiError::unprocessable(
            "self_lockout",
            "you cannot disable or demote your own account",
        ));
    }
    // A merchant is bound to its shop from its creation: the role cannot be given or taken.
    if change
        .role
        .is_some_and(|r| (r == Role::Merchant) != (user.role == Role::Merchant))
    {
        return Err(ApiError::unprocessable(
            "merchant_role_fixed",
            "a merchant account is created for its shop and stays a merchant; create another user instead",
        ));
    }
    if let Some(pw) = &change.password {
        check_password(pw)?;
    }
    // The car parks go first: an unknown park is the only client mistake found by the database,
    // and it must be refused before any other part of the change is written.
    if let Some(parks) = &change.parks {
        users::set_parks(&state.db, id, parks)
            .await
            .map_err(map_park_error)?;
    }
    if let Some(role) = change.role {
        users::set_role(&state.db, id, role).await?;
    }
    if let Some(disabled) = change.disabled {
        users::set_disabled(&state.db, id, disabled).await?;
    }
    let password_changed = change.password.is_some();
    if let Some(pw) = change.password {
        let hash = password::hash(pw).await;
        users::set_password_hash(&state.db, id, &hash).await?;
    }
    if change.disabled == Some(true) || password_changed {
        sessions::revoke_all(&state.db, id).await?;
    }
    audit::record(
        &state.db,
        &actor.actor(),
        "user.update",
        &format!("user:{}", user.username),
        json!({ "role": change.role, "parks": change.parks, "disabled": change.disabled, "password_changed": password_changed }),
    )
    .await?;
    Ok(Json(
        users::get(&state.db, id)
            .await?
            .ok_or(ApiError::NotFound)?
            .view,
    ))
}

/// `DELETE /api/v1/users/{id}/sessions`: signs the user out everywhere.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/sessions",
    tag = "users",
    security(("session" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "How many sessions were ended", body = serde_json::Value, example = json!({"revoked": 2})),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub(crate) async fn revoke_sessions(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = users::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?
        .view;
    let revoked = sessions::revoke_all(&state.db, id).await?;
    audit::record(
        &state.db,
        &actor.actor(),
        "user.sessions_revoke",
        &format!("user:{}", user.username),
        json!({ "revoked": revoked }),
    )
    .await?;
    Ok(Json(json!({ "revoked": revoked })))
}
