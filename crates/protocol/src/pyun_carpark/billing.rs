//! `service.parking.payment.billing` (pyun-carpark.md §3.1): which car P云 asks about, and the fee order we answer with.

use chrono::{DateTime, Utc};

use super::codes::{ResultCode, Service, message};
use super::members::Members;
use super::reply::Reply;
use crate::ledger::Figure;
use crate::plate::{Plate, PlateColor};
use crate::pyun::RequestError;
use crate::pyun::fields::{MAX_ID_CHARS, MAX_TEXT_CHARS};

/// Limit for P云's identifiers in a downlink call; ours, generous, since refusing P云's own
/// serial over a length would strand a payment.
pub const MAX_DOWN_ID_CHARS: usize = 128;

/// Prefix of P云's virtual plates for cars without plates (DOC `billing-1.png`).
const VIRTUAL_PLATE_PREFIX: char = '无';

/// Which car a billing call is about; `plate`, `card_id` and `passport` are mutually exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillingTarget {
    /// A plate we can read: look up its open stay.
    Plate(Plate),
    /// A plate that is not a plate (`粤B66`): no stay of ours can have it, so `1002`.
    UnknownPlate(String),
    /// P云's virtual plate (`无A123456`) or `passport`: the no-plate flow, which we do not run (`1002`).
    Passport(String),
    /// A parking card's physical ID; we issue no cards (`1002`).
    Card(String),
    /// Only `gate_id`: a lane QR code, and we have no lane cameras (`1002`).
    Lane,
}

/// A billing request's business fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingRequest {
    /// The car asked about.
    pub target: BillingTarget,
    /// The lane scanned, if any: exit payment, or paid entry on an entry lane.
    pub gate_id: Option<String>,
    /// A tariff chosen in P云's front end, passed through.
    pub charge_type: Option<String>,
}

impl BillingRequest {
    /// Reads the business fields of a verified request.
    pub fn from_members(m: &Members) -> Result<BillingRequest, RequestError> {
        let plate = m.optional("plate", MAX_ID_CHARS)?.map(str::trim);
        let card = m.optional("card_id", MAX_DOWN_ID_CHARS)?;
        let passport = m.optional("passport", MAX_DOWN_ID_CHARS)?;
        let gate_id = m.optional("gate_id", MAX_DOWN_ID_CHARS)?.map(str::to_owned);
        let charge_type = m
            .optional("charge_type", MAX_DOWN_ID_CHARS)?
            .map(str::to_owned);
        let given = [plate, card, passport].iter().flatten().count();
        if given > 1 {
            return Err(RequestError::Invalid {
                field: "plate",
                reason: "plate, card_id and passport are mutually exclusive".to_owned(),
            });
        }
        let target = match (plate, card, passport) {
            (Some(p), ..) if p.starts_with(VIRTUAL_PLATE_PREFIX) => {
                BillingTarget::Passport(p.to_owned())
            }
            (Some(p), ..) => match Plate::parse(p) {
                Ok(plate) => BillingTarget::Plate(plate),
                Err(_) => BillingTarget::UnknownPlate(p.to_owned()),
            },
            (_, Some(c), _) => BillingTarget::Card(c.to_owned()),
            (.., Some(p)) => BillingTarget::Passport(p.to_owned()),
            _ if gate_id.is_some() => BillingTarget::Lane,
            // P云's reference gateway answers a call naming no car `1400`.
            _ => return Err(RequestError::Missing("plate")),
        };
        Ok(BillingRequest {
            target,
            gate_id,
            charge_type,
        })
    }

    /// The plate to look up, when the call names one we can read.
    pub fn plate(&self) -> Option<&Plate> {
        match &self.target {
            BillingTarget::Plate(p) => Some(p),
            _ => None,
        }
    }
}

