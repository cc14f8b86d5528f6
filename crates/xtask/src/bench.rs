//! `cargo xtask bench`: builds the admin UI (its wasm bundle is measured), the server and the
//! load tool with `--release`, then runs `pb-bench` (see `crates/bench`), which writes
//! `target/bench-report.md`.

use crate::cmd::{self, command, step};
use crate::{frontend_build, tools};

/// Builds and runs the benchmark; `--quick` selects the smaller sizes, `--mallcoo-only` the
/// Mallcoo scenario alone.
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    const FLAGS: [&str; 2] = ["--quick", "--mallcoo-only"];
    if let Some(bad) = extra.iter().find(|a| !FLAGS.contains(&a.as_str())) {
        return Err(format!(
            "unknown argument `{bad}`; usage: cargo xtask bench [--quick] [--mallcoo-only]"
        ));
    }
    let mallcoo_only = extra.iter().any(|a| a == "--mallcoo-only");
    // Always: a release `parkbridge` carries the UI, so its build needs `frontend/dist`.
    step("tools", tools::ensure_frontend_tools)?;
    step("frontend (trunk build)", frontend_build::build)?;
    step("build (release)", || {
        cmd::run(command(
            "cargo",
            &[
                "build",
                "--locked",
                "--release",
                "-p",
                "parkbridge",
                "-p",
                "bench",
                "--bin",
                "parkbridge",
                "--bin",
                "pb-bench",
            ],
        ))
    })?;
    let root = cmd::root();
    let report = root.join("target/bench-report.md");
    step("benchmark", || {
        let mut bench = command(&root.join("target/release/pb-bench").to_string_lossy(), &[]);
        bench
            .arg("--parkbridge")
            .arg(root.join("target/release/parkbridge"))
            .arg("--out")
            .arg(&report)
            .args(extra);
        if !mallcoo_only {
            bench.arg("--dist").arg(root.join("frontend/dist"));
        }
        cmd::run(bench)
    })?;
    println!("\nReport: {}", report.display());
    Ok(())
}
