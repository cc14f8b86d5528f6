//! What an upload row stores: the unsigned fields of `internal/enter` and `internal/leave`
//! (pyun-carpark.md §4.2, §4.3) as of the gate event, and how they become the protocol's
//! [`Entry`] / [`Leave`] when the row is sent.
//!
//! The leave's money is the ledger's figure at exit, the one the exit gate charged: `total_value`
//! = its charge, `free_value` = what the discounts were worth, `online_value` = its payments
//! (Mallcoo and P云). Each payment is one `payment_list` item whose `value` + `free_value` is what
//! the ledger counted for it (Mallcoo's `amount` + `deductionAmount`: the mall pays the benefits,
//! so they settle the fee like money), so the items add up to `online_value`.

use chrono::{DateTime, Utc};
use protocol::ledger::Figure;
use protocol::plate::{Plate, PlateColor};
use protocol::pyun_carpark::{CarType, Entry, Leave, LeavePayType, LeavePayment};
use protocol::time::from_epoch_ms;
use serde::{Deserialize, Serialize};

use crate::parking::SessionView;
use crate::parking::serial::parking_serial;
use crate::parking::spaces::Spaces;
use crate::storage::to_ms;

/// P云's `charge_type`: a car park has exactly one tariff (PROTOCOLS.md §6, D12), so one ID.
pub const CHARGE_TYPE: &str = "1";
/// `car_desc` of a car that pays per stay.
const TEMPORARY_DESC: &str = "临停车";
/// `car_desc` of a car a VIP record let in (P云's class 3, "VIP/free").
const VIP_DESC: &str = "VIP";

/// The entry as uploaded, with P云's field names; times are epoch ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterFields {
    /// The car park at P云.
    pub park_uuid: String,
    /// The stay's serial (`parking::serial`).
    pub parking_serial: String,
    /// The normalised plate; absent for a plate-less car.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
    /// P云's colour code, `-1` when the gate sent none.
    pub plate_color: i64,
    /// Entry, epoch ms: the same on the leave (P云 matches the two on it, DOC note 9).
    pub enter_time: i64,
    /// The entrance's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enter_gate: Option<String>,
    /// `1` temporary, `3` VIP.
    pub car_type: i64,
    /// `临停车` or `VIP`.
    pub car_desc: String,
    /// Always [`CHARGE_TYPE`].
    pub charge_type: String,
    /// The car park's spaces, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_parking_space: Option<i64>,
    /// Free spaces after this event (`total − cars inside`, at least 0), with the total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remain_parking_space: Option<i64>,
}

/// One payment of the stay as a `payment_list` item; amounts are fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFields {
    /// `2`: paid online.
    pub pay_type: i64,
    /// The channel in words (`微信`, `支付宝`, `P云`, `猫酷`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_origin_desc: Option<String>,
    /// When it was paid, epoch ms.
    pub pay_time: i64,
    /// Money received.
    pub value: i64,
    /// The platform's benefits inside this payment (Mallcoo's `deductionAmount`), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_value: Option<i64>,
    /// The payment's `order_no` (a P云 payment's is our billing `parking_order`).
    pub parking_order: String,
}

/// The leave as uploaded: the entry's fields again, then the exit and the money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveFields {
    /// The entry's fields, `enter_time` unchanged.
    #[serde(flatten)]
    pub entry: EnterFields,
    /// Exit, epoch ms.
    pub leave_time: i64,
    /// The exit's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave_gate: Option<String>,
    /// The figure's charge: the fee before any discount.
    pub total_value: i64,
    /// The figure's `discount_worth`.
    pub free_value: i64,
    /// The figure's `paid`: every payment, Mallcoo's and P云's.
    pub online_value: i64,
    /// One item per payment, oldest first.
    #[serde(default)]
    pub payment_list: Vec<PaymentFields>,
}

/// A payment of the stay as stored (`parking_payments`), read in the exit's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPayment {
    /// `order_no`.
    pub order_no: String,
    /// `mallcoo` or `pyun`.
    pub channel: String,
    /// Mallcoo's `PayType` (0 zero-amount, 1 Alipay, 2 UnionPay, 3 WeChat).
    pub pay_type: i64,
    /// P云's `pay_origin` (0 P云, 4 Alipay, 8 WeChat).
    pub pay_origin: Option<i64>,
    /// P云's words for it.
    pub pay_origin_desc: Option<String>,
    /// When it was paid.
    pub pay_time: DateTime<Utc>,
    /// `amount_fen`.
    pub amount: i64,
    /// `deduction_fen`.
    pub deduction: i64,
}

impl StoredPayment {
    /// What the ledger counts for it (`protocol::quote::Payment::amount`).
    pub fn settled(&self) -> i64 {
        self.amount.saturating_add(self.deduction)
    }

    /// Its `payment_list` item.
    pub fn fields(&self) -> PaymentFields {
        PaymentFields {
            pay_type: LeavePayType::Online.code(),
            pay_origin_desc: Some(self.origin_desc()),
            pay_time: to_ms(self.pay_time),
            value: self.amount,
            free_value: (self.deduction > 0).then_some(self.deduction),
            parking_order: self.order_no.clone(),
        }
    }

    /// The channel in words: P云's own when it sent them, else from its codes.
    fn origin_desc(&self) -> String {
        if self.channel == "pyun" {
            if let Some(desc) = self.pay_origin_desc.as_deref().map(str::trim)
                && !desc.is_empty()
            {
                return desc.to_owned();
            }
            return match self.pay_origin {
                Some(4) => "支付宝",
                Some(8) => "微信",
                _ => "P云",
            }
            .to_owned();
        }
        match self.pay_type {
            1 => "猫酷-支付宝",
            2 => "猫酷-银联",
            3 => "猫酷-微信",
            _ => "猫酷",
        }
        .to_owned()
    }
}