/// The fee order of a stay, as `1001` carries it. Amounts are fen, durations seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingOrder {
    /// The plate recognised.
    pub plate: Option<Plate>,
    /// The virtual card or plate returned for a car without plates.
    pub card_id: Option<String>,
    /// The stay's ID; equal to the uploads' `parking_serial` (§4).
    pub parking_serial: String,
    /// This order's number, unique in the park; only the newest of a stay is payable (D9).
    pub parking_order: String,
    /// Entry, sent as `yyyyMMddHHmmss` Asia/Shanghai.
    pub enter_time: DateTime<Utc>,
    /// Seconds since entry.
    pub parking_time: i64,
    /// The fee before discounts (the ledger's `charge`).
    pub total_value: i64,
    /// What the discounts are worth now (`discount_worth`).
    pub free_value: i64,
    /// Paid so far in this stay (`paid`).
    pub paid_value: i64,
    /// Due now, never negative (`owed`).
    pub pay_value: i64,
    /// Free period after entry.
    pub enter_free_time: Option<i64>,
    /// Time allowed to leave after paying.
    pub buffer_time: Option<i64>,
    /// Where the car stands, e.g. `B660`.
    pub parking_number: Option<String>,
    /// `1` temporary, `2` not temporary.
    pub car_type: Option<i64>,
    /// The car class in words.
    pub car_desc: Option<String>,
    /// `0` mainland, `1` foreign or HK/Macau, `2` two-wheeler.
    pub plate_type: Option<i64>,
    /// The plate's colour.
    pub plate_color: Option<PlateColor>,
    /// Renewal allowed after expiry: `<0` never, `0` until expiry, `>0` that many days after.
    pub recharge_expire_days: Option<i64>,
    /// When the fee next steps up.
    pub next_time: Option<DateTime<Utc>>,
    /// The total fee after that step; DOC types it as a string, so it is sent as one.
    pub next_value: Option<i64>,
}

impl BillingOrder {
    /// An order priced by the ledger: `total` = charge, `free` = discounts' worth, `paid`, `pay` = owed.
    pub fn from_figure(
        parking_serial: impl Into<String>,
        parking_order: impl Into<String>,
        plate: Option<Plate>,
        enter_time: DateTime<Utc>,
        now: DateTime<Utc>,
        figure: &Figure,
    ) -> BillingOrder {
        BillingOrder {
            plate,
            card_id: None,
            parking_serial: parking_serial.into(),
            parking_order: parking_order.into(),
            enter_time,
            parking_time: (now - enter_time).num_seconds().max(0),
            total_value: figure.charge,
            free_value: figure.discount_worth,
            paid_value: figure.paid,
            pay_value: figure.owed,
            enter_free_time: None,
            buffer_time: None,
            parking_number: None,
            car_type: None,
            car_desc: None,
            plate_type: None,
            plate_color: None,
            recharge_expire_days: None,
            next_time: None,
            next_value: None,
        }
    }

    /// Checks the identifiers and `pay_value = max(0, total − free − paid)`, which P云's docs imply.
    pub fn validate(&self) -> Result<(), RequestError> {
        crate::pyun::fields::required("parking_serial", &self.parking_serial, MAX_ID_CHARS)?;
        crate::pyun::fields::required("parking_order", &self.parking_order, MAX_ID_CHARS)?;
        for (field, v) in [
            ("parking_time", Some(self.parking_time)),
            ("total_value", Some(self.total_value)),
            ("free_value", Some(self.free_value)),
            ("paid_value", Some(self.paid_value)),
            ("pay_value", Some(self.pay_value)),
            ("enter_free_time", self.enter_free_time),
            ("buffer_time", self.buffer_time),
            ("next_value", self.next_value),
        ] {
            if let Some(n) = v.filter(|n| *n < 0) {
                return Err(RequestError::Invalid {
                    field,
                    reason: format!("{n} is negative"),
                });
            }
        }
        let due = self
            .total_value
            .saturating_sub(self.free_value)
            .saturating_sub(self.paid_value)
            .max(0);
        if self.pay_value != due {
            return Err(RequestError::Invalid {
                field: "pay_value",
                reason: format!(
                    "{} is not max(0, total_value − free_value − paid_value) = {due}",
                    self.pay_value
                ),
            });
        }
        Ok(())
    }

    /// The `1001` reply; members in the order of the spec's example (V2).
    pub fn reply(&self) -> Reply {
        let mut r = Reply::of(Service::PaymentBilling, ResultCode::Ok, message::OK);
        r.opt_text("plate", self.plate.as_ref().map(Plate::as_str));
        r.opt_text("card_id", self.card_id.as_deref());
        r.text("parking_serial", self.parking_serial.as_str());
        r.text("parking_order", self.parking_order.as_str());
        r.text(
            "enter_time",
            crate::time::format_pyun_local(self.enter_time),
        );
        r.int("parking_time", self.parking_time);
        r.int("total_value", self.total_value);
        r.int("free_value", self.free_value);
        r.int("paid_value", self.paid_value);
        r.int("pay_value", self.pay_value);
        r.opt_int("enter_free_time", self.enter_free_time);
        r.opt_int("buffer_time", self.buffer_time);
        r.opt_text("parking_number", self.parking_number.as_deref());
        r.opt_int("car_type", self.car_type);
        r.opt_text("car_desc", self.car_desc.as_deref());
        r.opt_int("plate_type", self.plate_type);
        r.opt_int("plate_color", self.plate_color.map(|c| i64::from(c.code())));
        r.opt_int("recharge_expire_days", self.recharge_expire_days);
        if let Some(t) = self.next_time {
            r.text("next_time", crate::time::format_pyun_local(t));
        }
        if let Some(v) = self.next_value {
            r.text("next_value", v.to_string());
        }
        r
    }

