//! A car park's uploads to P云 (section of its P云 gateway page): every entry and exit sent to
//! `internal/enter` / `leave`, with its state, P云's answer and, for a signature P云 ignored,
//! P云's plaintext in full to diff with ours; and the admin's resend of the ones that ended
//! `misconfigured` or `failed`, which nothing else ever resends.
//!
//! Unlike the gateway's calls, this list moves by itself while it matters: it is read again
//! every few seconds while an upload is still on its way and for a while after a resend, so the
//! admin sees the outcome without reloading.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api::{self, ApiError, CouponRecord, PyunVerdict};
use crate::i18n::{self, Text, fill, tr};
use crate::pages::coupons::{pyun_answer, state_badge};
use crate::pages::{error_line, every, loading, local_time};
use crate::ui::{EmptyState, Table};

/// How many uploads the section lists.
const UPLOADS: u32 = 50;
/// How often the list is read again while it may change.
const POLL: Duration = Duration::from_secs(2);
/// How long after a resend the list keeps being read, even once nothing is in flight: the
/// dispatcher may not have leased the rows yet when the first read comes back.
const AFTER_RESEND_MS: f64 = 20_000.0;

/// The list and the resend, for the car park `park_id`; `reload` is called by the page's own
/// refresh button too.
#[derive(Clone, Copy)]
pub(crate) struct Uploads {
    park_id: i64,
    rows: RwSignal<Option<Vec<CouponRecord>>>,
    error: RwSignal<Option<ApiError>>,
    reading: RwSignal<bool>,
    resending: RwSignal<bool>,
    requeued: RwSignal<Option<u64>>,
    /// `Date.now()` until which the list is polled whatever it shows.
    watch_until: RwSignal<f64>,
}

impl Uploads {
    /// Reads the list and starts polling it, stopped when the page goes away.
    pub(crate) fn new(park_id: i64) -> Uploads {
        let uploads = Uploads {
            park_id,
            rows: RwSignal::new(None),
            error: RwSignal::new(None),
            reading: RwSignal::new(false),
            resending: RwSignal::new(false),
            requeued: RwSignal::new(None),
            watch_until: RwSignal::new(0.0),
        };
        uploads.reload();
        every(POLL, move || uploads.tick());
        uploads
    }

    /// Reads the newest uploads again (once at a time).
    pub(crate) fn reload(self) {
        if self.reading.get_untracked() {
            return;
        }
        self.reading.set(true);
        spawn_local(async move {
            let answer = api::pyun_uploads(self.park_id, UPLOADS).await;
            let _ = self.reading.try_set(false);
            match answer {
                Ok(page) => {
                    let _ = self.error.try_set(None);
                    let _ = self.rows.try_set(Some(page.records));
                }
                Err(e) => {
                    let _ = self.error.try_set(Some(e));
                }
            }
        });
    }

    fn tick(self) {
        let Some(in_flight) = self
            .rows
            .try_with_untracked(|rows| rows.iter().flatten().any(CouponRecord::in_flight))
        else {
            return;
        };
        if in_flight || js_sys::Date::now() < self.watch_until.get_untracked() {
            self.reload();
        }
    }

    fn resend(self) {
        self.resending.set(true);
        self.requeued.set(None);
        spawn_local(async move {
            let answer = api::resend_pyun_uploads(self.park_id).await;
            let _ = self.resending.try_set(false);
            match answer {
                Ok(r) => {
                    let _ = self.requeued.try_set(Some(r.requeued));
                    let _ = self
                        .watch_until
                        .try_set(js_sys::Date::now() + AFTER_RESEND_MS);
                    self.reload();
                }
                Err(e) => {
                    let _ = self.error.try_set(Some(e));
                }
            }
        });
    }
}

/// Whether an admin's resend would put `r` back in line.
fn resendable(r: &CouponRecord) -> bool {
    matches!(r.state.as_str(), "misconfigured" | "failed")
}

