//! Typed client for the server's JSON API, decoding its error envelope.
//!
//! Requests go to the origin the page came from, so the session cookie travels with them.

use gloo_net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::i18n::{Lang, Text, fill};

mod alerts;
mod parking;
mod pyun;
mod shop;
mod shops;
mod stay;
mod vip;
mod vip_import;
mod vip_sync;

pub(crate) use alerts::*;
pub(crate) use parking::*;
pub(crate) use pyun::*;
pub(crate) use shop::*;
pub(crate) use shops::*;
pub(crate) use stay::*;
pub(crate) use vip::*;
pub(crate) use vip_import::*;
pub(crate) use vip_sync::*;

/// What `GET /healthz` reports.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Health {
    /// `ok` or `degraded`.
    pub(crate) status: String,
    /// Server version.
    pub(crate) version: String,
}

/// The server's error envelope: `{"error": {"code", "message"}}`.
#[derive(Debug, Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Debug, Deserialize)]
struct EnvelopeError {
    code: String,
    message: String,
    #[serde(default)]
    details: Option<Value>,
}

/// A failed call or a form the browser refused to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ApiError {
    /// The request did not reach the server.
    Network(String),
    /// The server answered something we cannot read.
    Decode(String),
    /// The server refused, with its envelope (or just the status).
    Status {
        /// HTTP status.
        status: u16,
        /// The envelope's `code`.
        code: String,
        /// The envelope's `message`.
        message: String,
        /// The envelope's `details`, for refusals that name particulars (which quota ran out).
        details: Option<Value>,
    },
    /// Checked in the browser before sending: what is wrong (`what`), and the detail.
    Invalid {
        /// Which field or rule.
        what: Text,
        /// Details, possibly empty.
        detail: String,
    },
}

impl ApiError {
    /// Whether the session is missing or expired.
    pub(crate) fn is_unauthorized(&self) -> bool {
        matches!(self, ApiError::Status { status: 401, .. })
    }

    /// The text to show, translated where the code is known; otherwise the server's message.
    pub(crate) fn describe(&self, lang: Lang) -> String {
        match self {
            ApiError::Network(e) => fill(Text::NetworkError.text(lang), &[e]),
            ApiError::Decode(e) => fill(Text::BadResponse.text(lang), &[e]),
            ApiError::Invalid { what, detail } if detail.is_empty() => what.text(lang).to_owned(),
            ApiError::Invalid { what, detail } => format!("{}: {detail}", what.text(lang)),
            ApiError::Status {
                status,
                code,
                message,
                ..
            } => {
                let known = match code.as_str() {
                    "bad_credentials" => Some(Text::BadCredentials),
                    "too_many_requests" => Some(Text::TooManyRequests),
                    "unauthorized" => Some(Text::Unauthorized),
                    "forbidden" => Some(Text::ForbiddenError),
                    "not_found" => Some(Text::NotFoundError),
                    "duplicate_name" => Some(Text::DuplicateName),
                    "vip_exists" => Some(Text::VipExists),
                    "pay_partner_taken" => Some(Text::PayPartnerTaken),
                    "period_required" => Some(Text::PeriodRequired),
                    "confirmation_mismatch" => Some(Text::ConfirmationMismatch),
                    "sync_running" => Some(Text::SyncRunning),
                    "pyun_not_configured" => Some(Text::PyunNotConfigured),
                    "nothing_to_sync" => Some(Text::NothingToSync),
                    "session_closed" => Some(Text::SessionClosedError),
                    "invalid_discount_value" => Some(Text::DiscountValueError),
                    "shop_name_taken" => Some(Text::ShopNameTaken),
                    "offer_name_taken" => Some(Text::OfferNameTaken),
                    "invalid_quota" => Some(Text::QuotaInvalid),
                    "offer_shape" => Some(Text::OfferShapeError),
                    "unknown_product" => Some(Text::UnknownProductError),
                    "unsupported_discount" => Some(Text::UnsupportedDiscountError),
                    "shop_required" => Some(Text::ShopRequired),
                    "unknown_shop" => Some(Text::UnknownShop),
                    "park_code_taken" => Some(Text::ParkCodeTaken),
                    "mallcoo_park_id_taken" => Some(Text::MallcooParkIdTaken),
                    "pyun_park_uuid_taken" => Some(Text::PyunParkUuidTaken),
                    "park_uuid_required" => Some(Text::ParkUuidRequired),
                    "invalid_credential" => Some(Text::InvalidCredential),
                    "invalid_secret" => Some(Text::InvalidSecret),
                    "invalid_url" => Some(Text::InvalidUrlError),
                    "invalid_channel" => Some(Text::InvalidChannelError),
                    "unknown_park" => Some(Text::UnknownParkError),
                    "unknown_problem_kind" => Some(Text::UnknownProblemKindError),
                    "channel_name_taken" => Some(Text::ChannelNameTaken),
                    _ => None,
                };
                match known {
                    Some(key) => key.text(lang).to_owned(),
                    // The server names the field in English; say what kind of problem it is.
                    None if code == "missing_field" => {
                        fill(Text::MissingField.text(lang), &[message])
                    }
                    None if message.is_empty() => format!("HTTP {status}"),
                    None => message.clone(),
                }
            }
        }
    }
}

