//! API keys for machine clients (admin): list, create (the key is shown once), revoke.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError, ApiKey, Park};
use crate::i18n::{Text, tr};
use crate::pages::layout::guarded;
use crate::pages::{error_line, local_time, park_label};
use crate::ui::{DataTable, Field, PageHeader, Question, TextInput, ToastKind, confirm, toast};

/// The API keys page.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    guarded("api-keys", api_keys_page)
}

type Keys = LocalResource<Result<Vec<ApiKey>, ApiError>>;

const SCOPES: [(&str, Text); 4] = [
    ("gate", Text::ScopeGate),
    ("coupons", Text::ScopeCoupons),
    ("vip", Text::ScopeVip),
    ("discounts", Text::ScopeDiscounts),
];

fn api_keys_page() -> impl IntoView {
    let keys: Keys = LocalResource::new(api::api_keys);
    let parks = LocalResource::new(api::parks);
    let park_list = Signal::derive(move || parks.get().and_then(Result::ok).unwrap_or_default());
    // The key just created: shown once, gone on reload or when dismissed.
    let new_key = RwSignal::new(None::<String>);
    view! {
        {move || new_key.get().map(|key| view! {
            <section class="once" data-testid="new-api-key-box">
                <p class="warning">{tr(Text::NewKeyWarning)}</p>
                <pre data-testid="new-api-key">{key}</pre>
                <button data-testid="new-api-key-dismiss" on:click=move |_| new_key.set(None)>{tr(Text::Dismiss)}</button>
            </section>
        })}
        <section>
            <PageHeader title=Text::ApiKeysTitle />
            <DataTable test_id="api-keys-table" error_test_id="api-keys-error"
                columns=vec![Text::Name, Text::Prefix, Text::Scopes, Text::Park, Text::CreatedAt, Text::LastUsed, Text::Actions]
                // Re-drawn when the car parks' names arrive too.
                rows=move || { park_list.track(); keys.get() }
                row=move |k: ApiKey| {
                    let park = k.park_id.map(|p| park_list.with_untracked(|all| park_label(all, p)));
                    key_row(k, park, keys)
                } />
        </section>
        {create_form(park_list, keys, new_key)}
    }
}

fn key_row(k: ApiKey, park: Option<String>, keys: Keys) -> impl IntoView {
    let id = k.id;
    let name = k.name.clone();
    let revoke = {
        let name = name.clone();
        move |_| {
            let ask = Question::new(Text::RevokeKeyConfirm)
                .arg(name.clone())
                .yes(Text::Revoke);
            confirm(ask, move || {
                spawn_local(async move {
                    match api::revoke_api_key(id).await {
                        Ok(_) => {
                            toast(ToastKind::Done(Text::Revoked), "api-key-revoked-toast");
                            keys.refetch();
                        }
                        Err(e) => toast(ToastKind::Failed(e), "api-key-action-error"),
                    }
                });
            });
        }
    };
    view! {
        <tr data-testid=format!("api-key-row-{name}") class:revoked=k.revoked>
            <td data-label=tr(Text::Name)>{k.name.clone()}</td>
            <td data-label=tr(Text::Prefix)><code>{k.prefix.clone()}</code></td>
            <td data-label=tr(Text::Scopes)>{k.scopes.join(", ")}</td>
            <td data-label=tr(Text::Park)>{match park {
                Some(p) => p.into_any(),
                None => tr(Text::AllParks).into_any(),
            }}</td>
            <td data-label=tr(Text::CreatedAt) data-testid=format!("api-key-created-{name}")>
                {k.created_at.as_deref().map(local_time).unwrap_or_default()}
            </td>
            <td data-label=tr(Text::LastUsed)>{match k.last_used_at.as_deref() {
                Some(t) => local_time(t).into_any(),
                None => tr(Text::Never).into_any(),
            }}</td>
            <td data-label=tr(Text::Actions)>{if k.revoked {
                view! { <span class="muted" data-testid=format!("api-key-revoked-{name}")>{tr(Text::Revoked)}</span> }.into_any()
            } else {
                view! { <button data-testid=format!("api-key-revoke-{name}") on:click=revoke>{tr(Text::Revoke)}</button> }.into_any()
            }}</td>
        </tr>
    }
}

fn create_form(
    parks: Signal<Vec<Park>>,
    keys: Keys,
    new_key: RwSignal<Option<String>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let scopes = SCOPES.map(|(scope, label)| (scope, label, RwSignal::new(false)));
    let park = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let chosen: Vec<&'static str> = scopes
            .iter()
            .filter(|(_, _, on)| on.get_untracked())
            .map(|(scope, _, _)| *scope)
            .collect();
        if chosen.is_empty() {
            error.set(Some(ApiError::Invalid {
                what: Text::ScopesRequired,
                detail: String::new(),
            }));
            return;
        }
        let park_id = park.get_untracked().parse::<i64>().ok();
        let key_name = name.get_untracked();
        spawn_local(async move {
            match api::create_api_key(key_name.trim(), &chosen, park_id).await {
                Ok(created) => {
                    toast(ToastKind::Done(Text::Created), "api-key-created-toast");
                    new_key.set(Some(created.key));
                    name.set(String::new());
                    for (_, _, on) in scopes {
                        on.set(false);
                    }
                    keys.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section>
            <h3>{tr(Text::NewApiKey)}</h3>
            <form data-testid="api-key-form" on:submit=submit>
                <Field label=Text::Name>
                    <TextInput value=name test_id="api-key-name" />
                </Field>
                <Field label=Text::Scopes group=true>
                <div class="checks">
                    {scopes.into_iter().map(|(scope, label, on)| view! {
                        <label class="check">
                            <input type="checkbox" data-testid=format!("api-key-scope-{scope}")
                                prop:checked=on on:change=move |ev| on.set(event_target_checked(&ev)) />
                            {tr(label)}
                        </label>
                    }).collect_view()}
                </div>
                </Field>
                <Field label=Text::Park>
                    <select data-testid="api-key-park" on:change=move |ev| park.set(event_target_value(&ev))>
                        <option value="">{tr(Text::AllParks)}</option>
                        {move || parks.get().into_iter().map(|p| view! {
                            <option value=p.id.to_string()>{format!("{} {}", p.code, p.name)}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <div class="actions">
                    <button type="submit" data-testid="api-key-create">{tr(Text::Create)}</button>
                </div>
            </form>
            {error_line(error, "api-key-form-error")}
        </section>
    }
}
