//! The signed-in frame: who is signed in, navigation by role, sign-out, and the page itself.
//!
//! One table (`SECTIONS`) says which role sees which page; the navigation and the page guard
//! both read it, so a link is shown exactly when the page would open. The admin's set-up pages
//! sit in one "系统" menu (`nav_group.rs`), so the bar keeps one line at 1366 px.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::{use_location, use_navigate};

use crate::api::{self, ApiError, Role, User};
use crate::i18n::{self, Text, tr};
use crate::pages::nav_group::{self, NavLink};
use crate::pages::{error_line, every};

/// The signed-in user, or `None` before `/auth/me` answered or after sign-out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Session(pub(crate) RwSignal<Option<User>>);

/// Provides the (empty) session at the root.
pub(crate) fn provide_session() {
    provide_context(Session(RwSignal::new(None)));
}

/// The session signal.
pub(crate) fn session() -> RwSignal<Option<User>> {
    expect_context::<Session>().0
}

/// One page of the signed-in area.
struct Section {
    id: &'static str,
    path: &'static str,
    label: Text,
    /// Who may open it.
    roles: &'static [Role],
    /// Where the navigation links it.
    nav: Nav,
}

/// Where a page's link sits in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nav {
    /// On the bar itself.
    Top,
    /// In the admin's "系统" menu: set-up pages visited now and then, grouped so the bar keeps
    /// one line at 1366 px.
    System,
    /// Not linked: reached from another page's rows.
    None,
}

// The car parks' staff; a merchant sees only its shop's page (issue 17).
const EVERYONE: &[Role] = &[Role::Admin, Role::PropertyManager, Role::MallStaff];
const MERCHANTS: &[Role] = &[Role::Merchant];
const MANAGERS: &[Role] = &[Role::Admin, Role::PropertyManager];
const ADMINS: &[Role] = &[Role::Admin];

const SECTIONS: [Section; 21] = [
    Section {
        id: "shop",
        path: "/shop",
        label: Text::NavShop,
        roles: MERCHANTS,
        nav: Nav::Top,
    },
    Section {
        id: "parks",
        path: "/parks",
        label: Text::NavParks,
        roles: EVERYONE,
        nav: Nav::Top,
    },
    Section {
        id: "credentials",
        path: "/credentials",
        label: Text::NavCredentials,
        roles: ADMINS,
        nav: Nav::System,
    },
    Section {
        id: "users",
        path: "/users",
        label: Text::NavUsers,
        roles: ADMINS,
        nav: Nav::System,
    },
    Section {
        id: "api-keys",
        path: "/api-keys",
        label: Text::NavApiKeys,
        roles: ADMINS,
        nav: Nav::System,
    },
    Section {
        id: "audit",
        path: "/audit",
        label: Text::NavAudit,
        roles: ADMINS,
        nav: Nav::System,
    },
    Section {
        id: "coupons",
        path: "/coupons",
        label: Text::NavCoupons,
        roles: MANAGERS,
        nav: Nav::Top,
    },
    Section {
        id: "shops",
        path: "/shops",
        label: Text::NavShops,
        roles: MANAGERS,
        nav: Nav::Top,
    },
    Section {
        id: "shop-statement",
        path: "/shops/:id/statement",
        label: Text::StatementTitle,
        roles: MANAGERS,
        nav: Nav::None,
    },
    Section {
        id: "vip",
        path: "/vip",
        label: Text::NavVip,
        roles: MANAGERS,
        nav: Nav::Top,
    },
    Section {
        id: "vip-record",
        path: "/vip/:id",
        label: Text::VipTitle,
        roles: MANAGERS,
        nav: Nav::None,
    },
    Section {
        id: "vip-import",
        path: "/vip/import",
        label: Text::VipImportTitle,
        roles: MANAGERS,
        nav: Nav::None,
    },
    Section {
        id: "coupon-settings",
        path: "/parks/:id/coupons",
        label: Text::CouponSettings,
        roles: ADMINS,
        nav: Nav::None,
    },
    Section {
        id: "pyun-gateway",
        path: "/parks/:id/pyun",
        label: Text::PyunGatewayTitle,
        roles: ADMINS,
        nav: Nav::None,
    },
    Section {
        id: "traffic",
        path: "/traffic",
        label: Text::NavTraffic,
        roles: EVERYONE,
        nav: Nav::Top,
    },
    Section {
        id: "sessions",
        path: "/sessions",
        label: Text::NavSessions,
        roles: EVERYONE,
        nav: Nav::Top,
    },
    Section {
        id: "stay",
        path: "/sessions/:id",
        label: Text::StayTitle,
        roles: EVERYONE,
        nav: Nav::None,
    },
    Section {
        id: "tariff",
        path: "/parks/:id/tariff",
        label: Text::EditTariff,
        roles: MANAGERS,
        nav: Nav::None,
    },
    Section {
        id: "problems",
        path: "/problems",
        label: Text::NavProblems,
        roles: MANAGERS,
        nav: Nav::Top,
    },
    Section {
        id: "alerts",
        path: "/alerts",
        label: Text::NavAlerts,
        roles: ADMINS,
        nav: Nav::System,
    },
    Section {
        id: "preview",
        path: "/preview",
        label: Text::NavPreview,
        roles: EVERYONE,
        nav: Nav::Top,
    },
];

fn admits(section: &Section, role: Role) -> bool {
    section.roles.contains(&role)
}

