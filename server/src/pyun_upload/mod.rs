//! Our uploads to P云 as the car park (pyun-carpark.md §4): every entry and exit of a car park on
//! P云 car-park access goes to `internal/enter` / `internal/leave` through the durable outbox.
//!
//! `queue` writes the row in the gate event's transaction (`fields`: what it stores, unsigned),
//! `send` signs it with the car park's upload secret when it is sent and reads P云's answer; the
//! outbox's dispatcher and retry rules do the rest, as for every other outbound call.

pub mod fields;
pub mod queue;
pub mod send;

pub use queue::{queue_enter_tx, queue_leave_tx};
pub use send::{Prepared, UploadAnswer, blames_signature, prepare};
