//! Percentiles of a latency sample and the markdown report.

use std::fmt::Write as _;
use std::time::Duration;

/// The two percentiles the targets speak of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (sorted here); zero for an empty sample.
    pub fn of(samples: &mut [Duration]) -> Percentiles {
        samples.sort_unstable();
        Percentiles {
            p50: nearest_rank(samples, 50),
            p99: nearest_rank(samples, 99),
        }
    }
}

/// The smallest sample with at least `pct` % of the sample at or below it.
fn nearest_rank(sorted: &[Duration], pct: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Milliseconds with microsecond resolution, e.g. `0.412 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// `a - b` in milliseconds, signed: the gateway can be faster than the baseline at the median
/// by noise alone, and hiding that would misstate the measurement.
pub fn ms_diff(a: Duration, b: Duration) -> String {
    format!("{:.3} ms", (a.as_secs_f64() - b.as_secs_f64()) * 1e3)
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub figure: String,
    /// The measurement.
    pub value: String,
    /// The target, or `—` for a figure given for context.
    pub target: String,
    /// Whether the target was met; `None` for context figures.
    pub pass: Option<bool>,
}

impl Row {
    /// A figure with a target.
    pub fn target(figure: &str, value: String, target: &str, pass: bool) -> Row {
        Row {
            figure: figure.to_owned(),
            value,
            target: target.to_owned(),
            pass: Some(pass),
        }
    }

    /// A figure given for context, without a target.
    pub fn info(figure: &str, value: String) -> Row {
        Row {
            figure: figure.to_owned(),
            value,
            target: "—".to_owned(),
            pass: None,
        }
    }
}

/// The whole report: a title, lines of context and the table.
#[derive(Debug, Clone)]
pub struct Report {
    /// Lines under the title (mode, sizes, machine).
    pub context: Vec<String>,
    /// The table.
    pub rows: Vec<Row>,
    /// The server's own `/metrics` for the measured route and its P云 calls, per scenario:
    /// where the time went, as the server saw it.
    pub server_metrics: Vec<(String, String)>,
}

impl Report {
    /// Whether every target was met.
    pub fn all_pass(&self) -> bool {
        self.rows.iter().all(|r| r.pass != Some(false))
    }

    /// The report as markdown.
    pub fn to_markdown(&self) -> String {
        let mut s = String::from("# ParkBridge benchmark\n\n");
        for line in &self.context {
            let _ = writeln!(s, "- {line}");
        }
        s.push_str("\n| Figure | Value | Target | Result |\n|---|---:|---|---|\n");
        for r in &self.rows {
            let verdict = match r.pass {
                Some(true) => "pass",
                Some(false) => "**FAIL**",
                None => "",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {verdict} |",
                r.figure, r.value, r.target
            );
        }
        let missed: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| r.pass == Some(false))
            .map(|r| r.figure.as_str())
            .collect();
        if missed.is_empty() {
            s.push_str("\nAll targets met.\n");
        } else {
            let _ = writeln!(s, "\nTargets missed: {}.", missed.join("; "));
        }
        for (scenario, text) in &self.server_metrics {
            let _ = write!(
                s,
                "\n## Server `/metrics` after the {scenario} run\n\n```text\n{text}```\n"
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&u| Duration::from_micros(u)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = us(&(1..=100).rev().collect::<Vec<_>>());
        let p = Percentiles::of(&mut s);
        assert_eq!(p.p50, Duration::from_micros(50));
        assert_eq!(p.p99, Duration::from_micros(99));
        let mut one = us(&[7]);
        assert_eq!(Percentiles::of(&mut one).p99, Duration::from_micros(7));
        assert_eq!(Percentiles::of(&mut []).p50, Duration::ZERO);
    }

    #[test]
    fn signed_difference() {
        assert_eq!(
            ms_diff(Duration::from_micros(100), Duration::from_micros(350)),
            "-0.250 ms"
        );
    }

    #[test]
    fn markdown_names_missed_targets() {
        let r = Report {
            context: vec!["quick".into()],
            rows: vec![
                Row::target("a", "1".into(), "≤ 2", true),
                Row::target("b", "3".into(), "≥ 4", false),
                Row::info("c", "5".into()),
            ],
            server_metrics: vec![("latency".into(), "x 1\n".into())],
        };
        let md = r.to_markdown();
        assert!(!r.all_pass());
        assert!(md.contains("| b | 3 | ≥ 4 | **FAIL** |"));
        assert!(md.contains("Targets missed: b."));
        assert!(md.contains("after the latency run\n\n```text\nx 1\n```"));
    }
}
