//! `cargo xtask demo`: tools, frontend, then `parkbridge demo` in the foreground.

use crate::cmd::{self, command, step};
use crate::{frontend_build, tools};

/// Builds everything and runs the demo server until Ctrl-C; extra args go to `parkbridge demo`.
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    step("tools", tools::ensure_frontend_tools)?;
    step("frontend (trunk build)", frontend_build::build)?;
    step("server (cargo build)", || {
        cmd::run(command("cargo", &["build", "--locked", "-p", "parkbridge"]))
    })?;
    let root = cmd::root();
    let bin = root.join("target/debug/parkbridge");
    let data = root.join("target/demo");
    let mut demo = command(&bin.to_string_lossy(), &["demo"]);
    demo.arg("--data-dir")
        .arg(&data)
        .arg("--static-dir")
        .arg(root.join("frontend/dist"));
    // `cargo xtask demo -- --listen …` (the README's form) hands us the `--` itself.
    let extra = extra.strip_prefix(&["--".to_owned()]).unwrap_or(extra);
    demo.args(extra);
    println!("\nStarting the demo (Ctrl-C stops it)…");
    cmd::run(demo)
}
