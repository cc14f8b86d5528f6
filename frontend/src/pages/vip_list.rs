//! The 固定车 (VIP) page at /vip: car park choice, the records list with search, filters and
//! paging, the add form, import/export links, and the P云 sync section.
//!
//! The list re-reads the shown page every few seconds while any row is still queued or
//! pending with P云; a generation number drops answers to a filter since replaced.

use std::time::Duration;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api::{self, ApiError, PAGE_SIZE, VipFilter, VipRecordPage, VipRecordView};
use crate::i18n::{Text, tr};
use crate::pages::layout::guarded;
use crate::pages::vip_add::add_form;
use crate::pages::vip_labels::{
    RECORD_SYNC, VIP_TYPES, chosen_park, park_select, period_text, plate_color_name, sync_badge,
    validity_badge, vip_type_name,
};
use crate::pages::vip_sync::sync_section;
use crate::pages::{error_line, every, loading};
use crate::ui::{EmptyState, Field, PageHeader, Pager, Table, TextInput};

/// How often a page with queued or pending rows is read again.
const REFRESH: Duration = Duration::from_secs(3);

/// The VIP page.
#[component]
pub fn VipPage() -> impl IntoView {
    guarded("vip", vip_page)
}

/// The list's state, shared by the filters, the table, the pager and the refresh timer.
#[derive(Clone, Copy)]
struct VipList {
    park: Signal<Option<i64>>,
    filter: RwSignal<VipFilter>,
    page: RwSignal<Option<VipRecordPage>>,
    generation: RwSignal<u64>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
}

impl VipList {
    /// Loads whenever the car park or the filter changes; refreshes on a timer while needed.
    fn new(park: Signal<Option<i64>>) -> VipList {
        let list = VipList {
            park,
            filter: RwSignal::new(VipFilter::default()),
            page: RwSignal::new(None),
            generation: RwSignal::new(0),
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
        };
        Effect::new(move |_| {
            park.track();
            list.filter.track();
            list.page.set(None);
            list.load();
        });
        every(REFRESH, move || list.tick());
        list
    }

    /// Reads the current page; an answer to an older request is dropped.
    fn load(self) {
        let Some(park_id) = self.park.get_untracked() else {
            return;
        };
        let generation = self.generation.get_untracked() + 1;
        self.generation.set(generation);
        self.busy.set(true);
        let filter = self.filter.get_untracked();
        spawn_local(async move {
            let page = api::vip_records(park_id, &filter).await;
            if self.generation.try_get_untracked() != Some(generation) {
                return;
            }
            self.busy.set(false);
            match page {
                Ok(page) => {
                    self.error.set(None);
                    self.page.set(Some(page));
                }
                Err(e) => self.error.set(Some(e)),
            }
        });
    }

    fn tick(self) {
        let Some(in_flight) = self.page.try_with_untracked(|p| {
            p.as_ref()
                .is_some_and(|p| p.records.iter().any(VipRecordView::in_flight))
        }) else {
            return;
        };
        if in_flight && !self.busy.get_untracked() {
            self.load();
        }
    }

    /// Moves to the page starting at `offset`.
    fn go(self, offset: u64) {
        self.filter.update(|f| f.offset = offset);
    }
}

fn vip_page() -> impl IntoView {
    let parks = LocalResource::new(api::parks);
    let park_list = Signal::derive(move || parks.get().and_then(Result::ok).unwrap_or_default());
    let park = chosen_park(park_list);
    let park_signal = Signal::from(park);
    let adding = RwSignal::new(false);
    let list = VipList::new(park_signal);
    let link = move |which: &'static str, gbk: bool, label: Text, test_id: &'static str| {
        move || {
            park.get().map(|id| view! {
                <a href=api::export_url(id, which, gbk) download="" data-testid=test_id>{tr(label)}</a>
            })
        }
    };
    view! {
        <section>
            <PageHeader title=Text::VipTitle>
                <button type="button" data-testid="vip-add-toggle" on:click=move |_| adding.update(|a| *a = !*a)>
                    {tr(Text::VipAddToggle)}
                </button>
                <A href=move || format!("/vip/import?park={}", park.get().unwrap_or_default()) {..} data-testid="vip-import-link">
                    {tr(Text::VipImportLink)}
                </A>
            </PageHeader>
            {move || parks.get().and_then(Result::err).map(|e| error_line(RwSignal::new(Some(e)), "vip-parks-error"))}
            <div class="filters">{park_select(park_list, park, "vip-park")}</div>
            <div class="actions vip-exports">
                {link("records", false, Text::ExportRecords, "vip-export-records")}
                {link("records", true, Text::ExportRecordsGbk, "vip-export-records-gbk")}
                {link("recharges", false, Text::ExportRecharges, "vip-export-recharges")}
                {link("recharges", true, Text::ExportRechargesGbk, "vip-export-recharges-gbk")}
            </div>
            {move || adding.get().then(|| add_form(park_signal))}
        </section>
        {records_section(list)}
        {sync_section(park_list, park_signal)}
    }
}

