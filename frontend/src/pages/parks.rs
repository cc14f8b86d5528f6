//! Car parks: the list every role sees (filtered by the server), the admin's create form and
//! spaces editor, and the tariff editor, whose JSON is checked by the protocol crate in the
//! browser before sending.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use protocol::tariff::Tariff;
use serde_json::{Map, Value};

use crate::api::{self, ApiError, Credential, Park, Role};
use crate::format::describe_tariff;
use crate::i18n::{self, Text, tr};
use crate::pages::error_line;
use crate::pages::layout::{guarded, session};
use crate::ui::{DataTable, Field, PageHeader, TextInput, ToastKind, toast};

/// The car parks page.
#[component]
pub fn ParksPage() -> impl IntoView {
    guarded("parks", parks_page)
}

/// Which optional text fields the create form offers, with their labels and wire names.
const OPTIONAL_FIELDS: [(&str, Text); 5] = [
    ("pyun_park_uuid", Text::PyunParkUuid),
    ("pyun_api_store_code", Text::PyunStoreCode),
    ("pyun_merchant", Text::PyunMerchant),
    ("mallcoo_park_id", Text::MallcooParkId),
    ("mallcoo_park_code", Text::MallcooParkCode),
];

/// Credential references a car park may hold: field, credential kind, label.
const CREDENTIAL_FIELDS: [(&str, &str, Text); 3] = [
    ("pyun_credential_id", "pyun", Text::PyunCredential),
    (
        "mallcoo_out_credential_id",
        "mallcoo_outbound",
        Text::MallcooOutCredential,
    ),
    (
        "mallcoo_in_credential_id",
        "mallcoo_inbound",
        Text::MallcooInCredential,
    ),
];

fn parks_page() -> impl IntoView {
    let user = session().get_untracked();
    let role = user.as_ref().map(|u| u.role);
    let my_parks = user.map(|u| u.parks).unwrap_or_default();
    let is_admin = role == Some(Role::Admin);
    let lang = i18n::lang();
    let parks = LocalResource::new(api::parks);
    // The car park whose tariff is being edited as JSON.
    let editing = RwSignal::new(None::<Park>);
    // The car park whose spaces an admin is editing.
    let editing_spaces = RwSignal::new(None::<Park>);
    let may_edit_tariff = move |p: &Park| match role {
        Some(Role::Admin) => true,
        Some(Role::PropertyManager) => my_parks.contains(&p.id),
        _ => false,
    };

    let row = move |p: Park| {
        let editable = may_edit_tariff(&p);
        let code = p.code.clone();
        let tariff = p
            .tariff
            .clone()
            .and_then(|t| serde_json::from_value::<Tariff>(t).ok());
        let park = p.clone();
        let spaces_of = p.clone();
        let spaces = p.total_spaces;
        view! {
            <tr data-testid=format!("park-row-{code}")>
                <td data-label=tr(Text::ParkCode)>{p.code.clone()}</td>
                <td data-label=tr(Text::Name) data-testid=format!("park-name-{code}")>{p.name.clone()}</td>
                <td data-label=tr(Text::PyunParkUuid)>{p.pyun_park_uuid.clone().unwrap_or_default()}</td>
                <td data-label=tr(Text::MallcooParkId)>{p.mallcoo_park_id.as_ref().map(show_value).unwrap_or_default()}</td>
                <td data-label=tr(Text::TotalSpaces) data-testid=format!("park-spaces-{code}")>
                    {move || spaces.map_or_else(|| Text::NotConfigured.text(lang.get()).to_owned(), |n| n.to_string())}
                </td>
                <td data-label=tr(Text::Tariff) class="small" data-testid=format!("park-tariff-{code}")>
                    {move || tariff.as_ref().map(|t| describe_tariff(t, lang.get())).unwrap_or_default()}
                </td>
                <td data-label=tr(Text::Actions) class="actions">
                    {if editable {
                        view! {
                            <A href=format!("/parks/{}/tariff", p.id) {..} data-testid=format!("park-tariff-link-{code}")>
                                {tr(Text::TariffLink)}
                            </A>
                            <button data-testid=format!("edit-tariff-{code}") on:click=move |_| {
                                editing.set(Some(park.clone()));
                            }>{tr(Text::TariffJsonEdit)}</button>
                        }.into_any()
                    } else {
                        view! { <span class="muted">{tr(Text::ReadOnly)}</span> }.into_any()
                    }}
                    {is_admin.then(|| view! {
                        <A href=format!("/parks/{}/coupons", p.id) {..} data-testid=format!("park-coupons-{code}")>
                            {tr(Text::CouponSettings)}
                        </A>
                        <button data-testid=format!("edit-spaces-{code}") on:click=move |_| {
                            editing_spaces.set(Some(spaces_of.clone()));
                        }>{tr(Text::EditSpaces)}</button>
                    })}
                </td>
            </tr>
        }
    };

    view! {
        <section>
            <PageHeader title=Text::ParksTitle />
            <DataTable test_id="parks-table" empty_test_id="parks-empty" error_test_id="parks-error"
                columns=vec![Text::ParkCode, Text::Name, Text::PyunParkUuid, Text::MallcooParkId, Text::TotalSpaces, Text::Tariff, Text::Actions]
                rows=move || parks.get() row=row />
        </section>
        {move || editing.get().map(|p| tariff_editor(p, editing, parks))}
        {move || editing_spaces.get().map(|p| spaces_editor(p, editing_spaces, parks))}
        {is_admin.then(|| create_form(parks))}
    }
}