async fn send<T: DeserializeOwned>(
    builder: RequestBuilder,
    body: Option<Value>,
) -> Result<T, ApiError> {
    let request = match body {
        Some(body) => builder.json(&body),
        None => builder.build(),
    };
    decode(exchange(request).await?)
}

/// Sends a built request and decodes the answer or the error envelope.
async fn receive<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> Result<T, ApiError> {
    decode(exchange(request).await?)
}

/// Sends a request; the body of a 2xx answer, or the error envelope's code and message.
///
/// Not generic on purpose: the async transport is compiled once, and only [`decode`] once per
/// answer type (a generic transport was copied into the wasm for every type it returned).
async fn exchange(request: Result<Request, gloo_net::Error>) -> Result<String, ApiError> {
    let request = request.map_err(|e| ApiError::Network(e.to_string()))?;
    let resp = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        let (code, message, details) = serde_json::from_str::<Envelope>(&text)
            .map(|e| (e.error.code, e.error.message, e.error.details))
            .unwrap_or_default();
        Err(ApiError::Status {
            status,
            code,
            message,
            details,
        })
    }
}

/// Reads a 2xx answer's JSON body (an empty body reads as `null`).
fn decode<T: DeserializeOwned>(text: String) -> Result<T, ApiError> {
    let text = if text.trim().is_empty() {
        "null"
    } else {
        &text
    };
    serde_json::from_str(text).map_err(|e| ApiError::Decode(e.to_string()))
}

async fn get<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    send(Request::get(url), None).await
}

async fn post<T: DeserializeOwned>(url: &str, body: Value) -> Result<T, ApiError> {
    send(Request::post(url), Some(body)).await
}

async fn put<T: DeserializeOwned>(url: &str, body: Value) -> Result<T, ApiError> {
    send(Request::put(url), Some(body)).await
}

/// `GET /healthz`; its 503 body is still a health report.
pub(crate) async fn health() -> Result<Health, ApiError> {
    match get::<Health>("/healthz").await {
        Err(ApiError::Status { status: 503, .. }) => Ok(Health {
            status: "degraded".to_owned(),
            version: String::new(),
        }),
        other => other,
    }
}

/// A person's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Role {
    /// Everything.
    Admin,
    /// Tariffs, VIPs and coupons of its car parks.
    PropertyManager,
    /// Read-only view of its car parks.
    MallStaff,
    /// Staff of one shop (its validations only).
    Merchant,
}

impl Role {
    /// Every role, for selects.
    pub(crate) const ALL: [Role; 4] = [
        Role::Admin,
        Role::PropertyManager,
        Role::MallStaff,
        Role::Merchant,
    ];

