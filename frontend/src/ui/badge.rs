//! A status as a small pill: dark text on a light tint, so every tone stays readable.

use leptos::prelude::*;

/// What a badge says about its status; each tone has one colour pair in `style.css`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Tone {
    /// Nothing to note (pending, closed, disabled).
    #[default]
    Neutral,
    /// In progress or informational.
    Info,
    /// Good (active, delivered, healthy).
    Ok,
    /// Needs a look (unknown, not yet seen).
    Warn,
    /// Failed or refused.
    Danger,
}

impl Tone {
    /// The CSS class of the tone, `badge-<tone>`.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Tone::Neutral => "badge badge-neutral",
            Tone::Info => "badge badge-info",
            Tone::Ok => "badge badge-ok",
            Tone::Warn => "badge badge-warn",
            Tone::Danger => "badge badge-danger",
        }
    }
}

/// A status pill.
///
/// ```ignore
/// <Badge tone=Tone::Ok test_id="user-status-alice">{tr(Text::Active)}</Badge>
/// <Badge tone=move || if failed.get() { Tone::Danger } else { Tone::Ok }>…</Badge>
/// ```
#[component]
pub(crate) fn Badge(
    /// The colour pair; reactive, so a badge can change tone in place.
    #[prop(into, optional)]
    tone: Signal<Tone>,
    /// `data-testid` of the pill.
    #[prop(into, optional)]
    test_id: Option<String>,
    /// The text.
    children: Children,
) -> impl IntoView {
    view! { <span class=move || tone.get().class() data-testid=test_id>{children()}</span> }
}
