//! The integer codes of a payment notice: deduction type, payment channel, payment type.
//!
//! Each travels as a JSON integer. A code the seed does not list is kept as `Other(n)` instead of
//! failing the decode: the payment behind a PayParkingFee call has already been taken, and
//! refusing the notice over a label would lose it (the `payType` list even ends in "等", etc.).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares an integer-coded enum with an `Other` fallback and its serde as a JSON integer.
macro_rules! int_code {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A code the seed does not list, kept as received.
            Other(i64),
        }

        impl $name {
            /// The integer on the wire.
            pub fn code(self) -> i64 {
                match self {
                    $( Self::$variant => $value, )+
                    Self::Other(code) => code,
                }
            }

            /// The value for an integer on the wire; unlisted codes become `Other`.
            pub fn from_code(code: i64) -> Self {
                match code {
                    $( $value => Self::$variant, )+
                    other => Self::Other(other),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                i64::deserialize(d).map(Self::from_code)
            }
        }
    };
}

int_code! {
    /// `deductionDetails[].Type`: what paid for part of the fee.
    DeductionType {
        /// `0` 权益: a membership benefit.
        Benefit = 0,
        /// `1` 补贴: a mall subsidy.
        Subsidy = 1,
        /// `2` 券: a coupon.
        Coupon = 2,
        /// `3` 积分: points (`Identify` is then the number of points).
        Points = 3,
    }
}

int_code! {
    /// `payChannel`: where the money was paid.
    PayChannel {
        /// `0` 线上支付: online, through Mallcoo.
        Online = 0,
        /// `1` 线下支付: offline.
        Offline = 1,
    }
}

int_code! {
    /// `payType`: how the money was paid.
    PayType {
        /// `0` 0 元支付: deductions covered the whole fee; no money moved.
        ZeroAmount = 0,
        /// `1` 支付宝: Alipay.
        Alipay = 1,
        /// `2` 银联: UnionPay.
        UnionPay = 2,
        /// `3` 微信: WeChat Pay.
        WeChat = 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_travel_as_integers_and_unknown_ones_are_kept() {
        assert_eq!(serde_json::to_string(&PayType::WeChat).unwrap(), "3");
        assert_eq!(
            serde_json::from_str::<PayType>("1").unwrap(),
            PayType::Alipay
        );
        assert_eq!(
            serde_json::from_str::<PayType>("7").unwrap(),
            PayType::Other(7)
        );
        assert_eq!(serde_json::to_string(&PayType::Other(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<DeductionType>("3").unwrap(),
            DeductionType::Points
        );
        assert_eq!(
            serde_json::from_str::<PayChannel>("1").unwrap(),
            PayChannel::Offline
        );
        assert!(serde_json::from_str::<PayChannel>(r#""1""#).is_err());
        for code in -1..5 {
            assert_eq!(DeductionType::from_code(code).code(), code);
        }
    }
}
