//! Admin management of credentials: create, list, replace a secret, rotate our Mallcoo keys.
//!
//! Secrets travel one way: into the server. The only exception is a Mallcoo inbound key pair we
//! generate, whose private key is shown once in the creation or rotation answer, like an API key.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AppState;
use super::json::ApiJson;
use crate::accounts::CurrentUser;
use crate::audit;
use crate::credentials::{
    self, CarparkKeys, CredentialKind, CredentialView, IssuedKeys, PublicParts,
};
use crate::error::{ApiError, ErrorBody};
use crate::secrets::Secret;
use crate::storage::unique_violation;

/// `GET /api/v1/credentials`: every credential without its secret.
#[utoipa::path(
    get,
    path = "/api/v1/credentials",
    tag = "credentials",
    security(("session" = [])),
    responses(
        (status = 200, description = "Every credential, never a secret", body = [CredentialView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
) -> Result<Json<Vec<CredentialView>>, ApiError> {
    Ok(Json(credentials::list(&state.db).await?))
}

/// A new credential; which fields are required depends on `kind`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCredential {
    /// Unique display name, 1–64 characters.
    #[schema(max_length = 64, pattern = r"^\S(?:.*\S)?$")]
    name: String,
    kind: CredentialKind,
    /// P云 `app_id` or Mallcoo `AppID` (`pyun`, `mallcoo_outbound`; optional for `pyun_carpark`);
    /// 1–128 characters.
    #[schema(
        pattern = r"^\s*[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]{0,126}[^\s\x00-\x1F\x7F-\x9F])?\s*$"
    )]
    app_id: Option<String>,
    /// P云 `app_secret` (`pyun` only): no spaces at either end, no control characters.
    #[schema(value_type = Option<String>, format = Password, max_length = 4096, pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$")]
    app_secret: Option<Secret>,
    /// Mallcoo `PublicKey` (`mallcoo_outbound` only); 1–128 characters.
    #[schema(
        pattern = r"^\s*[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]{0,126}[^\s\x00-\x1F\x7F-\x9F])?\s*$"
    )]
    public_key: Option<String>,
    /// Mallcoo `PrivateKey` (`mallcoo_outbound` only): no spaces at either end, no control characters.
    #[schema(value_type = Option<String>, format = Password, max_length = 4096, pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$")]
    private_key: Option<Secret>,
    /// P云 car-park upload secret (`pyun_carpark` only, `&app_secret=` of uploads): write-only.
    #[schema(value_type = Option<String>, format = Password, max_length = 4096, pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$")]
    upload_secret: Option<Secret>,
    /// P云 car-park downlink key (`pyun_carpark` only, `&key=` of gateway calls): write-only.
    #[schema(value_type = Option<String>, format = Password, max_length = 4096, pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$")]
    downlink_key: Option<Secret>,
}

/// A freshly issued Mallcoo inbound key pair, shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Issued {
    app_id: String,
    public_key: String,
    private_key: String,
}

impl Issued {
    fn once(keys: &IssuedKeys) -> Issued {
        Issued {
            app_id: keys.app_id.clone(),
            public_key: keys.public_key.clone(),
            private_key: keys.private_key.expose().to_owned(),
        }
    }
}

/// The answer to a creation or rotation.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Created {
    credential: CredentialView,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued: Option<Issued>,
}

fn required<'a, T>(
    field: &'static str,
    kind: CredentialKind,
    v: &'a Option<T>,
) -> Result<&'a T, ApiError> {
    v.as_ref().ok_or_else(|| {
        ApiError::unprocessable(
            "missing_field",
            format!("{field} is required for a {} credential", kind.as_str()),
        )
    })
}

fn unused<T>(field: &'static str, kind: CredentialKind, v: &Option<T>) -> Result<(), ApiError> {
    match v {
        Some(_) => Err(ApiError::unprocessable(
            "unexpected_field",
            format!("{field} is not used by a {} credential", kind.as_str()),
        )),
        None => Ok(()),
    }
}

/// Checks a public identifier (app id, public key) without echoing it back.
fn check_public(field: &'static str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 128 || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("{field}: 1–128 printable characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Checks a secret without ever echoing it: the message names the field only.
fn check_secret(field: &'static str, secret: &Secret) -> Result<(), ApiError> {
    let s = secret.expose();
    if s.is_empty() || s.len() > 4096 {
        return Err(ApiError::bad_request(
            "invalid_secret",
            format!("{field}: 1–4096 bytes"),
        ));
    }
    if s.trim() != s || s.chars().any(char::is_control) {
        // Almost always a copy-and-paste accident, which would make every signature fail.
        return Err(ApiError::bad_request(
            "invalid_secret",
            format!("{field} must not contain spaces at either end or control characters"),
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "name: 1–64 characters",
        ));
    }
    Ok(name.to_owned())
}

fn name_taken(name: &str) -> impl FnOnce(sqlx::Error) -> ApiError + '_ {
    move |e| {
        if unique_violation(&e).is_some() {
            ApiError::conflict(
                "credential_name_taken",
                format!("a credential named {name} already exists"),
            )
        } else {
            ApiError::Storage(e)
        }
    }
}

