//! The top of a page: its title on the left, its actions (buttons, links) on the right.

use leptos::prelude::*;

use crate::i18n::{Text, tr};

/// A page's title and actions; on a phone the actions move under the title.
///
/// ```ignore
/// <PageHeader title=Text::ParksTitle>
///     <button on:click=…>{tr(Text::NewPark)}</button>
/// </PageHeader>
/// <PageHeader title=Text::EditTariff detail=format!("{} {}", park.code, park.name) />
/// ```
#[component]
pub(crate) fn PageHeader(
    /// The title (an `<h2>`).
    title: Text,
    /// Text after the title, `标题 · detail` (a car park's name, a plate).
    #[prop(into, optional)]
    detail: Option<Signal<String>>,
    /// `data-testid` of the `<h2>`.
    #[prop(optional)]
    test_id: Option<&'static str>,
    /// The actions.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="page-header">
            <h2 data-testid=test_id>
                {tr(title)}
                {detail.map(|d| view! { <span class="detail">" · "{d}</span> })}
            </h2>
            {children.map(|c| view! { <div class="page-actions">{c()}</div> })}
        </div>
    }
}
