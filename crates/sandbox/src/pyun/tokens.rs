//! QR-code coupons (`mcoupon/token`, pyun-carpark.md §5): the tokens P云 mints for a shop, and a
//! customer scanning one with their plate, which issues the coupon exactly as a grant would and,
//! for a car in a registered car park, sends `discount.create` (the loop of §5, D15).
//!
//! A token names a shop (`store_code`) but no car park (`merchant`): the car park is the
//! registered one whose shop list holds that store ([`PyunSandbox::add_carpark_store`]).
//!
//! Times are parameters of the rules (`now`), as in the Mallcoo sandbox's state; the handlers and
//! the in-process API read the wall clock, and a test ends a token's life with
//! [`PyunSandbox::expire_token`] instead of waiting five minutes.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use protocol::plate::Plate;
use protocol::pyun::CouponToken;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::PyunSandbox;
use super::downlink::{DiscountJob, DownlinkCall, deliver_discount};
use super::records::Endpoint;
use super::reply::Reply;
use super::state::{CodedCoupon, Incoming, State};

/// Path of a claim link under the sandbox's base URL (P云's is `https://qr.4pyun.com/discount`).
pub const CLAIM_PATH: &str = "/qr/discount";

/// A QR token the sandbox minted, with its claims: `GET /_sandbox/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrToken {
    /// The token, unique and prefixed by the sandbox instance like its serials.
    pub token: String,
    /// The claim link answered in `payload.url`.
    pub url: String,
    /// The app (credential) that asked.
    pub app_id: String,
    /// The shop that asked.
    pub store_code: String,
    /// The coupon product each claim issues.
    pub coupon_code: String,
    /// Coupons per claim.
    pub quantity: u32,
    /// `use_expire = 1`: dead after its first claim.
    pub single_use: bool,
    /// The request's `reason`, passed on to `discount.create`.
    pub reason: Option<String>,
    /// When it was minted.
    pub minted_at: DateTime<Utc>,
    /// When it stops being claimable.
    pub expires_at: DateTime<Utc>,
    /// The `seqno` of the answer that minted it.
    pub seqno: String,
    /// Successful claims, in order.
    pub claims: Vec<TokenClaim>,
}

/// One scan that issued a coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaim {
    /// The normalised plate.
    pub plate: String,
    /// The serial of the coupon issued.
    pub grant_serial: String,
    /// When it was scanned.
    pub at: DateTime<Utc>,
}

/// The customer scans the QR with a plate: `POST /_sandbox/tokens/scan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenScan {
    /// The token from the claim link.
    pub token: String,
    /// The plate the customer binds the coupon to (any spelling `Plate::parse` accepts).
    pub plate: String,
}

/// What a scan of a claimable token did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanOutcome {
    /// The token scanned.
    pub token: String,
    /// The normalised plate.
    pub plate: String,
    /// P云's code for the coupon: `1001` issued, `1002` car not in, `1003` plate limit.
    pub code: String,
    /// P云's message for it.
    pub message: String,
    /// The detail of a refusal.
    pub hint: Option<String>,
    /// The coupon's serial, when issued.
    pub grant_serial: Option<String>,
    /// The `discount.create` sent to the car park, for a car in a registered one.
    pub discount_create: Option<DownlinkCall>,
}

/// Why a scan issued nothing and left the token as it was (the HTTP control answers 4xx).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// No token of that name was minted.
    #[error("unknown token `{0}`")]
    UnknownToken(String),
    /// Its lifetime is over.
    #[error("token `{0}` has expired")]
    Expired(String),
    /// It is single-use and someone claimed it.
    #[error("token `{0}` is single-use and was already claimed")]
    AlreadyClaimed(String),
    /// The plate is not a plate.
    #[error("`{plate}` is not a plate: {reason}")]
    BadPlate {
        /// As given.
        plate: String,
        /// Why not.
        reason: String,
    },
}

/// Minted tokens in order, found by name.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    list: Vec<QrToken>,
    by_name: HashMap<String, usize>,
}

impl Tokens {
    fn get_mut(&mut self, token: &str) -> Option<&mut QrToken> {
        let i = *self.by_name.get(token)?;
        self.list.get_mut(i)
    }

    fn push(&mut self, token: QrToken) {
        self.by_name.insert(token.token.clone(), self.list.len());
        self.list.push(token);
    }
}

