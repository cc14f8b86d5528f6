//! One digest message about one problem (a kind at a car park): what is wrong, where, since
//! when, how many, a few examples and the link to fix it — fitted to a vendor's byte limit.
//!
//! Fitting keeps the head (title, car park, since, count) and the tail (advice, link) whole and
//! drops examples from the end, saying how many were left out ("…及其他 N 条"): a person must
//! always learn what and where, and find the page, even when the examples do not fit.

use chrono::{DateTime, Utc};

use super::problem::{Language, ProblemKind};
use crate::time::to_shanghai;

/// Which message of a problem's life this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The first message, after the group wait.
    Opened,
    /// Something changed (more occurrences), at most every update interval.
    Updated,
    /// Still open, repeated after the reminder interval.
    Reminder,
    /// The condition cleared: the one "已恢复" message.
    Resolved,
    /// An admin's "send a test message": `since` is the sending time, `subject` the channel.
    Test,
}

impl Phase {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Opened => "opened",
            Phase::Updated => "updated",
            Phase::Reminder => "reminder",
            Phase::Resolved => "resolved",
            Phase::Test => "test",
        }
    }

    fn label(self, language: Language) -> &'static str {
        match (self, language) {
            (Phase::Opened, Language::ZhCn) => "新问题",
            (Phase::Opened, Language::En) => "New problem",
            (Phase::Updated, Language::ZhCn) => "问题更新",
            (Phase::Updated, Language::En) => "Update",
            (Phase::Reminder, Language::ZhCn) => "仍未解决",
            (Phase::Reminder, Language::En) => "Still open",
            (Phase::Resolved, Language::ZhCn) => "已恢复",
            (Phase::Resolved, Language::En) => "Resolved",
            (Phase::Test, Language::ZhCn) => "测试消息",
            (Phase::Test, Language::En) => "Test message",
        }
    }
}

/// Everything a message says about a problem.
#[derive(Debug, Clone)]
pub struct Digest<'a> {
    /// Which message this is.
    pub phase: Phase,
    /// What is wrong.
    pub kind: ProblemKind,
    /// The car park's name, when the problem belongs to one.
    pub park: Option<&'a str>,
    /// What exactly (a credential's or channel's name, a shop), when there is one.
    pub subject: Option<&'a str>,
    /// First seen.
    pub since: DateTime<Utc>,
    /// When it cleared (resolved messages).
    pub resolved_at: Option<DateTime<Utc>>,
    /// How many occurrences so far.
    pub count: i64,
    /// A few examples, newest first, one line each.
    pub examples: &'a [String],
    /// The admin page where a person fixes it (`--public-url` + path), when known.
    pub link: Option<&'a str>,
    /// The channel's language.
    pub language: Language,
}

/// How a vendor shows text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Plain lines (Feishu `text`, our webhook's `text`).
    Plain,
    /// Markdown as WeCom and DingTalk render it (a blank line between paragraphs).
    Markdown,
}

/// A rendered message: a short title (notification previews) and the text within the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line: product, phase, what, where.
    pub title: String,
    /// The whole message, at most the limit's bytes.
    pub text: String,
    /// Examples left out to fit.
    pub examples_left_out: usize,
}

