//! Lists: a table with headings, a pager, an empty state, and stacked cards on a phone.
//!
//! Under 640 px `style.css` turns `table.data` into one card per row, each cell led by its
//! `data-label` — so every `<td>` of a kit table carries `data-label=tr(<its heading>)`.

use std::sync::Arc;

use leptos::prelude::*;

use crate::api::ApiError;
use crate::i18n::{self, Text, fill, tr};

/// Rows per page of a [`DataTable`] unless it asks otherwise.
pub(crate) const PAGE_SIZE: usize = 20;

/// A table of the kit: headings and rows, cards on a phone.
///
/// Use it directly when the page fetches its rows page by page (with a [`Pager`]) or keys them
/// with `<For>`; [`DataTable`] wraps it for a list fetched whole.
///
/// ```ignore
/// <Table test_id="sessions-table" columns=vec![Text::Plate, Text::EntryAt]>
///     <For each=rows key=|r| r.id let(r)>
///         <tr><td data-label=tr(Text::Plate)>{r.plate}</td><td data-label=tr(Text::EntryAt)>…</td></tr>
///     </For>
/// </Table>
/// ```
#[component]
pub(crate) fn Table(
    /// `data-testid` of the `<table>`.
    test_id: &'static str,
    /// Column headings, in order.
    #[prop(into)]
    columns: Vec<Text>,
    /// The `<tr>`s.
    children: Children,
) -> impl IntoView {
    view! {
        <table class="data" data-testid=test_id>
            <thead><tr>
                {columns.into_iter().map(|c| view! { <th scope="col">{tr(c)}</th> }).collect_view()}
            </tr></thead>
            <tbody>{children()}</tbody>
        </table>
    }
}

/// "暂无数据" (or `text`) where a list has no rows.
///
/// ```ignore
/// <EmptyState test_id="parks-empty" />
/// ```
#[component]
pub(crate) fn EmptyState(
    /// `data-testid` of the note.
    test_id: &'static str,
    /// What to say instead of "暂无数据".
    #[prop(optional)]
    text: Option<Text>,
) -> impl IntoView {
    view! { <p class="empty" data-testid=test_id>{tr(text.unwrap_or(Text::Empty))}</p> }
}

/// "第 a–b 条，共 n 条" with previous / next buttons, for lists paged by the server.
///
/// Test ids: `{prefix}-range`, `{prefix}-prev`, `{prefix}-next`.
///
/// ```ignore
/// <Pager prefix="vip" offset=move || offset() shown=move || shown() total=move || Some(total())
///     has_prev=move || offset() > 0 has_next=move || more()
///     on_prev=move || list.go(prev) on_next=move || list.go(next) />
/// ```
#[component]
pub(crate) fn Pager(
    /// Prefix of the test ids.
    prefix: &'static str,
    /// How many rows come before the first shown (0 on the first page).
    #[prop(into)]
    offset: Signal<u64>,
    /// How many rows are shown.
    #[prop(into)]
    shown: Signal<u64>,
    /// All rows, when the server counts them (a keyset-paged list does not).
    #[prop(into, optional)]
    total: Signal<Option<u64>>,
    /// Whether an earlier page exists.
    #[prop(into)]
    has_prev: Signal<bool>,
    /// Whether a later page exists.
    #[prop(into)]
    has_next: Signal<bool>,
    /// Go back one page.
    #[prop(into)]
    on_prev: Callback<()>,
    /// Go on one page.
    #[prop(into)]
    on_next: Callback<()>,
    /// Leave the buttons out while there is nowhere to go (a list that fits one page).
    #[prop(optional)]
    hide_idle_buttons: bool,
) -> impl IntoView {
    let lang = i18n::lang();
    let range = move || {
        let (offset, shown) = (offset.get(), shown.get());
        let from = if shown == 0 { offset } else { offset + 1 };
        let to = (offset + shown).to_string();
        match total.get() {
            Some(n) => fill(
                Text::PagerRangeOf.text(lang.get()),
                &[&from.to_string(), &to, &n.to_string()],
            ),
            None => fill(Text::PagerRange.text(lang.get()), &[&from.to_string(), &to]),
        }
    };
    view! {
        <div class="pager">
            <span class="range" data-testid=format!("{prefix}-range")>{range}</span>
            <Show when=move || !hide_idle_buttons || has_prev.get() || has_next.get()>
                <button type="button" data-testid=format!("{prefix}-prev")
                    disabled=move || !has_prev.get() on:click=move |_| on_prev.run(())>
                    {tr(Text::PrevPage)}
                </button>
                <button type="button" data-testid=format!("{prefix}-next")
                    disabled=move || !has_next.get() on:click=move |_| on_next.run(())>
                    {tr(Text::NextPage)}
                </button>
            </Show>
        </div>
    }
}

