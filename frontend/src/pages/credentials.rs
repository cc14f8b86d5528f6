//! Credentials (admin): P云 and Mallcoo keys. Secrets are written here, never read back: the
//! list shows only public parts, the secret inputs start empty and are cleared after sending,
//! and a key pair we issue for Mallcoo inbound calls is shown once, with a warning. A P云
//! car-park credential holds two secrets; replacing one says which.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value};

use crate::api::{self, ApiError, Credential, Issued};
use crate::i18n::{Text, tr};
use crate::pages::layout::guarded;
use crate::pages::{error_line, local_time};
use crate::ui::{DataTable, Field, PageHeader, TextInput, ToastKind, toast};

/// The credentials page.
#[component]
pub fn CredentialsPage() -> impl IntoView {
    guarded("credentials", credentials_page)
}

type Credentials = LocalResource<Result<Vec<Credential>, ApiError>>;

const KINDS: [(&str, Text); 4] = [
    ("pyun", Text::KindPyun),
    ("mallcoo_outbound", Text::KindMallcooOutbound),
    ("mallcoo_inbound", Text::KindMallcooInbound),
    ("pyun_carpark", Text::KindPyunCarpark),
];

/// The two secrets of a `pyun_carpark` credential: wire name, label, test id of its choice.
const CARPARK_SECRETS: [(&str, Text, &str); 2] = [
    ("upload_secret", Text::UploadSecret, "secret-field-upload"),
    ("downlink_key", Text::DownlinkKey, "secret-field-downlink"),
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
    let issued = RwSignal::new(None::<Issued>);
    // The credential whose secret is being replaced.
    let replacing = RwSignal::new(None::<Credential>);

    view! {
        {move || issued.get().map(|pair| issued_box(pair, issued))}
        <section>
            <PageHeader title=Text::CredentialsTitle />
            <p class="muted">{tr(Text::SecretWriteOnly)}</p>
            <DataTable test_id="credentials-table" error_test_id="credentials-error"
                columns=vec![Text::Name, Text::Kind, Text::AppId, Text::PublicKey, Text::UpdatedAt, Text::Actions]
                rows=move || creds.get()
                row=move |c: Credential| credential_row(c, issued, replacing) />
        </section>
        {move || replacing.get().map(|c| replace_form(c, replacing, creds))}
        {create_form(creds, issued)}
    }
}

