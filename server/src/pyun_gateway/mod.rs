//! ParkBridge as the car park towards P云 (pyun-carpark.md, PROTOCOLS.md §6): the downlink
//! gateway P云 calls at `POST /pyun/v1/gateway`.
//!
//! [`answer`] runs §1.5 in order — parse, look up the car park's key by `park_uuid`, verify,
//! dispatch — and always produces a flat JSON reply, signed whenever the key is known. `park`
//! finds the car park and key, `billing`, `payment`, `discounts` and `realtime` are the services,
//! `orders` keeps P云's fee orders (D9), `call_log` logs, counts and keeps every call.

pub mod billing;
pub mod call_log;
pub mod discounts;
pub mod orders;
pub mod park;
pub mod payment;
pub mod realtime;

use std::time::Instant;

use chrono::{DateTime, Utc};
use protocol::ledger::LedgerError;
use protocol::pyun_carpark::{DownlinkRequest, GatewayError, Inbound, Reply, ResultCode, Service};

pub use park::{GatewayPark, ParkCache, ParkLookupError};

use crate::discounts::DiscountsError;
use crate::secrets::SecretBox;
use crate::storage::Db;

/// Why a service could not answer; P云 gets `1500` and retries.
#[derive(Debug, thiserror::Error)]
pub enum GatewayFailure {
    /// The database failed.
    #[error("storage failure: {0}")]
    Storage(#[from] sqlx::Error),
    /// The stay cannot be priced (a tariff that does not validate).
    #[error("pricing failed: {0}")]
    Ledger(#[from] LedgerError),
    /// A discount operation failed.
    #[error(transparent)]
    Discounts(#[from] DiscountsError),
    /// A row read a moment ago is gone (deleted car park or stay).
    #[error("the record vanished meanwhile")]
    Vanished,
    /// A field P云 sent cannot be used.
    #[error("{0}")]
    Refused(&'static str),
}

/// The reply to one call, and what the call log keeps of it.
#[derive(Debug)]
pub struct Answered {
    /// The JSON body, HTTP 200.
    pub body: String,
}

/// Answers the raw `body` of one call received at `now` (§1.5), logging and keeping it.
pub async fn answer(
    db: &Db,
    secrets: &SecretBox,
    parks: &ParkCache,
    calls: &call_log::CallLog,
    body: &[u8],
    now: DateTime<Utc>,
) -> Answered {
    let started = Instant::now();
    let ((reply, text), park_id, service, park_uuid) = respond(db, secrets, parks, body, now).await;
    let code = reply.code().as_str();
    let message = reply.message();
    calls.record(&call_log::Call {
        park_id,
        park_uuid: park_uuid.as_deref(),
        service: service.as_deref(),
        result_code: code,
        message,
        latency: started.elapsed(),
        request: body,
        reply: &text,
        at: now,
    });
    Answered { body: text }
}

/// The reply and its text, the car park, `service` and `park_uuid` as sent.
type Responded = ((Reply, String), Option<i64>, Option<String>, Option<String>);

async fn respond(
    db: &Db,
    secrets: &SecretBox,
    parks: &ParkCache,
    body: &[u8],
    now: DateTime<Utc>,
) -> Responded {
    let inbound = match Inbound::parse(body) {
        Ok(i) => i,
        Err(rejected) => return ((rejected.reply, rejected.body), None, None, None),
    };
    let service = inbound.service().map(str::to_owned);
    let park_uuid = inbound.park_uuid().map(str::to_owned);
    let park = match &park_uuid {
        Some(uuid) => match parks.get(db, secrets, uuid).await {
            Ok(p) => p,
            Err(e) => {
                // No key to sign with: an unsigned 1500, which P云 retries.
                tracing::error!(park_uuid = %uuid, error = %e, "P云 gateway: car park lookup failed");
                let reply = Reply::new(
                    service.as_deref().unwrap_or_default(),
                    ResultCode::InternalError,
                    protocol::pyun_carpark::codes::message::INTERNAL_ERROR,
                );
                let text = reply.to_json(None);
                return ((reply, text), None, service, park_uuid);
            }
        },
        None => None,
    };
    let park_id = park.as_ref().map(|p| p.id);
    let key = park.as_ref().map(|p| p.key.expose());
    let accepted = match inbound.open(key) {
        Ok(a) => a,
        Err(rejected) => {
            if let GatewayError::Signature(e) = &rejected.error {
                // The plaintext has no key in it; the received sign tells a stale key from a probe.
                tracing::warn!(park = ?park_id, park_uuid = ?park_uuid, error = %e,
                    "P云 gateway: signature refused");
            }
            return ((rejected.reply, rejected.body), park_id, service, park_uuid);
        }
    };
    let park = park.expect("a call whose signature verified had a key, hence a car park");
    let envelope = &accepted.envelope;
    if !envelope.is_standard() {
        tracing::info!(version = ?envelope.version, charset = ?envelope.charset,
            "P云 gateway: unusual version or charset");
    }
    let svc = envelope.service;
    let outcome: Result<Reply, GatewayFailure> = match &accepted.request {
        DownlinkRequest::Billing(r) => billing::bill(db, &park, r, now).await.map(|x| x.reply()),
        DownlinkRequest::PaymentResult(n) => {
            payment::notice(db, &park, n, now).await.map(|x| x.reply())
        }
        DownlinkRequest::DiscountCreate(g) => discounts::create(db, &park, g, now)
            .await
            .map(|x| x.reply()),
        DownlinkRequest::DiscountDestroy(r) => discounts::destroy(db, &park, r, now)
            .await
            .map(|x| x.reply()),
        DownlinkRequest::Realtime => realtime::realtime(db, &park).await.map(|x| x.reply()),
    };
    let reply = outcome.unwrap_or_else(|e| failed(svc, park.id, &e));
    let text = reply.to_json(Some(park.key.expose()));
    ((reply, text), Some(park.id), service, park_uuid)
}

/// `1400` for a field we cannot use, else `1500` (P云 retries).
fn failed(svc: Service, park: i64, e: &GatewayFailure) -> Reply {
    match e {
        GatewayFailure::Refused(why) => Reply::of(
            svc,
            ResultCode::BadRequest,
            protocol::pyun_carpark::codes::message::BAD_REQUEST,
        )
        .with_hint(*why),
        _ => {
            tracing::error!(park, service = svc.name(), error = %e, "P云 gateway: service failed");
            Reply::internal_error(svc, "处理失败，请稍后重试")
        }
    }
}
