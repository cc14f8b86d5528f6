//! Sending a queued upload: open the car park's `pyun_carpark` credential, sign the stored fields
//! with its `upload_secret` (S-FORM, `&app_secret=`), and read P云's answer into what the
//! outbox's retry rules decide on (pyun-carpark.md §4.4).

use protocol::pyun::{Outcome, decode_response};
use protocol::pyun_carpark::{ENTER_PATH, LEAVE_PATH, UploadForm, UploadOutcome};

use super::fields::{EnterFields, LeaveFields};
use crate::credentials::{self, CarparkKeys, CredentialKind, RevealError};
use crate::outbox::Kind;
use crate::outbox::store::Item;
use crate::parks;
use crate::pyun_client::{Endpoint, TransportError};
use crate::secrets::{Secret, SecretBox};
use crate::storage::Db;

/// What to do with a leased upload row.
#[derive(Debug)]
pub enum Prepared {
    /// Send this signed upload.
    Send(Box<Signed>),
    /// Our configuration is incomplete or broken (no access, no or wrong credential): an admin must act.
    NotConfigured(String),
    /// The stored row cannot make an upload: resending cannot help.
    Invalid(String),
}

/// An upload signed for sending.
#[derive(Debug)]
pub struct Signed {
    /// For logs and metrics.
    pub endpoint: Endpoint,
    /// `ENTER_PATH` or `LEAVE_PATH`.
    pub path: &'static str,
    /// The signed text fields.
    pub form: UploadForm,
    /// The car park's code, for the log.
    pub park_code: String,
    /// The stay's serial, for the log.
    pub parking_serial: String,
    /// The secret it was signed with: only to scrub it from anything P云 echoes back.
    secret: Secret,
}

impl Signed {
    /// Reads P云's answer to this upload. P云 masks the secret in its hint (`app_secret=***`);
    /// should an answer ever carry ours anyway, it is masked before anything is stored or logged.
    pub fn read_answer(&self, http_status: u16, body: &[u8]) -> UploadAnswer {
        let secret = self.secret.expose();
        let text = String::from_utf8_lossy(body);
        if secret.is_empty() || !text.contains(secret) {
            return UploadAnswer::read(http_status, body);
        }
        UploadAnswer::read(http_status, text.replace(secret, "***").as_bytes())
    }

    /// Logs P云's answer (or its absence) with the car park, the stay's serial and P云's
    /// `seqno`; on a signature refusal also our plaintext, secret masked, to diff with P云's hint.
    pub fn log(&self, kind: Kind, answer: &Result<UploadAnswer, &TransportError>) {
        let (park, parking_serial) = (self.park_code.as_str(), self.parking_serial.as_str());
        let a = match answer {
            Ok(a) => a,
            Err(e) => {
                tracing::info!(
                    park,
                    parking_serial,
                    kind = kind.as_str(),
                    error = e.message(),
                    "P云 upload got no answer"
                );
                return;
            }
        };
        match &a.outcome {
            UploadOutcome::SignatureRejected { hint } if blames_signature(hint) => {
                tracing::warn!(
                    park,
                    parking_serial,
                    seqno = a.seqno(),
                    ours = %self.form.plaintext_masked(),
                    theirs = hint.as_str(),
                    "P云 refused an upload's signature"
                );
            }
            outcome => tracing::info!(
                park,
                parking_serial,
                seqno = a.seqno(),
                http_status = a.http_status,
                outcome = ?outcome,
                kind = kind.as_str(),
                "P云 upload answered"
            ),
        }
    }
}