    /// Reads an order back from a `1001` reply, numbers as numbers or strings (DOC's example sends strings).
    pub fn from_members(m: &Members) -> Result<BillingOrder, RequestError> {
        let plate = m
            .optional("plate", MAX_ID_CHARS)?
            .map(Plate::parse)
            .transpose()?;
        let plate_color = m
            .optional_int("plate_color")?
            .map(|code| {
                i32::try_from(code)
                    .ok()
                    .and_then(PlateColor::from_code)
                    .ok_or_else(|| RequestError::Invalid {
                        field: "plate_color",
                        reason: format!("{code} is not one of 1, 2, 3, 4, 5, -1"),
                    })
            })
            .transpose()?;
        let text = |f: &'static str, max| -> Result<Option<String>, RequestError> {
            Ok(m.optional(f, max)?.map(str::to_owned))
        };
        Ok(BillingOrder {
            plate,
            card_id: text("card_id", MAX_DOWN_ID_CHARS)?,
            parking_serial: m.required("parking_serial", MAX_DOWN_ID_CHARS)?.to_owned(),
            parking_order: m.required("parking_order", MAX_DOWN_ID_CHARS)?.to_owned(),
            enter_time: m.required_time("enter_time")?,
            parking_time: m.required_non_negative("parking_time")?,
            total_value: m.required_non_negative("total_value")?,
            free_value: m.required_non_negative("free_value")?,
            paid_value: m.required_non_negative("paid_value")?,
            pay_value: m.required_non_negative("pay_value")?,
            enter_free_time: m.optional_non_negative("enter_free_time")?,
            buffer_time: m.optional_non_negative("buffer_time")?,
            parking_number: text("parking_number", MAX_ID_CHARS)?,
            car_type: m.optional_int("car_type")?,
            car_desc: text("car_desc", MAX_TEXT_CHARS)?,
            plate_type: m.optional_int("plate_type")?,
            plate_color,
            recharge_expire_days: m.optional_int("recharge_expire_days")?,
            next_time: m.optional_time("next_time")?,
            next_value: m.optional_non_negative("next_value")?,
        })
    }
}

/// Our answer to a billing call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillingReply {
    /// `1001` with the stay's current order.
    Order(Box<BillingOrder>),
    /// `1002`: no open stay for this car (also every no-plate, card or lane call, §3.1).
    NoRecord,
    /// `1003`: a fixed car within its validity, which may not pay.
    FixedCar,
}