/// The section: heading, resend button, the table of uploads.
pub(crate) fn uploads_section(uploads: Uploads) -> impl IntoView {
    let lang = i18n::lang();
    let any_resendable = move || {
        uploads
            .rows
            .with(|rows| rows.iter().flatten().any(resendable))
    };
    // Only whether there is a list decides the shape; the rows themselves are keyed by `For`,
    // so a poll that changes nothing redraws nothing.
    let shape = Memo::new(move |_| uploads.rows.with(|r| r.as_ref().map(Vec::is_empty)));
    view! {
        <section data-testid="pyun-uploads">
            <div class="section-head">
                <h3>{tr(Text::PyunUploads)}</h3>
                <Show when=any_resendable>
                    <button type="button" class="primary" data-testid="pyun-uploads-resend"
                        disabled=move || uploads.resending.get()
                        on:click=move |_| uploads.resend()>{tr(Text::ResendFailedUploads)}</button>
                </Show>
            </div>
            <p class="muted small">{tr(Text::PyunUploadsHint)}</p>
            {move || uploads.requeued.get().map(|n| view! {
                <p class="notice" role="status" data-testid="pyun-uploads-requeued" data-count=n.to_string()>
                    {move || fill(Text::UploadsRequeued.text(lang.get()), &[&n.to_string()])}
                </p>
            })}
            {error_line(uploads.error, "pyun-uploads-error")}
            {move || match shape.get() {
                None => uploads.error.with(Option::is_none).then(loading).into_any(),
                Some(true) => view! {
                    <EmptyState test_id="pyun-uploads-empty" text=Text::NoUploads />
                }
                .into_any(),
                Some(false) => view! {
                    <Table test_id="pyun-uploads-table" columns=vec![
                        Text::At, Text::UploadDirection, Text::Plate, Text::State, Text::Attempts,
                        Text::PyunAnswer,
                    ]>
                        <For each=move || uploads.rows.get().unwrap_or_default()
                            key=|r| (r.id, r.updated_at.clone(), r.state.clone())
                            let(r)>
                            {upload_rows(r)}
                        </For>
                    </Table>
                }
                .into_any(),
            }}
        </section>
    }
}

fn upload_rows(r: CouponRecord) -> impl IntoView {
    let id = r.id;
    let direction = match r.kind.as_str() {
        "pyun_enter" => Some(Text::UploadEnter),
        "pyun_leave" => Some(Text::UploadLeave),
        _ => None,
    };
    let raw_kind = r.kind.clone();
    let lang = i18n::lang();
    // `enter:<session>` / `leave:<session>`: the plate links to the stay it belongs to.
    let session = r
        .key
        .split_once(':')
        .and_then(|(_, s)| s.parse::<i64>().ok());
    let plate = if r.plate.is_empty() {
        "—".to_owned()
    } else {
        r.plate.clone()
    };
    let plate = match session {
        Some(s) => view! { <A href=format!("/sessions/{s}")>{plate}</A> }.into_any(),
        None => plate.into_any(),
    };
    let pyun = r.pyun.clone().unwrap_or_default();
    let misconfigured = r.state == "misconfigured";
    // A signature P云 ignored is explained in words below the row, with P云's plaintext in
    // full; our own note on it would only repeat that in English.
    let sign_hint = pyun.hint.clone().filter(|_| misconfigured);
    let has_hint = sign_hint.is_some();
    let verdict = PyunVerdict {
        code: pyun.code,
        message: pyun.message,
        hint: pyun.hint.filter(|_| !misconfigured),
        note: r.error.clone().filter(|_| !misconfigured),
    };
    view! {
        <tr data-testid=format!("pyun-upload-{id}") data-key=r.key.clone() data-state=r.state.clone()
            class=move || if has_hint { "has-hint" } else { "" }>
            <td data-label=tr(Text::At) class="nowrap" data-testid="upload-at">{local_time(&r.created_at)}</td>
            <td data-label=tr(Text::UploadDirection) data-testid="upload-kind" data-kind=r.kind.clone()>
                {move || direction.map_or_else(|| raw_kind.clone(), |d| d.text(lang.get()).to_owned())}
            </td>
            <td data-label=tr(Text::Plate) data-testid="upload-plate">{plate}</td>
            <td data-label=tr(Text::State)>{state_badge(&r.state, "upload-state")}</td>
            <td data-label=tr(Text::Attempts) data-testid="upload-attempts">{r.attempts}</td>
            <td data-label=tr(Text::PyunAnswer)>
                {pyun_answer(verdict, ["upload-pyun", "upload-pyun-hint", "upload-note"])}
            </td>
        </tr>
        {sign_hint.map(|hint| view! {
            <tr class="upload-hint" data-testid=format!("pyun-upload-hint-{id}")>
                <td colspan="6">
                    <p class="small">{tr(Text::SignHintExplain)}</p>
                    <pre data-testid="upload-sign-hint">{hint}</pre>
                </td>
            </tr>
        })}
    }
}
