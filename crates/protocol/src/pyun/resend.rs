//! Whether a P云 call may be sent again after an attempt, which turns on whether P云 can tell a
//! resend from a new request (digest §1.1, §1.3, §1.4; pyun-carpark.md §5 for `mcoupon/token`).
//!
//! [`OutcomeClass::retryable`] answers for a call P云 deduplicates; a call it cannot deduplicate
//! (`grant/create`, `mcoupon/token`) must not be resent once it may have arrived, whatever the
//! class says. [`Idempotency::after_answer`] and [`Idempotency::after_no_answer`] give the step
//! for both kinds, so the rule is stated once; they add to the classes, never change them.

use serde::{Deserialize, Serialize};

use super::outcome::{Outcome, OutcomeClass};

/// Whether P云 recognises a resent request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Idempotency {
    /// The request carries P云's deduplication key (`event_id`), so a resend is harmless.
    Keyed,
    /// Every call takes effect anew (`grant/create` issues again, `mcoupon/token` mints again).
    Unkeyed,
}

/// An attempt that ended without an answer from P云.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoAnswer {
    /// The request provably never left (connection refused, DNS): nothing can have happened.
    NotSent,
    /// Timeout, reset or a cut-off answer after the request may have reached P云.
    MaybeSent,
}

/// What the caller does after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    /// The call took effect (for a keyed call, possibly through an earlier attempt).
    Done,
    /// Refused for good (business refusal, bad credential or configuration, malformed request).
    Stop,
    /// Nothing took effect and it may work later: a bounded automatic retry is safe.
    Retry,
    /// It may have taken effect at P云: never resend automatically, a person decides.
    Unknown,
}

impl Idempotency {
    /// The step after P云 answered (any status, any body).
    ///
    /// An unkeyed call answered `5xx`/`1500`/`1405` or with no envelope may still have taken
    /// effect (P云 can fail after acting, and a proxy's page says nothing), so it is `Unknown`,
    /// as the gateway already treats grants (digest §1.4).
    pub fn after_answer(self, outcome: &Outcome) -> NextStep {
        match (outcome.class(), self) {
            (OutcomeClass::Success, _) => NextStep::Done,
            // 1403 means "P云 has this key already" only when there is a key.
            (OutcomeClass::AlreadyDone, Idempotency::Keyed) => NextStep::Done,
            (OutcomeClass::AlreadyDone, Idempotency::Unkeyed)
            | (OutcomeClass::Rejected | OutcomeClass::Misconfigured | OutcomeClass::Invalid, _) => {
                NextStep::Stop
            }
            (OutcomeClass::Transient, Idempotency::Keyed) => NextStep::Retry,
            (OutcomeClass::Transient, Idempotency::Unkeyed) => NextStep::Unknown,
        }
    }

    /// The step after an attempt that got no answer.
    pub fn after_no_answer(self, failure: NoAnswer) -> NextStep {
        match (failure, self) {
            (NoAnswer::NotSent, _) | (NoAnswer::MaybeSent, Idempotency::Keyed) => NextStep::Retry,
            (NoAnswer::MaybeSent, Idempotency::Unkeyed) => NextStep::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyun::decode_response;

    fn answer(status: u16, code: &str) -> Outcome {
        decode_response(
            status,
            format!(r#"{{"code":"{code}","message":"m"}}"#).as_bytes(),
        )
    }

    #[test]
    fn a_keyed_call_follows_the_classes_unchanged() {
        for (status, code) in [
            (200, "1001"),
            (200, "1002"),
            (200, "1403"),
            (401, "401"),
            (400, "400"),
            (500, "1500"),
            (503, "503"),
        ] {
            let o = answer(status, code);
            let step = Idempotency::Keyed.after_answer(&o);
            assert_eq!(step == NextStep::Retry, o.retryable(), "{code}");
            assert_eq!(step == NextStep::Done, o.class().delivered(), "{code}");
        }
        let garbage = decode_response(502, b"<html>");
        assert_eq!(Idempotency::Keyed.after_answer(&garbage), NextStep::Retry);
        for failure in [NoAnswer::NotSent, NoAnswer::MaybeSent] {
            assert_eq!(Idempotency::Keyed.after_no_answer(failure), NextStep::Retry);
        }
    }

    #[test]
    fn an_unkeyed_call_that_may_have_arrived_is_never_retried() {
        let u = Idempotency::Unkeyed;
        assert_eq!(u.after_no_answer(NoAnswer::MaybeSent), NextStep::Unknown);
        assert_eq!(u.after_no_answer(NoAnswer::NotSent), NextStep::Retry);
        for (status, code) in [(500, "500"), (200, "1500"), (503, "503"), (200, "1405")] {
            assert_eq!(u.after_answer(&answer(status, code)), NextStep::Unknown);
        }
        assert_eq!(
            u.after_answer(&decode_response(200, b"")),
            NextStep::Unknown
        );
        assert_eq!(u.after_answer(&answer(200, "1001")), NextStep::Done);
        for (status, code) in [(400, "400"), (401, "401"), (403, "403"), (200, "1403")] {
            assert_eq!(
                u.after_answer(&answer(status, code)),
                NextStep::Stop,
                "{code}"
            );
        }
    }
}
