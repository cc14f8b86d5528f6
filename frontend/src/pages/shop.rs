//! The merchant's till at /shop (issue 17), phone-first: validate a plate typed on the plate
//! keyboard with one of the shop's offers and read the answer in large text; a QR code for the
//! customer to scan ([`crate::pages::shop_qr`]); today's use and history
//! ([`crate::pages::shop_today`]). Every action reads the figures again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::plate::Plate;

use crate::api::{self, ApiError, OfferUse, ShopPage, Validation, ValidationAnswer};
use crate::format::yuan;
use crate::i18n::{self, Lang, Text, fill, tr};
use crate::pages::layout::guarded;
use crate::pages::shop_qr::qr_section;
use crate::pages::shop_today::today_section;
use crate::pages::{error_line, loading};
use crate::ui::{PageHeader, PlateKeyboard};

/// The shop page.
#[component]
pub fn ShopDeskPage() -> impl IntoView {
    guarded("shop", shop_page)
}

fn shop_page() -> impl IntoView {
    let page = RwSignal::new(None::<ShopPage>);
    let history = RwSignal::new(Vec::<Validation>::new());
    let error = RwSignal::new(None::<ApiError>);
    // Copy: every action calls it once its answer is in.
    let reload = move || {
        spawn_local(async move {
            match api::shop().await {
                Ok(p) => {
                    error.set(None);
                    page.set(Some(p));
                }
                Err(e) => error.set(Some(e)),
            }
            match api::validations_today().await {
                Ok(h) => history.set(h),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    reload();
    let offers = Signal::derive(move || {
        page.with(|p| p.as_ref().map(|p| p.offers.clone()).unwrap_or_default())
    });
    let name = Signal::derive(move || {
        page.with(|p| p.as_ref().map(|p| p.shop.name.clone()).unwrap_or_default())
    });
    let park_day =
        move || page.with(|p| p.as_ref().map(|p| format!("{} · {}", p.park_name, p.day)));
    view! {
        <div class="shop-desk" data-testid="shop-page">
            <section class="shop-head">
                <PageHeader title=Text::NavShop detail=name test_id="shop-title" />
                <p class="muted shop-park" data-testid="shop-park">{park_day}</p>
                {error_line(error, "shop-error")}
                {move || (page.with(Option::is_none) && error.with(Option::is_none)).then(loading)}
            </section>
            <ValidateSection offers=offers reload=reload />
            {qr_section(offers, reload)}
            {today_section(offers, history)}
        </div>
    }
}

/// One press of 验证: what was asked and under which `validation_id`.
#[derive(Debug, Clone, PartialEq)]
struct Attempt {
    offer: i64,
    plate: String,
    id: String,
    /// Answered for good: the next press is a new validation.
    settled: bool,
}

/// What the last press got.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    /// The server's answer (its state says delivered, pending, refused or unknown).
    Given(ValidationAnswer),
    /// Refused or not answered.
    Failed(ApiError),
    /// Not sent: what is missing.
    NotSent(Text),
}

/// A fresh idempotency key for one press: the time and 64 random bits, unique per till.
fn new_validation_id() -> String {
    let r = || (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!(
        "till-{:x}-{:08x}{:08x}",
        js_sys::Date::now() as u64,
        r(),
        r()
    )
}

/// Whether a failed call may be pressed again under the same key: nothing said it was refused.
fn unanswered(e: &ApiError) -> bool {
    match e {
        ApiError::Network(_) | ApiError::Decode(_) => true,
        ApiError::Status { status, .. } => *status >= 500,
        ApiError::Invalid { .. } => false,
    }
}

/// The offer chooser, the plate keyboard, 验证 and the answer.
#[component]
fn ValidateSection(
    offers: Signal<Vec<OfferUse>>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let plate = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<i64>);
    let attempt = StoredValue::new(None::<Attempt>);
    let answer = RwSignal::new(None::<(Attempt, Answer)>);
    // Counts answers, so a test (and a screen reader) can tell a new answer from the last one.
    let seq = RwSignal::new(0_u32);
    let busy = RwSignal::new(false);
    // The first live offer is chosen until the clerk picks one.
    Effect::new(move |_| {
        let first = offers.with(|o| o.iter().find(|o| o.active).map(|o| o.id));
        if chosen.get_untracked().is_none() {
            chosen.set(first);
        }
    });
    let send = move |a: Attempt| {
        busy.set(true);
        spawn_local(async move {
            let got = api::validate_plate(a.offer, &a.plate, &a.id).await;
            let (settled, shown) = match got {
                Ok(v) => (v.validation.state != "pending", Answer::Given(v)),
                Err(e) => (!unanswered(&e), Answer::Failed(e)),
            };
            let a = Attempt { settled, ..a };
            attempt.set_value(Some(a.clone()));
            seq.update(|n| *n += 1);
            answer.set(Some((a, shown)));
            busy.set(false);
            reload();
        });
    };
    let press = move |_| {
        if busy.get_untracked() {
            return;
        }
        let Ok(p) = Plate::parse(&plate.get_untracked()) else {
            seq.update(|n| *n += 1);
            answer.set(Some((
                empty_attempt(),
                Answer::NotSent(Text::ShopPlateFirst),
            )));
            return;
        };
        let Some(offer) = chosen.get_untracked() else {
            seq.update(|n| *n += 1);
            answer.set(Some((
                empty_attempt(),
                Answer::NotSent(Text::ShopChooseOffer),
            )));
            return;
        };
        let plate = p.into_string();
        // The same press again (no answer came) keeps its key, so it cannot validate twice.
        let id = attempt
            .get_value()
            .filter(|a| !a.settled && a.offer == offer && a.plate == plate)
            .map(|a| a.id)
            .unwrap_or_else(new_validation_id);
        send(Attempt {
            offer,
            plate,
            id,
            settled: false,
        });
    };
    let again = move |_| {
        if let Some(a) = attempt.get_value().filter(|a| !a.settled) {
            send(a);
        }
    };
    let offer_buttons = move || {
        offers
            .get()
            .into_iter()
            .filter(|o| o.active)
            .map(|o| offer_button(o, chosen, "shop-offer"))
            .collect_view()
    };
    view! {
        <section class="shop-validate" data-testid="shop-validate">
            <h3>{tr(Text::ShopValidateTitle)}</h3>
            <PlateKeyboard plate=plate test_id="shop-plate" />
            <div class="offer-choice" role="group" aria-label=tr(Text::ShopOffer)>
                {offer_buttons}
            </div>
            {move || offers.with(|o| o.iter().all(|o| !o.active)).then(|| view! {
                <p class="muted" data-testid="shop-no-offers">{tr(Text::ShopNoOffers)}</p>
            })}
            <button type="button" class="primary big" data-testid="shop-validate-submit"
                disabled=busy on:click=press>{tr(Text::ShopValidate)}</button>
            {move || answer.get().map(|(a, shown)| answer_view(a, shown, seq.get_untracked(), offers, again))}
        </section>
    }
}

fn empty_attempt() -> Attempt {
    Attempt {
        offer: 0,
        plate: String::new(),
        id: String::new(),
        settled: true,
    }
}

/// A big toggle choosing offer `o` into `chosen`, with today's use against its quota.
pub(crate) fn offer_button(
    o: OfferUse,
    chosen: RwSignal<Option<i64>>,
    prefix: &'static str,
) -> impl IntoView {
    let lang = i18n::lang();
    let id = o.id;
    let full = o.used_today >= o.daily_quota;
    let name = o.name.clone();
    let use_line = move || use_text(&o, lang.get());
    view! {
        <button type="button" class="offer" class:full=full data-testid=format!("{prefix}-{id}")
            aria-pressed=move || (chosen.get() == Some(id)).to_string()
            on:click=move |_| chosen.set(Some(id))>
            <span class="offer-name">{name}</span>
            <span class="offer-use">{use_line}</span>
        </button>
    }
}

/// `今日 3/20 · 本月 40/300`.
pub(crate) fn use_text(o: &OfferUse, lang: Lang) -> String {
    let today = fill(
        Text::ShopTodayUse.text(lang),
        &[&o.used_today.to_string(), &o.daily_quota.to_string()],
    );
    match o.monthly_quota {
        Some(m) => format!(
            "{today} · {}",
            fill(
                Text::ShopMonthUse.text(lang),
                &[&o.used_this_month.to_string(), &m.to_string()]
            )
        ),
        None => today,
    }
}

/// The answer in large text, with its state in `data-state`.
fn answer_view(
    a: Attempt,
    shown: Answer,
    seq: u32,
    offers: Signal<Vec<OfferUse>>,
    again: impl Fn(leptos::ev::MouseEvent) + Copy + 'static,
) -> impl IntoView {
    let lang = i18n::lang();
    let offer_name = offers.with_untracked(|o| {
        o.iter()
            .find(|o| o.id == a.offer)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    });
    let what = (!a.plate.is_empty()).then(|| format!("{} · {offer_name}", a.plate));
    let (state, tone, may_retry) = match &shown {
        Answer::Given(v) => match v.validation.state.as_str() {
            "delivered" => ("delivered", "ok", false),
            "pending" => ("pending", "warn", true),
            "refused" => ("refused", "danger", false),
            other => (
                if other == "unknown" {
                    "unknown"
                } else {
                    "other"
                },
                "warn",
                false,
            ),
        },
        Answer::Failed(ApiError::Status { code, .. }) if code == "quota_exhausted" => {
            ("quota_exhausted", "danger", false)
        }
        Answer::Failed(e) if unanswered(e) => ("unanswered", "warn", true),
        Answer::Failed(_) | Answer::NotSent(_) => ("error", "danger", false),
    };
    let text = move || answer_text(&shown, lang.get());
    view! {
        <div class=format!("answer answer-{tone}") data-testid="shop-answer" data-state=state
            data-id=seq.to_string()
            role="status" aria-live="polite">
            {what.map(|w| view! { <p class="answer-what" data-testid="shop-answer-what">{w}</p> })}
            <p class="answer-text" data-testid="shop-answer-text">{text}</p>
            {may_retry.then(|| view! {
                <button type="button" class="big" data-testid="shop-answer-refresh" on:click=again>
                    {tr(Text::ShopRefreshResult)}
                </button>
            })}
        </div>
    }
}

/// What the clerk reads for an answer.
fn answer_text(shown: &Answer, lang: Lang) -> String {
    match shown {
        Answer::NotSent(t) => t.text(lang).to_owned(),
        Answer::Given(v) => match v.validation.state.as_str() {
            "delivered" => match &v.stay {
                Some(s) => format!(
                    "{}，{}",
                    Text::ShopDelivered.text(lang),
                    fill(Text::ShopOwedNow.text(lang), &[&yuan(s.figure.owed_fen)])
                ),
                None => Text::ShopDelivered.text(lang).to_owned(),
            },
            "pending" => Text::ShopPending.text(lang).to_owned(),
            "refused" => match v.validation.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(r) => fill(Text::ShopRefused.text(lang), &[r]),
                None => Text::ShopRefusedNoReason.text(lang).to_owned(),
            },
            _ => Text::ShopUnknown.text(lang).to_owned(),
        },
        Answer::Failed(e) => refusal_text(e, lang),
    }
}

/// A refused or unanswered validation in the clerk's words.
pub(crate) fn refusal_text(e: &ApiError, lang: Lang) -> String {
    if unanswered(e) {
        return fill(Text::ShopRetrySame.text(lang), &[&e.describe(lang)]);
    }
    let ApiError::Status { code, details, .. } = e else {
        return e.describe(lang);
    };
    let known = match code.as_str() {
        "quota_exhausted" => {
            let limit = details
                .as_ref()
                .and_then(|d| d.get("limit"))
                .and_then(|l| l.as_i64())
                .map(|l| l.to_string())
                .unwrap_or_default();
            let monthly = details
                .as_ref()
                .and_then(|d| d.get("quota"))
                .is_some_and(|q| q == "monthly");
            let t = if monthly {
                Text::ShopQuotaMonthly
            } else {
                Text::ShopQuotaDaily
            };
            return fill(t.text(lang), &[&limit]);
        }
        "not_parked" => Text::ShopNotParked,
        "offer_inactive" => Text::ShopOfferInactive,
        "unknown_offer" => Text::ShopUnknownOffer,
        "invalid_plate" => Text::PlateInvalid,
        _ => return e.describe(lang),
    };
    known.text(lang).to_owned()
}
