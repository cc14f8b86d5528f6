//! The UI kit every page is built from: one look for lists, forms, questions and messages.
//!
//! | component | what it is |
//! |---|---|
//! | [`DataTable`], [`Table`], [`Pager`], [`EmptyState`] | a list: headings, rows, "第 a–b 条，共 n 条", an empty state; stacked cards under 640 px |
//! | [`Field`], [`TextInput`], [`DateInput`], [`DateTimeInput`] | a form field: label, hint, inline error; dates typed as `2026-12-06` / `2026-12-06 08:58` whatever the browser's locale |
//! | [`confirm`] + [`ConfirmHost`] | "are you sure?" before something that cannot be undone |
//! | [`toast`] + [`ToastHost`] | "已保存" / "失败: …", gone by themselves, read out by screen readers |
//! | [`Badge`] | a status as a small pill whose text keeps ≥ 4.5:1 contrast |
//! | [`PageHeader`] | the page's title with its actions on the right |
//! | [`PlateKeyboard`] | a Chinese plate typed with thumbs: provinces, letters and digits, special last characters, the green eighth box |
//!
//! The hosts ([`ConfirmHost`], [`ToastHost`]) sit once in `App`; pages only call the functions.
//! The kit lives in the main module, which the sign-in page and the frame already load, so a
//! page group's chunk never carries a second copy.

// `#[component]` gives each props struct a `pub fn builder()`, which `unreachable_pub` flags in a
// private module.
#![allow(unreachable_pub)]

mod badge;
mod confirm;
mod data_table;
mod field;
mod page_header;
mod plate_keyboard;
mod toast;

pub(crate) use badge::{Badge, Tone};
pub(crate) use confirm::ConfirmHost;
pub(crate) use confirm::{Question, confirm};
pub(crate) use data_table::{DataTable, EmptyState, Pager, Table};
pub(crate) use field::{DateInput, DateTimeInput, Field, TextInput, parse_date};
pub(crate) use page_header::PageHeader;
pub(crate) use plate_keyboard::PlateKeyboard;
pub(crate) use toast::ToastHost;
pub(crate) use toast::{ToastKind, toast};

/// Provides what the kit's functions ([`confirm`], [`toast`]) need; `App` calls it once.
pub(crate) fn provide() {
    confirm::provide();
    toast::provide();
}
