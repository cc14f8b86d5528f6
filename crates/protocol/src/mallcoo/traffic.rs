//! GetTraffic (§2.4): how many cars entered and left a car park in a time window.

use std::ops::Range;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::MallcooError;
use super::reply::ResCode;
use super::text;
use crate::time::{format_mallcoo, mallcoo_datetime};

/// The method name, the last segment of `POST {base}/mallcoo/v1/{Method}` (§2.1).
pub const METHOD: &str = "GetTraffic";

/// The traffic query as Mallcoo sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRequest {
    /// `parkId`; `None` when absent or blank (single car park).
    #[serde(
        default,
        deserialize_with = "text::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub park_id: Option<String>,
    /// `startTime`, `yyyy-MM-dd HH:mm:ss` Asia/Shanghai; included in the window.
    #[serde(with = "mallcoo_datetime")]
    pub start_time: DateTime<Utc>,
    /// `endTime`, `yyyy-MM-dd HH:mm:ss` Asia/Shanghai; excluded from the window.
    #[serde(with = "mallcoo_datetime")]
    pub end_time: DateTime<Utc>,
}

impl TrafficRequest {
    /// The half-open window `[startTime, endTime)`; an empty or reversed one is refused.
    pub fn validate(&self) -> Result<Range<DateTime<Utc>>, MallcooError> {
        if self.start_time < self.end_time {
            Ok(self.start_time..self.end_time)
        } else {
            Err(MallcooError::EmptyTimeWindow {
                start: format_mallcoo(self.start_time),
                end: format_mallcoo(self.end_time),
            })
        }
    }
}

/// Entries and exits counted in the window, present only in a successful answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficCounts {
    /// `inNum`: entries with their time in the window.
    pub in_num: u64,
    /// `outNum`: exits with their time in the window.
    pub out_num: u64,
}

/// Our answer: `resCode`/`resMsg`, then the counts on success only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficResponse {
    /// `resCode`.
    pub res_code: ResCode,
    /// `resMsg`: empty on success.
    #[serde(default)]
    pub res_msg: String,
    /// The counts, flattened into the same object; `None` in an error answer.
    #[serde(flatten)]
    pub counts: Option<TrafficCounts>,
}

impl TrafficResponse {
    /// A successful answer.
    pub fn ok(counts: TrafficCounts) -> Self {
        Self {
            res_code: ResCode::Ok,
            res_msg: String::new(),
            counts: Some(counts),
        }
    }

    /// An error answer: `resCode` 1 and the message, no counts.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            res_code: ResCode::Error,
            res_msg: message.into(),
            counts: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_mallcoo;

    fn read(json: &str) -> Result<TrafficRequest, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_query_in_the_seed_field_names_round_trips() {
        let json =
            r#"{"parkId":"P1","startTime":"2026-11-24 00:00:00","endTime":"2026-11-25 00:00:00"}"#;
        let r = read(json).unwrap();
        let start = parse_mallcoo("2026-11-24 00:00:00").unwrap();
        let end = parse_mallcoo("2026-11-25 00:00:00").unwrap();
        assert_eq!(r.validate(), Ok(start..end));
        assert_eq!(serde_json::to_string(&r).unwrap(), json);
        let no_park = read(
            r#"{"parkId":"","startTime":"2026-11-24 00:00:00","endTime":"2026-11-25 00:00:00"}"#,
        )
        .unwrap();
        assert_eq!(no_park.park_id, None);
    }

    #[test]
    fn an_empty_or_reversed_window_is_refused() {
        for (s, e) in [
            ("2026-11-24 00:00:00", "2026-11-24 00:00:00"),
            ("2026-11-25 00:00:00", "2026-11-24 00:00:00"),
        ] {
            let r = read(&format!(r#"{{"startTime":"{s}","endTime":"{e}"}}"#)).unwrap();
            let err = r.validate().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("startTime {s} is not before endTime {e}")
            );
        }
        assert!(read(r#"{"startTime":"2026-11-24","endTime":"2026-11-25 00:00:00"}"#).is_err());
        assert!(read(r#"{"startTime":"2026-11-24 00:00:00"}"#).is_err());
    }

    #[test]
    fn answers_use_the_seed_keys() {
        let ok = TrafficResponse::ok(TrafficCounts {
            in_num: 687,
            out_num: 500,
        });
        let json = serde_json::to_string(&ok).unwrap();
        assert_eq!(
            json,
            r#"{"resCode":0,"resMsg":"","inNum":687,"outNum":500}"#
        );
        assert_eq!(serde_json::from_str::<TrafficResponse>(&json).unwrap(), ok);
        let err = TrafficResponse::error("unknown parkId");
        let json = serde_json::to_string(&err).unwrap();
        assert_eq!(json, r#"{"resCode":1,"resMsg":"unknown parkId"}"#);
        assert_eq!(serde_json::from_str::<TrafficResponse>(&json).unwrap(), err);
    }
}
