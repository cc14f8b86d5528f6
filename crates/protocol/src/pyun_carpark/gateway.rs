//! What the car-park gateway does with a call before any handler runs (pyun-carpark.md §1.5 steps 2–6), as pure functions.
//!
//! Two steps, because the key lookup between them is the caller's I/O:
//! [`Inbound::parse`] reads the body (not an object → `1400`, unsigned); the caller looks up the
//! key for [`Inbound::park_uuid`]; [`Inbound::open`] checks the required members (`1400`), the
//! park (`1401`, unsigned), the signature (`1401`), the service (`1503`) and the business fields
//! (`1400`, or `1403` for a coupon type we do not apply). Every refusal comes with its reply body,
//! signed whenever the key is known.

use super::billing::BillingRequest;
use super::codes::{ResultCode, Service, message};
use super::discount::{DiscountGrant, DiscountRevocation, GrantError};
use super::down_sign::{self, Convention, DownSignError, SIGN_MEMBER};
use super::members::{BodyError, Members};
use super::payment_result::PaymentNotice;
use super::reply::{CHARSET, Reply, VERSION};
use crate::ledger::DiscountError;
use crate::pyun::RequestError;

/// Why a call is refused before a handler sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Not a flat JSON object: `1400`.
    #[error(transparent)]
    Body(#[from] BodyError),
    /// `service`, `sign` or `park_uuid` missing or blank: `1400`.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// No key for this park: `1401`, unsigned.
    #[error("unknown park `{0}`")]
    UnknownPark(String),
    /// The signature does not verify: `1401`; log the plaintext and the sign received.
    #[error(transparent)]
    Signature(#[from] DownSignError),
    /// A service we do not implement: `1503`.
    #[error("service `{0}` is not implemented")]
    UnknownService(String),
    /// A business field is missing or malformed: `1400`.
    #[error(transparent)]
    Field(#[from] RequestError),
    /// A coupon type or value we do not apply: `1403`.
    #[error(transparent)]
    Discount(#[from] DiscountError),
}

impl GatewayError {
    /// The `result_code` P云 gets.
    pub fn result_code(&self) -> ResultCode {
        match self {
            GatewayError::Body(_)
            | GatewayError::Missing(_)
            | GatewayError::Field(_)
            | GatewayError::Signature(DownSignError::MissingSign) => ResultCode::BadRequest,
            GatewayError::UnknownPark(_) | GatewayError::Signature(_) => ResultCode::Unauthorized,
            GatewayError::UnknownService(_) => ResultCode::NotImplemented,
            GatewayError::Discount(_) => ResultCode::Refused,
        }
    }

    /// The reply's `message` and `hint` (§1.5; the hint of a signature mismatch is our plaintext without the key).
    fn message_and_hint(&self) -> (&'static str, Option<String>) {
        match self {
            GatewayError::Body(e) => (message::BAD_REQUEST, Some(e.to_string())),
            GatewayError::Missing(f) => (message::BAD_REQUEST, Some(format!("请求参数`{f}`缺失!"))),
            GatewayError::UnknownPark(p) => (message::UNKNOWN_PARK, Some(p.clone())),
            GatewayError::Signature(DownSignError::Mismatch { plaintext, .. }) => {
                (message::BAD_SIGNATURE, Some(plaintext.clone()))
            }
            GatewayError::Signature(DownSignError::MissingSign) => (
                message::BAD_REQUEST,
                Some(format!("请求参数`{SIGN_MEMBER}`缺失!")),
            ),
            GatewayError::UnknownService(s) => (message::NOT_IMPLEMENTED, Some(s.clone())),
            GatewayError::Field(e) => (message::BAD_REQUEST, Some(e.to_string())),
            GatewayError::Discount(e) => (message::DISCOUNT_UNSUPPORTED, Some(e.to_string())),
        }
    }
}

impl From<GrantError> for GatewayError {
    fn from(e: GrantError) -> GatewayError {
        match e {
            GrantError::Field(e) => GatewayError::Field(e),
            GrantError::Refused(e) => GatewayError::Discount(e),
        }
    }
}

/// A refused call: why, and the body to answer with (HTTP 200, always).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Why it was refused.
    pub error: GatewayError,
    /// The reply, before rendering.
    pub reply: Reply,
    /// The rendered reply: signed when the park's key was known.
    pub body: String,
}

impl Rejected {
    fn new(service: &str, error: GatewayError, key: Option<&str>) -> Rejected {
        let (msg, hint) = error.message_and_hint();
        let mut reply = Reply::new(service, error.result_code(), msg);
        if let Some(hint) = hint {
            reply = reply.with_hint(hint);
        }
        let body = reply.to_json(key);
        Rejected { error, reply, body }
    }

    /// The code answered.
    pub fn result_code(&self) -> ResultCode {
        self.error.result_code()
    }
}

/// The common members of an accepted call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The service called.
    pub service: Service,
    /// The park, whose key verified the call.
    pub park_uuid: String,
    /// `version` as sent (not checked: §1.5 step 9).
    pub version: Option<String>,
    /// `charset` as sent (not checked).
    pub charset: Option<String>,
    /// The empty-value convention the signature matched (D1).
    pub convention: Convention,
}

impl Envelope {
    /// Whether `version` and `charset` are the documented `1.0` / `UTF-8`; otherwise log them.
    pub fn is_standard(&self) -> bool {
        self.version.as_deref().is_none_or(|v| v == VERSION)
            && self
                .charset
                .as_deref()
                .is_none_or(|c| c.eq_ignore_ascii_case(CHARSET))
    }
}

/// An accepted call's business fields, decoded and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownlinkRequest {
    /// `payment.billing`.
    Billing(BillingRequest),
    /// `payment.result`.
    PaymentResult(PaymentNotice),
    /// `discount.create`.
    DiscountCreate(DiscountGrant),
    /// `discount.destroy`.
    DiscountDestroy(DiscountRevocation),
    /// `realtime` (no business fields).
    Realtime,
}

