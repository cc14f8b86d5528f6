//! The coupon records list: filters, older pages on demand, a 5-second refresh while anything
//! shown is still pending or sending, and settling records whose outcome is unknown.
//!
//! A refresh reads the newest page again and merges it by id, so pages loaded with "more"
//! stay put; a generation number drops answers to a filter that has since been replaced.

use std::collections::HashSet;
use std::time::Duration;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::plate::Plate;

use crate::api::{self, ApiError, CouponRecord, CouponRecordPage, Park, RecordFilter};
use crate::format::shanghai_day_start;
use crate::i18n::{self, Text, fill, tr};
use crate::pages::coupons::{STATES, answer_view, applied_view, state_badge};
use crate::pages::{error_line, every, loading, local_time};
use crate::ui::{DateInput, EmptyState, Field, Table, TextInput, ToastKind, toast};

/// How often in-flight records are looked at again.
const REFRESH: Duration = Duration::from_secs(5);

/// The list's state, shared by the page, the grant form and the refresh timer.
#[derive(Clone, Copy)]
pub(crate) struct Records {
    rows: RwSignal<Vec<CouponRecord>>,
    next_before: RwSignal<Option<i64>>,
    filter: RwSignal<RecordFilter>,
    generation: RwSignal<u64>,
    loading: RwSignal<bool>,
    refreshing: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
    /// The last grant's record, kept current from the list and, if filtered out, on its own.
    watched: RwSignal<Option<CouponRecord>>,
    /// The unknown record being settled.
    reconciling: RwSignal<Option<CouponRecord>>,
}

impl Records {
    /// Loads the first page and starts the refresh timer, stopped when the page goes away.
    pub(crate) fn new(watched: RwSignal<Option<CouponRecord>>) -> Records {
        let records = Records {
            rows: RwSignal::new(Vec::new()),
            next_before: RwSignal::new(None),
            filter: RwSignal::new(RecordFilter::default()),
            generation: RwSignal::new(0),
            loading: RwSignal::new(false),
            refreshing: RwSignal::new(false),
            error: RwSignal::new(None),
            watched,
            reconciling: RwSignal::new(None),
        };
        records.reload();
        every(REFRESH, move || records.tick());
        records
    }

    /// Whether an answer started at `generation` still belongs to the list shown.
    fn current(self, generation: u64) -> bool {
        self.generation.try_get_untracked() == Some(generation)
    }

    /// Replaces the list with the first page for the current filter.
    fn reload(self) {
        let generation = self.generation.get_untracked() + 1;
        self.generation.set(generation);
        self.rows.set(Vec::new());
        self.next_before.set(None);
        self.error.set(None);
        self.loading.set(true);
        let filter = self.filter.get_untracked();
        spawn_local(async move {
            let page = api::coupon_records(&filter, None).await;
            if self.current(generation) {
                self.loading.set(false);
                match page {
                    Ok(page) => {
                        self.next_before.set(page.next_before_id);
                        self.rows.set(page.records);
                        self.follow_watched();
                    }
                    Err(e) => self.error.set(Some(e)),
                }
            }
        });
    }

    /// Appends the next older page.
    fn more(self) {
        let Some(before) = self.next_before.get_untracked() else {
            return;
        };
        let generation = self.generation.get_untracked();
        self.loading.set(true);
        let filter = self.filter.get_untracked();
        spawn_local(async move {
            let page = api::coupon_records(&filter, Some(before)).await;
            if self.current(generation) {
                self.loading.set(false);
                match page {
                    Ok(page) => {
                        self.next_before.set(page.next_before_id);
                        self.rows.update(|rows| {
                            let known: HashSet<i64> = rows.iter().map(|r| r.id).collect();
                            rows.extend(
                                page.records.into_iter().filter(|r| !known.contains(&r.id)),
                            );
                        });
                    }
                    Err(e) => self.error.set(Some(e)),
                }
            }
        });
    }

