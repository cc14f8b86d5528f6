//! `service.parking.realtime` (pyun-carpark.md §3.5): spaces and tariff, which P云 polls at a fixed rate.
//!
//! The request has no business field (only `park_uuid`, which is in the envelope).

use super::codes::{ResultCode, Service, message};
use super::members::Members;
use super::reply::Reply;
use crate::pyun::RequestError;

/// Longest `charge_json` / `charge_depict` read back; ours are a few hundred characters.
const MAX_CHARGE_CHARS: usize = 4096;

/// The `1001` reply: counts and the tariff, both forms required by DOC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealtimeReply {
    /// Total spaces.
    pub total: i64,
    /// Cars in the park now (not free spaces: free = total − parking, equal to the uploads' `remain_parking_space`).
    pub parking: i64,
    /// The tariff as a JSON text of our own shape; signed as the decoded string (V5).
    pub charge_json: String,
    /// The tariff in words.
    pub charge_depict: String,
}

impl RealtimeReply {
    /// Checks that the counts are not negative and the tariff is described.
    pub fn validate(&self) -> Result<(), RequestError> {
        for (field, n) in [("total", self.total), ("parking", self.parking)] {
            if n < 0 {
                return Err(RequestError::Invalid {
                    field,
                    reason: format!("{n} is negative"),
                });
            }
        }
        if serde_json::from_str::<serde_json::Value>(&self.charge_json).is_err() {
            return Err(RequestError::Invalid {
                field: "charge_json",
                reason: "not JSON".to_owned(),
            });
        }
        crate::pyun::fields::required("charge_depict", &self.charge_depict, MAX_CHARGE_CHARS)
    }

    /// The reply to render and sign; members in the order of the spec's example (V5).
    pub fn reply(&self) -> Reply {
        let mut r = Reply::of(Service::Realtime, ResultCode::Ok, message::OK);
        r.int("total", self.total);
        r.int("parking", self.parking);
        r.text("charge_json", self.charge_json.as_str());
        r.text("charge_depict", self.charge_depict.as_str());
        r
    }

    /// Reads a `1001` reply back, counts as numbers or strings.
    pub fn from_members(m: &Members) -> Result<RealtimeReply, RequestError> {
        Ok(RealtimeReply {
            total: m.required_non_negative("total")?,
            parking: m.required_non_negative("parking")?,
            charge_json: m.required("charge_json", MAX_CHARGE_CHARS)?.to_owned(),
            charge_depict: m.required("charge_depict", MAX_CHARGE_CHARS)?.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V5: &str = r#"{"service":"service.parking.realtime","version":"1.0","charset":"UTF-8","result_code":"1001","message":"成功","total":500,"parking":377,"charge_json":"{\"free_time\":15,\"max\":3000,\"more\":{\"price\":300,\"unit\":60},\"type\":1}","charge_depict":"入场15分钟免费,3元/小时,每日封顶30元","sign":"AFC56E7863F8CFAB878DA70776103EA5"}"#;

    fn v5() -> RealtimeReply {
        RealtimeReply {
            total: 500,
            parking: 377,
            charge_json: r#"{"free_time":15,"max":3000,"more":{"price":300,"unit":60},"type":1}"#
                .to_owned(),
            charge_depict: "入场15分钟免费,3元/小时,每日封顶30元".to_owned(),
        }
    }

    #[test]
    fn v5_reply_byte_for_byte() {
        let r = v5();
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(r.reply().to_json(Some("pb-demo-key-2025")), V5);
        assert_eq!(
            RealtimeReply::from_members(&Members::parse(V5.as_bytes()).unwrap()),
            Ok(r)
        );
    }

    #[test]
    fn official_realtime_reply_reads() {
        // DOC parking/api/parking-realtime.md response example: unsigned, numbers as numbers.
        let body = r#"{"parking":3541,"service":"service.parking.realtime","charge_json":"{\"data\":[{\"price\":5},{\"price\":5},{\"price\":10},{\"price\":10},{\"price\":10},{\"price\":10},{\"price\":10},{\"price\":10}],\"max\":0,\"free_time\":30,\"type\":5,\"addFlag\":false}","result_code":"1001","message":"成功","charge_depict":"入场免费30分钟,一天最收费10元,","total":1000000,"version":"1.0"}"#;
        let r = RealtimeReply::from_members(&Members::parse(body.as_bytes()).unwrap()).unwrap();
        assert_eq!((r.total, r.parking), (1_000_000, 3541));
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn bad_replies_are_caught_before_sending() {
        let mut r = v5();
        r.parking = -1;
        assert!(r.validate().is_err());
        let mut r = v5();
        r.charge_json = "{".into();
        assert!(r.validate().is_err());
        let mut r = v5();
        r.charge_depict = " ".into();
        assert!(r.validate().is_err());
    }
}
