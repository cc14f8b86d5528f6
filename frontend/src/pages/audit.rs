//! The audit log (admin): newest first, older entries on demand.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError, AuditEntry};
use crate::i18n::{Text, tr};
use crate::pages::layout::guarded;
use crate::pages::{error_line, local_time};
use crate::ui::{EmptyState, PageHeader, Table};

const PAGE: u32 = 50;

/// The audit log page.
#[component]
pub fn AuditPage() -> impl IntoView {
    guarded("audit", audit_page)
}

fn audit_page() -> impl IntoView {
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let error = RwSignal::new(None::<ApiError>);
    // Whether an older page may exist; `None` while the first page loads.
    let more = RwSignal::new(None::<bool>);
    let load = move || {
        let before = entries.with_untracked(|e| e.last().map(|x| x.id));
        spawn_local(async move {
            match api::audit(PAGE, before).await {
                Ok(page) => {
                    more.set(Some(page.len() as u32 >= PAGE));
                    entries.update(|e| e.extend(page));
                }
                Err(e) => {
                    more.set(Some(false));
                    error.set(Some(e));
                }
            }
        });
    };
    load();
    view! {
        <section>
            <PageHeader title=Text::AuditTitle />
            // Older pages are appended by "更多", so rows are keyed rather than paged here.
            <Table test_id="audit-table" columns=vec![Text::At, Text::Actor, Text::Action, Text::Target, Text::Detail]>
                <For each=move || entries.get() key=|e| e.id let(e)>
                    <tr data-testid="audit-row">
                        <td data-label=tr(Text::At) class="nowrap">{local_time(&e.at)}</td>
                        <td data-label=tr(Text::Actor)>{e.actor.clone()}</td>
                        <td data-label=tr(Text::Action) data-testid="audit-action">{e.action.clone()}</td>
                        <td data-label=tr(Text::Target)>{e.target.clone()}</td>
                        <td data-label=tr(Text::Detail)><code class="small">{e.detail.to_string()}</code></td>
                    </tr>
                </For>
            </Table>
            {move || (more.get() == Some(false) && entries.with(Vec::is_empty)).then(|| view! {
                <EmptyState test_id="audit-empty" />
            })}
            {error_line(error, "audit-error")}
            {move || match more.get() {
                None => crate::pages::loading().into_any(),
                Some(true) => view! {
                    <button data-testid="audit-more" on:click=move |_| { more.set(None); load(); }>{tr(Text::More)}</button>
                }.into_any(),
                Some(false) => view! { <p class="muted small" data-testid="audit-end">{tr(Text::NoMore)}</p> }.into_any(),
            }}
        </section>
    }
}
