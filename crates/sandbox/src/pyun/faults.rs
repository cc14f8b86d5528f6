//! Injected faults: what a rule matches, how often it fires, and what it does.

use serde::{Deserialize, Serialize};

use super::records::Endpoint;

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
        let i = self
            .rules
            .iter()
            .position(|r| r.endpoint.is_none_or(|e| e == endpoint))?;
        let rule = &mut self.rules[i];
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        match rule.times {
            0 => Some(rule.fault.clone()),
            1 => Some(self.rules.remove(i).fault),
            _ => {
                rule.times -= 1;
                Some(rule.fault.clone())
            }
        }
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