    /// Reads the newest page again and merges it: known ids are updated, newer ones prepended.
    pub(crate) fn refresh(self) {
        let Some(generation) = self.generation.try_get_untracked() else {
            return;
        };
        self.refreshing.set(true);
        let filter = self.filter.get_untracked();
        spawn_local(async move {
            let page = api::coupon_records(&filter, None).await;
            let _ = self.refreshing.try_set(false);
            if self.current(generation) {
                match page {
                    Ok(page) => self.merge(page),
                    Err(e) => self.error.set(Some(e)),
                }
            }
        });
    }

    fn merge(self, page: CouponRecordPage) {
        let was_empty = self.rows.with_untracked(Vec::is_empty);
        self.rows.update(|rows| {
            let newest = rows.first().map(|r| r.id);
            let mut fresh = Vec::new();
            for record in page.records {
                if let Some(row) = rows.iter_mut().find(|r| r.id == record.id) {
                    *row = record;
                } else if newest.is_none_or(|n| record.id > n) {
                    fresh.push(record);
                }
            }
            rows.splice(0..0, fresh);
        });
        if was_empty {
            self.next_before.set(page.next_before_id);
        }
        self.follow_watched();
    }

    /// Puts a record changed elsewhere (a reconciliation) in its place.
    fn replace(self, record: CouponRecord) {
        self.rows.update(|rows| {
            if let Some(row) = rows.iter_mut().find(|r| r.id == record.id) {
                *row = record;
            }
        });
        self.follow_watched();
    }

    /// Copies the list's newer version of the watched record into it.
    fn follow_watched(self) {
        let Some(Some(watched)) = self.watched.try_get_untracked() else {
            return;
        };
        let newer = self
            .rows
            .with_untracked(|rows| rows.iter().find(|r| r.id == watched.id).cloned());
        if let Some(newer) = newer.filter(|n| *n != watched) {
            self.watched.set(Some(newer));
        }
    }

    /// The timer: refresh while anything shown is in flight; a watched grant outside the
    /// current filter is looked up by its car park and plate.
    fn tick(self) {
        let Some(busy) = self
            .rows
            .try_with_untracked(|rows| rows.iter().any(CouponRecord::in_flight))
        else {
            return;
        };
        if busy && !self.refreshing.get_untracked() && !self.loading.get_untracked() {
            self.refresh();
        }
        let watched = self.watched.get_untracked().filter(CouponRecord::in_flight);
        let Some(watched) = watched else {
            return;
        };
        if self
            .rows
            .with_untracked(|rows| rows.iter().any(|r| r.id == watched.id))
        {
            return;
        }
        let filter = RecordFilter {
            park_id: Some(watched.park_id),
            plate: watched.plate.clone(),
            ..RecordFilter::default()
        };
        spawn_local(async move {
            if let Ok(page) = api::coupon_records(&filter, None).await
                && let Some(newer) = page.records.into_iter().find(|r| r.id == watched.id)
            {
                let _ = self.watched.try_set(Some(newer));
            }
        });
    }
}

/// The filters, the table and its paging.
pub(crate) fn records_section(parks: Signal<Vec<Park>>, records: Records) -> impl IntoView {
    let reconciling = records.reconciling;
    view! {
        <section>
            <h3>{tr(Text::RecordsTitle)}</h3>
            {filters(parks, records)}
            {move || reconciling.get().map(|r| reconcile_form(r, records))}
            <Table test_id="coupon-records" columns=vec![
                Text::At, Text::Park, Text::KindColumn, Text::Plate, Text::Summary, Text::State,
                Text::PyunAnswer, Text::Seqno, Text::GrantSerial, Text::Attempts, Text::RequestedBy,
                Text::Actions,
            ]>
                <For each=move || records.rows.get()
                    key=|r| (r.id, r.updated_at.clone(), r.state.clone(), r.reconciliation.is_some(), r.applied.clone())
                    let(r)>
                    {record_row(r, reconciling)}
                </For>
            </Table>
            {error_line(records.error, "coupon-records-error")}
            {move || {
                if records.loading.get() {
                    loading().into_any()
                } else if records.next_before.with(Option::is_some) {
                    view! {
                        <button data-testid="coupon-records-more" on:click=move |_| records.more()>{tr(Text::More)}</button>
                    }.into_any()
                } else if records.rows.with(Vec::is_empty) {
                    view! { <EmptyState test_id="coupon-records-empty" /> }.into_any()
                } else {
                    view! { <p class="muted" data-testid="coupon-records-end">{tr(Text::NoMore)}</p> }.into_any()
                }
            }}
        </section>
    }
}

