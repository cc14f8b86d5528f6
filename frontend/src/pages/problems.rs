//! Problems (admins and property managers, issue 18): what is wrong right now, at which car
//! park, since when, with examples, what to do and a link to the page where it is fixed; then
//! the recently resolved ones. One card per problem, so a phone shows it whole.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{self, ApiError, Problem, Role};
use crate::format::shanghai_minutes;
use crate::i18n::{Text, tr};
use crate::pages::every;
use crate::pages::layout::guarded;
use crate::ui::{Badge, PageHeader, Tone};

/// How often the open list refreshes while the page is open, like the header's indicator.
const REFRESH: Duration = Duration::from_secs(30);

/// The problems page.
#[component]
pub fn ProblemsPage() -> impl IntoView {
    guarded("problems", problems_page)
}

fn problems_page() -> impl IntoView {
    let admin = crate::pages::layout::session()
        .get_untracked()
        .is_some_and(|u| u.role == Role::Admin);
    let open = LocalResource::new(|| api::problems(true));
    let resolved = LocalResource::new(|| api::problems(false));
    every(REFRESH, move || {
        open.refetch();
        resolved.refetch();
    });
    view! {
        <PageHeader title=Text::ProblemsTitle>
            {admin.then(|| view! {
                <A href="/alerts" {..} data-testid="problems-channels-link">{tr(Text::NavAlerts)}</A>
            })}
        </PageHeader>
        <section data-testid="problems-open">
            <h3>{tr(Text::OpenProblems)}</h3>
            {problem_list(open, true)}
        </section>
        <section data-testid="problems-resolved">
            <h3>{tr(Text::ResolvedProblems)}</h3>
            {problem_list(resolved, false)}
        </section>
    }
}

type Problems = LocalResource<Result<Vec<Problem>, ApiError>>;

fn problem_list(list: Problems, open: bool) -> impl IntoView {
    let lang = crate::i18n::lang();
    let (empty_id, empty_text) = if open {
        ("problems-open-empty", Text::NoOpenProblems)
    } else {
        ("problems-resolved-empty", Text::NoResolvedProblems)
    };
    move || {
        match list.get() {
        None => crate::pages::loading().into_any(),
        Some(Err(e)) => view! {
            <p class="error" data-testid="problems-error">{move || e.describe(lang.get())}</p>
        }
        .into_any(),
        Some(Ok(items)) if items.is_empty() => {
            view! { <p class="empty" data-testid=empty_id>{tr(empty_text)}</p> }.into_any()
        }
        Some(Ok(items)) => view! {
            <ul class="problems">{items.into_iter().map(|p| problem_card(p, open)).collect_view()}</ul>
        }
        .into_any(),
    }
    }
}

fn problem_card(p: Problem, open: bool) -> impl IntoView {
    let tone = if open { Tone::Danger } else { Tone::Ok };
    let state = if open {
        Text::OpenProblems
    } else {
        Text::ProblemResolvedAt
    };
    let resolved = p.resolved_at.map(shanghai_minutes);
    let examples = (!p.examples.is_empty()).then(|| {
        let examples = p.examples.clone();
        view! {
            <div class="problem-examples">
                <span class="field-label">{tr(Text::ProblemExamples)}</span>
                <ul>{examples.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view()}</ul>
            </div>
        }
    });
    let link = p.link_path.clone().map(|path| {
        view! { <A href=path.clone() {..} data-testid=format!("problem-link-{}", p.id)>{tr(Text::ProblemFix)}" →"</A> }
    });
    view! {
        <li class="problem" data-testid=format!("problem-{}", p.id) data-kind=p.kind.clone()>
            <div class="problem-head">
                <Badge tone=tone>{tr(state)}{resolved.map(|r| format!(" {r}"))}</Badge>
                <strong data-testid="problem-title">{p.title.clone()}</strong>
            </div>
            <dl class="problem-facts">
                {p.park_name.clone().map(|name| view! {
                    <dt>{tr(Text::NavParks)}</dt><dd data-testid="problem-park">{name}</dd>
                })}
                {p.label.clone().map(|label| view! {
                    <dt>{tr(Text::ProblemSubject)}</dt><dd data-testid="problem-label">{label}</dd>
                })}
                <dt>{tr(Text::ProblemSince)}</dt><dd>{shanghai_minutes(p.first_seen)}</dd>
                <dt>{tr(Text::ProblemCount)}</dt><dd data-testid="problem-count">{p.count}</dd>
                <dt>{tr(Text::ProblemLastSeen)}</dt><dd>{shanghai_minutes(p.last_seen)}</dd>
            </dl>
            {examples}
            <p class="problem-advice"><span class="field-label">{tr(Text::ProblemAdvice)}</span>{p.advice.clone()}</p>
            {link}
        </li>
    }
}
