//! Stored credentials for P云 and Mallcoo: public parts in clear, the secret sealed.
//!
//! Nothing here returns a secret except [`signing_material`], which exists for the outbound
//! signers; every view type lacks the secret by construction.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::secrets::{OpenError, Secret, SecretBox};
use crate::storage::{Db, from_ms, to_ms};
use crate::tokens;

/// What a credential is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// P云 `app_id` + `app_secret` for our outbound calls.
    Pyun,
    /// Mallcoo open-platform AppID/PublicKey/PrivateKey for our outbound calls.
    MallcooOutbound,
    /// The key pair we issue to Mallcoo to sign its calls to us.
    MallcooInbound,
    /// P云 car-park access: the upload secret (`&app_secret=`) and the downlink key (`&key=`).
    PyunCarpark,
}

impl CredentialKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Pyun => "pyun",
            CredentialKind::MallcooOutbound => "mallcoo_outbound",
            CredentialKind::MallcooInbound => "mallcoo_inbound",
            CredentialKind::PyunCarpark => "pyun_carpark",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<CredentialKind> {
        [
            CredentialKind::Pyun,
            CredentialKind::MallcooOutbound,
            CredentialKind::MallcooInbound,
            CredentialKind::PyunCarpark,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The associated data a secret of this kind is sealed with, so it cannot serve as another kind.
    fn seal_context(self) -> String {
        format!("credential:{}", self.as_str())
    }
}

/// The parts of a credential that are not secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicParts {
    /// P云 `app_id` or Mallcoo `AppID`.
    pub app_id: String,
    /// Mallcoo `PublicKey` (sent in headers, so not secret); absent for P云.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// A credential as listed: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    /// Credential id.
    pub id: i64,
    /// Unique display name.
    pub name: String,
    /// What it is for.
    pub kind: CredentialKind,
    /// The non-secret parts.
    pub public: PublicParts,
    /// Last change (creation, secret replaced, rotated).
    pub updated_at: chrono::DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    kind: String,
    public_json: String,
    updated_at: i64,
}

impl Row {
    fn into_view(self) -> CredentialView {
        CredentialView {
            id: self.id,
            // The CHECK constraint admits only known kinds.
            kind: CredentialKind::parse(&self.kind).unwrap_or(CredentialKind::Pyun),
            public: serde_json::from_str(&self.public_json).unwrap_or(PublicParts {
                app_id: String::new(),
                public_key: None,
            }),
            name: self.name,
            updated_at: from_ms(self.updated_at),
        }
    }
}

/// Every credential, by name.
pub async fn list(db: &Db) -> Result<Vec<CredentialView>, sqlx::Error> {
    let rows = sqlx::query_as::<_, Row>(
        "SELECT id, name, kind, public_json, updated_at FROM credentials ORDER BY name",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(Row::into_view).collect())
}

/// The credential with id `id`, if any.
pub async fn get(db: &Db, id: i64) -> Result<Option<CredentialView>, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(
        "SELECT id, name, kind, public_json, updated_at FROM credentials WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(Row::into_view))
}

/// Stores a credential with its secret sealed; a duplicate name is `credentials_name_key`.
pub async fn create(
    db: &Db,
    secrets: &SecretBox,
    name: &str,
    kind: CredentialKind,
    public: &PublicParts,
    secret: &Secret,
) -> Result<i64, sqlx::Error> {
    let now = to_ms(Utc::now());
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO credentials (name, kind, public_json, sealed_secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(name)
    .bind(kind.as_str())
    .bind(public_json(public))
    .bind(secrets.seal(&kind.seal_context(), secret.expose().as_bytes()))
    .bind(now)
    .fetch_one(&db.pool)
    .await
}

/// Replaces the secret (and the public parts) of credential `id` of `kind`; false if there is none.
pub async fn replace(
    db: &Db,
    secrets: &SecretBox,
    id: i64,
    kind: CredentialKind,
    public: &PublicParts,
    secret: &Secret,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE credentials SET public_json = $1, sealed_secret = $2, updated_at = $3 WHERE id = $4 AND kind = $5",
    )
    .bind(public_json(public))
    .bind(secrets.seal(&kind.seal_context(), secret.expose().as_bytes()))
    .bind(to_ms(Utc::now()))
    .bind(id)
    .bind(kind.as_str())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn public_json(public: &PublicParts) -> String {
    serde_json::to_string(public).expect("plain strings serialise")
}

/// A key pair we issue to Mallcoo: returned to the admin once, then only its sealed form exists.
#[derive(Debug)]
pub struct IssuedKeys {
    /// `AppID` Mallcoo presents.
    pub app_id: String,
    /// `PublicKey` Mallcoo presents.
    pub public_key: String,
    /// `PrivateKey` Mallcoo signs with (redacted in `Debug`).
    pub private_key: Secret,
}

/// Fresh Mallcoo inbound keys from OS randomness; `app_id` is kept when rotating.
pub fn issue_inbound_keys(app_id: Option<String>) -> IssuedKeys {
    IssuedKeys {
        app_id: app_id.unwrap_or_else(|| format!("pb{}", tokens::random_hex(8))),
        public_key: tokens::random_hex(16),
        private_key: Secret::new(tokens::random_hex(32)),
    }
}

/// The two secrets of a `pyun_carpark` credential, sealed together as one JSON object.
#[derive(Serialize, Deserialize)]
pub struct CarparkKeys {
    /// Signs our uploads (`&app_secret=`).
    pub upload_secret: String,
    /// Signs P云's calls to our gateway and our replies (`&key=`).
    pub downlink_key: String,
}

impl std::fmt::Debug for CarparkKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CarparkKeys { .. }")
    }
}

