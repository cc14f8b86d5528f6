//! `cargo xtask demo | test | dist | bench | fuzz`: the project's two public commands and their helpers.
//!
//! Plain `std` on purpose: this must build and start in seconds on a fresh machine, before any
//! of the tools it installs exist.

mod bench;
mod cmd;
mod demo;
mod dist;
mod frontend_build;
mod fuzz;
mod schemathesis;
mod test;
mod tools;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  demo      install missing tools, build the frontend, run `parkbridge demo` on 127.0.0.1
  test      install missing tools, then fmt, clippy, the wasm32 build, schemathesis, all tests and browser tests
  contract  build `parkbridge` and run only the schemathesis step of `test` (the OpenAPI contract)
  ui        install missing frontend tools and build the UI into frontend/dist (for running tests by hand)
  dist      build the release binary (UI inside, glibc 2.17) and package it: target/dist/*.deb, *.tar.gz
            (--ui-built: package the UI already in frontend/dist)
  bench     build with --release and measure added latency and throughput (--quick: smaller)
  fuzz      run the protocol crate's cargo-fuzz targets ([--seconds N] [TARGET ...], nightly)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("contract") => schemathesis::build_and_run(),
        Some("dist") => dist::run(&args[1..]),
        Some("ui") => tools::ensure_frontend_tools().and_then(|()| frontend_build::build()),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
