//! Coupons (property managers and admins): grant a coupon by hand, with the plate checked by the
//! protocol crate as it is typed, then follow the outcome in the records list below.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use protocol::plate::{Plate, PlateError};

use crate::api::{self, ApiError, CouponRecord, Park, PyunVerdict};
use crate::format::yuan;
use crate::i18n::{self, Lang, Text, fill, tr};
use crate::pages::coupon_records::{Records, records_section};
use crate::pages::error_line;
use crate::pages::layout::guarded;
use crate::ui::{Badge, Field, PageHeader, TextInput, Tone};

/// The coupons page.
#[component]
pub fn CouponsPage() -> impl IntoView {
    guarded("coupons", coupons_page)
}

/// Every record state, with its label, in the order a request moves through them.
pub(crate) const STATES: [(&str, Text); 7] = [
    ("pending", Text::StatePending),
    ("sending", Text::StateSending),
    ("delivered", Text::StateDelivered),
    ("rejected", Text::StateRejected),
    ("misconfigured", Text::StateMisconfigured),
    ("unknown", Text::StateUnknown),
    ("failed", Text::StateFailed),
];

/// A record state as a coloured badge with its translated label; `data-state` keeps the raw one.
pub(crate) fn state_badge(state: &str, test_id: &'static str) -> impl IntoView + use<> {
    let label = STATES.iter().find(|(s, _)| *s == state).map(|(_, l)| *l);
    badge(state, label, test_id)
}

/// The kit's tone for a state of a coupon, recharge, sync job, session or card.
fn tone_of(state: &str) -> Tone {
    match state {
        "delivered" | "done" | "closed" | "valid" => Tone::Ok,
        "sending" | "running" | "open" => Tone::Info,
        "unknown" | "misconfigured" | "problem" | "no_exit_seen" | "expired" => Tone::Warn,
        "rejected" | "failed" => Tone::Danger,
        _ => Tone::Neutral,
    }
}

/// A state as the kit's badge, toned by the state, showing `label` (else the raw state);
/// `data-state` keeps the raw one for the tests.
pub(crate) fn badge(
    state: &str,
    label: Option<Text>,
    test_id: &'static str,
) -> impl IntoView + use<> {
    let lang = i18n::lang();
    let raw = state.to_owned();
    let shown = raw.clone();
    view! {
        <Badge tone={tone_of(&raw)} test_id={test_id} {..} data-state={raw}>
            {move || label.map(|l| l.text(lang.get()).to_owned()).unwrap_or_else(|| shown.clone())}
        </Badge>
    }
}

/// P云's code, message and hint, or our own note when P云 never answered.
pub(crate) fn answer_view(r: &CouponRecord) -> impl IntoView + use<> {
    let pyun = r.pyun.clone().unwrap_or_default();
    let verdict = PyunVerdict {
        code: pyun.code,
        message: pyun.message,
        hint: pyun.hint,
        note: r.error.clone(),
    };
    pyun_answer(
        verdict,
        ["coupon-pyun", "coupon-pyun-hint", "coupon-error-note"],
    )
}

/// Where P云 applied the coupon, once its `discount.create` arrived: a link to the stay, what
/// the coupon was worth once used, or that P云 revoked it.
pub(crate) fn applied_view(r: &CouponRecord) -> Option<impl IntoView + use<>> {
    let applied = r.applied.clone()?;
    let lang = i18n::lang();
    let worth = applied
        .worth_fen
        .filter(|_| applied.state == "used")
        .map(|fen| {
            let shown = yuan(fen);
            view! {
                <span class="small" data-testid="coupon-applied-worth" data-fen=fen.to_string()>
                    {move || fill(Text::AppliedWorth.text(lang.get()), &[&shown])}
                </span>
            }
        });
    let revoked = (applied.state == "revoked").then(|| {
        view! { <Badge test_id="coupon-applied-revoked">{tr(Text::DiscountRevoked)}</Badge> }
    });
    let place = match applied.session_id {
        Some(id) => view! {
            <A href=format!("/sessions/{id}") {..} data-testid="coupon-applied-link">
                {move || fill(Text::AppliedToStay.text(lang.get()), &[&id.to_string()])}
            </A>
        }
        .into_any(),
        None => {
            view! { <span data-testid="coupon-applied-window">{tr(Text::AppliedToWindow)}</span> }
                .into_any()
        }
    };
    Some(view! {
        <div class="applied" data-testid="coupon-applied" data-state=applied.state.clone()>
            {place}" "{worth}{revoked}
        </div>
    })
}

