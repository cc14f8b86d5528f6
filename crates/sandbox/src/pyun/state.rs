//! P云's business rules as the sandbox plays them: credentials, known configurations, parked
//! plates, coupon limits, event dedupe and VIP records, QR tokens, and — for car parks registered
//! with it as their cloud — the stays their uploads taught it. Pure and synchronous, called under
//! the lock.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use protocol::plate::Plate;
use protocol::pyun::{
    CouponEvent, CouponGrant, ParkingVip, SignError, VipRechargeBatch, urlencoded, verify_form,
    verify_json,
};
use serde_json::{Value, json};

use super::carparks::{CarPark, CarParks};
use super::coupon_discount::{CouponDiscount, IssuedFacts};
use super::downlink::{DiscountJob, DownlinkCall, Target};
use super::faults::{Fault, Faults, UploadFaults};
use super::records::{Answer, Endpoint, IssuedCoupon, ReceivedRequest};
use super::reply::Reply;
use super::stays::Stays;
use super::tokens::Tokens;
use super::uploads::Upload;

/// Plate limit of a new sandbox.
pub(crate) const DEFAULT_PLATE_LIMIT: u32 = 10;

/// Largest VIP batch a new sandbox accepts: the gateway's default batch size (digest §1.5).
pub(crate) const DEFAULT_MAX_VIP_BATCH: usize = protocol::pyun::DEFAULT_BATCH_SIZE;

/// Everything the sandbox knows and remembers.
#[derive(Debug)]
pub(crate) struct State {
    /// Prefix of seqnos and grant serials, so two sandboxes in one test never share one.
    instance: String,
    /// Where `start()` serves, for a claim link asked for without a `Host` header.
    pub(crate) base_url: String,
    /// `app_id` → secret.
    pub(crate) apps: HashMap<String, String>,
    pub(crate) api_types: HashSet<String>,
    pub(crate) coupon_codes: HashSet<String>,
    /// `park_uuid` → `app_id` whose secret signs its VIP recharges.
    pub(crate) vip_parks: HashMap<String, String>,
    /// Normalised plates currently in the car park.
    pub(crate) parked: HashSet<String>,
    pub(crate) any_plate_parked: bool,
    pub(crate) plate_limit: u32,
    pub(crate) latency: Duration,
    pub(crate) max_vip_batch: usize,
    pub(crate) faults: Faults,
    pub(crate) requests: Vec<ReceivedRequest>,
    pub(crate) coupons: Vec<IssuedCoupon>,
    /// Indexes over `coupons`, kept by `issue`: a benchmark issues tens of thousands of coupons,
    /// and scanning them all on every call made the sandbox slower than the gateway it measures.
    /// `(app_id, event_id)` of every event coupon.
    issued_events: HashSet<(String, String)>,
    /// Normalised plate → coupons issued to it.
    issued_per_plate: HashMap<String, usize>,
    /// `park_uuid` → records in insertion order, unique on `pay_partner`.
    pub(crate) vip: HashMap<String, VipStore>,
    /// Car parks that have the sandbox as their P云 cloud (uploads, downlink calls).
    pub(crate) carparks: CarParks,
    /// Stays learned from those car parks' uploads.
    pub(crate) stays: Stays,
    /// Every entry and leave upload received, in arrival order.
    pub(crate) uploads: Vec<Upload>,
    pub(crate) upload_faults: UploadFaults,
    /// Every call made to a car park's gateway, in the order started.
    pub(crate) downlink_calls: Vec<DownlinkCall>,
    /// `coupon_code` → what a granted coupon is worth at the car park.
    pub(crate) coupon_discounts: HashMap<String, CouponDiscount>,
    /// `api_type` → what an event's coupon is worth at the car park.
    pub(crate) event_discounts: HashMap<String, CouponDiscount>,
    /// `pay_serial`s minted by the driver flow so far.
    pub(crate) pay_serials: u64,
    /// QR tokens minted by `mcoupon/token`, with their claims.
    pub(crate) tokens: Tokens,
}

