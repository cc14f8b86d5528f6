//! Free space where the data directory is: SQLite stops writing (and the gates' entries fail)
//! when the disk is full.

use std::path::Path;

use super::{Report, Status, bytes};

/// Below this the check warns.
const WARN_BELOW: u64 = 1024 * 1024 * 1024;
/// Below this it fails: a day of busy traffic and its WAL no longer fit.
const FAIL_BELOW: u64 = 100 * 1024 * 1024;

/// Adds the disk row for `data_dir` (or its nearest existing parent).
pub(in crate::cli) fn check(data_dir: &Path, report: &mut Report) {
    let Some(existing) = data_dir.ancestors().find(|p| p.exists()) else {
        report.add(
            "disk",
            Status::Warn,
            format!("{} does not exist", data_dir.display()),
        );
        return;
    };
    match rustix::fs::statvfs(existing) {
        Err(e) => report.add(
            "disk",
            Status::Warn,
            format!("cannot read free space of {}: {e}", existing.display()),
        ),
        Ok(s) => {
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            let total = s.f_blocks.saturating_mul(s.f_frsize);
            let detail = format!(
                "{} free of {} at {}",
                bytes(free),
                bytes(total),
                existing.display()
            );
            let status = if free < FAIL_BELOW {
                Status::Fail
            } else if free < WARN_BELOW {
                Status::Warn
            } else {
                Status::Ok
            };
            report.add("disk", status, detail);
        }
    }
}
