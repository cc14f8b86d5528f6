//! `serve`'s alert options: detection thresholds and digest timers (tests shorten them).

use std::time::Duration;

use chrono::{NaiveTime, TimeDelta};
use clap::Args;

use crate::alerts::detect::Thresholds;
use crate::alerts::digest::Timers;
use crate::alerts::worker::AlertSettings;

/// When problems are detected and how their messages are grouped.
#[derive(Debug, Args)]
pub(crate) struct AlertArgs {
    /// Seconds a problem lasts before its first message (a blip tells nobody).
    #[arg(long, env = "PARKBRIDGE_ALERT_GROUP_WAIT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub(crate) alert_group_wait_secs: u64,
    /// Least seconds between two messages about a problem that grew.
    #[arg(long, env = "PARKBRIDGE_ALERT_UPDATE_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) alert_update_secs: u64,
    /// Seconds after which an open problem is told again.
    #[arg(long, env = "PARKBRIDGE_ALERT_REMINDER_SECS", default_value_t = 14_400, value_parser = clap::value_parser!(u64).range(60..=604_800))]
    pub(crate) alert_reminder_secs: u64,
    /// Milliseconds between two detection passes.
    #[arg(long, env = "PARKBRIDGE_ALERT_TICK_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub(crate) alert_tick_ms: u64,
    /// Seconds an undelivered request may wait before it is a problem (default 10 minutes).
    #[arg(long, env = "PARKBRIDGE_STUCK_DELIVERY_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub(crate) stuck_delivery_secs: u64,
    /// Seconds without an entry or exit at a car park before it is gate silence (default 60
    /// minutes): a camera or gate controller is down.
    #[arg(long, env = "PARKBRIDGE_GATE_SILENCE_SECS", default_value_t = 3_600, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub(crate) gate_silence_secs: u64,
    /// Seconds of nothing but transient failures to P云 or Mallcoo before it is unreachable.
    #[arg(long, env = "PARKBRIDGE_PARTNER_UNREACHABLE_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub(crate) partner_unreachable_secs: u64,
    /// Seconds a VIP full sync may go without a finished batch before it is stuck.
    #[arg(long, env = "PARKBRIDGE_VIP_SYNC_STUCK_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub(crate) vip_sync_stuck_secs: u64,
    /// Beijing-time hours when gate silence opens no problem, `HH:MM-HH:MM`, or `none`.
    #[arg(long, env = "PARKBRIDGE_GATE_QUIET_HOURS", default_value = "01:00-06:00", value_parser = parse_quiet_hours)]
    pub(crate) gate_quiet_hours: QuietHours,
}

/// Parsed `--gate-quiet-hours`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QuietHours(Option<(NaiveTime, NaiveTime)>);

fn parse_quiet_hours(s: &str) -> Result<QuietHours, String> {
    if s == "none" {
        return Ok(QuietHours(None));
    }
    let (from, to) = s.split_once('-').ok_or("expected HH:MM-HH:MM or none")?;
    let time = |t: &str| {
        NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| format!("{t}: expected HH:MM"))
    };
    Ok(QuietHours(Some((time(from)?, time(to)?))))
}

impl AlertArgs {
    /// The alerts loop's settings.
    pub(crate) fn settings(&self, public_url: Option<String>) -> AlertSettings {
        let secs = |s: u64| TimeDelta::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        AlertSettings {
            timers: Timers {
                group_wait: secs(self.alert_group_wait_secs),
                update_every: secs(self.alert_update_secs),
                remind_every: secs(self.alert_reminder_secs),
            },
            thresholds: Thresholds {
                stuck_after: secs(self.stuck_delivery_secs),
                gate_silence_after: secs(self.gate_silence_secs),
                quiet_hours: self.gate_quiet_hours.0,
                unreachable_after: secs(self.partner_unreachable_secs),
                sync_stuck_after: secs(self.vip_sync_stuck_secs),
                ..Thresholds::default()
            },
            tick: Duration::from_millis(self.alert_tick_ms),
            public_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_read() {
        assert!(parse_quiet_hours("none").unwrap().0.is_none());
        let (from, to) = parse_quiet_hours("23:00-05:30").unwrap().0.unwrap();
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("23:00:00".into(), "05:30:00".into())
        );
        assert!(parse_quiet_hours("1-6").is_err());
        assert!(parse_quiet_hours("25:00-06:00").is_err());
    }
}
