//! One VIP record at /vip/:id: its fields and validity, its recharges with their P云 sync
//! state (re-read every few seconds while any is still on its way), and the renew (续费) form.

use std::time::Duration;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use protocol::pyun::VipType;

use crate::api::{self, ApiError, RechargeView, VipRecordDetail, VipRecordView};
use crate::i18n::{Text, tr};
use crate::pages::coupons::pyun_answer;
use crate::pages::layout::guarded;
use crate::pages::vip_forms::RechargeFields;
use crate::pages::vip_labels::{
    label_text, pay_type_name, period_text, plate_color_name, sync_badge, validity_badge,
    vip_type_name,
};
use crate::pages::{error_line, every, loading, local_time};
use crate::ui::{PageHeader, Table};
use protocol::vip::format_yuan;

/// How often a record with recharges still on their way is read again.
const REFRESH: Duration = Duration::from_secs(3);

/// The VIP record page.
#[component]
pub fn VipRecordPage() -> impl IntoView {
    guarded("vip-record", record_page)
}

fn record_page() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok())));
    let detail = RwSignal::new(None::<VipRecordDetail>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let load = move || {
        let Some(rid) = id.get_untracked() else {
            error.set(Some(ApiError::Invalid {
                what: Text::NotFoundError,
                detail: String::new(),
            }));
            return;
        };
        busy.set(true);
        spawn_local(async move {
            let answer = api::vip_record(rid).await;
            let _ = busy.try_set(false);
            if id.try_get_untracked() != Some(Some(rid)) {
                return;
            }
            match answer {
                Ok(d) => {
                    error.set(None);
                    detail.set(Some(d));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    Effect::new(move |_| {
        id.track();
        detail.set(None);
        load();
    });
    every(REFRESH, move || {
        let in_flight = detail.try_with_untracked(|d| {
            d.as_ref()
                .is_some_and(|d| d.recharges.iter().any(|r| r.sync.in_flight()))
        });
        if in_flight == Some(true) && !busy.get_untracked() {
            load();
        }
    });
    // A memo, so the renew form is built once and keeps what is typed across refreshes.
    let loaded = Memo::new(move |_| detail.with(Option::is_some));
    let back = move || {
        detail.with(|d| match d {
            Some(d) => format!("/vip?park={}", d.record.park_id),
            None => "/vip".to_owned(),
        })
    };
    let plate = Signal::derive(move || {
        detail.with(|d| {
            d.as_ref()
                .map(|d| d.record.plate.clone())
                .unwrap_or_default()
        })
    });
    view! {
        <section>
            <PageHeader title=Text::VipTitle detail=plate test_id="vip-detail-title">
                <A href=move || back() {..} data-testid="vip-back">{tr(Text::VipBack)}</A>
            </PageHeader>
            {error_line(error, "vip-detail-error")}
            {move || (detail.with(Option::is_none) && busy.get()).then(loading)}
            {move || detail.get().map(|d| record_fields(d.record))}
        </section>
        {move || loaded.get().then(|| renew_form(detail))}
        <section>
            <h3>{tr(Text::RechargesTitle)}</h3>
            <Table test_id="vip-recharges" columns=vec![
                Text::PayPartner, Text::Period, Text::VipQuantity, Text::AmountYuan, Text::PayType,
                Text::PayTime, Text::Operator, Text::Source, Text::SyncState, Text::PyunAnswer,
                Text::Seqno,
            ]>
                <For each=move || detail.with(|d| d.as_ref().map(|d| d.recharges.clone()).unwrap_or_default())
                    key=|r| (r.id, r.sync.state.clone(), r.sync.attempts, r.sync.updated_at.clone())
                    let(r)>
                    {recharge_row(r)}
                </For>
            </Table>
        </section>
    }
}

fn record_fields(r: VipRecordView) -> impl IntoView {
    let field = |label: Text, test_id: &'static str, value: String| {
        view! { <dt>{tr(label)}</dt><dd data-testid=test_id>{value}</dd> }
    };
    view! {
        <dl class="detail-list" data-testid="vip-detail" data-id=r.id.to_string() data-sync=r.sync.clone()
            data-valid=r.valid_now.to_string()>
            <dt>{tr(Text::Plate)}</dt><dd data-testid="vip-detail-plate">{r.plate.clone()}</dd>
            <dt>{tr(Text::PlateColor)}</dt><dd data-testid="vip-detail-color">{plate_color_name(r.plate_color)}</dd>
            <dt>{tr(Text::VipType)}</dt><dd data-testid="vip-detail-type">{vip_type_name(r.vip_type)}</dd>
            {field(Text::ChargeType, "vip-detail-charge-type", r.charge_type.clone())}
            {field(Text::CardNo, "vip-detail-card-no", r.card_no.clone().unwrap_or_default())}
            {field(Text::CardId, "vip-detail-card-id", r.card_id.clone().unwrap_or_default())}
            {field(Text::Period, "vip-detail-period", period_text(r.valid_from.as_deref(), r.valid_to.as_deref()))}
            <dt>{tr(Text::Validity)}</dt><dd>{validity_badge(r.valid_now, "vip-detail-validity")}</dd>
            {field(Text::RechargeCount, "vip-detail-recharges", r.recharge_count.to_string())}
            <dt>{tr(Text::SyncState)}</dt><dd>{sync_badge(&r.sync, "vip-detail-sync")}</dd>
        </dl>
    }
}

fn source_label(source: &str) -> Option<Text> {
    match source {
        "ui" => Some(Text::SourceUi),
        "import" => Some(Text::SourceImport),
        "api" => Some(Text::SourceApi),
        _ => None,
    }
}

fn recharge_row(r: RechargeView) -> impl IntoView {
    let s = r.sync.clone();
    view! {
        <tr data-testid=format!("vip-recharge-{}", r.id) data-state=s.state.clone()>
            <td data-label=tr(Text::PayPartner)><code data-testid="vip-recharge-pay-partner">{r.pay_partner.clone().unwrap_or_default()}</code></td>
            <td data-label=tr(Text::Period) class="small" data-testid="vip-recharge-period">{period_text(r.renewal_start.as_deref(), r.renewal_end.as_deref())}</td>
            <td data-label=tr(Text::VipQuantity) data-testid="vip-recharge-quantity" title=r.value.clone().unwrap_or_default()>{r.quantity}</td>
            <td data-label=tr(Text::AmountYuan) data-testid="vip-recharge-amount">{format_yuan(r.pay_value_fen)}</td>
            <td data-label=tr(Text::PayType) data-testid="vip-recharge-pay-type">{pay_type_name(r.pay_type)}</td>
            <td data-label=tr(Text::PayTime) class="small" data-testid="vip-recharge-pay-time">{local_time(&r.pay_time)}</td>
            <td data-label=tr(Text::Operator) data-testid="vip-recharge-operator">{r.operator.clone().unwrap_or_default()}</td>
            <td data-label=tr(Text::Source) data-testid="vip-recharge-source">{label_text(source_label(&r.source), r.source.clone())}</td>
            <td data-label=tr(Text::SyncState) title=format!("{} · {}", s.attempts, s.updated_at.as_deref().map(local_time).unwrap_or_default())>
                {sync_badge(&s.state, "vip-recharge-state")}
            </td>
            <td data-label=tr(Text::PyunAnswer)>{pyun_answer(
                s.answer,
                ["vip-recharge-pyun", "vip-recharge-hint", "vip-recharge-note"],
            )}</td>
            <td data-label=tr(Text::Seqno)><code data-testid="vip-recharge-seqno">{s.seqno.unwrap_or_default()}</code></td>
        </tr>
    }
}

/// 续费: a new recharge, previewing the period from the record's current end.
fn renew_form(detail: RwSignal<Option<VipRecordDetail>>) -> impl IntoView {
    let fields = RechargeFields::new();
    let sending = RwSignal::new(false);
    let done = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let vip_type = Signal::derive(move || {
        detail.with(|d| {
            d.as_ref()
                .and_then(|d| VipType::from_code(d.record.vip_type.into()))
        })
    });
    let current_end = Signal::derive(move || {
        detail.with(|d| {
            d.as_ref()
                .and_then(|d| d.record.valid_to.as_deref())
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
        })
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        done.set(false);
        let (Some(rid), Some(t)) = (
            detail.with_untracked(|d| d.as_ref().map(|d| d.record.id)),
            vip_type.get_untracked(),
        ) else {
            return;
        };
        let input = match fields.read(t, current_end.get_untracked()) {
            Ok(input) => input,
            Err(e) => return error.set(Some(e)),
        };
        sending.set(true);
        spawn_local(async move {
            let answer = api::add_recharge(rid, &input).await;
            let _ = sending.try_set(false);
            match answer {
                Ok(d) => {
                    let _ = detail.try_set(Some(d));
                    fields.reset();
                    done.set(true);
                }
                Err(e) => {
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };
    view! {
        <section>
            <form data-testid="vip-renew-form" on:submit=submit>
                <h3>{tr(Text::RenewTitle)}</h3>
                <div class="fields">{fields.view("vip-renew")}</div>
                {fields.preview("vip-renew", vip_type, current_end)}
                <div class="actions">
                    <button type="submit" data-testid="vip-renew-submit" disabled=move || sending.get()>{tr(Text::Renew)}</button>
                </div>
                {error_line(error, "vip-renew-error")}
                {move || done.get().then(|| view! { <p class="ok" data-testid="vip-renew-done">{tr(Text::Renewed)}</p> })}
            </form>
        </section>
    }
}
