//! P云's upload endpoints for car parks, `internal/enter` and `internal/leave`
//! (pyun-carpark.md §4): read the multipart body, record it, play any fault, judge it
//! (`upload_check`), learn the stay, and answer P云's envelope with `code` as a string.
//!
//! A body that is not readable multipart gets P云's `400`, never a panic or axum's own text.

use std::time::Instant;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::response::Response;
use axum::{Extension, Router, routing::post};
use protocol::pyun_carpark::{ENTER_PATH, LEAVE_PATH, image_hash};
use serde::{Deserialize, Serialize};

use super::PyunSandbox;
use super::conn::DropConnection;
use super::faults::Fault;
use super::handlers::play;
use super::records::Answer;
use super::reply::Reply;
use super::state::State as SandboxState;
use super::stays::{StayChange, StayFields};
use super::upload_check::{Parts, Verdict, check};

/// Which upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadPath {
    /// `internal/enter`.
    Enter,
    /// `internal/leave`.
    Leave,
}

/// A file part as received: its size and MD5, not its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadFile {
    /// The part's name, e.g. `enter_image_file`.
    pub name: String,
    /// Its length in bytes.
    pub len: usize,
    /// `UPPER(HEX(MD5))` of its bytes, what `*_image_hash` must say.
    pub md5: String,
}

/// One upload as received, with what P云 made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// Arrival order among uploads, from 1.
    pub seq: u64,
    /// Which upload.
    pub path: UploadPath,
    /// The car park it names (`park_uuid`, or found by `merchant`), if any.
    pub park_uuid: Option<String>,
    /// Its `parking_serial`, if sent.
    pub parking_serial: Option<String>,
    /// Its `plate` as sent.
    pub plate: Option<String>,
    /// Every text part, `sign` included, in the order received.
    pub fields: Vec<(String, String)>,
    /// The file parts.
    pub files: Vec<UploadFile>,
    /// Why the body could not be read as multipart, if it could not.
    pub unreadable: Option<String>,
    /// Whether the signature verified; `None` when not checked (refused earlier, no `sign`, a fault).
    pub sign_ok: Option<bool>,
    /// Whether every `*_image_hash` is its file's MD5; `None` without files.
    pub image_hash_ok: Option<bool>,
    /// A repeat of an accepted upload of the same (`park_uuid`, `parking_serial`) and path:
    /// answered as accepted, ignored.
    pub duplicate: bool,
    /// What it did to the stays, when accepted.
    pub stay_change: Option<StayChange>,
    /// What the sandbox answered; all `None` while it is being answered.
    pub answer: Answer,
    /// The answer's `hint`, if any.
    pub hint: Option<String>,
}

/// The upload routes, at P云's paths.
pub(crate) fn routes() -> Router<PyunSandbox> {
    Router::new()
        .route(ENTER_PATH, post(enter))
        .route(LEAVE_PATH, post(leave))
}

async fn enter(
    State(sb): State<PyunSandbox>,
    kill: Option<Extension<DropConnection>>,
    body: Result<Multipart, MultipartRejection>,
) -> Response {
    upload(sb, UploadPath::Enter, kill, body).await
}

async fn leave(
    State(sb): State<PyunSandbox>,
    kill: Option<Extension<DropConnection>>,
    body: Result<Multipart, MultipartRejection>,
) -> Response {
    upload(sb, UploadPath::Leave, kill, body).await
}

/// Reads every part; a text part must be UTF-8. Parts without a name carry nothing P云 reads.
async fn read_parts(body: Result<Multipart, MultipartRejection>) -> Result<Parts, String> {
    let mut body = body.map_err(|e| e.body_text())?;
    let mut parts = Parts::default();
    while let Some(field) = body.next_field().await.map_err(|e| e.body_text())? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        // A file part is one with a filename (P云's sample sends `filename=""`) or an `*_file` name.
        let is_file = field.file_name().is_some() || name.ends_with("_file");
        let bytes = field.bytes().await.map_err(|e| e.body_text())?;
        if is_file {
            parts.files.push((name, bytes.to_vec()));
        } else {
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| format!("参数`{name}`不是UTF-8文本"))?;
            parts.texts.push((name, text));
        }
    }
    Ok(parts)
}

