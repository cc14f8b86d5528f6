//! One `ParkingVIP` row of P云's VIP recharge sync (digest §1.5), with P云's field names and wire types.
//!
//! Written with the table's types: `int` fields as JSON numbers, `string` fields as strings —
//! so `vip_type` (declared `string`) goes out as `"1"` and `pay_partner` (declared `int`, but
//! exemplified as `pay_partner_1234567890`) as a string, per the digest. Read leniently: P云's
//! own Java example sends every value as a string, and local systems copy it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fields::{MAX_ID_CHARS, RequestError, optional, required};
use super::lenient;
use crate::plate::{Plate, PlateColor};

/// Limit for `value` (an amount, count or number of days as text).
const MAX_VALUE_CHARS: usize = 32;

/// What kind of VIP card a recharge renews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VipType {
    /// 0, free parking (whitelist).
    Free,
    /// 1, monthly card.
    Monthly,
    /// 2, stored value.
    StoredValue,
    /// 3, stored number of entries.
    StoredCount,
    /// 4, stored number of days.
    StoredDays,
    /// 5, yearly card.
    Yearly,
    /// 6, quarterly card.
    Quarterly,
    /// 7, half-year card.
    HalfYear,
}

impl VipType {
    const ALL: [VipType; 8] = [
        VipType::Free,
        VipType::Monthly,
        VipType::StoredValue,
        VipType::StoredCount,
        VipType::StoredDays,
        VipType::Yearly,
        VipType::Quarterly,
        VipType::HalfYear,
    ];

    /// P云's code.
    pub fn code(self) -> u8 {
        match self {
            VipType::Free => 0,
            VipType::Monthly => 1,
            VipType::StoredValue => 2,
            VipType::StoredCount => 3,
            VipType::StoredDays => 4,
            VipType::Yearly => 5,
            VipType::Quarterly => 6,
            VipType::HalfYear => 7,
        }
    }

    /// The type for a P云 code; `None` for a code P云 does not define.
    pub fn from_code(code: i64) -> Option<VipType> {
        VipType::ALL
            .into_iter()
            .find(|t| i64::from(t.code()) == code)
    }
}

impl Serialize for VipType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code().to_string())
    }
}

impl<'de> Deserialize<'de> for VipType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::int_from(serde_json::Value::deserialize(d)?)
            .and_then(VipType::from_code)
            .ok_or_else(|| serde::de::Error::custom("vip_type must be a code from 0 to 7"))
    }
}

/// How a recharge was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayType {
    /// 1, cash at the car park.
    Cash,
    /// 2, online payment.
    Online,
}

impl PayType {
    /// P云's code.
    pub fn code(self) -> u8 {
        match self {
            PayType::Cash => 1,
            PayType::Online => 2,
        }
    }

    /// The pay type for a P云 code; `None` for a code P云 does not define.
    pub fn from_code(code: i64) -> Option<PayType> {
        match code {
            1 => Some(PayType::Cash),
            2 => Some(PayType::Online),
            _ => None,
        }
    }
}

impl Serialize for PayType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for PayType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::int_from(serde_json::Value::deserialize(d)?)
            .and_then(PayType::from_code)
            .ok_or_else(|| serde::de::Error::custom("pay_type must be 1 (cash) or 2 (online)"))
    }
}

/// One VIP recharge, keyed at P云 by (`park_uuid`, `pay_partner`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkingVip {
    /// The VIP's car.
    pub plate: Plate,
    /// The plate's colour.
    pub plate_color: PlateColor,
    /// Logical card number.
    #[serde(default, deserialize_with = "lenient::opt_string_any")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_no: Option<String>,
    /// Physical card number.
    #[serde(default, deserialize_with = "lenient::opt_string_any")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// The car park's VIP tariff id (e.g. `MON_A`).
    #[serde(deserialize_with = "lenient::string_any")]
    pub charge_type: String,
    /// The kind of card.
    pub vip_type: VipType,
    /// Units renewed (months, quarters, years...); 0 is allowed for a whitelist entry.
    #[serde(deserialize_with = "lenient::u32_any")]
    pub quantity: u32,
    /// The car park's order number, unique per car park: P云's key for this recharge.
    #[serde(deserialize_with = "lenient::string_any")]
    pub pay_partner: String,
    /// How it was paid.
    pub pay_type: PayType,
    /// Face value: an amount for stored value, a count, or days.
    #[serde(default, deserialize_with = "lenient::opt_string_any")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// When it was paid; sent as epoch milliseconds in a string.
    #[serde(default, with = "pay_time_ms", skip_serializing_if = "Option::is_none")]
    pub pay_time: Option<DateTime<Utc>>,
    /// Start of the renewed period; sent as ISO-8601 UTC (`…Z`).
    #[serde(default, with = "iso_utc", skip_serializing_if = "Option::is_none")]
    pub renewal_start_time: Option<DateTime<Utc>>,
    /// End of the renewed period; sent as ISO-8601 UTC (`…Z`).
    #[serde(default, with = "iso_utc", skip_serializing_if = "Option::is_none")]
    pub renewal_end_time: Option<DateTime<Utc>>,
    /// Amount paid, in fen.
    #[serde(default, deserialize_with = "lenient::opt_i64_any")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_value: Option<i64>,
    /// Who recorded the payment.
    #[serde(default, deserialize_with = "lenient::opt_string_any")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

