//! The QR-code coupon, `mcoupon/token` (pyun-carpark.md §5, platform-apis.md §1): its signed
//! form, reading it back, and the claim link P云 answers.
//!
//! A shop asks for a token, shows its `url` as a QR code, and the driver who scans it binds the
//! coupon to their own plate; so there is no `plate` and no `merchant` here. P云 has no
//! idempotency key for it: every call mints a new token ([`CouponToken::IDEMPOTENCY`]).

use serde::{Deserialize, Serialize};

use super::fields::{
    MAX_ID_CHARS, MAX_TEXT_CHARS, Received, RequestError, at_least_one, optional, required,
};
use super::lenient::{opt_u32_any, string_any};
use super::outcome::{Outcome, OutcomeClass};
use super::resend::Idempotency;
use super::sign::SignedForm;

/// Path of the endpoint under P云's base URL.
pub const COUPON_TOKEN_PATH: &str = "/gate/1.0/parking/mcoupon/token";

/// Shortest lifetime P云 grants a token, and its default: 5 minutes.
pub const MIN_EXPIRE_IN_SECS: u32 = 300;

/// Longest lifetime we ask for: one day.
///
/// P云 documents no maximum. A QR code is shown at a till to the customer in front of it, or
/// printed for one business day at most; a multi-use token that lived longer would keep granting
/// coupons to anyone holding a photo of it.
pub const MAX_EXPIRE_IN_SECS: u32 = 86_400;

/// A request for a QR-code token granting coupons of one coupon product from one shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponToken {
    /// The shop's code, from the property's shop list at P云.
    pub store_code: String,
    /// The coupon product, as for a grant.
    pub coupon_code: String,
    /// Coupons per claim; at least 1, sent as text.
    pub quantity: u32,
    /// `Some(true)`: the QR dies at its first claim (`1`); `Some(false)` (`0`) or `None`
    /// (not sent): anyone may claim it until it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_expire: Option<bool>,
    /// Lifetime in seconds; `None` is P云's default of 300.
    ///
    /// P云 ignores values below 300 ("小于5分钟则无效") and uses 300, so such a value is sent
    /// as 300: the form says what P云 will do. Above [`MAX_EXPIRE_IN_SECS`] is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_in: Option<u32>,
    /// Why the coupon is granted, shown in P云's records (e.g. 商场消费).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl CouponToken {
    /// P云 cannot tell a resent token request from a new one: a call that may have arrived is
    /// never resent automatically (the clerk asks for a fresh QR instead).
    pub const IDEMPOTENCY: Idempotency = Idempotency::Unkeyed;

    /// Checks required fields, `quantity ≥ 1`, `expire_in ≤` [`MAX_EXPIRE_IN_SECS`] and lengths.
    pub fn validate(&self) -> Result<(), RequestError> {
        required("store_code", &self.store_code, MAX_ID_CHARS)?;
        required("coupon_code", &self.coupon_code, MAX_ID_CHARS)?;
        at_least_one("quantity", self.quantity)?;
        if let Some(secs) = self.expire_in.filter(|s| *s > MAX_EXPIRE_IN_SECS) {
            return Err(RequestError::Invalid {
                field: "expire_in",
                reason: format!("{secs} s is longer than {MAX_EXPIRE_IN_SECS} s"),
            });
        }
        optional("reason", self.reason.as_deref(), MAX_TEXT_CHARS)?;
        Ok(())
    }

    /// How long the token lives at P云, in seconds: `expire_in` raised to 300, or 300.
    pub fn lifetime_secs(&self) -> u32 {
        self.expire_in
            .map_or(MIN_EXPIRE_IN_SECS, |s| s.max(MIN_EXPIRE_IN_SECS))
    }

    /// Whether the token dies at its first claim.
    pub fn single_use(&self) -> bool {
        self.use_expire == Some(true)
    }

    /// Validates and signs the form for `app_id`'s credential.
    pub fn to_signed_form(&self, app_id: &str, secret: &str) -> Result<SignedForm, RequestError> {
        required("app_id", app_id, MAX_ID_CHARS)?;
        self.validate()?;
        let quantity = self.quantity.to_string();
        let expire_in = self
            .expire_in
            .map(|_| self.lifetime_secs().to_string())
            .unwrap_or_default();
        let use_expire = match self.use_expire {
            Some(true) => "1",
            Some(false) => "0",
            None => "",
        };
        Ok(SignedForm::new(
            [
                ("app_id", app_id),
                ("store_code", &self.store_code),
                ("coupon_code", &self.coupon_code),
                ("quantity", &quantity),
                ("use_expire", use_expire),
                ("expire_in", &expire_in),
                ("reason", self.reason.as_deref().unwrap_or("")),
            ],
            secret,
        ))
    }

    /// Reads a received form (signature already verified) into `(app_id, token request)`,
    /// validated; an `expire_in` below 300 is kept as sent ([`CouponToken::lifetime_secs`]
    /// raises it).
    pub fn from_form<K: AsRef<str>, V: AsRef<str>>(
        fields: &[(K, V)],
    ) -> Result<(String, CouponToken), RequestError> {
        let form = Received::new(fields)?;
        let app_id = form.required("app_id")?.to_owned();
        let use_expire = match form.optional("use_expire") {
            None => None,
            Some("1") => Some(true),
            Some("0") => Some(false),
            Some(other) => {
                return Err(RequestError::Invalid {
                    field: "use_expire",
                    reason: format!("`{other}` is neither 1 nor 0"),
                });
            }
        };
        let expire_in = form
            .optional("expire_in")
            .map(|_| form.whole_number("expire_in"))
            .transpose()?;
        let token = CouponToken {
            store_code: form.required("store_code")?.to_owned(),
            coupon_code: form.required("coupon_code")?.to_owned(),
            quantity: form.whole_number("quantity")?,
            use_expire,
            expire_in,
            reason: form.optional("reason").map(str::to_owned),
        };
        required("app_id", &app_id, MAX_ID_CHARS)?;
        token.validate()?;
        Ok((app_id, token))
    }
}

