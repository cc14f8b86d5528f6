//! Alert channels (admins, issue 18): the group robots and webhooks problems are sent to. The
//! URL holds the robot's key and the secret signs, so both are written here and never read back:
//! the list shows the masked URL and whether a secret is set. Each channel can send a test
//! message now and shows what the vendor answered, in the vendor's own code and words; under
//! the table, each channel's last sends (`alert_sends.rs`).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::alerts::{Language, ProblemKind};
use serde_json::{Map, Value, json};

use crate::api::{self, AlertChannel, ApiError, Park, SentAnswer};
use crate::format::shanghai_minutes;
use crate::i18n::{self, Lang, Text, tr};
use crate::pages::layout::guarded;
use crate::pages::{error_line, park_label, park_picker};
use crate::ui::{
    Badge, DataTable, Field, PageHeader, Question, TextInput, ToastKind, Tone, confirm, toast,
};

/// The alert channels page.
#[component]
pub fn AlertChannelsPage() -> impl IntoView {
    guarded("alerts", channels_page)
}

type Channels = LocalResource<Result<Vec<AlertChannel>, ApiError>>;

/// The kinds of channel: wire name and label.
const KINDS: [(&str, Text); 4] = [
    ("wecom", Text::ChannelKindWecom),
    ("dingtalk", Text::ChannelKindDingtalk),
    ("feishu", Text::ChannelKindFeishu),
    ("webhook", Text::ChannelKindWebhook),
];

fn kind_label(kind: &str) -> Text {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(Text::Kind, |(_, label)| *label)
}

/// A problem kind's name in the UI's language, as the server's messages name it.
fn problem_title(kind: ProblemKind, lang: Lang) -> &'static str {
    kind.title(match lang {
        Lang::Zh => Language::ZhCn,
        Lang::En => Language::En,
    })
}

fn state_badge(state: &str) -> (Tone, Text) {
    match state {
        "ok" => (Tone::Ok, Text::ChannelStateOk),
        "misconfigured" => (Tone::Danger, Text::ChannelStateMisconfigured),
        "failing" => (Tone::Warn, Text::ChannelStateFailing),
        _ => (Tone::Neutral, Text::ChannelStateUntested),
    }
}

fn outcome_text(outcome: &str) -> Text {
    match outcome {
        "delivered" => Text::OutcomeDelivered,
        "rate_limited" => Text::OutcomeRateLimited,
        "misconfigured" => Text::OutcomeMisconfigured,
        "refused" => Text::OutcomeRefused,
        _ => Text::OutcomeTransient,
    }
}

/// The last test message's answer, per channel id.
type Answers = RwSignal<Vec<(i64, SentAnswer)>>;

fn channels_page() -> impl IntoView {
    let channels: Channels = LocalResource::new(api::alert_channels);
    let parks = LocalResource::new(api::parks);
    let park_list = Signal::derive(move || parks.get().and_then(Result::ok).unwrap_or_default());
    let answers: Answers = RwSignal::new(Vec::new());
    let editing = RwSignal::new(None::<AlertChannel>);
    view! {
        <section>
            <PageHeader title=Text::AlertChannelsTitle />
            <p class="muted">{tr(Text::AlertChannelsHint)}</p>
            <DataTable test_id="channels-table"
                columns=vec![Text::Name, Text::ChannelHasSecret, Text::Parks, Text::ChannelKinds,
                    Text::ChannelLanguage, Text::ChannelState, Text::ChannelLastAnswer,
                    Text::Actions]
                rows=move || channels.get()
                row=move |c: AlertChannel| channel_row(c, park_list, channels, answers, editing) />
        </section>
        {crate::pages::alert_sends::sends_section(channels)}
        {move || {
            let current = editing.get();
            channel_form(current, park_list, channels, editing)
        }}
    }
}