/// `POST /api/v1/credentials`: 201; the `issued` keys only for `mallcoo_inbound`.
#[utoipa::path(
    post,
    path = "/api/v1/credentials",
    tag = "credentials",
    security(("session" = [])),
    request_body = NewCredential,
    responses(
        (status = 201, description = "Created; for `mallcoo_inbound`, `issued` holds the private key, shown only here", body = Created),
        (status = 400, description = "`invalid_name`, `invalid_field`, `invalid_secret`", body = ErrorBody),
        (status = 422, description = "`missing_field`, `unexpected_field`: a field this `kind` needs is absent, or one it does not use is present", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "`credential_name_taken`", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    ApiJson(new): ApiJson<NewCredential>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let name = check_name(&new.name)?;
    let kind = new.kind;
    let (public, secret, issued) = match kind {
        CredentialKind::Pyun => {
            unused("upload_secret", kind, &new.upload_secret)?;
            unused("downlink_key", kind, &new.downlink_key)?;
            unused("public_key", kind, &new.public_key)?;
            unused("private_key", kind, &new.private_key)?;
            let app_id = check_public("app_id", required("app_id", kind, &new.app_id)?)?;
            let secret = required("app_secret", kind, &new.app_secret)?;
            check_secret("app_secret", secret)?;
            let public = PublicParts {
                app_id,
                public_key: None,
            };
            (public, secret.clone(), None)
        }
        CredentialKind::MallcooOutbound => {
            unused("app_secret", kind, &new.app_secret)?;
            unused("upload_secret", kind, &new.upload_secret)?;
            unused("downlink_key", kind, &new.downlink_key)?;
            let app_id = check_public("app_id", required("app_id", kind, &new.app_id)?)?;
            let public_key =
                check_public("public_key", required("public_key", kind, &new.public_key)?)?;
            let secret = required("private_key", kind, &new.private_key)?;
            check_secret("private_key", secret)?;
            let public = PublicParts {
                app_id,
                public_key: Some(public_key),
            };
            (public, secret.clone(), None)
        }
        CredentialKind::MallcooInbound => {
            unused("app_id", kind, &new.app_id)?;
            unused("app_secret", kind, &new.app_secret)?;
            unused("public_key", kind, &new.public_key)?;
            unused("private_key", kind, &new.private_key)?;
            unused("upload_secret", kind, &new.upload_secret)?;
            unused("downlink_key", kind, &new.downlink_key)?;
            let keys = credentials::issue_inbound_keys(None);
            let public = PublicParts {
                app_id: keys.app_id.clone(),
                public_key: Some(keys.public_key.clone()),
            };
            (public, keys.private_key.clone(), Some(keys))
        }
        CredentialKind::PyunCarpark => {
            unused("app_secret", kind, &new.app_secret)?;
            unused("public_key", kind, &new.public_key)?;
            unused("private_key", kind, &new.private_key)?;
            let app_id = match &new.app_id {
                Some(id) => check_public("app_id", id)?,
                None => String::new(),
            };
            let upload = required("upload_secret", kind, &new.upload_secret)?;
            check_secret("upload_secret", upload)?;
            let downlink = required("downlink_key", kind, &new.downlink_key)?;
            check_secret("downlink_key", downlink)?;
            let keys = CarparkKeys {
                upload_secret: upload.expose().to_owned(),
                downlink_key: downlink.expose().to_owned(),
            };
            let public = PublicParts {
                app_id,
                public_key: None,
            };
            (public, keys.to_secret(), None)
        }
    };
    let id = credentials::create(&state.db, &state.secrets, &name, kind, &public, &secret)
        .await
        .map_err(name_taken(&name))?;
    audit::record(
        &state.db,
        &actor.actor(),
        "credential.create",
        &format!("credential:{name}"),
        json!({ "id": id, "kind": kind, "app_id": public.app_id }),
    )
    .await?;
    let credential = credentials::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            credential,
            issued: issued.as_ref().map(Issued::once),
        }),
    ))
}

/// Which of a `pyun_carpark` credential's two secrets a replacement is.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CarparkSecretField {
    /// The uploads' `app_secret`.
    UploadSecret,
    /// The gateway's `key`.
    DownlinkKey,
}

