//! Sending a queued entry notice: load the car park's Mallcoo identity, sign the exact body
//! (§2.6), and read Mallcoo's answer into what the outbox's retry rules decide on.

use chrono::{DateTime, Utc};
use protocol::mallcoo::{EnterNotifyOutcome, MallcooKeys, SignedNotice};

use super::notice::PendingNotice;
use crate::credentials::{self, CredentialKind, RevealError};
use crate::outbox::store::Item;
use crate::parks;
use crate::secrets::SecretBox;
use crate::storage::Db;

/// What to do with a leased notice row.
#[derive(Debug)]
pub enum Prepared {
    /// Send this body with these headers (the body is signed as sent, never re-serialised).
    Send(SignedNotice),
    /// Our configuration is incomplete (no ParkCode, no or wrong credential): an admin must act.
    NotConfigured(String),
    /// The stored row cannot make a notice (unreadable): resending cannot help.
    Invalid(String),
}

/// Signs row `item`'s notice at `now` with its car park's current Mallcoo settings.
///
/// No cache, unlike P云's signers: notices come at the pace of a car park's gates, and reading
/// the settings each time applies an admin's fix to the very next attempt.
pub async fn prepare(
    db: &Db,
    secrets: &SecretBox,
    item: &Item,
    now: DateTime<Utc>,
) -> Result<Prepared, sqlx::Error> {
    let pending: PendingNotice = match serde_json::from_str(&item.request_json) {
        Ok(p) => p,
        Err(e) => return Ok(Prepared::Invalid(format!("stored notice unreadable: {e}"))),
    };
    let Some(park) = parks::get(db, item.park_id).await? else {
        return Ok(Prepared::NotConfigured(format!(
            "car park {} no longer exists",
            item.park_id
        )));
    };
    let code = park.fields.code;
    let Some(park_code) = park.fields.mallcoo_park_code.filter(|c| !c.is_empty()) else {
        return Ok(Prepared::NotConfigured(format!(
            "car park {code} has no Mallcoo ParkCode"
        )));
    };
    let Some(credential_id) = park.fields.mallcoo_out_credential_id else {
        return Ok(Prepared::NotConfigured(format!(
            "car park {code} has no outbound Mallcoo credential"
        )));
    };
    let material = match credentials::signing_material(db, secrets, credential_id).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            return Ok(Prepared::NotConfigured(format!(
                "car park {code}'s outbound Mallcoo credential was deleted"
            )));
        }
        Err(RevealError::Storage(e)) => return Err(e),
        Err(other) => {
            return Ok(Prepared::NotConfigured(format!(
                "the outbound Mallcoo credential of car park {code} cannot be opened: {other}"
            )));
        }
    };
    if material.kind != CredentialKind::MallcooOutbound {
        return Ok(Prepared::NotConfigured(format!(
            "car park {code}'s outbound Mallcoo credential is not a mallcoo_outbound credential"
        )));
    }
    let Some(public_key) = material.public.public_key.as_deref() else {
        return Ok(Prepared::NotConfigured(format!(
            "car park {code}'s outbound Mallcoo credential has no PublicKey"
        )));
    };
    let keys = MallcooKeys {
        app_id: &material.public.app_id,
        public_key,
        private_key: material.secret.expose(),
    };
    Ok(Prepared::Send(
        pending.to_notice(&park_code).sign(&keys, now),
    ))
}

/// Mallcoo's answer to a notice: the HTTP status and what its body says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeAnswer {
    /// The HTTP status.
    pub http_status: u16,
    /// The body's `Code`, classified (an unreadable body is `Transient`).
    pub outcome: EnterNotifyOutcome,
}

impl NoticeAnswer {
    /// Reads an answer as received.
    pub fn read(http_status: u16, body: &[u8]) -> NoticeAnswer {
        NoticeAnswer {
            http_status,
            outcome: EnterNotifyOutcome::from_body(body),
        }
    }

    /// The `Code` as stored on the row (`None` for an unreadable body).
    pub fn code(&self) -> Option<i64> {
        match &self.outcome {
            EnterNotifyOutcome::Success => Some(1),
            EnterNotifyOutcome::Invalid { .. } => Some(2),
            EnterNotifyOutcome::Misconfigured { .. } => Some(1101),
            EnterNotifyOutcome::Transient { code, .. } => *code,
        }
    }

    /// Mallcoo's `Message` (or why the body was unreadable).
    pub fn message(&self) -> &str {
        match &self.outcome {
            EnterNotifyOutcome::Success => "",
            EnterNotifyOutcome::Invalid { message }
            | EnterNotifyOutcome::Misconfigured { message }
            | EnterNotifyOutcome::Transient { message, .. } => message,
        }
    }
}
