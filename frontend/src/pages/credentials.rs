//! Credentials (admin): P云 and Mallcoo keys. Secrets are written here, never read back: the
//! list shows only public parts, the secret inputs start empty and are cleared after sending,
//! and a key pair we issue for Mallcoo inbound calls is shown once, with a warning.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value};

use crate::api::{self, ApiError, Credential, Issued};
use crate::i18n::{Text, tr};
use crate::pages::layout::guarded;
use crate::pages::{error_line, loading, local_time};

/// The credentials page.
#[component]
pub fn CredentialsPage() -> impl IntoView {
    guarded("credentials", credentials_page)
}

type Credentials = LocalResource<Result<Vec<Credential>, ApiError>>;

const KINDS: [(&str, Text); 3] = [
    ("pyun", Text::KindPyun),
    ("mallcoo_outbound", Text::KindMallcooOutbound),
    ("mallcoo_inbound", Text::KindMallcooInbound),
];

fn kind_label(kind: &str) -> Text {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, label)| *label)
        .unwrap_or(Text::Kind)
}

fn credentials_page() -> impl IntoView {
    let creds: Credentials = LocalResource::new(api::credentials);
    let error = RwSignal::new(None::<ApiError>);
    let issued = RwSignal::new(None::<Issued>);
    // The credential whose secret is being replaced.
    let replacing = RwSignal::new(None::<Credential>);
    let replaced = RwSignal::new(false);

    let list = move || {
        creds.get().map(|r| match r {
            Err(e) => {
                let error = RwSignal::new(Some(e));
                error_line(error, "credentials-error").into_any()
            }
            Ok(list) => view! {
                <table data-testid="credentials-table">
                    <thead><tr>
                        <th>{tr(Text::Name)}</th>
                        <th>{tr(Text::Kind)}</th>
                        <th>{tr(Text::AppId)}</th>
                        <th>{tr(Text::PublicKey)}</th>
                        <th>{tr(Text::UpdatedAt)}</th>
                        <th>{tr(Text::Actions)}</th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().map(|c| credential_row(c, error, issued, replacing, replaced)).collect_view()}
                    </tbody>
                </table>
            }
            .into_any(),
        })
    };
    view! {
        {move || issued.get().map(|pair| issued_box(pair, issued))}
        <section>
            <h2>{tr(Text::CredentialsTitle)}</h2>
            <p class="muted">{tr(Text::SecretWriteOnly)}</p>
            {move || list().unwrap_or_else(|| loading().into_any())}
            {error_line(error, "credential-action-error")}
            {move || replaced.get().then(|| view! { <p class="ok" data-testid="secret-replaced">{tr(Text::SecretReplaced)}</p> })}
        </section>
        {move || replacing.get().map(|c| replace_form(c, replacing, replaced, creds))}
        {create_form(creds, issued)}
    }
}

