//! A car park's coupon settings (admin): how its Mallcoo events are sent to P云 (`api_type` and
//! the metadata keys), and the coupon products managers may grant by hand.

use std::collections::HashSet;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{self, ApiError, CouponProduct, EventConfig, MetadataKey, ProductInput};
use crate::i18n::{Text, tr};
use crate::pages::layout::guarded;
use crate::pages::{error_line, loading, park_label};
use crate::ui::{
    EmptyState, Field, PageHeader, Question, Table, TextInput, ToastKind, confirm, toast,
};

/// The coupon settings page of the car park in the path (`/parks/:id/coupons`).
#[component]
pub fn CouponSettingsPage() -> impl IntoView {
    guarded("coupon-settings", || {
        let params = use_params_map();
        move || match params
            .with(|p| p.get("id"))
            .and_then(|s| s.parse::<i64>().ok())
        {
            Some(id) => settings_page(id).into_any(),
            None => view! { <p class="error" data-testid="not-found">{tr(Text::PageNotFound)}</p> }
                .into_any(),
        }
    })
}

type Products = RwSignal<Option<Vec<CouponProduct>>>;

fn invalid(what: Text, detail: String) -> Option<ApiError> {
    Some(ApiError::Invalid { what, detail })
}

fn settings_page(id: i64) -> impl IntoView {
    let parks = LocalResource::new(api::parks);
    let event = RwSignal::new(None::<EventConfig>);
    let products: Products = RwSignal::new(None);
    let error = RwSignal::new(None::<ApiError>);
    spawn_local(async move {
        match api::coupon_config(id).await {
            Ok(config) => {
                let _ = event.try_set(Some(config.event));
                let _ = products.try_set(Some(config.products));
            }
            Err(e) => {
                let _ = error.try_set(Some(e));
            }
        }
    });
    let park_name = Signal::derive(move || {
        parks
            .get()
            .and_then(Result::ok)
            .map(|list| park_label(&list, id))
            .unwrap_or_else(|| format!("#{id}"))
    });
    view! {
        <section>
            <PageHeader title=Text::CouponSettings detail=park_name test_id="coupon-settings-title">
                <A href="/parks">{tr(Text::ParksTitle)}</A>
            </PageHeader>
            {error_line(error, "coupon-settings-error")}
        </section>
        {move || match event.get() {
            Some(config) => event_editor(id, config, event).into_any(),
            None => loading().into_any(),
        }}
        {products_section(id, products)}
    }
}

/// One editable metadata row.
#[derive(Clone, Copy)]
struct Row {
    key: RwSignal<String>,
    name: RwSignal<String>,
}

impl Row {
    fn new(key: String, name: String) -> Row {
        Row {
            key: RwSignal::new(key),
            name: RwSignal::new(name),
        }
    }
}

/// Checks the rows: blank rows are dropped, half-filled rows and repeated keys refused.
fn metadata(rows: &[Row]) -> Result<Vec<MetadataKey>, Option<ApiError>> {
    let mut seen = HashSet::new();
    let mut keys = Vec::new();
    for row in rows {
        let key = row.key.get_untracked().trim().to_owned();
        let name = row.name.get_untracked().trim().to_owned();
        if key.is_empty() && name.is_empty() {
            continue;
        }
        if key.is_empty() || name.is_empty() {
            return Err(invalid(Text::MetadataIncomplete, String::new()));
        }
        if !seen.insert(key.clone()) {
            return Err(invalid(Text::MetadataDuplicate, key));
        }
        keys.push(MetadataKey { key, name });
    }
    Ok(keys)
}

