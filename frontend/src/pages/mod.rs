//! One module per page or page part, plus the small view helpers they share.

pub mod alert_channels;
pub mod alert_sends;
pub mod api_keys;
pub mod audit;
pub mod coupon_records;
pub mod coupon_settings;
pub mod coupons;
pub mod credentials;
pub mod fee_preview;
pub mod health;
pub mod layout;
pub mod login;
pub mod nav_group;
pub mod park_form;
pub mod parks;
pub mod problems;
pub mod pyun_gateway;
pub mod pyun_uploads;
pub mod sessions;
pub mod shop;
pub mod shop_offers;
pub mod shop_qr;
pub mod shop_statement;
pub mod shop_today;
pub mod shops;
pub mod stay;
pub mod tariff_editor;
pub mod tariff_form;
pub mod traffic_charts;
pub mod traffic_dashboard;
pub mod users;
pub mod vip_add;
pub mod vip_forms;
pub mod vip_import;
pub mod vip_labels;
pub mod vip_list;
pub mod vip_record;
pub mod vip_sync;

use std::time::Duration;

use leptos::prelude::*;

use crate::api::{ApiError, Park};
use crate::i18n::{self, Text, tr};

/// The error of a form or list, decoded and translated, under `data-testid=test_id`.
pub(crate) fn error_line(
    error: RwSignal<Option<ApiError>>,
    test_id: &'static str,
) -> impl IntoView {
    let lang = i18n::lang();
    move || {
        error.get().map(|e| {
            view! { <p class="error" data-testid=test_id>{move || e.describe(lang.get())}</p> }
        })
    }
}

/// Runs `tick` every `period` for as long as the calling page lives.
pub(crate) fn every(period: Duration, tick: impl Fn() + 'static) {
    let handle = set_interval_with_handle(tick, period).ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
}

/// "Loading…" while a list is on its way.
pub(crate) fn loading() -> impl IntoView {
    view! { <p class="muted">{tr(Text::Loading)}</p> }
}

/// An RFC 3339 time from the server as Shanghai wall-clock time to the minute,
/// `2026-12-06 08:58` (the form date-time inputs take); unreadable text as it is.
pub(crate) fn local_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| crate::format::shanghai_minutes(t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// An RFC 3339 time from the server as its Shanghai calendar date; unreadable text as it is.
pub(crate) fn local_date(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| crate::format::shanghai_date(t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// A car park by id, as `code name`, or `#id` when unknown.
pub(crate) fn park_label(parks: &[Park], id: i64) -> String {
    parks
        .iter()
        .find(|p| p.id == id)
        .map(|p| format!("{} {}", p.code, p.name))
        .unwrap_or_else(|| format!("#{id}"))
}

/// Checkboxes choosing car parks into `chosen`; test ids are `{prefix}-{park code}`.
pub(crate) fn park_picker(
    parks: Signal<Vec<Park>>,
    chosen: RwSignal<Vec<i64>>,
    prefix: &'static str,
) -> impl IntoView {
    move || {
        parks
            .get()
            .into_iter()
            .map(|p| {
                let id = p.id;
                view! {
                    <label class="check">
                        <input type="checkbox" data-testid=format!("{prefix}-{}", p.code)
                            prop:checked=move || chosen.with(|c| c.contains(&id))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                chosen.update(|c| {
                                    c.retain(|x| *x != id);
                                    if on {
                                        c.push(id);
                                    }
                                });
                            } />
                        {format!("{} {}", p.code, p.name)}
                    </label>
                }
            })
            .collect_view()
    }
}
