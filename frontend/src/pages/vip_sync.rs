//! The P云 sync section of /vip: the incremental backlog for everyone who sees the page, and
//! for admins the full sync (complete=1, which deletes P云's records not held here) behind
//! typing the car park's exact name, with its live progress.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError, JobError, JobProgress, Park, Role, SyncProgress};
use crate::i18n::{self, Text, fill, tr};
use crate::pages::coupons::{badge, pyun_answer};
use crate::pages::layout::session;
use crate::pages::vip_labels::sync_badge;
use crate::pages::{error_line, every, local_time};
use crate::ui::{Field, Table, TextInput};

/// How often progress is read while a full sync runs.
const POLL: Duration = Duration::from_secs(1);
/// Without a running job the counters are read every this many polls.
const IDLE_POLLS: u32 = 5;

/// The sync section for car park `park`.
pub(crate) fn sync_section(parks: Signal<Vec<Park>>, park: Signal<Option<i64>>) -> impl IntoView {
    let progress = RwSignal::new(None::<SyncProgress>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let polls = StoredValue::new(0u32);
    // The timer skips a read while one is on its way; a new car park (`fresh`) never waits.
    let load = move |fresh: bool| {
        let Some(id) = park.get_untracked() else {
            return;
        };
        if busy.get_untracked() && !fresh {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let answer = api::sync_progress(id).await;
            let _ = busy.try_set(false);
            // An answer for a car park no longer chosen is dropped.
            if park.try_get_untracked() != Some(Some(id)) {
                return;
            }
            match answer {
                Ok(p) => {
                    error.set(None);
                    progress.set(Some(p));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    Effect::new(move |_| {
        park.track();
        progress.set(None);
        load(true);
    });
    every(POLL, move || {
        let Some(running) =
            progress.try_with_untracked(|p| p.as_ref().is_some_and(SyncProgress::running))
        else {
            return;
        };
        polls.update_value(|n| *n = n.wrapping_add(1));
        if running || polls.get_value().is_multiple_of(IDLE_POLLS) {
            load(false);
        }
    });
    let lang = i18n::lang();
    let counter = move |key: Text, test_id: &'static str, pick: fn(&api::Incremental) -> u64| {
        view! {
            <span data-testid=test_id>
                {move || {
                    let n = progress.with(|p| p.as_ref().map_or(0, |p| pick(&p.incremental)));
                    fill(key.text(lang.get()), &[&n.to_string()])
                }}
            </span>" "
        }
    };
    let is_admin = session()
        .get_untracked()
        .is_some_and(|u| u.role == Role::Admin);
    view! {
        <section data-testid="vip-sync">
            <h3>{tr(Text::SyncTitle)}</h3>
            <p>
                <strong>{tr(Text::IncrementalTitle)}</strong>": "
                {counter(Text::QueuedRows, "vip-sync-queued", |i| i.queued_rows)}
                {counter(Text::PendingBatches, "vip-sync-pending", |i| i.pending_batches)}
                {counter(Text::ProblemBatches, "vip-sync-problem", |i| i.problem_batches)}
            </p>
            {error_line(error, "vip-sync-load-error")}
            {is_admin.then(|| full_sync_form(parks, park, progress))}
            {move || progress.get().and_then(|p| p.job).map(job_view)}
        </section>
    }
}

/// The admin's start form: the button stays disabled until the exact car park name is typed.
fn full_sync_form(
    parks: Signal<Vec<Park>>,
    park: Signal<Option<i64>>,
    progress: RwSignal<Option<SyncProgress>>,
) -> impl IntoView {
    let lang = i18n::lang();
    let typed = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let park_name = Memo::new(move |_| {
        let id = park.get();
        parks.with(|list| {
            list.iter()
                .find(|p| Some(p.id) == id)
                .map(|p| p.name.clone())
        })
    });
    let matches = move || park_name.with(|n| n.as_deref() == Some(typed.get().as_str()));
    let running = move || progress.with(|p| p.as_ref().is_some_and(SyncProgress::running));
    let start = move |_| {
        let Some(id) = park.get_untracked() else {
            return;
        };
        let name = typed.get_untracked();
        error.set(None);
        sending.set(true);
        spawn_local(async move {
            let answer = api::start_full_sync(id, &name).await;
            let _ = sending.try_set(false);
            match answer {
                Ok(p) => {
                    typed.set(String::new());
                    progress.set(Some(p));
                }
                Err(e) => {
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };
    view! {
        <div class="danger" data-testid="vip-full-sync">
            <h4>{tr(Text::FullSyncTitle)}</h4>
            <p class="warning" data-testid="vip-sync-warning">
                {move || fill(Text::FullSyncWarning.text(lang.get()), &[&park_name.get().unwrap_or_default()])}
            </p>
            <Field label=Text::ConfirmName>
                <TextInput value=typed test_id="vip-sync-confirm-name" {..} autocomplete="off" />
            </Field>
            <div class="actions">
                <button type="button" data-testid="vip-sync-start"
                    disabled=move || !matches() || sending.get() || running()
                    on:click=start>{tr(Text::StartFullSync)}</button>
            </div>
            {error_line(error, "vip-sync-error")}
        </div>
    }
}

/// A full-sync job: state, progress bar, counts, rate and failed batches.
fn job_view(job: JobProgress) -> impl IntoView {
    let lang = i18n::lang();
    let label = match job.state.as_str() {
        "running" => Some(Text::JobRunning),
        "done" => Some(Text::JobDone),
        "failed" => Some(Text::JobFailed),
        _ => None,
    };
    let percent = match (job.rows_total, job.state.as_str()) {
        (0, "running") => 0,
        (0, _) => 100,
        (total, _) => job.rows_done.min(total) * 100 / total,
    };
    let count = move |key: Text, done: u64, total: u64| {
        move || {
            fill(
                key.text(lang.get()),
                &[&done.to_string(), &total.to_string()],
            )
        }
    };
    let rate = format!("{:.1}", job.rows_per_s);
    let by = job.started_by.clone().unwrap_or_default();
    let at = local_time(&job.started_at);
    let errors = job.errors.clone();
    view! {
        <div class="result" data-testid="vip-sync-job" data-state=job.state.clone() data-id=job.id.to_string()>
            <p>
                {badge(&job.state, label, "vip-sync-state")}" "
                <span class="small muted">{move || fill(Text::JobStarted.text(lang.get()), &[&by, &at])}</span>
            </p>
            <progress data-testid="vip-sync-progress" max="100" value=percent.to_string()
                data-percent=percent.to_string()>{format!("{percent}%")}</progress>
            <p>
                <span data-testid="vip-sync-batches">{count(Text::Batches, job.batches_done, job.batches_total)}</span>" · "
                <span data-testid="vip-sync-rows">{count(Text::Rows, job.rows_done, job.rows_total)}</span>" · "
                <span data-testid="vip-sync-rate">{move || fill(Text::RowsPerSecond.text(lang.get()), &[&rate])}</span>
            </p>
            {(!errors.is_empty()).then(|| view! {
                <Table test_id="vip-sync-errors" columns=vec![Text::Batch, Text::State, Text::PyunAnswer]>
                    {errors.into_iter().map(job_error_row).collect_view()}
                </Table>
            })}
        </div>
    }
}

fn job_error_row(e: JobError) -> impl IntoView {
    view! {
        <tr data-testid=format!("vip-sync-error-{}", e.batch_id) data-state=e.state.clone()>
            <td data-label=tr(Text::Batch)>{format!("#{} ({})", e.batch_id, e.seq)}</td>
            <td data-label=tr(Text::State)>{sync_badge(&e.state, "vip-sync-error-state")}</td>
            <td data-label=tr(Text::PyunAnswer)>{pyun_answer(
                e.answer,
                ["vip-sync-error-pyun", "vip-sync-error-hint", "vip-sync-error-note"],
            )}</td>
        </tr>
    }
}
