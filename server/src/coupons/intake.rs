//! Turns a coupon request (machine API or the admin UI) into an outbox row: every check that can
//! fail for the caller's input or the car park's configuration happens here, before anything
//! is stored, so a bad request is a clear 4xx and never a row that fails later.

use std::collections::BTreeMap;

use protocol::plate::Plate;
use protocol::pyun::EventMetadata;
use protocol::pyun::fields::MAX_ID_CHARS;
use serde::{Deserialize, Serialize};

use super::config::{self, Product};
use super::request::{EventRequest, GrantRequest};
use crate::error::ApiError;
use crate::outbox::Kind;
use crate::outbox::store::NewItem;
use crate::parks::Park;
use crate::storage::Db;

/// One metadata value as a caller sends it: the bare value, or P云's `{name, value}` shape
/// (the name defaults to the configured label).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum MetadataValue {
    /// Just the value.
    Value(i32),
    /// P云's entry shape.
    Entry {
        /// Label; the configured one when absent.
        name: Option<String>,
        /// The value.
        value: i32,
    },
}

// Written by hand like the deserializer below, which refuses any other field in the entry shape.
impl utoipa::PartialSchema for MetadataValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let int32 =
            serde_json::json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX});
        crate::http::schema_rules::from_json(&serde_json::json!({
            "description": "One metadata value: the bare 32-bit integer, or P云's `{name?, value}` entry (the name defaults to the configured label).",
            "oneOf": [int32, {
                "type": "object",
                "additionalProperties": false,
                "required": ["value"],
                "properties": {"name": {"type": ["string", "null"]}, "value": int32},
            }],
        }))
    }
}

impl utoipa::ToSchema for MetadataValue {}

impl<'de> Deserialize<'de> for MetadataValue {
    /// By hand, so that a wrong value says what is expected (an untagged enum's message does not).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let expected =
            "a metadata value is a 32-bit integer, or {\"name\": text, \"value\": 32-bit integer}";
        let int = |v: &serde_json::Value| v.as_i64().and_then(|n| i32::try_from(n).ok());
        match serde_json::Value::deserialize(d)? {
            v if int(&v).is_some() => Ok(MetadataValue::Value(int(&v).unwrap_or_default())),
            serde_json::Value::Object(mut o) => {
                let value = o
                    .remove("value")
                    .as_ref()
                    .and_then(int)
                    .ok_or_else(|| D::Error::custom(expected))?;
                let name = match o.remove("name") {
                    None | Some(serde_json::Value::Null) => None,
                    Some(serde_json::Value::String(n)) => Some(n),
                    Some(_) => return Err(D::Error::custom(expected)),
                };
                if !o.is_empty() {
                    return Err(D::Error::custom(expected));
                }
                Ok(MetadataValue::Entry { name, value })
            }
            _ => Err(D::Error::custom(expected)),
        }
    }
}

/// An event coupon as a caller submits it.
#[derive(Debug, Clone)]
pub struct EventInput {
    /// Idempotency key, sent to P云.
    pub event_id: String,
    /// The car's plate as typed.
    pub plate: String,
    /// What happened.
    pub subject: String,
    /// Values for the rule.
    pub metadata: Option<BTreeMap<String, MetadataValue>>,
}

/// A grant as a caller submits it.
#[derive(Debug, Clone)]
pub struct GrantInput {
    /// Our idempotency key.
    pub grant_id: String,
    /// The plate as typed.
    pub plate: String,
    /// Why (default: the product's reason).
    pub reason: Option<String>,
    /// P云's parking serial, if known.
    pub parking_serial: Option<String>,
}

fn not_configured(park: &Park, what: &str) -> ApiError {
    ApiError::conflict(
        "pyun_not_configured",
        format!(
            "car park {} has no {what}; an admin sets it on the car park's page",
            park.fields.code
        ),
    )
}

fn plate(typed: &str) -> Result<Plate, ApiError> {
    Plate::parse(typed).map_err(|e| ApiError::bad_request("invalid_plate", format!("plate: {e}")))
}

fn key(field: &'static str, value: &str) -> Result<(), ApiError> {
    let len = value.chars().count();
    if value.trim().is_empty() || len > MAX_ID_CHARS || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("`{field}` must be 1 to {MAX_ID_CHARS} characters without control characters"),
        ));
    }
    Ok(())
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_request", e.to_string())
}