fn channel_row(
    c: AlertChannel,
    parks: Signal<Vec<Park>>,
    channels: Channels,
    answers: Answers,
    editing: RwSignal<Option<AlertChannel>>,
) -> impl IntoView {
    let lang = i18n::lang();
    let id = c.id;
    let name = c.name.clone();
    let (tone, state) = state_badge(&c.state);
    let parks_text = {
        let chosen = c.parks.clone();
        move || match &chosen {
            None => tr(Text::AllParks)().to_owned(),
            Some(ids) => parks.with(|all| {
                ids.iter()
                    .map(|id| park_label(all, *id))
                    .collect::<Vec<_>>()
                    .join("、")
            }),
        }
    };
    let kinds_text = {
        let chosen = c.kinds.clone();
        move || match &chosen {
            None => tr(Text::ChannelAllKinds)().to_owned(),
            Some(kinds) => kinds
                .iter()
                .map(|k| {
                    ProblemKind::parse(k)
                        .map_or_else(|| k.clone(), |k| problem_title(k, lang.get()).to_owned())
                })
                .collect::<Vec<_>>()
                .join("、"),
        }
    };
    let sending = RwSignal::new(false);
    let test = move |_| {
        sending.set(true);
        spawn_local(async move {
            match api::test_alert_channel(id).await {
                Ok(answer) => {
                    answers.update(|a| {
                        a.retain(|(i, _)| *i != id);
                        a.push((id, answer.sent));
                    });
                    channels.refetch();
                }
                Err(e) => toast(ToastKind::Failed(e), "channel-action-error"),
            }
            sending.set(false);
        });
    };
    let enabled = c.enabled;
    let pause = move |_| {
        spawn_local(async move {
            match api::update_alert_channel(id, json!({ "enabled": !enabled })).await {
                Ok(_) => {
                    toast(ToastKind::Done(Text::Saved), "channel-saved");
                    channels.refetch();
                }
                Err(e) => toast(ToastKind::Failed(e), "channel-action-error"),
            }
        });
    };
    let delete = {
        let name = name.clone();
        move |_| {
            let ask = Question::new(Text::ChannelDeleteConfirm)
                .arg(name.clone())
                .yes(Text::Delete);
            confirm(ask, move || {
                spawn_local(async move {
                    match api::delete_alert_channel(id).await {
                        Ok(_) => {
                            toast(ToastKind::Done(Text::Deleted), "channel-deleted");
                            if editing.with_untracked(|e| e.as_ref().is_some_and(|e| e.id == id)) {
                                editing.set(None);
                            }
                            channels.refetch();
                        }
                        Err(e) => toast(ToastKind::Failed(e), "channel-action-error"),
                    }
                });
            });
        }
    };
    let this = c.clone();
    let answer = move || {
        answers
            .with(|a| a.iter().find(|(i, _)| *i == id).map(|(_, s)| s.clone()))
            .map(|sent| {
                let ok = sent.outcome == "delivered";
                view! {
                    <p class="test-answer" data-testid="channel-test-answer">
                        <Badge tone=if ok { Tone::Ok } else { Tone::Danger } test_id="channel-test-outcome">
                            {tr(outcome_text(&sent.outcome))}
                        </Badge>
                        {sent.code.clone().map(|code| view! {
                            " "{tr(Text::VendorCode)}" "<code data-testid="channel-test-code">{code}</code>
                        })}
                        " "<span data-testid="channel-test-message">{sent.message.clone()}</span>
                        {format!(" · {} ms", sent.latency_ms)}
                    </p>
                }
            })
    };
    view! {
        <tr data-testid=format!("channel-row-{name}")>
            // Name, kind and the (masked) robot address in one cell: thirteen columns did not fit
            // a 1366 px screen.
            <td data-label=tr(Text::Name)>
                <strong>{c.name.clone()}</strong>" · "
                <span data-testid="channel-kind">{tr(kind_label(&c.kind))}</span>
                <code class="channel-url" data-testid="channel-url" title=c.url.clone()>{c.url.clone()}</code>
            </td>
            <td data-label=tr(Text::ChannelHasSecret)>
                <span data-testid="channel-has-secret">
                    {tr(if c.has_secret { Text::YesLabel } else { Text::NoLabel })}
                </span>
                {c.keyword.clone().map(|k| view! {
                    <span class="muted">" · "{tr(Text::ChannelKeyword)}" "{k}</span>
                })}
            </td>
            <td data-label=tr(Text::Parks) data-testid="channel-parks">{parks_text}</td>
            <td data-label=tr(Text::ChannelKinds) data-testid="channel-kinds">{kinds_text}</td>
            <td data-label=tr(Text::ChannelLanguage)>{if c.language == "en" { "English" } else { "中文" }}</td>
            <td data-label=tr(Text::ChannelState)>
                <Badge tone=if enabled { Tone::Ok } else { Tone::Neutral } test_id="channel-enabled">
                    {tr(if enabled { Text::ChannelActive } else { Text::ChannelPaused })}
                </Badge>
                " "
                <Badge tone=tone test_id="channel-state">{tr(state)}</Badge>
            </td>
            <td data-label=tr(Text::ChannelLastAnswer)>
                <span data-testid="channel-last-answer">{c.last_answer.clone().unwrap_or_default()}</span>
                <span class="muted block">{c.last_sent_at.map(shanghai_minutes).unwrap_or_default()}</span>
            </td>
            <td data-label=tr(Text::Actions) class="actions">
                <button type="button" class="primary" data-testid="channel-test" on:click=test
                    disabled=move || sending.get()>
                    {move || tr(if sending.get() { Text::TestSending } else { Text::SendTestMessage })()}
                </button>
                <button type="button" data-testid="channel-edit"
                    on:click=move |_| editing.set(Some(this.clone()))>{tr(Text::Edit)}</button>
                <button type="button" data-testid="channel-pause" on:click=pause>
                    {tr(if enabled { Text::ChannelPause } else { Text::ChannelResume })}
                </button>
                <button type="button" class="danger" data-testid="channel-delete" on:click=delete>
                    {tr(Text::Delete)}
                </button>
                {answer}
            </td>
        </tr>
    }
}

