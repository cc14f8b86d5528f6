//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use crate::cmd::{self, command, step};
use crate::{dist, frontend_build, schemathesis, tools};

/// Runs every check; extra args are passed to `cargo test` (e.g. a test name filter).
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    let started = std::time::Instant::now();
    step("tools", tools::ensure_frontend_tools)?;
    step("chromium", tools::ensure_chromium)?;
    step("debootstrap + systemd-nspawn", tools::ensure_machine_tools)?;
    step("format", || {
        cmd::run(command("cargo", &["fmt", "--all", "--", "--check"]))
    })?;
    step("clippy (host)", || {
        cmd::run(command(
            "cargo",
            &[
                "clippy",
                "--locked",
                "--all-targets",
                // The split step's binary, which needs this feature, is linted too.
                "--features",
                "xtask/split",
                "--",
                "-D",
                "warnings",
            ],
        ))
    })?;
    step("clippy (frontend, wasm32)", || {
        cmd::run(command(
            "cargo",
            &[
                "clippy",
                "--locked",
                "-p",
                "frontend",
                "--target",
                "wasm32-unknown-unknown",
                "--",
                "-D",
                "warnings",
            ],
        ))
    })?;
    step("protocol for wasm32", || {
        cmd::run(command(
            "cargo",
            &[
                "build",
                "--locked",
                "-p",
                "protocol",
                "--target",
                "wasm32-unknown-unknown",
            ],
        ))
    })?;
    step("protocol tests on wasm32 (node)", || {
        let mut test = command(
            "cargo",
            &[
                "test",
                "--locked",
                "-p",
                "protocol",
                "--target",
                "wasm32-unknown-unknown",
                "--test",
                "wasm_vectors",
            ],
        );
        // wasm-bindgen-test-runner (installed with wasm-bindgen-cli) runs the tests in node.
        test.env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        );
        cmd::run(test)
    })?;
    step("frontend (trunk build)", frontend_build::build)?;
    // The one release build of the run: tests/tests/package.rs inspects and runs what it made.
    dist::package()?;
    step("server binary", || {
        cmd::run(command("cargo", &["build", "--locked", "-p", "parkbridge"]))
    })?;
    // The OpenAPI document is the contract: schemathesis holds the binary just built to it.
    step("contract (schemathesis)", schemathesis::run)?;
    step("tests (unit, integration, end-to-end, browser)", || {
        let root = cmd::root();
        let mut test = command("cargo", &["test", "--locked"]);
        test.args(extra);
        // The end-to-end tests drive the binary and the frontend just built above.
        test.env("PARKBRIDGE_BIN", root.join("target/debug/parkbridge"));
        test.env("PARKBRIDGE_STATIC_DIR", root.join("frontend/dist"));
        cmd::run(test)
    })?;
    println!(
        "\nall checks passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