    /// The wire name.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::PropertyManager => "property_manager",
            Role::MallStaff => "mall_staff",
            Role::Merchant => "merchant",
        }
    }

    /// Parses the wire name.
    pub(crate) fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The translated name.
    pub(crate) fn label(self) -> Text {
        match self {
            Role::Admin => Text::RoleAdmin,
            Role::PropertyManager => Text::RolePropertyManager,
            Role::MallStaff => Text::RoleMallStaff,
            Role::Merchant => Text::RoleMerchant,
        }
    }
}

/// A user, as `/auth/me` and `/users` show it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct User {
    /// Id.
    pub(crate) id: i64,
    /// Sign-in name.
    pub(crate) username: String,
    /// Role.
    pub(crate) role: Role,
    /// Car parks it may act on (empty for admins).
    #[serde(default)]
    pub(crate) parks: Vec<i64>,
    /// Whether sign-in is refused (not sent by `/auth/me`).
    #[serde(default)]
    pub(crate) disabled: bool,
    /// The shop a merchant is bound to.
    #[serde(default)]
    pub(crate) shop_id: Option<i64>,
}

/// `POST /api/v1/auth/login`.
pub(crate) async fn login(username: &str, password: &str) -> Result<User, ApiError> {
    post(
        "/api/v1/auth/login",
        json!({ "username": username, "password": password }),
    )
    .await
}

/// `POST /api/v1/auth/logout`.
pub(crate) async fn logout() -> Result<Value, ApiError> {
    post("/api/v1/auth/logout", json!({})).await
}

/// `GET /api/v1/auth/me`.
pub(crate) async fn me() -> Result<User, ApiError> {
    get("/api/v1/auth/me").await
}

/// `GET /api/v1/users`.
pub(crate) async fn users() -> Result<Vec<User>, ApiError> {
    get("/api/v1/users").await
}

/// `POST /api/v1/users`; a merchant names its shop (`shop_id`) instead of car parks.
pub(crate) async fn create_user(
    username: &str,
    password: &str,
    role: Role,
    parks: &[i64],
    shop_id: Option<i64>,
) -> Result<User, ApiError> {
    let mut body =
        json!({ "username": username, "password": password, "role": role, "parks": parks });
    if let Some(shop) = shop_id {
        body["shop_id"] = shop.into();
    }
    post("/api/v1/users", body).await
}

/// `PUT /api/v1/users/{id}` with a partial change (`role`, `parks`, `disabled`, `password`).
pub(crate) async fn update_user(id: i64, change: Value) -> Result<User, ApiError> {
    put(&format!("/api/v1/users/{id}"), change).await
}

/// `DELETE /api/v1/users/{id}/sessions`.
pub(crate) async fn end_sessions(id: i64) -> Result<Value, ApiError> {
    send(
        Request::delete(&format!("/api/v1/users/{id}/sessions")),
        None,
    )
    .await
}

/// A car park.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Park {
    /// Id.
    pub(crate) id: i64,
    /// Short unique code.
    pub(crate) code: String,
    /// Display name.
    pub(crate) name: String,
    /// P云 `park_uuid`.
    #[serde(default)]
    pub(crate) pyun_park_uuid: Option<String>,
    /// P云 `api_store_code`.
    #[serde(default)]
    pub(crate) pyun_api_store_code: Option<String>,
    /// P云 merchant.
    #[serde(default)]
    pub(crate) pyun_merchant: Option<String>,
    /// Mallcoo `parkId`.
    #[serde(default)]
    pub(crate) mallcoo_park_id: Option<Value>,
    /// Mallcoo `ParkCode`.
    #[serde(default)]
    pub(crate) mallcoo_park_code: Option<String>,
    /// The tariff (protocol's `Tariff` JSON), if set.
    #[serde(default)]
    pub(crate) tariff: Option<Value>,
    /// Parking spaces, if configured.
    #[serde(default)]
    pub(crate) total_spaces: Option<i64>,
    /// The `pyun` credential (P云 coupons and VIP sync).
    #[serde(default)]
    pub(crate) pyun_credential_id: Option<i64>,
    /// The `mallcoo_outbound` credential.
    #[serde(default)]
    pub(crate) mallcoo_out_credential_id: Option<i64>,
    /// The `mallcoo_inbound` credential.
    #[serde(default)]
    pub(crate) mallcoo_in_credential_id: Option<i64>,
    /// The `pyun_carpark` credential: P云 car-park access is on while set.
    #[serde(default)]
    pub(crate) pyun_carpark_credential_id: Option<i64>,
}