/// What the handler learns when a call arrives: its identity and any fault to play.
#[derive(Debug)]
pub(crate) struct Arrival {
    /// The call's `seq` in `requests`.
    pub(crate) seq: u64,
    /// The `seqno` of its answer.
    pub(crate) seqno: String,
    /// The fault chosen for it, already counted.
    pub(crate) fault: Option<Fault>,
    /// Global latency to add.
    pub(crate) latency: Duration,
}

/// A coupon of a `coupon_code` to issue to a plate: from a grant or a scanned QR token.
#[derive(Debug)]
pub(crate) struct CodedCoupon<'a> {
    pub(crate) endpoint: Endpoint,
    pub(crate) app_id: &'a str,
    pub(crate) plate: &'a Plate,
    pub(crate) store_code: &'a str,
    pub(crate) coupon_code: &'a str,
    pub(crate) quantity: u32,
    pub(crate) reason: Option<&'a str>,
    /// The scanned token, recorded on the coupon.
    pub(crate) token: Option<&'a str>,
}

/// What issuing a coded coupon did.
pub(crate) struct Issued {
    /// `1001` with the serial, or the refusal (`1002`, `1003`).
    pub(crate) reply: Reply,
    /// The coupon's serial, when one was issued.
    pub(crate) grant_serial: Option<String>,
    /// The `discount.create` to send, for a car in a registered car park.
    pub(crate) job: Option<DiscountJob>,
}

/// One P云 call as the handler passes it to the rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incoming<'a> {
    pub(crate) body: &'a [u8],
    pub(crate) authorization: Option<&'a str>,
    /// The `seqno` of its answer.
    pub(crate) seqno: &'a str,
    /// `http://host:port` the caller reached the sandbox at: the base of a token's claim link.
    pub(crate) base_url: &'a str,
    pub(crate) now: DateTime<Utc>,
}

impl State {
    /// An empty sandbox whose identifiers start with `instance`.
    pub(crate) fn new(instance: String) -> State {
        State {
            instance,
            // Until `start()` says: the sandbox's own default listening address.
            base_url: "http://127.0.0.1:9400".to_owned(),
            apps: HashMap::new(),
            api_types: HashSet::new(),
            coupon_codes: HashSet::new(),
            vip_parks: HashMap::new(),
            parked: HashSet::new(),
            any_plate_parked: false,
            plate_limit: DEFAULT_PLATE_LIMIT,
            latency: Duration::ZERO,
            max_vip_batch: DEFAULT_MAX_VIP_BATCH,
            faults: Faults::default(),
            requests: Vec::new(),
            coupons: Vec::new(),
            issued_events: HashSet::new(),
            issued_per_plate: HashMap::new(),
            vip: HashMap::new(),
            carparks: CarParks::default(),
            stays: Stays::default(),
            uploads: Vec::new(),
            upload_faults: UploadFaults::default(),
            downlink_calls: Vec::new(),
            coupon_discounts: HashMap::new(),
            event_discounts: HashMap::new(),
            pay_serials: 0,
            tokens: Tokens::default(),
        }
    }

    /// Prefix of this sandbox's identifiers (seqnos, grant and pay serials).
    pub(crate) fn instance(&self) -> &str {
        &self.instance
    }

    /// Records a call on arrival (so `requests` is in arrival order even when answers overtake
    /// each other) and picks its fault.
    pub(crate) fn arrive(
        &mut self,
        endpoint: Endpoint,
        body: &[u8],
        authorization: Option<String>,
    ) -> Arrival {
        let seq = self.requests.len() as u64 + 1;
        let fields = match endpoint {
            Endpoint::Event | Endpoint::Grant | Endpoint::Token => {
                urlencoded::decode(body).unwrap_or_default()
            }
            Endpoint::VipRecharge => Vec::new(),
        };
        self.requests.push(ReceivedRequest {
            seq,
            endpoint,
            fields,
            body: String::from_utf8_lossy(body).into_owned(),
            authorization,
            answer: Answer::default(),
        });
        Arrival {
            seq,
            seqno: format!("{}{seq:08}", self.instance),
            fault: self.faults.take(endpoint),
            latency: self.latency,
        }
    }

