//! Mallcoo's V1.4 request bodies: any bytes decode to a request or an error, never a panic; a
//! request that decodes validates without panicking, and what we write of it reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::mallcoo::{PayFeeRequest, PaymentInfoRequest, TrafficRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What we decoded, we write; what we write, we read back as the same request.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
    let text = serde_json::to_string(v).expect("a decoded request serialises");
    let again: T = serde_json::from_str(&text).expect("what we write, we read");
    assert_eq!(&again, v, "{text}");
}

fuzz_target!(|body: &[u8]| {
    if let Ok(req) = serde_json::from_slice::<PaymentInfoRequest>(body) {
        let _ = req.validate();
        round_trip(&req);
    }
    if let Ok(req) = serde_json::from_slice::<PayFeeRequest>(body) {
        let _ = req.validate();
        round_trip(&req);
    }
    if let Ok(req) = serde_json::from_slice::<TrafficRequest>(body) {
        let _ = req.validate();
        round_trip(&req);
    }
});