/// `GET /api/v1/parks`.
pub(crate) async fn parks() -> Result<Vec<Park>, ApiError> {
    get("/api/v1/parks").await
}

/// `POST /api/v1/parks` with the fields filled in.
pub(crate) async fn create_park(fields: Value) -> Result<Park, ApiError> {
    post("/api/v1/parks", fields).await
}

/// `PUT /api/v1/parks/{id}/tariff`.
pub(crate) async fn set_tariff(
    id: i64,
    tariff: &protocol::tariff::Tariff,
) -> Result<Value, ApiError> {
    let body = serde_json::to_value(tariff).map_err(|e| ApiError::Decode(e.to_string()))?;
    put(&format!("/api/v1/parks/{id}/tariff"), body).await
}

/// The public half of a credential.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub(crate) struct PublicPart {
    /// App id.
    #[serde(default)]
    pub(crate) app_id: Option<String>,
    /// Public key, for Mallcoo pairs.
    #[serde(default)]
    pub(crate) public_key: Option<String>,
}

/// A stored credential: never its secret.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Credential {
    /// Id.
    pub(crate) id: i64,
    /// Display name.
    pub(crate) name: String,
    /// `pyun`, `mallcoo_outbound`, `mallcoo_inbound` or `pyun_carpark`.
    pub(crate) kind: String,
    /// What may be shown.
    #[serde(default)]
    pub(crate) public: PublicPart,
    /// Last change.
    #[serde(default)]
    pub(crate) updated_at: Option<String>,
}

/// A key pair we issued, shown once.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Issued {
    /// App id given to Mallcoo.
    #[serde(default)]
    pub(crate) app_id: String,
    /// Public key.
    #[serde(default)]
    pub(crate) public_key: String,
    /// Private key (shown this once).
    #[serde(default)]
    pub(crate) private_key: String,
}

/// The answer to creating or rotating a credential.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct CredentialCreated {
    /// The credential, if sent back.
    #[serde(default)]
    pub(crate) credential: Option<Credential>,
    /// The issued pair, for Mallcoo inbound.
    #[serde(default)]
    pub(crate) issued: Option<Issued>,
}

/// `GET /api/v1/credentials`.
pub(crate) async fn credentials() -> Result<Vec<Credential>, ApiError> {
    get("/api/v1/credentials").await
}

/// `POST /api/v1/credentials`.
pub(crate) async fn create_credential(fields: Value) -> Result<CredentialCreated, ApiError> {
    post("/api/v1/credentials", fields).await
}

/// `PUT /api/v1/credentials/{id}/secret`: replaces the secret; it is never read back.
///
/// `field` names which one for a `pyun_carpark` credential (`upload_secret` or `downlink_key`)
/// and is left out for the other kinds, which refuse it.
pub(crate) async fn replace_secret(
    id: i64,
    secret: &str,
    field: Option<&str>,
) -> Result<Value, ApiError> {
    let mut body = json!({ "secret": secret });
    if let Some(field) = field {
        body["field"] = field.into();
    }
    put(&format!("/api/v1/credentials/{id}/secret"), body).await
}

/// `POST /api/v1/credentials/{id}/rotate`.
pub(crate) async fn rotate_credential(id: i64) -> Result<CredentialCreated, ApiError> {
    post(&format!("/api/v1/credentials/{id}/rotate"), json!({})).await
}

