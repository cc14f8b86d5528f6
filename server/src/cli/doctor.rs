//! `parkbridge doctor`: checks an installation with serve's own configuration and prints a table
//! (check, ok/warn/FAIL, detail); the exit code is non-zero when a check FAILs. It reads only:
//! it never migrates, never creates a key file and sends partners no request but one `HEAD`.

use std::time::Duration;

use clap::Args;

use super::doctor_checks::{Report, Status, database, disk, parks, partners, problems, secrets};
use super::serve::ServeArgs;

/// Serve's options (so one environment file serves both), and the network checks' bound.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Seconds each network step (resolve, connect, TLS handshake, the clock's request) may take.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
    probe_timeout_secs: u64,
}

/// Runs every check, prints the table; `Err` when any failed.
pub(crate) async fn run(args: DoctorArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut report = Report::default();
    let db = database::check(&args.serve.db, &mut report).await;
    secrets::check(&args.serve, db.as_ref(), &mut report).await;
    let usage = match &db {
        Some(db) => parks::check(db, &mut report).await,
        None => {
            report.add(
                "car parks",
                Status::Warn,
                "not checked: the database above is not usable",
            );
            parks::Usage::unknown()
        }
    };
    let timeout = Duration::from_secs(args.probe_timeout_secs);
    partners::check(&args.serve, usage, timeout, &mut report).await;
    disk::check(&args.serve.db.data_dir, &mut report);
    match &db {
        Some(db) => problems::check(db, &mut report).await,
        None => report.add("problems", Status::Warn, "not checked: no usable database"),
    }
    print!("{}", report.render());
    match report.count(Status::Fail) {
        0 => Ok(()),
        n => Err(format!("{n} check(s) failed").into()),
    }
}
