//! A stand-in for the group-chat robots alerts go to (alert-channels.md): WeCom's
//! `/cgi-bin/webhook/send?key=`, DingTalk's `/robot/send?access_token=` (signed mode checked
//! against §A4's scheme), Feishu's `/open-apis/bot/v2/hook/{id}` (signed mode, keyword) and a
//! generic `/webhook/{name}` verifying `X-ParkBridge-Signature`.
//!
//! Each judges a call as its vendor does — unknown robot, body, length, signature, keyword, the
//! per-minute rate limit — and answers the vendor's codes inside HTTP 200, so ParkBridge's
//! sender meets the answers it will meet in production. A control API under `/_sandbox/robots`
//! (no authentication: loopback only) adds robots, forces answers and lists what arrived; `GET
//! /_sandbox/robots` is a page listing the messages for a person trying the demo.

pub mod cli;
mod control;
mod handlers;
mod judge;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use protocol::alerts::ChannelKind;

pub use crate::pyun::RunningSandbox;
pub use state::{ForcedAnswer, ReceivedMessage, Robot};

use state::State;

/// The robots' stand-in; clones share one state.
#[derive(Clone, Default)]
pub struct RobotsSandbox {
    // A std Mutex: every critical section is short and synchronous, never across an `.await`.
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for RobotsSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Robot ids are credentials: only counts are shown.
        self.with(|s| {
            f.debug_struct("RobotsSandbox")
                .field("robots", &s.robots.len())
                .field("received", &s.received.len())
                .finish_non_exhaustive()
        })
    }
}

/// The URL ParkBridge is given for `robot` on a stand-in at `base_url`.
pub fn robot_url(base_url: &str, robot: &Robot) -> String {
    let base = base_url.trim_end_matches('/');
    match robot.kind {
        ChannelKind::Wecom => format!("{base}/cgi-bin/webhook/send?key={}", robot.id),
        ChannelKind::Dingtalk => format!("{base}/robot/send?access_token={}", robot.id),
        ChannelKind::Feishu => format!("{base}/open-apis/bot/v2/hook/{}", robot.id),
        ChannelKind::Webhook => format!("{base}/webhook/{}", robot.id),
    }
}

impl RobotsSandbox {
    /// A stand-in with no robots: every call is answered "unknown robot".
    pub fn new() -> RobotsSandbox {
        RobotsSandbox::default()
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Adds (or replaces) a robot.
    pub fn add_robot(&self, robot: Robot) {
        self.with(|s| s.robots.insert(robot.id.clone(), robot));
    }

    /// The next `times` calls to robot `id` get `answer` whatever they hold.
    pub fn force(&self, id: &str, answer: ForcedAnswer, times: usize) {
        self.with(|s| {
            s.forced
                .entry(id.to_owned())
                .or_default()
                .extend(std::iter::repeat_n(answer, times))
        });
    }

    /// Every call received, valid or not, in arrival order.
    pub fn received(&self) -> Vec<ReceivedMessage> {
        self.with(|s| s.received.clone())
    }

    /// The messages robots showed in their groups, in arrival order.
    pub fn shown(&self) -> Vec<ReceivedMessage> {
        self.with(|s| s.received.iter().filter(|m| m.accepted).cloned().collect())
    }

    /// Forgets what was received, forced answers and rate-limit windows; robots stay.
    pub fn reset(&self) {
        self.with(|s| {
            s.received.clear();
            s.forced.clear();
            s.accepted_at.clear();
        });
    }

    /// The vendors' endpoints and the control API.
    pub fn router(&self) -> axum::Router {
        handlers::routes()
            .merge(control::routes())
            .with_state(self.clone())
    }

    /// Serves the stand-in on `addr` until the returned handle is dropped.
    pub async fn start(&self, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
        crate::pyun::serve_router(addr, self.router()).await
    }
}
