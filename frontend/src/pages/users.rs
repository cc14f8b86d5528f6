//! Users (admin): list, create, change role and car parks, disable or enable, sign out everywhere.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

use crate::api::{self, ApiError, Park, Role, User};
use crate::i18n::{Text, tr};
use crate::pages::layout::guarded;
use crate::pages::{error_line, loading, park_label, park_picker};

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
            {Role::ALL.into_iter().map(|r| view! {
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
    let error = RwSignal::new(None::<ApiError>);
    let editing = RwSignal::new(None::<User>);

    let list = move || {
        users.get().map(|r| match r {
            Err(e) => {
                let error = RwSignal::new(Some(e));
                error_line(error, "users-error").into_any()
            }
            Ok(list) => {
                let all_parks = park_list.get();
                view! {
                    <table data-testid="users-table">
                        <thead><tr>
                            <th>{tr(Text::Username)}</th>
                            <th>{tr(Text::Role)}</th>
                            <th>{tr(Text::Parks)}</th>
                            <th>{tr(Text::Status)}</th>
                            <th>{tr(Text::Actions)}</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|u| user_row(u, &all_parks, users, editing, error)).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }
        })
    };
    view! {
        <section>
            <h2>{tr(Text::UsersTitle)}</h2>
            {move || list().unwrap_or_else(|| loading().into_any())}
            {error_line(error, "user-action-error")}
        </section>
        {move || editing.get().map(|u| edit_form(u, park_list, users, editing))}
        {create_form(park_list, users)}
    }
}

fn user_row(
    u: User,
    all_parks: &[Park],
    users: Users,
    editing: RwSignal<Option<User>>,
    error: RwSignal<Option<ApiError>>,
) -> impl IntoView {
    let parks = u
        .parks
        .iter()
        .map(|id| park_label(all_parks, *id))
        .collect::<Vec<_>>()
        .join(", ");
    let (id, disabled, name) = (u.id, u.disabled, u.username.clone());
    let toggle = move |_| {
        error.set(None);
        spawn_local(async move {
            match api::update_user(id, json!({ "disabled": !disabled })).await {
                Ok(_) => users.refetch(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let end_sessions = move |_| {
        error.set(None);
        spawn_local(async move {
            if let Err(e) = api::end_sessions(id).await {
                error.set(Some(e));
            }
        });
    };
    let edit_user = u.clone();
    view! {
        <tr data-testid=format!("user-row-{name}")>
            <td>{u.username.clone()}</td>
            <td data-testid=format!("user-role-{name}")>{tr(u.role.label())}</td>
            <td>{parks}</td>
            <td data-testid=format!("user-status-{name}")>{tr(if disabled { Text::Disabled } else { Text::Active })}</td>
            <td class="actions">
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
                <label>{tr(Text::Role)}</label>
                {role_select(role, "user-edit-role".to_owned())}
                <label>{tr(Text::Parks)}</label>
                <div class="checks">{park_picker(parks, chosen, "user-edit-park")}</div>
                <label>{tr(Text::NewPassword)}</label>
                <input data-testid="user-edit-password" type="password" autocomplete="new-password"
                    placeholder=tr(Text::NewPasswordHint) prop:value=password
                    on:input=move |ev| password.set(event_target_value(&ev)) />
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
                <label>{tr(Text::Username)}</label>
                <input data-testid="user-username" autocomplete="off" prop:value=username
                    on:input=move |ev| username.set(event_target_value(&ev)) />
                <label>{tr(Text::Password)}</label>
                <input data-testid="user-password" type="password" autocomplete="new-password" prop:value=password
                    on:input=move |ev| password.set(event_target_value(&ev)) />
                <label>{tr(Text::Role)}</label>
                {role_select(role, "user-role".to_owned())}
                <label>{tr(Text::Parks)}</label>
                <div class="checks">{park_picker(parks, chosen, "user-park")}</div>
                <div class="actions">
                    <button type="submit" data-testid="user-create">{tr(Text::Create)}</button>
                </div>
            </form>
            {error_line(error, "user-form-error")}
        </section>
    }
}