/// An API key for machine clients (never the key itself).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ApiKey {
    /// Id.
    pub(crate) id: i64,
    /// Display name.
    pub(crate) name: String,
    /// The key's first characters, to recognise it.
    #[serde(default)]
    pub(crate) prefix: String,
    /// `gate`, `coupons`, `vip`, `discounts`.
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// The car park it is bound to, or all.
    #[serde(default)]
    pub(crate) park_id: Option<i64>,
    /// Creation time.
    #[serde(default)]
    pub(crate) created_at: Option<String>,
    /// Last use.
    #[serde(default)]
    pub(crate) last_used_at: Option<String>,
    /// Whether revoked.
    #[serde(default)]
    pub(crate) revoked: bool,
}

/// The answer to creating a key: the key itself, shown once.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ApiKeyCreated {
    /// The full key.
    pub(crate) key: String,
}

/// `GET /api/v1/api-keys`.
pub(crate) async fn api_keys() -> Result<Vec<ApiKey>, ApiError> {
    get("/api/v1/api-keys").await
}

/// `POST /api/v1/api-keys`.
pub(crate) async fn create_api_key(
    name: &str,
    scopes: &[&str],
    park_id: Option<i64>,
) -> Result<ApiKeyCreated, ApiError> {
    post(
        "/api/v1/api-keys",
        json!({ "name": name, "scopes": scopes, "park_id": park_id }),
    )
    .await
}

/// `DELETE /api/v1/api-keys/{id}`.
pub(crate) async fn revoke_api_key(id: i64) -> Result<Value, ApiError> {
    send(Request::delete(&format!("/api/v1/api-keys/{id}")), None).await
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct AuditEntry {
    /// Id (increasing).
    pub(crate) id: i64,
    /// When (RFC 3339).
    pub(crate) at: String,
    /// Who.
    pub(crate) actor: String,
    /// What kind of change.
    pub(crate) action: String,
    /// What it changed.
    pub(crate) target: String,
    /// Details.
    #[serde(default)]
    pub(crate) detail: Value,
}

/// `GET /api/v1/audit?limit=&before=`, newest first.
pub(crate) async fn audit(limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>, ApiError> {
    let url = match before {
        Some(b) => format!("/api/v1/audit?limit={limit}&before={b}"),
        None => format!("/api/v1/audit?limit={limit}"),
    };
    get(&url).await
}

/// Reads a value the server may send as text or as a number (P云 codes), as text.
fn lenient_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// Reads a text the server may send as `null`, as empty.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// What P云 answered to a coupon request.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub(crate) struct PyunAnswer {
    /// P云's result code.
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) code: Option<String>,
    /// P云's message.
    #[serde(default)]
    pub(crate) message: Option<String>,
    /// Our hint on what the code means.
    #[serde(default)]
    pub(crate) hint: Option<String>,
    /// P云's sequence number for the call.
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) seqno: Option<String>,
    /// P云's serial for the issued coupon.
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) grant_serial: Option<String>,
}

/// A person's settling of a record whose outcome was unknown.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Reconciliation {
    /// Who settled it.
    #[serde(default)]
    pub(crate) by: String,
    /// When (RFC 3339).
    #[serde(default)]
    pub(crate) at: String,
    /// `delivered` or `not_delivered`.
    pub(crate) resolution: String,
    /// Why.
    #[serde(default)]
    pub(crate) note: String,
}

