//! What one delivery attempt means for a row: its next state and, when it is tried again, when.
//!
//! PROTOCOLS.md §1.1 classes P云's answers; §1.3/§1.4 say what may be resent; §2.5 classes
//! Mallcoo's answers to entry notices, with the same table for what carries no answer;
//! pyun-carpark.md §4.4 classes P云's answers to our uploads. Pure: the caller
//! passes the attempt count and a jitter draw, so every rule is unit-tested without a clock.

use std::time::Duration;

use protocol::pyun::{Outcome, OutcomeClass};

use super::{Kind, State};
use crate::mallcoo_out::NoticeAnswer;
use crate::pyun_client::TransportError;
use crate::pyun_upload::{UploadAnswer, blames_signature};
use protocol::mallcoo::EnterNotifyOutcome;
use protocol::pyun_carpark::UploadOutcome;

/// Bounded exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Delay before the second attempt (before jitter).
    pub base: Duration,
    /// Longest delay between attempts.
    pub cap: Duration,
    /// Attempts after which a retryable failure becomes `failed`.
    pub max_attempts: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_attempts: 8,
        }
    }
}

impl Policy {
    /// The delay after attempt number `attempts` (1-based), scaled into [50 %, 100 %] by
    /// `jitter` ∈ [0, 1) so that rows failing together do not retry together.
    pub fn delay(&self, attempts: u32, jitter: f64) -> Duration {
        let doubled = self
            .base
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
        doubled
            .min(self.cap)
            .mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    /// P云 answered (decodable or not).
    Answered(&'a Outcome),
    /// Mallcoo answered an entry notice (decodable or not).
    Notice(&'a NoticeAnswer),
    /// P云 answered an entry or leave upload (decodable or not).
    Upload(&'a UploadAnswer),
    /// No answer.
    Transport(&'a TransportError),
    /// Not sent: our own configuration is incomplete (no credential, no merchant…).
    NotConfigured(&'a str),
    /// Not sent: the stored request cannot make a valid P云 request (the note names the field).
    Invalid(&'a str),
    /// Not sent because there is nothing left to send: another row carries its content now.
    Superseded(&'a str),
}

/// The row's next state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The new state.
    pub state: State,
    /// For `pending`: how long until the next attempt.
    pub retry_in: Option<Duration>,
    /// Our explanation when P云's own message does not say it all.
    pub note: Option<String>,
}

impl Verdict {
    fn done(state: State, note: Option<String>) -> Verdict {
        Verdict {
            state,
            retry_in: None,
            note,
        }
    }
}

/// Decides the next state of a row of `kind` after its attempt number `attempts` (1-based).
pub fn decide(
    kind: Kind,
    attempts: u32,
    attempt: Attempt<'_>,
    policy: &Policy,
    jitter: f64,
) -> Verdict {
    let retry = |why: String| {
        if attempts >= policy.max_attempts {
            Verdict::done(
                State::Failed,
                Some(format!("gave up after {attempts} attempts: {why}")),
            )
        } else {
            Verdict {
                state: State::Pending,
                retry_in: Some(policy.delay(attempts, jitter)),
                note: Some(why),
            }
        }
    };
    let maybe_arrived = |why: String| {
        if kind.resendable() {
            retry(why)
        } else {
            // §1.4: P云 cannot deduplicate a grant, so one that may have arrived is never resent.
            Verdict::done(
                State::Unknown,
                Some(format!(
                    "{why}; the grant may have reached P云, so it is not resent: check P云 and reconcile"
                )),
            )
        }
    };
    match attempt {
        Attempt::NotConfigured(why) => Verdict::done(State::Misconfigured, Some(why.to_owned())),
        Attempt::Invalid(why) => Verdict::done(State::Rejected, Some(why.to_owned())),
        Attempt::Superseded(why) => Verdict::done(State::Delivered, Some(why.to_owned())),
        Attempt::Transport(TransportError::NotSent(why)) => retry(why.clone()),
        Attempt::Transport(TransportError::MaybeSent(why)) => maybe_arrived(why.clone()),
        Attempt::Notice(answer) => match (answer.http_status, &answer.outcome) {
            // Refused credentials are ours to fix, whatever the body says.
            (401 | 403, _) => Verdict::done(
                State::Misconfigured,
                Some(format!(
                    "Mallcoo refused our credentials (HTTP {}): check the car park's outbound Mallcoo credential",
                    answer.http_status
                )),
            ),
            (status @ 500..=599, _) => maybe_arrived(format!(
                "Mallcoo answered HTTP {status}: {}",
                answer.message()
            )),
            (_, EnterNotifyOutcome::Success) => Verdict::done(State::Delivered, None),
            (_, EnterNotifyOutcome::Invalid { message }) => Verdict::done(
                State::Rejected,
                Some(format!("Mallcoo refused a parameter (Code 2): {message}")),
            ),
            (_, EnterNotifyOutcome::Misconfigured { message }) => Verdict::done(
                State::Misconfigured,
                Some(format!(
                    "Mallcoo does not know the car park's ParkCode (Code 1101): {message}"
                )),
            ),
            (status, EnterNotifyOutcome::Transient { code, message }) => {
                maybe_arrived(match code {
                    Some(code) => {
                        format!("Mallcoo answered Code {code} (HTTP {status}): {message}")
                    }
                    None => format!("Mallcoo answered HTTP {status}: {message}"),
                })
            }
        },
        Attempt::Upload(answer) => match &answer.outcome {
            UploadOutcome::Accepted => Verdict::done(State::Delivered, None),
            // DOC note 6: P云 reports a bad signature only this way. Resending the same signature
            // cannot help and a retry loop would hold the stay's leave back (D18): it stops here,
            // with P云's hint (its plaintext, `app_secret=***`) kept on the row to diff with ours.
            // Any other "ignored" hint: P云 has the stay or refuses it for good; production
            // advice (D18) is to count it done, so it is, with P云's hint kept on the row.
            UploadOutcome::SignatureRejected { hint } if !blames_signature(hint) => Verdict::done(
                State::Delivered,
                Some(format!(
                    "P云 took the upload but ignored it (200 + hint): {hint}"
                )),
            ),
            UploadOutcome::SignatureRejected { .. } => Verdict::done(
                State::Misconfigured,
                Some(
                    "P云 ignored the upload: signature check failed (200 + hint); check the car \
                     park's pyun_carpark upload secret — P云's hint shows the plaintext it signed"
                        .to_owned(),
                ),
            ),
            UploadOutcome::Invalid { hint } => Verdict::done(
                State::Rejected,
                Some(format!(
                    "P云 refused a parameter (400): {}",
                    hint.as_deref().unwrap_or("no hint")
                )),
            ),
            UploadOutcome::Intercepted => Verdict::done(
                State::Rejected,
                Some(
                    "P云 intercepted the upload (403): check the car park's access at P云 \
                     (park_uuid, allowed addresses)"
                        .to_owned(),
                ),
            ),
            UploadOutcome::Transient => maybe_arrived(answer.describe()),
        },
        Attempt::Answered(outcome) => match outcome.class() {
            OutcomeClass::Success => Verdict::done(State::Delivered, None),
            // A 1403 on a resend of an event means an earlier attempt got through; on a first
            // attempt it means the caller reused an event_id P云 had already seen.
            OutcomeClass::AlreadyDone if kind.resendable() && attempts > 1 => Verdict::done(
                State::Delivered,
                Some("P云 answered 1403 (duplicate): an earlier attempt was delivered".to_owned()),
            ),
            OutcomeClass::AlreadyDone | OutcomeClass::Rejected | OutcomeClass::Invalid => {
                Verdict::done(State::Rejected, None)
            }
            OutcomeClass::Misconfigured => Verdict::done(State::Misconfigured, None),
            OutcomeClass::Transient => maybe_arrived(match outcome {
                Outcome::Answered { response, .. } => {
                    format!("P云 answered {} ({})", response.code, response.message)
                }
                Outcome::Undecodable {
                    http_status,
                    excerpt,
                } => format!("P云 answered HTTP {http_status} with no envelope: {excerpt}"),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::pyun::decode_response;

    fn notice(status: u16, body: &str, attempts: u32) -> Verdict {
        decide(
            Kind::EnterNotice,
            attempts,
            Attempt::Notice(&NoticeAnswer::read(status, body.as_bytes())),
            &policy(),
            0.0,
        )
    }

    #[test]
    fn entry_notice_answers_follow_section_2_5() {
        assert_eq!(
            notice(200, r#"{"Code":1,"Message":"成功"}"#, 1).state,
            State::Delivered
        );
        let v = notice(200, r#"{"Code":2,"Message":"PlateNo 为空"}"#, 1);
        assert_eq!((v.state, v.retry_in), (State::Rejected, None));
        let v = notice(200, r#"{"Code":1101,"Message":"车场不存在"}"#, 1);
        assert_eq!((v.state, v.retry_in), (State::Misconfigured, None));
        for status in [401, 403] {
            let v = notice(status, r#"{"Code":1,"Message":"?"}"#, 1);
            assert_eq!(v.state, State::Misconfigured, "{status}");
        }
    }

    #[test]
    fn entry_notice_faults_are_retried_then_given_up() {
        for (status, body) in [
            (503, r#"{"Code":1,"Message":"busy"}"#),
            (502, "<html>bad gateway</html>"),
            (200, "not json"),
            (200, r#"{"Code":500,"Message":"内部错误"}"#),
        ] {
            let v = notice(status, body, 1);
            assert_eq!(v.state, State::Pending, "{status} {body}");
            assert_eq!(v.retry_in, Some(Duration::from_millis(50)));
            assert_eq!(
                notice(status, body, 3).state,
                State::Failed,
                "{status} {body}"
            );
        }
        let timeout = TransportError::MaybeSent("no answer".into());
        let v = decide(
            Kind::EnterNotice,
            1,
            Attempt::Transport(&timeout),
            &policy(),
            0.0,
        );
        assert_eq!(v.state, State::Pending);
    }

    fn answered(code: &str) -> Outcome {
        decode_response(
            200,
            format!(r#"{{"code":"{code}","message":"m","seqno":"s1"}}"#).as_bytes(),
        )
    }

    fn policy() -> Policy {
        Policy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            max_attempts: 3,
        }
    }

    fn decide_answer(kind: Kind, attempts: u32, code: &str) -> Verdict {
        decide(
            kind,
            attempts,
            Attempt::Answered(&answered(code)),
            &policy(),
            0.0,
        )
    }

    #[test]
    fn success_codes_deliver_either_kind() {
        for kind in [Kind::CouponEvent, Kind::CouponGrant] {
            assert_eq!(decide_answer(kind, 1, "1001").state, State::Delivered);
            assert_eq!(decide_answer(kind, 1, "1000").state, State::Delivered);
        }
    }

    #[test]
    fn business_refusals_and_bad_requests_are_rejected_without_retry() {
        for code in ["1002", "1003", "400"] {
            let v = decide_answer(Kind::CouponEvent, 1, code);
            assert_eq!((v.state, v.retry_in), (State::Rejected, None), "{code}");
        }
    }

    #[test]
    fn credential_and_configuration_refusals_are_misconfigured() {
        for code in ["401", "403", "1401"] {
            assert_eq!(
                decide_answer(Kind::CouponGrant, 1, code).state,
                State::Misconfigured
            );
        }
    }

    #[test]
    fn a_duplicate_on_an_event_resend_is_delivered_but_on_a_first_attempt_is_rejected() {
        assert_eq!(
            decide_answer(Kind::CouponEvent, 2, "1403").state,
            State::Delivered
        );
        assert_eq!(
            decide_answer(Kind::CouponEvent, 1, "1403").state,
            State::Rejected
        );
        assert_eq!(
            decide_answer(Kind::CouponGrant, 2, "1403").state,
            State::Rejected
        );
    }

    #[test]
    fn transient_answers_retry_events_with_growing_delays_then_fail() {
        let first = decide_answer(Kind::CouponEvent, 1, "1500");
        assert_eq!(first.state, State::Pending);
        assert_eq!(first.retry_in, Some(Duration::from_millis(50)));
        let second = decide_answer(Kind::CouponEvent, 2, "1405");
        assert_eq!(second.retry_in, Some(Duration::from_millis(100)));
        let last = decide_answer(Kind::CouponEvent, 3, "1500");
        assert_eq!(last.state, State::Failed);
        assert!(last.note.unwrap().contains("3 attempts"));
    }

    #[test]
    fn a_grant_that_may_have_arrived_is_never_retried() {
        assert_eq!(
            decide_answer(Kind::CouponGrant, 1, "1500").state,
            State::Unknown
        );
        let undecodable = decode_response(502, b"<html>bad gateway</html>");
        let v = decide(
            Kind::CouponGrant,
            1,
            Attempt::Answered(&undecodable),
            &policy(),
            0.5,
        );
        assert_eq!(v.state, State::Unknown);
        let timeout = TransportError::MaybeSent("timeout".into());
        let v = decide(
            Kind::CouponGrant,
            1,
            Attempt::Transport(&timeout),
            &policy(),
            0.5,
        );
        assert_eq!((v.state, v.retry_in), (State::Unknown, None));
    }

    #[test]
    fn a_request_that_never_left_is_retried_for_either_kind() {
        let refused = TransportError::NotSent("connection refused".into());
        for kind in [Kind::CouponEvent, Kind::CouponGrant] {
            let v = decide(kind, 1, Attempt::Transport(&refused), &policy(), 0.0);
            assert_eq!(v.state, State::Pending);
        }
        let v = decide(
            Kind::CouponGrant,
            3,
            Attempt::Transport(&refused),
            &policy(),
            0.0,
        );
        assert_eq!(v.state, State::Failed);
    }

    #[test]
    fn an_event_that_may_have_arrived_is_resent() {
        let reset = TransportError::MaybeSent("connection reset".into());
        let v = decide(
            Kind::CouponEvent,
            1,
            Attempt::Transport(&reset),
            &policy(),
            0.0,
        );
        assert_eq!(v.state, State::Pending);
    }

    #[test]
    fn delays_are_capped_and_jitter_stays_within_half_to_full() {
        let p = policy();
        assert_eq!(p.delay(10, 0.0), Duration::from_millis(500));
        let near_full = p.delay(10, 0.999_999);
        assert!(near_full > Duration::from_millis(999) && near_full <= p.cap);
        assert!(p.delay(40, 0.5) <= p.cap);
    }

    fn upload(status: u16, body: &str, attempts: u32) -> Verdict {
        decide(
            Kind::PyunLeave,
            attempts,
            Attempt::Upload(&UploadAnswer::read(status, body.as_bytes())),
            &policy(),
            0.0,
        )
    }

    #[test]
    fn upload_answers_follow_pyun_carpark_section_4_4() {
        for body in [
            r#"{"code":"200","message":"成功受理","seqno":"S1"}"#,
            r#"{"code":"1000"}"#,
            r#"{"code":1001,"hint":""}"#,
        ] {
            let v = upload(200, body, 1);
            assert_eq!(
                (v.state, v.retry_in, v.note),
                (State::Delivered, None, None),
                "{body}"
            );
        }
        let hint = r#"{"code":"200","message":"已忽略当前请求","hint":"签名验证不通过[car_desc=临停车&app_secret=***]"}"#;
        let v = upload(200, hint, 1);
        assert_eq!((v.state, v.retry_in), (State::Misconfigured, None));
        assert!(v.note.unwrap().contains("signature"));
        // Ignored for another reason (a repeated serial, say): done, P云's words kept.
        let v = upload(
            200,
            r#"{"code":"200","message":"已忽略当前请求","hint":"重复的流水将被忽略"}"#,
            2,
        );
        assert_eq!(v.state, State::Delivered);
        assert!(v.note.unwrap().contains("重复的流水将被忽略"));
        let v = upload(400, r#"{"code":"400","hint":"参数`enter_time`未传递"}"#, 1);
        assert_eq!((v.state, v.retry_in), (State::Rejected, None));
        assert!(v.note.unwrap().contains("参数`enter_time`未传递"));
        let v = upload(403, r#"{"code":"403","message":"拦截"}"#, 1);
        assert_eq!((v.state, v.retry_in), (State::Rejected, None));
    }

    #[test]
    fn upload_faults_are_retried_then_given_up() {
        for (status, body) in [
            (500, r#"{"code":"500","message":"内部错误"}"#),
            (503, r#"{"code":"503"}"#),
            (502, "<html>bad gateway</html>"),
            (200, ""),
        ] {
            let v = upload(status, body, 1);
            assert_eq!(v.state, State::Pending, "{status} {body}");
            assert_eq!(v.retry_in, Some(Duration::from_millis(50)));
            assert_eq!(upload(status, body, 3).state, State::Failed);
        }
        // The body decides, not the status: a 500 whose body accepts is delivered.
        assert_eq!(upload(500, r#"{"code":"1001"}"#, 1).state, State::Delivered);
        for error in [
            TransportError::NotSent("connection refused".into()),
            TransportError::MaybeSent("timeout".into()),
        ] {
            for kind in [Kind::PyunEnter, Kind::PyunLeave] {
                let v = decide(kind, 1, Attempt::Transport(&error), &policy(), 0.0);
                assert_eq!(v.state, State::Pending, "{kind:?} {error:?}");
            }
        }
    }

    #[test]
    fn missing_configuration_stops_without_sending() {
        let v = decide(
            Kind::CouponEvent,
            1,
            Attempt::NotConfigured("no P云 credential"),
            &policy(),
            0.0,
        );
        assert_eq!(v.state, State::Misconfigured);
    }
}
