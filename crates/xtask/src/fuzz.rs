//! `cargo xtask fuzz [--seconds N] [TARGET ...]`: runs the protocol crate's `cargo fuzz` targets
//! (`crates/protocol/fuzz`), each for N seconds (default 60), starting from the committed seeds.
//!
//! libFuzzer needs the nightly toolchain (`-Zsanitizer`); `cargo-fuzz` is installed from
//! crates.io when missing. New inputs go to `fuzz/corpus/<target>` (not committed); a crash
//! leaves its input in `fuzz/artifacts/<target>` and fails the command.

use std::path::Path;

use crate::cmd::{self, command, step};

/// Every target, in the order they run.
const TARGETS: [&str; 5] = [
    "pyun_envelope",
    "mallcoo_request",
    "plate",
    "csv_rows",
    "tariff_quote",
];

/// Parses the arguments, makes sure the tools exist, and runs the chosen targets in turn.
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    let usage = || {
        format!(
            "usage: cargo xtask fuzz [--seconds N] [{}]",
            TARGETS.join(" | ")
        )
    };
    let mut seconds: u64 = 60;
    let mut chosen: Vec<&str> = Vec::new();
    let mut args = extra.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|&s| s > 0)
                    .ok_or_else(usage)?;
            }
            t => match TARGETS.iter().find(|&&known| known == t) {
                Some(known) => chosen.push(known),
                None => return Err(format!("unknown fuzz target `{t}`; {}", usage())),
            },
        }
    }
    if chosen.is_empty() {
        chosen = TARGETS.to_vec();
    }
    step("fuzz tools", ensure_tools)?;
    let protocol = cmd::root().join("crates/protocol");
    for target in chosen {
        step(&format!("fuzz {target} for {seconds} s"), || {
            run_target(&protocol, target, seconds)
        })?;
    }
    Ok(())
}

/// The nightly toolchain (told how to get it, since it cannot come from a package registry) and
/// `cargo-fuzz` (built from crates.io when missing).
fn ensure_tools() -> Result<(), String> {
    let toolchains = cmd::output(command("rustup", &["toolchain", "list"])).unwrap_or_default();
    if !toolchains.lines().any(|l| l.starts_with("nightly")) {
        return Err(
            "fuzzing needs the nightly toolchain for libFuzzer's sanitizers: \
                    `rustup toolchain install nightly --profile minimal`"
                .to_owned(),
        );
    }
    if cmd::output(command("cargo", &["fuzz", "--version"])).is_none() {
        cmd::run(command("cargo", &["install", "cargo-fuzz", "--locked"]))?;
    }
    Ok(())
}

fn run_target(protocol: &Path, target: &str, seconds: u64) -> Result<(), String> {
    let corpus = format!("fuzz/corpus/{target}");
    std::fs::create_dir_all(protocol.join(&corpus))
        .map_err(|e| format!("cannot create {corpus}: {e}"))?;
    let seeds = format!("fuzz/seeds/{target}");
    let max_time = format!("-max_total_time={seconds}");
    let mut c = command(
        "cargo",
        &[
            "+nightly",
            "fuzz",
            "run",
            target,
            &corpus,
            &seeds,
            "--",
            &max_time,
            "-print_final_stats=1",
        ],
    );
    c.current_dir(protocol);
    cmd::run(c).map_err(|e| {
        format!("{e}\nthe crashing input is in crates/protocol/fuzz/artifacts/{target}/")
    })
}
