//! Each alert channel's last sends, under the channels' table: which message about which
//! problem and car park, where it stands (queued, waiting for a retry after a rate limit, sent,
//! refused…) and what the vendor answered in its own code and words — so an admin sees why a
//! group heard nothing without reading the server's logs. Read when the channels are (after a
//! test, a pause…) and on 刷新; not polled, the list is short and changes slowly.

use leptos::prelude::*;
use protocol::alerts::{Language, ProblemKind};

use crate::api::{self, AlertChannel, ApiError, ChannelSend};
use crate::format::shanghai_minutes;
use crate::i18n::{self, Lang, Text, tr};
use crate::pages::error_line;
use crate::ui::{Badge, Tone};

/// How many sends each channel shows.
const SHOWN: u32 = 10;

fn message_label(message: &str) -> Text {
    match message {
        "updated" => Text::SendUpdated,
        "reminder" => Text::SendReminder,
        "resolved" => Text::SendResolved,
        "test" => Text::SendTest,
        _ => Text::SendOpened,
    }
}

fn state_badge(state: &str) -> (Tone, Text) {
    match state {
        "queued" => (Tone::Neutral, Text::SendQueued),
        "sending" => (Tone::Info, Text::SendSending),
        "retrying" => (Tone::Warn, Text::SendRetrying),
        "rate_limited" => (Tone::Warn, Text::SendRateLimited),
        "sent" => (Tone::Ok, Text::SendSent),
        "misconfigured" => (Tone::Danger, Text::SendMisconfigured),
        "refused" => (Tone::Danger, Text::SendRefused),
        _ => (Tone::Danger, Text::SendFailed),
    }
}

/// The sends of every channel in `channels`, one compact list each; `refresh` reads them again.
pub(crate) fn sends_section(
    channels: LocalResource<Result<Vec<AlertChannel>, ApiError>>,
) -> impl IntoView {
    let refresh = RwSignal::new(0_u32);
    view! {
        <section data-testid="channel-sends">
            <div class="section-head">
                <h3>{tr(Text::ChannelSendsTitle)}</h3>
                <button type="button" data-testid="channel-sends-refresh"
                    on:click=move |_| refresh.update(|n| *n += 1)>{tr(Text::Refresh)}</button>
            </div>
            <p class="muted">{tr(Text::ChannelSendsHint)}</p>
            {move || {
                channels.get().and_then(Result::ok).map(|list| {
                    list.into_iter().map(|c| channel_sends(c, refresh)).collect_view()
                })
            }}
        </section>
    }
}

fn channel_sends(channel: AlertChannel, refresh: RwSignal<u32>) -> impl IntoView {
    let id = channel.id;
    let sends = LocalResource::new(move || {
        refresh.track();
        api::alert_channel_sends(id, SHOWN)
    });
    let error = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| error.set(sends.get().and_then(Result::err)));
    view! {
        <div class="channel-sends" data-testid=format!("channel-sends-{}", channel.name)>
            <h4>{channel.name.clone()}</h4>
            {move || sends.get().and_then(Result::ok).map(|list| {
                if list.is_empty() {
                    view! {
                        <p class="muted" data-testid="channel-sends-empty">{tr(Text::NoChannelSends)}</p>
                    }
                    .into_any()
                } else {
                    view! {
                        <ol class="sends">{list.into_iter().map(send_line).collect_view()}</ol>
                    }
                    .into_any()
                }
            })}
            {error_line(error, "channel-sends-error")}
        </div>
    }
}

fn send_line(send: ChannelSend) -> impl IntoView {
    let lang = i18n::lang();
    let (tone, state) = state_badge(&send.state);
    let kind = send.problem_kind.clone();
    let what = move || {
        let title = kind.as_deref().map(|k| {
            ProblemKind::parse(k).map_or_else(
                || k.to_owned(),
                |k| {
                    k.title(match lang.get() {
                        Lang::Zh => Language::ZhCn,
                        Lang::En => Language::En,
                    })
                    .to_owned()
                },
            )
        });
        [title, send.park_name.clone(), send.problem_label.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let retry = send
        .next_attempt_at
        .map(|t| move || i18n::fill(Text::SendRetryAt.text(lang.get()), &[&shanghai_minutes(t)]));
    view! {
        <li data-testid="channel-send">
            <span class="when">{shanghai_minutes(send.at)}</span>
            <Badge tone=Tone::Info test_id="channel-send-message">{tr(message_label(&send.message))}</Badge>
            <span class="what" data-testid="channel-send-what">{what}</span>
            <Badge tone=tone test_id="channel-send-state">{tr(state)}</Badge>
            {retry.map(|r| view! { <span class="muted">{r}</span> })}
            {send.vendor_code.map(|code| view! {
                <code data-testid="channel-send-code">{code}</code>
            })}
            {send.vendor_message.map(|m| view! {
                <span class="answer" data-testid="channel-send-answer">{m}</span>
            })}
        </li>
    }
}
