//! Short messages after an action — "已保存", "失败: …" — that go away by themselves.

use std::time::Duration;

use leptos::prelude::*;

use crate::api::ApiError;
use crate::i18n::{self, Text, fill, tr};

/// What a toast says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToastKind {
    /// "已保存".
    Saved,
    /// Another success, in its own words.
    Done(Text),
    /// A failed action, with the server's (translated) reason.
    Failed(ApiError),
}

#[derive(Debug, Clone, PartialEq)]
struct Item {
    id: u64,
    kind: ToastKind,
    test_id: String,
}

/// The toasts on screen; made once by [`provide`].
#[derive(Clone, Copy)]
struct Toasts {
    items: RwSignal<Vec<Item>>,
    next_id: StoredValue<u64>,
}

thread_local! {
    // Not a context: a toast is mostly raised after an `await`, where no reactive owner (and so
    // no context) is current.
    static TOASTS: std::cell::Cell<Option<Toasts>> = const { std::cell::Cell::new(None) };
}

/// Makes [`toast`] work; `App` calls it once.
pub(crate) fn provide() {
    let toasts = Toasts {
        items: RwSignal::new(Vec::new()),
        next_id: StoredValue::new(0),
    };
    TOASTS.with(|t| t.set(Some(toasts)));
}

/// Shows a toast for a few seconds (a failure stays longer); its text has `data-testid=test_id`.
///
/// ```ignore
/// match api::set_tariff(id, &t).await {
///     Ok(_) => ui::toast(ToastKind::Saved, "tariff-saved"),
///     Err(e) => ui::toast(ToastKind::Failed(e), "tariff-failed"),
/// }
/// ```
pub(crate) fn toast(kind: ToastKind, test_id: impl Into<String>) {
    let Some(toasts) = TOASTS.with(std::cell::Cell::get) else {
        return;
    };
    let id = toasts.next_id.get_value();
    toasts.next_id.set_value(id + 1);
    let stay = match kind {
        ToastKind::Failed(_) => Duration::from_secs(10),
        _ => Duration::from_secs(5),
    };
    toasts.items.update(|v| {
        v.push(Item {
            id,
            kind,
            test_id: test_id.into(),
        })
    });
    set_timeout(
        move || toasts.items.update(|v| v.retain(|i| i.id != id)),
        stay,
    );
}

/// Where toasts appear (top right; full width on a phone); `App` places it once.
#[component]
pub(crate) fn ToastHost() -> impl IntoView {
    let toasts = TOASTS.with(std::cell::Cell::get)?;
    let lang = i18n::lang();
    Some(view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.items.get() key=|i| i.id let(item)>
                {
                    let id = item.id;
                    let failed = matches!(item.kind, ToastKind::Failed(_));
                    let kind = item.kind.clone();
                    let text = move || match &kind {
                        ToastKind::Saved => Text::Saved.text(lang.get()).to_owned(),
                        ToastKind::Done(t) => t.text(lang.get()).to_owned(),
                        ToastKind::Failed(e) => fill(Text::ActionFailed.text(lang.get()), &[&e.describe(lang.get())]),
                    };
                    view! {
                        <div class="toast" class:toast-failed=failed>
                            <span data-testid=item.test_id.clone()>{text}</span>
                            <button type="button" class="toast-close" aria-label=tr(Text::Close)
                                on:click=move |_| toasts.items.update(|v| v.retain(|i| i.id != id))>"×"</button>
                        </div>
                    }
                }
            </For>
        </div>
    })
}
