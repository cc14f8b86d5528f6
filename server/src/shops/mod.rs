//! Shops (商户) that validate their customers' parking (issue 17): shops and their offers per car
//! park (`store`), the quota counters (`quota`), and a merchant's validation of a plate
//! (`validate`) — a local discount recorded in the ledger, or a P云 coupon product granted
//! through the coupon outbox — a QR code at the till (`qr_token`) and its
//! claims (`claims`), and the monthly statement a shop is billed by (`statement`).

pub mod claims;
mod error;
pub mod qr_token;
pub mod quota;
pub mod statement;
pub mod store;
pub mod validate;

pub use error::ShopsError;
