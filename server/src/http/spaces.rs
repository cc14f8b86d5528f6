//! `GET /api/v1/parks/{code}/spaces`: the 余位 sign at a car park's entrance asks how many spaces
//! are free. Keys need scope `gate`; the car park is named by its code, as in the gate's calls.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};

use super::AppState;
use super::machine::park_for;
use crate::api_keys::MachineClient;
use crate::error::{ApiError, ErrorBody};
use crate::parking::spaces::{self, Spaces};

/// `GET /api/v1/parks/{code}/spaces`.
#[utoipa::path(
    get,
    path = "/api/v1/parks/{code}/spaces",
    tag = "gate",
    security(("api_key" = [])),
    params((
        "code" = String,
        Path,
        description = "The car park's code (as in the gate's calls), not its numeric id",
        pattern = r"^[a-z0-9_-]{1,32}$",
    )),
    responses(
        (status = 200, description = "Spaces, cars inside (open sessions) and free spaces now; `total` and `free` are `null` while the car park's `total_spaces` is not configured", body = Spaces),
        (status = 403, description = "`forbidden`: the key lacks scope `gate`, or is bound to another car park (whether or not this code exists)", body = ErrorBody),
        (status = 422, description = "`unknown_park`: no car park has this code (a key for all car parks)", body = ErrorBody),
    )
)]
pub(crate) async fn spaces(
    State(state): State<AppState>,
    Extension(client): Extension<MachineClient>,
    Path(code): Path<String>,
) -> Result<Json<Spaces>, ApiError> {
    let park = park_for(&state, &client, &code).await?;
    let inside = spaces::inside_now(&state.db, park.id).await?;
    Ok(Json(Spaces::of(park.fields.total_spaces, inside)))
}
