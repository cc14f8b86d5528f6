//! Names and badges shared by the VIP (固定车) pages: card types, plate colours, pay types,
//! sync states, and the car park chooser.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use protocol::pyun::VipType;

use crate::api::Park;
use crate::i18n::{self, Text};
use crate::pages::coupons::{STATES, badge};
use crate::ui::Field;

/// Every VIP type by P云 code, with its Chinese card name.
pub(crate) const VIP_TYPES: [(u8, Text); 8] = [
    (1, Text::VipMonthly),
    (2, Text::VipStoredValue),
    (3, Text::VipStoredCount),
    (4, Text::VipStoredDays),
    (5, Text::VipYearly),
    (6, Text::VipQuarterly),
    (7, Text::VipHalfYear),
    (0, Text::VipFree),
];

/// Plate colours by P云 code.
pub(crate) const PLATE_COLORS: [(i32, Text); 6] = [
    (1, Text::ColorBlue),
    (2, Text::ColorYellow),
    (3, Text::ColorWhite),
    (4, Text::ColorBlack),
    (5, Text::ColorGreen),
    (-1, Text::ColorUnknown),
];

/// Pay types by P云 code.
pub(crate) const PAY_TYPES: [(u8, Text); 2] = [(1, Text::PayCash), (2, Text::PayOnline)];

/// A record's overall sync states, as the list filter offers them.
pub(crate) const RECORD_SYNC: [(&str, Text); 4] = [
    ("queued", Text::SyncQueued),
    ("pending", Text::StatePending),
    ("delivered", Text::StateDelivered),
    ("problem", Text::SyncProblem),
];

/// The label of `code` in a code table.
pub(crate) fn label_of<K: PartialEq>(table: &[(K, Text)], code: &K) -> Option<Text> {
    table.iter().find(|(k, _)| k == code).map(|(_, t)| *t)
}

/// A translated label, or the raw code when the table does not know it.
pub(crate) fn label_text(label: Option<Text>, raw: String) -> impl Fn() -> String + use<> {
    let lang = i18n::lang();
    move || label.map_or_else(|| raw.clone(), |l| l.text(lang.get()).to_owned())
}

/// The VIP type's name (code shown when unknown).
pub(crate) fn vip_type_name(code: u8) -> impl Fn() -> String + use<> {
    label_text(label_of(&VIP_TYPES, &code), code.to_string())
}

/// The plate colour's name (code shown when unknown).
pub(crate) fn plate_color_name(code: i32) -> impl Fn() -> String + use<> {
    label_text(label_of(&PLATE_COLORS, &code), code.to_string())
}

/// The pay type's name (code shown when unknown).
pub(crate) fn pay_type_name(code: u8) -> impl Fn() -> String + use<> {
    label_text(label_of(&PAY_TYPES, &code), code.to_string())
}

/// Whether the server cannot compute a period for this type, so both dates must be given.
pub(crate) fn needs_dates(t: VipType) -> bool {
    matches!(
        t,
        VipType::Free | VipType::StoredValue | VipType::StoredCount
    )
}

/// A sync state (a record's or a recharge's) as a badge; `data-state` keeps the raw one.
pub(crate) fn sync_badge(state: &str, test_id: &'static str) -> impl IntoView + use<> {
    let label = match state {
        "none" => Some(Text::SyncNone),
        "queued" => Some(Text::SyncQueued),
        "problem" => Some(Text::SyncProblem),
        other => label_of(&STATES, &other),
    };
    badge(state, label, test_id)
}

/// "Valid now" or "expired", as a badge.
pub(crate) fn validity_badge(valid_now: bool, test_id: &'static str) -> impl IntoView + use<> {
    let (state, label) = if valid_now {
        ("valid", Text::ValidNow)
    } else {
        ("expired", Text::Expired)
    };
    badge(state, Some(label), test_id)
}

/// `from — to` as Shanghai dates; a missing end shows as empty.
pub(crate) fn period_text(from: Option<&str>, to: Option<&str>) -> String {
    match (from, to) {
        (None, None) => String::new(),
        (from, to) => format!(
            "{} — {}",
            from.map(crate::pages::local_date).unwrap_or_default(),
            to.map(crate::pages::local_date).unwrap_or_default()
        ),
    }
}

/// The chosen car park, starting from `?park=` (links between the VIP pages carry it), else
/// the first car park once the list arrives.
pub(crate) fn chosen_park(parks: Signal<Vec<Park>>) -> RwSignal<Option<i64>> {
    let from_query = use_query_map()
        .get_untracked()
        .get("park")
        .and_then(|p| p.parse::<i64>().ok());
    let park = RwSignal::new(from_query);
    Effect::new(move |_| {
        if let Some(first) = parks.with(|list| list.first().map(|p| p.id))
            && park.get_untracked().is_none()
        {
            park.set(Some(first));
        }
    });
    park
}

/// The car park select.
pub(crate) fn park_select(
    parks: Signal<Vec<Park>>,
    park: RwSignal<Option<i64>>,
    test_id: &'static str,
) -> impl IntoView {
    view! {
        <Field label=Text::Park>
            <select data-testid=test_id on:change=move |ev| park.set(event_target_value(&ev).parse().ok())>
                {move || parks.get().into_iter().map(|p| {
                    let id = p.id;
                    view! {
                        <option value=id.to_string() selected=move || park.get() == Some(id)>{format!("{} {}", p.code, p.name)}</option>
                    }
                }).collect_view()}
            </select>
        </Field>
    }
}
