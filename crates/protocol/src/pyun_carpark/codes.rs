//! The downlink services we answer and the `result_code`s we answer with (pyun-carpark.md §1.3, §3).

use serde::{Deserialize, Serialize};

/// A downlink service ParkBridge implements; every other name is answered `1503` (D16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// `service.parking.payment.billing`: the fee order for a plate (§3.1).
    PaymentBilling,
    /// `service.parking.payment.result`: a payment notice (§3.2).
    PaymentResult,
    /// `service.parking.discount.create`: a coupon for a car (§3.3).
    DiscountCreate,
    /// `service.parking.discount.destroy`: a coupon revoked (§3.4).
    DiscountDestroy,
    /// `service.parking.realtime`: spaces and tariff, polled (§3.5).
    Realtime,
}

impl Service {
    /// Every implemented service.
    pub const ALL: [Service; 5] = [
        Service::PaymentBilling,
        Service::PaymentResult,
        Service::DiscountCreate,
        Service::DiscountDestroy,
        Service::Realtime,
    ];

    /// The `service` value on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Service::PaymentBilling => "service.parking.payment.billing",
            Service::PaymentResult => "service.parking.payment.result",
            Service::DiscountCreate => "service.parking.discount.create",
            Service::DiscountDestroy => "service.parking.discount.destroy",
            Service::Realtime => "service.parking.realtime",
        }
    }

    /// The service for a wire name; exact match, as P云's dispatcher compares.
    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A `result_code` of a downlink reply; sent as a JSON string (D3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultCode {
    /// `1001`: done (also for a repeat of a notice already processed).
    Ok,
    /// `1002`: no parking record (billing, discount.create) or no such grant (discount.destroy).
    NotFound,
    /// `1003`: a fixed car within its validity may not pay (billing).
    FixedCar,
    /// `1400`: a parameter is missing or malformed.
    BadRequest,
    /// `1401`: bad signature, or a park we hold no key for.
    Unauthorized,
    /// `1403`: refused — order revoked (P云 refunds), coupon refused, coupon no longer revocable.
    Refused,
    /// `1500`: could not be processed now; P云 retries.
    InternalError,
    /// `1503`: a service we do not implement.
    NotImplemented,
}

impl ResultCode {
    /// The code as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultCode::Ok => "1001",
            ResultCode::NotFound => "1002",
            ResultCode::FixedCar => "1003",
            ResultCode::BadRequest => "1400",
            ResultCode::Unauthorized => "1401",
            ResultCode::Refused => "1403",
            ResultCode::InternalError => "1500",
            ResultCode::NotImplemented => "1503",
        }
    }

    /// The code for its text (a JSON number's text too); `None` for a code we never send.
    pub fn from_code(code: &str) -> Option<ResultCode> {
        Some(match code.trim() {
            "1001" => ResultCode::Ok,
            "1002" => ResultCode::NotFound,
            "1003" => ResultCode::FixedCar,
            "1400" => ResultCode::BadRequest,
            "1401" => ResultCode::Unauthorized,
            "1403" => ResultCode::Refused,
            "1500" => ResultCode::InternalError,
            "1503" => ResultCode::NotImplemented,
            _ => return None,
        })
    }
}

/// The messages the spec gives; P云 shows `message` to staff, so one wording per situation.
pub mod message {
    /// `1001`.
    pub const OK: &str = "成功";
    /// `1001` for a payment notice already processed (legacy appendix D4).
    pub const ALREADY_PROCESSED: &str = "已处理";
    /// `1001` for a revocation (DOC `mcoupon-revoke.md`).
    pub const DONE: &str = "操作成功";
    /// `1400` (P云's reference gateway).
    pub const BAD_REQUEST: &str = "请求参数错误";
    /// `1401` for a park we hold no key for (§1.5 step 4).
    pub const UNKNOWN_PARK: &str = "未知车场";
    /// `1401` for a signature mismatch (§1.5 step 5).
    pub const BAD_SIGNATURE: &str = "签名错误";
    /// `1503` (§1.5 step 6).
    pub const NOT_IMPLEMENTED: &str = "接口尚未实现";
    /// `1500`.
    pub const INTERNAL_ERROR: &str = "接口内部处理异常";
    /// `1002` for billing.
    pub const NO_PARKING_RECORD: &str = "未查询到停车信息";
    /// `1003` for billing.
    pub const FIXED_CAR: &str = "固定车辆, 不允许支付";
    /// `1403` for a payment of a revoked or superseded order.
    pub const ORDER_REVOKED: &str = "订单已撤销";
    /// `1403` for a payment of an order we never issued (D10).
    pub const ORDER_UNKNOWN: &str = "订单不存在";
    /// `1002` for a coupon without a stay.
    pub const STAY_NOT_FOUND: &str = "停车信息未找到";
    /// `1002` for a coupon whose stay has ended.
    pub const CAR_LEFT: &str = "车辆已出场";
    /// `1403` for a coupon refused by local policy (DOC's wording).
    pub const OTHER_DISCOUNT: &str = "当前车辆已享受其他优惠";
    /// `1403` for a coupon type we do not support (type 4, unknown types, values out of range).
    pub const DISCOUNT_UNSUPPORTED: &str = "不支持的优惠类型";
    /// `1403` for a coupon grant already revoked.
    pub const GRANT_REVOKED: &str = "优惠已撤销";
    /// `1002` for a revocation of a grant we do not know (CSHARP's wording).
    pub const GRANT_NOT_FOUND: &str = "派发信息未找到";
    /// `1403` for a revocation after use or after the car left (§3.4).
    pub const NOT_REVOCABLE: &str = "车辆已出场/优惠已使用，无法撤销";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_round_trip() {
        for s in Service::ALL {
            assert_eq!(Service::from_name(s.name()), Some(s));
        }
        assert_eq!(Service::from_name("service.parking.vip.query"), None);
        assert_eq!(Service::from_name("SERVICE.PARKING.REALTIME"), None);
        for c in [
            ResultCode::Ok,
            ResultCode::NotFound,
            ResultCode::FixedCar,
            ResultCode::BadRequest,
            ResultCode::Unauthorized,
            ResultCode::Refused,
            ResultCode::InternalError,
            ResultCode::NotImplemented,
        ] {
            assert_eq!(ResultCode::from_code(c.as_str()), Some(c));
        }
        assert_eq!(ResultCode::from_code("1000"), None);
    }
}
