//! The navigation's "系统" menu: the admin's set-up pages (credentials, users, API keys, audit,
//! alert channels), visited now and then, behind one button so the bar keeps one line at
//! 1366 px in either language. On a laptop the button opens a menu under it (closed by a choice,
//! a click elsewhere or Escape); in the phone's folded menu the same links are always listed
//! under a "系统" heading, so a thumb needs no second tap.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::i18n::{Text, tr};

/// One link of the menu.
pub(crate) struct NavLink {
    /// Its section id (`nav-<id>` is its test id).
    pub(crate) id: &'static str,
    /// Where it goes.
    pub(crate) path: &'static str,
    /// Its words.
    pub(crate) label: Text,
}

/// The "系统" menu of `links`, or nothing when the role has none; `phone_menu` is the phone's
/// folded navigation, closed once a link is chosen.
pub(crate) fn system_menu(links: Vec<NavLink>, phone_menu: RwSignal<bool>) -> Option<AnyView> {
    if links.is_empty() {
        return None;
    }
    let open = RwSignal::new(false);
    let location = use_location();
    let paths: Vec<&'static str> = links.iter().map(|l| l.path).collect();
    // The button reads as the current section while one of its pages is open.
    let current = move || {
        location
            .pathname
            .with(|p| paths.iter().any(|path| p.starts_with(path)))
    };
    let close = move || {
        if open.get_untracked() {
            open.set(false);
        }
    };
    let clicks = window_event_listener(leptos::ev::click, move |_| close());
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            close();
        }
    });
    on_cleanup(move || {
        clicks.remove();
        keys.remove();
    });
    let toggle = move |ev: leptos::ev::MouseEvent| {
        // The window's listener closes the menu on any other click.
        ev.stop_propagation();
        open.update(|o| *o = !*o);
    };
    Some(
        view! {
            <div class="nav-group" class:open=open class:current=current>
                <button type="button" class="nav-group-toggle" data-testid="nav-system"
                    aria-haspopup="true" aria-controls="nav-system-menu"
                    aria-expanded=move || open.get().to_string() on:click=toggle>
                    {tr(Text::NavSystem)}<span class="caret" aria-hidden="true">" ▾"</span>
                </button>
                <div class="nav-menu" id="nav-system-menu"
                    on:click=move |_| {
                        open.set(false);
                        phone_menu.set(false);
                    }>
                    {links.into_iter().map(|l| view! {
                        <A href=l.path {..} data-testid=format!("nav-{}", l.id)>{tr(l.label)}</A>
                    }).collect_view()}
                </div>
            </div>
        }
        .into_any(),
    )
}
