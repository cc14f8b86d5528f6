//! VIP CSV import and export: the import report (preview or confirmed) and the export links.

use gloo_net::http::Request;
use serde::Deserialize;
use serde_json::Value;

use super::{ApiError, lenient_text, receive};

/// One refused line of an import.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ImportRowError {
    /// 1-based line of the file (the header is line 1).
    pub(crate) line: u64,
    /// The column at fault, if one.
    #[serde(default)]
    pub(crate) column: Option<String>,
    /// What is wrong (Chinese, from the server).
    #[serde(default)]
    pub(crate) message: String,
}

/// One valid row of an import preview.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ImportPreviewRow {
    /// Line of the file.
    pub(crate) line: u64,
    /// Normalised plate.
    #[serde(default)]
    pub(crate) plate: String,
    /// Plate colour code (number or text).
    #[serde(default)]
    pub(crate) plate_color: Value,
    /// VIP type code (number or text).
    #[serde(default)]
    pub(crate) vip_type: Value,
    /// VIP tariff id.
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) charge_type: Option<String>,
    /// Start (RFC 3339).
    #[serde(default)]
    pub(crate) valid_from: Option<String>,
    /// End (RFC 3339).
    #[serde(default)]
    pub(crate) valid_to: Option<String>,
}

/// What an import (preview or confirmed) found and did.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ImportReport {
    /// `utf-8` or `gbk`, as decoded.
    #[serde(default)]
    pub(crate) encoding: String,
    /// Data lines in the file (header excluded).
    #[serde(default)]
    pub(crate) data_lines: u64,
    /// Lines that would be (or were) written.
    #[serde(default)]
    pub(crate) valid: u64,
    /// Refused lines.
    #[serde(default)]
    pub(crate) errors: Vec<ImportRowError>,
    /// The first valid rows.
    #[serde(default)]
    pub(crate) preview: Vec<ImportPreviewRow>,
    /// Whether anything was written.
    #[serde(default)]
    pub(crate) written: bool,
    /// Rows written.
    #[serde(default)]
    pub(crate) created: u64,
}

/// `POST /api/v1/parks/{id}/vip/import` with the file's raw bytes; `confirm` writes the rows.
pub(crate) async fn vip_import(
    park_id: i64,
    encoding: &str,
    confirm: bool,
    bytes: &[u8],
) -> Result<ImportReport, ApiError> {
    let body = js_sys::Uint8Array::from(bytes);
    let request = Request::post(&format!("/api/v1/parks/{park_id}/vip/import"))
        .query([("encoding", encoding), ("confirm", &confirm.to_string())])
        .header("Content-Type", "text/csv")
        .body(body);
    receive(request).await
}

/// The address of a CSV export (`records` or `recharges`), GBK-encoded when asked.
pub(crate) fn export_url(park_id: i64, which: &str, gbk: bool) -> String {
    let suffix = if gbk { "?encoding=gbk" } else { "" };
    format!("/api/v1/parks/{park_id}/vip/export/{which}.csv{suffix}")
}