impl BillingReply {
    /// The reply to render and sign.
    pub fn reply(&self) -> Reply {
        match self {
            BillingReply::Order(order) => order.reply(),
            BillingReply::NoRecord => Reply::of(
                Service::PaymentBilling,
                ResultCode::NotFound,
                message::NO_PARKING_RECORD,
            ),
            BillingReply::FixedCar => Reply::of(
                Service::PaymentBilling,
                ResultCode::FixedCar,
                message::FIXED_CAR,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_pyun_local;

    const KEY: &str = "pb-demo-key-2025";

    fn v2_order() -> BillingOrder {
        let enter = parse_pyun_local("20250102093000").unwrap();
        let now = parse_pyun_local("20250102153012").unwrap();
        let figure = Figure {
            billing_time: now,
            parking_minutes: 361,
            charge: 3000,
            discounted: 2000,
            discount_worth: 1000,
            paid: 0,
            owed: 2000,
        };
        let mut order = BillingOrder::from_figure(
            "PS20250102093000001",
            "PO20250102153012000001",
            Some(Plate::parse("粤B660PP").unwrap()),
            enter,
            now,
            &figure,
        );
        order.enter_free_time = Some(900);
        order.buffer_time = Some(900);
        order.car_type = Some(1);
        order.car_desc = Some("临停车".to_owned());
        order
    }

    #[test]
    fn v2_reply_byte_for_byte() {
        let order = v2_order();
        assert_eq!(order.parking_time, 21612);
        assert_eq!(order.validate(), Ok(()));
        assert_eq!(
            order.reply().to_json(Some(KEY)),
            r#"{"service":"service.parking.payment.billing","version":"1.0","charset":"UTF-8","result_code":"1001","message":"成功","plate":"粤B660PP","parking_serial":"PS20250102093000001","parking_order":"PO20250102153012000001","enter_time":"20250102093000","parking_time":21612,"total_value":3000,"free_value":1000,"paid_value":0,"pay_value":2000,"enter_free_time":900,"buffer_time":900,"car_type":1,"car_desc":"临停车","sign":"FC24D7B6611235050B4560927C452D5C"}"#
        );
    }

    #[test]
    fn orders_round_trip_with_every_field() {
        let mut order = v2_order();
        order.card_id = Some("无A123456".into());
        order.parking_number = Some("B660".into());
        order.plate_type = Some(0);
        order.plate_color = Some(PlateColor::Blue);
        order.recharge_expire_days = Some(-1);
        order.next_time = Some(parse_pyun_local("20250102160000").unwrap());
        order.next_value = Some(3300);
        let body = order.reply().to_json(Some(KEY));
        assert!(body.contains(r#""next_value":"3300""#), "{body}");
        let m = Members::parse(body.as_bytes()).unwrap();
        assert!(crate::pyun_carpark::down_sign::verify(&m, KEY).is_ok());
        assert_eq!(BillingOrder::from_members(&m), Ok(order));
    }

    #[test]
    fn official_billing_reply_with_string_numbers_reads() {
        // DOC parking/api/payment-billing.md, response example (sign unverifiable, §2.4).
        let body = r#"{"buffer_time":"1320","charset":"UTF-8","enter_free_time":"1860","enter_time":"20181130100904","free_value":"0","paid_value":"0","parking_order":"2018113010535820181130100904034792608","parking_serial":"20181130100904034792608","parking_time":"2694","pay_value":"500","plate":"粤B660PP","result_code":"1001","service":"service.parking.payment.billing","sign":"73DF19DA361CB673DD3FEFC7A6135BE6","total_value":"500","version":"1.0"}"#;
        let order = BillingOrder::from_members(&Members::parse(body.as_bytes()).unwrap()).unwrap();
        assert_eq!(order.pay_value, 500);
        assert_eq!(order.buffer_time, Some(1320));
        assert_eq!(order.validate(), Ok(()));
        assert_eq!(
            crate::time::format_pyun_iso(order.enter_time),
            "2018-11-30T02:09:04Z"
        );
    }

    #[test]
    fn inconsistent_amounts_are_refused() {
        let mut order = v2_order();
        order.pay_value = 1999;
        assert!(matches!(
            order.validate(),
            Err(RequestError::Invalid {
                field: "pay_value",
                ..
            })
        ));
        order.pay_value = 0;
        order.paid_value = 5000;
        assert_eq!(order.validate(), Ok(()));
        order.free_value = -1;
        assert!(order.validate().is_err());
    }

    fn request(body: &str) -> Result<BillingRequest, RequestError> {
        BillingRequest::from_members(&Members::parse(body.as_bytes()).unwrap())
    }

    #[test]
    fn targets() {
        let r = request(r#"{"plate":" 粤b660pp ","gate_id":""}"#).unwrap();
        assert_eq!(r.plate().map(Plate::as_str), Some("粤B660PP"));
        assert_eq!(r.gate_id, None);
        assert_eq!(
            request(r#"{"plate":"无A123456"}"#).unwrap().target,
            BillingTarget::Passport("无A123456".into())
        );
        assert_eq!(
            request(r#"{"plate":"粤B66"}"#).unwrap().target,
            BillingTarget::UnknownPlate("粤B66".into())
        );
        assert_eq!(
            request(r#"{"card_id":"C1"}"#).unwrap().target,
            BillingTarget::Card("C1".into())
        );
        assert_eq!(
            request(r#"{"passport":"无A1","gate_id":"G1"}"#)
                .unwrap()
                .target,
            BillingTarget::Passport("无A1".into())
        );
        let lane = request(r#"{"gate_id":"G1","charge_type":"T2"}"#).unwrap();
        assert_eq!(lane.target, BillingTarget::Lane);
        assert_eq!(lane.charge_type.as_deref(), Some("T2"));
        assert_eq!(request("{}"), Err(RequestError::Missing("plate")));
        assert!(request(r#"{"plate":"粤B660PP","card_id":"C1"}"#).is_err());
    }

    #[test]
    fn refusals_carry_their_codes() {
        assert_eq!(BillingReply::NoRecord.reply().code(), ResultCode::NotFound);
        assert_eq!(BillingReply::FixedCar.reply().code(), ResultCode::FixedCar);
        assert_eq!(
            BillingReply::Order(Box::new(v2_order())).reply().code(),
            ResultCode::Ok
        );
    }
}
