//! The `parkbridge` binary: parses the command line and hands over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    parkbridge::cli::run(parkbridge::cli::Cli::parse())
}