/// The longest prefix of `s` that is at most `max_bytes` long and ends on a character boundary.
pub fn truncate_utf8(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn shanghai_minute(t: DateTime<Utc>) -> String {
    to_shanghai(t).format("%Y-%m-%d %H:%M").to_string()
}

impl Digest<'_> {
    /// The message's title: `ParkBridge · 新问题 · 对接凭证被拒绝 · 万达广场`.
    pub fn title(&self) -> String {
        if self.phase == Phase::Test {
            return format!("ParkBridge · {}", self.phase.label(self.language));
        }
        let mut title = format!(
            "ParkBridge · {} · {}",
            self.phase.label(self.language),
            self.kind.title(self.language)
        );
        if let Some(park) = self.park {
            title.push_str(" · ");
            title.push_str(park);
        }
        title
    }

    fn head(&self, style: Style) -> Vec<String> {
        let zh = self.language == Language::ZhCn;
        let field = |label_zh: &str, label_en: &str, value: &str| {
            let label = if zh { label_zh } else { label_en };
            let sep = if zh { "：" } else { ": " };
            match style {
                Style::Plain => format!("{label}{sep}{value}"),
                Style::Markdown => format!("**{label}**{sep}{value}"),
            }
        };
        let title = self.title();
        let mut lines = vec![match style {
            Style::Plain => format!("【{title}】"),
            Style::Markdown => format!("### {title}"),
        }];
        let zone = if zh {
            "（北京时间）"
        } else {
            " (Beijing time)"
        };
        if self.phase == Phase::Test {
            if let Some(subject) = self.subject {
                lines.push(field("通道", "Channel", subject));
            }
            let at = format!("{}{zone}", shanghai_minute(self.since));
            lines.push(field("时间", "Sent", &at));
            return lines;
        }
        if let Some(park) = self.park {
            lines.push(field("车场", "Car park", park));
        }
        if let Some(subject) = self.subject {
            lines.push(field("对象", "Subject", subject));
        }
        let zone = if zh {
            "（北京时间）"
        } else {
            " (Beijing time)"
        };
        lines.push(field(
            "开始",
            "Since",
            &format!("{}{zone}", shanghai_minute(self.since)),
        ));
        if let Some(at) = self.resolved_at {
            lines.push(field(
                "恢复",
                "Resolved",
                &format!("{}{zone}", shanghai_minute(at)),
            ));
        }
        lines.push(field("次数", "Count", &self.count.to_string()));
        lines
    }

    fn tail(&self, style: Style) -> Vec<String> {
        let zh = self.language == Language::ZhCn;
        let mut lines = Vec::new();
        match self.phase {
            Phase::Resolved => {}
            Phase::Test => lines.push(
                if zh {
                    "收到这条消息，说明 ParkBridge 能向本群发送告警。"
                } else {
                    "If you read this, ParkBridge can send alerts to this group."
                }
                .to_owned(),
            ),
            _ => lines.push(self.kind.advice(self.language).to_owned()),
        }
        if let Some(link) = self.link {
            lines.push(match (style, zh) {
                (Style::Plain, true) => format!("处理：{link}"),
                (Style::Plain, false) => format!("Fix it: {link}"),
                (Style::Markdown, true) => format!("[在 ParkBridge 中处理]({link})"),
                (Style::Markdown, false) => format!("[Open in ParkBridge]({link})"),
            });
        }
        lines
    }

    fn left_out_line(&self, n: usize) -> String {
        match self.language {
            Language::ZhCn => format!("…及其他 {n} 条"),
            Language::En => format!("…and {n} more"),
        }
    }

    /// Renders the message within `limit` bytes of text (the vendor's limit less its envelope).
    pub fn render(&self, style: Style, limit: usize) -> Rendered {
        // Markdown needs a blank line between paragraphs (DingTalk drops single newlines); the
        // examples stay one block of list items.
        let (sep, bullet) = match style {
            Style::Plain => ("\n", "· "),
            Style::Markdown => ("\n\n", "- "),
        };
        let head = self.head(style).join(sep);
        let tail = self.tail(style).join(sep);
        let join = |examples: &[String], left_out: usize| {
            let mut parts = vec![head.clone()];
            if !examples.is_empty() || left_out > 0 {
                let mut block: Vec<String> =
                    examples.iter().map(|e| format!("{bullet}{e}")).collect();
                if left_out > 0 {
                    block.push(self.left_out_line(left_out));
                }
                parts.push(block.join("\n"));
            }
            if !tail.is_empty() {
                parts.push(tail.clone());
            }
            parts.join(sep)
        };
        // Examples beyond the count are not occurrences (a caller's slip): never show them.
        let all = &self.examples[..self.examples.len().min(self.count.max(0) as usize)];
        let unseen = (self.count.max(0) as usize).saturating_sub(all.len());
        let mut shown = all.len();
        loop {
            let left_out = all.len() - shown + unseen;
            let text = join(&all[..shown], if shown < all.len() { left_out } else { 0 });
            if text.len() <= limit {
                return Rendered {
                    title: self.title(),
                    text,
                    examples_left_out: all.len() - shown,
                };
            }
            if shown == 0 {
                // Even the head and tail are too long (an absurd name): cut, keep it valid UTF-8.
                let text = match limit.checked_sub("…".len()) {
                    Some(room) => format!("{}…", truncate_utf8(&text, room)),
                    None => truncate_utf8(&text, limit).to_owned(),
                };
                return Rendered {
                    title: self.title(),
                    text,
                    examples_left_out: all.len(),
                };
            }
            shown -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, h, m, 0).unwrap()
    }

    fn digest<'a>(examples: &'a [String], count: i64) -> Digest<'a> {
        Digest {
            phase: Phase::Opened,
            kind: ProblemKind::CredentialRefused,
            park: Some("万达广场停车场"),
            subject: Some("P云 主账号"),
            since: at(7, 30),
            resolved_at: None,
            count,
            examples,
            link: Some("https://pb.example.cn/credentials"),
            language: Language::ZhCn,
        }
    }

    #[test]
    fn a_message_names_what_where_since_how_many_and_the_link() {
        let examples = vec!["券 #12 粤B12345：签名错误".to_owned()];
        let r = digest(&examples, 1).render(Style::Plain, 2048);
        assert_eq!(
            r.title,
            "ParkBridge · 新问题 · 对接凭证被拒绝 · 万达广场停车场"
        );
        assert_eq!(
            r.text,
            "【ParkBridge · 新问题 · 对接凭证被拒绝 · 万达广场停车场】\n车场：万达广场停车场\n\
             对象：P云 主账号\n开始：2026-12-06 15:30（北京时间）\n次数：1\n· 券 #12 粤B12345：签名错误\n\
             请核对凭证的密钥与编码是否与平台一致。\n处理：https://pb.example.cn/credentials"
        );
        assert_eq!(r.examples_left_out, 0);
    }

    #[test]
    fn a_resolved_message_says_when_and_gives_no_advice() {
        let mut d = digest(&[], 51);
        d.phase = Phase::Resolved;
        d.resolved_at = Some(at(8, 5));
        let r = d.render(Style::Markdown, 4096);
        assert!(r.title.contains("已恢复"), "{}", r.title);
        assert!(
            r.text.contains("**恢复**：2026-12-06 16:05（北京时间）"),
            "{}",
            r.text
        );
        assert!(!r.text.contains("请核对"), "{}", r.text);
        assert!(
            r.text
                .contains("[在 ParkBridge 中处理](https://pb.example.cn/credentials)")
        );
    }

    #[test]
    fn examples_that_do_not_fit_are_counted_not_cut() {
        let examples: Vec<String> = (0..200)
            .map(|i| format!("推送 #{i} 粤B{i:05}：P云 答复 1401 签名错误"))
            .collect();
        let r = digest(&examples, 250).render(Style::Plain, 2048);
        assert!(r.text.len() <= 2048, "{} bytes", r.text.len());
        assert!(r.examples_left_out > 0);
        // Those not shown plus the 50 occurrences without an example.
        let left = 200 - (200 - r.examples_left_out) + 50;
        assert!(r.text.contains(&format!("…及其他 {left} 条")), "{}", r.text);
        // Head and tail survive whole.
        assert!(r.text.starts_with("【ParkBridge"));
        assert!(r.text.ends_with("处理：https://pb.example.cn/credentials"));
    }

    #[test]
    fn every_limit_gives_valid_utf8_within_it() {
        let examples: Vec<String> = (0..30).map(|i| format!("例子{i}：道闸无记录")).collect();
        for limit in 0..700 {
            let r = digest(&examples, 30).render(Style::Markdown, limit);
            assert!(r.text.len() <= limit, "limit {limit}: {}", r.text.len());
        }
    }

    #[test]
    fn english_channels_read_english() {
        let mut d = digest(&[], 3);
        d.language = Language::En;
        let r = d.render(Style::Plain, 2048);
        assert!(r.text.contains("Car park: 万达广场停车场"), "{}", r.text);
        assert!(
            r.text.contains("Since: 2026-12-06 15:30 (Beijing time)"),
            "{}",
            r.text
        );
        assert!(r.text.contains("Fix it: https://pb.example.cn/credentials"));
    }

    #[test]
    fn a_test_message_names_the_channel_and_says_what_it_proves() {
        let mut d = digest(&[], 0);
        d.phase = Phase::Test;
        d.park = None;
        d.subject = Some("物业值班群");
        let r = d.render(Style::Plain, 2048);
        assert_eq!(
            r.text,
            "【ParkBridge · 测试消息】\n通道：物业值班群\n时间：2026-12-06 15:30（北京时间）\n\
             收到这条消息，说明 ParkBridge 能向本群发送告警。\n处理：https://pb.example.cn/credentials"
        );
    }

    #[test]
    fn truncation_stops_on_a_character_boundary() {
        assert_eq!(truncate_utf8("粤B1", 2), "");
        assert_eq!(truncate_utf8("粤B1", 3), "粤");
        assert_eq!(truncate_utf8("粤B1", 4), "粤B");
        assert_eq!(truncate_utf8("粤B1", 99), "粤B1");
    }
}
