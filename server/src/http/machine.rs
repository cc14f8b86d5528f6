//! `GET /api/v1/machine/whoami`: lets an integrator check its API key before wiring a gate or POS.

use axum::Extension;
use axum::Json;
use serde::Serialize;

use crate::api_keys::{MachineClient, Scope};
use crate::error::ErrorBody;

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
