//! The admin's car park form, for a new car park and for changing one: its identifiers at P云
//! and Mallcoo, its spaces, the credentials it uses, and the switch of P云 car-park access.
//!
//! A change reads the car park as the server has it and sends back only what the form holds
//! (`api::update_park`), so a field this form does not show (the tariff) is kept.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value};

use crate::api::{self, ApiError, Credential, Park};
use crate::i18n::{Text, tr};
use crate::pages::error_line;
use crate::ui::{Field, TextInput, ToastKind, toast};

/// The car parks list the form refreshes after a save.
pub(crate) type Parks = LocalResource<Result<Vec<Park>, ApiError>>;

/// The optional text fields, with their labels and wire names; `park_uuid` comes first, next to
/// the access switch that needs it.
const OPTIONAL_FIELDS: [(&str, Text); 5] = [
    ("pyun_park_uuid", Text::PyunParkUuid),
    ("pyun_api_store_code", Text::PyunStoreCode),
    ("pyun_merchant", Text::PyunMerchant),
    ("mallcoo_park_id", Text::MallcooParkId),
    ("mallcoo_park_code", Text::MallcooParkCode),
];

/// Credential references: field, credential kind, label, the choice meaning "none", a hint.
type Link = (&'static str, &'static str, Text, Text, Option<Text>);

/// The switch of P云 car-park access: a `pyun_carpark` credential, or none (off).
const ACCESS: Link = (
    "pyun_carpark_credential_id",
    "pyun_carpark",
    Text::PyunCarparkCredential,
    Text::PyunCarparkOff,
    Some(Text::PyunCarparkHint),
);

/// The other credential references.
const CREDENTIAL_FIELDS: [Link; 3] = [
    (
        "pyun_credential_id",
        "pyun",
        Text::PyunCredential,
        Text::NoCredential,
        None,
    ),
    (
        "mallcoo_out_credential_id",
        "mallcoo_outbound",
        Text::MallcooOutCredential,
        Text::NoCredential,
        None,
    ),
    (
        "mallcoo_in_credential_id",
        "mallcoo_inbound",
        Text::MallcooInCredential,
        Text::NoCredential,
        None,
    ),
];

