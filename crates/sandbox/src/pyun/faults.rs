//! Injected faults: what a rule matches, how often it fires, and what it does.

use serde::{Deserialize, Serialize};

use super::records::Endpoint;
use super::uploads::UploadPath;

/// A fault to apply to the next matching P云 calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// The endpoint it applies to; `None` for every endpoint.
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    /// How many matching calls it applies to; 0 for every one until cleared.
    #[serde(default)]
    pub times: u32,
    /// How many matching calls it lets through first (to fail, say, the third VIP batch).
    #[serde(default)]
    pub skip: u32,
    /// What happens to those calls.
    pub fault: Fault,
}

/// What a fault does to a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Sleeps this long, then processes the call normally.
    Latency {
        /// Milliseconds added.
        ms: u64,
    },
    /// Answers this envelope without applying the call (e.g. 503 + `1500`, 200 + `1405`).
    Answer {
        /// HTTP status of the answer.
        http_status: u16,
        /// The envelope's `code`.
        code: String,
        /// The envelope's `message`.
        message: String,
    },
    /// Reads the whole request, optionally applies it, then closes the connection unanswered.
    Drop {
        /// Whether the call takes effect (e.g. the coupon is issued) before the drop.
        after_applying: bool,
    },
    /// Answers 200 with a body that is not JSON, as a misbehaving proxy would.
    MalformedJson {
        /// Whether the call takes effect before the garbage answer.
        after_applying: bool,
    },
}

/// A fault for the next matching entry and leave uploads (`POST /_sandbox/upload-faults`).
///
/// Kept apart from [`FaultRule`]: a catch-all coupon fault must not be spent on an upload that
/// the gateway under test happens to send meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadFaultRule {
    /// `enter` or `leave`; `None` for both.
    #[serde(default)]
    pub path: Option<UploadPath>,
    /// Only uploads naming this car park; `None` for every one.
    #[serde(default)]
    pub park_uuid: Option<String>,
    /// How many matching uploads it applies to; 0 for every one until cleared.
    #[serde(default)]
    pub times: u32,
    /// How many matching uploads it lets through first.
    #[serde(default)]
    pub skip: u32,
    /// What happens to those uploads.
    pub fault: Fault,
}

/// A rule that fires a fault a counted number of times after skipping some.
trait Counted {
    /// `(skip, times)`.
    fn counters(&mut self) -> (&mut u32, &mut u32);
    fn fault(&self) -> &Fault;
}

impl Counted for FaultRule {
    fn counters(&mut self) -> (&mut u32, &mut u32) {
        (&mut self.skip, &mut self.times)
    }
    fn fault(&self) -> &Fault {
        &self.fault
    }
}

impl Counted for UploadFaultRule {
    fn counters(&mut self) -> (&mut u32, &mut u32) {
        (&mut self.skip, &mut self.times)
    }
    fn fault(&self) -> &Fault {
        &self.fault
    }
}

/// The fault of the first rule that matches, counting the call against it.
fn take_first<R: Counted>(rules: &mut Vec<R>, matches: impl Fn(&R) -> bool) -> Option<Fault> {
    let i = rules.iter().position(matches)?;
    let (skip, times) = rules[i].counters();
    if *skip > 0 {
        *skip -= 1;
        return None;
    }
    match *times {
        0 => Some(rules[i].fault().clone()),
        1 => Some(rules.remove(i).fault().clone()),
        _ => {
            *times -= 1;
            Some(rules[i].fault().clone())
        }
    }
}

/// The active upload rules, first match wins.
#[derive(Debug, Default)]
pub(crate) struct UploadFaults {
    rules: Vec<UploadFaultRule>,
}

impl UploadFaults {
    /// Adds a rule after the existing ones.
    pub(crate) fn push(&mut self, rule: UploadFaultRule) {
        self.rules.push(rule);
    }

    /// Removes every rule.
    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault for an upload to `path` naming `park_uuid`, counting it against the rule.
    pub(crate) fn take(&mut self, path: UploadPath, park_uuid: Option<&str>) -> Option<Fault> {
        take_first(&mut self.rules, |r| {
            r.path.is_none_or(|p| p == path)
                && r.park_uuid.as_deref().is_none_or(|p| Some(p) == park_uuid)
        })
    }
}

/// The active rules, first match wins.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<FaultRule>,
}

