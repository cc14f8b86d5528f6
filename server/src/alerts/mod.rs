//! Alerts to operators' group chats (issue 18): the channels admins configure and sending them
//! a message. Messages are built by `protocol::alerts`; this module stores the channels (their
//! URLs and secrets sealed) and does the HTTP.

pub mod channels;
pub mod send;
