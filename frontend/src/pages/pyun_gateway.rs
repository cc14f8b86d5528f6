//! A car park's P云 gateway (admin, `/parks/:id/pyun`): whether P云 car-park access is on, the
//! URL to register with P云 (this page's origin and the server's gateway path) with a copy
//! button, our uploads to P云 with their resend (`pyun_uploads`), and the last calls P云 made,
//! each opening onto its request and reply.
//!
//! The calls are read when the page opens and when the admin asks (the refresh button): calls
//! come from P云 at its own pace, and a list that moved by itself would close the call opened.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use protocol::pyun_carpark::{ResultCode, Service};
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError, GatewayCall, GatewayView};
use crate::format::{pretty_json, shanghai_seconds};
use crate::i18n::{self, Text, fill, tr};
use crate::pages::layout::guarded;
use crate::pages::pyun_uploads::{Uploads, uploads_section};
use crate::pages::{error_line, loading, park_label};
use crate::ui::{Badge, EmptyState, PageHeader, Table, ToastKind, Tone, toast};

/// How many calls the page lists.
const CALLS: u32 = 50;

/// The P云 gateway page of the car park in the path.
#[component]
pub fn PyunGatewayPage() -> impl IntoView {
    guarded("pyun-gateway", || {
        let params = use_params_map();
        move || match params
            .with(|p| p.get("id"))
            .and_then(|s| s.parse::<i64>().ok())
        {
            Some(id) => gateway_page(id).into_any(),
            None => view! { <p class="error" data-testid="not-found">{tr(Text::PageNotFound)}</p> }
                .into_any(),
        }
    })
}

