//! Stand-ins for the platforms ParkBridge talks to (P云, Mallcoo) and the group-chat robots its
//! alerts go to, served over real HTTP.
//!
//! The demo, the end-to-end tests and the benchmarks run against these instead of the real
//! platforms: they verify signatures with the same protocol crate the gateway signs with, keep
//! what they received for assertions, and inject faults (latency, error answers, dropped
//! connections, garbage bodies) on demand.
#![deny(missing_docs)]

pub mod mallcoo;
pub mod pyun;
pub mod robots;
