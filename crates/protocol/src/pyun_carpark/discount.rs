//! `service.parking.discount.create` / `.destroy` (pyun-carpark.md §3.3, §3.4): P云's coupons for a car, mapped onto the ledger's kinds.
//!
//! P云's `type` becomes a [`DiscountKind`] here, once, so a grant that reaches the server is one
//! the ledger can price; type 4 (another tariff) and unknown types are refused `1403`
//! (PROTOCOLS.md §5.1: one tariff per car park).

use chrono::{DateTime, Utc};

use super::billing::MAX_DOWN_ID_CHARS;
use super::codes::{ResultCode, Service, message};
use super::members::Members;
use super::reply::Reply;
use crate::ledger::{DiscountError, DiscountKind};
use crate::pyun::RequestError;
use crate::pyun::fields::{MAX_ID_CHARS, MAX_TEXT_CHARS};

/// P云's type 3 (whole stay free): its `value` is "暂无定义" (undefined) and is ignored.
const TYPE_FREE: i64 = 3;

/// Why a coupon grant is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// A field is missing or malformed: `1400`.
    #[error(transparent)]
    Field(#[from] RequestError),
    /// A type or value we do not apply (type 4, unknown types, out of range): `1403`.
    #[error(transparent)]
    Refused(#[from] DiscountError),
}

impl GrantError {
    /// The code P云 gets.
    pub fn result_code(&self) -> ResultCode {
        match self {
            GrantError::Field(_) => ResultCode::BadRequest,
            GrantError::Refused(_) => ResultCode::Refused,
        }
    }
}

/// A coupon P云 issued for a car (`discount.create`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountGrant {
    /// P云's grant serial: the idempotency key.
    pub grant_serial: String,
    /// The discount, checked against the ledger's ranges.
    pub kind: DiscountKind,
    /// P云's `type` as sent, for the log.
    pub pyun_type: i64,
    /// P云's `value` as sent, for the log.
    pub value: Option<i64>,
    /// Our stay ID, when P云 knows it.
    pub parking_serial: Option<String>,
    /// The plate, when issued without checking the parking status; raw, the server normalises.
    pub plate: Option<String>,
    /// Why it was granted, e.g. `购物满300`.
    pub reason: Option<String>,
    /// The issuing shop.
    pub store_name: Option<String>,
    /// The shop's ID (the `store_code` of `grant/create` and `mcoupon/token`).
    pub store_code: Option<String>,
    /// The coupon's name.
    pub coupon_name: Option<String>,
    /// P云's coupon ID.
    pub coupon_code: Option<String>,
    /// Whether the front or the back of the stay is discounted; informational, §5.1 takes the back.
    pub coupon_rule: Option<String>,
    /// Type 4's tariff; informational, since type 4 is refused.
    pub charge_rule: Option<String>,
    /// The last second of validity (`yyyyMMddHHmmss` Asia/Shanghai); `None`: the stay's end.
    pub expire_time: Option<DateTime<Utc>>,
}

impl DiscountGrant {
    /// Reads the business fields of a verified request and maps the type onto the ledger.
    ///
    /// `store_name`, `store_code`, `coupon_name` and `coupon_code` are marked required by DOC but
    /// absent from P云's own gateway class; they only describe the coupon, so they are optional.
    pub fn from_members(m: &Members) -> Result<DiscountGrant, GrantError> {
        let text = |f: &'static str, max| -> Result<Option<String>, RequestError> {
            Ok(m.optional(f, max)?.map(str::to_owned))
        };
        let grant_serial = m.required("grant_serial", MAX_DOWN_ID_CHARS)?.to_owned();
        let pyun_type = m.required_int("type")?;
        let value = m.optional_int("value")?;
        let kind = discount_kind(pyun_type, value)?;
        Ok(DiscountGrant {
            grant_serial,
            kind,
            pyun_type,
            value,
            parking_serial: text("parking_serial", MAX_DOWN_ID_CHARS)?,
            plate: text("plate", MAX_ID_CHARS)?,
            reason: text("reason", MAX_TEXT_CHARS)?,
            store_name: text("store_name", MAX_TEXT_CHARS)?,
            store_code: text("store_code", MAX_DOWN_ID_CHARS)?,
            coupon_name: text("coupon_name", MAX_TEXT_CHARS)?,
            coupon_code: text("coupon_code", MAX_DOWN_ID_CHARS)?,
            coupon_rule: text("coupon_rule", MAX_DOWN_ID_CHARS)?,
            charge_rule: text("charge_rule", MAX_DOWN_ID_CHARS)?,
            expire_time: m.optional_time("expire_time")?,
        })
    }

    /// Whether the grant belongs to the plate rather than a stay (type 5, D17).
    pub fn plate_scoped(&self) -> bool {
        matches!(self.kind, DiscountKind::FreeWindow(_))
    }
}