fn event_editor(
    id: i64,
    initial: EventConfig,
    event: RwSignal<Option<EventConfig>>,
) -> impl IntoView {
    let api_type = RwSignal::new(initial.api_type.unwrap_or_default());
    let rows = RwSignal::new(
        initial
            .metadata_keys
            .into_iter()
            .map(|m| Row::new(m.key, m.name))
            .collect::<Vec<_>>(),
    );
    let error = RwSignal::new(None::<ApiError>);
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let metadata_keys = match rows.with_untracked(|r| metadata(r)) {
            Ok(keys) => keys,
            Err(e) => {
                error.set(e);
                return;
            }
        };
        let typed = api_type.get_untracked().trim().to_owned();
        let config = EventConfig {
            api_type: (!typed.is_empty()).then_some(typed),
            metadata_keys,
        };
        spawn_local(async move {
            match api::set_event_config(id, &config).await {
                Ok(stored) => {
                    toast(ToastKind::Saved, "event-saved");
                    event.set(Some(stored));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let remove = move |i: usize| {
        rows.update(|r| {
            if i < r.len() {
                r.remove(i);
            }
        })
    };
    view! {
        <section>
            <h3>{tr(Text::EventSettings)}</h3>
            <form data-testid="event-form" on:submit=save>
                <Field label=Text::ApiType>
                    <TextInput value=api_type test_id="event-api-type" placeholder=Text::ApiTypeHint />
                </Field>
                <Field label=Text::MetadataKeys group=true>
                    <Table test_id="event-metadata" columns=vec![Text::MetadataKey, Text::MetadataName, Text::Actions]>
                        {move || rows.get().into_iter().enumerate().map(|(i, row)| view! {
                            <tr data-testid=format!("event-meta-row-{i}")>
                                <td data-label=tr(Text::MetadataKey)><input data-testid=format!("event-meta-key-{i}") placeholder="charge_kwh"
                                    prop:value=row.key on:input=move |ev| row.key.set(event_target_value(&ev)) /></td>
                                <td data-label=tr(Text::MetadataName)><input data-testid=format!("event-meta-name-{i}") placeholder="充电度数"
                                    prop:value=row.name on:input=move |ev| row.name.set(event_target_value(&ev)) /></td>
                                <td data-label=tr(Text::Actions)><button type="button" data-testid=format!("event-meta-remove-{i}")
                                    on:click=move |_| remove(i)>{tr(Text::Remove)}</button></td>
                            </tr>
                        }).collect_view()}
                    </Table>
                </Field>
                <div class="actions">
                    <button type="button" data-testid="event-meta-add"
                        on:click=move |_| rows.update(|r| r.push(Row::new(String::new(), String::new())))>
                        {tr(Text::AddRow)}
                    </button>
                    <button type="submit" data-testid="event-save">{tr(Text::Save)}</button>
                </div>
            </form>
                        {error_line(error, "event-error")}
        </section>
    }
}

fn products_section(id: i64, products: Products) -> impl IntoView {
    // `None` adds a product; `Some(pid)` edits that one.
    let editing = RwSignal::new(None::<i64>);
    let name = RwSignal::new(String::new());
    let coupon_code = RwSignal::new(String::new());
    let store_code = RwSignal::new(String::new());
    let quantity = RwSignal::new("1".to_owned());
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let fill_form = move |p: Option<&CouponProduct>| {
        editing.set(p.map(|p| p.id));
        name.set(p.map(|p| p.name.clone()).unwrap_or_default());
        coupon_code.set(p.map(|p| p.coupon_code.clone()).unwrap_or_default());
        store_code.set(p.map(|p| p.store_code.clone()).unwrap_or_default());
        quantity.set(p.map_or(1, |p| p.quantity).to_string());
        reason.set(p.and_then(|p| p.reason.clone()).unwrap_or_default());
        error.set(None);
    };
    let put_back = move |product: CouponProduct| {
        products.update(|list| {
            let list = list.get_or_insert_with(Vec::new);
            match list.iter_mut().find(|p| p.id == product.id) {
                Some(p) => *p = product,
                None => list.push(product),
            }
        })
    };
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let input = ProductInput {
            name: name.get_untracked().trim().to_owned(),
            coupon_code: coupon_code.get_untracked().trim().to_owned(),
            store_code: store_code.get_untracked().trim().to_owned(),
            quantity: 0,
            reason: Some(reason.get_untracked().trim().to_owned()).filter(|r| !r.is_empty()),
        };
        if input.name.is_empty() || input.coupon_code.is_empty() || input.store_code.is_empty() {
            error.set(invalid(Text::ProductFieldsRequired, String::new()));
            return;
        }
        let typed = quantity.get_untracked();
        let Some(count) = typed.trim().parse::<i64>().ok().filter(|q| *q >= 1) else {
            error.set(invalid(Text::QuantityInvalid, typed));
            return;
        };
        let input = ProductInput {
            quantity: count,
            ..input
        };
        let target = editing.get_untracked();
        spawn_local(async move {
            let outcome = match target {
                Some(pid) => api::update_product(id, pid, &input).await,
                None => api::create_product(id, &input).await,
            };
            match outcome {
                Ok(product) => {
                    put_back(product);
                    fill_form(None);
                    toast(ToastKind::Saved, "product-saved");
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let archive = move |p: CouponProduct| {
        let ask = Question::new(Text::ArchiveConfirm)
            .arg(p.name.clone())
            .yes(Text::Archive);
        confirm(ask, move || {
            error.set(None);
            spawn_local(async move {
                match api::archive_product(id, p.id).await {
                    Ok(_) => put_back(CouponProduct {
                        archived: true,
                        ..p
                    }),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    };
    let row = move |p: CouponProduct| {
        let label = p.name.clone();
        let actions = if p.archived {
            view! { <span class="muted" data-testid=format!("product-archived-{label}")>{tr(Text::Archived)}</span> }
                .into_any()
        } else {
            let (to_edit, to_archive) = (p.clone(), p.clone());
            view! {
                <button type="button" data-testid=format!("product-edit-{label}")
                    on:click=move |_| fill_form(Some(&to_edit))>{tr(Text::Edit)}</button>
                " "
                <button type="button" data-testid=format!("product-archive-{label}")
                    on:click=move |_| archive(to_archive.clone())>{tr(Text::Archive)}</button>
            }
            .into_any()
        };
        view! {
            <tr data-testid=format!("product-row-{}", p.name) class:revoked=p.archived>
                <td data-label=tr(Text::Name)>{p.name.clone()}</td>
                <td data-label=tr(Text::CouponCode)><code>{p.coupon_code.clone()}</code></td>
                <td data-label=tr(Text::StoreCode)><code>{p.store_code.clone()}</code></td>
                <td data-label=tr(Text::Quantity)>{p.quantity}</td>
                <td data-label=tr(Text::ReasonColumn)>{p.reason.clone().unwrap_or_default()}</td>
                <td data-label=tr(Text::Actions) class="actions">{actions}</td>
            </tr>
        }
    };
    let field = move |label: Text, test_id: &'static str, value: RwSignal<String>| {
        view! { <Field label=label><TextInput value=value test_id=test_id /></Field> }
    };
    view! {
        <section>
            <h3>{tr(Text::Products)}</h3>
            {move || match products.get() {
                None => loading().into_any(),
                Some(list) if list.is_empty() => view! { <EmptyState test_id="products-empty" /> }.into_any(),
                Some(list) => view! {
                    <Table test_id="products-table"
                        columns=vec![Text::Name, Text::CouponCode, Text::StoreCode, Text::Quantity, Text::ReasonColumn, Text::Actions]>
                        {list.into_iter().map(row).collect_view()}
                    </Table>
                }
                .into_any(),
            }}
            <h4 data-testid="product-form-title">
                {move || if editing.with(Option::is_some) { tr(Text::EditProduct)() } else { tr(Text::NewProduct)() }}
            </h4>
            <form data-testid="product-form" on:submit=save>
                {field(Text::Name, "product-name", name)}
                {field(Text::CouponCode, "product-coupon-code", coupon_code)}
                {field(Text::StoreCode, "product-store-code", store_code)}
                <Field label=Text::Quantity>
                    <TextInput value=quantity kind="number" test_id="product-quantity" {..} min="1" step="1" />
                </Field>
                {field(Text::Reason, "product-reason", reason)}
                <div class="actions">
                    <button type="submit" data-testid="product-save">{tr(Text::Save)}</button>
                    {move || editing.with(Option::is_some).then(|| view! {
                        <button type="button" data-testid="product-cancel" on:click=move |_| fill_form(None)>{tr(Text::Cancel)}</button>
                    })}
                </div>
            </form>
                        {error_line(error, "product-error")}
        </section>
    }
}
