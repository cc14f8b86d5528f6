//! Display helpers shared by the pages: money in yuan, Shanghai wall-clock times.

use chrono::{DateTime, Days, NaiveDate, SecondsFormat, TimeDelta, Utc};

use protocol::tariff::{Pricing, Tariff};

use crate::i18n::{Lang, Text, fill};

/// Fen as yuan with two decimals, e.g. 1300 → `¥13.00`.
pub(crate) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", abs / 100, abs % 100)
}

/// A Shanghai wall-clock time to the minute, `yyyy-MM-dd HH:mm`, as the inputs take it.
pub(crate) fn shanghai_minutes(t: DateTime<Utc>) -> String {
    let mut s = protocol::time::format_mallcoo(t);
    s.truncate("yyyy-MM-dd HH:mm".len());
    s
}

/// A Shanghai wall-clock time to the second, `yyyy-MM-dd HH:mm:ss` (logs of calls).
pub(crate) fn shanghai_seconds(t: DateTime<Utc>) -> String {
    protocol::time::format_mallcoo(t)
}

/// JSON text indented two spaces a level, every token kept as it was sent (member order, `1.50`,
/// escapes): a call's body shown as exchanged, only easier to read. Text that is not JSON is
/// returned as it is.
pub(crate) fn pretty_json(raw: &str) -> String {
    if serde_json::from_str::<serde::de::IgnoredAny>(raw).is_err() {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = raw.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.next_if(|n| n.is_whitespace()).is_some() {}
                // An empty object or array stays on one line.
                if chars.peek().is_some_and(|n| matches!(n, '}' | ']')) {
                    continue;
                }
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                if !out.ends_with(['{', '[']) {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Reads `yyyy-MM-dd HH:mm` (or with `:ss`) typed by a person, as Asia/Shanghai time.
pub(crate) fn parse_shanghai(input: &str) -> Result<DateTime<Utc>, Text> {
    let s = input.trim();
    let with_seconds = if s.len() == "yyyy-MM-dd HH:mm".len() {
        format!("{s}:00")
    } else {
        s.to_owned()
    };
    protocol::time::parse_mallcoo(&with_seconds).map_err(|_| Text::TimeFormatHint)
}

/// The instant a Shanghai calendar day (`yyyy-MM-dd`, as a date input gives it) begins, `days`
/// later, as RFC 3339 UTC: the end of a date range is the start of the day after it.
pub(crate) fn shanghai_day_start(date: &str, days: u64) -> Result<String, Text> {
    shanghai_midnight(date, days).map(rfc3339)
}

/// The last second (23:59:59 Shanghai) of a calendar day, as RFC 3339 UTC: VIP periods end
/// inclusively there, as P云 and the importer write them.
pub(crate) fn shanghai_day_end(date: &str) -> Result<String, Text> {
    shanghai_midnight(date, 1).map(|next| rfc3339(next - TimeDelta::seconds(1)))
}

fn shanghai_midnight(date: &str, days: u64) -> Result<DateTime<Utc>, Text> {
    let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_days(Days::new(days)))
        .ok_or(Text::DateInvalid)?;
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(protocol::time::shanghai()).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or(Text::DateInvalid)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A Shanghai calendar date, `yyyy-MM-dd`: VIP periods run from a day's start to a day's end.
pub(crate) fn shanghai_date(t: DateTime<Utc>) -> String {
    let mut s = protocol::time::format_mallcoo(t);
    s.truncate("yyyy-MM-dd".len());
    s
}

/// One line describing a tariff, computed from it so the text cannot drift.
pub(crate) fn describe_tariff(t: &Tariff, lang: Lang) -> String {
    let cap = t
        .cycle_cap
        .map(|c| fill(Text::TariffCap.text(lang), &[&yuan(c)]))
        .unwrap_or_default();
    match &t.pricing {
        Pricing::Simple(p) => fill(
            Text::TariffSimple.text(lang),
            &[
                &t.free_minutes.to_string(),
                &p.first_minutes.to_string(),
                &yuan(p.first_price),
                &p.unit_minutes.to_string(),
                &yuan(p.unit_price),
                &cap,
            ],
        ),
        Pricing::TimeOfDay(p) => fill(
            Text::TariffTimeOfDay.text(lang),
            &[&p.periods.len().to_string(), &cap],
        ),
    }
}