/// Which field of the form a server refusal is about, and what to say there.
fn field_error(e: &ApiError) -> Option<(&'static str, Text)> {
    let ApiError::Status { code, message, .. } = e else {
        return None;
    };
    let field = message.split(':').next().unwrap_or_default();
    Some(match code.as_str() {
        "channel_name_taken" => ("name", Text::ChannelNameTaken),
        "invalid_url" => ("url", Text::InvalidUrlError),
        "invalid_secret" => ("secret", Text::InvalidSecret),
        "unknown_park" => ("parks", Text::UnknownParkError),
        "unknown_problem_kind" => ("kinds", Text::UnknownProblemKindError),
        "invalid_channel" if message.contains("SEC") => ("secret", Text::DingtalkSecretError),
        "invalid_channel" if message.contains("no signing secret") => {
            ("secret", Text::WecomSecretError)
        }
        "invalid_channel" => ("url", Text::InvalidChannelError),
        "invalid_field" if field == "name" => ("name", Text::ChannelNameInvalid),
        "invalid_field" if field == "keyword" => ("keyword", Text::KeywordInvalid),
        "invalid_field" if field == "kind" => ("kind", Text::InvalidFieldError),
        "invalid_field" if field == "language" => ("language", Text::InvalidFieldError),
        _ => return None,
    })
}

