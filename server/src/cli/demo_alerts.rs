//! The demo's alerts: a robots stand-in in the same process (a DingTalk robot in signed mode)
//! and a channel pointing at it, so the seeded coupon troubles become problems whose digests
//! arrive there; its page lists what it received.

use protocol::alerts::{ChannelKind, Language};
use sandbox::robots::{Robot, RobotsSandbox, RunningSandbox, robot_url};

use crate::alerts::channels::{self, ChannelChange, NewChannel};
use crate::secrets::{Secret, SecretBox};
use crate::storage::Db;
use crate::tokens;

/// The demo channel's name.
const CHANNEL: &str = "演示值班群（钉钉沙箱）";

/// Starts the stand-in and points the demo channel at it (its port and secret are new at every
/// start); returns the running stand-in, kept until the demo stops.
pub(crate) async fn start(
    db: &Db,
    secrets: &SecretBox,
) -> Result<(RobotsSandbox, RunningSandbox), Box<dyn std::error::Error>> {
    let robots = RobotsSandbox::new();
    let robot = Robot {
        kind: ChannelKind::Dingtalk,
        id: format!("demo-{}", tokens::random_hex(4)),
        secret: Some(format!("SEC{}", tokens::random_hex(16))),
        keyword: None,
    };
    robots.add_robot(robot.clone());
    let running = robots.start("127.0.0.1:0".parse()?).await?;
    let url = Secret::new(robot_url(&running.base_url, &robot));
    let secret = robot.secret.clone().map(Secret::new);
    let existing = channels::list(db)
        .await?
        .into_iter()
        .find(|c| c.name == CHANNEL);
    match existing {
        Some(c) => {
            let change = ChannelChange {
                url: Some(url),
                secret: Some(secret),
                ..ChannelChange::default()
            };
            channels::update(db, secrets, c.id, &change).await?;
        }
        None => {
            let new = NewChannel {
                name: CHANNEL.to_owned(),
                kind: ChannelKind::Dingtalk,
                url,
                secret,
                keyword: None,
                parks: None,
                kinds: None,
                language: Language::ZhCn,
            };
            channels::create(db, secrets, &new).await?;
        }
    }
    Ok((robots, running))
}