impl ParkingVip {
    /// Checks required text, length limits, `pay_value ≥ 0` and a period that does not end before it starts.
    pub fn validate(&self) -> Result<(), RequestError> {
        required("charge_type", &self.charge_type, MAX_ID_CHARS)?;
        required("pay_partner", &self.pay_partner, MAX_ID_CHARS)?;
        optional("card_no", self.card_no.as_deref(), MAX_ID_CHARS)?;
        optional("card_id", self.card_id.as_deref(), MAX_ID_CHARS)?;
        optional("value", self.value.as_deref(), MAX_VALUE_CHARS)?;
        optional("operator", self.operator.as_deref(), MAX_ID_CHARS)?;
        if let Some(v) = self.pay_value.filter(|v| *v < 0) {
            return Err(RequestError::Invalid {
                field: "pay_value",
                reason: format!("{v} fen is negative"),
            });
        }
        if let (Some(start), Some(end)) = (self.renewal_start_time, self.renewal_end_time)
            && end < start
        {
            return Err(RequestError::Invalid {
                field: "renewal_end_time",
                reason: "the period ends before it starts".into(),
            });
        }
        Ok(())
    }
}

/// `pay_time`: epoch milliseconds as a string out; a number or a string in.
mod pay_time_ms {
    use chrono::{DateTime, Utc};
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&crate::time::epoch_ms(*t).to_string()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let Some(ms) = super::lenient::opt_i64_any(d)? else {
            return Ok(None);
        };
        crate::time::from_epoch_ms(ms)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

/// Renewal times: ISO-8601 with `Z` out; any RFC 3339 offset in.
mod iso_utc {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&crate::time::format_pyun_iso(*t)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => crate::time::parse_pyun_iso(&s)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::time::{parse_mallcoo, parse_pyun_iso};

    /// The row of seed 002's Java example, which sends every value as a string.
    const SEED_ROW: &str = r#"{"plate":"粤X33333","plate_color":"1","card_no":"ID000001",
        "card_id":"ID000001","charge_type":"101","vip_type":"1","quantity":"1",
        "pay_partner":"pay_partner_1234567890","pay_type":"1","value":"30",
        "pay_time":"1625068799000","pay_value":"10000","operator":"张三"}"#;

    pub(crate) fn row(pay_partner: &str) -> ParkingVip {
        ParkingVip {
            plate: Plate::parse("粤X33333").unwrap(),
            plate_color: PlateColor::Blue,
            card_no: Some("ID000001".into()),
            card_id: None,
            charge_type: "MON_A".into(),
            vip_type: VipType::Monthly,
            quantity: 1,
            pay_partner: pay_partner.into(),
            pay_type: PayType::Cash,
            value: Some("30".into()),
            pay_time: Some(parse_mallcoo("2021-06-30 23:59:59").unwrap()),
            renewal_start_time: Some(parse_pyun_iso("2022-09-30T16:00:00Z").unwrap()),
            renewal_end_time: Some(parse_pyun_iso("2022-10-31T15:59:59Z").unwrap()),
            pay_value: Some(10000),
            operator: Some("张三".into()),
        }
    }

    #[test]
    fn seed_example_row_is_read_despite_its_all_string_values() {
        let r: ParkingVip = serde_json::from_str(SEED_ROW).unwrap();
        assert_eq!(r.plate_color, PlateColor::Blue);
        assert_eq!(r.vip_type, VipType::Monthly);
        assert_eq!(r.quantity, 1);
        assert_eq!(r.pay_type, PayType::Cash);
        assert_eq!(r.pay_value, Some(10000));
        assert_eq!(
            r.pay_time,
            Some(parse_mallcoo("2021-06-30 23:59:59").unwrap())
        );
        assert_eq!(r.renewal_start_time, None);
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn rows_are_written_with_the_tables_types() {
        let json = serde_json::to_string(&row("pay_partner_1234567890")).unwrap();
        assert_eq!(
            json,
            r#"{"plate":"粤X33333","plate_color":1,"card_no":"ID000001","charge_type":"MON_A","vip_type":"1","quantity":1,"pay_partner":"pay_partner_1234567890","pay_type":1,"value":"30","pay_time":"1625068799000","renewal_start_time":"2022-09-30T16:00:00Z","renewal_end_time":"2022-10-31T15:59:59Z","pay_value":10000,"operator":"张三"}"#
        );
        let back: ParkingVip = serde_json::from_str(&json).unwrap();
        assert_eq!(back, row("pay_partner_1234567890"));
    }

    #[test]
    fn unknown_codes_and_bad_values_are_refused() {
        for (field, bad) in [
            ("vip_type", "\"8\""),
            ("pay_type", "3"),
            ("plate_color", "0"),
            ("quantity", "-1"),
            ("pay_time", "\"yesterday\""),
        ] {
            let mut v: serde_json::Value = serde_json::from_str(SEED_ROW).unwrap();
            v[field] = serde_json::from_str(bad).unwrap();
            assert!(
                serde_json::from_value::<ParkingVip>(v).is_err(),
                "{field}={bad}"
            );
        }
        let mut r = row("p1");
        r.pay_value = Some(-1);
        assert!(r.validate().is_err());
        let mut r = row("p1");
        std::mem::swap(&mut r.renewal_start_time, &mut r.renewal_end_time);
        assert!(matches!(
            r.validate(),
            Err(RequestError::Invalid {
                field: "renewal_end_time",
                ..
            })
        ));
        let mut r = row("p1");
        r.charge_type = String::new();
        assert_eq!(r.validate(), Err(RequestError::Missing("charge_type")));
    }
}