/// The create form, or the edit form of `current`: on edit the kind stays, an empty URL or
/// secret leaves it as it is, and no car park or kind chosen means all of them.
fn channel_form(
    current: Option<AlertChannel>,
    parks: Signal<Vec<Park>>,
    channels: Channels,
    editing: RwSignal<Option<AlertChannel>>,
) -> impl IntoView {
    let lang = i18n::lang();
    let id = current.as_ref().map(|c| c.id);
    let has_secret = current.as_ref().is_some_and(|c| c.has_secret);
    let name = RwSignal::new(current.as_ref().map(|c| c.name.clone()).unwrap_or_default());
    let kind = RwSignal::new(
        current
            .as_ref()
            .map_or_else(|| "dingtalk".to_owned(), |c| c.kind.clone()),
    );
    let url = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let keyword = RwSignal::new(
        current
            .as_ref()
            .and_then(|c| c.keyword.clone())
            .unwrap_or_default(),
    );
    let chosen_parks = RwSignal::new(
        current
            .as_ref()
            .and_then(|c| c.parks.clone())
            .unwrap_or_default(),
    );
    let chosen_kinds = RwSignal::new(
        current
            .as_ref()
            .and_then(|c| c.kinds.clone())
            .unwrap_or_default(),
    );
    let language = RwSignal::new(
        current
            .as_ref()
            .map_or_else(|| "zh-CN".to_owned(), |c| c.language.clone()),
    );
    let error = RwSignal::new(None::<ApiError>);
    let at = move |field: &'static str| {
        Signal::derive(move || {
            error.with(|e| {
                e.as_ref()
                    .and_then(field_error)
                    .filter(|(f, _)| *f == field)
                    .map(|(_, text)| text)
            })
        })
    };
    // What no field shows (network, permission) goes under the form.
    let general = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| {
        general.set(error.get().filter(|e| field_error(e).is_none()));
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let mut body = Map::new();
        body.insert("name".into(), name.get_untracked().trim().into());
        let u = url.get_untracked().trim().to_owned();
        if id.is_none() || !u.is_empty() {
            body.insert("url".into(), u.into());
        }
        let s = secret.get_untracked().trim().to_owned();
        if !s.is_empty() {
            body.insert("secret".into(), s.into());
        }
        let k = keyword.get_untracked().trim().to_owned();
        match (k.is_empty(), id.is_some()) {
            (false, _) => {
                body.insert("keyword".into(), k.into());
            }
            (true, true) => {
                body.insert("keyword".into(), Value::Null);
            }
            (true, false) => {}
        }
        // None chosen is all, which an edit says with `null` and a creation by leaving it out.
        let list = |v: Value, empty: bool| if empty { Value::Null } else { v };
        let p = chosen_parks.get_untracked();
        let ks = chosen_kinds.get_untracked();
        if id.is_some() || !p.is_empty() {
            body.insert("parks".into(), list(json!(p), p.is_empty()));
        }
        if id.is_some() || !ks.is_empty() {
            body.insert("kinds".into(), list(json!(ks), ks.is_empty()));
        }
        body.insert("language".into(), language.get_untracked().into());
        if id.is_none() {
            body.insert("kind".into(), kind.get_untracked().into());
        }
        let body = Value::Object(body);
        spawn_local(async move {
            let result = match id {
                Some(id) => api::update_alert_channel(id, body).await,
                None => api::create_alert_channel(body).await,
            };
            match result {
                Ok(_) => {
                    // Secrets leave the page once accepted.
                    url.set(String::new());
                    secret.set(String::new());
                    toast(
                        ToastKind::Done(if id.is_some() {
                            Text::Saved
                        } else {
                            Text::Created
                        }),
                        "channel-saved",
                    );
                    editing.set(None);
                    if id.is_none() {
                        name.set(String::new());
                        keyword.set(String::new());
                    }
                    channels.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let remove_secret = move |_| {
        let Some(id) = id else { return };
        spawn_local(async move {
            match api::update_alert_channel(id, json!({ "secret": null })).await {
                Ok(_) => {
                    toast(ToastKind::Done(Text::ChannelSecretRemoved), "channel-saved");
                    editing.set(None);
                    channels.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let kind_checks = move || {
        ProblemKind::ALL
            .into_iter()
            .map(|k| {
                let wire = k.as_str().to_owned();
                let has = wire.clone();
                view! {
                    <label class="check">
                        <input type="checkbox" data-testid=format!("channel-kind-{wire}")
                            prop:checked=move || chosen_kinds.with(|c| c.contains(&has))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                let wire = wire.clone();
                                chosen_kinds.update(|c| {
                                    c.retain(|x| *x != wire);
                                    if on {
                                        c.push(wire);
                                    }
                                });
                            } />
                        {move || problem_title(k, lang.get())}
                    </label>
                }
            })
            .collect_view()
    };
    let title = if id.is_some() {
        Text::EditAlertChannel
    } else {
        Text::NewAlertChannel
    };
    let editing_name = current.as_ref().map(|c| format!(" · {}", c.name));
    view! {
        <section data-testid=if id.is_some() { "channel-edit-form" } else { "channel-create-form" }>
            <h3>{tr(title)}{editing_name}</h3>
            <form data-testid="channel-form" on:submit=submit>
                <Field label=Text::Name error=at("name") error_test_id="channel-name-error">
                    <TextInput value=name test_id="channel-name" invalid=move || at("name").get().is_some() />
                </Field>
                <Field label=Text::Kind error=at("kind") error_test_id="channel-kind-error">
                    <select data-testid="channel-kind-select" disabled=id.is_some()
                        on:change=move |ev| kind.set(event_target_value(&ev))>
                        {KINDS.into_iter().map(|(k, label)| view! {
                            <option value=k selected=move || kind.get() == k>{tr(label)}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <Field label=Text::ChannelUrl hint=Text::ChannelUrlHint error=at("url") error_test_id="channel-url-error">
                    <TextInput value=url test_id="channel-url-input" invalid=move || at("url").get().is_some()
                        {..} autocomplete="off" />
                </Field>
                <Field label=Text::ChannelSecret hint=Text::ChannelSecretHint error=at("secret") error_test_id="channel-secret-error">
                    <TextInput value=secret kind="password" test_id="channel-secret" invalid=move || at("secret").get().is_some()
                        {..} autocomplete="new-password" />
                </Field>
                <Field label=Text::ChannelKeyword error=at("keyword") error_test_id="channel-keyword-error">
                    <TextInput value=keyword test_id="channel-keyword" invalid=move || at("keyword").get().is_some() />
                </Field>
                <Field label=Text::Parks hint=Text::ChannelParksHint error=at("parks") error_test_id="channel-parks-error" group=true>
                    <div class="checks">{park_picker(parks, chosen_parks, "channel-park")}</div>
                </Field>
                <Field label=Text::ChannelKinds hint=Text::ChannelKindsHint error=at("kinds") error_test_id="channel-kinds-error" group=true>
                    <div class="checks">{kind_checks}</div>
                </Field>
                <Field label=Text::ChannelLanguage error=at("language") error_test_id="channel-language-error">
                    <select data-testid="channel-language" on:change=move |ev| language.set(event_target_value(&ev))>
                        <option value="zh-CN" selected=move || language.get() == "zh-CN">"中文"</option>
                        <option value="en" selected=move || language.get() == "en">"English"</option>
                    </select>
                </Field>
                <div class="actions">
                    <button type="submit" data-testid="channel-save">
                        {tr(if id.is_some() { Text::Save } else { Text::Create })}
                    </button>
                    {id.map(|_| view! {
                        <button type="button" data-testid="channel-cancel" on:click=move |_| editing.set(None)>
                            {tr(Text::Cancel)}
                        </button>
                    })}
                    {has_secret.then(|| view! {
                        <button type="button" data-testid="channel-remove-secret" on:click=remove_secret>
                            {tr(Text::ChannelRemoveSecret)}
                        </button>
                    })}
                </div>
            </form>
            {error_line(general, "channel-form-error")}
        </section>
    }
}
