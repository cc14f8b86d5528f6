//! `pb-bench`: measures ParkBridge's added latency and throughput against the P云 sandbox.
//!
//! `cargo xtask bench` builds and runs it; see `sandbox::bench` for what is measured.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sandbox::bench::{self, Options};

/// Measures the `parkbridge` binary given; the report goes to stdout and to `--out`.
#[derive(Debug, Parser)]
#[command(name = "pb-bench", about)]
struct Args {
    /// The `parkbridge` binary to measure (build it with `--release`).
    #[arg(long)]
    parkbridge: PathBuf,
    /// Smaller sizes: 1,000 latency calls per kind and 2,000 throughput events.
    #[arg(long)]
    quick: bool,
    /// Also write the markdown report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override the number of latency calls counted per kind.
    #[arg(long)]
    calls: Option<usize>,
    /// Override the number of throughput events.
    #[arg(long)]
    events: Option<usize>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut opts = Options::new(args.parkbridge, args.quick);
    opts.calls = args.calls.unwrap_or(opts.calls);
    opts.events = args.events.unwrap_or(opts.events);
    let report = match bench::run(&opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pb-bench: the run failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let md = report.to_markdown();
    println!("{md}");
    if let Some(out) = &args.out
        && let Err(e) = std::fs::write(out, &md)
    {
        eprintln!("pb-bench: cannot write {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    // A missed target is a result, not a failure of the run: the report says which.
    if !report.all_pass() {
        eprintln!("pb-bench: some targets were missed (see the report)");
    }
    ExitCode::SUCCESS
}
