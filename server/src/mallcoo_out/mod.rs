//! Our calls to Mallcoo's open platform: the entry notice (PROTOCOLS.md §2.5) queued in the
//! outbox with each entry, signed per §2.6 when it is sent, and Mallcoo's answer classified.
//!
//! `notice` owns the row (what is stored, when it is queued), `send` the signing and the reading
//! of the answer; the outbox's dispatcher and retry rules do the rest, as for P云.

pub mod notice;
pub mod send;

pub use notice::{PendingNotice, queue_tx};
pub use send::{NoticeAnswer, Prepared, prepare};