    /// Stores the answer given to call `seq`.
    pub(crate) fn answered(&mut self, seq: u64, answer: Answer) {
        // `seq` is the 1-based index: requests are only ever appended.
        if let Some(r) = usize::try_from(seq - 1)
            .ok()
            .and_then(|i| self.requests.get_mut(i))
        {
            r.answer = answer;
        }
    }

    /// Whether `plate` (any spelling) counts as in the car park.
    fn is_parked(&self, plate: &Plate) -> bool {
        self.any_plate_parked || self.parked.contains(plate.as_str())
    }

    /// Plays one call by P云's rules, changing state on success; a coupon for a car in a
    /// registered car park comes with the `discount.create` to send it.
    pub(crate) fn apply(
        &mut self,
        endpoint: Endpoint,
        call: &Incoming<'_>,
    ) -> (Reply, Option<DiscountJob>) {
        match endpoint {
            Endpoint::Event => self.event(call.body, call.seqno),
            Endpoint::Grant => self.grant(call.body, call.seqno),
            Endpoint::VipRecharge => (self.vip_recharge(call.body, call.authorization), None),
            // A token issues nothing yet: its coupons come with each scan.
            Endpoint::Token => (self.mint_token(call), None),
        }
    }

    /// Decodes a form and checks its signature, in the order P云 refuses: unreadable, missing
    /// `app_id`/`sign` (400), then unknown app or wrong signature (401).
    pub(crate) fn verified_form(&self, body: &[u8]) -> Result<Vec<(String, String)>, Reply> {
        let fields = urlencoded::decode(body)
            .map_err(|e| Reply::invalid(format!("body is not a form: {e}")))?;
        let value = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let app_id = value("app_id").ok_or_else(|| Reply::required("app_id"))?;
        value("sign").ok_or_else(|| Reply::required("sign"))?;
        let secret = self
            .apps
            .get(app_id)
            .ok_or_else(|| Reply::unauthorized(format!("unknown app_id `{app_id}`")))?;
        match verify_form(&fields, secret) {
            Ok(()) => Ok(fields),
            Err(SignError::DuplicateField(f)) => {
                Err(Reply::invalid(format!("`{f}` appears more than once")))
            }
            Err(e) => Err(Reply::unauthorized(e.to_string())),
        }
    }

    /// Where a coupon for `plate` goes when `park` is a registered car park: its target and the
    /// plate's open stay there, or `1002` when its uploads never opened one. `Ok(None)`: not a
    /// car park, the third-party rules alone apply.
    fn carpark_stay(
        &self,
        park: Option<&CarPark>,
        plate: &Plate,
    ) -> Result<Option<(Target, String)>, Reply> {
        let Some(park) = park else {
            return Ok(None);
        };
        match self.stays.open_for(&park.reg.park_uuid, plate.as_str()) {
            Some(stay) => Ok(Some((Target::of(park), stay.parking_serial.clone()))),
            None => Err(Reply::ok("1002", "车辆未入场")),
        }
    }

    /// `1002` unless parked, `1003` at the limit; `None` when a coupon may be issued.
    /// `in_carpark`: a registered car park's stays already said the car is in.
    fn refuse_plate(&self, plate: &Plate, in_carpark: bool) -> Option<Reply> {
        if !in_carpark && !self.is_parked(plate) {
            return Some(Reply::ok("1002", "车辆未入场"));
        }
        let issued = self
            .issued_per_plate
            .get(plate.as_str())
            .copied()
            .unwrap_or(0);
        if issued >= self.plate_limit as usize {
            return Some(
                Reply::ok("1003", "优惠限制")
                    .with_hint(format!("{issued} coupons already issued to this plate")),
            );
        }
        None
    }

    /// Records a coupon and answers `1001` with its serial (also returned).
    fn issue(&mut self, mut coupon: IssuedCoupon, seqno: &str) -> (Reply, String) {
        let serial = format!("{}G{:06}", self.instance, self.coupons.len() + 1);
        coupon.grant_serial.clone_from(&serial);
        coupon.seqno = seqno.to_owned();
        if let (Endpoint::Event, Some(event_id)) = (coupon.endpoint, &coupon.event_id) {
            self.issued_events
                .insert((coupon.app_id.clone(), event_id.clone()));
        }
        *self
            .issued_per_plate
            .entry(coupon.plate.clone())
            .or_default() += 1;
        self.coupons.push(coupon);
        let mut reply = Reply::ok("1001", "派发成功");
        reply.payload = Some(json!({ "grant_serial": serial }));
        (reply, serial)
    }