fn records_section(list: VipList) -> impl IntoView {
    let rows = move || {
        list.page
            .with(|p| p.as_ref().map(|p| p.records.clone()).unwrap_or_default())
    };
    let total = move || list.page.with(|p| p.as_ref().map_or(0, |p| p.total));
    let offset = move || list.filter.with(|f| f.offset);
    let shown = move || {
        list.page
            .with(|p| p.as_ref().map_or(0, |p| p.records.len() as u64))
    };
    view! {
        <section>
            {filters(list)}
            <Table test_id="vip-records" columns=vec![
                Text::Plate, Text::PlateColor, Text::VipType, Text::ChargeType, Text::Period,
                Text::Validity, Text::RechargeCount, Text::SyncState,
            ]>
                <For each=rows key=|r| (r.id, r.updated_at.clone(), r.sync.clone(), r.valid_now) let(r)>
                    {record_row(r)}
                </For>
            </Table>
            {error_line(list.error, "vip-records-error")}
            {move || (list.page.with(Option::is_none) && list.busy.get()).then(loading)}
            {move || (list.page.with(|p| p.as_ref().is_some_and(|p| p.records.is_empty()))).then(|| view! {
                <EmptyState test_id="vip-records-empty" />
            })}
            // Braced: a bare `>` or `<` in an attribute closure would end the tag (rstml).
            <Pager prefix="vip" offset=offset shown=shown total={move || Some(total())}
                has_prev={move || offset() > 0}
                has_next={move || offset() + shown() < total()}
                on_prev=move || list.go(offset().saturating_sub(PAGE_SIZE))
                on_next=move || list.go(offset() + PAGE_SIZE) hide_idle_buttons=true />
        </section>
    }
}

fn record_row(r: VipRecordView) -> impl IntoView {
    view! {
        <tr data-testid=format!("vip-record-{}", r.id) data-sync=r.sync.clone() data-valid=r.valid_now.to_string()>
            <td data-label=tr(Text::Plate)><A href=format!("/vip/{}", r.id) {..} data-testid="vip-record-plate">{r.plate.clone()}</A></td>
            <td data-label=tr(Text::PlateColor) data-testid="vip-record-color">{plate_color_name(r.plate_color)}</td>
            <td data-label=tr(Text::VipType) data-testid="vip-record-type">{vip_type_name(r.vip_type)}</td>
            <td data-label=tr(Text::ChargeType) data-testid="vip-record-charge-type">{r.charge_type.clone()}</td>
            <td data-label=tr(Text::Period) class="small" data-testid="vip-record-period">{period_text(r.valid_from.as_deref(), r.valid_to.as_deref())}</td>
            <td data-label=tr(Text::Validity)>{validity_badge(r.valid_now, "vip-record-validity")}</td>
            <td data-label=tr(Text::RechargeCount) data-testid="vip-record-recharges">{r.recharge_count}</td>
            <td data-label=tr(Text::SyncState)>{sync_badge(&r.sync, "vip-record-sync")}</td>
        </tr>
    }
}

fn filters(list: VipList) -> impl IntoView {
    let plate = RwSignal::new(String::new());
    let vip_type = RwSignal::new(String::new());
    let validity = RwSignal::new(String::new());
    let sync = RwSignal::new(String::new());
    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        list.filter.set(VipFilter {
            plate: plate.get_untracked().trim().to_owned(),
            vip_type: vip_type.get_untracked(),
            validity: validity.get_untracked(),
            sync: sync.get_untracked(),
            offset: 0,
        });
    };
    let choose = |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));
    view! {
        <form class="filters" data-testid="vip-filters" on:submit=apply>
            <Field label=Text::PlateSearch><TextInput value=plate test_id="vip-filter-plate" /></Field>
            <Field label=Text::VipType>
                <select data-testid="vip-filter-type" on:change=choose(vip_type)>
                    <option value="">{tr(Text::AllTypes)}</option>
                    {VIP_TYPES.into_iter().map(|(code, label)| view! {
                        <option value=code.to_string()>{tr(label)}</option>
                    }).collect_view()}
                </select>
            </Field>
            <Field label=Text::Validity>
                <select data-testid="vip-filter-validity" on:change=choose(validity)>
                    <option value="">{tr(Text::AllValidity)}</option>
                    <option value="valid">{tr(Text::ValidNow)}</option>
                    <option value="expired">{tr(Text::Expired)}</option>
                </select>
            </Field>
            <Field label=Text::SyncState>
                <select data-testid="vip-filter-sync" on:change=choose(sync)>
                    <option value="">{tr(Text::AllStates)}</option>
                    {RECORD_SYNC.into_iter().map(|(code, label)| view! {
                        <option value=code>{tr(label)}</option>
                    }).collect_view()}
                </select>
            </Field>
            <div class="field">
                <button type="submit" data-testid="vip-filter-apply">{tr(Text::Filter)}</button>
            </div>
        </form>
    }
}
