//! The checks of `parkbridge doctor`: each module adds rows to one [`Report`], which prints as a
//! table. Checks only read: nothing is migrated, created or sent that could change a partner.

pub(super) mod database;
pub(super) mod disk;
pub(super) mod parks;
pub(super) mod partners;
pub(super) mod problems;
pub(super) mod secrets;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// Fine.
    Ok,
    /// Works, but someone should look (a half-configured integration, little disk, a problem).
    Warn,
    /// Broken: the exit code is non-zero.
    Fail,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// One line of the table. Details name things (a credential's name, a file, a host), never a
/// secret's value.
#[derive(Debug, Clone)]
pub(super) struct Row {
    check: String,
    status: Status,
    detail: String,
}

/// The rows so far.
#[derive(Debug, Default)]
pub(super) struct Report {
    rows: Vec<Row>,
}

impl Report {
    /// Adds a row.
    pub(super) fn add(
        &mut self,
        check: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) {
        self.rows.push(Row {
            check: check.into(),
            status,
            detail: detail.into(),
        });
    }

    /// How many rows have `status`.
    pub(super) fn count(&self, status: Status) -> usize {
        self.rows.iter().filter(|r| r.status == status).count()
    }

    /// The table: a header, one line per row, and the totals.
    pub(super) fn render(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|r| display_width(&r.check))
            .chain([display_width("CHECK")])
            .max()
            .unwrap_or(5);
        let mut out = String::new();
        let mut line = |check: &str, status: &str, detail: &str| {
            let pad = " ".repeat(width - display_width(check));
            out.push_str(&format!("{check}{pad}  {status:<6}  {detail}\n"));
        };
        line("CHECK", "STATUS", "DETAIL");
        for r in &self.rows {
            line(&r.check, r.status.label(), &r.detail);
        }
        out.push_str(&format!(
            "\n{} ok, {} warn, {} FAIL\n",
            self.count(Status::Ok),
            self.count(Status::Warn),
            self.count(Status::Fail)
        ));
        out
    }
}

/// Columns a terminal gives `text`: CJK and full-width characters take two (car park names are
/// Chinese).
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| match u32::from(c) {
            0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF => 2,
            0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// `n` bytes for people (KiB, MiB, GiB).
pub(super) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_chinese_and_counts_each_status() {
        let mut r = Report::default();
        r.add("停车场 a", Status::Ok, "x");
        r.add("database", Status::Fail, "y");
        r.add("disk", Status::Warn, "z");
        let text = r.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].find("STATUS"), Some(10));
        assert_eq!(lines[2].find("FAIL"), Some(10));
        // 停车场 is three characters of two columns each: the status lines up all the same.
        assert_eq!(lines[1].find("ok"), Some(9 + 2 + 2));
        assert!(text.ends_with("1 ok, 1 warn, 1 FAIL\n"), "{text}");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
