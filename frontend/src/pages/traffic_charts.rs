//! The dashboard's SVG charts: entries and exits per hour as paired bars, occupancy as a line.
//!
//! Each chart has a fixed viewBox and `width=100%`, so it scales to a phone's width and keeps
//! its proportions whatever the number of hours; every bar carries its count in `data-count`
//! for the browser tests.
//!
//! Hours after the present are left blank, not drawn as zeros: a range that includes today
//! keeps its full width on the axis, but its bars and its line stop at now.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::api::HourTraffic;

// A narrow viewBox: on a phone the chart, and its 12-unit labels, shrink the least.
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 32.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;

/// A coordinate as SVG text, to a tenth of a unit.
fn coord(v: f64) -> String {
    format!("{v:.1}")
}

fn plot_width() -> f64 {
    WIDTH - LEFT - RIGHT
}

fn plot_height() -> f64 {
    HEIGHT - TOP - BOTTOM
}

/// A scale top that is at least 1, so an empty range still draws.
fn scale_top(values: impl Iterator<Item = i64>) -> i64 {
    values.max().unwrap_or(0).max(1)
}

fn y_of(value: i64, top: i64) -> f64 {
    TOP + plot_height() * (1.0 - value as f64 / top as f64)
}

/// Every how many hours an axis label goes, so that at most about 6 fit (a phone's width).
fn label_step(hours: usize) -> usize {
    [1, 2, 3, 6, 12, 24, 48, 72, 168]
        .into_iter()
        .find(|step| hours / step <= 6)
        .unwrap_or(168)
}

/// An hour label as the axis shows it: `HH` within one day, `MM-DD HH` over several.
fn axis_label(label: &str, several_days: bool) -> String {
    if several_days {
        label.get(5..).unwrap_or(label).to_owned()
    } else {
        label
            .get(11..)
            .map(|h| format!("{h}:00"))
            .unwrap_or_default()
    }
}

/// Where the present falls among hours labelled `yyyy-MM-dd HH` (Shanghai).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Present {
    /// The label of the hour under way.
    hour: String,
    /// How much of that hour has passed, 0 to 1.
    passed: f64,
}

impl Present {
    /// The present at `now`.
    pub(crate) fn at(now: DateTime<Utc>) -> Present {
        let mut hour = protocol::time::format_mallcoo(now);
        hour.truncate("yyyy-MM-dd HH".len());
        // Shanghai is a whole number of hours from UTC, so the minutes are the same in both.
        let passed = now.timestamp().rem_euclid(3600) as f64 / 3600.0;
        Present { hour, passed }
    }

    /// How many of `hours` (in order) have begun: those are drawn, the rest are the future.
    fn begun(&self, hours: &[HourTraffic]) -> usize {
        hours.partition_point(|h| h.label <= self.hour)
    }

    /// How much of an hour has passed: all of it, or part when it is the one under way.
    fn passed(&self, h: &HourTraffic) -> f64 {
        if h.label == self.hour {
            self.passed
        } else {
            1.0
        }
    }
}

/// Horizontal grid lines at 0, half and the top, with their values.
fn grid(top: i64) -> impl IntoView + use<> {
    [0, top / 2, top]
        .into_iter()
        .map(|v| {
            let y = y_of(v, top);
            view! {
                <line x1=coord(LEFT) x2=coord(WIDTH - RIGHT) y1=coord(y) y2=coord(y) class="grid" />
                <text x=coord(LEFT - 4.0) y=coord(y + 4.0) text-anchor="end" class="axis">{v}</text>
            }
        })
        .collect_view()
}

fn x_axis(hours: &[HourTraffic]) -> impl IntoView + use<> {
    let n = hours.len().max(1);
    let slot = plot_width() / n as f64;
    let step = label_step(n);
    let several_days = n > 24;
    hours
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .map(|(i, h)| {
            let x = LEFT + slot * i as f64;
            view! {
                <text x=coord(x) y=coord(HEIGHT - 6.0) class="axis">{axis_label(&h.label, several_days)}</text>
            }
        })
        .collect_view()
}

/// Entries (left bar) and exits (right bar) of every hour that has begun.
pub(crate) fn bar_chart(hours: &[HourTraffic], now: &Present) -> impl IntoView + use<> {
    let n = hours.len().max(1);
    let slot = plot_width() / n as f64;
    let bar = (slot * 0.4).max(0.5);
    let drawn = &hours[..now.begun(hours)];
    let top = scale_top(drawn.iter().flat_map(|h| [h.entries, h.exits]));
    let bars = drawn
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let x = LEFT + slot * i as f64 + slot * 0.1;
            let rect = |kind: &'static str, count: i64, x: f64| {
                let y = y_of(count, top);
                view! {
                    <rect class=format!("bar bar-{kind}") data-testid=format!("bar-{kind}-{i}")
                        data-count=count.to_string() data-hour=h.label.clone()
                        x=coord(x) y=coord(y) width=coord(bar) height=coord(TOP + plot_height() - y)>
                        <title>{format!("{}:00 {kind} {count}", h.label)}</title>
                    </rect>
                }
            };
            view! {
                {rect("in", h.entries, x)}
                {rect("out", h.exits, x + bar)}
            }
        })
        .collect_view();
    view! {
        <svg data-testid="traffic-bars" viewBox=format!("0 0 {WIDTH} {HEIGHT}") width="100%"
            role="img" class="chart">
            {grid(top)}
            {bars}
            {x_axis(hours)}
        </svg>
    }
}

/// Cars inside at the end of every past hour, and now.
pub(crate) fn occupancy_chart(hours: &[HourTraffic], now: &Present) -> impl IntoView + use<> {
    let n = hours.len().max(1);
    let slot = plot_width() / n as f64;
    let drawn = &hours[..now.begun(hours)];
    let top = scale_top(drawn.iter().map(|h| h.occupancy));
    // Each value sits at the end of its hour; the hour under way ends at now, where the
    // server's figure for it (every event so far) is the current occupancy.
    let points: Vec<String> = drawn
        .iter()
        .enumerate()
        .map(|(i, h)| {
            format!(
                "{:.1},{:.1}",
                LEFT + slot * (i as f64 + now.passed(h)),
                y_of(h.occupancy, top)
            )
        })
        .collect();
    let values = drawn
        .iter()
        .map(|h| h.occupancy.to_string())
        .collect::<Vec<_>>()
        .join(",");
    view! {
        <svg data-testid="occupancy-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") width="100%"
            role="img" class="chart">
            {grid(top)}
            <polyline data-testid="occupancy-line" data-values=values class="line"
                points=points.join(" ") fill="none" />
            {x_axis(hours)}
        </svg>
    }
}