fn record_row(r: CouponRecord, reconciling: RwSignal<Option<CouponRecord>>) -> impl IntoView {
    let lang = i18n::lang();
    let pyun = r.pyun.clone().unwrap_or_default();
    let kind = match r.kind.as_str() {
        "event" => Some(Text::KindEvent),
        "grant" => Some(Text::KindGrant),
        _ => None,
    };
    let raw_kind = r.kind.clone();
    let next = r
        .next_attempt_at
        .as_deref()
        .filter(|_| r.in_flight())
        .map(local_time);
    let settle = (r.state == "unknown" && r.reconciliation.is_none()).then(|| {
        let record = r.clone();
        view! {
            <button data-testid=format!("reconcile-{}", r.id) on:click=move |_| reconciling.set(Some(record.clone()))>
                {tr(Text::MarkReconciled)}
            </button>
        }
    });
    let settled = r.reconciliation.clone().map(|c| {
        let resolution = match c.resolution.as_str() {
            "delivered" => Some(Text::ResolvedDelivered),
            "not_delivered" => Some(Text::ResolvedNotDelivered),
            _ => None,
        };
        let raw = c.resolution.clone();
        let at = local_time(&c.at);
        let by = c.by.clone();
        view! {
            <span class="small" data-testid=format!("reconciled-{}", r.id) title=c.note>
                {move || {
                    let what = resolution.map(|t| t.text(lang.get()).to_owned()).unwrap_or_else(|| raw.clone());
                    fill(Text::ReconciledBy.text(lang.get()), &[&what, &by, &at])
                }}
            </span>
        }
    });
    view! {
        <tr data-testid=format!("coupon-record-{}", r.id) data-state=r.state.clone()>
            <td data-label=tr(Text::At) class="small" title=r.finished_at.as_deref().map(local_time).unwrap_or_default()>{local_time(&r.created_at)}</td>
            <td data-label=tr(Text::Park)>{r.park_code.clone()}</td>
            <td data-label=tr(Text::KindColumn) title=r.key.clone()>{move || kind.map(|k| k.text(lang.get()).to_owned()).unwrap_or_else(|| raw_kind.clone())}</td>
            <td data-label=tr(Text::Plate) data-testid="coupon-record-plate">{r.plate.clone()}</td>
            <td data-label=tr(Text::Summary)>{r.summary.clone()}</td>
            <td data-label=tr(Text::State)>
                {state_badge(&r.state, "coupon-record-state")}
                {next.map(|t| view! {
                    <br /><span class="small muted">{move || fill(Text::NextAttempt.text(lang.get()), &[&t])}</span>
                })}
                {applied_view(&r)}
            </td>
            <td data-label=tr(Text::PyunAnswer)>{answer_view(&r)}</td>
            <td data-label=tr(Text::Seqno)><code>{pyun.seqno.unwrap_or_default()}</code></td>
            <td data-label=tr(Text::GrantSerial)><code>{pyun.grant_serial.unwrap_or_default()}</code></td>
            <td data-label=tr(Text::Attempts)>{r.attempts}</td>
            <td data-label=tr(Text::RequestedBy)>{r.requested_by.clone()}</td>
            <td data-label=tr(Text::Actions)>{settle}{settled}</td>
        </tr>
    }
}

