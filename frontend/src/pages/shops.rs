//! 商户 (admins and property managers, issue 17): choose a car park, list its shops with their
//! number of offers, create and change a shop, switch it off and on, open its offers (below,
//! `shop_offers`) and its monthly statement (`shop_statement`).
//!
//! A refusal of the server is shown in words beside the field it is about ([`Refusal`]).

use std::collections::HashMap;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use serde_json::json;

use crate::api::{self, ApiError, CouponProduct, Offer, Shop};
use crate::i18n::{self, Text, fill, tr};
use crate::pages::error_line;
use crate::pages::layout::guarded;
use crate::pages::shop_offers::offers_section;
use crate::pages::vip_labels::{chosen_park, park_select};
use crate::ui::{Badge, DataTable, Field, PageHeader, TextInput, ToastKind, Tone, toast};

/// The shops page.
#[component]
pub fn ShopsPage() -> impl IntoView {
    guarded("shops", shops_page)
}

/// The field of a shop or offer form a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spot {
    /// The name.
    Name,
    /// A shop's P云 store code.
    StoreCode,
    /// What an offer gives (product or discount).
    Gives,
    /// A discount's value.
    Value,
    /// The daily quota.
    Daily,
    /// The monthly quota.
    Monthly,
}

/// The field a refusal of the shops' API is about and its words; `None` when it belongs under
/// the form (the server names the field of `invalid_field` and `invalid_quota` in its message).
fn field_error(e: &ApiError) -> Option<(Spot, Text)> {
    let ApiError::Status { code, message, .. } = e else {
        return None;
    };
    let names = |field: &str| message.contains(&format!("`{field}`"));
    Some(match code.as_str() {
        "shop_name_taken" => (Spot::Name, Text::ShopNameTaken),
        "offer_name_taken" => (Spot::Name, Text::OfferNameTaken),
        "invalid_field" if names("store_code") => (Spot::StoreCode, Text::StoreCodeInvalid),
        "invalid_field" if names("name") => (Spot::Name, Text::NameInvalid),
        "invalid_quota" if names("monthly_quota") => (Spot::Monthly, Text::QuotaInvalid),
        "invalid_quota" => (Spot::Daily, Text::QuotaInvalid),
        "offer_shape" | "unknown_product" => (
            Spot::Gives,
            if code == "offer_shape" {
                Text::OfferShapeError
            } else {
                Text::UnknownProductError
            },
        ),
        "unsupported_discount" => (Spot::Value, Text::UnsupportedDiscountError),
        "invalid_discount_value" => (Spot::Value, Text::DiscountValueError),
        _ => return None,
    })
}

/// What went wrong with a form: words beside one field, or an error under the form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refusal {
    at_field: RwSignal<Option<(Spot, Text)>>,
    /// Anything not about one field (network, permission…).
    pub(crate) other: RwSignal<Option<ApiError>>,
}

impl Refusal {
    /// Nothing wrong yet.
    pub(crate) fn new() -> Refusal {
        Refusal {
            at_field: RwSignal::new(None),
            other: RwSignal::new(None),
        }
    }

    /// Forgets the last refusal (before sending again).
    pub(crate) fn clear(self) {
        self.at_field.set(None);
        self.other.set(None);
    }

    /// Shows the server's refusal beside its field, or under the form.
    pub(crate) fn show(self, e: ApiError) {
        match field_error(&e) {
            Some(at) => {
                let _ = self.at_field.try_set(Some(at));
            }
            None => {
                let _ = self.other.try_set(Some(e));
            }
        }
    }

    /// Shows a check made in the browser beside `spot`.
    pub(crate) fn at(self, spot: Spot, text: Text) {
        self.at_field.set(Some((spot, text)));
    }

    /// The words beside `spot`, if the refusal is about it.
    pub(crate) fn field(self, spot: Spot) -> Signal<Option<Text>> {
        Signal::derive(move || {
            self.at_field
                .get()
                .filter(|(s, _)| *s == spot)
                .map(|(_, t)| t)
        })
    }
}

/// The shops of the chosen car park, their offers, and its coupon products.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShopsState {
    /// The car park.
    pub(crate) park: RwSignal<Option<i64>>,
    /// Its shops by name, `None` while loading.
    pub(crate) shops: RwSignal<Option<Result<Vec<Shop>, ApiError>>>,
    /// The offers of each shop, once read.
    pub(crate) offers: RwSignal<HashMap<i64, Vec<Offer>>>,
    /// The car park's coupon products (archived ones too, to name old offers).
    pub(crate) products: RwSignal<Vec<CouponProduct>>,
    /// The shop whose offers are shown.
    pub(crate) chosen: RwSignal<Option<i64>>,
}

