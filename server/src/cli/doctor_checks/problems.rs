//! The problems detection has open now (the same list as the UI's 问题 page).

use chrono::Utc;
use protocol::alerts::Language;

use super::{Report, Status};
use crate::alerts::problems;
use crate::storage::Db;

/// Most problems listed one per row; the rest are counted.
const LISTED: usize = 10;

/// Adds a row per open problem, or one saying there is none.
pub(in crate::cli) async fn check(db: &Db, report: &mut Report) {
    let open = match problems::list(db, true, None, Utc::now()).await {
        Ok(open) => open,
        Err(e) => {
            report.add("problems", Status::Fail, format!("cannot read them: {e}"));
            return;
        }
    };
    if open.is_empty() {
        report.add("problems", Status::Ok, "none open");
        return;
    }
    for p in open.iter().take(LISTED) {
        let place = p
            .park_name
            .as_deref()
            .map_or(String::new(), |n| format!(" at {n}"));
        let label = p
            .label
            .as_deref()
            .map_or(String::new(), |l| format!(" ({l})"));
        report.add(
            format!("problem #{}", p.id),
            Status::Warn,
            format!(
                "{}{place}{label}: {} occurrence(s) since {}",
                p.kind.title(Language::En),
                p.count,
                p.first_seen.format("%Y-%m-%d %H:%M UTC")
            ),
        );
    }
    if open.len() > LISTED {
        report.add(
            "problems",
            Status::Warn,
            format!("{} more open; see the 问题 page", open.len() - LISTED),
        );
    }
}
