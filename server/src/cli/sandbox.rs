//! `parkbridge sandbox …`: stand-ins of the platforms we talk to, for trials and tests.
//!
//! A sandbox answers like the real platform (same envelope, codes and signature checks) but
//! issues nothing real, and its control API under `/_sandbox/` has no authentication: never
//! point a production gateway at one, and keep it on loopback.

use clap::Subcommand;

use sandbox::mallcoo::cli::MallcooSandboxArgs;
use sandbox::pyun::cli::{PyunSandboxArgs, run_cli};
use sandbox::robots::cli::RobotsSandboxArgs;

/// The sandboxes that can be run.
#[derive(Debug, Subcommand)]
pub(crate) enum SandboxCommand {
    /// Run a stand-in of P云 (4pyun) for trials and tests — never for production.
    Pyun(PyunSandboxArgs),
    /// Run a stand-in of Mallcoo's entry-notice receiver (EnterInfoNotify) for trials and tests.
    Mallcoo(MallcooSandboxArgs),
    /// Run a stand-in of the WeCom, DingTalk and Feishu robots (and a webhook) alerts go to.
    Robots(RobotsSandboxArgs),
}

/// Runs the chosen sandbox until Ctrl-C.
pub(crate) async fn run(cmd: SandboxCommand) -> Result<(), Box<dyn std::error::Error>> {
    match cmd {
        SandboxCommand::Pyun(args) => Ok(run_cli(args).await?),
        SandboxCommand::Mallcoo(args) => Ok(sandbox::mallcoo::cli::run_cli(args).await?),
        SandboxCommand::Robots(args) => Ok(sandbox::robots::cli::run_cli(args).await?),
    }
}
