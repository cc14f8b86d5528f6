//! `parkbridge sandbox robots`: the robots' stand-in, run until Ctrl-C.

use std::net::SocketAddr;

use protocol::alerts::ChannelKind;

use super::{Robot, RobotsSandbox, robot_url};

/// Options of `parkbridge sandbox robots`.
#[derive(Debug, Clone, clap::Args)]
pub struct RobotsSandboxArgs {
    /// Address to listen on; keep it on loopback, the control API has no authentication.
    #[arg(long, default_value = "127.0.0.1:9402")]
    pub listen: SocketAddr,
    /// A robot, as KIND:ID[:SECRET[:KEYWORD]] with KIND wecom, dingtalk, feishu or webhook
    /// (repeatable). Without any, one of each kind is made up and printed.
    #[arg(long = "robot", value_name = "KIND:ID[:SECRET[:KEYWORD]]", value_parser = parse_robot)]
    pub robots: Vec<Robot>,
}

fn parse_robot(text: &str) -> Result<Robot, String> {
    let mut parts = text.splitn(4, ':');
    let kind = parts
        .next()
        .and_then(ChannelKind::parse)
        .ok_or("KIND must be wecom, dingtalk, feishu or webhook")?;
    let id = parts
        .next()
        .filter(|id| !id.is_empty())
        .ok_or("ID is missing")?;
    let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(Robot {
        kind,
        id: id.to_owned(),
        secret: nonempty(parts.next()),
        keyword: nonempty(parts.next()),
    })
}

/// One robot of each kind, for a quick trial.
pub fn sample_robots() -> Vec<Robot> {
    vec![
        Robot {
            kind: ChannelKind::Wecom,
            id: "wecom-demo-key".to_owned(),
            secret: None,
            keyword: None,
        },
        Robot {
            kind: ChannelKind::Dingtalk,
            id: "dingtalk-demo-token".to_owned(),
            secret: Some("SECdemo-dingtalk-secret".to_owned()),
            keyword: Some("ParkBridge".to_owned()),
        },
        Robot {
            kind: ChannelKind::Feishu,
            id: "feishu-demo-hook".to_owned(),
            secret: Some("feishu-demo-secret".to_owned()),
            keyword: None,
        },
        Robot {
            kind: ChannelKind::Webhook,
            id: "alertmanager".to_owned(),
            secret: Some("whsec-demo".to_owned()),
            keyword: None,
        },
    ]
}

/// Configures the stand-in from the arguments and serves it until Ctrl-C.
pub async fn run_cli(args: RobotsSandboxArgs) -> std::io::Result<()> {
    let sandbox = RobotsSandbox::new();
    let robots = if args.robots.is_empty() {
        sample_robots()
    } else {
        args.robots.clone()
    };
    let running = sandbox.start(args.listen).await?;
    println!("Alert robots stand-in listening on {}", running.base_url);
    println!("What they received: {}/_sandbox/robots", running.base_url);
    for robot in robots {
        // This is a stand-in's made-up or given test secret, printed so it can be pasted into
        // ParkBridge; a real robot's secret never passes through here.
        let secret = robot
            .secret
            .as_deref()
            .map(|s| format!("  secret {s}"))
            .unwrap_or_default();
        println!(
            "  {:<8} {}{secret}",
            robot.kind.as_str(),
            robot_url(&running.base_url, &robot)
        );
        sandbox.add_robot(robot);
    }
    tokio::signal::ctrl_c().await?;
    drop(running);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_read_from_the_command_line() {
        let r = parse_robot("dingtalk:tok:SECx:停车").unwrap();
        assert_eq!(r.kind, ChannelKind::Dingtalk);
        assert_eq!(r.id, "tok");
        assert_eq!(r.secret.as_deref(), Some("SECx"));
        assert_eq!(r.keyword.as_deref(), Some("停车"));
        let r = parse_robot("wecom:key").unwrap();
        assert_eq!((r.secret, r.keyword), (None, None));
        assert!(parse_robot("slack:x").is_err());
        assert!(parse_robot("feishu:").is_err());
    }
}