/// Reads the spaces field as the server's rule has it: blank is "not configured", otherwise a
/// whole number 0–100000.
fn parse_spaces(text: &str) -> Result<Option<i64>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(n) if (0..=100_000).contains(&n) => Ok(Some(n)),
        _ => Err(ApiError::Invalid {
            what: Text::TotalSpacesInvalid,
            detail: String::new(),
        }),
    }
}

fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The admin's form for a new car park.
fn create_form(parks: LocalResource<Result<Vec<Park>, ApiError>>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let spaces = RwSignal::new(String::new());
    let optional =
        OPTIONAL_FIELDS.map(|(field, label)| (field, label, RwSignal::new(String::new())));
    let credentials = LocalResource::new(api::credentials);
    let links = CREDENTIAL_FIELDS
        .map(|(field, kind, label)| (field, kind, label, RwSignal::new(String::new())));
    let error = RwSignal::new(None::<ApiError>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let total_spaces = match parse_spaces(&spaces.get_untracked()) {
            Ok(n) => n,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let mut body = Map::new();
        if let Some(n) = total_spaces {
            body.insert("total_spaces".into(), n.into());
        }
        for (field, _, _, value) in links {
            if let Ok(id) = value.get_untracked().parse::<i64>() {
                body.insert(field.into(), id.into());
            }
        }
        body.insert("code".into(), code.get_untracked().trim().into());
        body.insert("name".into(), name.get_untracked().trim().into());
        for (field, _, value) in optional {
            let v = value.get_untracked().trim().to_owned();
            if !v.is_empty() {
                body.insert(field.into(), v.into());
            }
        }
        spawn_local(async move {
            match api::create_park(Value::Object(body)).await {
                Ok(_) => {
                    toast(ToastKind::Done(Text::Created), "park-created");
                    code.set(String::new());
                    name.set(String::new());
                    spaces.set(String::new());
                    for (_, _, value) in optional {
                        value.set(String::new());
                    }
                    for (_, _, _, value) in links {
                        value.set(String::new());
                    }
                    parks.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section>
            <h3>{tr(Text::NewPark)}</h3>
            <form data-testid="park-form" on:submit=submit>
                <div class="fields">
                <Field label=Text::ParkCode>
                    <TextInput value=code test_id="park-code" placeholder=Text::ParkCodeHint />
                </Field>
                <Field label=Text::Name><TextInput value=name test_id="park-name" /></Field>
                <Field label=Text::TotalSpaces hint=Text::TotalSpacesHint>
                    <TextInput value=spaces test_id="park-total-spaces" inputmode="numeric" />
                </Field>
                {optional.into_iter().map(|(field, label, value)| view! {
                    <Field label=label>
                        <TextInput value=value test_id=format!("park-{}", field.replace('_', "-")) />
                    </Field>
                }).collect_view()}
                {links.into_iter().map(|(field, kind, label, value)| {
                    let choices = move || {
                        credentials
                            .get()
                            .and_then(Result::ok)
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|c: &Credential| c.kind == kind)
                            .collect::<Vec<_>>()
                    };
                    view! {
                        <Field label=label>
                            <select data-testid=format!("park-{}", field.replace('_', "-"))
                                prop:value=value on:change=move |ev| value.set(event_target_value(&ev))>
                                <option value="">{tr(Text::NoCredential)}</option>
                                {move || choices().into_iter().map(|c| view! {
                                    <option value=c.id.to_string()>{c.name}</option>
                                }).collect_view()}
                            </select>
                        </Field>
                    }
                }).collect_view()}
                </div>
                <div class="actions">
                    <button type="submit" data-testid="park-create">{tr(Text::Create)}</button>
                </div>
            </form>
            {error_line(error, "park-form-error")}
        </section>
    }
}

/// An admin's editor of `park`'s spaces (blank: not configured).
fn spaces_editor(
    park: Park,
    editing: RwSignal<Option<Park>>,
    parks: LocalResource<Result<Vec<Park>, ApiError>>,
) -> impl IntoView {
    let text = RwSignal::new(park.total_spaces.map(|n| n.to_string()).unwrap_or_default());
    let error = RwSignal::new(None::<ApiError>);
    let id = park.id;
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let spaces = match parse_spaces(&text.get_untracked()) {
            Ok(n) => n,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        spawn_local(async move {
            match api::set_total_spaces(id, spaces).await {
                Ok(_) => {
                    editing.set(None);
                    toast(ToastKind::Saved, "spaces-saved");
                    parks.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section data-testid="spaces-editor">
            <h3>{tr(Text::EditSpacesTitle)}" · "{format!("{} {}", park.code, park.name)}</h3>
            <form on:submit=save>
                <Field label=Text::TotalSpaces hint=Text::TotalSpacesHint>
                    <TextInput value=text test_id="spaces-input" inputmode="numeric" />
                </Field>
                <div class="actions">
                    <button type="submit" data-testid="spaces-save">{tr(Text::Save)}</button>
                    <button type="button" data-testid="spaces-cancel" on:click=move |_| editing.set(None)>{tr(Text::Cancel)}</button>
                </div>
            </form>
            {error_line(error, "spaces-error")}
        </section>
    }
}

/// Reads and checks a tariff with the protocol crate, exactly as the server will.
fn check_tariff(text: &str) -> Result<Tariff, ApiError> {
    let tariff: Tariff = serde_json::from_str(text).map_err(|e| ApiError::Invalid {
        what: Text::TariffJsonInvalid,
        detail: e.to_string(),
    })?;
    tariff.validate().map_err(|e| ApiError::Invalid {
        what: Text::TariffInvalid,
        detail: e.to_string(),
    })?;
    Ok(tariff)
}

/// The tariff of `park` as editable JSON, validated in the browser before it is sent.
fn tariff_editor(
    park: Park,
    editing: RwSignal<Option<Park>>,
    parks: LocalResource<Result<Vec<Park>, ApiError>>,
) -> impl IntoView {
    let initial = park
        .tariff
        .as_ref()
        .filter(|t| !t.is_null())
        .cloned()
        .unwrap_or_else(|| serde_json::to_value(Tariff::example()).unwrap_or(Value::Null));
    let text = RwSignal::new(serde_json::to_string_pretty(&initial).unwrap_or_default());
    let error = RwSignal::new(None::<ApiError>);
    let id = park.id;
    let save = move |_| {
        error.set(None);
        let tariff = match check_tariff(&text.get_untracked()) {
            Ok(t) => t,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        spawn_local(async move {
            match api::set_tariff(id, &tariff).await {
                Ok(_) => {
                    editing.set(None);
                    toast(ToastKind::Saved, "tariff-saved");
                    parks.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section data-testid="tariff-editor">
            <h3>{tr(Text::EditTariff)}" · "{format!("{} {}", park.code, park.name)}</h3>
            <Field label=Text::TariffHint>
                <textarea data-testid="tariff-json" rows="16"
                    prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </Field>
            <div class="actions">
                <button data-testid="tariff-save" on:click=save>{tr(Text::Save)}</button>
                <button data-testid="tariff-cancel" on:click=move |_| editing.set(None)>{tr(Text::Cancel)}</button>
            </div>
            {error_line(error, "tariff-error")}
        </section>
    }
}