/// One coupon request (a Mallcoo event or a manual grant) and what became of it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct CouponRecord {
    /// Id (increasing).
    pub(crate) id: i64,
    /// Car park id.
    pub(crate) park_id: i64,
    /// Car park code.
    #[serde(default)]
    pub(crate) park_code: String,
    /// `event` or `grant`; `pyun_enter` / `pyun_leave` for uploads to P云.
    pub(crate) kind: String,
    /// The event id or grant id.
    #[serde(default)]
    pub(crate) key: String,
    /// Normalised plate; empty for a plate-less car's upload (the server sends `null`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub(crate) plate: String,
    /// The event's subject or the product's name.
    #[serde(default)]
    pub(crate) summary: String,
    /// `pending`, `sending`, `delivered`, `rejected`, `misconfigured`, `unknown` or `failed`.
    pub(crate) state: String,
    /// Calls made to P云 so far.
    #[serde(default)]
    pub(crate) attempts: i64,
    /// When the next call is due (RFC 3339).
    #[serde(default)]
    pub(crate) next_attempt_at: Option<String>,
    /// P云's answer, if any.
    #[serde(default)]
    pub(crate) pyun: Option<PyunAnswer>,
    /// Our note when there was no P云 answer.
    #[serde(default)]
    pub(crate) error: Option<String>,
    /// Who asked.
    #[serde(default)]
    pub(crate) requested_by: String,
    /// When asked (RFC 3339).
    #[serde(default)]
    pub(crate) created_at: String,
    /// Last change (RFC 3339).
    #[serde(default)]
    pub(crate) updated_at: String,
    /// When settled (RFC 3339).
    #[serde(default)]
    pub(crate) finished_at: Option<String>,
    /// A person's settling of an unknown outcome.
    #[serde(default)]
    pub(crate) reconciliation: Option<Reconciliation>,
    /// Where P云 applied the coupon (car parks on P云 car-park access), once it did.
    #[serde(default)]
    pub(crate) applied: Option<AppliedDiscount>,
}

impl CouponRecord {
    /// Whether the outcome may still change without anyone acting.
    pub(crate) fn in_flight(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "sending")
    }
}

/// One page of coupon records, newest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct CouponRecordPage {
    /// The records.
    pub(crate) records: Vec<CouponRecord>,
    /// Pass as `before_id` for the next page; `None` at the end.
    #[serde(default)]
    pub(crate) next_before_id: Option<i64>,
}

/// Filters for the coupon records list; empty texts are left out of the query.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RecordFilter {
    /// Car park id.
    pub(crate) park_id: Option<i64>,
    /// Plate.
    pub(crate) plate: String,
    /// State.
    pub(crate) state: String,
    /// From this instant (RFC 3339 UTC).
    pub(crate) from: String,
    /// Before this instant (RFC 3339 UTC).
    pub(crate) to: String,
}

/// `GET /api/v1/coupon-records` with `filter`, older than `before_id` when given.
pub(crate) async fn coupon_records(
    filter: &RecordFilter,
    before_id: Option<i64>,
) -> Result<CouponRecordPage, ApiError> {
    let park = filter.park_id.map(|p| p.to_string()).unwrap_or_default();
    let before = before_id.map(|b| b.to_string()).unwrap_or_default();
    let params = [
        ("park_id", park.as_str()),
        ("plate", filter.plate.as_str()),
        ("state", filter.state.as_str()),
        ("from", filter.from.as_str()),
        ("to", filter.to.as_str()),
        ("before_id", before.as_str()),
    ];
    let builder = Request::get("/api/v1/coupon-records")
        .query(params.into_iter().filter(|(_, v)| !v.is_empty()));
    send(builder, None).await
}

/// `POST /api/v1/coupon-records/grants`: 200 with the outcome, or 202 while still pending.
pub(crate) async fn grant_coupon(
    park_id: i64,
    product_id: i64,
    plate: &str,
    reason: Option<&str>,
) -> Result<CouponRecord, ApiError> {
    let mut body = json!({ "park_id": park_id, "product_id": product_id, "plate": plate });
    if let Some(reason) = reason {
        body["reason"] = reason.into();
    }
    post("/api/v1/coupon-records/grants", body).await
}

