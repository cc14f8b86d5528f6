//! Users (admin): list, create, change role and car parks, disable or enable, sign out everywhere.
//! A merchant is created for one shop (car park, then shop) and keeps it: its role and car park
//! do not change.

use std::collections::{HashMap, HashSet};

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

use crate::api::{self, ApiError, Park, Role, Shop, User};
use crate::i18n::{self, Text, fill, tr};
use crate::pages::layout::guarded;
use crate::pages::vip_labels::park_select;
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

/// The role select; `merchant` only where a user is created (no other role becomes one).
fn role_select(role: RwSignal<Role>, test_id: String, with_merchant: bool) -> impl IntoView {
    view! {
        <select data-testid=test_id on:change=move |ev| {
            if let Some(r) = Role::from_code(&event_target_value(&ev)) {
                role.set(r);
            }
        }>
            {Role::ALL.into_iter().filter(move |r| with_merchant || *r != Role::Merchant).map(|r| view! {
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
    let shop_names = merchants_shops(users);
    view! {
        <section>
            <PageHeader title=Text::UsersTitle />
            <DataTable test_id="users-table" error_test_id="users-error"
                columns=vec![Text::Username, Text::Role, Text::Parks, Text::Status, Text::Actions]
                // Re-drawn when the car parks' names arrive too.
                rows=move || { park_list.track(); shop_names.track(); users.get() }
                row=move |u: User| {
                    let parks = park_list.with_untracked(|all| {
                        u.parks.iter().map(|id| park_label(all, *id)).collect::<Vec<_>>().join(", ")
                    });
                    let shop = u.shop_id.map(|id| {
                        shop_names.with_untracked(|n| n.get(&id).cloned()).unwrap_or_else(|| format!("#{id}"))
                    });
                    user_row(u, parks, shop, users, editing)
                } />
        </section>
        {move || editing.get().map(|u| edit_form(u, park_list, users, editing))}
        {create_form(park_list, users)}
    }
}

/// The names of the merchants' shops by id, read from the car parks merchants belong to.
fn merchants_shops(users: Users) -> RwSignal<HashMap<i64, String>> {
    let names = RwSignal::new(HashMap::new());
    Effect::new(move |_| {
        let parks: HashSet<i64> = users.with(|u| {
            u.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|list| {
                    list.iter()
                        .filter(|u| u.shop_id.is_some())
                        .flat_map(|u| u.parks.iter().copied())
                        .collect()
                })
                .unwrap_or_default()
        });
        for park in parks {
            spawn_local(async move {
                // A name that cannot be read shows as `#id`.
                if let Ok(shops) = api::shops(park).await {
                    let _ = names.try_update(|n: &mut HashMap<i64, String>| {
                        n.extend(shops.into_iter().map(|s| (s.id, s.name)));
                    });
                }
            });
        }
    });
    names
}

fn user_row(
    u: User,
    parks: String,
    shop: Option<String>,
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
            <td data-label=tr(Text::Parks)>
                {parks}
                {shop.map(|s| {
                    let lang = i18n::lang();
                    view! {
                        <br /><span class="small" data-testid=format!("user-shop-{name}")>
                            {move || fill(Text::UserShopOf.text(lang.get()), &[&s])}
                        </span>
                    }
                })}
            </td>
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
    // A merchant's role and car park come with its shop: only its password changes here.
    let merchant = user.role == Role::Merchant;
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let mut body = if merchant {
            json!({})
        } else {
            json!({ "role": role.get_untracked(), "parks": chosen.get_untracked() })
        };
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
                {(!merchant).then(|| view! {
                    <Field label=Text::Role>{role_select(role, "user-edit-role".to_owned(), false)}</Field>
                    <Field label=Text::Parks group=true>
                        <div class="checks">{park_picker(parks, chosen, "user-edit-park")}</div>
                    </Field>
                })}
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
    let shop = RwSignal::new(None::<i64>);
    let error = RwSignal::new(None::<ApiError>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let (name, pass, r) = (
            username.get_untracked(),
            password.get_untracked(),
            role.get_untracked(),
        );
        // A merchant's car park is its shop's; other roles have no shop.
        let (p, s) = if r == Role::Merchant {
            (Vec::new(), shop.get_untracked())
        } else {
            (chosen.get_untracked(), None)
        };
        spawn_local(async move {
            match api::create_user(name.trim(), &pass, r, &p, s).await {
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
                <Field label=Text::Role>{role_select(role, "user-role".to_owned(), true)}</Field>
                {move || if role.get() == Role::Merchant {
                    shop_choice(parks, shop).into_any()
                } else {
                    view! {
                        <Field label=Text::Parks group=true>
                            <div class="checks">{park_picker(parks, chosen, "user-park")}</div>
                        </Field>
                    }
                    .into_any()
                }}
                <div class="actions">
                    <button type="submit" data-testid="user-create">{tr(Text::Create)}</button>
                </div>
            </form>
            {error_line(error, "user-form-error")}
        </section>
    }
}

/// A merchant's shop: the car park, then one of its shops into `shop`.
fn shop_choice(parks: Signal<Vec<Park>>, shop: RwSignal<Option<i64>>) -> impl IntoView {
    let park = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if park.get_untracked().is_none()
            && let Some(first) = parks.with(|l| l.first().map(|p| p.id))
        {
            park.set(Some(first));
        }
    });
    let shops = RwSignal::new(None::<Result<Vec<Shop>, ApiError>>);
    Effect::new(move |_| {
        let Some(id) = park.get() else {
            return;
        };
        shops.set(None);
        shop.set(None);
        spawn_local(async move {
            let answer = api::shops(id).await;
            if park.try_get_untracked() != Some(Some(id)) {
                return;
            }
            if let Ok(list) = &answer {
                shop.set(list.first().map(|s| s.id));
            }
            shops.set(Some(answer));
        });
    });
    let lang = i18n::lang();
    view! {
        {park_select(parks, park, "user-shop-park")}
        <Field label=Text::UserShop>
            {move || match shops.get() {
                None => crate::pages::loading().into_any(),
                Some(Err(e)) => view! { <p class="error" data-testid="user-shops-error">{e.describe(lang.get())}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <span class="muted" data-testid="user-no-shops">{tr(Text::NoShops)}</span>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <select data-testid="user-shop" on:change=move |ev| shop.set(event_target_value(&ev).parse().ok())>
                        {list.into_iter().map(|s| {
                            let id = s.id;
                            view! { <option value=id.to_string() selected=move || shop.get() == Some(id)>{s.name}</option> }
                        }).collect_view()}
                    </select>
                }.into_any(),
            }}
        </Field>
    }
}