impl Faults {
    /// Adds a rule after the existing ones.
    pub(crate) fn push(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    /// Removes every rule.
    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault for a call to `endpoint`, counting it against the rule's `times`.
    pub(crate) fn take(&mut self, endpoint: Endpoint) -> Option<Fault> {
        take_first(&mut self.rules, |r| {
            r.endpoint.is_none_or(|e| e == endpoint)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: &str) -> Fault {
        Fault::Answer {
            http_status: 200,
            code: code.into(),
            message: String::new(),
        }
    }

    #[test]
    fn first_match_wins_and_counts_down() {
        let mut f = Faults::default();
        f.push(FaultRule {
            endpoint: Some(Endpoint::Grant),
            times: 2,
            skip: 0,
            fault: answer("1405"),
        });
        f.push(FaultRule {
            endpoint: None,
            times: 1,
            skip: 0,
            fault: answer("1500"),
        });
        assert_eq!(f.take(Endpoint::Event), Some(answer("1500")));
        assert_eq!(f.take(Endpoint::Event), None);
        assert_eq!(f.take(Endpoint::Grant), Some(answer("1405")));
        assert_eq!(f.take(Endpoint::Grant), Some(answer("1405")));
        assert_eq!(f.take(Endpoint::Grant), None);
    }

    #[test]
    fn skip_lets_the_first_matching_calls_through() {
        let mut f = Faults::default();
        f.push(FaultRule {
            endpoint: Some(Endpoint::VipRecharge),
            times: 1,
            skip: 2,
            fault: answer("1500"),
        });
        assert_eq!(f.take(Endpoint::Event), None);
        assert_eq!(f.take(Endpoint::VipRecharge), None);
        assert_eq!(f.take(Endpoint::VipRecharge), None);
        assert_eq!(f.take(Endpoint::VipRecharge), Some(answer("1500")));
        assert_eq!(f.take(Endpoint::VipRecharge), None);
    }

    #[test]
    fn zero_times_is_forever_until_cleared() {
        let mut f = Faults::default();
        f.push(FaultRule {
            endpoint: None,
            times: 0,
            skip: 0,
            fault: Fault::Latency { ms: 5 },
        });
        for _ in 0..5 {
            assert!(f.take(Endpoint::VipRecharge).is_some());
        }
        f.clear();
        assert_eq!(f.take(Endpoint::VipRecharge), None);
    }

    #[test]
    fn upload_rules_match_path_and_park() {
        let mut f = UploadFaults::default();
        f.push(UploadFaultRule {
            path: Some(UploadPath::Leave),
            park_uuid: Some("P1".into()),
            times: 1,
            skip: 0,
            fault: answer("500"),
        });
        f.push(UploadFaultRule {
            path: None,
            park_uuid: None,
            times: 2,
            skip: 1,
            fault: answer("503"),
        });
        assert_eq!(f.take(UploadPath::Leave, Some("P1")), Some(answer("500")));
        // Now only the catch-all is left: it skips one, then fires twice.
        assert_eq!(f.take(UploadPath::Leave, Some("P1")), None);
        assert_eq!(f.take(UploadPath::Enter, None), Some(answer("503")));
        assert_eq!(f.take(UploadPath::Enter, Some("P2")), Some(answer("503")));
        assert_eq!(f.take(UploadPath::Enter, Some("P2")), None);
        f.push(UploadFaultRule {
            path: Some(UploadPath::Enter),
            park_uuid: None,
            times: 0,
            skip: 0,
            fault: answer("500"),
        });
        assert_eq!(f.take(UploadPath::Leave, None), None);
        f.clear();
        assert_eq!(f.take(UploadPath::Enter, None), None);
        let rule: UploadFaultRule = serde_json::from_str(
            r#"{"path":"enter","times":3,"fault":{"kind":"answer","http_status":500,"code":"500","message":"x"}}"#,
        )
        .unwrap();
        assert_eq!(rule.path, Some(UploadPath::Enter));
        assert_eq!(rule.park_uuid, None);
    }

    #[test]
    fn serde_shape_is_kind_tagged() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"endpoint":"vip_recharge","times":1,"fault":{"kind":"drop","after_applying":true}}"#,
        )
        .unwrap();
        assert_eq!(rule.endpoint, Some(Endpoint::VipRecharge));
        assert_eq!(
            rule.fault,
            Fault::Drop {
                after_applying: true
            }
        );
    }
}