/// A whole list fetched at once: loading, error, empty state, table, and a pager over
/// `page_size` rows at a time.
///
/// Test ids: the table `test_id`; `{test_id}-empty` (or `empty_test_id`), `{test_id}-error`
/// (or `error_test_id`); the pager's `{test_id}-range`, `-prev`, `-next`.
///
/// ```ignore
/// let parks = LocalResource::new(api::parks);
/// view! {
///     <DataTable test_id="parks-table" empty_test_id="parks-empty"
///         columns=vec![Text::ParkCode, Text::Name]
///         rows=move || parks.get()
///         row=|p: Park| view! {
///             <tr><td data-label=tr(Text::ParkCode)>{p.code}</td><td data-label=tr(Text::Name)>{p.name}</td></tr>
///         } />
/// }
/// ```
#[component]
pub(crate) fn DataTable<T, R, V>(
    /// `data-testid` of the `<table>`, and the prefix of the pager's.
    test_id: &'static str,
    /// Column headings, in order.
    #[prop(into)]
    columns: Vec<Text>,
    /// `None` while loading, then the rows or why there are none.
    #[prop(into)]
    rows: Signal<Option<Result<Vec<T>, ApiError>>>,
    /// One `<tr>` for a row; each `<td>` carries `data-label=tr(<its heading>)`.
    row: R,
    /// Rows per page (default [`PAGE_SIZE`]).
    #[prop(optional)]
    page_size: Option<usize>,
    /// `data-testid` of the empty state (default `{test_id}-empty`).
    #[prop(optional)]
    empty_test_id: Option<&'static str>,
    /// What the empty state says (default "暂无数据").
    #[prop(optional)]
    empty_text: Option<Text>,
    /// `data-testid` of the error line (default `{test_id}-error`).
    #[prop(optional)]
    error_test_id: Option<&'static str>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    R: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let size = page_size.unwrap_or(PAGE_SIZE).max(1);
    let page = RwSignal::new(0usize);
    let row = Arc::new(row);
    let columns = Arc::new(columns);
    let lang = i18n::lang();
    move || {
        let Some(result) = rows.get() else {
            return crate::pages::loading().into_any();
        };
        let list = match result {
            Err(e) => {
                let id = error_test_id.map_or_else(|| format!("{test_id}-error"), str::to_owned);
                return view! {
                    <p class="error" data-testid=id>{move || e.describe(lang.get())}</p>
                }
                .into_any();
            }
            Ok(list) if list.is_empty() => {
                let id = empty_test_id.map_or_else(|| format!("{test_id}-empty"), str::to_owned);
                let text = empty_text.unwrap_or(Text::Empty);
                return view! { <p class="empty" data-testid=id>{tr(text)}</p> }.into_any();
            }
            Ok(list) => list,
        };
        let total = list.len();
        let pages = total.div_ceil(size);
        // A list that shrank (a row deleted on the last page) shows its new last page.
        let current = page.get().min(pages - 1);
        let start = current * size;
        let shown = (total - start).min(size);
        let row = Arc::clone(&row);
        let body = list
            .into_iter()
            .skip(start)
            .take(size)
            .map(|t| row(t))
            .collect_view();
        view! {
            <Table test_id=test_id columns=(*columns).clone()>{body}</Table>
            <Pager prefix=test_id offset={start as u64} shown={shown as u64} total={Some(total as u64)}
                has_prev={current > 0} has_next={current + 1 < pages} hide_idle_buttons=true
                on_prev=move || page.set(current.saturating_sub(1))
                on_next=move || page.set(current + 1) />
        }
        .into_any()
    }
}
