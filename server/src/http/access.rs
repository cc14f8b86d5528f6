//! Who may call a route: every API route declares an `Access`, enforced here before its handler.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::accounts::{CurrentUser, Role, sessions};
use crate::error::ApiError;

/// The access rule of one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (sign-in itself, health).
    Public,
    /// Any signed-in person.
    SignedIn,
    /// Signed-in people with one of these roles; admins always pass.
    Roles(&'static [Role]),
}

impl Access {
    /// Admins only.
    pub const ADMIN: Access = Access::Roles(&[]);

    /// Whether a signed-in `role` passes this rule (`Public` and `SignedIn` admit every role).
    pub fn admits(self, role: Role) -> bool {
        match self {
            Access::Public | Access::SignedIn => true,
            Access::Roles(roles) => role == Role::Admin || roles.contains(&role),
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

/// Middleware: resolves the caller, applies `access`, and hands the handler a `CurrentUser`.
pub async fn enforce(
    State((state, access)): State<(AppState, Access)>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if access != Access::Public {
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
    Ok(next.run(req).await)
}