fn gateway_page(id: i64) -> impl IntoView {
    let parks = LocalResource::new(api::parks);
    let park_name = Signal::derive(move || {
        parks
            .get()
            .and_then(Result::ok)
            .map(|list| park_label(&list, id))
            .unwrap_or_else(|| format!("#{id}"))
    });
    let gateway = RwSignal::new(None::<GatewayView>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let uploads = Uploads::new(id);
    let load = move || {
        busy.set(true);
        spawn_local(async move {
            let answer = api::pyun_gateway(id, CALLS).await;
            let _ = busy.try_set(false);
            match answer {
                Ok(view) => {
                    let _ = error.try_set(None);
                    let _ = gateway.try_set(Some(view));
                }
                Err(e) => {
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };
    load();
    view! {
        <section>
            <PageHeader title=Text::PyunGatewayTitle detail=park_name test_id="pyun-gateway-title">
                <A href="/parks">{tr(Text::ParksTitle)}</A>
                <button type="button" data-testid="pyun-refresh" disabled=move || busy.get()
                    on:click=move |_| {
                        load();
                        uploads.reload();
                    }>{tr(Text::Refresh)}</button>
            </PageHeader>
            {error_line(error, "pyun-gateway-error")}
            {move || match gateway.get() {
                Some(g) => access_view(&g).into_any(),
                None => (error.with(Option::is_none)).then(loading).into_any(),
            }}
        </section>
        {uploads_section(uploads)}
        {move || gateway.get().map(|g| calls_section(g.calls))}
    }
}

/// On or off, the `park_uuid`, and the URL to register with P云.
fn access_view(g: &GatewayView) -> impl IntoView + use<> {
    let url = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
        + &g.gateway_path;
    let (tone, state) = if g.on {
        (Tone::Ok, Text::AccessOn)
    } else {
        (Tone::Neutral, Text::AccessOff)
    };
    let input = NodeRef::<leptos::html::Input>::new();
    let copy_url = url.clone();
    view! {
        <dl class="detail-list" data-testid="pyun-access" data-on=g.on.to_string()>
            <dt>{tr(Text::AccessState)}</dt>
            <dd><Badge tone=tone test_id="pyun-access-state">{tr(state)}</Badge></dd>
            <dt>{tr(Text::PyunParkUuid)}</dt>
            <dd><code data-testid="pyun-park-uuid">{g.park_uuid.clone().unwrap_or_else(|| "—".to_owned())}</code></dd>
        </dl>
        {(!g.on).then(|| view! { <p class="muted" data-testid="pyun-access-off">{tr(Text::AccessOffHint)}</p> })}
        <div class="field gateway-url">
            <span class="field-label">{tr(Text::GatewayUrl)}</span>
            <div class="copy-row">
                <input type="text" readonly=true node_ref=input data-testid="pyun-gateway-url"
                    aria-label=tr(Text::GatewayUrl) prop:value=url on:focus=move |_| select_all(input) />
                <button type="button" data-testid="pyun-gateway-copy"
                    on:click=move |_| copy(copy_url.clone(), input)>{tr(Text::Copy)}</button>
            </div>
            <span class="field-hint">{tr(Text::GatewayUrlHint)}</span>
        </div>
    }
}

fn select_all(input: NodeRef<leptos::html::Input>) {
    if let Some(el) = input.get_untracked() {
        el.select();
    }
}

/// Copies `text` with the Clipboard API; where the page may not (plain HTTP on a LAN address,
/// a refused permission) the address is selected for the admin to copy.
fn copy(text: String, input: NodeRef<leptos::html::Input>) {
    let clipboard = web_sys::window()
        .map(|w| w.navigator())
        .and_then(|n| js_sys::Reflect::get(&n, &"clipboard".into()).ok())
        .filter(|c| !c.is_undefined() && !c.is_null())
        .map(|c| c.unchecked_into::<web_sys::Clipboard>());
    let Some(clipboard) = clipboard else {
        select_all(input);
        toast(
            ToastKind::Failed(ApiError::Invalid {
                what: Text::CopyFailed,
                detail: String::new(),
            }),
            "pyun-copy-failed",
        );
        return;
    };
    let promise = clipboard.write_text(&text);
    spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => toast(ToastKind::Done(Text::Copied), "pyun-copied"),
            Err(_) => {
                select_all(input);
                toast(
                    ToastKind::Failed(ApiError::Invalid {
                        what: Text::CopyFailed,
                        detail: String::new(),
                    }),
                    "pyun-copy-failed",
                );
            }
        }
    });
}

/// The calls, newest first; a click on one shows what was received and answered.
fn calls_section(calls: Vec<GatewayCall>) -> impl IntoView {
    let opened = RwSignal::new(None::<i64>);
    let empty = calls.is_empty();
    view! {
        <section>
            <h3>{tr(Text::RecentCalls)}</h3>
            <p class="muted small">{tr(Text::RecentCallsHint)}</p>
            <Table test_id="pyun-calls" columns=vec![
                Text::At, Text::GatewayService, Text::ResultCode, Text::Message, Text::Latency,
            ]>
                {calls.into_iter().map(|c| call_rows(c, opened)).collect_view()}
            </Table>
            {empty.then(|| view! { <EmptyState test_id="pyun-calls-empty" text=Text::NoCalls /> })}
        </section>
    }
}

/// The short name of a service we implement; `None` for any other.
fn service_label(service: &str) -> Option<Text> {
    Some(match Service::from_name(service)? {
        Service::PaymentBilling => Text::ServiceBilling,
        Service::PaymentResult => Text::ServicePaymentResult,
        Service::DiscountCreate => Text::ServiceDiscountCreate,
        Service::DiscountDestroy => Text::ServiceDiscountDestroy,
        Service::Realtime => Text::ServiceRealtime,
    })
}

/// Green for done, amber for an answer P云 acts on (no record, fixed car, refused), red for a
/// call that failed (bad request, signature, our error, not implemented).
fn code_tone(code: &str) -> Tone {
    match ResultCode::from_code(code) {
        Some(ResultCode::Ok) => Tone::Ok,
        Some(ResultCode::NotFound | ResultCode::FixedCar | ResultCode::Refused) => Tone::Warn,
        Some(
            ResultCode::BadRequest
            | ResultCode::Unauthorized
            | ResultCode::InternalError
            | ResultCode::NotImplemented,
        ) => Tone::Danger,
        None => Tone::Neutral,
    }
}

fn call_rows(c: GatewayCall, opened: RwSignal<Option<i64>>) -> impl IntoView {
    let lang = i18n::lang();
    let id = c.id;
    let is_open = move || opened.get() == Some(id);
    let toggle = move || opened.update(|o| *o = if *o == Some(id) { None } else { Some(id) });
    let raw = c.service.clone().unwrap_or_else(|| "—".to_owned());
    let title = raw.clone();
    let label = c.service.as_deref().and_then(service_label);
    let tone = code_tone(&c.result_code);
    let code = c.result_code.clone();
    let latency = format!("{:.1}", c.latency_ms);
    let request = pretty_json(&c.request);
    let reply = pretty_json(&c.reply);
    view! {
        <tr data-testid=format!("pyun-call-{id}") class="clickable" tabindex="0"
            data-code=code aria-expanded=move || is_open().to_string()
            on:click=move |_| toggle()
            on:keydown=move |ev| if ev.key() == "Enter" { toggle() }>
            <td data-label=tr(Text::At) class="small nowrap" data-testid="call-at">{shanghai_seconds(c.at)}</td>
            <td data-label=tr(Text::GatewayService) data-testid="call-service" title=title>
                {move || label.map_or_else(|| raw.clone(), |l| l.text(lang.get()).to_owned())}
            </td>
            <td data-label=tr(Text::ResultCode)>
                <Badge tone=tone test_id="call-code">{c.result_code}</Badge>
            </td>
            <td data-label=tr(Text::Message) data-testid="call-message">{c.message.clone()}</td>
            <td data-label=tr(Text::Latency) class="nowrap" data-testid="call-latency">
                {move || fill(Text::LatencyMs.text(lang.get()), &[&latency])}
            </td>
        </tr>
        {move || is_open().then(|| view! {
            <tr class="call-detail" data-testid=format!("pyun-call-detail-{id}")>
                <td colspan="5">
                    <div class="call-bodies">
                        <div>
                            <h4>{tr(Text::CallRequest)}</h4>
                            <pre data-testid="call-request">{request.clone()}</pre>
                        </div>
                        <div>
                            <h4>{tr(Text::CallReply)}</h4>
                            <pre data-testid="call-reply">{reply.clone()}</pre>
                        </div>
                    </div>
                </td>
            </tr>
        })}
    }
}
