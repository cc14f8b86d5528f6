//! The `resCode`/`resMsg` pair that starts every answer ParkBridge gives Mallcoo.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `resMsg` for a plate or barcode with no open parking session (§2.2).
pub const NO_PARKING_RECORD: &str = "未查询到停车记录";

/// Mallcoo's response code: the seed defines only 0 (normal) and 1 (error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResCode {
    /// `0`: the request was handled.
    Ok,
    /// `1`: the request was refused; `resMsg` says why.
    Error,
}

impl ResCode {
    /// The integer Mallcoo expects on the wire.
    pub fn as_i64(self) -> i64 {
        match self {
            Self::Ok => 0,
            Self::Error => 1,
        }
    }
}

impl Serialize for ResCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.as_i64())
    }
}

impl<'de> Deserialize<'de> for ResCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Only we produce this field; anything but 0 or 1 is a bug worth seeing.
        match i64::deserialize(d)? {
            0 => Ok(Self::Ok),
            1 => Ok(Self::Error),
            other => Err(serde::de::Error::custom(format!(
                "resCode {other} is neither 0 nor 1"
            ))),
        }
    }
}

/// A bare answer, `{"resCode":..,"resMsg":..}`: PayParkingFee's whole response, and the head of the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    /// Whether the request was handled.
    pub res_code: ResCode,
    /// Empty on success; the reason otherwise.
    #[serde(default)]
    pub res_msg: String,
}

impl Reply {
    /// Success, with the empty `resMsg` of the seed's examples.
    pub fn ok() -> Self {
        Self {
            res_code: ResCode::Ok,
            res_msg: String::new(),
        }
    }

    /// A refusal with its reason.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            res_code: ResCode::Error,
            res_msg: message.into(),
        }
    }

    /// True for `resCode` 0.
    pub fn is_ok(&self) -> bool {
        self.res_code == ResCode::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_use_the_seed_keys_and_integer_codes() {
        assert_eq!(
            serde_json::to_string(&Reply::ok()).unwrap(),
            r#"{"resCode":0,"resMsg":""}"#
        );
        assert_eq!(
            serde_json::to_string(&Reply::error(NO_PARKING_RECORD)).unwrap(),
            r#"{"resCode":1,"resMsg":"未查询到停车记录"}"#
        );
        let r: Reply = serde_json::from_str(r#"{"resCode":1,"resMsg":"x"}"#).unwrap();
        assert_eq!(r, Reply::error("x"));
        assert!(serde_json::from_str::<Reply>(r#"{"resCode":2,"resMsg":""}"#).is_err());
    }
}
