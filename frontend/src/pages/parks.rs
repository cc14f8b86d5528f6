//! Car parks: the list every role sees (filtered by the server), the admin's forms (a new car
//! park, a change of one, its spaces) and the tariff editor, whose JSON is checked by the
//! protocol crate in the browser before sending.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use protocol::tariff::Tariff;
use serde_json::Value;

use crate::api::{self, ApiError, Park, Role};
use crate::format::describe_tariff;
use crate::i18n::{self, Text, tr};
use crate::pages::error_line;
use crate::pages::layout::{guarded, session};
use crate::pages::park_form::{Parks, park_form, parse_spaces, show_value};
use crate::ui::{DataTable, Field, PageHeader, TextInput, ToastKind, toast};

/// The car parks page.
#[component]
pub fn ParksPage() -> impl IntoView {
    guarded("parks", parks_page)
}

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
    // The car park an admin is changing in the full form.
    let editing_park = RwSignal::new(None::<Park>);
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
        let edit_of = p.clone();
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
                        <button data-testid=format!("edit-park-{code}") on:click=move |_| {
                            editing_park.set(Some(edit_of.clone()));
                        }>{tr(Text::Edit)}</button>
                        <A href=format!("/parks/{}/pyun", p.id) {..} data-testid=format!("park-pyun-{code}")>
                            {tr(Text::PyunGatewayLink)}
                        </A>
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
        {move || editing_park.get().map(|p| park_form(Some(p), parks, editing_park))}
        {is_admin.then(|| park_form(None, parks, editing_park))}
    }
}

/// An admin's editor of `park`'s spaces (blank: not configured).
fn spaces_editor(park: Park, editing: RwSignal<Option<Park>>, parks: Parks) -> impl IntoView {
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
fn tariff_editor(park: Park, editing: RwSignal<Option<Park>>, parks: Parks) -> impl IntoView {
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