/// Where `role` lands after sign-in: the first page of the navigation it may open.
pub(crate) fn home_of(role: Role) -> &'static str {
    SECTIONS
        .iter()
        .find(|s| s.nav == Nav::Top && admits(s, role))
        .map_or("/parks", |s| s.path)
}

/// The signed-in area's root: sends each role to its own first page.
#[component]
pub fn Home() -> impl IntoView {
    let path = session()
        .get_untracked()
        .map_or("/parks", |u| home_of(u.role));
    view! { <leptos_router::components::Redirect path=path /> }
}

/// Shows `page` when the signed-in role may see section `id`, else a "no permission" note.
pub(crate) fn guarded<V>(id: &'static str, page: impl FnOnce() -> V) -> AnyView
where
    V: IntoView + 'static,
{
    let role = session().get_untracked().map(|u| u.role);
    let allowed = SECTIONS
        .iter()
        .find(|s| s.id == id)
        .zip(role)
        .is_some_and(|(s, role)| admits(s, role));
    if allowed {
        page().into_any()
    } else {
        view! { <p class="error" data-testid="forbidden">{tr(Text::NoPermission)}</p> }.into_any()
    }
}

/// Loads the signed-in user (or sends the browser to `/login`), then shows nav and page.
#[component]
pub fn Layout() -> impl IntoView {
    let session = session();
    let error = RwSignal::new(None::<ApiError>);
    let navigate = use_navigate();
    if session.get_untracked().is_none() {
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::me().await {
                Ok(user) => session.set(Some(user)),
                Err(e) if e.is_unauthorized() => navigate(
                    "/login",
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                ),
                Err(e) => error.set(Some(e)),
            }
        });
    }
    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            let _ = api::logout().await;
            session.set(None);
            navigate("/login", NavigateOptions::default());
        });
    };
    let lang = i18n::lang();
    // The phone's menu: folded until the button opens it, folded again once a link is chosen.
    let open = RwSignal::new(false);
    view! {
        <nav class="topnav" class:open=open data-testid="nav">
            <button type="button" class="menu-toggle" data-testid="menu-toggle"
                aria-controls="nav-links" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                "☰ "{tr(Text::Menu)}
            </button>
            <div class="links" id="nav-links" on:click=move |_| open.set(false)>
                {move || session.get().map(|user| {
                    SECTIONS
                        .iter()
                        .filter(|s| s.nav == Nav::Top && admits(s, user.role))
                        .map(|s| view! {
                            <A href=s.path {..} data-testid=format!("nav-{}", s.id)>{tr(s.label)}</A>
                        })
                        .collect_view()
                })}
            </div>
            // Outside `.links`, whose sideways scrolling would clip the menu.
            {move || session.get().map(|user| {
                let links: Vec<NavLink> = SECTIONS
                    .iter()
                    .filter(|s| s.nav == Nav::System && admits(s, user.role))
                    .map(|s| NavLink { id: s.id, path: s.path, label: s.label })
                    .collect();
                nav_group::system_menu(links, open)
            })}
            <div class="account">
                <ProblemsIndicator />
                <span class="who" data-testid="current-user">
                    {move || session.get().map(|u| format!("{} · {}", u.username, u.role.label().text(lang.get())))}
                </span>
                <button type="button" data-testid="sign-out" on:click=sign_out>{tr(Text::SignOut)}</button>
            </div>
        </nav>
        <div class="page">
            {error_line(error, "layout-error")}
            <Show when=move || session.with(Option::is_some) fallback=crate::pages::loading>
                <Outlet />
            </Show>
        </div>
    }
}

/// How often the header asks for the open problems.
const PROBLEMS_POLL: Duration = Duration::from_secs(30);

/// Whether `role` sees problems (and so the header's count of them).
fn sees_problems(role: Role) -> bool {
    MANAGERS.contains(&role)
}

/// The header's count of open problems, red while any is open, linking to the problems page;
/// shown only to the roles that may open that page. A failed poll keeps the last count.
#[component]
fn ProblemsIndicator() -> impl IntoView {
    let session = session();
    let count = RwSignal::new(None::<usize>);
    let load = move || {
        if !session
            .get_untracked()
            .is_some_and(|u| sees_problems(u.role))
        {
            count.set(None);
            return;
        }
        spawn_local(async move {
            if let Ok(list) = api::problems(true).await {
                count.set(Some(list.len()));
            }
        });
    };
    // At sign-in, when someone else signs in, and on every page change: a problem fixed on
    // its page should not stay counted until the next poll.
    let location = use_location();
    Effect::new(move |_| {
        session.with(|u| u.as_ref().map(|u| u.id));
        location.pathname.track();
        load();
    });
    every(PROBLEMS_POLL, load);
    let lang = i18n::lang();
    move || {
        count.get().map(|n| {
            let class = if n > 0 {
                "problems-indicator alarm"
            } else {
                "problems-indicator"
            };
            let title = i18n::fill(Text::ProblemsIndicator.text(lang.get()), &[&n.to_string()]);
            view! {
                <A href="/problems" {..} class=class title=title.clone() aria-label=title
                    data-testid="problems-indicator">
                    // Short in English too: the admin's navigation must keep one line.
                    {tr(Text::ProblemsBadge)}" "<span data-testid="problems-count">{n}</span>
                </A>
            }
        })
    }
}