/// `payload` of a successful `mcoupon/token` answer: the claim link to show as a QR code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPayload {
    /// The claim link, e.g. `https://qr.4pyun.com/discount?token=5853B2C7…`.
    #[serde(deserialize_with = "string_any")]
    pub url: String,
    /// The token's lifetime in seconds; a number in P云's example, a string in its table.
    #[serde(default, deserialize_with = "opt_u32_any")]
    pub expire_in: Option<u32>,
}

impl TokenPayload {
    /// The payload of a successful answer; `None` for any other answer or a success without a
    /// usable `url` (then there is nothing to show, though a token may exist at P云).
    pub fn from_outcome(outcome: &Outcome) -> Option<TokenPayload> {
        if outcome.class() != OutcomeClass::Success {
            return None;
        }
        let payload = outcome.response()?.payload.clone()?;
        serde_json::from_value::<TokenPayload>(payload)
            .ok()
            .filter(|p| !p.url.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyun::resend::{NextStep, NoAnswer};
    use crate::pyun::{decode_response, sign::verify_form, urlencoded};

    /// The verified vector of pyun-carpark.md §5 expressed as a token request.
    fn vector_token() -> CouponToken {
        CouponToken {
            store_code: "92908284598".into(),
            coupon_code: "7cb7cc3e4e27b8a".into(),
            quantity: 1,
            use_expire: Some(true),
            expire_in: Some(600),
            reason: None,
        }
    }

    #[test]
    fn published_vector_signs_through_the_token_type() {
        let form = vector_token()
            .to_signed_form("op2728846bdb3780e", "ags3j97jdnbcizb5z8ubc1xijc011zcj")
            .unwrap();
        assert_eq!(form.sign(), "0BB9C86B96957D60B4A266FC9CEF1965");
        let names: Vec<&str> = form.fields().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "app_id",
                "coupon_code",
                "expire_in",
                "quantity",
                "store_code",
                "use_expire",
                "sign"
            ]
        );
    }

    #[test]
    fn a_sent_token_request_reads_back_identically() {
        let mut t = vector_token();
        t.quantity = 2;
        t.use_expire = Some(false);
        t.reason = Some("商场消费".into());
        let form = t.to_signed_form("op1", "s").unwrap();
        assert_eq!(form.get("use_expire"), Some("0"));
        let received = urlencoded::decode(form.to_urlencoded().as_bytes()).unwrap();
        assert_eq!(verify_form(&received, "s"), Ok(()));
        assert_eq!(
            CouponToken::from_form(&received).unwrap(),
            ("op1".into(), t)
        );
    }

