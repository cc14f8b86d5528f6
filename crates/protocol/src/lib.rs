//! ParkBridge's protocol core: everything about P云 and Mallcoo that can be said without I/O.
//!
//! This crate performs no I/O, reads no clock and draws no random numbers: every time, secret
//! and identifier is a parameter. It builds for the host and for `wasm32-unknown-unknown`, where
//! the admin UI reuses it (fee previews, plate checks).
#![deny(missing_docs)]

pub mod alerts;
pub mod fee;
pub mod ledger;
pub mod mallcoo;
pub mod plate;
pub mod pyun;
pub mod pyun_carpark;
pub mod quote;
pub mod tariff;
pub mod time;
pub mod vip;
