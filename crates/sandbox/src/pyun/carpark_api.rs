//! The in-process API of the sandbox as P云's cloud for car parks: registering them and their
//! shops, their coupons' worth, upload faults, and reading back what was uploaded, learned and called.
//! The control API (`carpark_control`) is a thin JSON layer over these.

use super::PyunSandbox;
use super::carparks::{CarParkRegistration, CarParkView};
use super::coupon_discount::CouponDiscount;
use super::downlink::DownlinkCall;
use super::driver::ControlError;
use super::faults::UploadFaultRule;
use super::state::State;
use super::stays::Stay;
use super::uploads::Upload;

impl PyunSandbox {
    /// Registers a car park (or replaces its registration); refuses an empty name or secret
    /// and a gateway URL that is not plain `http`.
    pub fn register_carpark(&self, reg: CarParkRegistration) -> Result<(), String> {
        reg.validate()?;
        self.with(|s| s.carparks.register(reg));
        Ok(())
    }

    /// Every registered car park, by `park_uuid`, without secrets.
    pub fn carparks(&self) -> Vec<CarParkView> {
        self.with(|s| {
            s.carparks
                .iter()
                .filter_map(|p| view(s, &p.reg.park_uuid))
                .collect()
        })
    }

    /// One registered car park, without secrets.
    pub fn carpark(&self, park_uuid: &str) -> Option<CarParkView> {
        self.with(|s| view(s, park_uuid))
    }

    /// Switches a car park's "sign hint" mode: every upload answered `200` + a signature hint
    /// and ignored, as P云 does for a wrong secret. `false` if the car park is unknown.
    pub fn set_sign_hint(&self, park_uuid: &str, on: bool) -> bool {
        self.with(|s| {
            s.carparks
                .get_mut(park_uuid)
                .map(|p| p.sign_hint = on)
                .is_some()
        })
    }

    /// Lists a shop (`store_code`) as the car park's, so its QR tokens' coupons are sent there
    /// (a shop listed under another car park moves).
    pub fn add_carpark_store(&self, park_uuid: &str, store_code: &str) -> Result<(), ControlError> {
        if self.with(|s| s.carparks.add_store(park_uuid, store_code)) {
            Ok(())
        } else {
            Err(ControlError::UnknownPark(park_uuid.to_owned()))
        }
    }

    /// What a coupon of `coupon_code` (granted or from a QR token) is worth at the car park
    /// (`discount.create`).
    pub fn set_coupon_discount(&self, coupon_code: &str, discount: CouponDiscount) {
        self.with(|s| s.coupon_discounts.insert(coupon_code.to_owned(), discount));
    }

    /// What an event coupon of `api_type` is worth at the car park (`discount.create`).
    pub fn set_event_discount(&self, api_type: &str, discount: CouponDiscount) {
        self.with(|s| s.event_discounts.insert(api_type.to_owned(), discount));
    }

    /// Adds an upload fault rule after the existing ones; the first matching rule applies.
    pub fn push_upload_fault(&self, rule: UploadFaultRule) {
        self.with(|s| s.upload_faults.push(rule));
    }

    /// Removes every upload fault rule.
    pub fn clear_upload_faults(&self) {
        self.with(|s| s.upload_faults.clear());
    }

    /// Every entry and leave upload, optionally of one car park, in arrival order.
    pub fn uploads(&self, park_uuid: Option<&str>) -> Vec<Upload> {
        self.with(|s| {
            s.uploads
                .iter()
                .filter(|u| park_uuid.is_none_or(|p| u.park_uuid.as_deref() == Some(p)))
                .cloned()
                .collect()
        })
    }

    /// The stays learned from uploads, optionally of one car park, in the order learned.
    pub fn stays(&self, park_uuid: Option<&str>) -> Vec<Stay> {
        self.with(|s| s.stays.list(park_uuid))
    }

    /// Every call made to a car park's gateway, optionally to one car park, in the order started.
    pub fn downlink_calls(&self, park_uuid: Option<&str>) -> Vec<DownlinkCall> {
        self.with(|s| {
            s.downlink_calls
                .iter()
                .filter(|c| park_uuid.is_none_or(|p| c.park_uuid == p))
                .cloned()
                .collect()
        })
    }
}

fn view(s: &State, park_uuid: &str) -> Option<CarParkView> {
    let p = s.carparks.get(park_uuid)?;
    Some(CarParkView {
        park_uuid: p.reg.park_uuid.clone(),
        gateway_url: p.reg.gateway_url.clone(),
        api_store_code: p.reg.api_store_code.clone(),
        merchant: p.reg.merchant.clone(),
        sign_hint: p.sign_hint,
        store_codes: p.stores.iter().cloned().collect(),
        open_stays: s.stays.open_count(park_uuid),
    })
}
