//! The parking sessions page (`/sessions`): a car park's stays newest first, each with what it
//! owes and what its discounts take off, linked to its stay's page; plate search, a state filter
//! and keyset paging (the ids that began the pages seen are kept for "previous").

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api::{self, ApiError, SESSIONS_PAGE, SessionFilter, SessionPage, SessionRow};
use crate::format::yuan;
use crate::i18n::{Text, tr};
use crate::pages::coupons::badge;
use crate::pages::layout::guarded;
use crate::pages::vip_labels::{chosen_park, park_select};
use crate::pages::{error_line, loading, local_time};
use crate::ui::{EmptyState, Field, PageHeader, Pager, Table, TextInput};

/// Session states with their labels, as the filter offers them.
pub(crate) const STATES: [(&str, Text); 3] = [
    ("open", Text::SessionOpen),
    ("closed", Text::SessionClosed),
    ("no_exit_seen", Text::SessionNoExit),
];

/// The sessions page.
#[component]
pub fn SessionsPage() -> impl IntoView {
    guarded("sessions", sessions_page)
}

/// The list's state: the filter, the `before` of each page seen, and the page shown.
#[derive(Clone, Copy)]
struct List {
    park: RwSignal<Option<i64>>,
    filter: RwSignal<SessionFilter>,
    /// `before` of the pages that led here; the last one is the page shown (`None`: first).
    trail: RwSignal<Vec<Option<i64>>>,
    page: RwSignal<Option<SessionPage>>,
    generation: RwSignal<u64>,
    error: RwSignal<Option<ApiError>>,
}

impl List {
    fn load(self) {
        let Some(park) = self.park.get_untracked() else {
            return;
        };
        let before = self.trail.with_untracked(|t| t.last().copied().flatten());
        let filter = self.filter.get_untracked();
        let generation = self.generation.get_untracked() + 1;
        self.generation.set(generation);
        spawn_local(async move {
            let answer = api::sessions(park, &filter, before).await;
            if self.generation.try_get_untracked() != Some(generation) {
                return;
            }
            match answer {
                Ok(page) => {
                    self.error.set(None);
                    self.page.set(Some(page));
                }
                Err(e) => self.error.set(Some(e)),
            }
        });
    }
}

fn sessions_page() -> impl IntoView {
    let parks = LocalResource::new(api::parks);
    let park_list = Signal::derive(move || parks.get().and_then(Result::ok).unwrap_or_default());
    let list = List {
        park: chosen_park(park_list),
        filter: RwSignal::new(SessionFilter::default()),
        trail: RwSignal::new(vec![None]),
        page: RwSignal::new(None),
        generation: RwSignal::new(0),
        error: RwSignal::new(None),
    };
    Effect::new(move |_| {
        list.park.track();
        list.filter.track();
        list.trail.track();
        list.page.set(None);
        list.load();
    });
    let plate = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        list.trail.set(vec![None]);
        list.filter.set(SessionFilter {
            plate: plate.get_untracked().trim().to_owned(),
            state: state.get_untracked(),
        });
    };
    let next = move || {
        if let Some(b) = list
            .page
            .with_untracked(|p| p.as_ref().and_then(|p| p.next_before))
        {
            list.trail.update(|t| t.push(Some(b)));
        }
    };
    let prev = move || {
        list.trail.update(|t| {
            if t.len() > 1 {
                t.pop();
            }
        })
    };
    let rows = move || {
        list.page
            .with(|p| p.as_ref().map(|p| p.sessions.clone()).unwrap_or_default())
    };
    // Keyset paging knows no total; the range counts the pages walked so far.
    let offset = move || {
        list.trail
            .with(|t| (t.len() as u64 - 1) * u64::from(SESSIONS_PAGE))
    };
    let shown = move || {
        list.page
            .with(|p| p.as_ref().map_or(0, |p| p.sessions.len() as u64))
    };
    view! {
        <section>
            <PageHeader title=Text::SessionsTitle />
            {move || parks.get().and_then(Result::err).map(|e| error_line(RwSignal::new(Some(e)), "sessions-parks-error"))}
            <form class="filters" data-testid="sessions-filters" on:submit=apply>
                {park_select(park_list, list.park, "sessions-park")}
                <Field label=Text::PlatePrefix><TextInput value=plate test_id="sessions-plate" /></Field>
                <Field label=Text::State>
                    <select data-testid="sessions-state" on:change=move |ev| state.set(event_target_value(&ev))>
                        <option value="">{tr(Text::AllStates)}</option>
                        {STATES.into_iter().map(|(code, label)| view! { <option value=code>{tr(label)}</option> }).collect_view()}
                    </select>
                </Field>
                <div class="field"><button type="submit" data-testid="sessions-apply">{tr(Text::Search)}</button></div>
            </form>
            <Table test_id="sessions-table"
                columns=vec![Text::Plate, Text::EntryAt, Text::ExitAt, Text::State, Text::Discounts, Text::Paid, Text::Owed]>
                <For each=rows key=|r| (r.id, r.state.clone(), r.paid_fen, r.owed_fen, r.discount_worth_fen) let(r)>
                    {session_row(r)}
                </For>
            </Table>
            {error_line(list.error, "sessions-error")}
            {move || (list.page.with(Option::is_none) && list.error.with(Option::is_none)).then(loading)}
            {move || list.page.with(|p| p.as_ref().is_some_and(|p| p.sessions.is_empty())).then(|| view! {
                <EmptyState test_id="sessions-empty" />
            })}
            <Pager prefix="sessions" offset=offset shown=shown
                has_prev={move || list.trail.with(|t| t.len() > 1)}
                has_next=move || list.page.with(|p| p.as_ref().is_some_and(|p| p.next_before.is_some()))
                on_prev=prev on_next=next hide_idle_buttons=true />
        </section>
    }
}

fn session_row(r: SessionRow) -> impl IntoView {
    let label = STATES.iter().find(|(s, _)| *s == r.state).map(|(_, l)| *l);
    let car = r.plate.clone().or(r.barcode.clone()).unwrap_or_default();
    let gate = |g: &Option<String>| g.as_ref().map(|g| format!(" · {g}")).unwrap_or_default();
    view! {
        <tr data-testid=format!("session-{}", r.id) data-state=r.state.clone()>
            <td data-label=tr(Text::Plate) data-testid="session-plate">
                <A href=format!("/sessions/{}", r.id) {..} data-testid="session-link">{car}</A>{r.vip.then_some(" VIP")}
            </td>
            <td data-label=tr(Text::EntryAt) class="small">{local_time(&r.entry_at)}{gate(&r.entry_gate)}</td>
            <td data-label=tr(Text::ExitAt) class="small">{r.exit_at.as_deref().map(local_time).unwrap_or_default()}{gate(&r.exit_gate)}</td>
            <td data-label=tr(Text::State)>{badge(&r.state, label, "session-state")}</td>
            <td data-label=tr(Text::Discounts) data-testid="session-worth" data-fen=r.discount_worth_fen.to_string()>{yuan(r.discount_worth_fen)}</td>
            <td data-label=tr(Text::Paid) data-testid="session-paid">{yuan(r.paid_fen)}</td>
            <td data-label=tr(Text::Owed) data-testid="session-owed" data-fen=r.owed_fen.map(|f| f.to_string())>{r.owed_fen.map(yuan).unwrap_or_else(|| "—".to_owned())}</td>
        </tr>
    }
}
