//! `pb-bench`: measures ParkBridge's added latency and throughput against the P云 sandbox.
//!
//! `cargo xtask bench` builds and runs it; see the `bench` crate for what is measured.

use std::path::PathBuf;
use std::process::ExitCode;

use bench::{self, Options};
use clap::Parser;

/// Measures the `parkbridge` binary given; the report goes to stdout and to `--out`.
#[derive(Debug, Parser)]
#[command(name = "pb-bench", about)]
struct Args {
    /// The `parkbridge` binary to measure (build it with `--release`).
    #[arg(long, required_unless_present = "serve_bare")]
    parkbridge: Option<PathBuf>,
    /// Internal: serve the Mallcoo scenario's bare baseline endpoint (it starts this itself).
    #[arg(long, hide = true)]
    serve_bare: bool,
    /// Smaller sizes: 1,000 latency calls per kind, 2,000 throughput events, 10,000 VIP rows.
    #[arg(long)]
    quick: bool,
    /// The built admin UI (`frontend/dist`), whose wasm bundle size is reported.
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Also write the markdown report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override the number of latency calls counted per kind.
    #[arg(long)]
    calls: Option<usize>,
    /// Override the number of throughput events.
    #[arg(long)]
    events: Option<usize>,
    /// Run only the Mallcoo scenario (fee query and payments over seeded sessions).
    #[arg(long)]
    mallcoo_only: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.serve_bare {
        return match bench::bare::serve().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pb-bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let Some(parkbridge) = args.parkbridge else {
        eprintln!("pb-bench: --parkbridge is required");
        return ExitCode::FAILURE;
    };
    let mut opts = Options::new(parkbridge, args.quick);
    opts.calls = args.calls.unwrap_or(opts.calls);
    opts.events = args.events.unwrap_or(opts.events);
    opts.mallcoo_only = args.mallcoo_only;
    opts.dist = args.dist;
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
