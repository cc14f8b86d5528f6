//! Discounts on parking stays (PROTOCOLS.md §5.1), whatever their source: recorded once per
//! (car park, source, source key), counted by the stay's one figure (`parking::stay` and
//! `protocol::ledger`), removable while active, kept for good once used.
//!
//! `store` reads and writes the rows, `view` is how the API shows them, `grant` records one
//! (the machine API's idempotent grant and a property manager's waiver), `revoke` removes one,
//! `used` marks a stay's discounts used when a payment or the exit counts them.

mod error;
mod grant;
mod revoke;
mod store;
mod used;
mod view;

pub use error::DiscountsError;
pub use grant::{
    GrantRequest, Granted, StayGrant, Vehicle, WAIVER_LABEL, Waiver, grant, grant_on_stay,
    lock_open, waive,
};
pub use revoke::revoke;
pub use store::{NewDiscount, Source, insert_once, views_of_stay};
pub use used::mark_used;
pub use view::{DiscountAnswer, DiscountView, FigureView, StayOwed};