/// P云's `type` and `value` as a ledger kind: the type decides first, so type 4 is refused even
/// without a value; type 3 needs none.
pub fn discount_kind(pyun_type: i64, value: Option<i64>) -> Result<DiscountKind, GrantError> {
    if pyun_type == TYPE_FREE {
        return Ok(DiscountKind::from_pyun(TYPE_FREE, 0)?);
    }
    // Probe with a valid value: an unsupported type must win over a missing value.
    if let Err(e @ DiscountError::Unsupported(_)) = DiscountKind::from_pyun(pyun_type, 1) {
        return Err(e.into());
    }
    let value = value.ok_or(RequestError::Missing("value"))?;
    Ok(DiscountKind::from_pyun(pyun_type, value)?)
}

/// Our answer to `discount.create` (§3.3's order of checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountCreateReply {
    /// `1001`: recorded now (or a type-5 window recorded against the plate).
    Applied,
    /// `1001`: this `grant_serial` is already active or used; not applied twice.
    AlreadyApplied,
    /// `1403`: this `grant_serial` was revoked before.
    Revoked,
    /// `1002`: no stay for `parking_serial` / `plate`.
    NoStay,
    /// `1002`: the stay has ended.
    CarLeft,
    /// `1403`: refused by local stacking policy.
    Refused,
}

impl DiscountCreateReply {
    /// The reply to render and sign.
    pub fn reply(self) -> Reply {
        let (code, msg) = match self {
            DiscountCreateReply::Applied | DiscountCreateReply::AlreadyApplied => {
                (ResultCode::Ok, message::OK)
            }
            DiscountCreateReply::Revoked => (ResultCode::Refused, message::GRANT_REVOKED),
            DiscountCreateReply::NoStay => (ResultCode::NotFound, message::STAY_NOT_FOUND),
            DiscountCreateReply::CarLeft => (ResultCode::NotFound, message::CAR_LEFT),
            DiscountCreateReply::Refused => (ResultCode::Refused, message::OTHER_DISCOUNT),
        };
        Reply::of(Service::DiscountCreate, code, msg)
    }
}

/// A coupon P云 revokes (`discount.destroy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountRevocation {
    /// The serial `discount.create` carried.
    pub grant_serial: String,
}

impl DiscountRevocation {
    /// Reads the business fields of a verified request.
    pub fn from_members(m: &Members) -> Result<DiscountRevocation, RequestError> {
        Ok(DiscountRevocation {
            grant_serial: m.required("grant_serial", MAX_DOWN_ID_CHARS)?.to_owned(),
        })
    }
}

/// Our answer to `discount.destroy` (§3.4's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountDestroyReply {
    /// `1001`: revoked now.
    Revoked,
    /// `1001`: revoked before (idempotent).
    AlreadyRevoked,
    /// `1002`: no such grant.
    NotFound,
    /// `1403`: used by a payment, or the car has left: no longer revocable.
    NotRevocable,
}

