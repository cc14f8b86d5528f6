//! CSV import at /vip/import: the chosen file's bytes go to the server as they are (it decodes
//! UTF-8/GBK), first as a preview that writes nothing, then — the same bytes — confirmed.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use serde_json::Value;
use wasm_bindgen_futures::JsFuture;

use crate::api::{self, ApiError, ImportPreviewRow, ImportReport, ImportRowError};
use crate::i18n::{self, Text, fill, tr};
use crate::pages::error_line;
use crate::pages::layout::guarded;
use crate::pages::vip_labels::{
    PLATE_COLORS, VIP_TYPES, chosen_park, label_of, label_text, park_select, period_text,
};
use crate::ui::{Field, PageHeader, Table};

/// The import page.
#[component]
pub fn VipImportPage() -> impl IntoView {
    guarded("vip-import", import_page)
}

fn invalid(what: Text) -> ApiError {
    ApiError::Invalid {
        what,
        detail: String::new(),
    }
}

/// The whole of a chosen file.
async fn read_file(file: web_sys::File) -> Result<Vec<u8>, ApiError> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| invalid(Text::FileUnreadable))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

fn import_page() -> impl IntoView {
    let lang = i18n::lang();
    let parks = LocalResource::new(api::parks);
    let park_list = Signal::derive(move || parks.get().and_then(Result::ok).unwrap_or_default());
    let park = chosen_park(park_list);
    let file_input = NodeRef::<leptos::html::Input>::new();
    let encoding = RwSignal::new("auto".to_owned());
    // The bytes the shown preview was made from: confirming sends exactly these.
    let previewed = StoredValue::new(None::<Vec<u8>>);
    let report = RwSignal::new(None::<ImportReport>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let reset = move || {
        previewed.set_value(None);
        report.set(None);
        error.set(None);
    };
    // Another car park or encoding makes the preview stale.
    Effect::new(move |_| {
        park.track();
        encoding.track();
        reset();
    });

    let preview = move |_| {
        error.set(None);
        let Some(park_id) = park.get_untracked() else {
            return error.set(Some(invalid(Text::ParkRequired)));
        };
        let Some(file) = file_input
            .get_untracked()
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
        else {
            return error.set(Some(invalid(Text::FileRequired)));
        };
        let choice = encoding.get_untracked();
        busy.set(true);
        report.set(None);
        spawn_local(async move {
            let answer = match read_file(file).await {
                Ok(bytes) => {
                    let answer = api::vip_import(park_id, &choice, false, &bytes).await;
                    previewed.set_value(Some(bytes));
                    answer
                }
                Err(e) => Err(e),
            };
            let _ = busy.try_set(false);
            match answer {
                Ok(r) => {
                    let _ = report.try_set(Some(r));
                }
                Err(e) => {
                    previewed.set_value(None);
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };
    let confirm = move |_| {
        let (Some(park_id), Some(bytes)) = (park.get_untracked(), previewed.get_value()) else {
            return;
        };
        let choice = encoding.get_untracked();
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            let answer = api::vip_import(park_id, &choice, true, &bytes).await;
            let _ = busy.try_set(false);
            match answer {
                Ok(r) => {
                    let _ = report.try_set(Some(r));
                }
                Err(e) => {
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };
    let can_confirm = move || {
        !busy.get() && report.with(|r| r.as_ref().is_some_and(|r| !r.written && r.valid > 0))
    };
    let valid = move || report.with(|r| r.as_ref().map_or(0, |r| r.valid));
    let encodings = [
        ("auto", Text::EncodingAuto),
        ("utf-8", Text::EncodingUtf8),
        ("gbk", Text::EncodingGbk),
    ];
    view! {
        <section>
            <PageHeader title=Text::VipImportTitle>
                <A href=move || format!("/vip?park={}", park.get().unwrap_or_default()) {..} data-testid="vip-back">{tr(Text::VipBack)}</A>
            </PageHeader>
            {move || parks.get().and_then(Result::err).map(|e| error_line(RwSignal::new(Some(e)), "vip-import-parks-error"))}
            <p class="muted">{tr(Text::ImportNothingWritten)}</p>
            <div class="filters">
                {park_select(park_list, park, "vip-import-park")}
                <Field label=Text::CsvFile>
                    <input type="file" accept=".csv,text/csv" data-testid="vip-import-file" node_ref=file_input
                        on:change=move |_| reset() />
                </Field>
                <Field label=Text::Encoding>
                    <select data-testid="vip-import-encoding" on:change=move |ev| encoding.set(event_target_value(&ev))>
                        {encodings.into_iter().map(|(code, label)| view! {
                            <option value=code selected=move || encoding.get() == code>{tr(label)}</option>
                        }).collect_view()}
                    </select>
                </Field>
            </div>
            <div class="actions">
                <button type="button" data-testid="vip-import-preview" disabled=move || busy.get() on:click=preview>
                    {tr(Text::ImportPreview)}
                </button>
                " "
                <button type="button" data-testid="vip-import-confirm" disabled=move || !can_confirm() on:click=confirm>
                    {move || fill(Text::ImportConfirm.text(lang.get()), &[&valid().to_string()])}
                </button>
            </div>
            {move || busy.get().then(|| view! { <p class="muted" data-testid="vip-import-busy">{tr(Text::Working)}</p> })}
            {error_line(error, "vip-import-error")}
            {move || report.get().map(report_view)}
        </section>
    }
}

fn report_view(r: ImportReport) -> impl IntoView {
    let lang = i18n::lang();
    let line = move |key: Text, test_id: &'static str, value: String| {
        view! { <span data-testid=test_id>{move || fill(key.text(lang.get()), &[&value])}</span>" · " }
    };
    view! {
        <div class="result" data-testid="vip-import-report" data-written=r.written.to_string()>
            {r.written.then(|| {
                let created = r.created.to_string();
                let attribute = created.clone();
                view! {
                    <p class="ok" data-testid="vip-import-created" data-created=attribute>
                        {move || fill(Text::ImportCreated.text(lang.get()), &[&created])}
                    </p>
                }
            })}
            <p>
                {line(Text::EncodingUsed, "vip-import-encoding-used", r.encoding.clone())}
                {line(Text::DataLines, "vip-import-data-lines", r.data_lines.to_string())}
                {line(Text::ValidLines, "vip-import-valid", r.valid.to_string())}
            </p>
            {(!r.errors.is_empty()).then(|| view! {
                <h4>{tr(Text::ImportErrors)}</h4>
                <Table test_id="vip-import-errors" columns=vec![Text::Line, Text::Column, Text::Message]>
                    {r.errors.into_iter().enumerate().map(|(i, e)| error_row(i, e)).collect_view()}
                </Table>
            })}
            {(!r.preview.is_empty()).then(|| view! {
                <h4>{tr(Text::PreviewRows)}</h4>
                <Table test_id="vip-import-rows" columns=vec![
                    Text::Line, Text::Plate, Text::PlateColor, Text::VipType, Text::ChargeType, Text::Period,
                ]>
                    {r.preview.into_iter().map(preview_row).collect_view()}
                </Table>
            })}
        </div>
    }
    .into_any()
}

fn error_row(index: usize, e: ImportRowError) -> impl IntoView {
    view! {
        <tr data-testid=format!("vip-import-error-{index}") data-line=e.line.to_string()>
            <td data-label=tr(Text::Line) data-testid="vip-import-error-line">{e.line}</td>
            <td data-label=tr(Text::Column) data-testid="vip-import-error-column">{e.column.unwrap_or_default()}</td>
            <td data-label=tr(Text::Message) data-testid="vip-import-error-message">{e.message}</td>
        </tr>
    }
}

/// A code the server may send as a number or as text, translated through `table` when known.
fn code_name<K: PartialEq + TryFrom<i64>>(
    table: &[(K, Text)],
    value: &Value,
) -> impl Fn() -> String + use<K> {
    let raw = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let label = raw
        .parse::<i64>()
        .ok()
        .and_then(|n| K::try_from(n).ok())
        .and_then(|k| label_of(table, &k));
    label_text(label, raw)
}

fn preview_row(p: ImportPreviewRow) -> impl IntoView {
    view! {
        <tr data-testid=format!("vip-import-row-{}", p.line)>
            <td data-label=tr(Text::Line)>{p.line}</td>
            <td data-label=tr(Text::Plate) data-testid="vip-import-row-plate">{p.plate.clone()}</td>
            <td data-label=tr(Text::PlateColor) data-testid="vip-import-row-color">{code_name(&PLATE_COLORS, &p.plate_color)}</td>
            <td data-label=tr(Text::VipType) data-testid="vip-import-row-type">{code_name(&VIP_TYPES, &p.vip_type)}</td>
            <td data-label=tr(Text::ChargeType) data-testid="vip-import-row-charge-type">{p.charge_type.clone().unwrap_or_default()}</td>
            <td data-label=tr(Text::Period) class="small" data-testid="vip-import-row-period">{period_text(p.valid_from.as_deref(), p.valid_to.as_deref())}</td>
        </tr>
    }
}
