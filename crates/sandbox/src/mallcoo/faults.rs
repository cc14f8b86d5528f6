//! Injected faults of the Mallcoo stand-in: what a rule matches, how often it fires, what it does.

use serde::{Deserialize, Serialize};

/// A fault to apply to the next entry notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// How many notices it applies to; 0 for every one until cleared.
    #[serde(default)]
    pub times: u32,
    /// How many notices it lets through first.
    #[serde(default)]
    pub skip: u32,
    /// What happens to those notices.
    pub fault: Fault,
}

/// What a fault does to a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Sleeps this long, then processes the notice normally (longer than the gateway's timeout:
    /// a timeout).
    Latency {
        /// Milliseconds added.
        ms: u64,
    },
    /// Answers this status and `{"Code", "Message"}` body without recording the notice (e.g.
    /// 503 + Code 500 for an overloaded Mallcoo, 200 + Code 1101 for an unknown car park).
    Answer {
        /// HTTP status of the answer.
        http_status: u16,
        /// The body's `Code`.
        code: i64,
        /// The body's `Message`.
        message: String,
    },
    /// Reads the whole notice, optionally records it, then closes the connection unanswered
    /// (a connection reset as the gateway sees it).
    Drop {
        /// Whether the notice is recorded before the drop (it reached Mallcoo, the answer did not).
        after_applying: bool,
    },
    /// Answers 200 with a body that is not JSON, as a misbehaving proxy would.
    MalformedJson {
        /// Whether the notice is recorded before the garbage answer.
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

    /// The fault for the next notice, counting it against the first rule's `times`.
    pub(crate) fn take(&mut self) -> Option<Fault> {
        let rule = self.rules.first_mut()?;
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        match rule.times {
            0 => Some(rule.fault.clone()),
            1 => Some(self.rules.remove(0).fault),
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

    fn answer(code: i64) -> Fault {
        Fault::Answer {
            http_status: 503,
            code,
            message: "busy".into(),
        }
    }

    #[test]
    fn rules_count_down_in_order() {
        let mut f = Faults::default();
        f.push(FaultRule {
            times: 2,
            skip: 1,
            fault: answer(500),
        });
        f.push(FaultRule {
            times: 1,
            skip: 0,
            fault: Fault::Latency { ms: 5 },
        });
        assert_eq!(f.take(), None);
        assert_eq!(f.take(), Some(answer(500)));
        assert_eq!(f.take(), Some(answer(500)));
        assert_eq!(f.take(), Some(Fault::Latency { ms: 5 }));
        assert_eq!(f.take(), None);
    }

    #[test]
    fn zero_times_is_forever_until_cleared_and_serde_is_kind_tagged() {
        let mut f = Faults::default();
        let rule: FaultRule =
            serde_json::from_str(r#"{"fault":{"kind":"drop","after_applying":true}}"#).unwrap();
        f.push(rule);
        for _ in 0..3 {
            assert_eq!(
                f.take(),
                Some(Fault::Drop {
                    after_applying: true
                })
            );
        }
        f.clear();
        assert_eq!(f.take(), None);
    }
}