/// The entry fields of `session` at car park `park_uuid`: `vip` when a VIP record let the car in,
/// `spaces` the car park's figures right after the event (`None` without a total).
pub fn enter_fields(
    session: &SessionView,
    vip: bool,
    park_uuid: &str,
    spaces: Option<Spaces>,
) -> EnterFields {
    let (car_type, car_desc) = if vip {
        (CarType::Vip, VIP_DESC)
    } else {
        (CarType::Temporary, TEMPORARY_DESC)
    };
    let spaces = spaces.and_then(|s| Some((s.total?, s.free?)));
    EnterFields {
        park_uuid: park_uuid.to_owned(),
        parking_serial: parking_serial(session.id),
        plate: session.plate.clone(),
        plate_color: session
            .plate_color
            .and_then(|c| i32::try_from(c).ok())
            .and_then(PlateColor::from_code)
            .unwrap_or(PlateColor::Unknown)
            .code()
            .into(),
        enter_time: to_ms(session.entry_at),
        enter_gate: session.entry_gate.clone(),
        car_type: car_type.code(),
        car_desc: car_desc.to_owned(),
        charge_type: CHARGE_TYPE.to_owned(),
        total_parking_space: spaces.map(|(total, _)| total),
        remain_parking_space: spaces.map(|(_, free)| free),
    }
}

/// The leave fields of `session`, just closed at `exit` with the ledger's `figure` and its
/// `payments` (oldest first); VIP as the session's own flag says.
pub fn leave_fields(
    session: &SessionView,
    exit: DateTime<Utc>,
    park_uuid: &str,
    spaces: Option<Spaces>,
    figure: &Figure,
    payments: &[StoredPayment],
) -> LeaveFields {
    LeaveFields {
        entry: enter_fields(session, session.vip, park_uuid, spaces),
        leave_time: to_ms(exit),
        leave_gate: session.exit_gate.clone(),
        total_value: figure.charge,
        free_value: figure.discount_worth,
        online_value: figure.paid,
        payment_list: payments.iter().map(StoredPayment::fields).collect(),
    }
}

impl EnterFields {
    /// The protocol's entry; `Err` names a stored field that cannot be sent.
    pub fn to_entry(&self) -> Result<Entry, String> {
        let plate = self
            .plate
            .as_deref()
            .map(Plate::parse)
            .transpose()
            .map_err(|e| format!("stored plate: {e}"))?;
        let plate_color = i32::try_from(self.plate_color)
            .ok()
            .and_then(PlateColor::from_code)
            .ok_or_else(|| format!("stored plate_color {} is not P云's", self.plate_color))?;
        let car_type = match self.car_type {
            0 => CarType::Unknown,
            1 => CarType::Temporary,
            2 => CarType::Monthly,
            3 => CarType::Vip,
            4 => CarType::StoredValue,
            other => return Err(format!("stored car_type {other} is not P云's")),
        };
        Ok(Entry {
            park_uuid: self.park_uuid.clone(),
            parking_serial: self.parking_serial.clone(),
            plate,
            plate_color,
            plate_type: None,
            card_no: None,
            card_id: None,
            enter_time: time("enter_time", self.enter_time)?,
            enter_image: None,
            enter_image_file: None,
            enter_gate: self.enter_gate.clone(),
            enter_security: None,
            car_type,
            car_desc: self.car_desc.clone(),
            car_color: None,
            charge_type: self.charge_type.clone(),
            vehicle_type: None,
            enter_release_reason: None,
            total_parking_space: self.total_parking_space,
            remain_parking_space: self.remain_parking_space,
        })
    }
}

impl LeaveFields {
    /// The protocol's leave; `Err` names a stored field that cannot be sent.
    pub fn to_leave(&self) -> Result<Leave, String> {
        let payment_list = self
            .payment_list
            .iter()
            .map(|p| {
                Ok(LeavePayment {
                    pay_type: match p.pay_type {
                        1 => LeavePayType::Cash,
                        2 => LeavePayType::Online,
                        3 => LeavePayType::Autopay,
                        4 => LeavePayType::StoredValue,
                        8 => LeavePayType::CouponCovered,
                        other => return Err(format!("stored pay_type {other} is not P云's")),
                    },
                    pay_origin_desc: p.pay_origin_desc.clone(),
                    operator: None,
                    pay_time: time("pay_time", p.pay_time)?,
                    value: p.value,
                    free_value: p.free_value,
                    parking_order: p.parking_order.clone(),
                    change_value: None,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Leave {
            entry: self.entry.to_entry()?,
            leave_time: time("leave_time", self.leave_time)?,
            leave_image: None,
            leave_image_file: None,
            leave_gate: self.leave_gate.clone(),
            leave_security: None,
            total_value: Some(self.total_value),
            free_value: Some(self.free_value),
            online_value: Some(self.online_value),
            balance_value: None,
            cash_value: None,
            prepaid_value: None,
            leave_release_reason: None,
            payment_list,
        })
    }
}

fn time(field: &str, ms: i64) -> Result<DateTime<Utc>, String> {
    from_epoch_ms(ms).map_err(|e| format!("stored {field}: {e}"))
}

#[cfg(test)]
mod tests;
