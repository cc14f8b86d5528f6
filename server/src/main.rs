//! The `parkbridge` binary: parses the command line and hands over to the library.

use clap::Parser;

/// mimalloc instead of glibc's malloc: see the dependency's comment in `Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    parkbridge::cli::run(parkbridge::cli::Cli::parse())
}
