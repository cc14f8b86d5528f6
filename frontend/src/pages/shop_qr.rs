//! The shop's QR code (P云 `mcoupon/token`, pyun-carpark.md §5): one of the shop's P云 coupon
//! offers, single use or timed, its lifetime; 生成二维码 mints one and the page draws P云's
//! claim link as a QR code here, in wasm (nothing is fetched), with a countdown to its expiry.
//!
//! P云 cannot tell a resent token call from a new one, so nothing here repeats a call by itself:
//! after a timeout the clerk is told to press 刷新, which mints a new code.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::pyun::coupon_token::{MAX_EXPIRE_IN_SECS, MIN_EXPIRE_IN_SECS};
use qrcode::{Color, EcLevel, QrCode};

use crate::api::{self, ApiError, MintedToken, OfferUse};
use crate::i18n::{self, Lang, Text, fill, tr};
use crate::pages::every;
use crate::pages::shop::offer_button;

/// Lifetimes offered, in seconds; those outside P云's bounds are left out.
const LIFETIMES: [u32; 6] = [300, 600, 1800, 3600, 7200, 86_400];
/// Modules of white around the code, as the QR standard asks, so a phone finds its edges.
const QUIET: usize = 4;

/// The QR code's section; every mint reads the figures again through `reload`.
pub(crate) fn qr_section(
    offers: Signal<Vec<OfferUse>>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let lang = i18n::lang();
    let pyun_offers = Signal::derive(move || {
        offers.with(|o| {
            o.iter()
                .filter(|o| o.active && o.is_pyun())
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let chosen = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        let first = pyun_offers.with(|o| o.first().map(|o| o.id));
        if chosen.get_untracked().is_none() {
            chosen.set(first);
        }
    });
    let single_use = RwSignal::new(true);
    let life = RwSignal::new(600_u32);
    let minted = RwSignal::new(None::<MintedToken>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let now = RwSignal::new(Utc::now());
    every(std::time::Duration::from_secs(1), move || {
        now.set(Utc::now())
    });
    // One call per press, never repeated here (see the module).
    let mint = move |_| {
        let Some(offer) = chosen.get_untracked() else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (single, secs) = (single_use.get_untracked(), life.get_untracked());
        spawn_local(async move {
            match api::mint_qr(offer, single, secs).await {
                Ok(t) => {
                    now.set(Utc::now());
                    minted.set(Some(t));
                }
                Err(e) => {
                    minted.set(None);
                    error.set(Some(e));
                }
            }
            busy.set(false);
            reload();
        });
    };
    let lifetimes = move || {
        LIFETIMES
            .into_iter()
            .filter(|s| (MIN_EXPIRE_IN_SECS..=MAX_EXPIRE_IN_SECS).contains(s))
            .map(|s| {
                view! {
                    <option value=s.to_string() selected=move || life.get_untracked() == s>
                        {move || lifetime_text(s, lang.get())}
                    </option>
                }
            })
            .collect_view()
    };
    let has_offers = move || pyun_offers.with(|o| !o.is_empty());
    let form = move || {
        view! {
            <div class="offer-choice" role="group" aria-label=tr(Text::ShopOffer)>
                {move || pyun_offers.get().into_iter().map(|o| offer_button(o, chosen, "shop-qr-offer")).collect_view()}
            </div>
            <div class="qr-mode" role="radiogroup">
                <label class="check big-check">
                    <input type="radio" name="qr-mode" data-testid="shop-qr-single"
                        prop:checked=move || single_use.get()
                        on:change=move |_| single_use.set(true) />
                    {tr(Text::ShopQrSingle)}
                </label>
                <label class="check big-check">
                    <input type="radio" name="qr-mode" data-testid="shop-qr-timed"
                        prop:checked=move || !single_use.get()
                        on:change=move |_| single_use.set(false) />
                    {tr(Text::ShopQrTimed)}
                </label>
            </div>
            <label class="field qr-life">
                <span class="field-label">{tr(Text::ShopQrLife)}</span>
                <select data-testid="shop-qr-life"
                    on:change=move |ev| {
                        if let Ok(s) = event_target_value(&ev).parse() {
                            life.set(s);
                        }
                    }>
                    {lifetimes()}
                </select>
            </label>
            <div class="actions">
                <Show when=move || minted.with(Option::is_none) && error.with(Option::is_none)
                    fallback=move || view! {
                        <button type="button" class="primary big" data-testid="shop-qr-refresh"
                            disabled=busy on:click=mint>{tr(Text::Refresh)}</button>
                    }>
                    <button type="button" class="primary big" data-testid="shop-qr-generate"
                        disabled=busy on:click=mint>{tr(Text::ShopQrGenerate)}</button>
                </Show>
            </div>
            {move || error.get().map(|e| view! {
                <p class="answer answer-danger answer-text" role="alert" data-testid="shop-qr-error"
                    data-code=code_of(&e)>{
                    let e = e.clone();
                    move || qr_error_text(&e, lang.get())
                }</p>
            })}
            {move || minted.get().map(|t| shown_code(t, now))}
        }
    };
    view! {
        <section class="shop-qr" data-testid="shop-qr-section">
            <h3>{tr(Text::ShopQrTitle)}</h3>
            <Show when=has_offers fallback=|| view! {
                <p class="muted" data-testid="shop-qr-none">{tr(Text::ShopQrNoPyunOffer)}</p>
            }>
                {form()}
            </Show>
        </section>
    }
}

/// `10 分钟`, `2 小时`.
fn lifetime_text(secs: u32, lang: Lang) -> String {
    if secs.is_multiple_of(3600) {
        fill(Text::ShopQrHours.text(lang), &[&(secs / 3600).to_string()])
    } else {
        fill(Text::ShopQrMinutes.text(lang), &[&(secs / 60).to_string()])
    }
}

/// The envelope's code, for `data-code`.
fn code_of(e: &ApiError) -> String {
    match e {
        ApiError::Status { code, .. } => code.clone(),
        _ => String::new(),
    }
}

/// A failed mint in the clerk's words; P云's own words where it gave some.
fn qr_error_text(e: &ApiError, lang: Lang) -> String {
    let ApiError::Status { code, message, .. } = e else {
        return e.describe(lang);
    };
    // The server's message is `P云 refused the QR code: <P云's code and words>`.
    let pyun_words = message
        .split_once(": ")
        .map_or(message.as_str(), |(_, w)| w);
    match code.as_str() {
        "pyun_refused" => fill(Text::ShopQrRefused.text(lang), &[pyun_words]),
        "pyun_failed" => fill(Text::ShopQrFailed.text(lang), &[pyun_words]),
        "pyun_unreachable" => Text::ShopQrUnreachable.text(lang).to_owned(),
        "pyun_timeout" => Text::ShopQrTimeout.text(lang).to_owned(),
        "offer_not_pyun" => Text::ShopQrNotPyun.text(lang).to_owned(),
        "offer_inactive" => Text::ShopOfferInactive.text(lang).to_owned(),
        "unknown_offer" => Text::ShopUnknownOffer.text(lang).to_owned(),
        "quota_exhausted" => super::shop::refusal_text(e, lang),
        _ => e.describe(lang),
    }
}

/// `mm:ss` (or `h:mm:ss`) from `now` to `until`; `None` once it has passed.
fn remaining(now: DateTime<Utc>, until: DateTime<Utc>) -> Option<String> {
    let secs = (until - now).num_seconds();
    (secs > 0).then(|| {
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h > 0 {
            format!("{h}:{m:02}:{s:02}")
        } else {
            format!("{m:02}:{s:02}")
        }
    })
}

/// The minted code while it lives, with its countdown; a note to refresh once it died.
fn shown_code(t: MintedToken, now: RwSignal<DateTime<Utc>>) -> impl IntoView {
    let lang = i18n::lang();
    let expires = t.expires_at;
    let left = move || remaining(now.get(), expires);
    let (size, path) = qr_modules(&t.url);
    let url = t.url;
    view! {
        <div class="qr-shown" data-testid="shop-qr-shown" data-expires=expires.to_rfc3339()>
            <Show when=move || left().is_some() fallback=move || view! {
                <p class="answer answer-warn answer-text" data-testid="shop-qr-expired">{tr(Text::ShopQrExpired)}</p>
            }>
                <div class="qr" data-testid="shop-qr" data-url=url.clone()>
                    <svg xmlns="http://www.w3.org/2000/svg" viewBox=format!("0 0 {size} {size}")
                        shape-rendering="crispEdges" role="img" aria-label=url.clone()>
                        <rect width=size.to_string() height=size.to_string() fill="#fff" />
                        <path d=path.clone() fill="#000" />
                    </svg>
                </div>
                <p class="qr-countdown" data-testid="shop-qr-countdown">
                    {move || fill(Text::ShopQrCountdown.text(lang.get()), &[&left().unwrap_or_default()])}
                </p>
                <p class="muted">{tr(Text::ShopQrScan)}</p>
            </Show>
        </div>
    }
}

/// `url` as a QR code: the side in modules (quiet zone included) and one SVG path of its dark
/// modules.
fn qr_modules(url: &str) -> (usize, String) {
    // M: a short claim link stays a small code (larger modules on a screen) that survives glare.
    match QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M) {
        Ok(code) => {
            let w = code.width();
            let mut d = String::new();
            for (i, c) in code.to_colors().into_iter().enumerate() {
                if c == Color::Dark {
                    d.push_str(&format!("M{} {}h1v1h-1z", i % w + QUIET, i / w + QUIET));
                }
            }
            (w + 2 * QUIET, d)
        }
        // Longer than any QR code holds: nothing to draw (P云's links are short).
        Err(_) => (2 * QUIET, String::new()),
    }
}