    fn event(&mut self, body: &[u8], seqno: &str) -> (Reply, Option<DiscountJob>) {
        let fields = match self.verified_form(body) {
            Ok(f) => f,
            Err(r) => return (r, None),
        };
        let (app_id, event) = match CouponEvent::from_form(&fields) {
            Ok(v) => v,
            Err(e) => return (Reply::invalid(e.to_string()), None),
        };
        if !self.api_types.contains(&event.api_type) {
            let reply = Reply::ok("1401", "第三方优惠配置不存在")
                .with_hint(format!("unknown api_type `{}`", event.api_type));
            return (reply, None);
        }
        // Only a coupon counts: an event_id refused with 1002/1003 may succeed on a later try.
        let repeated = self
            .issued_events
            .contains(&(app_id.clone(), event.event_id.clone()));
        if repeated {
            return (Reply::ok("1403", "重复派发"), None);
        }
        let park = self.carparks.by_store_code(&event.api_store_code);
        let destination = match self.carpark_stay(park, &event.plate) {
            Ok(d) => d,
            Err(r) => return (r, None),
        };
        if let Some(refusal) = self.refuse_plate(&event.plate, destination.is_some()) {
            return (refusal, None);
        }
        let discount = self
            .event_discounts
            .get(&event.api_type)
            .cloned()
            .unwrap_or_default();
        let coupon = IssuedCoupon {
            endpoint: Endpoint::Event,
            app_id: app_id.clone(),
            plate: event.plate.as_str().to_owned(),
            event_id: Some(event.event_id.clone()),
            api_type: Some(event.api_type.clone()),
            coupon_code: None,
            token: None,
            quantity: 1,
            grant_serial: String::new(),
            seqno: String::new(),
        };
        let (reply, grant_serial) = self.issue(coupon, seqno);
        let job = destination.map(|(target, parking_serial)| DiscountJob {
            target,
            fields: discount.create_fields(&IssuedFacts {
                parking_serial: &parking_serial,
                plate: event.plate.as_str(),
                grant_serial: &grant_serial,
                // An event has no shop: the issuing third party stands in for it.
                store_code: &app_id,
                coupon_code: &event.api_type,
                reason: Some(&event.subject),
            }),
        });
        (reply, job)
    }

    fn grant(&mut self, body: &[u8], seqno: &str) -> (Reply, Option<DiscountJob>) {
        let fields = match self.verified_form(body) {
            Ok(f) => f,
            Err(r) => return (r, None),
        };
        let (app_id, grant) = match CouponGrant::from_form(&fields) {
            Ok(v) => v,
            Err(e) => return (Reply::invalid(e.to_string()), None),
        };
        if !self.coupon_codes.contains(&grant.coupon_code) {
            let reply = Reply::ok("1401", "第三方优惠配置不存在")
                .with_hint(format!("unknown coupon_code `{}`", grant.coupon_code));
            return (reply, None);
        }
        let park = self
            .carparks
            .by_merchant(&grant.merchant)
            .map(|p| p.reg.park_uuid.clone());
        // No dedupe on purpose: P云 has no idempotency key for grants, so a resend issues again.
        let issued = self.issue_coded(
            &CodedCoupon {
                endpoint: Endpoint::Grant,
                app_id: &app_id,
                plate: &grant.plate,
                store_code: &grant.store_code,
                coupon_code: &grant.coupon_code,
                quantity: grant.quantity,
                reason: grant.reason.as_deref(),
                token: None,
            },
            park.as_deref(),
            seqno,
        );
        (issued.reply, issued.job)
    }