/// One upload from its body to its answer.
async fn upload(
    sb: PyunSandbox,
    path: UploadPath,
    kill: Option<Extension<DropConnection>>,
    body: Result<Multipart, MultipartRejection>,
) -> Response {
    let started = Instant::now();
    let parts = read_parts(body).await;
    let (seq, seqno, fault) = sb.with(|s| s.arrive_upload(path, &parts));
    let latency = sb.with(|s| s.latency);
    let apply = || sb.with(|s| s.apply_upload(seq, path, &parts));
    let record = |answer: Answer| sb.with(|s| s.answered_upload(seq, answer));
    let what = format!("{path:?} upload #{seq}");
    let reply = match play(fault, latency, kill, apply, record, &what).await {
        Ok(reply) => reply,
        Err(response) => return response,
    };
    if let Some(hint) = &reply.hint {
        let hint = hint.clone();
        sb.with(|s| {
            if let Some(u) = s.upload_mut(seq) {
                u.hint = Some(hint);
            }
        });
    }
    tracing::debug!(seq, ?path, code = %reply.code, "P云 sandbox answered an upload");
    let time_cost = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    reply.into_response(&seqno, time_cost)
}

impl SandboxState {
    /// Records an upload on arrival and picks its fault; returns its `seq`, `seqno` and fault.
    fn arrive_upload(
        &mut self,
        path: UploadPath,
        parts: &Result<Parts, String>,
    ) -> (u64, String, Option<Fault>) {
        let seq = self.uploads.len() as u64 + 1;
        let (fields, files, unreadable) = match parts {
            Ok(p) => (
                p.texts.clone(),
                p.files
                    .iter()
                    .map(|(name, bytes)| UploadFile {
                        name: name.clone(),
                        len: bytes.len(),
                        md5: image_hash(bytes),
                    })
                    .collect(),
                None,
            ),
            Err(e) => (Vec::new(), Vec::new(), Some(e.clone())),
        };
        let text = |name: &str| {
            parts
                .as_ref()
                .ok()
                .and_then(|p| p.text(name))
                .map(str::to_owned)
        };
        let park_uuid = text("park_uuid").or_else(|| {
            let merchant = text("merchant")?;
            Some(self.carparks.by_merchant(&merchant)?.reg.park_uuid.clone())
        });
        let fault = self.upload_faults.take(path, park_uuid.as_deref());
        self.uploads.push(Upload {
            seq,
            path,
            park_uuid,
            parking_serial: text("parking_serial"),
            plate: text("plate"),
            fields,
            files,
            unreadable,
            sign_ok: None,
            image_hash_ok: None,
            duplicate: false,
            stay_change: None,
            answer: Answer::default(),
            hint: None,
        });
        (seq, format!("{}U{seq:08}", self.instance()), fault)
    }

    /// Judges upload `seq` and learns its stay; the reply to send.
    fn apply_upload(&mut self, seq: u64, path: UploadPath, parts: &Result<Parts, String>) -> Reply {
        let parts = match parts {
            Ok(p) => p,
            Err(e) => return Reply::invalid(format!("multipart/form-data 解析失败: {e}")),
        };
        let checked = check(path, parts, &self.carparks);
        let mut change = None;
        let reply = match checked.verdict {
            Verdict::Invalid(hint) => Reply::invalid(hint),
            Verdict::UnknownPark(name) => Reply {
                status: 403,
                code: "403".into(),
                message: "请求被拦截".into(),
                hint: Some(format!("车场`{name}`未接入")),
                payload: None,
            },
            Verdict::SignHint(hint) => Reply::ok("200", "已忽略当前请求").with_hint(hint),
            Verdict::Accepted(a) => {
                let fields = StayFields {
                    park_uuid: &a.park_uuid,
                    parking_serial: &a.parking_serial,
                    plate: a.plate.clone(),
                    enter_time: a.enter_time,
                };
                change = Some(match a.leave_time {
                    None => self.stays.enter(&fields),
                    Some(leave_time) => self.stays.leave(&fields, leave_time),
                });
                // No hint on any accepted answer, a repeat included: `200` with a hint means
                // "bad signature" to the car park (§4.4).
                Reply::ok("200", "成功受理")
            }
        };
        if let Some(u) = self.upload_mut(seq) {
            u.park_uuid = checked.park_uuid.or(u.park_uuid.take());
            u.sign_ok = checked.sign_ok;
            u.image_hash_ok = checked.image_hash_ok;
            u.duplicate = change == Some(StayChange::Repeat);
            u.stay_change = change;
        }
        reply
    }

    /// Stores the answer given to upload `seq`.
    fn answered_upload(&mut self, seq: u64, answer: Answer) {
        if let Some(u) = self.upload_mut(seq) {
            u.answer = answer;
        }
    }

    fn upload_mut(&mut self, seq: u64) -> Option<&mut Upload> {
        // `seq` is the 1-based index: uploads are only ever appended.
        usize::try_from(seq.checked_sub(1)?)
            .ok()
            .and_then(|i| self.uploads.get_mut(i))
    }
}