/// `POST /api/v1/coupon-records/{id}/reconcile`.
pub(crate) async fn reconcile_coupon(
    id: i64,
    resolution: &str,
    note: &str,
) -> Result<CouponRecord, ApiError> {
    post(
        &format!("/api/v1/coupon-records/{id}/reconcile"),
        json!({ "resolution": resolution, "note": note }),
    )
    .await
}

/// One metadata key an event may carry, with its display name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MetadataKey {
    /// Wire key.
    pub(crate) key: String,
    /// Display name.
    pub(crate) name: String,
}

/// How a car park's coupon events are sent to P云.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct EventConfig {
    /// P云 `api_type`, if set.
    #[serde(default)]
    pub(crate) api_type: Option<String>,
    /// Metadata keys events may carry.
    #[serde(default)]
    pub(crate) metadata_keys: Vec<MetadataKey>,
}

/// A coupon product a manager may grant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct CouponProduct {
    /// Id.
    pub(crate) id: i64,
    /// Display name (unique in the car park).
    pub(crate) name: String,
    /// P云 coupon code.
    #[serde(default)]
    pub(crate) coupon_code: String,
    /// P云 store code.
    #[serde(default)]
    pub(crate) store_code: String,
    /// Coupons per grant.
    #[serde(default)]
    pub(crate) quantity: i64,
    /// Default reason sent to P云.
    #[serde(default)]
    pub(crate) reason: Option<String>,
    /// Hidden from the grant form; its records remain.
    #[serde(default)]
    pub(crate) archived: bool,
}

/// A car park's coupon settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct CouponConfig {
    /// Event settings.
    #[serde(default)]
    pub(crate) event: EventConfig,
    /// Products, archived ones included.
    #[serde(default)]
    pub(crate) products: Vec<CouponProduct>,
}

/// What the product form sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ProductInput {
    /// Display name.
    pub(crate) name: String,
    /// P云 coupon code.
    pub(crate) coupon_code: String,
    /// P云 store code.
    pub(crate) store_code: String,
    /// Coupons per grant.
    pub(crate) quantity: i64,
    /// Default reason, left out when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
}

/// `GET /api/v1/parks/{id}/coupon-config`.
pub(crate) async fn coupon_config(park_id: i64) -> Result<CouponConfig, ApiError> {
    get(&format!("/api/v1/parks/{park_id}/coupon-config")).await
}

/// `PUT /api/v1/parks/{id}/coupon-config/event`.
pub(crate) async fn set_event_config(
    park_id: i64,
    event: &EventConfig,
) -> Result<EventConfig, ApiError> {
    let body = serde_json::to_value(event).map_err(|e| ApiError::Decode(e.to_string()))?;
    put(
        &format!("/api/v1/parks/{park_id}/coupon-config/event"),
        body,
    )
    .await
}

/// `POST /api/v1/parks/{id}/coupon-products`.
pub(crate) async fn create_product(
    park_id: i64,
    product: &ProductInput,
) -> Result<CouponProduct, ApiError> {
    let body = serde_json::to_value(product).map_err(|e| ApiError::Decode(e.to_string()))?;
    post(&format!("/api/v1/parks/{park_id}/coupon-products"), body).await
}

/// `PUT /api/v1/parks/{id}/coupon-products/{pid}`.
pub(crate) async fn update_product(
    park_id: i64,
    product_id: i64,
    product: &ProductInput,
) -> Result<CouponProduct, ApiError> {
    let body = serde_json::to_value(product).map_err(|e| ApiError::Decode(e.to_string()))?;
    put(
        &format!("/api/v1/parks/{park_id}/coupon-products/{product_id}"),
        body,
    )
    .await
}

/// `DELETE /api/v1/parks/{id}/coupon-products/{pid}`: archives the product.
pub(crate) async fn archive_product(park_id: i64, product_id: i64) -> Result<Value, ApiError> {
    send(
        Request::delete(&format!(
            "/api/v1/parks/{park_id}/coupon-products/{product_id}"
        )),
        None,
    )
    .await
}
