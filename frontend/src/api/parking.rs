//! The parking part of the API: one car park, its traffic over days and its sessions.
//!
//! Field names follow `server/src/parking/dashboard.rs` and `history.rs`; optional fields
//! default, so a field added on the server never breaks a page.

use gloo_net::http::Request;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ApiError, Park, get, put, send};

/// `GET /api/v1/parks/{id}`.
pub(crate) async fn park(id: i64) -> Result<Park, ApiError> {
    get(&format!("/api/v1/parks/{id}")).await
}

/// Changes the fields in `changes` of car park `id` and keeps every other one.
///
/// `PUT /api/v1/parks/{id}` replaces every field, so the car park is read as the server has it
/// (not as this page's `Park`, which leaves fields out, the tariff among them) and sent back
/// with only `changes` applied.
pub(crate) async fn update_park(id: i64, changes: Map<String, Value>) -> Result<Park, ApiError> {
    let url = format!("/api/v1/parks/{id}");
    let mut park: Map<String, Value> = get(&url).await?;
    // What the server adds to the fields it stores; the input refuses unknown fields.
    for answer_only in ["id", "created_at", "updated_at"] {
        park.remove(answer_only);
    }
    park.extend(changes);
    put(&url, Value::Object(park)).await
}

/// Sets car park `id`'s spaces (`None`: not configured) and keeps every other field.
pub(crate) async fn set_total_spaces(id: i64, spaces: Option<i64>) -> Result<Park, ApiError> {
    let mut changes = Map::new();
    changes.insert("total_spaces".into(), spaces.into());
    update_park(id, changes).await
}

/// One Shanghai hour of a traffic answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct HourTraffic {
    /// `yyyy-MM-dd HH`, Shanghai.
    pub(crate) label: String,
    /// Entries in the hour.
    pub(crate) entries: i64,
    /// Exits in the hour.
    pub(crate) exits: i64,
    /// Cars inside at its end.
    pub(crate) occupancy: i64,
}

/// Entries and exits over the range.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
pub(crate) struct Totals {
    /// Entries.
    pub(crate) entries: i64,
    /// Exits.
    pub(crate) exits: i64,
}

/// Payments of one channel and pay type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ChannelPayments {
    /// `mallcoo` or `pyun`.
    #[serde(default)]
    pub(crate) channel: String,
    /// 0 online, 1 offline.
    pub(crate) pay_channel: i64,
    /// 0 zero-amount, 1 Alipay, 2 UnionPay, 3 WeChat.
    pub(crate) pay_type: i64,
    /// Number of payments.
    pub(crate) count: i64,
    /// Fen paid.
    pub(crate) amount_fen: i64,
    /// Fen deducted.
    #[serde(default)]
    pub(crate) deduction_fen: i64,
}

/// The discounts of one source granted over the range.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct SourceDiscounts {
    /// `api`, `waiver`, `pyun` or `shop`.
    pub(crate) source: String,
    /// Granted in the range, revoked ones left out.
    pub(crate) granted: i64,
    /// Fen the used ones were worth.
    pub(crate) used_worth_fen: i64,
}

/// A car park's traffic over a range of days.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Traffic {
    /// First day.
    pub(crate) from: String,
    /// Last day.
    pub(crate) to: String,
    /// Every hour of the range.
    pub(crate) hours: Vec<HourTraffic>,
    /// Totals over the range.
    pub(crate) totals: Totals,
    /// Cars inside now.
    pub(crate) inside_now: i64,
    /// The car park's spaces, if configured.
    #[serde(default)]
    pub(crate) total_spaces: Option<i64>,
    /// Free spaces now, with `total_spaces`.
    #[serde(default)]
    pub(crate) free_now: Option<i64>,
    /// Cars inside as a whole percentage of the spaces, with a positive `total_spaces`.
    #[serde(default)]
    pub(crate) occupancy_percent: Option<i64>,
    /// Payments by channel and pay type.
    #[serde(default)]
    pub(crate) payments_by_channel: Vec<ChannelPayments>,
    /// Discounts granted in the range, one entry per source.
    #[serde(default)]
    pub(crate) discounts_by_source: Vec<SourceDiscounts>,
    /// When the server read the figures (RFC 3339).
    #[serde(default)]
    pub(crate) generated_at: String,
}

/// `GET /api/v1/parks/{id}/traffic?from=&to=` (days `YYYY-MM-DD`).
pub(crate) async fn traffic(park_id: i64, from: &str, to: &str) -> Result<Traffic, ApiError> {
    let builder = Request::get(&format!("/api/v1/parks/{park_id}/traffic"))
        .query([("from", from), ("to", to)]);
    send(builder, None).await
}

/// One parking session as the list shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct SessionRow {
    /// Id.
    pub(crate) id: i64,
    /// Plate, if any.
    #[serde(default)]
    pub(crate) plate: Option<String>,
    /// Ticket number of a plate-less car.
    #[serde(default)]
    pub(crate) barcode: Option<String>,
    /// Entry (RFC 3339).
    pub(crate) entry_at: String,
    /// Entry gate.
    #[serde(default)]
    pub(crate) entry_gate: Option<String>,
    /// Exit (RFC 3339), once closed by an exit.
    #[serde(default)]
    pub(crate) exit_at: Option<String>,
    /// Exit gate.
    #[serde(default)]
    pub(crate) exit_gate: Option<String>,
    /// `open`, `closed` or `no_exit_seen`.
    pub(crate) state: String,
    /// Fen settled by its payments.
    #[serde(default)]
    pub(crate) paid_fen: i64,
    /// What its discounts take off: now while parked, at the exit once closed.
    #[serde(default)]
    pub(crate) discount_worth_fen: i64,
    /// What the car owes now while parked, or owed at its exit; absent when never billed.
    #[serde(default)]
    pub(crate) owed_fen: Option<i64>,
    /// Whether a VIP record covered the stay.
    #[serde(default)]
    pub(crate) vip: bool,
}

/// A page of sessions, newest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct SessionPage {
    /// The sessions.
    pub(crate) sessions: Vec<SessionRow>,
    /// `before` of the next page, if there is one.
    #[serde(default)]
    pub(crate) next_before: Option<i64>,
}

/// Filters of the sessions list; empty texts are left out.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct SessionFilter {
    /// Whole plate or its beginning.
    pub(crate) plate: String,
    /// `open`, `closed`, `no_exit_seen` or empty for all.
    pub(crate) state: String,
}

/// Rows per page of the sessions list.
pub(crate) const SESSIONS_PAGE: u32 = 50;

/// `GET /api/v1/parks/{id}/sessions` with `filter`, older than `before` when given.
pub(crate) async fn sessions(
    park_id: i64,
    filter: &SessionFilter,
    before: Option<i64>,
) -> Result<SessionPage, ApiError> {
    let before = before.map(|b| b.to_string()).unwrap_or_default();
    let limit = SESSIONS_PAGE.to_string();
    let params = [
        ("plate", filter.plate.as_str()),
        ("state", filter.state.as_str()),
        ("before", before.as_str()),
        ("limit", limit.as_str()),
    ];
    let builder = Request::get(&format!("/api/v1/parks/{park_id}/sessions"))
        .query(params.into_iter().filter(|(_, v)| !v.is_empty()));
    send(builder, None).await
}