impl ShopsState {
    /// Reads everything again whenever the car park changes.
    fn new(park: RwSignal<Option<i64>>) -> ShopsState {
        let state = ShopsState {
            park,
            shops: RwSignal::new(None),
            offers: RwSignal::new(HashMap::new()),
            products: RwSignal::new(Vec::new()),
            chosen: RwSignal::new(None),
        };
        Effect::new(move |_| {
            if let Some(id) = park.get() {
                state.load(id);
            }
        });
        state
    }

    /// Reads car park `id`'s shops, then each shop's offers and the coupon products; answers
    /// for a car park no longer chosen are dropped.
    fn load(self, id: i64) {
        self.shops.set(None);
        self.offers.set(HashMap::new());
        self.products.set(Vec::new());
        self.chosen.set(None);
        let current = move || self.park.try_get_untracked() == Some(Some(id));
        spawn_local(async move {
            let shops = api::shops(id).await;
            if !current() {
                return;
            }
            let ids: Vec<i64> = shops
                .as_ref()
                .map(|l| l.iter().map(|s| s.id).collect())
                .unwrap_or_default();
            self.shops.set(Some(shops));
            // The first shop's offers are open until another shop is chosen.
            self.chosen.set(ids.first().copied());
            // Products only name the P云 offers: without them the page still works.
            if let Ok(config) = api::coupon_config(id).await
                && current()
            {
                self.products.set(config.products);
            }
            for shop in ids {
                let offers = api::offers(shop).await;
                if !current() {
                    return;
                }
                if let Ok(list) = offers {
                    self.offers.update(|m| {
                        m.insert(shop, list);
                    });
                }
            }
        });
    }

    /// Puts `shop` (new or changed) into the list, which stays sorted by name.
    fn put_back(self, shop: Shop) {
        self.shops.update(|list| {
            if let Some(Ok(list)) = list {
                list.retain(|s| s.id != shop.id);
                list.push(shop);
                list.sort_by(|a, b| a.name.cmp(&b.name));
            }
        });
    }

    /// Shop `id` as listed.
    pub(crate) fn shop(self, id: i64) -> Option<Shop> {
        self.shops.with(|l| {
            l.as_ref()
                .and_then(|l| l.as_ref().ok())
                .and_then(|l| l.iter().find(|s| s.id == id).cloned())
        })
    }
}

fn shops_page() -> impl IntoView {
    let parks = LocalResource::new(api::parks);
    let park_list = Signal::derive(move || parks.get().and_then(Result::ok).unwrap_or_default());
    let park = chosen_park(park_list);
    let state = ShopsState::new(park);
    // `None`: the form adds a shop; `Some`: it changes that one.
    let editing = RwSignal::new(None::<Shop>);
    Effect::new(move |_| {
        park.track();
        editing.set(None);
    });
    view! {
        <section>
            <PageHeader title=Text::ShopsTitle />
            <p class="muted small">{tr(Text::ShopsHint)}</p>
            {move || parks.get().and_then(Result::err).map(|e| error_line(RwSignal::new(Some(e)), "shops-parks-error"))}
            <div class="filters">{park_select(park_list, park, "shops-park")}</div>
            <DataTable test_id="shops-table" error_test_id="shops-error"
                columns=vec![Text::Name, Text::StoreCode, Text::OffersCount, Text::Status, Text::Actions]
                // Re-drawn as each shop's offers arrive.
                rows=move || { state.offers.track(); state.shops.get() }
                row=move |s: Shop| shop_row(s, state, editing) />
        </section>
        {shop_form(state, editing)}
        {move || match state.chosen.get() {
            Some(id) => offers_section(id, state).into_any(),
            None => view! { <p class="muted" data-testid="offers-choose">{tr(Text::ChooseShop)}</p> }.into_any(),
        }}
    }
}

