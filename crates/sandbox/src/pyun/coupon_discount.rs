//! What a coupon is worth at the car park: the `type`, `value` and names of the
//! `discount.create` P云 sends after issuing it (pyun-carpark.md §3.3, §5 "the loop back").
//!
//! P云 knows this from the coupon product its staff configured; the sandbox learns it per
//! `coupon_code` (grants and QR tokens) and per `api_type` (events) through the control API. A
//! coupon with no configuration is a 60-minute duration coupon (`type` 2, `value` 60): the commonest kind
//! (DOC's own example is "2小时停车券"), and one every car park applies.

use serde::{Deserialize, Serialize};

/// `type` of an unconfigured coupon: 时长, minutes not charged.
pub const DEFAULT_DISCOUNT_TYPE: i64 = 2;

/// `value` of a coupon configured without one: 60 minutes (for `type` 2).
pub const DEFAULT_DISCOUNT_VALUE: i64 = 60;

/// A coupon product's discount as P云 sends it to the car park; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponDiscount {
    /// P云's `type` (1 amount, 2 minutes, 3 full, 4 tariff, 5 free window, 6 percentage);
    /// [`DEFAULT_DISCOUNT_TYPE`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_type: Option<i64>,
    /// P云's `value`, its meaning set by the type; [`DEFAULT_DISCOUNT_VALUE`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_value: Option<i64>,
    /// `coupon_name`; the coupon code (or event `api_type`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_name: Option<String>,
    /// `store_name`; the store code (or event `app_id`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_name: Option<String>,
}

/// What P云 knows about one issued coupon when it tells the car park.
#[derive(Debug, Clone)]
pub(crate) struct IssuedFacts<'a> {
    pub(crate) parking_serial: &'a str,
    pub(crate) plate: &'a str,
    pub(crate) grant_serial: &'a str,
    /// The grant's `store_code`; an event's issuing app.
    pub(crate) store_code: &'a str,
    /// The grant's `coupon_code`; an event's `api_type`.
    pub(crate) coupon_code: &'a str,
    /// The grant's `reason`; an event's `subject`.
    pub(crate) reason: Option<&'a str>,
}

impl CouponDiscount {
    /// The business fields of `discount.create`, every value a string as P云 sends them; an
    /// empty `reason` is left out rather than sent as `""`.
    pub(crate) fn create_fields(&self, facts: &IssuedFacts<'_>) -> Vec<(String, String)> {
        let kind = self.discount_type.unwrap_or(DEFAULT_DISCOUNT_TYPE);
        let value = self.discount_value.unwrap_or(DEFAULT_DISCOUNT_VALUE);
        let mut fields = vec![
            ("parking_serial", facts.parking_serial.to_owned()),
            ("plate", facts.plate.to_owned()),
            ("grant_serial", facts.grant_serial.to_owned()),
            ("type", kind.to_string()),
            ("value", value.to_string()),
            (
                "store_name",
                self.store_name
                    .clone()
                    .unwrap_or_else(|| facts.store_code.to_owned()),
            ),
            ("store_code", facts.store_code.to_owned()),
            (
                "coupon_name",
                self.coupon_name
                    .clone()
                    .unwrap_or_else(|| facts.coupon_code.to_owned()),
            ),
            ("coupon_code", facts.coupon_code.to_owned()),
            ("reason", facts.reason.unwrap_or_default().to_owned()),
        ];
        fields.retain(|(_, v)| !v.is_empty());
        fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(reason: Option<&str>) -> IssuedFacts<'_> {
        IssuedFacts {
            parking_serial: "PS1",
            plate: "粤B660PP",
            grant_serial: "G1",
            store_code: "4911419421",
            coupon_code: "7cb7cc3e4e27b8a",
            reason,
        }
    }

    fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn an_unconfigured_coupon_is_sixty_minutes_named_by_its_codes() {
        let f = CouponDiscount::default().create_fields(&facts(None));
        assert_eq!(get(&f, "type"), Some("2"));
        assert_eq!(get(&f, "value"), Some("60"));
        assert_eq!(get(&f, "store_name"), Some("4911419421"));
        assert_eq!(get(&f, "coupon_name"), Some("7cb7cc3e4e27b8a"));
        assert_eq!(get(&f, "reason"), None, "no empty member");
        assert_eq!(get(&f, "grant_serial"), Some("G1"));
    }

    #[test]
    fn the_configuration_decides_type_value_and_names() {
        let d = CouponDiscount {
            discount_type: Some(1),
            discount_value: Some(500),
            coupon_name: Some("5元券".into()),
            store_name: Some("肯德基".into()),
        };
        let f = d.create_fields(&facts(Some("购物满300")));
        assert_eq!(get(&f, "type"), Some("1"));
        assert_eq!(get(&f, "value"), Some("500"));
        assert_eq!(get(&f, "coupon_name"), Some("5元券"));
        assert_eq!(get(&f, "store_name"), Some("肯德基"));
        assert_eq!(get(&f, "reason"), Some("购物满300"));
    }
}
