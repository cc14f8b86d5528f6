//! Sign-in, sign-out and "who am I" for the admin UI (session cookie).

use std::net::{IpAddr, SocketAddr};

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
    let address = client_address(peer.ip(), &headers, &state.settings.trusted_proxies).to_string();
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

/// The client's address: the connection's peer, unless the peer is a trusted reverse proxy;
/// then the nearest address in `X-Forwarded-For` that is not itself a trusted proxy (walking
/// from the right, because each proxy appends the address it saw and a client can write
/// anything to the left of it).
fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.into_iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // An unreadable hop: nothing to its left can be trusted either.
            Err(_) => break,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        // Untrusted peer: its header is ignored (a client cannot pick its own address).
        assert_eq!(
            client_address(client, &forwarded("198.51.100.1"), &[]),
            client
        );
        // Trusted proxy: the address it appended, not what the client wrote before it.
        assert_eq!(
            client_address(proxy, &forwarded("198.51.100.1, 203.0.113.7"), &[proxy]),
            client
        );
        // Chained trusted proxies are skipped.
        let inner: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            client_address(proxy, &forwarded("203.0.113.7, 10.0.0.2"), &[proxy, inner]),
            client
        );
        // No header or an unreadable hop: the proxy's own address.
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
        assert_eq!(
            client_address(proxy, &forwarded("garbage"), &[proxy]),
            proxy
        );
    }
}