fn credential_row(
    c: Credential,
    issued: RwSignal<Option<Issued>>,
    replacing: RwSignal<Option<Credential>>,
) -> impl IntoView {
    let id = c.id;
    let name = c.name.clone();
    let inbound = c.kind == "mallcoo_inbound";
    let rotate = move |_| {
        spawn_local(async move {
            match api::rotate_credential(id).await {
                Ok(created) => issued.set(created.issued),
                Err(e) => toast(ToastKind::Failed(e), "credential-action-error"),
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
            <td data-label=tr(Text::Name)>{c.name.clone()}</td>
            <td data-label=tr(Text::Kind)>{tr(kind_label(&c.kind))}</td>
            <td data-label=tr(Text::AppId)>{c.public.app_id.clone().unwrap_or_default()}</td>
            <td data-label=tr(Text::PublicKey)><code title=c.public.public_key.clone().unwrap_or_default()>{public_key}</code></td>
            <td data-label=tr(Text::UpdatedAt)>{c.updated_at.as_deref().map(local_time).unwrap_or_default()}</td>
            <td data-label=tr(Text::Actions) class="actions">{if inbound {
                view! { <button data-testid=format!("credential-rotate-{name}") on:click=rotate>{tr(Text::Rotate)}</button> }.into_any()
            } else {
                view! {
                    <button data-testid=format!("credential-replace-{name}") on:click=move |_| {
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

/// Replaces a secret: a password input that starts empty and is cleared once sent. A P云
/// car-park credential's form first asks which of its two secrets.
fn replace_form(
    c: Credential,
    replacing: RwSignal<Option<Credential>>,
    creds: Credentials,
) -> impl IntoView {
    let secret = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let id = c.id;
    let carpark = c.kind == "pyun_carpark";
    // Which secret of a P云 car-park credential; nothing is chosen for the admin.
    let field = RwSignal::new(None::<&'static str>);
    let label = match c.kind.as_str() {
        "pyun" => Text::AppSecret,
        "pyun_carpark" => Text::NewSecret,
        _ => Text::PrivateKey,
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let chosen = field.get_untracked();
        if carpark && chosen.is_none() {
            error.set(Some(ApiError::Invalid {
                what: Text::SecretFieldRequired,
                detail: String::new(),
            }));
            return;
        }
        let value = secret.get_untracked();
        secret.set(String::new());
        spawn_local(async move {
            match api::replace_secret(id, &value, chosen).await {
                Ok(_) => {
                    replacing.set(None);
                    toast(ToastKind::Done(Text::SecretReplaced), "secret-replaced");
                    creds.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let choices = carpark.then(|| {
        view! {
            <Field label=Text::SecretToReplace group=true>
                <div class="checks">
                    {CARPARK_SECRETS.into_iter().map(|(name, text, test_id)| view! {
                        <label class="check">
                            <input type="radio" name="secret-field" value=name data-testid=test_id
                                prop:checked=move || field.get() == Some(name)
                                on:change=move |_| {
                                    field.set(Some(name));
                                    error.set(None);
                                } />
                            {tr(text)}
                        </label>
                    }).collect_view()}
                </div>
            </Field>
        }
    });
    view! {
        <section data-testid="replace-secret-form">
            <h3>{tr(Text::ReplaceSecret)}" · "{c.name.clone()}</h3>
            <form on:submit=submit>
                {choices}
                <Field label=label>
                    <TextInput value=secret kind="password" test_id="secret-input" {..} autocomplete="new-password" />
                </Field>
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
    let upload_secret = RwSignal::new(String::new());
    let downlink_key = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let k = kind.get_untracked();
        let blank = |v: RwSignal<String>| v.with_untracked(|s| s.trim().is_empty());
        if k == "pyun_carpark" && (blank(upload_secret) || blank(downlink_key)) {
            error.set(Some(ApiError::Invalid {
                what: Text::BothSecretsRequired,
                detail: String::new(),
            }));
            return;
        }
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
            "pyun_carpark" => {
                put("app_id", app_id);
                put("upload_secret", upload_secret);
                put("downlink_key", downlink_key);
            }
            _ => {}
        }
        spawn_local(async move {
            match api::create_credential(Value::Object(body)).await {
                Ok(created) => {
                    toast(ToastKind::Done(Text::Created), "credential-created");
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
                <Field label=Text::Name><TextInput value=name test_id="credential-name" /></Field>
                <Field label=Text::Kind>
                    <select data-testid="credential-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        {KINDS.into_iter().map(|(k, label)| view! {
                            <option value=k selected=move || kind.get() == k>{tr(label)}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <Show when=shows(&["pyun", "mallcoo_outbound"])>
                    <Field label=Text::AppId><TextInput value=app_id test_id="credential-app-id" /></Field>
                </Show>
                <Show when=shows(&["pyun_carpark"])>
                    <Field label=Text::AppIdOptional><TextInput value=app_id test_id="credential-app-id" /></Field>
                    <Field label=Text::UploadSecret hint=Text::UploadSecretHint>
                        <TextInput value=upload_secret kind="password" test_id="credential-upload-secret" {..} autocomplete="new-password" />
                    </Field>
                    <Field label=Text::DownlinkKey hint=Text::DownlinkKeyHint>
                        <TextInput value=downlink_key kind="password" test_id="credential-downlink-key" {..} autocomplete="new-password" />
                    </Field>
                </Show>
                <Show when=shows(&["pyun"])>
                    <Field label=Text::AppSecret>
                        <TextInput value=app_secret kind="password" test_id="credential-app-secret" {..} autocomplete="new-password" />
                    </Field>
                </Show>
                <Show when=shows(&["mallcoo_outbound"])>
                    <Field label=Text::PublicKey>
                        <textarea data-testid="credential-public-key" rows="4" prop:value=public_key
                            on:input=move |ev| public_key.set(event_target_value(&ev))></textarea>
                    </Field>
                    <Field label=Text::PrivateKey>
                        <TextInput value=private_key kind="password" test_id="credential-private-key" {..} autocomplete="new-password" />
                    </Field>
                </Show>
                <div class="actions">
                    <button type="submit" data-testid="credential-create">{tr(Text::Create)}</button>
                </div>
            </form>
            {error_line(error, "credential-form-error")}
        </section>
    }
}
