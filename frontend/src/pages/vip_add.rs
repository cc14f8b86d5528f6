//! The add form on /vip: a new VIP record with its first recharge. The plate is checked by the
//! protocol crate as it is typed; its colour follows the plate's kind until someone picks one.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use protocol::plate::{Plate, PlateColor};
use protocol::pyun::VipType;

use crate::api::{self, ApiError, NewVipRecord};
use crate::i18n::{self, Text, tr};
use crate::pages::coupons::{checked_plate, plate_error_text, plate_field};
use crate::pages::error_line;
use crate::pages::vip_forms::RechargeFields;
use crate::pages::vip_labels::{PLATE_COLORS, VIP_TYPES};
use crate::ui::{Field, TextInput};

fn optional(signal: RwSignal<String>) -> Option<String> {
    let text = signal.get_untracked().trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The add form for car park `park`; on success the browser goes to the new record's page.
pub(crate) fn add_form(park: Signal<Option<i64>>) -> impl IntoView {
    let lang = i18n::lang();
    let navigate = use_navigate();
    let plate = RwSignal::new(String::new());
    let checked = checked_plate(plate);
    let picked_color = RwSignal::new(None::<i32>);
    let color = Memo::new(move |_| {
        picked_color.get().unwrap_or_else(|| match checked.get() {
            Some(Ok(p)) => PlateColor::default_for(p.kind()).code(),
            _ => PlateColor::Blue.code(),
        })
    });
    let card_no = RwSignal::new(String::new());
    let card_id = RwSignal::new(String::new());
    let charge_type = RwSignal::new(String::new());
    let vip_type = RwSignal::new(VipType::Monthly.code());
    let vip_type_value = Signal::derive(move || VipType::from_code(vip_type.get().into()));
    let recharge = RechargeFields::new();
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let fail = |what: Text, detail: String| error.set(Some(ApiError::Invalid { what, detail }));
        let Some(park_id) = park.get_untracked() else {
            return fail(Text::ParkRequired, String::new());
        };
        let valid = match Plate::parse(&plate.get_untracked()) {
            Ok(p) => p,
            Err(e) => {
                return fail(
                    Text::PlateInvalid,
                    plate_error_text(&e, lang.get_untracked()),
                );
            }
        };
        let Some(charge) = optional(charge_type) else {
            return fail(Text::ChargeTypeRequired, String::new());
        };
        let Some(t) = vip_type_value.get_untracked() else {
            return fail(Text::VipTypeRequired, String::new());
        };
        let input = match recharge.read(t, None) {
            Ok(input) => input,
            Err(e) => return error.set(Some(e)),
        };
        let record = NewVipRecord {
            plate: valid.into_string(),
            plate_color: Some(color.get_untracked()),
            card_no: optional(card_no),
            card_id: optional(card_id),
            charge_type: charge,
            vip_type: t.code(),
            recharge: input,
        };
        sending.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let outcome = api::create_vip(park_id, &record).await;
            let _ = sending.try_set(false);
            match outcome {
                Ok(detail) => navigate(
                    &format!("/vip/{}", detail.record.id),
                    NavigateOptions::default(),
                ),
                Err(e) => {
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };

    let text_input = move |label: Text, test_id: &'static str, signal: RwSignal<String>| {
        view! { <Field label=label><TextInput value=signal test_id=test_id /></Field> }
    };
    view! {
        <form class="vip-add" data-testid="vip-add-form" on:submit=submit>
            <h3>{tr(Text::VipAddTitle)}</h3>
            <div class="fields">
                <div class="field">{plate_field(plate, checked, "vip-add-plate", "vip-add-plate-hint")}</div>
                <Field label=Text::PlateColor>
                    <select data-testid="vip-add-color" on:change=move |ev| picked_color.set(event_target_value(&ev).parse().ok())>
                        {PLATE_COLORS.into_iter().map(|(code, label)| view! {
                            <option value=code.to_string() selected=move || color.get() == code>{tr(label)}</option>
                        }).collect_view()}
                    </select>
                </Field>
                {text_input(Text::CardNo, "vip-add-card-no", card_no)}
                {text_input(Text::CardId, "vip-add-card-id", card_id)}
                {text_input(Text::ChargeType, "vip-add-charge-type", charge_type)}
                <Field label=Text::VipType>
                    <select data-testid="vip-add-type" on:change=move |ev| {
                        if let Ok(code) = event_target_value(&ev).parse() {
                            vip_type.set(code);
                        }
                    }>
                        {VIP_TYPES.into_iter().map(|(code, label)| view! {
                            <option value=code.to_string() selected=move || vip_type.get() == code>{tr(label)}</option>
                        }).collect_view()}
                    </select>
                </Field>
                {recharge.view("vip-add")}
            </div>
            {recharge.preview("vip-add", vip_type_value, Signal::derive(|| None))}
            <div class="actions">
                <button type="submit" data-testid="vip-add-submit" disabled=move || sending.get()>{tr(Text::Create)}</button>
            </div>
            {error_line(error, "vip-add-error")}
        </form>
    }
}