impl CarparkKeys {
    /// The sealed form's plaintext.
    pub fn to_secret(&self) -> Secret {
        Secret::new(serde_json::to_string(self).expect("plain strings serialise"))
    }

    /// Reads the sealed form's plaintext; `None` if it is not a car-park key pair.
    pub fn from_secret(secret: &Secret) -> Option<CarparkKeys> {
        serde_json::from_str(secret.expose()).ok()
    }
}

/// What a signer needs: the public parts and the decrypted secret.
#[derive(Debug)]
pub struct SigningMaterial {
    /// What the credential is for.
    pub kind: CredentialKind,
    /// The non-secret parts.
    pub public: PublicParts,
    /// `app_secret` (P云) or `PrivateKey` (Mallcoo).
    pub secret: Secret,
}

/// Why a credential's secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RevealError {
    /// Reading the row failed.
    #[error("storage failure: {0}")]
    Storage(#[from] sqlx::Error),
    /// The sealed secret does not open (wrong key or altered row).
    #[error("credential {id}: {source}")]
    Open {
        /// The credential.
        id: i64,
        /// Why it did not open.
        source: OpenError,
    },
}

/// The decrypted secret of credential `id`, if it exists.
///
/// Only for the outbound signers (P云 `sign_form`/`sign_json`, the Mallcoo signature) and the
/// inbound Mallcoo verification: the result must feed a signer or verifier and nothing else —
/// never a response, a log line, an error message or the audit log.
pub async fn signing_material(
    db: &Db,
    secrets: &SecretBox,
    id: i64,
) -> Result<Option<SigningMaterial>, RevealError> {
    let row = sqlx::query_as::<_, (String, String, Vec<u8>)>(
        "SELECT kind, public_json, sealed_secret FROM credentials WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let Some((kind, public_json, sealed)) = row else {
        return Ok(None);
    };
    let kind = CredentialKind::parse(&kind).unwrap_or(CredentialKind::Pyun);
    let plain = secrets
        .open(&kind.seal_context(), &sealed)
        .map_err(|source| RevealError::Open { id, source })?;
    let secret = String::from_utf8(plain).map_err(|_| RevealError::Open {
        id,
        source: OpenError::Malformed,
    })?;
    Ok(Some(SigningMaterial {
        kind,
        public: serde_json::from_str(&public_json).unwrap_or(PublicParts {
            app_id: String::new(),
            public_key: None,
        }),
        secret: Secret::new(secret),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MasterKey;

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&crate::storage::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn a_stored_secret_opens_back_for_the_signer_only_with_its_key() {
        let (_dir, db) = db().await;
        let secrets = SecretBox::new(&MasterKey::from_bytes([3; 32]));
        let public = PublicParts {
            app_id: "op1".to_owned(),
            public_key: None,
        };
        let secret = Secret::new("e9ae5402dbabc68c1c4".to_owned());
        let id = create(&db, &secrets, "p", CredentialKind::Pyun, &public, &secret)
            .await
            .unwrap();
        let m = signing_material(&db, &secrets, id).await.unwrap().unwrap();
        assert_eq!((m.kind, &m.public), (CredentialKind::Pyun, &public));
        assert_eq!(m.secret.expose(), "e9ae5402dbabc68c1c4");
        assert!(!format!("{m:?}").contains("e9ae5402"));

        let replaced = Secret::new("second".to_owned());
        assert!(
            replace(&db, &secrets, id, CredentialKind::Pyun, &public, &replaced)
                .await
                .unwrap()
        );
        let m = signing_material(&db, &secrets, id).await.unwrap().unwrap();
        assert_eq!(m.secret.expose(), "second");
        // The kind must match too: a replace aimed at another kind changes nothing.
        assert!(
            !replace(
                &db,
                &secrets,
                id,
                CredentialKind::MallcooOutbound,
                &public,
                &secret
            )
            .await
            .unwrap()
        );

        let other = SecretBox::new(&MasterKey::from_bytes([4; 32]));
        assert!(matches!(
            signing_material(&db, &other, id).await,
            Err(RevealError::Open { .. })
        ));
        assert!(
            signing_material(&db, &secrets, 999)
                .await
                .unwrap()
                .is_none()
        );
    }
}