fn shop_row(s: Shop, state: ShopsState, editing: RwSignal<Option<Shop>>) -> impl IntoView {
    let lang = i18n::lang();
    let (id, active, name) = (s.id, s.active, s.name.clone());
    let count = state.offers.with_untracked(|m| m.get(&id).map(Vec::len));
    let toggle = move |_| {
        spawn_local(async move {
            match api::update_shop(id, json!({ "active": !active })).await {
                Ok(shop) => state.put_back(shop),
                Err(e) => toast(ToastKind::Failed(e), "shop-action-error"),
            }
        });
    };
    let to_edit = s.clone();
    view! {
        <tr data-testid=format!("shop-row-{name}") class:chosen=move || state.chosen.get() == Some(id)>
            <td data-label=tr(Text::Name)>{s.name.clone()}</td>
            <td data-label=tr(Text::StoreCode) data-testid=format!("shop-store-code-{name}")>
                <code>{s.store_code.clone().unwrap_or_default()}</code>
            </td>
            <td data-label=tr(Text::OffersCount) data-testid=format!("shop-offers-count-{name}")>
                {count.map_or_else(|| "…".to_owned(), |n| n.to_string())}
            </td>
            <td data-label=tr(Text::Status)>
                <Badge tone={if active { Tone::Ok } else { Tone::Neutral }} test_id=format!("shop-status-{name}")>
                    {tr(if active { Text::Active } else { Text::Disabled })}
                </Badge>
            </td>
            <td data-label=tr(Text::Actions) class="actions">
                <button type="button" data-testid=format!("shop-offers-{name}")
                    on:click=move |_| state.chosen.set(Some(id))>{tr(Text::ShopOffers)}</button>
                <button type="button" data-testid=format!("shop-edit-{name}")
                    on:click=move |_| editing.set(Some(to_edit.clone()))>{tr(Text::Edit)}</button>
                <button type="button" data-testid=format!("shop-toggle-{name}") on:click=toggle>
                    {tr(if active { Text::Disable } else { Text::Enable })}
                </button>
                <A href=format!("/shops/{id}/statement") {..} data-testid=format!("shop-statement-{name}")>
                    {move || Text::ShopStatement.text(lang.get())}
                </A>
            </td>
        </tr>
    }
}

fn shop_form(state: ShopsState, editing: RwSignal<Option<Shop>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let store_code = RwSignal::new(String::new());
    let refusal = Refusal::new();
    // The form follows the shop chosen for a change (or empties for a new one).
    Effect::new(move |_| {
        let shop = editing.get();
        name.set(shop.as_ref().map(|s| s.name.clone()).unwrap_or_default());
        store_code.set(shop.and_then(|s| s.store_code).unwrap_or_default());
        refusal.clear();
    });
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        refusal.clear();
        let (typed_name, code) = (
            name.get_untracked().trim().to_owned(),
            store_code.get_untracked().trim().to_owned(),
        );
        let target = editing.get_untracked().map(|s| s.id);
        let Some(park) = state.park.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let answer = match target {
                Some(id) => {
                    api::update_shop(id, json!({ "name": typed_name, "store_code": code })).await
                }
                None => api::create_shop(park, &typed_name, &code).await,
            };
            match answer {
                Ok(shop) => {
                    let id = shop.id;
                    if target.is_none() {
                        state.offers.update(|m| {
                            m.insert(id, Vec::new());
                        });
                        state.chosen.set(Some(id));
                    }
                    state.put_back(shop);
                    editing.set(None);
                    name.set(String::new());
                    store_code.set(String::new());
                    toast(ToastKind::Saved, "shop-saved");
                }
                Err(e) => refusal.show(e),
            }
        });
    };
    let lang = i18n::lang();
    let node = NodeRef::<leptos::html::Section>::new();
    // The form is under the list: a change chosen in a row brings it into view (on a phone
    // it would be a screen away).
    Effect::new(move |_| {
        if editing.with(Option::is_some)
            && let Some(section) = node.get_untracked()
        {
            section.scroll_into_view();
        }
    });
    view! {
        <section node_ref=node>
            <h3 data-testid="shop-form-title">
                {move || match editing.get() {
                    Some(s) => fill("{} · {}", &[Text::EditShop.text(lang.get()), &s.name]),
                    None => Text::NewShop.text(lang.get()).to_owned(),
                }}
            </h3>
            <form data-testid="shop-form" on:submit=save>
                <div class="fields">
                    <Field label=Text::Name error=refusal.field(Spot::Name) error_test_id="shop-name-error">
                        <TextInput value=name test_id="shop-name"
                            invalid=move || refusal.field(Spot::Name).get().is_some() {..} maxlength="64" />
                    </Field>
                    <Field label=Text::ShopStoreCode hint=Text::ShopStoreCodeHint
                        error=refusal.field(Spot::StoreCode) error_test_id="shop-store-code-error">
                        <TextInput value=store_code test_id="shop-store-code"
                            invalid=move || refusal.field(Spot::StoreCode).get().is_some() {..} maxlength="64" />
                    </Field>
                </div>
                <div class="actions">
                    <button type="submit" data-testid="shop-save">{tr(Text::Save)}</button>
                    {move || editing.with(Option::is_some).then(|| view! {
                        <button type="button" data-testid="shop-cancel" on:click=move |_| editing.set(None)>{tr(Text::Cancel)}</button>
                    })}
                </div>
            </form>
            {error_line(refusal.other, "shop-error")}
        </section>
    }
}
