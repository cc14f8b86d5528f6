//! `cargo xtask bench`: builds the server and the load tool with `--release`, then runs
//! `pb-bench` (see `sandbox::bench`), which writes `target/bench-report.md`.

use crate::cmd::{self, command, step};

/// Builds and runs the benchmark; `--quick` selects the smaller sizes.
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    let quick = match extra {
        [] => false,
        [flag] if flag == "--quick" => true,
        _ => return Err("usage: cargo xtask bench [--quick]".to_owned()),
    };
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
                "sandbox",
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
            .arg(&report);
        if quick {
            bench.arg("--quick");
        }
        cmd::run(bench)
    })?;
    println!("\nReport: {}", report.display());
    Ok(())
}
