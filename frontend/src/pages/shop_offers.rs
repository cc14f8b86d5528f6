//! One shop's offers on the 商户 page: what it may give (a P云 coupon product of its car park, or
//! a local §5.1 discount such as "免 120 分钟"), its daily quota and optional monthly quota;
//! create, change, switch off and on. What an offer gives is fixed once created: its
//! validations are billed by it.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::ledger::DiscountKind;
use serde_json::{Value, json};

use crate::api::{self, CouponProduct, Gives, Offer, OfferDiscount};
use crate::format::yuan;
use crate::i18n::{self, Lang, Text, fill, tr};
use crate::pages::error_line;
use crate::pages::shops::{Refusal, ShopsState, Spot};
use crate::pages::stay::{percent, read_waiver};
use crate::ui::{Badge, DataTable, Field, TextInput, ToastKind, Tone, toast};

/// The local discounts a shop may give (a `free_window` belongs to a plate, not to a stay).
const KINDS: [(&str, Text); 4] = [
    ("minutes", Text::KindMinutes),
    ("amount", Text::KindAmount),
    ("free", Text::KindFree),
    ("percent", Text::KindPercent),
];

/// A local discount in words: `免 120 分钟`, `减 ¥5.00`, `全免`, `减免 50%`.
pub(crate) fn discount_words(d: &OfferDiscount, lang: Lang) -> String {
    match d.ledger_kind() {
        Some(DiscountKind::Minutes(m)) => fill(Text::WordsMinutes.text(lang), &[&m.to_string()]),
        Some(DiscountKind::Amount(fen)) => fill(Text::WordsAmount.text(lang), &[&yuan(fen)]),
        Some(DiscountKind::Free) => Text::WordsFree.text(lang).to_owned(),
        Some(DiscountKind::Percent(pm)) => fill(Text::WordsPercent.text(lang), &[&percent(pm)]),
        // Not a kind a shop may give: shown as stored.
        Some(DiscountKind::FreeWindow(_)) | None => format!("{} {}", d.kind, d.value),
    }
}

/// What an offer (or a statement line) gives, in words: the P云 coupon product by its name
/// (`#id` when unknown), or the local discount.
pub(crate) fn gives_words(
    product_id: Option<i64>,
    discount: Option<&OfferDiscount>,
    products: &[CouponProduct],
    lang: Lang,
) -> String {
    match (product_id, discount) {
        (Some(id), _) => {
            let name = products
                .iter()
                .find(|p| p.id == id)
                .map_or_else(|| format!("#{id}"), |p| p.name.clone());
            fill(Text::WordsProduct.text(lang), &[&name])
        }
        (None, Some(d)) => discount_words(d, lang),
        (None, None) => "—".to_owned(),
    }
}

/// The offers of shop `id`: its list and the form.
pub(crate) fn offers_section(id: i64, state: ShopsState) -> impl IntoView {
    let lang = i18n::lang();
    // `None`: the form adds an offer; `Some`: it changes that one.
    let editing = RwSignal::new(None::<Offer>);
    let title = move || {
        let name = state.shop(id).map(|s| s.name).unwrap_or_default();
        fill(Text::OffersOf.text(lang.get()), &[&name])
    };
    let rows = move || {
        state.products.track();
        state.offers.with(|m| m.get(&id).cloned().map(Ok))
    };
    view! {
        <section data-testid="offers-section">
            <h3 data-testid="offers-title">{title}</h3>
            <DataTable test_id="offers-table" error_test_id="offers-error"
                columns=vec![Text::Name, Text::OfferGives, Text::DailyQuota, Text::MonthlyQuota, Text::Status, Text::Actions]
                rows=rows
                row=move |o: Offer| offer_row(o, state, editing) />
            {offer_form(id, state, editing)}
        </section>
    }
}

/// Puts `offer` (new or changed) into its shop's list, in creation order.
fn put_back(state: ShopsState, offer: Offer) {
    state.offers.update(|m| {
        let list = m.entry(offer.shop_id).or_default();
        match list.iter_mut().find(|o| o.id == offer.id) {
            Some(o) => *o = offer,
            None => list.push(offer),
        }
    });
}

