//! "Are you sure?" before an action that cannot be undone: one modal dialog for the whole app.

use leptos::prelude::*;

use crate::i18n::{self, Text, fill, tr};

/// A question for [`confirm`]: a text with `{}` marks, what fills them, the button's label.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Question {
    text: Text,
    args: Vec<String>,
    yes: Text,
}

impl Question {
    /// Asks `text`; the button says "确认".
    pub(crate) fn new(text: Text) -> Self {
        Question {
            text,
            args: Vec::new(),
            yes: Text::Confirm,
        }
    }

    /// Fills the next `{}` of the text (a name, a plate).
    pub(crate) fn arg(mut self, value: impl Into<String>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Labels the confirming button with the action itself ("吊销", "删除").
    pub(crate) fn yes(mut self, label: Text) -> Self {
        self.yes = label;
        self
    }
}

/// The open question and what to do on "yes"; made once by [`provide`].
#[derive(Clone, Copy)]
struct Pending {
    question: RwSignal<Option<Question>>,
    on_yes: StoredValue<Option<Box<dyn FnOnce()>>, LocalStorage>,
}

thread_local! {
    // Not a context, so that a question can be asked from anywhere (an event handler, after
    // an `await`), where no reactive owner may be current.
    static PENDING: std::cell::Cell<Option<Pending>> = const { std::cell::Cell::new(None) };
}

fn pending() -> Option<Pending> {
    PENDING.with(std::cell::Cell::get)
}

/// Makes [`confirm`] work; `App` calls it once.
pub(crate) fn provide() {
    let pending = Pending {
        question: RwSignal::new(None),
        on_yes: StoredValue::new_local(None),
    };
    PENDING.with(|p| p.set(Some(pending)));
}

/// Asks `question` in the modal dialog and runs `on_yes` only if confirmed.
///
/// ```ignore
/// ui::confirm(Question::new(Text::RevokeKeyConfirm).arg(&name).yes(Text::Revoke), move || {
///     spawn_local(async move { … api::revoke_api_key(id).await … });
/// });
/// ```
pub(crate) fn confirm(question: Question, on_yes: impl FnOnce() + 'static) {
    let Some(pending) = pending() else {
        return;
    };
    pending.on_yes.set_value(Some(Box::new(on_yes)));
    pending.question.set(Some(question));
}

/// The dialog; `App` places it once. Test ids: `confirm-dialog`, `confirm-message`,
/// `confirm-yes`, `confirm-no`.
#[component]
pub(crate) fn ConfirmHost() -> impl IntoView {
    let pending = pending()?;
    let lang = i18n::lang();
    let close = move || {
        pending.on_yes.set_value(None);
        pending.question.set(None);
    };
    let yes = move |_| {
        let action = pending.on_yes.try_update_value(Option::take).flatten();
        pending.question.set(None);
        if let Some(action) = action {
            action();
        }
    };
    let yes_button = NodeRef::<leptos::html::Button>::new();
    // The safe choice is one Tab away; focus starts on the question's own button so Enter and
    // Escape both work straight away.
    Effect::new(move |_| {
        if let Some(b) = yes_button.get() {
            let _ = b.focus();
        }
    });
    Some(move || {
        pending.question.get().map(|q| {
            let message = move || {
                let args: Vec<&str> = q.args.iter().map(String::as_str).collect();
                fill(q.text.text(lang.get()), &args)
            };
            view! {
                <div class="overlay" on:keydown=move |ev| if ev.key() == "Escape" { close() }>
                    <div class="dialog" role="alertdialog" aria-modal="true"
                        aria-labelledby="confirm-message" data-testid="confirm-dialog">
                        <p id="confirm-message" data-testid="confirm-message">{message}</p>
                        <div class="actions">
                            <button type="button" data-testid="confirm-no" on:click=move |_| close()>
                                {tr(Text::Cancel)}
                            </button>
                            <button type="button" class="primary danger" data-testid="confirm-yes"
                                node_ref=yes_button on:click=yes>
                                {tr(q.yes)}
                            </button>
                        </div>
                    </div>
                </div>
            }
        })
    })
}
