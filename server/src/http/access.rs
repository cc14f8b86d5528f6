//! Who may call a route: every API route declares an `Access`, enforced here before its handler.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::accounts::{CurrentUser, Role, sessions};
use crate::api_keys::{self, MachineClient, Scope};
use crate::error::ApiError;

/// The access rule of one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (sign-in itself, health).
    Public,
    /// Any signed-in person, merchants included (sign-out, `me`).
    SignedIn,
    /// Any signed-in person of the car parks' staff: every role but `merchant`, who sees only
    /// its shop.
    Staff,
    /// Merchants only, on their own shop's routes (admins have no shop: they use the shops'
    /// management routes instead).
    Merchant,
    /// Signed-in people with one of these roles; admins always pass.
    Roles(&'static [Role]),
    /// Machine clients whose API key (`Authorization: Bearer …`) carries this scope.
    Machine(Scope),
    /// Machine clients with any valid API key, whatever its scopes (e.g. `whoami`).
    AnyMachine,
    /// Mallcoo, signing with a car park's inbound key pair (PROTOCOLS.md §2.1, §2.6). The handler
    /// verifies it: the key depends on the `parkId` inside the signed body. Sessions and API
    /// keys count for nothing here.
    MallcooSigned,
}

impl Access {
    /// Admins only.
    pub const ADMIN: Access = Access::Roles(&[]);

    /// Whether a signed-in `role` passes this rule (`Public` and `SignedIn` admit every role;
    /// machine routes admit no person, whatever the role).
    pub fn admits(self, role: Role) -> bool {
        match self {
            Access::Public | Access::SignedIn => true,
            Access::Staff => role != Role::Merchant,
            Access::Merchant => role == Role::Merchant,
            Access::Roles(roles) => role == Role::Admin || roles.contains(&role),
            Access::Machine(_) | Access::AnyMachine | Access::MallcooSigned => false,
        }
    }

    /// Whether a machine client with `scopes` passes this rule (people's routes admit no key).
    pub fn admits_scopes(self, scopes: &[Scope]) -> bool {
        match self {
            Access::Public | Access::AnyMachine => true,
            Access::Machine(scope) => scopes.contains(&scope),
            Access::SignedIn
            | Access::Staff
            | Access::Merchant
            | Access::Roles(_)
            | Access::MallcooSigned => false,
        }
    }
}

/// The session token in the request's cookie, if any.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == sessions::COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// The API key in `Authorization: Bearer <key>`, if any.
pub fn bearer_key(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

/// Middleware: resolves the caller, applies `access`, and hands the handler a `CurrentUser`
/// (people's routes) or a `MachineClient` (machine routes).
pub async fn enforce(
    State((state, access)): State<(AppState, Access)>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match access {
        // Mallcoo's signature is checked by its handlers (`http::mallcoo_v14`) on the raw body.
        Access::Public | Access::MallcooSigned => {}
        Access::SignedIn | Access::Staff | Access::Merchant | Access::Roles(_) => {
            let token = session_token(req.headers()).ok_or(ApiError::Unauthorized)?;
            let user = sessions::user_of(&state.db, token)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            if !access.admits(user.role) {
                return Err(ApiError::Forbidden);
            }
            req.extensions_mut()
                .insert::<CurrentUser>(user.to_current());
        }
        Access::Machine(_) | Access::AnyMachine => {
            let key = bearer_key(req.headers()).ok_or(ApiError::Unauthorized)?;
            let client = api_keys::authenticate(&state.db, key)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            if !access.admits_scopes(&client.scopes) {
                return Err(ApiError::Forbidden);
            }
            req.extensions_mut().insert::<MachineClient>(client);
        }
    }
    Ok(next.run(req).await)
}