/// P云's code and message on one line, our hint and note under it; `ids` are the test ids of
/// those three parts.
pub(crate) fn pyun_answer(
    verdict: PyunVerdict,
    [head_id, hint_id, note_id]: [&'static str; 3],
) -> impl IntoView + use<> {
    let PyunVerdict {
        code,
        message,
        hint,
        note,
    } = verdict;
    let head = [code, message]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <span data-testid=head_id>{head}</span>
        {hint.map(|h| view! { <br /><span class="small muted" data-testid=hint_id>{h}</span> })}
        {note.map(|e| view! { <br /><span class="small error" data-testid=note_id>{e}</span> })}
    }
}

/// Why a plate was refused, in the reader's language (the protocol crate speaks English).
pub(crate) fn plate_error_text(e: &PlateError, lang: Lang) -> String {
    let t = |key: Text| key.text(lang);
    match e {
        PlateError::Empty => t(Text::PlateEmpty).to_owned(),
        PlateError::TooLong { .. } => t(Text::PlateTooLong).to_owned(),
        PlateError::UnknownProvince { found, .. } => {
            fill(t(Text::PlateUnknownProvince), &[&found.to_string()])
        }
        PlateError::BadAuthority { .. } => t(Text::PlateBadAuthority).to_owned(),
        PlateError::BadLength { len, .. } => fill(t(Text::PlateBadLength), &[&len.to_string()]),
        PlateError::BadCharacter {
            found, position, ..
        } => fill(
            t(Text::PlateBadCharacter),
            &[&position.to_string(), &found.to_string()],
        ),
        PlateError::BadNewEnergy { .. } => t(Text::PlateBadNewEnergy).to_owned(),
        PlateError::BadEmbassy { .. } => t(Text::PlateBadEmbassy).to_owned(),
    }
}

/// The typed plate as the protocol crate reads it; `None` while nothing is typed.
pub(crate) fn checked_plate(plate: RwSignal<String>) -> Memo<Option<Result<Plate, PlateError>>> {
    Memo::new(move |_| {
        let typed = plate.get();
        (!typed.trim().is_empty()).then(|| Plate::parse(&typed))
    })
}

/// A plate input with the verdict under it as it is typed: the normalised plate, or why not.
pub(crate) fn plate_field(
    plate: RwSignal<String>,
    checked: Memo<Option<Result<Plate, PlateError>>>,
    input_id: &'static str,
    hint_id: &'static str,
) -> impl IntoView {
    let lang = i18n::lang();
    view! {
        <label>{tr(Text::Plate)}</label>
        <input data-testid=input_id placeholder="粤B12345"
            aria-invalid=move || matches!(checked.get(), Some(Err(_))).to_string()
            prop:value=plate on:input=move |ev| plate.set(event_target_value(&ev)) />
        <p class="hint" data-testid=hint_id
            data-valid=move || matches!(checked.get(), Some(Ok(_))).to_string()
            class:ok=move || matches!(checked.get(), Some(Ok(_)))
            class:error=move || matches!(checked.get(), Some(Err(_)))>
            {move || match checked.get() {
                None => String::new(),
                Some(Ok(p)) => fill(Text::PlateNormalised.text(lang.get()), &[p.as_str()]),
                Some(Err(e)) => plate_error_text(&e, lang.get()),
            }}
        </p>
    }
}

fn coupons_page() -> impl IntoView {
    let parks = LocalResource::new(api::parks);
    let park_list = Signal::derive(move || parks.get().and_then(Result::ok).unwrap_or_default());
    // The last grant's record; the records list keeps it current while it is in flight.
    let result = RwSignal::new(None::<CouponRecord>);
    let records = Records::new(result);
    view! {
        <section>
            <PageHeader title=Text::CouponsTitle />
            {move || parks.get().and_then(Result::err).map(|e| error_line(RwSignal::new(Some(e)), "coupon-parks-error"))}
            {grant_form(park_list, records, result)}
        </section>
        {records_section(park_list, records)}
    }
}

fn invalid(what: Text) -> Option<ApiError> {
    Some(ApiError::Invalid {
        what,
        detail: String::new(),
    })
}