/// A verified call, ready for its handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Common members.
    pub envelope: Envelope,
    /// Business fields.
    pub request: DownlinkRequest,
    /// Every member as received, for the audit log (P云 may add fields we do not read).
    pub members: Members,
}

/// A received call whose body is a JSON object, before the key is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    members: Members,
}

impl Inbound {
    /// Reads the raw body (§1.5 step 2); the refusal is unsigned, as no park could be read.
    pub fn parse(body: &[u8]) -> Result<Inbound, Box<Rejected>> {
        match Members::parse(body) {
            Ok(members) => Ok(Inbound { members }),
            Err(e) => Err(Box::new(Rejected::new("", e.into(), None))),
        }
    }

    /// The park whose key the caller must look up; `None` when absent (then `open(None)`).
    pub fn park_uuid(&self) -> Option<&str> {
        self.members
            .text("park_uuid")
            .filter(|p| !p.trim().is_empty())
    }

    /// The service named, as sent.
    pub fn service(&self) -> Option<&str> {
        self.members.text("service")
    }

    /// Every member as received.
    pub fn members(&self) -> &Members {
        &self.members
    }

    /// Checks the call with the park's key (`None`: no key for this park) and decodes it (§1.5 steps 3–6).
    pub fn open(self, key: Option<&str>) -> Result<Accepted, Box<Rejected>> {
        let service = self.service().unwrap_or_default().to_owned();
        let refuse =
            |error: GatewayError, key: Option<&str>| Box::new(Rejected::new(&service, error, key));
        let present = |name| {
            self.members
                .text(name)
                .is_some_and(|v| !v.trim().is_empty())
        };
        for name in ["service", SIGN_MEMBER, "park_uuid"] {
            if !present(name) {
                return Err(refuse(GatewayError::Missing(name), key));
            }
        }
        let park_uuid = self.park_uuid().unwrap_or_default().to_owned();
        let Some(key) = key else {
            return Err(refuse(GatewayError::UnknownPark(park_uuid), None));
        };
        let convention =
            down_sign::verify(&self.members, key).map_err(|e| refuse(e.into(), Some(key)))?;
        let Some(svc) = Service::from_name(&service) else {
            return Err(refuse(
                GatewayError::UnknownService(service.clone()),
                Some(key),
            ));
        };
        let m = &self.members;
        let request = match svc {
            Service::PaymentBilling => {
                BillingRequest::from_members(m).map(DownlinkRequest::Billing)
            }
            Service::PaymentResult => {
                PaymentNotice::from_members(m).map(DownlinkRequest::PaymentResult)
            }
            Service::DiscountCreate => match DiscountGrant::from_members(m) {
                Ok(g) => Ok(DownlinkRequest::DiscountCreate(g)),
                Err(e) => return Err(refuse(e.into(), Some(key))),
            },
            Service::DiscountDestroy => {
                DiscountRevocation::from_members(m).map(DownlinkRequest::DiscountDestroy)
            }
            Service::Realtime => Ok(DownlinkRequest::Realtime),
        }
        .map_err(|e| refuse(e.into(), Some(key)))?;
        let envelope = Envelope {
            service: svc,
            park_uuid,
            version: m.text("version").map(str::to_owned),
            charset: m.text("charset").map(str::to_owned),
            convention,
        };
        Ok(Accepted {
            envelope,
            request,
            members: self.members,
        })
    }
}