fn offer_row(o: Offer, state: ShopsState, editing: RwSignal<Option<Offer>>) -> impl IntoView {
    let lang = i18n::lang();
    let (id, active, name) = (o.id, o.active, o.name.clone());
    let gives = {
        let (product, discount) = (o.product_id, o.discount.clone());
        move || {
            state
                .products
                .with(|p| gives_words(product, discount.as_ref(), p, lang.get()))
        }
    };
    let (daily, monthly) = (o.daily_quota, o.monthly_quota);
    let toggle = move |_| {
        spawn_local(async move {
            match api::update_offer(id, json!({ "active": !active })).await {
                Ok(offer) => put_back(state, offer),
                Err(e) => toast(ToastKind::Failed(e), "offer-action-error"),
            }
        });
    };
    let to_edit = o.clone();
    view! {
        <tr data-testid=format!("offer-row-{name}")>
            <td data-label=tr(Text::Name)>{o.name.clone()}</td>
            <td data-label=tr(Text::OfferGives) data-testid=format!("offer-gives-{name}")>{gives}</td>
            <td data-label=tr(Text::DailyQuota) data-testid=format!("offer-daily-{name}")>
                {move || fill(Text::QuotaPerDay.text(lang.get()), &[&daily.to_string()])}
            </td>
            <td data-label=tr(Text::MonthlyQuota) data-testid=format!("offer-monthly-{name}")>
                {move || match monthly {
                    Some(m) => fill(Text::QuotaPerMonth.text(lang.get()), &[&m.to_string()]),
                    None => Text::Unlimited.text(lang.get()).to_owned(),
                }}
            </td>
            <td data-label=tr(Text::Status)>
                <Badge tone={if active { Tone::Ok } else { Tone::Neutral }} test_id=format!("offer-status-{name}")>
                    {tr(if active { Text::Active } else { Text::Disabled })}
                </Badge>
            </td>
            <td data-label=tr(Text::Actions) class="actions">
                <button type="button" data-testid=format!("offer-edit-{name}")
                    on:click=move |_| editing.set(Some(to_edit.clone()))>{tr(Text::Edit)}</button>
                <button type="button" data-testid=format!("offer-toggle-{name}") on:click=toggle>
                    {tr(if active { Text::Disable } else { Text::Enable })}
                </button>
            </td>
        </tr>
    }
}

/// A quota as typed: a whole number (0 and negatives too: the server says why they are
/// refused), or `None` for an empty text when `optional`.
fn read_quota(typed: &str, optional: bool) -> Result<Option<i64>, Text> {
    let t = typed.trim();
    if t.is_empty() && optional {
        return Ok(None);
    }
    t.parse::<i64>().map(Some).map_err(|_| Text::QuotaNotNumber)
}

/// The form's fields, kept while it is open.
#[derive(Clone, Copy)]
struct OfferFields {
    name: RwSignal<String>,
    /// `local` or `product`.
    gives: RwSignal<String>,
    product: RwSignal<String>,
    kind: RwSignal<String>,
    value: RwSignal<String>,
    daily: RwSignal<String>,
    monthly: RwSignal<String>,
}

impl OfferFields {
    fn new() -> OfferFields {
        OfferFields {
            name: RwSignal::new(String::new()),
            gives: RwSignal::new("local".to_owned()),
            product: RwSignal::new(String::new()),
            kind: RwSignal::new("minutes".to_owned()),
            value: RwSignal::new(String::new()),
            daily: RwSignal::new(String::new()),
            monthly: RwSignal::new(String::new()),
        }
    }

    /// Shows `offer`'s settable fields, or empties the form for a new offer.
    fn fill(self, offer: Option<&Offer>) {
        self.name
            .set(offer.map(|o| o.name.clone()).unwrap_or_default());
        self.daily
            .set(offer.map(|o| o.daily_quota.to_string()).unwrap_or_default());
        self.monthly.set(
            offer
                .and_then(|o| o.monthly_quota)
                .map(|m| m.to_string())
                .unwrap_or_default(),
        );
        if offer.is_none() {
            self.value.set(String::new());
        }
    }