    #[test]
    fn lifetimes_are_raised_to_five_minutes_and_capped_at_a_day() {
        let mut t = vector_token();
        t.expire_in = None;
        t.use_expire = None;
        let form = t.to_signed_form("op1", "s").unwrap();
        assert_eq!(
            (form.get("expire_in"), form.get("use_expire")),
            (None, None)
        );
        assert_eq!((t.lifetime_secs(), t.single_use()), (300, false));
        t.expire_in = Some(0);
        assert_eq!(
            t.to_signed_form("op1", "s").unwrap().get("expire_in"),
            Some("300")
        );
        t.expire_in = Some(120);
        assert_eq!(t.lifetime_secs(), 300);
        t.expire_in = Some(MAX_EXPIRE_IN_SECS);
        assert_eq!(t.lifetime_secs(), MAX_EXPIRE_IN_SECS);
        t.expire_in = Some(MAX_EXPIRE_IN_SECS + 1);
        assert!(matches!(
            t.validate(),
            Err(RequestError::Invalid {
                field: "expire_in",
                ..
            })
        ));
        // Another client's 120 reaches the sandbox as sent; the lifetime still says 300.
        let fields = [
            ("app_id", "op1"),
            ("store_code", "s"),
            ("coupon_code", "c"),
            ("quantity", "1"),
            ("expire_in", "120"),
        ];
        let (_, read) = CouponToken::from_form(&fields).unwrap();
        assert_eq!((read.expire_in, read.lifetime_secs()), (Some(120), 300));
    }

    #[test]
    fn bad_token_requests_are_refused() {
        let mut t = vector_token();
        t.store_code = " ".into();
        assert_eq!(t.validate(), Err(RequestError::Missing("store_code")));
        let mut t = vector_token();
        t.coupon_code.clear();
        assert_eq!(t.validate(), Err(RequestError::Missing("coupon_code")));
        let mut t = vector_token();
        t.quantity = 0;
        assert!(matches!(
            t.to_signed_form("op1", "s"),
            Err(RequestError::Invalid {
                field: "quantity",
                ..
            })
        ));
        assert_eq!(
            vector_token().to_signed_form("", "s"),
            Err(RequestError::Missing("app_id"))
        );
        let base = [
            ("app_id", "op1"),
            ("store_code", "s"),
            ("coupon_code", "c"),
            ("quantity", "1"),
        ];
        for (name, value) in [
            ("use_expire", "yes"),
            ("expire_in", "ten"),
            ("quantity", "-1"),
        ] {
            let mut fields: Vec<(&str, &str)> =
                base.iter().copied().filter(|(k, _)| *k != name).collect();
            fields.push((name, value));
            assert!(
                matches!(
                    CouponToken::from_form(&fields),
                    Err(RequestError::Invalid { field, .. }) if field == name
                ),
                "{name}={value}"
            );
        }
        assert_eq!(
            CouponToken::from_form(&base[..3]),
            Err(RequestError::Missing("quantity"))
        );
    }

    #[test]
    fn the_claim_link_is_read_from_a_success_only() {
        let ok = decode_response(
            200,
            br#"{"code":"1001","message":"OK","payload":{"url":"https://qr.4pyun.com/discount?token=5853B2C7","expire_in":600}}"#,
        );
        assert_eq!(
            TokenPayload::from_outcome(&ok),
            Some(TokenPayload {
                url: "https://qr.4pyun.com/discount?token=5853B2C7".into(),
                expire_in: Some(600),
            })
        );
        let text = decode_response(
            200,
            br#"{"code":1001,"payload":{"url":"u","expire_in":"300"}}"#,
        );
        assert_eq!(
            TokenPayload::from_outcome(&text).unwrap().expire_in,
            Some(300)
        );
        let missing = decode_response(200, br#"{"code":"1001","payload":{"url":""}}"#);
        assert_eq!(TokenPayload::from_outcome(&missing), None);
        let refused = decode_response(
            500,
            r#"{"code":"500","message":"优惠券:7cb7cc3e4e27b8不存在","payload":{"url":"u"}}"#
                .as_bytes(),
        );
        assert_eq!(TokenPayload::from_outcome(&refused), None);
    }

    #[test]
    fn a_token_call_that_may_have_arrived_is_not_retried() {
        let step = |status: u16, code: &str| {
            let o = decode_response(status, format!(r#"{{"code":"{code}"}}"#).as_bytes());
            CouponToken::IDEMPOTENCY.after_answer(&o)
        };
        assert_eq!(step(200, "1001"), NextStep::Done);
        assert_eq!(step(400, "400"), NextStep::Stop);
        assert_eq!(step(401, "401"), NextStep::Stop);
        assert_eq!(step(403, "403"), NextStep::Stop);
        for (status, code) in [(500, "500"), (500, "1500"), (503, "503")] {
            assert_eq!(step(status, code), NextStep::Unknown, "{code}");
        }
        assert_eq!(
            CouponToken::IDEMPOTENCY.after_no_answer(NoAnswer::MaybeSent),
            NextStep::Unknown
        );
        assert_eq!(
            CouponToken::IDEMPOTENCY.after_no_answer(NoAnswer::NotSent),
            NextStep::Retry
        );
    }
}