    /// Issues a coupon of a `coupon_code` to a plate — a grant, or a scanned QR token — by the
    /// same rules: the car park `park_uuid` (when registered) must have the car in, else the
    /// plate must be parked; the plate limit; one record; and, in a registered car park, one
    /// `discount.create` per `grant_serial` whatever the quantity (the dispatch counts once, see
    /// `set_plate_limit`, and the serial is what links the two records).
    pub(crate) fn issue_coded(
        &mut self,
        c: &CodedCoupon<'_>,
        park_uuid: Option<&str>,
        seqno: &str,
    ) -> Issued {
        let park = park_uuid.and_then(|p| self.carparks.get(p));
        let refused = |reply| Issued {
            reply,
            grant_serial: None,
            job: None,
        };
        let destination = match self.carpark_stay(park, c.plate) {
            Ok(d) => d,
            Err(r) => return refused(r),
        };
        if let Some(refusal) = self.refuse_plate(c.plate, destination.is_some()) {
            return refused(refusal);
        }
        let discount = self
            .coupon_discounts
            .get(c.coupon_code)
            .cloned()
            .unwrap_or_default();
        let coupon = IssuedCoupon {
            endpoint: c.endpoint,
            app_id: c.app_id.to_owned(),
            plate: c.plate.as_str().to_owned(),
            event_id: None,
            api_type: None,
            coupon_code: Some(c.coupon_code.to_owned()),
            token: c.token.map(str::to_owned),
            quantity: c.quantity,
            grant_serial: String::new(),
            seqno: String::new(),
        };
        let (reply, grant_serial) = self.issue(coupon, seqno);
        let job = destination.map(|(target, parking_serial)| DiscountJob {
            target,
            fields: discount.create_fields(&IssuedFacts {
                parking_serial: &parking_serial,
                plate: c.plate.as_str(),
                grant_serial: &grant_serial,
                store_code: c.store_code,
                coupon_code: c.coupon_code,
                reason: c.reason,
            }),
        });
        Issued {
            reply,
            grant_serial: Some(grant_serial),
            job,
        }
    }

    fn vip_recharge(&mut self, body: &[u8], authorization: Option<&str>) -> Reply {
        // The secret depends on `park_uuid`, so the body is read loosely before it is verified.
        let value: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return Reply::invalid(format!("body is not JSON: {e}")),
        };
        let Some(park_uuid) = value
            .get("park_uuid")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Reply::required("park_uuid");
        };
        let Some(secret) = self
            .vip_parks
            .get(park_uuid)
            .and_then(|app_id| self.apps.get(app_id))
        else {
            return Reply::unauthorized(format!("unknown park_uuid `{park_uuid}`"));
        };
        if let Err(e) = verify_json(body, secret, authorization.unwrap_or_default()) {
            return Reply::unauthorized(e.to_string());
        }
        let rows = value
            .get("row")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if rows > self.max_vip_batch {
            return Reply::invalid(format!("`row` size exceeds {}", self.max_vip_batch));
        }
        let batch = match VipRechargeBatch::from_json(body) {
            Ok(b) => b,
            Err(e) => return Reply::invalid(e.to_string()),
        };
        let records = self.vip.entry(batch.park_uuid).or_default();
        if batch.complete {
            *records = VipStore::default();
        }
        for row in batch.rows {
            records.put(row);
        }
        Reply::ok("1001", "同步成功")
    }
}

/// One car park's VIP records at P云, in arrival order, found by `pay_partner` in O(1) (a
/// benchmark uploads 100,000 of them).
#[derive(Debug, Default)]
pub(crate) struct VipStore {
    rows: Vec<ParkingVip>,
    by_partner: HashMap<String, usize>,
}

impl VipStore {
    /// Adds `row`; P云 keys a recharge on (park_uuid, pay_partner), so a resent row replaces
    /// the stored one and never adds a second.
    fn put(&mut self, row: ParkingVip) {
        match self.by_partner.get(&row.pay_partner) {
            Some(&i) => self.rows[i] = row,
            None => {
                self.by_partner
                    .insert(row.pay_partner.clone(), self.rows.len());
                self.rows.push(row);
            }
        }
    }

    /// The records, in arrival order.
    pub(crate) fn rows(&self) -> &[ParkingVip] {
        &self.rows
    }
}