    /// What a new offer gives, checked in the browser with the ledger's own ranges.
    fn gives(self, refusal: Refusal) -> Option<Gives> {
        if self.gives.get_untracked() == "product" {
            let product = self.product.get_untracked().parse::<i64>().ok();
            if product.is_none() {
                refusal.at(Spot::Gives, Text::ProductRequired);
            }
            return product.map(Gives::Product);
        }
        read_waiver(&self.kind.get_untracked(), &self.value.get_untracked())
            .map(Gives::Discount)
            .map_err(|problem| refusal.at(Spot::Value, problem))
            .ok()
    }
}

fn offer_form(shop: i64, state: ShopsState, editing: RwSignal<Option<Offer>>) -> impl IntoView {
    let lang = i18n::lang();
    let fields = OfferFields::new();
    let refusal = Refusal::new();
    Effect::new(move |_| {
        fields.fill(editing.get().as_ref());
        refusal.clear();
    });
    let live_products = Memo::new(move |_| {
        state
            .products
            .get()
            .into_iter()
            .filter(|p| !p.archived)
            .collect::<Vec<_>>()
    });
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        refusal.clear();
        let name = fields.name.get_untracked().trim().to_owned();
        let daily = read_quota(&fields.daily.get_untracked(), false)
            .map_err(|t| refusal.at(Spot::Daily, t));
        let monthly = read_quota(&fields.monthly.get_untracked(), true)
            .map_err(|t| refusal.at(Spot::Monthly, t));
        let (Ok(Some(daily)), Ok(monthly)) = (daily, monthly) else {
            return;
        };
        let target = editing.get_untracked().map(|o| o.id);
        let gives = match target {
            Some(_) => None,
            None => match fields.gives(refusal) {
                Some(g) => Some(g),
                None => return,
            },
        };
        spawn_local(async move {
            let answer = match (target, gives) {
                (Some(id), _) => {
                    let change = json!({ "name": name, "daily_quota": daily,
                        "monthly_quota": monthly.map_or(Value::Null, Value::from) });
                    api::update_offer(id, change).await
                }
                (None, Some(g)) => api::create_offer(shop, &name, g, daily, monthly).await,
                (None, None) => return,
            };
            match answer {
                Ok(offer) => {
                    put_back(state, offer);
                    editing.set(None);
                    fields.fill(None);
                    toast(ToastKind::Saved, "offer-saved");
                }
                Err(e) => refusal.show(e),
            }
        });
    };
    // Creating: choose what it gives. Changing: say what it gives and that it stays.
    let gives_fields = move || {
        match editing.get() {
        Some(o) => {
            let words = state
                .products
                .with(|p| gives_words(o.product_id, o.discount.as_ref(), p, lang.get()));
            view! {
                <Field label=Text::OfferGives hint=Text::GivesFixed>
                    <span data-testid="offer-gives-fixed">{words}</span>
                </Field>
            }
            .into_any()
        }
        None => view! {
            <Field label=Text::OfferGives error=refusal.field(Spot::Gives) error_test_id="offer-gives-error">
                <select data-testid="offer-gives" on:change=move |ev| fields.gives.set(event_target_value(&ev))>
                    <option value="local" selected=move || fields.gives.get() == "local">{tr(Text::GivesLocal)}</option>
                    <option value="product" selected=move || fields.gives.get() == "product">{tr(Text::GivesProduct)}</option>
                </select>
            </Field>
            {move || if fields.gives.get() == "product" {
                product_field(fields, live_products).into_any()
            } else {
                discount_fields(fields, refusal).into_any()
            }}
        }
        .into_any(),
    }
    };
    let node = NodeRef::<leptos::html::H4>::new();
    // The form is under the list: a change chosen in a row brings it into view.
    Effect::new(move |_| {
        if editing.with(Option::is_some)
            && let Some(title) = node.get_untracked()
        {
            title.scroll_into_view();
        }
    });
    view! {
        <h4 data-testid="offer-form-title" node_ref=node>
            {move || match editing.get() {
                Some(o) => fill("{} · {}", &[Text::EditOffer.text(lang.get()), &o.name]),
                None => Text::NewOffer.text(lang.get()).to_owned(),
            }}
        </h4>
        <form data-testid="offer-form" on:submit=save>
            <div class="fields">
                <Field label=Text::Name error=refusal.field(Spot::Name) error_test_id="offer-name-error">
                    <TextInput value=fields.name test_id="offer-name"
                        invalid=move || refusal.field(Spot::Name).get().is_some() {..} maxlength="64" />
                </Field>
                {gives_fields}
                <Field label=Text::DailyQuota error=refusal.field(Spot::Daily) error_test_id="offer-daily-error">
                    <TextInput value=fields.daily test_id="offer-daily" inputmode="numeric"
                        invalid=move || refusal.field(Spot::Daily).get().is_some() />
                </Field>
                <Field label=Text::MonthlyQuota hint=Text::MonthlyQuotaHint
                    error=refusal.field(Spot::Monthly) error_test_id="offer-monthly-error">
                    <TextInput value=fields.monthly test_id="offer-monthly" inputmode="numeric"
                        invalid=move || refusal.field(Spot::Monthly).get().is_some() />
                </Field>
            </div>
            <div class="actions">
                <button type="submit" data-testid="offer-save">{tr(Text::Save)}</button>
                {move || editing.with(Option::is_some).then(|| view! {
                    <button type="button" data-testid="offer-cancel" on:click=move |_| editing.set(None)>{tr(Text::Cancel)}</button>
                })}
            </div>
        </form>
        {error_line(refusal.other, "offer-error")}
    }
}