fn grant_form(
    parks: Signal<Vec<Park>>,
    records: Records,
    result: RwSignal<Option<CouponRecord>>,
) -> impl IntoView {
    let lang = i18n::lang();
    let park = RwSignal::new(String::new());
    // The first car park is chosen once the list arrives.
    Effect::new(move |_| {
        if let Some(first) = parks.with(|list| list.first().map(|p| p.id.to_string()))
            && park.get_untracked().is_empty()
        {
            park.set(first);
        }
    });
    let config = LocalResource::new(move || {
        let id = park.get().parse::<i64>().ok();
        async move {
            match id {
                Some(id) => api::coupon_config(id).await.map(|c| c.products),
                None => Ok(Vec::new()),
            }
        }
    });
    let products = Signal::derive(move || {
        config
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !p.archived)
            .collect::<Vec<_>>()
    });
    let product = RwSignal::new(String::new());
    // Keep the chosen product while it is offered; otherwise take the first one.
    Effect::new(move |_| {
        let list = products.get();
        let chosen = product.get_untracked();
        if !list.iter().any(|p| p.id.to_string() == chosen) {
            product.set(list.first().map(|p| p.id.to_string()).unwrap_or_default());
        }
    });
    let plate = RwSignal::new(String::new());
    let checked = checked_plate(plate);
    let reason = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let Ok(park_id) = park.get_untracked().parse::<i64>() else {
            error.set(invalid(Text::ParkRequired));
            return;
        };
        let Ok(product_id) = product.get_untracked().parse::<i64>() else {
            error.set(invalid(Text::ProductRequired));
            return;
        };
        let valid = match Plate::parse(&plate.get_untracked()) {
            Ok(p) => p,
            Err(e) => {
                error.set(Some(ApiError::Invalid {
                    what: Text::PlateInvalid,
                    detail: plate_error_text(&e, lang.get_untracked()),
                }));
                return;
            }
        };
        let why = reason.get_untracked().trim().to_owned();
        sending.set(true);
        result.set(None);
        spawn_local(async move {
            let why = (!why.is_empty()).then_some(why.as_str());
            let outcome = api::grant_coupon(park_id, product_id, valid.as_str(), why).await;
            sending.set(false);
            match outcome {
                Ok(record) => {
                    result.set(Some(record));
                    plate.set(String::new());
                    reason.set(String::new());
                    records.refresh();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <h3>{tr(Text::GrantTitle)}</h3>
        <form data-testid="coupon-grant-form" on:submit=submit>
            <div class="fields">
            <Field label=Text::Park>
                <select data-testid="coupon-park" prop:value=park on:change=move |ev| park.set(event_target_value(&ev))>
                    {move || parks.get().into_iter().map(|p| {
                        let id = p.id.to_string();
                        let value = id.clone();
                        view! {
                            <option value=value selected=move || park.get() == id>{format!("{} {}", p.code, p.name)}</option>
                        }
                    }).collect_view()}
                </select>
            </Field>
            <Field label=Text::Product>
                <select data-testid="coupon-product" prop:value=product on:change=move |ev| product.set(event_target_value(&ev))>
                    {move || products.get().into_iter().map(|p| {
                        let id = p.id.to_string();
                        let value = id.clone();
                        view! {
                            <option value=value selected=move || product.get() == id>{p.name}</option>
                        }
                    }).collect_view()}
                </select>
            </Field>
            <div class="field">{plate_field(plate, checked, "coupon-plate", "coupon-plate-hint")}</div>
            <Field label=Text::Reason><TextInput value=reason test_id="coupon-reason" /></Field>
            </div>
            {move || {
                let loaded = config.get().is_some_and(|r| r.is_ok());
                (loaded && products.with(Vec::is_empty)).then(|| view! {
                    <p class="muted" data-testid="coupon-no-products">{tr(Text::NoProducts)}</p>
                })
            }}
            {move || config.get().and_then(Result::err).map(|e| error_line(RwSignal::new(Some(e)), "coupon-config-error"))}
            <div class="actions">
                <button type="submit" data-testid="coupon-grant-submit" disabled=move || sending.get()>
                    {move || if sending.get() { tr(Text::Granting)() } else { tr(Text::Grant)() }}
                </button>
            </div>
        </form>
        {error_line(error, "coupon-grant-error")}
        {move || result.get().map(grant_result)}
    }
}

/// What became of the last grant: state, P云's answer and serials.
fn grant_result(r: CouponRecord) -> impl IntoView {
    let pyun = r.pyun.clone().unwrap_or_default();
    view! {
        <div class="result" data-testid="coupon-grant-result" data-state=r.state.clone() data-id=r.id.to_string()>
            <p>
                {state_badge(&r.state, "coupon-grant-state")}" "
                <strong>{r.plate.clone()}</strong>" · "{r.summary.clone()}
            </p>
            <p>{answer_view(&r)}</p>
            <p class="small">
                {tr(Text::Seqno)}": "<code data-testid="coupon-grant-seqno">{pyun.seqno.unwrap_or_default()}</code>
                " · "{tr(Text::GrantSerial)}": "<code data-testid="coupon-grant-serial">{pyun.grant_serial.unwrap_or_default()}</code>
            </p>
            {r.in_flight().then(|| view! { <p class="muted">{tr(Text::GrantAccepted)}</p> })}
        </div>
    }
}