/// Signs upload row `item` with its car park's current credential.
///
/// Read at send time, uncached like Mallcoo's notices: uploads come at the pace of a car park's
/// gates, and an admin's fix (a replaced upload secret) applies to the very next attempt.
pub async fn prepare(db: &Db, secrets: &SecretBox, item: &Item) -> Result<Prepared, sqlx::Error> {
    let parsed = match item.kind {
        Kind::PyunEnter => serde_json::from_str(&item.request_json).map(Upload::Enter),
        Kind::PyunLeave => serde_json::from_str(&item.request_json).map(Upload::Leave),
        other => {
            return Ok(Prepared::Invalid(format!(
                "a {} row is not a P云 upload",
                other.as_str()
            )));
        }
    };
    let upload = match parsed {
        Ok(u) => u,
        Err(e) => return Ok(Prepared::Invalid(format!("stored upload unreadable: {e}"))),
    };
    let entry = upload.entry();
    let (parking_serial, park_uuid) = (entry.parking_serial.clone(), entry.park_uuid.clone());
    let Some(park) = parks::get(db, item.park_id).await? else {
        return Ok(Prepared::NotConfigured(format!(
            "car park {} no longer exists",
            item.park_id
        )));
    };
    let code = park.fields.code;
    let Some(credential_id) = park.fields.pyun_carpark_credential_id else {
        return Ok(Prepared::NotConfigured(format!(
            "car park {code} is no longer on P云 car-park access (no pyun_carpark credential)"
        )));
    };
    if park_uuid.trim().is_empty() {
        return Ok(Prepared::NotConfigured(format!(
            "car park {code} had no P云 park_uuid when the stay was recorded"
        )));
    }
    let material = match credentials::signing_material(db, secrets, credential_id).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            return Ok(Prepared::NotConfigured(format!(
                "car park {code}'s pyun_carpark credential was deleted"
            )));
        }
        Err(RevealError::Storage(e)) => return Err(e),
        Err(other) => {
            return Ok(Prepared::NotConfigured(format!(
                "the pyun_carpark credential of car park {code} cannot be opened: {other}"
            )));
        }
    };
    if material.kind != CredentialKind::PyunCarpark {
        return Ok(Prepared::NotConfigured(format!(
            "car park {code}'s P云 car-park credential is not a pyun_carpark credential"
        )));
    }
    let Some(keys) = CarparkKeys::from_secret(&material.secret) else {
        return Ok(Prepared::NotConfigured(format!(
            "the pyun_carpark credential of car park {code} does not hold an upload secret"
        )));
    };
    if keys.upload_secret.is_empty() {
        return Ok(Prepared::NotConfigured(format!(
            "the pyun_carpark credential of car park {code} has an empty upload secret"
        )));
    }
    let signed = match &upload {
        Upload::Enter(f) => f
            .to_entry()
            .and_then(|e| e.to_form(&keys.upload_secret).map_err(|e| e.to_string())),
        Upload::Leave(f) => f
            .to_leave()
            .and_then(|l| l.to_form(&keys.upload_secret).map_err(|e| e.to_string())),
    };
    let form = match signed {
        Ok(form) => form,
        Err(why) => {
            return Ok(Prepared::Invalid(format!(
                "the upload cannot be sent: {why}"
            )));
        }
    };
    let (endpoint, path) = match upload {
        Upload::Enter(_) => (Endpoint::PyunEnter, ENTER_PATH),
        Upload::Leave(_) => (Endpoint::PyunLeave, LEAVE_PATH),
    };
    Ok(Prepared::Send(Box::new(Signed {
        endpoint,
        path,
        form,
        park_code: code,
        parking_serial,
        secret: Secret::new(keys.upload_secret.clone()),
    })))
}

enum Upload {
    Enter(EnterFields),
    Leave(LeaveFields),
}

impl Upload {
    fn entry(&self) -> &EnterFields {
        match self {
            Upload::Enter(f) => f,
            Upload::Leave(f) => &f.entry,
        }
    }
}

/// Whether a "200 + hint" answer blames the signature (`签名验证不通过[…]`, the one case DOC shows).
///
/// P云 also says it ignores a repeated `parking_serial` (§4.2) without documenting the answer; a
/// resend after a lost answer may well get "200 + hint" about that, which is no fault of ours.
pub fn blames_signature(hint: &str) -> bool {
    hint.contains("签名")
}

