//! P云's answer envelope: any HTTP status and body decodes to an outcome, never a panic; an
//! envelope that decodes is classed by its code, anything else is `Undecodable` with a
//! non-empty excerpt (what the logs and the UI show).
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::pyun::{Outcome, OutcomeClass, PyunResponse, decode_response};

fuzz_target!(|input: (u16, &[u8])| {
    let (status, body) = input;
    let outcome = decode_response(status, body);
    assert_eq!(outcome.http_status(), status);
    match (&outcome, PyunResponse::from_body(body)) {
        (
            Outcome::Answered {
                class, response, ..
            },
            Some(again),
        ) => {
            assert_eq!(response, &again);
            assert_eq!(*class, OutcomeClass::of_code(&response.code));
        }
        (Outcome::Undecodable { excerpt, .. }, None) => {
            assert!(!excerpt.is_empty());
            assert!(
                outcome.retryable(),
                "an unreadable answer is transient (§1.1)"
            );
        }
        (o, r) => panic!("decode_response {o:?} disagrees with from_body {r:?}"),
    }
});
