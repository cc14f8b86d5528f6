//! A plate keyboard for a phone at a till: nobody types Chinese with their thumbs.
//!
//! The first key chosen is the province (its 31 characters, as `protocol::plate` accepts them);
//! then letters (no I, O: never issued) and digits, the special last characters (学 警 港 澳
//! 挂 领), backspace and clear. The plate shows big above the keys in eight boxes — the eighth,
//! dashed green, is the new-energy plate's — and says whether `protocol::plate` takes it, the
//! very check the server makes.

use leptos::prelude::*;
use protocol::plate::{Plate, PlateKind};

use crate::i18n::{Text, tr};

/// Province abbreviations, in the order Chinese plate keyboards show them (the same set as
/// `protocol::plate`'s, which does not export it).
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";
/// Digits first (the serial's most common), then the letters a plate may hold.
const SERIAL: &str = "1234567890ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Last characters of special plates (driving school, police, Hong Kong, Macau, trailer,
/// consulate).
const SPECIAL: &str = "学警港澳挂领";
/// A new-energy plate's length; ordinary plates have 7.
const MAX_CHARS: usize = 8;

/// What the typed text is, for the line under the plate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlateState {
    /// Nothing typed yet.
    Empty,
    /// Still too short to be a plate.
    Incomplete,
    /// A plate `protocol::plate` accepts.
    Valid(PlateKind),
    /// Long enough but not a plate.
    Invalid,
}

/// Reads `text` as the keyboard shows it.
pub(crate) fn plate_state(text: &str) -> PlateState {
    let len = text.chars().count();
    match Plate::parse(text) {
        Ok(p) => PlateState::Valid(p.kind()),
        Err(_) if len == 0 => PlateState::Empty,
        Err(_) if len < 7 => PlateState::Incomplete,
        Err(_) => PlateState::Invalid,
    }
}

/// Whether key `c` may go at 0-based position `at` (a plate's shape, so that a thumb cannot
/// type what no plate holds: the province first, a letter second, a special character last).
fn fits(c: char, at: usize) -> bool {
    match at {
        0 => PROVINCES.contains(c),
        1 => c.is_ascii_uppercase(),
        6 => SERIAL.contains(c) || SPECIAL.contains(c),
        2..MAX_CHARS => SERIAL.contains(c),
        _ => false,
    }
}

/// The keyboard, writing into `plate`; `test_id` prefixes its parts (`{test_id}-display`,
/// `{test_id}-state`) and every key is `plate-key-<character>`, `plate-key-backspace`,
/// `plate-key-clear`.
#[component]
pub(crate) fn PlateKeyboard(
    /// The plate typed so far.
    plate: RwSignal<String>,
    /// Prefix of the display's test ids.
    test_id: &'static str,
) -> impl IntoView {
    let len = Memo::new(move |_| plate.with(|p| p.chars().count()));
    let state = Memo::new(move |_| plate.with(|p| plate_state(p)));
    let press = move |c: char| {
        plate.update(|p| {
            if fits(c, p.chars().count()) {
                p.push(c);
            }
        })
    };
    let key = move |c: char| {
        view! {
            <button type="button" class="key" data-testid=format!("plate-key-{c}")
                disabled=move || !fits(c, len.get())
                on:click=move |_| press(c)>{c.to_string()}</button>
        }
    };
    let boxes = move || {
        plate.with(|p| {
            let chars: Vec<char> = p.chars().collect();
            (0..MAX_CHARS)
                .map(|i| {
                    let class = match (i, i == chars.len()) {
                        (7, true) => "cell green next",
                        (7, false) => "cell green",
                        (_, true) => "cell next",
                        _ => "cell",
                    };
                    let c = chars.get(i).map(char::to_string).unwrap_or_default();
                    view! { <span class=class>{c}</span> }
                })
                .collect_view()
        })
    };
    let state_text = move || match state.get() {
        PlateState::Empty => Text::PlateTypeProvince,
        PlateState::Incomplete => Text::PlateIncomplete,
        PlateState::Valid(PlateKind::NewEnergy) => Text::PlateValidGreen,
        PlateState::Valid(_) => Text::PlateValid,
        PlateState::Invalid => Text::PlateInvalid,
    };
    let state_class = move || match state.get() {
        PlateState::Valid(_) => "plate-state ok",
        PlateState::Invalid => "plate-state error",
        _ => "plate-state muted",
    };
    view! {
        <div class="plate-pad">
            <div class="plate-display" class:green=move || len.get() == MAX_CHARS
                data-testid=format!("{test_id}-display") data-plate=move || plate.get()
                aria-live="polite" aria-label=move || plate.get()>
                {boxes}
            </div>
            <p class=state_class data-testid=format!("{test_id}-state")>
                {move || tr(state_text())()}
            </p>
            // The provinces while the plate is empty; then what follows.
            <Show when=move || len.get() == 0>
                <div class="keys">{PROVINCES.chars().map(key).collect_view()}</div>
            </Show>
            <Show when=move || len.get() != 0>
                <div class="keys">{SERIAL.chars().map(key).collect_view()}</div>
                <div class="keys special">{SPECIAL.chars().map(key).collect_view()}</div>
            </Show>
            <div class="keys edit">
                <button type="button" class="key wide" data-testid="plate-key-backspace"
                    aria-label=tr(Text::PlateBackspace) disabled=move || len.get() == 0
                    on:click=move |_| plate.update(|p| { p.pop(); })>"⌫"</button>
                <button type="button" class="key wide" data-testid="plate-key-clear"
                    disabled=move || len.get() == 0
                    on:click=move |_| plate.set(String::new())>{tr(Text::PlateClear)}</button>
            </div>
        </div>
    }
}
