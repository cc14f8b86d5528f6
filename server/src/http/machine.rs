//! `GET /api/v1/machine/whoami`: lets an integrator check its API key before wiring a gate or POS.

use axum::Extension;
use axum::Json;
use serde::Serialize;

use super::AppState;
use crate::api_keys::{MachineClient, Scope};
use crate::error::{ApiError, ErrorBody};
use crate::parks::Park;

/// What a machine client's key is and may do.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WhoAmI {
    /// The key's name.
    name: String,
    /// Its scopes.
    scopes: Vec<Scope>,
    /// The one car park it may act on; `null` for all.
    park_id: Option<i64>,
}

/// `GET /api/v1/machine/whoami`: any valid key, whatever its scopes.
#[utoipa::path(
    get,
    path = "/api/v1/machine/whoami",
    tag = "machine",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The key's name, scopes and car park", body = WhoAmI),
        (status = 401, description = "Missing, unknown or revoked key", body = ErrorBody),
    )
)]
pub(crate) async fn whoami(Extension(client): Extension<MachineClient>) -> Json<WhoAmI> {
    Json(WhoAmI {
        name: client.name,
        scopes: client.scopes,
        park_id: client.park_id,
    })
}

/// The car park a machine call names by `code`, if this client may act on it: an unknown code is
/// 400 `unknown_park` for an all-parks key, and 403 for a key bound to one car park (it learns
/// nothing about the others).
pub(crate) async fn park_for(
    state: &AppState,
    client: &MachineClient,
    code: &str,
) -> Result<Park, ApiError> {
    match state.hot.park_by_code(&state.db, code).await? {
        Some(p) => {
            client.check_park(p.id)?;
            Ok(p)
        }
        None if client.park_id.is_some() => Err(ApiError::Forbidden),
        None => Err(ApiError::unprocessable(
            "unknown_park",
            format!("no car park with code `{code}`"),
        )),
    }
}