impl DiscountDestroyReply {
    /// The reply to render and sign.
    pub fn reply(self) -> Reply {
        let (code, msg) = match self {
            DiscountDestroyReply::Revoked | DiscountDestroyReply::AlreadyRevoked => {
                (ResultCode::Ok, message::DONE)
            }
            DiscountDestroyReply::NotFound => (ResultCode::NotFound, message::GRANT_NOT_FOUND),
            DiscountDestroyReply::NotRevocable => (ResultCode::Refused, message::NOT_REVOCABLE),
        };
        Reply::of(Service::DiscountDestroy, code, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: &str = r#"{"service":"service.parking.discount.create","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_serial":"PS20250102093000001","plate":"粤B660PP","grant_serial":"G2025010215000001","type":"2","value":"120","reason":"购物满300","store_name":"肯德基","store_code":"4911419421","coupon_name":"2小时停车券","coupon_code":"7cb7cc3e4e27b8a","expire_time":"20250102235959","sign":"6572C408F401A95D1489597DCAC4CF5F"}"#;

    fn grant(body: &str) -> Result<DiscountGrant, GrantError> {
        DiscountGrant::from_members(&Members::parse(body.as_bytes()).unwrap())
    }

    #[test]
    fn v4_two_hour_coupon() {
        let g = grant(V4).unwrap();
        assert_eq!(g.kind, DiscountKind::Minutes(120));
        assert_eq!(g.grant_serial, "G2025010215000001");
        assert_eq!(g.store_code.as_deref(), Some("4911419421"));
        assert_eq!(g.coupon_name.as_deref(), Some("2小时停车券"));
        // 2025-01-02 23:59:59 +08:00.
        assert_eq!(
            g.expire_time.map(crate::time::format_pyun_iso).as_deref(),
            Some("2025-01-02T15:59:59Z")
        );
        assert!(!g.plate_scoped());
    }

    #[test]
    fn every_pyun_type_maps_onto_the_ledger() {
        for (t, v, kind) in [
            (1, Some(500), DiscountKind::Amount(500)),
            (2, Some(120), DiscountKind::Minutes(120)),
            (3, None, DiscountKind::Free),
            (3, Some(-7), DiscountKind::Free),
            (5, Some(1440), DiscountKind::FreeWindow(1440)),
            (6, Some(800), DiscountKind::Percent(800)),
        ] {
            assert_eq!(discount_kind(t, v), Ok(kind), "type {t}");
        }
    }

    #[test]
    fn type_4_unknown_types_and_bad_values_are_refused_1403() {
        for (t, v) in [
            (4, Some(7)),
            (4, None),
            (0, Some(1)),
            (7, Some(1)),
            (1, Some(0)),
            (6, Some(1001)),
            (2, Some(-5)),
        ] {
            let e = discount_kind(t, v).unwrap_err();
            assert!(matches!(e, GrantError::Refused(_)), "type {t}: {e}");
            assert_eq!(e.result_code(), ResultCode::Refused);
        }
        let e = grant(&V4.replace(r#""type":"2""#, r#""type":"4""#)).unwrap_err();
        assert_eq!(e.result_code(), ResultCode::Refused);
    }

    #[test]
    fn malformed_grants_are_1400() {
        for body in [
            V4.replace(r#""value":"120""#, r#""value":"""#),
            V4.replace(r#""type":"2""#, r#""type":"two""#),
            V4.replace(
                r#""grant_serial":"G2025010215000001""#,
                r#""grant_serial":"""#,
            ),
            V4.replace("20250102235959", "2025-01-02"),
        ] {
            let e = grant(&body).unwrap_err();
            assert_eq!(e.result_code(), ResultCode::BadRequest, "{e}");
        }
        // Descriptive fields are optional.
        let minimal = grant(r#"{"grant_serial":"G","type":5,"value":60}"#).unwrap();
        assert!(minimal.plate_scoped());
    }

    #[test]
    fn replies_carry_the_spec_codes() {
        for (r, code) in [
            (DiscountCreateReply::Applied, ResultCode::Ok),
            (DiscountCreateReply::AlreadyApplied, ResultCode::Ok),
            (DiscountCreateReply::Revoked, ResultCode::Refused),
            (DiscountCreateReply::NoStay, ResultCode::NotFound),
            (DiscountCreateReply::CarLeft, ResultCode::NotFound),
            (DiscountCreateReply::Refused, ResultCode::Refused),
        ] {
            assert_eq!(r.reply().code(), code, "{r:?}");
        }
        for (r, code) in [
            (DiscountDestroyReply::Revoked, ResultCode::Ok),
            (DiscountDestroyReply::AlreadyRevoked, ResultCode::Ok),
            (DiscountDestroyReply::NotFound, ResultCode::NotFound),
            (DiscountDestroyReply::NotRevocable, ResultCode::Refused),
        ] {
            assert_eq!(r.reply().code(), code, "{r:?}");
        }
        let m = Members::parse(br#"{"grant_serial":" G1 "}"#).unwrap();
        assert_eq!(
            DiscountRevocation::from_members(&m).unwrap().grant_serial,
            " G1 "
        );
        assert!(DiscountRevocation::from_members(&Members::default()).is_err());
    }
}
