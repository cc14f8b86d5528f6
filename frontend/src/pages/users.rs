//! Users (admin): list, create, change role and car parks, disable or enable, sign out everywhere.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

use crate::api::{self, ApiError, Park, Role, User};
use crate::i18n::{Text, tr};
use crate::pages::layout::guarded;
use crate::pages::{error_line, park_label, park_picker};
use crate::ui::{
    Badge, DataTable, Field, PageHeader, Question, TextInput, ToastKind, Tone, confirm, toast,
};

/// The users page.
#[component]
pub fn UsersPage() -> impl IntoView {
    guarded("users", users_page)
}

type Users = LocalResource<Result<Vec<User>, ApiError>>;

fn role_select(role: RwSignal<Role>, test_id: String) -> impl IntoView {
    view! {
        <select data-testid=test_id on:change=move |ev| {
            if let Some(r) = Role::from_code(&event_target_value(&ev)) {
                role.set(r);
            }
        }>
            // A merchant is created for its shop (`shop_id`), which this form does not ask yet.
            {Role::ALL.into_iter().filter(|r| *r != Role::Merchant).map(|r| view! {
                <option value=r.code() selected=move || role.get() == r>{tr(r.label())}</option>
            }).collect_view()}
        </select>
    }
}

fn users_page() -> impl IntoView {
    let users: Users = LocalResource::new(api::users);
    // Park names for the pickers; an error here only hides the names.
    let parks = LocalResource::new(api::parks);
    let park_list = Signal::derive(move || parks.get().and_then(Result::ok).unwrap_or_default());
    let editing = RwSignal::new(None::<User>);
    view! {
        <section>
            <PageHeader title=Text::UsersTitle />
            <DataTable test_id="users-table" error_test_id="users-error"
                columns=vec![Text::Username, Text::Role, Text::Parks, Text::Status, Text::Actions]
                // Re-drawn when the car parks' names arrive too.
                rows=move || { park_list.track(); users.get() }
                row=move |u: User| {
                    let parks = park_list.with_untracked(|all| {
                        u.parks.iter().map(|id| park_label(all, *id)).collect::<Vec<_>>().join(", ")
                    });
                    user_row(u, parks, users, editing)
                } />
        </section>
        {move || editing.get().map(|u| edit_form(u, park_list, users, editing))}
        {create_form(park_list, users)}
    }
}

fn user_row(
    u: User,
    parks: String,
    users: Users,
    editing: RwSignal<Option<User>>,
) -> impl IntoView {
    let (id, disabled, name) = (u.id, u.disabled, u.username.clone());
    let toggle = move |_| {
        spawn_local(async move {
            match api::update_user(id, json!({ "disabled": !disabled })).await {
                Ok(_) => users.refetch(),
                Err(e) => toast(ToastKind::Failed(e), "user-action-error"),
            }
        });
    };
    let end_sessions = {
        let name = name.clone();
        move |_| {
            let name = name.clone();
            let ask = Question::new(Text::EndSessionsConfirm)
                .arg(name)
                .yes(Text::EndSessions);
            confirm(ask, move || {
                spawn_local(async move {
                    match api::end_sessions(id).await {
                        Ok(_) => toast(ToastKind::Done(Text::SessionsEnded), "user-sessions-ended"),
                        Err(e) => toast(ToastKind::Failed(e), "user-action-error"),
                    }
                });
            });
        }
    };
    let edit_user = u.clone();
    view! {
        <tr data-testid=format!("user-row-{name}")>
            <td data-label=tr(Text::Username)>{u.username.clone()}</td>
            <td data-label=tr(Text::Role) data-testid=format!("user-role-{name}")>{tr(u.role.label())}</td>
            <td data-label=tr(Text::Parks)>{parks}</td>
            <td data-label=tr(Text::Status)>
                <Badge tone={if disabled { Tone::Neutral } else { Tone::Ok }} test_id=format!("user-status-{name}")>
                    {tr(if disabled { Text::Disabled } else { Text::Active })}
                </Badge>
            </td>
            <td data-label=tr(Text::Actions) class="actions">
                <button data-testid=format!("user-edit-{name}") on:click=move |_| editing.set(Some(edit_user.clone()))>
                    {tr(Text::Edit)}
                </button>
                <button data-testid=format!("user-toggle-{name}") on:click=toggle>
                    {tr(if disabled { Text::Enable } else { Text::Disable })}
                </button>
                <button data-testid=format!("user-end-sessions-{name}") on:click=end_sessions>
                    {tr(Text::EndSessions)}
                </button>
            </td>
        </tr>
    }
}

fn edit_form(
    user: User,
    parks: Signal<Vec<Park>>,
    users: Users,
    editing: RwSignal<Option<User>>,
) -> impl IntoView {
    let role = RwSignal::new(user.role);
    let chosen = RwSignal::new(user.parks.clone());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let id = user.id;
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let mut body = json!({ "role": role.get_untracked(), "parks": chosen.get_untracked() });
        let new_password = password.get_untracked();
        password.set(String::new());
        if !new_password.is_empty() {
            body["password"] = new_password.into();
        }
        spawn_local(async move {
            match api::update_user(id, body).await {
                Ok(_) => {
                    editing.set(None);
                    toast(ToastKind::Saved, "user-saved");
                    users.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section data-testid="user-edit-form">
            <h3>{tr(Text::Edit)}" · "{user.username.clone()}</h3>
            <form on:submit=save>
                <Field label=Text::Role>{role_select(role, "user-edit-role".to_owned())}</Field>
                <Field label=Text::Parks group=true>
                    <div class="checks">{park_picker(parks, chosen, "user-edit-park")}</div>
                </Field>
                <Field label=Text::NewPassword>
                    <TextInput value=password placeholder=Text::NewPasswordHint test_id="user-edit-password"
                        kind="password" {..} autocomplete="new-password" />
                </Field>
                <div class="actions">
                    <button type="submit" data-testid="user-edit-save">{tr(Text::Save)}</button>
                    <button type="button" on:click=move |_| editing.set(None)>{tr(Text::Cancel)}</button>
                </div>
            </form>
            {error_line(error, "user-edit-error")}
        </section>
    }
}

fn create_form(parks: Signal<Vec<Park>>, users: Users) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::MallStaff);
    let chosen = RwSignal::new(Vec::<i64>::new());
    let error = RwSignal::new(None::<ApiError>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let (name, pass, r, p) = (
            username.get_untracked(),
            password.get_untracked(),
            role.get_untracked(),
            chosen.get_untracked(),
        );
        spawn_local(async move {
            match api::create_user(name.trim(), &pass, r, &p).await {
                Ok(_) => {
                    toast(ToastKind::Done(Text::Created), "user-created");
                    username.set(String::new());
                    password.set(String::new());
                    chosen.set(Vec::new());
                    users.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section>
            <h3>{tr(Text::NewUser)}</h3>
            <form data-testid="user-form" on:submit=submit>
                <Field label=Text::Username>
                    <TextInput value=username test_id="user-username" {..} autocomplete="off" />
                </Field>
                <Field label=Text::Password>
                    <TextInput value=password kind="password" test_id="user-password" {..} autocomplete="new-password" />
                </Field>
                <Field label=Text::Role>{role_select(role, "user-role".to_owned())}</Field>
                <Field label=Text::Parks group=true>
                    <div class="checks">{park_picker(parks, chosen, "user-park")}</div>
                </Field>
                <div class="actions">
                    <button type="submit" data-testid="user-create">{tr(Text::Create)}</button>
                </div>
            </form>
            {error_line(error, "user-form-error")}
        </section>
    }
}