/// The coupon product select, or why there is none to choose.
fn product_field(fields: OfferFields, products: Memo<Vec<CouponProduct>>) -> impl IntoView {
    // The first product is chosen unless another one is.
    Effect::new(move |_| {
        let list = products.get();
        let chosen = fields.product.get_untracked();
        if !list.iter().any(|p| p.id.to_string() == chosen) {
            fields
                .product
                .set(list.first().map(|p| p.id.to_string()).unwrap_or_default());
        }
    });
    view! {
        <Field label=Text::Product>
            {move || if products.with(Vec::is_empty) {
                view! { <span class="muted" data-testid="offer-no-products">{tr(Text::NoProducts)}</span> }.into_any()
            } else {
                view! {
                    <select data-testid="offer-product" on:change=move |ev| fields.product.set(event_target_value(&ev))>
                        {products.get().into_iter().map(|p| {
                            let value = p.id.to_string();
                            let shown = value.clone();
                            view! {
                                <option value=value selected=move || fields.product.get() == shown>{p.name.clone()}</option>
                            }
                        }).collect_view()}
                    </select>
                }.into_any()
            }}
        </Field>
    }
}

/// The local discount's kind, and its value in the unit the kind takes (none for `free`).
fn discount_fields(fields: OfferFields, refusal: Refusal) -> impl IntoView {
    let value_field = move || {
        let (label, inputmode) = match fields.kind.get().as_str() {
            "free" => return None,
            "amount" => (Text::DiscountAmountYuan, "decimal"),
            "minutes" => (Text::WaiverMinutes, "numeric"),
            _ => (Text::WaiverPercent, "decimal"),
        };
        Some(view! {
            <Field label=label error=refusal.field(Spot::Value) error_test_id="offer-value-error">
                <TextInput value=fields.value test_id="offer-value" inputmode=inputmode
                    invalid=move || refusal.field(Spot::Value).get().is_some() />
            </Field>
        })
    };
    view! {
        <Field label=Text::DiscountKindLabel>
            <select data-testid="offer-kind" on:change=move |ev| fields.kind.set(event_target_value(&ev))>
                {KINDS.into_iter().map(|(code, label)| view! {
                    <option value=code selected=move || fields.kind.get() == code>{tr(label)}</option>
                }).collect_view()}
            </select>
        </Field>
        {value_field}
    }
}