/// A replacement secret (`app_secret` for P云, `private_key` for Mallcoo outbound, one of the two
/// for a P云 car-park credential, named by `field`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSecret {
    /// Which secret (`pyun_carpark` only, where it is required).
    field: Option<CarparkSecretField>,
    /// The new secret (write-only): no spaces at either end, no control characters.
    #[schema(value_type = String, format = Password, max_length = 4096, pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$")]
    secret: Secret,
}

/// `PUT /api/v1/credentials/{id}/secret`: write-only; answers the credential without its secret.
#[utoipa::path(
    put,
    path = "/api/v1/credentials/{id}/secret",
    tag = "credentials",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Credential id")),
    request_body = NewSecret,
    responses(
        (status = 200, description = "The credential, without its secret", body = CredentialView),
        (status = 400, description = "`invalid_secret`", body = ErrorBody),
        (status = 422, description = "`use_rotate`: a `mallcoo_inbound` key pair is rotated, not replaced; `missing_field`/`unexpected_field`: `field` is required for `pyun_carpark` and only there", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such credential", body = ErrorBody),
    )
)]
pub(crate) async fn replace_secret(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NewSecret>,
) -> Result<Json<CredentialView>, ApiError> {
    let current = credentials::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let kind = current.kind;
    let field = match kind {
        CredentialKind::Pyun => "app_secret",
        CredentialKind::MallcooOutbound => "private_key",
        CredentialKind::MallcooInbound => {
            return Err(ApiError::unprocessable(
                "use_rotate",
                "we issue this key pair: rotate it with POST /api/v1/credentials/{id}/rotate",
            ));
        }
        CredentialKind::PyunCarpark => match required("field", kind, &body.field)? {
            CarparkSecretField::UploadSecret => "upload_secret",
            CarparkSecretField::DownlinkKey => "downlink_key",
        },
    };
    if kind != CredentialKind::PyunCarpark {
        unused("field", kind, &body.field)?;
    }
    check_secret(field, &body.secret)?;
    let sealed = match kind {
        CredentialKind::PyunCarpark => {
            let material = credentials::signing_material(&state.db, &state.secrets, id)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .ok_or(ApiError::NotFound)?;
            let mut keys = CarparkKeys::from_secret(&material.secret).ok_or_else(|| {
                ApiError::Internal(format!("credential {id}: malformed key pair"))
            })?;
            match field {
                "upload_secret" => keys.upload_secret = body.secret.expose().to_owned(),
                _ => keys.downlink_key = body.secret.expose().to_owned(),
            }
            keys.to_secret()
        }
        _ => body.secret.clone(),
    };
    if !credentials::replace(
        &state.db,
        &state.secrets,
        id,
        kind,
        &current.public,
        &sealed,
    )
    .await?
    {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &state.db,
        &actor.actor(),
        "credential.secret_replace",
        &format!("credential:{}", current.name),
        json!({ "id": id, "kind": current.kind, "field": field }),
    )
    .await?;
    Ok(Json(
        credentials::get(&state.db, id)
            .await?
            .ok_or(ApiError::NotFound)?,
    ))
}

/// `POST /api/v1/credentials/{id}/rotate`: a new Mallcoo inbound key pair (same AppID), shown once.
#[utoipa::path(
    post,
    path = "/api/v1/credentials/{id}/rotate",
    tag = "credentials",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Credential id")),
    responses(
        (status = 200, description = "The credential and its new key pair; the private key is shown only here", body = Created),
        (status = 400, description = "The request cannot be read", body = ErrorBody),
        (status = 422, description = "`not_rotatable`: not a `mallcoo_inbound` credential", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such credential", body = ErrorBody),
    )
)]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Json<Created>, ApiError> {
    let current = credentials::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if current.kind != CredentialKind::MallcooInbound {
        return Err(ApiError::unprocessable(
            "not_rotatable",
            "only a mallcoo_inbound key pair is rotated; replace other secrets with PUT …/secret",
        ));
    }
    let keys = credentials::issue_inbound_keys(Some(current.public.app_id.clone()));
    let public = PublicParts {
        app_id: keys.app_id.clone(),
        public_key: Some(keys.public_key.clone()),
    };
    if !credentials::replace(
        &state.db,
        &state.secrets,
        id,
        current.kind,
        &public,
        &keys.private_key,
    )
    .await?
    {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &state.db,
        &actor.actor(),
        "credential.rotate",
        &format!("credential:{}", current.name),
        json!({ "id": id, "kind": current.kind, "app_id": public.app_id }),
    )
    .await?;
    let credential = credentials::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(Created {
        credential,
        issued: Some(Issued::once(&keys)),
    }))
}
