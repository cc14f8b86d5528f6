//! `GET /api/v1/problems`: what is wrong now (or was, lately), for admins and property managers
//! (their car parks' problems only).

use axum::Extension;
use axum::Json;
use axum::extract::{Query, State};
use chrono::Utc;
use serde::Deserialize;

use super::AppState;
use crate::accounts::{CurrentUser, Role};
use crate::alerts::problems::{self, Problem};
use crate::error::{ApiError, ErrorBody};

/// Which problems.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProblemsQuery {
    /// `open` (default) or `resolved` (the last 7 days).
    #[param(pattern = "^(open|resolved)$")]
    state: Option<String>,
}

/// `GET /api/v1/problems?state=open|resolved`.
#[utoipa::path(
    get,
    path = "/api/v1/problems",
    tag = "alerts",
    security(("session" = [])),
    params(ProblemsQuery),
    responses(
        (status = 200, description = "Problems, newest first (at most 500); a property manager's are those of its car parks", body = [Problem]),
        (status = 400, description = "`invalid_field`: state is not open or resolved", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin or property manager", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(query): Query<ProblemsQuery>,
) -> Result<Json<Vec<Problem>>, ApiError> {
    let open = match query.state.as_deref() {
        None | Some("open") => true,
        Some("resolved") => false,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_field",
                "state: open or resolved",
            ));
        }
    };
    let parks = (user.role != Role::Admin).then_some(user.parks.as_slice());
    Ok(Json(
        problems::list(&state.db, open, parks, Utc::now()).await?,
    ))
}