/// Both steps, for a caller that already holds the key (tests, the sandbox).
pub fn receive(body: &[u8], key: Option<&str>) -> Result<Accepted, Box<Rejected>> {
    Inbound::parse(body)?.open(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::DiscountKind;
    use crate::pyun_carpark::reply::ReplyHead;

    const KEY: &str = "pb-demo-key-2025";
    const V1: &str = r#"{"service":"service.parking.payment.billing","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","plate":"粤B660PP","sign":"46DA4B3E5334F0C5F0FC770C7C0C92E0"}"#;

    fn refused(body: &str, key: Option<&str>) -> Rejected {
        *receive(body.as_bytes(), key).unwrap_err()
    }

    /// The rejection's body read back: its head, and whether it verifies with `KEY`.
    fn head(r: &Rejected) -> (ReplyHead, bool) {
        let m = Members::parse(r.body.as_bytes()).unwrap();
        let signed = down_sign::verify(&m, KEY).is_ok();
        (ReplyHead::from_members(&m).unwrap(), signed)
    }

    #[test]
    fn v1_is_accepted_as_a_billing_call() {
        let a = receive(V1.as_bytes(), Some(KEY)).unwrap();
        assert_eq!(a.envelope.service, Service::PaymentBilling);
        assert_eq!(a.envelope.park_uuid, "3bad72c0-6204-4b65-90aa-4323ddd1fb5a");
        assert!(a.envelope.is_standard());
        let DownlinkRequest::Billing(b) = a.request else {
            panic!("not billing: {:?}", a.request)
        };
        assert_eq!(b.plate().map(|p| p.as_str()), Some("粤B660PP"));
    }

    #[test]
    fn v1_neg_gets_1401_with_its_plaintext_as_hint_signed() {
        let r = refused(&V1.replace("粤B660PP", "粤B660PQ"), Some(KEY));
        assert_eq!(r.result_code(), ResultCode::Unauthorized);
        let (head, signed) = head(&r);
        assert!(signed);
        assert_eq!(head.message, "签名错误");
        assert_eq!(
            head.hint.as_deref(),
            Some(
                "charset=UTF-8&park_uuid=3bad72c0-6204-4b65-90aa-4323ddd1fb5a&plate=粤B660PQ&service=service.parking.payment.billing&version=1.0"
            )
        );
        assert!(!r.body.contains(KEY));
    }

    #[test]
    fn v3_and_v4_are_accepted_and_decoded() {
        let v3 = r#"{"service":"service.parking.payment.result","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_serial":"PS20250102093000001","parking_order":"PO20250102153012000001","plate":"粤B660PP","pay_serial":"20250102153105075500112137","pay_time":"20250102153105","value":"2000","free_value":"1000","pay_value":"2000","pay_origin":"8","pay_origin_desc":"微信","pay_source":"微信","sign":"6BBB75D9F597A6B41805920073FC8B5B"}"#;
        let a = receive(v3.as_bytes(), Some(KEY)).unwrap();
        assert!(matches!(a.request, DownlinkRequest::PaymentResult(ref n) if n.value == 2000));
        let v4 = r#"{"service":"service.parking.discount.create","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_serial":"PS20250102093000001","plate":"粤B660PP","grant_serial":"G2025010215000001","type":"2","value":"120","reason":"购物满300","store_name":"肯德基","store_code":"4911419421","coupon_name":"2小时停车券","coupon_code":"7cb7cc3e4e27b8a","expire_time":"20250102235959","sign":"6572C408F401A95D1489597DCAC4CF5F"}"#;
        let a = receive(v4.as_bytes(), Some(KEY)).unwrap();
        assert!(
            matches!(a.request, DownlinkRequest::DiscountCreate(ref g) if g.kind == DiscountKind::Minutes(120))
        );
    }

    /// Signs a request body the way P云 does (empty members kept), for the cases below.
    fn signed(members: &[(&str, &str)]) -> String {
        let sign =
            down_sign::sign_plaintext(&down_sign::plaintext(members.iter().copied(), true), KEY);
        let mut obj = serde_json::Map::new();
        for (k, v) in members {
            obj.insert((*k).to_owned(), (*v).into());
        }
        obj.insert("sign".into(), sign.into());
        serde_json::Value::Object(obj).to_string()
    }

    const PARK: (&str, &str) = ("park_uuid", "3bad72c0-6204-4b65-90aa-4323ddd1fb5a");

    #[test]
    fn type_4_coupon_is_1403_signed() {
        let body = signed(&[
            ("service", "service.parking.discount.create"),
            PARK,
            ("grant_serial", "G1"),
            ("type", "4"),
            ("value", "3"),
        ]);
        let r = refused(&body, Some(KEY));
        assert_eq!(r.result_code(), ResultCode::Refused);
        let (head, signed) = head(&r);
        assert!(signed);
        assert_eq!(head.code, "1403");
        assert_eq!(
            head.service.as_deref(),
            Some("service.parking.discount.create")
        );
    }

    #[test]
    fn unknown_service_is_1503_after_the_signature() {
        let body = signed(&[
            ("service", "service.parking.vip.query"),
            PARK,
            ("plate", "粤A9T58H"),
        ]);
        let r = refused(&body, Some(KEY));
        assert_eq!(r.result_code(), ResultCode::NotImplemented);
        let (head, signed) = head(&r);
        assert!(signed);
        assert_eq!(head.hint.as_deref(), Some("service.parking.vip.query"));
        // With a bad signature the signature is reported first, as P云's gateway does.
        let forged = body.replace("粤A9T58H", "粤A9T58J");
        assert_eq!(
            refused(&forged, Some(KEY)).result_code(),
            ResultCode::Unauthorized
        );
    }

    #[test]
    fn unknown_park_is_1401_unsigned() {
        let r = refused(V1, None);
        assert_eq!(r.result_code(), ResultCode::Unauthorized);
        let (head, signed) = head(&r);
        assert!(!signed && !r.body.contains("\"sign\""));
        assert_eq!(head.message, "未知车场");
    }

    #[test]
    fn missing_members_are_1400_naming_the_member() {
        for (name, body) in [
            (
                "service",
                V1.replace(
                    r#""service":"service.parking.payment.billing""#,
                    r#""service":"""#,
                ),
            ),
            ("sign", V1.replace("46DA4B3E5334F0C5F0FC770C7C0C92E0", " ")),
            (
                "park_uuid",
                V1.replace(r#""park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","#, ""),
            ),
        ] {
            let r = refused(&body, Some(KEY));
            assert_eq!(r.error, GatewayError::Missing(name));
            assert_eq!(r.result_code(), ResultCode::BadRequest);
            assert_eq!(head(&r).0.hint, Some(format!("请求参数`{name}`缺失!")));
        }
    }

    #[test]
    fn bodies_that_are_not_objects_are_1400_unsigned() {
        for body in [&b"[]"[..], b"", b"{", b"\xff", b"null"] {
            let r = *receive(body, Some(KEY)).unwrap_err();
            assert_eq!(r.result_code(), ResultCode::BadRequest);
            assert!(!r.body.contains("\"sign\""), "{}", r.body);
            assert!(Members::parse(r.body.as_bytes()).is_ok());
        }
    }

    #[test]
    fn bad_business_fields_are_1400_signed() {
        let body = signed(&[
            ("service", "service.parking.payment.result"),
            PARK,
            ("parking_order", "O"),
        ]);
        let r = refused(&body, Some(KEY));
        assert!(matches!(
            r.error,
            GatewayError::Field(RequestError::Missing("pay_serial"))
        ));
        assert!(head(&r).1);
    }

    #[test]
    fn other_services_decode() {
        let destroy = signed(&[
            ("service", "service.parking.discount.destroy"),
            PARK,
            ("grant_serial", "G1"),
        ]);
        let a = receive(destroy.as_bytes(), Some(KEY)).unwrap();
        assert_eq!(
            a.request,
            DownlinkRequest::DiscountDestroy(DiscountRevocation {
                grant_serial: "G1".into()
            })
        );
        let realtime = signed(&[
            ("service", "service.parking.realtime"),
            PARK,
            ("version", "2.0"),
        ]);
        let a = receive(realtime.as_bytes(), Some(KEY)).unwrap();
        assert_eq!(a.request, DownlinkRequest::Realtime);
        assert!(!a.envelope.is_standard());
        // P云's http.md example: empty gate_id kept by a KeepEmpty signer.
        let kept = signed(&[
            ("service", "service.parking.payment.billing"),
            PARK,
            ("plate", "粤B660PP"),
            ("gate_id", ""),
        ]);
        let a = receive(kept.as_bytes(), Some(KEY)).unwrap();
        assert_eq!(a.envelope.convention, Convention::KeepEmpty);
    }

    #[test]
    fn official_requests_do_not_verify_with_the_keys_tried() {
        // §2.4: no DOC example publishes its key. The keys the spec tried must still fail here,
        // cleanly, with the plaintext P云 would have signed.
        let http_md = r#"{
  "service" : "service.parking.payment.billing",
  "charset" : "UTF-8",
  "plate" : "粤TSXXXXX",
  "version" : "1.0",
  "park_uuid" : "UIDDDDDDDD123",
  "sign" : "612BB8F6B7BFF82F60B04AEB8955E156",
  "gate_id" : ""
}"#;
        let realtime_md = r#"{"charset" : "UTF-8","sign" : "B2B6A0FC5816B5174572172A777E8DD3","park_uuid" : "10315","service" : "service.parking.realtime","version" : "1.0"}"#;
        let notify_md = r#"{"charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_order":"201811301049350025","parking_serial":"8c598afd-2cb8-4cec-8f73-4fd4391d2fc6","pay_origin":"4","pay_origin_desc":"支付宝","pay_source": "支付宝","pay_serial":"20181130105240075500112137","pay_time":"20181130105250","service":"service.parking.payment.result","sign":"E7D7371549C2B4E3AE38C3A028973020","value":"500","version":"1.0"}"#;
        let prepay_md = r#"{"charset" : "UTF-8","sign" : "5DDE645BDCD7C54D805258B4A40A13D7","park_uuid" : "1239","plate" : "粤A9T58H","service" : "service.parking.vip.query","version" : "1.0"}"#;
        for body in [http_md, realtime_md, notify_md, prepay_md] {
            let inbound = Inbound::parse(body.as_bytes()).unwrap();
            let park = inbound.park_uuid().unwrap().to_owned();
            for key in ["DEMO", "22D42dSdae2", "", park.as_str()] {
                let r = *Inbound::parse(body.as_bytes())
                    .unwrap()
                    .open(Some(key))
                    .unwrap_err();
                assert!(
                    matches!(
                        r.error,
                        GatewayError::Signature(DownSignError::Mismatch { .. })
                    ),
                    "{key}: {:?}",
                    r.error
                );
            }
        }
        let r = refused(http_md, Some("DEMO"));
        let GatewayError::Signature(DownSignError::Mismatch {
            plaintext,
            plaintext_nonempty,
            received,
        }) = r.error
        else {
            panic!("{:?}", r.error)
        };
        assert_eq!(
            plaintext,
            "charset=UTF-8&gate_id=&park_uuid=UIDDDDDDDD123&plate=粤TSXXXXX&service=service.parking.payment.billing&version=1.0"
        );
        assert_eq!(
            plaintext_nonempty,
            "charset=UTF-8&park_uuid=UIDDDDDDDD123&plate=粤TSXXXXX&service=service.parking.payment.billing&version=1.0"
        );
        assert_eq!(received, "612BB8F6B7BFF82F60B04AEB8955E156");
    }
}