/// Checks an event coupon for car park `park` (whose event settings are `settings`) and builds
/// its row.
pub fn event(
    park: &Park,
    settings: config::EventSettings,
    input: EventInput,
    requested_by: &str,
) -> Result<NewItem, ApiError> {
    key("event_id", &input.event_id)?;
    let plate = plate(&input.plate)?;
    let api_type = settings.api_type.ok_or_else(|| {
        ApiError::conflict(
            "coupon_events_not_configured",
            format!(
                "car park {} has no P云 api_type for event coupons; an admin sets it under 优惠券设置",
                park.fields.code
            ),
        )
    })?;
    if park.fields.pyun_credential_id.is_none() {
        return Err(not_configured(park, "P云 credential"));
    }
    let store = park
        .fields
        .pyun_api_store_code
        .clone()
        .ok_or_else(|| not_configured(park, "P云 api_store_code"))?;
    let metadata = match input.metadata {
        None => None,
        Some(given) if given.is_empty() => None,
        Some(given) => {
            let mut out = BTreeMap::new();
            for (k, v) in given {
                let Some(known) = settings.metadata_keys.iter().find(|m| m.key == k) else {
                    let known: Vec<&str> = settings
                        .metadata_keys
                        .iter()
                        .map(|m| m.key.as_str())
                        .collect();
                    return Err(ApiError::bad_request(
                        "unknown_metadata_key",
                        if known.is_empty() {
                            format!(
                                "metadata key `{k}`: this car park's event coupons take no metadata"
                            )
                        } else {
                            format!(
                                "metadata key `{k}` is not configured; known keys: {}",
                                known.join(", ")
                            )
                        },
                    ));
                };
                let (name, value) = match v {
                    MetadataValue::Value(value) => (known.name.clone(), value),
                    MetadataValue::Entry { name, value } => {
                        (name.unwrap_or_else(|| known.name.clone()), value)
                    }
                };
                out.insert(k, EventMetadata { name, value });
            }
            Some(out)
        }
    };
    let request = EventRequest {
        api_type,
        event_id: input.event_id.clone(),
        plate: plate.clone(),
        subject: input.subject.trim().to_owned(),
        metadata,
    };
    request.to_event(&store).validate().map_err(invalid)?;
    Ok(NewItem {
        park_id: park.id,
        kind: Kind::CouponEvent,
        dedupe_key: input.event_id,
        plate: Some(plate.into_string()),
        summary: request.subject.clone(),
        request_json: serde_json::to_string(&request).expect("plain data serialises"),
        requested_by: requested_by.to_owned(),
    })
}

/// Checks a grant of `product` at car park `park` and builds its row.
pub fn grant(
    park: &Park,
    product: &Product,
    input: GrantInput,
    requested_by: &str,
) -> Result<NewItem, ApiError> {
    key("grant_id", &input.grant_id)?;
    let plate = plate(&input.plate)?;
    if product.archived {
        return Err(ApiError::unprocessable(
            "unknown_coupon",
            format!("coupon product {} is archived", product.name),
        ));
    }
    if park.fields.pyun_credential_id.is_none() {
        return Err(not_configured(park, "P云 credential"));
    }
    let merchant = park
        .fields
        .pyun_merchant
        .clone()
        .ok_or_else(|| not_configured(park, "P云 merchant number"))?;
    let reason = input
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .or_else(|| product.reason.clone());
    let parking_serial = input
        .parking_serial
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let request = GrantRequest {
        product_id: product.id,
        product_name: product.name.clone(),
        coupon_code: product.coupon_code.clone(),
        store_code: product.store_code.clone(),
        quantity: product.quantity,
        plate: plate.clone(),
        parking_serial,
        reason,
    };
    request.to_grant(&merchant).validate().map_err(invalid)?;
    Ok(NewItem {
        park_id: park.id,
        kind: Kind::CouponGrant,
        dedupe_key: input.grant_id,
        plate: Some(plate.into_string()),
        summary: product.name.clone(),
        request_json: serde_json::to_string(&request).expect("plain data serialises"),
        requested_by: requested_by.to_owned(),
    })
}

/// Whether two rows under one key ask for the same thing (the caller's own fields only: a
/// configuration change between a call and its retry is not the caller's doing).
pub fn same_request(kind: Kind, first: &str, again: &str) -> bool {
    match kind {
        Kind::CouponEvent => {
            let (Ok(a), Ok(b)) = (
                serde_json::from_str::<EventRequest>(first),
                serde_json::from_str::<EventRequest>(again),
            ) else {
                return false;
            };
            a.plate == b.plate && a.subject == b.subject && a.metadata == b.metadata
        }
        // Its rows are the recharges, compared when they are written, not here.
        Kind::VipBatch | Kind::EnterNotice | Kind::PyunEnter | Kind::PyunLeave => first == again,
        Kind::CouponGrant => {
            let (Ok(a), Ok(b)) = (
                serde_json::from_str::<GrantRequest>(first),
                serde_json::from_str::<GrantRequest>(again),
            ) else {
                return false;
            };
            a.product_id == b.product_id
                && a.plate == b.plate
                && a.parking_serial == b.parking_serial
                && a.reason == b.reason
        }
    }
}

/// The product `name` (live) at `park`, or a 400 listing the available names.
pub async fn product_named(db: &Db, park: &Park, name: &str) -> Result<Product, ApiError> {
    if let Some(p) = config::product_by_name(db, park.id, name).await? {
        return Ok(p);
    }
    let names: Vec<String> = config::products(db, park.id)
        .await?
        .into_iter()
        .filter(|p| !p.archived)
        .map(|p| p.name)
        .collect();
    Err(ApiError::unprocessable(
        "unknown_coupon",
        if names.is_empty() {
            format!("car park {} has no coupon products", park.fields.code)
        } else {
            format!(
                "no coupon product named `{name}` at car park {}; available: {}",
                park.fields.code,
                names.join(", ")
            )
        },
    ))
}