/// P云's answer to an upload: the status, what the body means (§4.4), and its envelope.
#[derive(Debug, Clone)]
pub struct UploadAnswer {
    /// The HTTP status.
    pub http_status: u16,
    /// What the body means, whatever the status ("200 + hint" is a signature failure).
    pub outcome: UploadOutcome,
    /// The envelope (`code`, `message`, `hint`, `seqno`), or an excerpt of an undecodable body.
    pub decoded: Outcome,
}

impl UploadAnswer {
    /// Reads an answer as received; the body decides even on a non-200 status.
    pub fn read(http_status: u16, body: &[u8]) -> UploadAnswer {
        UploadAnswer {
            http_status,
            outcome: UploadOutcome::of_body(body),
            decoded: decode_response(http_status, body),
        }
    }

    /// P云's `seqno` (quote it to P云 support), `""` when absent.
    pub fn seqno(&self) -> &str {
        self.decoded
            .response()
            .and_then(|r| r.seqno.as_deref())
            .unwrap_or("")
    }

    /// P云's `code` and `message` in a line, or the excerpt of an undecodable body.
    pub fn describe(&self) -> String {
        match &self.decoded {
            Outcome::Answered { response, .. } => {
                format!(
                    "P云 answered {} (HTTP {}): {}",
                    response.code, self.http_status, response.message
                )
            }
            Outcome::Undecodable {
                http_status,
                excerpt,
            } => format!("P云 answered HTTP {http_status} with no envelope: {excerpt}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_decides_and_keeps_the_seqno_even_on_an_error_status() {
        let a = UploadAnswer::read(
            500,
            r#"{"code":"1001","message":"OK","seqno":"S1"}"#.as_bytes(),
        );
        assert_eq!(a.outcome, UploadOutcome::Accepted);
        assert_eq!(a.seqno(), "S1");
        let a = UploadAnswer::read(502, b"<html>bad gateway</html>");
        assert_eq!(a.outcome, UploadOutcome::Transient);
        assert_eq!(a.seqno(), "");
        assert!(
            a.describe().contains("HTTP 502 with no envelope"),
            "{}",
            a.describe()
        );
    }

    #[test]
    fn an_answer_that_echoes_our_secret_is_masked_before_anyone_reads_it() {
        let session = crate::parking::SessionView {
            id: 1,
            plate: None,
            plate_color: None,
            barcode: Some("T1".into()),
            entry_at: chrono::DateTime::UNIX_EPOCH,
            entry_gate: None,
            exit_at: None,
            exit_gate: None,
            state: "open".into(),
            fee_due_fen: None,
            vip: false,
        };
        let secret = "s3cr3t-upload";
        let form = super::super::fields::enter_fields(&session, false, "uuid", None)
            .to_entry()
            .unwrap()
            .to_form(secret)
            .unwrap();
        let signed = Signed {
            endpoint: Endpoint::PyunEnter,
            path: ENTER_PATH,
            form,
            park_code: "p".into(),
            parking_serial: "PB1".into(),
            secret: Secret::new(secret.into()),
        };
        let body = format!(
            r#"{{"code":"200","message":"已忽略当前请求","hint":"签名验证不通过[a=1&app_secret={secret}]"}}"#
        );
        let a = signed.read_answer(200, body.as_bytes());
        let UploadOutcome::SignatureRejected { hint } = &a.outcome else {
            panic!("{:?}", a.outcome)
        };
        assert_eq!(hint, "签名验证不通过[a=1&app_secret=***]");
        let stored = a.decoded.response().and_then(|r| r.hint.clone()).unwrap();
        assert!(!stored.contains(secret));
        assert!(!signed.form.plaintext_masked().contains(secret));
    }
}
