//! Coupons (PROTOCOLS.md §1.3, §1.4): event coupons and grants by coupon code, accepted from
//! machine clients and property managers, committed to the outbox, delivered to P云.
//!
//! `config` is what admins set per car park, `request` what an accepted request stores and how
//! it is signed, `intake` validates a request and hands it to the outbox.

pub mod config;
pub mod intake;
pub mod request;
