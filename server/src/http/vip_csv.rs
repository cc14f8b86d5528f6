//! VIP CSV routes: import a records file (preview, then confirm) and export records or
//! recharges, as UTF-8 with a BOM or, for Excel in China, GBK.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::vip::csv::{self, EncodingChoice};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::vip_records::{query, visible_park};
use crate::accounts::CurrentUser;
use crate::audit;
use crate::error::{ApiError, ErrorBody};
use crate::vip::import::{self, ImportError, ImportReport};
use crate::vip::{export, records::RecordsError};

/// The largest import file, far above the 100k-row files car parks have.
pub(crate) const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Options of an import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImportQuery {
    /// `auto` (default), `utf-8` or `gbk`.
    #[param(value_type = Option<String>, pattern = "^(?:auto|UTF-8|utf-8|utf8|GBK|gbk)$")]
    encoding: Option<EncodingChoice>,
    /// `true` writes the valid rows; `false` (default) only reports.
    confirm: Option<bool>,
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> ApiError {
        match e {
            ImportError::BadCsv(e) => ApiError::unprocessable("bad_csv", e.to_string()),
            // Between preview and write another request took a plate or order number.
            ImportError::Records(
                e @ (RecordsError::VipExists(_) | RecordsError::PayPartnerTaken(_)),
            ) => ApiError::conflict(
                "import_conflict",
                format!("{e}; nothing was written, check the file again"),
            ),
            ImportError::Records(e) => e.into(),
        }
    }
}

/// `POST /api/v1/parks/{id}/vip/import`: the body is the file's bytes.
#[utoipa::path(
    post,
    path = "/api/v1/parks/{id}/vip/import",
    tag = "vip",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id"), ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file, UTF-8 or GBK, up to 32 MiB"),
    responses(
        (status = 200, description = "The report; `written` tells whether rows were stored", body = ImportReport),
        (status = 400, description = "The request cannot be read", body = ErrorBody),
        (status = 422, description = "`bad_csv`: the text cannot be decoded in the chosen encoding, or its header lacks required columns", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
        (status = 413, description = "File larger than 32 MiB", body = ErrorBody),
    )
)]
pub(crate) async fn import(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    q: Result<Query<ImportQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportReport>, ApiError> {
    let q = query(q)?;
    visible_park(&state, &user, id).await?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::bad_request("invalid_body", e.body_text())
        }
    })?;
    let confirm = q.confirm.unwrap_or(false);
    let started = std::time::Instant::now();
    let report = import::run(
        &state.db,
        id,
        &body,
        q.encoding.unwrap_or_default(),
        confirm,
        &user.username,
    )
    .await?;
    tracing::info!(
        park = id,
        rows = report.data_lines,
        valid = report.valid,
        created = report.created,
        ms = started.elapsed().as_millis() as u64,
        "VIP import"
    );
    if report.written {
        audit::record(
            &state.db,
            &user.actor(),
            "vip.import",
            &format!("park:{id}"),
            json!({ "created": report.created, "data_lines": report.data_lines, "errors": report.errors.len() }),
        )
        .await?;
    }
    Ok(Json(report))
}

/// Options of an export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// `utf-8` (default, with a BOM) or `gbk`.
    #[param(pattern = "^(?:utf-8|utf8|UTF-8|gbk|GBK)$")]
    encoding: Option<String>,
}

/// The CSV response: BOM + UTF-8, or GBK; an ASCII file name so every browser keeps it.
pub(crate) fn csv_response(
    text: String,
    encoding: Option<&str>,
    name: String,
) -> Result<Response, ApiError> {
    let (bytes, charset) = match encoding.unwrap_or("utf-8") {
        "utf-8" | "utf8" | "UTF-8" => {
            let mut bytes = Vec::with_capacity(text.len() + 3);
            bytes.extend_from_slice(b"\xEF\xBB\xBF");
            bytes.extend_from_slice(text.as_bytes());
            (bytes, "utf-8")
        }
        "gbk" | "GBK" => (
            csv::encode_gbk(&text).map_err(|m| ApiError::unprocessable("not_gbk_encodable", m))?,
            "gbk",
        ),
        other => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("encoding must be `utf-8` or `gbk`, not `{other}`"),
            ));
        }
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(|e| ApiError::Internal(format!("content-disposition: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(if charset == "gbk" {
                    "text/csv; charset=gbk"
                } else {
                    "text/csv; charset=utf-8"
                }),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// `vip-<what>-<car park code>.csv`, with anything but ASCII letters, digits and `-` replaced.
fn file_name(what: &str, code: &str) -> String {
    let code: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("vip-{what}-{code}.csv")
}

/// `GET /api/v1/parks/{id}/vip/export/records.csv`.
#[utoipa::path(
    get,
    path = "/api/v1/parks/{id}/vip/export/records.csv",
    tag = "vip",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id"), ExportQuery),
    responses(
        (status = 200, description = "Records CSV, readable back by the import", content_type = "text/csv"),
        (status = 400, description = "The request cannot be read", body = ErrorBody),
        (status = 422, description = "`not_gbk_encodable`: a stored character GBK cannot hold", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
    )
)]
pub(crate) async fn export_records(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    export_file(&state, &user, id, q, Export::Records).await
}

/// `GET /api/v1/parks/{id}/vip/export/recharges.csv`.
#[utoipa::path(
    get,
    path = "/api/v1/parks/{id}/vip/export/recharges.csv",
    tag = "vip",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Car park id"), ExportQuery),
    responses(
        (status = 200, description = "Every recharge with its sync state", content_type = "text/csv"),
        (status = 400, description = "The request cannot be read", body = ErrorBody),
        (status = 422, description = "`not_gbk_encodable`: a stored character GBK cannot hold", body = ErrorBody),
        (status = 404, description = "No such car park for this user", body = ErrorBody),
    )
)]
pub(crate) async fn export_recharges(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    export_file(&state, &user, id, q, Export::Recharges).await
}

/// The two VIP exports.
#[derive(Debug, Clone, Copy)]
enum Export {
    Records,
    Recharges,
}

/// One export of a car park the user may see, as a CSV download in the chosen encoding.
async fn export_file(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    q: Result<Query<ExportQuery>, QueryRejection>,
    what: Export,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let park = visible_park(state, user, id).await?;
    let (text, name) = match what {
        Export::Records => (export::records_csv(&state.db, id).await?, "records"),
        Export::Recharges => (export::recharges_csv(&state.db, id).await?, "recharges"),
    };
    csv_response(
        text,
        q.encoding.as_deref(),
        file_name(name, &park.fields.code),
    )
}
