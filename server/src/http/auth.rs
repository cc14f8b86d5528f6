//! Sign-in, sign-out and "who am I" for the admin UI (session cookie).

use std::net::SocketAddr;

use axum::Extension;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::access::session_token;
use super::json::ApiJson;
use crate::accounts::{CurrentUser, login_limit, password, sessions, users};
use crate::error::{ApiError, ErrorBody};

/// Sign-in form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    username: String,
    password: String,
}

/// `POST /api/v1/auth/login`: checks the password and sets the session cookie.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = Login,
    responses(
        (status = 200, description = "Signed in; sets the `pb_session` cookie", body = CurrentUser),
        (status = 400, description = "Wrong username or password, or a malformed body", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins", body = ErrorBody),
    )
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let username = form.username.trim().to_owned();
    let address = peer.ip().to_string();
    if login_limit::is_limited(&state.db, &username, &address).await? {
        return Err(ApiError::TooManyRequests(
            "too many failed sign-ins; wait 15 minutes".to_owned(),
        ));
    }
    let stored = users::find_by_username(&state.db, &username).await?;
    let ok = match &stored {
        Some(user) => password::verify(form.password, user.password_hash.clone()).await,
        None => {
            password::waste_verification(form.password).await;
            false
        }
    };
    let user = match stored {
        Some(user) if ok && !user.view.disabled => user.view,
        _ => {
            login_limit::record_failure(&state.db, &username, &address).await?;
            tracing::info!(%username, %address, "sign-in refused");
            return Err(ApiError::bad_request(
                "bad_credentials",
                "wrong username or password",
            ));
        }
    };
    login_limit::clear_account(&state.db, &username).await?;
    let token = sessions::create(&state.db, user.id, state.settings.session_ttl).await?;
    tracing::info!(%username, "signed in");
    let cookie = session_cookie(
        &token,
        state.settings.session_ttl.num_seconds(),
        is_tls(&headers),
    );
    Ok(([(header::SET_COOKIE, cookie)], Json(user.to_current())).into_response())
}

/// `POST /api/v1/auth/logout`: revokes this session and clears the cookie.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    security(("session" = [])),
    responses(
        (status = 200, description = "Signed out; clears the cookie", body = serde_json::Value, example = json!({"signed_out": true})),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        sessions::revoke(&state.db, token).await?;
    }
    let cookie = session_cookie("", 0, is_tls(&headers));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(serde_json::json!({ "signed_out": true })),
    )
        .into_response())
}

/// `GET /api/v1/auth/me`: the signed-in user.
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    security(("session" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = CurrentUser),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub(crate) async fn me(Extension(user): Extension<CurrentUser>) -> Json<CurrentUser> {
    Json(user)
}

/// TLS is terminated by a proxy in front of us, which says so in `X-Forwarded-Proto`.
fn is_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        == Some("https")
}

fn session_cookie(token: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        sessions::COOKIE
    );
    HeaderValue::from_str(&value).expect("hex token and fixed attributes are a valid header")
}