impl State {
    /// `mcoupon/token`: the same credential checks as the other form calls, then a new token
    /// every time (P云 has no idempotency key for it).
    pub(crate) fn mint_token(&mut self, call: &Incoming<'_>) -> Reply {
        let fields = match self.verified_form(call.body) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let (app_id, req) = match CouponToken::from_form(&fields) {
            Ok(v) => v,
            Err(e) => return Reply::invalid(e.to_string()),
        };
        if !self.coupon_codes.contains(&req.coupon_code) {
            // P云's own answer for it (DOC's error example), not a grant's 1401.
            return Reply {
                status: 500,
                code: "500".into(),
                message: format!("优惠券:{}不存在", req.coupon_code),
                hint: None,
                payload: None,
            };
        }
        let token = format!("{}T{:06}", self.instance(), self.tokens.list.len() + 1);
        let url = format!("{}{CLAIM_PATH}?token={token}", call.base_url);
        let lifetime = req.lifetime_secs();
        self.tokens.push(QrToken {
            token,
            url: url.clone(),
            app_id,
            store_code: req.store_code.clone(),
            coupon_code: req.coupon_code.clone(),
            quantity: req.quantity,
            single_use: req.single_use(),
            reason: req.reason.clone(),
            minted_at: call.now,
            expires_at: call.now + TimeDelta::seconds(i64::from(lifetime)),
            seqno: call.seqno.to_owned(),
            claims: Vec::new(),
        });
        let mut reply = Reply::ok("1001", "操作成功");
        reply.payload = Some(json!({ "url": url, "expire_in": lifetime }));
        reply
    }

    /// A scan at `now`: refused while the token cannot be claimed, otherwise a coupon issued as
    /// for a grant (or refused `1002`/`1003` as a grant would be, the token left unclaimed).
    fn scan(
        &mut self,
        token: &str,
        plate: &str,
        now: DateTime<Utc>,
    ) -> Result<(ScanOutcome, Option<DiscountJob>), ScanError> {
        let plate = Plate::parse(plate).map_err(|e| ScanError::BadPlate {
            plate: plate.to_owned(),
            reason: e.to_string(),
        })?;
        let t = self
            .tokens
            .get_mut(token)
            .ok_or_else(|| ScanError::UnknownToken(token.to_owned()))?;
        if now >= t.expires_at {
            return Err(ScanError::Expired(token.to_owned()));
        }
        if t.single_use && !t.claims.is_empty() {
            return Err(ScanError::AlreadyClaimed(token.to_owned()));
        }
        let t = t.clone();
        let park = self
            .carparks
            .by_shop(&t.store_code)
            .map(|p| p.reg.park_uuid.clone());
        let issued = self.issue_coded(
            &CodedCoupon {
                endpoint: Endpoint::Token,
                app_id: &t.app_id,
                plate: &plate,
                store_code: &t.store_code,
                coupon_code: &t.coupon_code,
                quantity: t.quantity,
                reason: t.reason.as_deref(),
                token: Some(&t.token),
            },
            park.as_deref(),
            &t.seqno,
        );
        if let (Some(grant_serial), Some(claimed)) =
            (&issued.grant_serial, self.tokens.get_mut(token))
        {
            claimed.claims.push(TokenClaim {
                plate: plate.as_str().to_owned(),
                grant_serial: grant_serial.clone(),
                at: now,
            });
        }
        let outcome = ScanOutcome {
            token: t.token,
            plate: plate.into_string(),
            code: issued.reply.code,
            message: issued.reply.message,
            hint: issued.reply.hint,
            grant_serial: issued.grant_serial,
            discount_create: None,
        };
        Ok((outcome, issued.job))
    }
}

impl PyunSandbox {
    /// Every QR token minted, in order, with its claims.
    pub fn tokens(&self) -> Vec<QrToken> {
        self.with(|s| s.tokens.list.clone())
    }

    /// The customer scans `token`'s QR with `plate`; for a car in a registered car park, answers
    /// once the car park has answered the `discount.create`.
    pub async fn scan_token(&self, token: &str, plate: &str) -> Result<ScanOutcome, ScanError> {
        let (mut outcome, job) = self.with(|s| s.scan(token, plate, Utc::now()))?;
        if let Some(job) = job {
            outcome.discount_create = Some(deliver_discount(self.clone(), job).await);
        }
        Ok(outcome)
    }

    /// Ends `token`'s life now (a test need not wait for it); `false` if it is unknown.
    pub fn expire_token(&self, token: &str) -> bool {
        let now = Utc::now();
        self.with(|s| {
            s.tokens
                .get_mut(token)
                .map(|t| t.expires_at = t.expires_at.min(now))
                .is_some()
        })
    }
}