fn filters(parks: Signal<Vec<Park>>, records: Records) -> impl IntoView {
    let park = RwSignal::new(String::new());
    let plate = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    // An empty date is no bound; the end date is inclusive, so `to` is the next day's start.
    let bound = move |date: RwSignal<String>, days: u64| -> Result<String, ApiError> {
        let text = date.get_untracked();
        if text.trim().is_empty() {
            return Ok(String::new());
        }
        shanghai_day_start(&text, days).map_err(|what| ApiError::Invalid {
            what,
            detail: text.clone(),
        })
    };
    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let (from, to) = match (bound(from, 0), bound(to, 1)) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(e), _) | (_, Err(e)) => {
                error.set(Some(e));
                return;
            }
        };
        // A whole plate is normalised as the server stores it; anything else goes as typed.
        let typed = plate.get_untracked().trim().to_owned();
        let plate = Plate::parse(&typed)
            .map(Plate::into_string)
            .unwrap_or(typed);
        records.filter.set(RecordFilter {
            park_id: park.get_untracked().parse().ok(),
            plate,
            state: state.get_untracked(),
            from,
            to,
        });
        records.reload();
    };
    view! {
        <form class="filters" data-testid="coupon-filters" on:submit=apply>
            <Field label=Text::Park>
                <select data-testid="coupon-filter-park" on:change=move |ev| park.set(event_target_value(&ev))>
                    <option value="">{tr(Text::AllParks)}</option>
                    {move || parks.get().into_iter().map(|p| view! {
                        <option value=p.id.to_string()>{format!("{} {}", p.code, p.name)}</option>
                    }).collect_view()}
                </select>
            </Field>
            <Field label=Text::Plate><TextInput value=plate test_id="coupon-filter-plate" /></Field>
            <Field label=Text::State>
                <select data-testid="coupon-filter-state" on:change=move |ev| state.set(event_target_value(&ev))>
                    <option value="">{tr(Text::AllStates)}</option>
                    {STATES.into_iter().map(|(code, label)| view! {
                        <option value=code>{tr(label)}</option>
                    }).collect_view()}
                </select>
            </Field>
            <Field label=Text::DateFrom><DateInput value=from test_id="coupon-filter-from" /></Field>
            <Field label=Text::DateTo><DateInput value=to test_id="coupon-filter-to" /></Field>
            <div class="field">
                <button type="submit" data-testid="coupon-filter-apply">{tr(Text::Filter)}</button>
            </div>
        </form>
        {error_line(error, "coupon-filter-error")}
    }
}

/// Settles an unknown record: did the coupon arrive (checked in P云's console) or not.
fn reconcile_form(record: CouponRecord, records: Records) -> impl IntoView {
    let lang = i18n::lang();
    let resolution = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let id = record.id;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let chosen = resolution.get_untracked();
        if chosen.is_empty() {
            error.set(Some(ApiError::Invalid {
                what: Text::ResolutionRequired,
                detail: String::new(),
            }));
            return;
        }
        let text = note.get_untracked().trim().to_owned();
        spawn_local(async move {
            match api::reconcile_coupon(id, &chosen, &text).await {
                Ok(updated) => {
                    records.reconciling.set(None);
                    records.replace(updated);
                    toast(ToastKind::Saved, "reconcile-saved");
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let choice = move |value: &'static str, label: Text, test_id: &'static str| {
        view! {
            <label class="check">
                <input type="radio" name="reconcile-resolution" value=value data-testid=test_id
                    prop:checked=move || resolution.get() == value
                    on:change=move |_| resolution.set(value.to_owned()) />
                {tr(label)}
            </label>
        }
    };
    let plate = record.plate.clone();
    view! {
        <form class="reconcile" data-testid="reconcile-form" on:submit=submit>
            <h4>{move || fill(Text::ReconcileTitle.text(lang.get()), &[&id.to_string(), &plate])}</h4>
            <p class="muted">{tr(Text::ReconcileHint)}</p>
            <label>{tr(Text::Resolution)}</label>
            <div class="checks">
                {choice("delivered", Text::ResolvedDelivered, "reconcile-delivered")}
                {choice("not_delivered", Text::ResolvedNotDelivered, "reconcile-not-delivered")}
            </div>
            <Field label=Text::Note><TextInput value=note test_id="reconcile-note" /></Field>
            <div class="actions">
                <button type="submit" data-testid="reconcile-submit">{tr(Text::Confirm)}</button>
                <button type="button" data-testid="reconcile-cancel" on:click=move |_| records.reconciling.set(None)>{tr(Text::Cancel)}</button>
            </div>
            {error_line(error, "reconcile-error")}
        </form>
    }
}
