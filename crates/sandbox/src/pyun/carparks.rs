//! Car parks registered with the sandbox as P云's cloud (pyun-carpark.md): where their gateway
//! is, the two secrets (downlink `&key=`, upload `&app_secret=`, D14) and the identifiers that
//! coupon calls name them by.
//!
//! A coupon event names its car park by `api_store_code` and a grant by `merchant`, never by
//! `park_uuid` (PROTOCOLS.md §1.3, §1.4); a registration may carry both, and the `park_uuid`
//! itself also matches, so a test need not invent three names for one car park.
//!
//! A QR token names only a shop (`store_code`, pyun-carpark.md §5). At P云 a shop is created by
//! the property in its own shop list, so a car park's shops are listed apart from its
//! registration ([`CarParks::add_store`]): not `api_store_code`, which names the car park
//! itself for events, and not a new registration field, which every caller building a
//! registration would have to spell out; a re-registration keeps them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A car park as registered: `POST /_sandbox/carparks`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarParkRegistration {
    /// The car park's ID at P云; names it in uploads and every downlink call.
    pub park_uuid: String,
    /// The car park's one downlink URL, e.g. `http://127.0.0.1:8080/pyun/gateway` (plain HTTP:
    /// the sandbox's client is built without TLS).
    pub gateway_url: String,
    /// S-DOWN key: signs the calls to the gateway and verifies its replies.
    pub downlink_key: String,
    /// S-FORM secret the entry and leave uploads are signed with.
    pub upload_secret: String,
    /// The `api_store_code` coupon events name this car park by, when not the `park_uuid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_store_code: Option<String>,
    /// The `merchant` coupon grants name this car park by, when not the `park_uuid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant: Option<String>,
}

impl std::fmt::Debug for CarParkRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs.
        f.debug_struct("CarParkRegistration")
            .field("park_uuid", &self.park_uuid)
            .field("gateway_url", &self.gateway_url)
            .field("api_store_code", &self.api_store_code)
            .field("merchant", &self.merchant)
            .finish_non_exhaustive()
    }
}

impl CarParkRegistration {
    /// Checks what would otherwise fail later and less clearly: empty names or secrets, a URL
    /// the client cannot call.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (field, value) in [
            ("park_uuid", &self.park_uuid),
            ("downlink_key", &self.downlink_key),
            ("upload_secret", &self.upload_secret),
        ] {
            if value.trim().is_empty() {
                return Err(format!("`{field}` is empty"));
            }
        }
        match reqwest::Url::parse(&self.gateway_url) {
            Ok(url) if url.scheme() == "http" => Ok(()),
            Ok(url) => Err(format!(
                "`gateway_url` scheme `{}` is not supported (plain http only)",
                url.scheme()
            )),
            Err(e) => Err(format!("`gateway_url` is not a URL: {e}")),
        }
    }
}

/// A registered car park as the control API shows it: no secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarParkView {
    /// The car park's ID at P云.
    pub park_uuid: String,
    /// Its downlink URL.
    pub gateway_url: String,
    /// What coupon events call it, if not its `park_uuid`.
    pub api_store_code: Option<String>,
    /// What coupon grants call it, if not its `park_uuid`.
    pub merchant: Option<String>,
    /// Whether every upload is answered `200` + signature hint (a fault mode).
    pub sign_hint: bool,
    /// The shops whose QR tokens issue coupons here, in order.
    #[serde(default)]
    pub store_codes: Vec<String>,
    /// Stays learned from its uploads that are still open.
    pub open_stays: usize,
}

/// One registered car park and its fault switch.
#[derive(Debug, Clone)]
pub(crate) struct CarPark {
    pub(crate) reg: CarParkRegistration,
    /// Answer every upload `200` + hint, as P云 does for a wrong secret.
    pub(crate) sign_hint: bool,
    /// The property's shops (`store_code`), which QR tokens name.
    pub(crate) stores: BTreeSet<String>,
}

/// The registered car parks by `park_uuid`.
#[derive(Debug, Default)]
pub(crate) struct CarParks {
    parks: BTreeMap<String, CarPark>,
}

impl CarParks {
    /// Adds a car park, or replaces its registration; a replacement keeps its fault switch, so
    /// registering the same thing twice changes nothing.
    pub(crate) fn register(&mut self, reg: CarParkRegistration) {
        match self.parks.get_mut(&reg.park_uuid) {
            Some(park) => park.reg = reg,
            None => {
                let park = CarPark {
                    reg,
                    sign_hint: false,
                    stores: BTreeSet::new(),
                };
                self.parks.insert(park.reg.park_uuid.clone(), park);
            }
        }
    }

    pub(crate) fn get(&self, park_uuid: &str) -> Option<&CarPark> {
        self.parks.get(park_uuid)
    }

