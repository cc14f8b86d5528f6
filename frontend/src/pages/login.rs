//! The sign-in page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api::{self, ApiError};
use crate::i18n::{Text, tr};
use crate::pages::error_line;
use crate::pages::layout::{home_of, session};
use crate::ui::{Field, PageHeader, TextInput};

/// Username and password; on success the session is set and the role's first page opens.
#[component]
pub fn LoginPage() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let session = session();
    let navigate = use_navigate();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        let (user, pass) = (username.get_untracked(), password.get_untracked());
        spawn_local(async move {
            match api::login(user.trim(), &pass).await {
                Ok(me) => {
                    password.set(String::new());
                    let home = home_of(me.role);
                    session.set(Some(me));
                    navigate(home, Default::default());
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="login">
            <PageHeader title=Text::SignIn />
            <form data-testid="login-form" on:submit=submit>
                <Field label=Text::Username>
                    <TextInput value=username test_id="login-username" kind="text" {..} autocomplete="username" />
                </Field>
                <Field label=Text::Password>
                    <TextInput value=password test_id="login-password" kind="password" {..} autocomplete="current-password" />
                </Field>
                <div class="actions">
                    <button type="submit" data-testid="login-submit" disabled=busy>{tr(Text::SignIn)}</button>
                </div>
            </form>
            {error_line(error, "login-error")}
        </section>
    }
}