/// Reads the spaces field as the server's rule has it: blank is "not configured", otherwise a
/// whole number 0–100000.
pub(crate) fn parse_spaces(text: &str) -> Result<Option<i64>, ApiError> {
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

/// A value the server may send as text or as a number, as the form shows it.
pub(crate) fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a car park holds in `field`, as the form's text.
fn text_of(park: &Park, field: &str) -> String {
    let text = match field {
        "pyun_park_uuid" => park.pyun_park_uuid.clone(),
        "pyun_api_store_code" => park.pyun_api_store_code.clone(),
        "pyun_merchant" => park.pyun_merchant.clone(),
        "mallcoo_park_id" => park.mallcoo_park_id.as_ref().map(show_value),
        "mallcoo_park_code" => park.mallcoo_park_code.clone(),
        _ => None,
    };
    text.unwrap_or_default()
}

/// The credential a car park names in `field`, as the select's value.
fn link_of(park: &Park, field: &str) -> String {
    let id = match field {
        "pyun_credential_id" => park.pyun_credential_id,
        "mallcoo_out_credential_id" => park.mallcoo_out_credential_id,
        "mallcoo_in_credential_id" => park.mallcoo_in_credential_id,
        "pyun_carpark_credential_id" => park.pyun_carpark_credential_id,
        _ => None,
    };
    id.map(|i| i.to_string()).unwrap_or_default()
}

/// The form: empty for a new car park (`existing` is `None`), filled in to change one.
///
/// Test ids of a new car park's: `park-form`, `park-<field with dashes>` for each input and
/// select, `park-create`, `park-form-error`. A change's: the same under `park-edit-` (the
/// create form stays on the page below it), `park-edit-save`, `park-edit-cancel`,
/// `park-edit-error`.
pub(crate) fn park_form(
    existing: Option<Park>,
    parks: Parks,
    editing: RwSignal<Option<Park>>,
) -> impl IntoView {
    let of = |f: &dyn Fn(&Park) -> String| existing.as_ref().map(f).unwrap_or_default();
    let code = RwSignal::new(of(&|p: &Park| p.code.clone()));
    let name = RwSignal::new(of(&|p: &Park| p.name.clone()));
    let spaces = RwSignal::new(of(&|p: &Park| {
        p.total_spaces.map(|n| n.to_string()).unwrap_or_default()
    }));
    let optional = OPTIONAL_FIELDS.map(|(field, label)| {
        (
            field,
            label,
            RwSignal::new(of(&|p: &Park| text_of(p, field))),
        )
    });
    let signal_of = |link: Link| (link, RwSignal::new(of(&|p: &Park| link_of(p, link.0))));
    let access = signal_of(ACCESS);
    let links = CREDENTIAL_FIELDS.map(signal_of);
    let credentials = LocalResource::new(api::credentials);
    let error = RwSignal::new(None::<ApiError>);
    let id = existing.as_ref().map(|p| p.id);
    let prefix = if id.is_some() { "park-edit" } else { "park" };
    let uuid = optional[0].2;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let total_spaces = match parse_spaces(&spaces.get_untracked()) {
            Ok(n) => n,
            Err(e) => return error.set(Some(e)),
        };
        if !access.1.get_untracked().is_empty() && uuid.get_untracked().trim().is_empty() {
            return error.set(Some(ApiError::Invalid {
                what: Text::ParkUuidRequired,
                detail: String::new(),
            }));
        }
        let mut body = Map::new();
        body.insert("code".into(), code.get_untracked().trim().into());
        body.insert("name".into(), name.get_untracked().trim().into());
        body.insert("total_spaces".into(), total_spaces.into());
        // Every field is sent, blank as `null`: a change clears what was emptied.
        for (field, _, value) in optional {
            let v = value.get_untracked().trim().to_owned();
            body.insert(field.into(), (!v.is_empty()).then_some(v).into());
        }
        for ((field, ..), value) in links.into_iter().chain([access]) {
            body.insert(
                field.into(),
                value.get_untracked().parse::<i64>().ok().into(),
            );
        }
        spawn_local(async move {
            let saved = match id {
                Some(id) => api::update_park(id, body).await,
                None => api::create_park(Value::Object(body)).await,
            };
            match saved {
                Ok(_) if id.is_some() => {
                    editing.set(None);
                    toast(ToastKind::Saved, "park-saved");
                    parks.refetch();
                }
                Ok(_) => {
                    toast(ToastKind::Done(Text::Created), "park-created");
                    for value in [code, name, spaces, access.1] {
                        value.set(String::new());
                    }
                    for (_, _, value) in optional {
                        value.set(String::new());
                    }
                    for (_, value) in links {
                        value.set(String::new());
                    }
                    parks.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let title = move || match &existing {
        Some(p) => format!("{} · {} {}", tr(Text::EditPark)(), p.code, p.name),
        None => tr(Text::NewPark)().to_owned(),
    };
    let (first, rest) = optional.split_at(1);
    let text_field = move |(field, label, value): (&'static str, Text, RwSignal<String>)| {
        view! {
            <Field label=label>
                <TextInput value=value test_id=input_id(prefix, field) />
            </Field>
        }
    };
    let node = NodeRef::<leptos::html::Section>::new();
    if id.is_some() {
        // The form opens under the list: bring it into view.
        Effect::new(move |_| {
            if let Some(section) = node.get() {
                section.scroll_into_view();
            }
        });
    }
    view! {
        <section node_ref=node>
            <h3>{title}</h3>
            <form data-testid=format!("{prefix}-form") on:submit=submit>
                <div class="fields">
                <Field label=Text::ParkCode>
                    <TextInput value=code test_id=input_id(prefix, "code") placeholder=Text::ParkCodeHint />
                </Field>
                <Field label=Text::Name><TextInput value=name test_id=input_id(prefix, "name") /></Field>
                <Field label=Text::TotalSpaces hint=Text::TotalSpacesHint>
                    <TextInput value=spaces test_id=input_id(prefix, "total_spaces") inputmode="numeric" />
                </Field>
                {first.iter().copied().map(text_field).collect_view()}
                {link_select(prefix, access, credentials)}
                {rest.iter().copied().map(text_field).collect_view()}
                {links.into_iter().map(|link| link_select(prefix, link, credentials)).collect_view()}
                </div>
                <div class="actions">
                    {match id {
                        Some(_) => view! {
                            <button type="submit" data-testid="park-edit-save">{tr(Text::Save)}</button>
                            <button type="button" data-testid="park-edit-cancel"
                                on:click=move |_| editing.set(None)>{tr(Text::Cancel)}</button>
                        }.into_any(),
                        None => view! {
                            <button type="submit" data-testid="park-create">{tr(Text::Create)}</button>
                        }.into_any(),
                    }}
                </div>
            </form>
            {error_line(error, if id.is_some() { "park-edit-error" } else { "park-form-error" })}
        </section>
    }
}

/// The test id of the form's input for `field`: `park-pyun-park-uuid`, `park-edit-code`.
fn input_id(prefix: &str, field: &str) -> String {
    format!("{prefix}-{}", field.replace('_', "-"))
}

/// The labelled select of a credential reference.
fn link_select(
    prefix: &'static str,
    ((field, kind, label, none, hint), value): (Link, RwSignal<String>),
    credentials: LocalResource<Result<Vec<Credential>, ApiError>>,
) -> impl IntoView {
    let test_id = input_id(prefix, field);
    let select = move || credential_select(test_id.clone(), kind, none, value, credentials);
    match hint {
        Some(hint) => view! { <Field label=label hint=hint>{select()}</Field> }.into_any(),
        None => view! { <Field label=label>{select()}</Field> }.into_any(),
    }
}

/// A select of the credentials of `kind`, bound to `value` (an id, or empty for `none`).
fn credential_select(
    test_id: String,
    kind: &'static str,
    none: Text,
    value: RwSignal<String>,
    credentials: LocalResource<Result<Vec<Credential>, ApiError>>,
) -> impl IntoView {
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
        <select data-testid=test_id
            prop:value=value on:change=move |ev| value.set(event_target_value(&ev))>
            <option value="">{tr(none)}</option>
            // The list arrives after the select: an option marks itself chosen when it is.
            {move || choices().into_iter().map(|c| {
                let id = c.id.to_string();
                let selected = value.get_untracked() == id;
                view! { <option value=id selected=selected>{c.name}</option> }
            }).collect_view()}
        </select>
    }
}