fn credential_row(
    c: Credential,
    error: RwSignal<Option<ApiError>>,
    issued: RwSignal<Option<Issued>>,
    replacing: RwSignal<Option<Credential>>,
    replaced: RwSignal<bool>,
) -> impl IntoView {
    let id = c.id;
    let name = c.name.clone();
    let inbound = c.kind == "mallcoo_inbound";
    let rotate = move |_| {
        error.set(None);
        spawn_local(async move {
            match api::rotate_credential(id).await {
                Ok(created) => issued.set(created.issued),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let this = c.clone();
    let public_key = c
        .public
        .public_key
        .as_deref()
        .map(|k| {
            let short: String = k.chars().take(24).collect();
            if short.len() < k.len() {
                format!("{short}…")
            } else {
                short
            }
        })
        .unwrap_or_default();
    view! {
        <tr data-testid=format!("credential-row-{name}")>
            <td>{c.name.clone()}</td>
            <td>{tr(kind_label(&c.kind))}</td>
            <td>{c.public.app_id.clone().unwrap_or_default()}</td>
            <td><code title=c.public.public_key.clone().unwrap_or_default()>{public_key}</code></td>
            <td>{c.updated_at.as_deref().map(local_time).unwrap_or_default()}</td>
            <td class="actions">{if inbound {
                view! { <button data-testid=format!("credential-rotate-{name}") on:click=rotate>{tr(Text::Rotate)}</button> }.into_any()
            } else {
                view! {
                    <button data-testid=format!("credential-replace-{name}") on:click=move |_| {
                        replaced.set(false);
                        replacing.set(Some(this.clone()));
                    }>{tr(Text::ReplaceSecret)}</button>
                }.into_any()
            }}</td>
        </tr>
    }
}

/// A freshly issued key pair, with the warning that it will not be shown again.
fn issued_box(pair: Issued, issued: RwSignal<Option<Issued>>) -> impl IntoView {
    view! {
        <section class="once" data-testid="issued-pair">
            <p class="warning">{tr(Text::IssuedWarning)}</p>
            <label>{tr(Text::AppId)}</label>
            <pre data-testid="issued-app-id">{pair.app_id}</pre>
            <label>{tr(Text::PublicKey)}</label>
            <pre data-testid="issued-public-key">{pair.public_key}</pre>
            <label>{tr(Text::PrivateKey)}</label>
            <pre data-testid="issued-private-key">{pair.private_key}</pre>
            <button data-testid="issued-dismiss" on:click=move |_| issued.set(None)>{tr(Text::Dismiss)}</button>
        </section>
    }
}

/// Replaces a secret: a password input that starts empty and is cleared once sent.
fn replace_form(
    c: Credential,
    replacing: RwSignal<Option<Credential>>,
    replaced: RwSignal<bool>,
    creds: Credentials,
) -> impl IntoView {
    let secret = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let id = c.id;
    let label = if c.kind == "pyun" {
        Text::AppSecret
    } else {
        Text::PrivateKey
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let value = secret.get_untracked();
        secret.set(String::new());
        spawn_local(async move {
            match api::replace_secret(id, &value).await {
                Ok(_) => {
                    replacing.set(None);
                    replaced.set(true);
                    creds.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section data-testid="replace-secret-form">
            <h3>{tr(Text::ReplaceSecret)}" · "{c.name.clone()}</h3>
            <form on:submit=submit>
                <label>{tr(label)}</label>
                <input type="password" data-testid="secret-input" autocomplete="new-password"
                    prop:value=secret on:input=move |ev| secret.set(event_target_value(&ev)) />
                <div class="actions">
                    <button type="submit" data-testid="secret-save">{tr(Text::Save)}</button>
                    <button type="button" on:click=move |_| replacing.set(None)>{tr(Text::Cancel)}</button>
                </div>
            </form>
            {error_line(error, "secret-error")}
        </section>
    }
}

fn create_form(creds: Credentials, issued: RwSignal<Option<Issued>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new("pyun".to_owned());
    let app_id = RwSignal::new(String::new());
    let app_secret = RwSignal::new(String::new());
    let public_key = RwSignal::new(String::new());
    let private_key = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let k = kind.get_untracked();
        let mut body = Map::new();
        body.insert("name".into(), name.get_untracked().trim().into());
        body.insert("kind".into(), k.clone().into());
        let mut put = |field: &str, value: RwSignal<String>| {
            let v = value.get_untracked().trim().to_owned();
            if !v.is_empty() {
                body.insert(field.into(), v.into());
            }
            // Secrets leave the page as soon as they are sent.
            value.set(String::new());
        };
        match k.as_str() {
            "pyun" => {
                put("app_id", app_id);
                put("app_secret", app_secret);
            }
            "mallcoo_outbound" => {
                put("app_id", app_id);
                put("public_key", public_key);
                put("private_key", private_key);
            }
            _ => {}
        }
        spawn_local(async move {
            match api::create_credential(Value::Object(body)).await {
                Ok(created) => {
                    name.set(String::new());
                    issued.set(created.issued);
                    creds.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let shows = move |kinds: &'static [&'static str]| move || kinds.contains(&kind.get().as_str());
    view! {
        <section>
            <h3>{tr(Text::NewCredential)}</h3>
            <form data-testid="credential-form" on:submit=submit>
                <label>{tr(Text::Name)}</label>
                <input data-testid="credential-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
                <label>{tr(Text::Kind)}</label>
                <select data-testid="credential-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    {KINDS.into_iter().map(|(k, label)| view! {
                        <option value=k selected=move || kind.get() == k>{tr(label)}</option>
                    }).collect_view()}
                </select>
                <Show when=shows(&["pyun", "mallcoo_outbound"])>
                    <label>{tr(Text::AppId)}</label>
                    <input data-testid="credential-app-id" prop:value=app_id
                        on:input=move |ev| app_id.set(event_target_value(&ev)) />
                </Show>
                <Show when=shows(&["pyun"])>
                    <label>{tr(Text::AppSecret)}</label>
                    <input type="password" data-testid="credential-app-secret" autocomplete="new-password"
                        prop:value=app_secret on:input=move |ev| app_secret.set(event_target_value(&ev)) />
                </Show>
                <Show when=shows(&["mallcoo_outbound"])>
                    <label>{tr(Text::PublicKey)}</label>
                    <textarea data-testid="credential-public-key" rows="4" prop:value=public_key
                        on:input=move |ev| public_key.set(event_target_value(&ev))></textarea>
                    <label>{tr(Text::PrivateKey)}</label>
                    <input type="password" data-testid="credential-private-key" autocomplete="new-password"
                        prop:value=private_key on:input=move |ev| private_key.set(event_target_value(&ev)) />
                </Show>
                <div class="actions">
                    <button type="submit" data-testid="credential-create">{tr(Text::Create)}</button>
                </div>
            </form>
            {error_line(error, "credential-form-error")}
        </section>
    }
}
