//! Alerts to people's group chats (alert-channels.md): the kinds of problem, the digest
//! message about one, and each channel's call — WeCom, DingTalk and Feishu robots and our own
//! signed JSON webhook — with the vendors' signatures and how their answers are read.
//!
//! Pure like the rest of the crate: the server decides when to send and does the HTTP; the
//! signing time is a parameter.

pub mod message;
pub mod problem;
pub mod sign;
pub mod vendor;

pub use message::{Digest, Phase, Rendered, Style, truncate_utf8};
pub use problem::{Language, ProblemKind};
pub use vendor::{Answer, Call, Channel, ChannelError, ChannelKind, classify, masked_url};