    pub(crate) fn get_mut(&mut self, park_uuid: &str) -> Option<&mut CarPark> {
        self.parks.get_mut(park_uuid)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &CarPark> {
        self.parks.values()
    }

    /// The car park a coupon event's `api_store_code` names.
    pub(crate) fn by_store_code(&self, api_store_code: &str) -> Option<&CarPark> {
        self.find(api_store_code, |r| r.api_store_code.as_deref())
    }

    /// The car park a grant's `merchant` names.
    pub(crate) fn by_merchant(&self, merchant: &str) -> Option<&CarPark> {
        self.find(merchant, |r| r.merchant.as_deref())
    }

    /// Lists a shop as `park_uuid`'s; a shop belongs to one property, so listing it under another
    /// car park moves it. `false` if the car park is unknown.
    pub(crate) fn add_store(&mut self, park_uuid: &str, store_code: &str) -> bool {
        if !self.parks.contains_key(park_uuid) {
            return false;
        }
        for park in self.parks.values_mut() {
            park.stores.remove(store_code);
        }
        self.parks
            .get_mut(park_uuid)
            .map(|p| p.stores.insert(store_code.to_owned()))
            .is_some()
    }

    /// The car park whose shop list holds a QR token's `store_code`.
    pub(crate) fn by_shop(&self, store_code: &str) -> Option<&CarPark> {
        self.parks.values().find(|p| p.stores.contains(store_code))
    }

    /// The alias wins over another car park's `park_uuid`: it was registered for this purpose.
    fn find(
        &self,
        name: &str,
        alias: impl Fn(&CarParkRegistration) -> Option<&str>,
    ) -> Option<&CarPark> {
        self.parks
            .values()
            .find(|p| alias(&p.reg) == Some(name))
            .or_else(|| self.parks.get(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(uuid: &str) -> CarParkRegistration {
        CarParkRegistration {
            park_uuid: uuid.into(),
            gateway_url: "http://127.0.0.1:1/gw".into(),
            downlink_key: "k".into(),
            upload_secret: "s".into(),
            api_store_code: None,
            merchant: None,
        }
    }

    #[test]
    fn coupon_calls_find_the_park_by_alias_or_uuid() {
        let mut parks = CarParks::default();
        parks.register(CarParkRegistration {
            api_store_code: Some("store-1".into()),
            merchant: Some("m-1".into()),
            ..reg("uuid-1")
        });
        parks.register(reg("uuid-2"));
        assert_eq!(
            parks.by_store_code("store-1").unwrap().reg.park_uuid,
            "uuid-1"
        );
        assert_eq!(
            parks.by_store_code("uuid-1").unwrap().reg.park_uuid,
            "uuid-1"
        );
        assert_eq!(parks.by_merchant("m-1").unwrap().reg.park_uuid, "uuid-1");
        assert_eq!(parks.by_merchant("uuid-2").unwrap().reg.park_uuid, "uuid-2");
        assert!(parks.by_merchant("store-1").is_none());
        assert!(parks.by_store_code("other").is_none());
    }

    #[test]
    fn a_shop_belongs_to_one_car_park_and_survives_re_registration() {
        let mut parks = CarParks::default();
        parks.register(reg("uuid-1"));
        parks.register(reg("uuid-2"));
        assert!(!parks.add_store("uuid-9", "shop-1"));
        assert!(parks.by_shop("shop-1").is_none());
        assert!(parks.add_store("uuid-1", "shop-1"));
        assert_eq!(parks.by_shop("shop-1").unwrap().reg.park_uuid, "uuid-1");
        assert!(
            parks.by_shop("uuid-1").is_none(),
            "a park_uuid is not a shop"
        );
        assert!(parks.add_store("uuid-2", "shop-1"));
        assert_eq!(parks.by_shop("shop-1").unwrap().reg.park_uuid, "uuid-2");
        parks.register(reg("uuid-2"));
        assert_eq!(parks.by_shop("shop-1").unwrap().reg.park_uuid, "uuid-2");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let text = format!("{:?}", reg("u"));
        assert!(
            text.contains("park_uuid") && !text.contains("downlink_key"),
            "{text}"
        );
    }

    #[test]
    fn registration_is_checked_and_replaced() {
        assert!(reg("u").validate().is_ok());
        let mut bad = reg("u");
        bad.gateway_url = "https://x/gw".into();
        assert!(bad.validate().unwrap_err().contains("plain http"));
        bad.gateway_url = "not a url".into();
        assert!(bad.validate().is_err());
        let mut empty = reg(" ");
        assert!(empty.validate().is_err());
        empty = reg("u");
        empty.downlink_key.clear();
        assert!(empty.validate().unwrap_err().contains("downlink_key"));

        let mut parks = CarParks::default();
        parks.register(reg("u"));
        parks.get_mut("u").unwrap().sign_hint = true;
        parks.register(CarParkRegistration {
            gateway_url: "http://127.0.0.1:2/gw".into(),
            ..reg("u")
        });
        let p = parks.get("u").unwrap();
        assert!(p.sign_hint, "a replacement keeps the fault switch");
        assert_eq!(p.reg.gateway_url, "http://127.0.0.1:2/gw");
        assert_eq!(parks.iter().count(), 1);
    }
}
