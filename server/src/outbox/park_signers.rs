//! What signing a car park's P云 request needs — its `app_id`, decrypted `app_secret`, and
//! platform codes — cached for a moment so a burst does not decrypt the secret per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::credentials::{self, CredentialKind};
use crate::parks;
use crate::secrets::{Secret, SecretBox};
use crate::storage::Db;

/// How long a loaded signer is reused; a replaced secret or changed code applies after this.
const TTL: Duration = Duration::from_secs(2);

/// A car park's P云 identity, ready to sign with.
#[derive(Debug)]
pub struct ParkSigner {
    /// The car park's code (for logs).
    pub park_code: String,
    /// P云 `app_id`.
    pub app_id: String,
    /// P云 `app_secret`: only for the signers.
    pub secret: Secret,
    /// P云 `api_store_code` (event coupons).
    pub api_store_code: Option<String>,
    /// P云 `merchant` (grants).
    pub merchant: Option<String>,
    /// P云 `park_uuid` (VIP sync).
    pub park_uuid: Option<String>,
}

/// Why a car park cannot sign a P云 request; shown on the row, so it names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The database could not be read: a transient fault.
    #[error("storage failure: {0}")]
    Storage(#[from] sqlx::Error),
    /// The configuration is incomplete or broken: an admin must act.
    #[error("{0}")]
    NotConfigured(String),
}

/// Loads and caches `ParkSigner`s.
#[derive(Default)]
pub struct ParkSigners {
    cache: Mutex<HashMap<i64, (Instant, Arc<ParkSigner>)>>,
}

impl ParkSigners {
    /// The signer of car park `park_id`.
    pub async fn get(
        &self,
        db: &Db,
        secrets: &SecretBox,
        park_id: i64,
    ) -> Result<Arc<ParkSigner>, SignerError> {
        if let Some((at, signer)) = self.lock().get(&park_id)
            && at.elapsed() < TTL
        {
            return Ok(signer.clone());
        }
        let signer = Arc::new(load(db, secrets, park_id).await?);
        self.lock()
            .insert(park_id, (Instant::now(), signer.clone()));
        Ok(signer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (Instant, Arc<ParkSigner>)>> {
        // A panic while holding this lock cannot leave the map half-written: take it anyway.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn load(db: &Db, secrets: &SecretBox, park_id: i64) -> Result<ParkSigner, SignerError> {
    let park = parks::get(db, park_id).await?.ok_or_else(|| {
        SignerError::NotConfigured(format!("car park {park_id} no longer exists"))
    })?;
    let code = park.fields.code.clone();
    let credential_id = park.fields.pyun_credential_id.ok_or_else(|| {
        SignerError::NotConfigured(format!("car park {code} has no P云 credential"))
    })?;
    let material = credentials::signing_material(db, secrets, credential_id)
        .await
        .map_err(|e| match e {
            credentials::RevealError::Storage(e) => SignerError::Storage(e),
            other => SignerError::NotConfigured(format!(
                "the P云 credential of car park {code} cannot be opened: {other}"
            )),
        })?
        .ok_or_else(|| {
            SignerError::NotConfigured(format!("car park {code}'s P云 credential was deleted"))
        })?;
    if material.kind != CredentialKind::Pyun {
        return Err(SignerError::NotConfigured(format!(
            "car park {code}'s P云 credential is not a P云 credential"
        )));
    }
    Ok(ParkSigner {
        park_code: code,
        app_id: material.public.app_id.clone(),
        secret: material.secret,
        api_store_code: park.fields.pyun_api_store_code,
        merchant: park.fields.pyun_merchant,
        park_uuid: park.fields.pyun_park_uuid,
    })
}
