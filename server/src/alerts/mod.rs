//! Operators hear about trouble where they already are (issue 18): problems detected from what
//! ParkBridge records, and digests of them sent to the WeCom/DingTalk/Feishu robots and webhooks
//! admins configure. Messages are built by `protocol::alerts`; this module detects, stores,
//! schedules and sends.
//!
//! Flow: `worker` ticks → under the `lease`, `detect` finds conditions and `problems` opens,
//! refreshes and resolves problems → `digest` enqueues what is due per channel → `queue` leases
//! and `send`s each message, paced per channel; `sends` reads a channel's last messages back.

pub mod channels;
pub mod detect;
pub mod digest;
pub mod lease;
pub mod problems;
pub mod queue;
pub mod send;
pub mod sends;
pub mod worker;
