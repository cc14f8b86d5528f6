//! Admin management of alert channels (issue 18): create, list, change, delete, and "send a
//! test message", which shows the vendor's answer as it gave it (and is kept among the
//! channel's last sends, `alert_sends.rs`).
//!
//! A channel's URL holds the robot's key or token and its secret signs: both travel one way,
//! into the server; answers carry the masked URL and whether a secret is set.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use protocol::alerts::{ChannelKind, Digest, Language, Phase, ProblemKind};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AppState;
use super::json::ApiJson;
use crate::accounts::CurrentUser;
use crate::alerts::channels::{self, ChannelChange, ChannelView, NewChannel, OpenChannelError};
use crate::alerts::send::{self, Sent};
use crate::alerts::sends;
use crate::audit;
use crate::error::{ApiError, ErrorBody};
use crate::parks;
use crate::pyun_client::PyunClient;
use crate::secrets::Secret;
use crate::storage::unique_violation;

/// A new channel.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewChannelBody {
    /// Unique display name, 1–64 characters, no spaces at either end.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$"
    )]
    name: String,
    /// `wecom`, `dingtalk`, `feishu` or `webhook`.
    #[schema(pattern = "^(wecom|dingtalk|feishu|webhook)$")]
    kind: String,
    /// The robot's webhook URL as the vendor shows it (it holds the key or token: write-only), or
    /// the webhook's URL.
    #[schema(value_type = String, format = Password, max_length = 2048, pattern = r"^https?://[^\s\x00-\x1F\x7F-\x9F]+$")]
    url: Secret,
    /// DingTalk `SEC…` or Feishu signing secret, or the webhook's HMAC key: write-only.
    #[schema(value_type = Option<String>, format = Password, max_length = 4096, pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$")]
    secret: Option<Secret>,
    /// A keyword the robot requires (DingTalk, Feishu), 1–32 characters.
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$"
    )]
    keyword: Option<String>,
    /// The car parks whose problems it receives; absent for all (and those created later).
    parks: Option<Vec<i64>>,
    /// The problem kinds it receives; absent for all.
    kinds: Option<Vec<String>>,
    /// `zh-CN` (default) or `en`.
    #[schema(pattern = "^(zh-CN|en)$")]
    language: Option<String>,
}

/// A change to a channel: absent fields stay; `secret`, `keyword`, `parks`, `kinds` may be `null`
/// to remove them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelChangeBody {
    /// New name.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$"
    )]
    name: Option<String>,
    /// New URL (write-only).
    #[schema(value_type = Option<String>, format = Password, max_length = 2048, pattern = r"^https?://[^\s\x00-\x1F\x7F-\x9F]+$")]
    url: Option<Secret>,
    /// New secret (write-only); `null` removes it.
    #[serde(default, deserialize_with = "super::json::present")]
    #[schema(value_type = Option<String>, format = Password, max_length = 4096, pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$")]
    secret: Option<Option<Secret>>,
    /// New keyword; `null` removes it.
    #[serde(default, deserialize_with = "super::json::present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 32, pattern = r"^[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$")]
    keyword: Option<Option<String>>,
    /// New car parks; `null` for all.
    #[serde(default, deserialize_with = "super::json::present")]
    #[schema(value_type = Option<Vec<i64>>)]
    parks: Option<Option<Vec<i64>>>,
    /// New problem kinds; `null` for all.
    #[serde(default, deserialize_with = "super::json::present")]
    #[schema(value_type = Option<Vec<String>>)]
    kinds: Option<Option<Vec<String>>>,
    /// `zh-CN` or `en`.
    #[schema(pattern = "^(zh-CN|en)$")]
    language: Option<String>,
    /// False pauses the channel.
    enabled: Option<bool>,
}

/// Printable text with no space at either end, `max` characters at most (the schema's pattern).
fn text(field: &'static str, value: &str, max: usize) -> Result<String, ApiError> {
    let printable = !value.is_empty()
        && value.chars().count() <= max
        && value.trim() == value
        && !value.chars().any(char::is_control);
    if printable {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_request(
            "invalid_field",
            format!("{field}: 1–{max} printable characters, no spaces at either end"),
        ))
    }
}

/// The URL as the schema says (never echoed: it holds the robot's key).
fn url(value: &Secret) -> Result<Secret, ApiError> {
    let u = value.expose();
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && u.len() <= 2048
                && !u.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(value.clone())
        }
        _ => Err(ApiError::bad_request(
            "invalid_url",
            "url: an http:// or https:// address of at most 2048 bytes, without spaces",
        )),
    }
}

/// Checks a secret without ever echoing it.
fn secret(value: &Secret) -> Result<Secret, ApiError> {
    let s = value.expose();
    if s.is_empty() || s.len() > 4096 || s.trim() != s || s.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_secret",
            "secret: 1–4096 bytes, no spaces at either end or control characters",
        ));
    }
    Ok(value.clone())
}

fn kind(value: &str) -> Result<ChannelKind, ApiError> {
    ChannelKind::parse(value).ok_or_else(|| {
        ApiError::bad_request("invalid_field", "kind: wecom, dingtalk, feishu or webhook")
    })
}

fn language(value: &str) -> Result<Language, ApiError> {
    match value {
        "zh-CN" => Ok(Language::ZhCn),
        "en" => Ok(Language::En),
        _ => Err(ApiError::bad_request(
            "invalid_field",
            "language: zh-CN or en",
        )),
    }
}

fn problem_kinds(values: &[String]) -> Result<Vec<ProblemKind>, ApiError> {
    values
        .iter()
        .map(|v| {
            ProblemKind::parse(v).ok_or_else(|| {
                ApiError::unprocessable(
                    "unknown_problem_kind",
                    format!(
                        "kinds: {v} is not a problem kind (one of: {})",
                        ProblemKind::ALL.map(ProblemKind::as_str).join(", ")
                    ),
                )
            })
        })
        .collect()
}

async fn known_parks(state: &AppState, ids: &[i64]) -> Result<(), ApiError> {
    for id in ids {
        if parks::get(&state.db, *id).await?.is_none() {
            return Err(ApiError::unprocessable(
                "unknown_park",
                format!("parks: there is no car park {id}"),
            ));
        }
    }
    Ok(())
}

/// The vendor's own rules for its settings (robot URL shape, DingTalk `SEC…`).
fn vendor_rules(kind: ChannelKind, url: &Secret, secret: Option<&Secret>) -> Result<(), ApiError> {
    kind.check(url.expose(), secret.map(Secret::expose))
        .map_err(|e| ApiError::unprocessable("invalid_channel", e.to_string()))
}

fn name_taken(name: &str) -> impl FnOnce(sqlx::Error) -> ApiError + '_ {
    move |e| {
        if unique_violation(&e).is_some() {
            ApiError::conflict(
                "channel_name_taken",
                format!("an alert channel named {name} already exists"),
            )
        } else {
            ApiError::Storage(e)
        }
    }
}

/// `GET /api/v1/alert-channels`: every channel, never a URL's key or a secret.
#[utoipa::path(
    get,
    path = "/api/v1/alert-channels",
    tag = "alerts",
    security(("session" = [])),
    responses(
        (status = 200, description = "Every channel, URLs masked, secrets never", body = [ChannelView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(channels::list(&state.db).await?))
}

/// `POST /api/v1/alert-channels`.
#[utoipa::path(
    post,
    path = "/api/v1/alert-channels",
    tag = "alerts",
    security(("session" = [])),
    request_body = NewChannelBody,
    responses(
        (status = 201, description = "Created (`untested` until a message is sent)", body = ChannelView),
        (status = 400, description = "`invalid_field`, `invalid_url`, `invalid_secret`: the body breaks the schema", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "`channel_name_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_channel` (not this vendor's robot URL, a DingTalk secret not starting with SEC, a WeCom secret), `unknown_park`, `unknown_problem_kind`", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    ApiJson(body): ApiJson<NewChannelBody>,
) -> Result<(StatusCode, Json<ChannelView>), ApiError> {
    let new = NewChannel {
        name: text("name", &body.name, 64)?,
        kind: kind(&body.kind)?,
        url: url(&body.url)?,
        secret: body.secret.as_ref().map(secret).transpose()?,
        keyword: body
            .keyword
            .as_deref()
            .map(|k| text("keyword", k, 32))
            .transpose()?,
        parks: body.parks.clone(),
        kinds: body.kinds.as_deref().map(problem_kinds).transpose()?,
        language: body
            .language
            .as_deref()
            .map(language)
            .transpose()?
            .unwrap_or_default(),
    };
    vendor_rules(new.kind, &new.url, new.secret.as_ref())?;
    if let Some(ids) = &new.parks {
        known_parks(&state, ids).await?;
    }
    let id = channels::create(&state.db, &state.secrets, &new)
        .await
        .map_err(name_taken(&new.name))?;
    audit::record(
        &state.db,
        &actor.actor(),
        "alert_channel.create",
        &format!("alert_channel:{id}"),
        json!({"name": new.name, "kind": new.kind.as_str(), "secret_set": new.secret.is_some()}),
    )
    .await?;
    let view = channels::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("alert channel {id} vanished")))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `PUT /api/v1/alert-channels/{id}`.
#[utoipa::path(
    put,
    path = "/api/v1/alert-channels/{id}",
    tag = "alerts",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    request_body = ChannelChangeBody,
    responses(
        (status = 200, description = "The changed channel; a new URL or secret makes it `untested`", body = ChannelView),
        (status = 400, description = "`invalid_field`, `invalid_url`, `invalid_secret`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
        (status = 409, description = "`channel_name_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_channel`, `unknown_park`, `unknown_problem_kind`", body = ErrorBody),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ChannelChangeBody>,
) -> Result<Json<ChannelView>, ApiError> {
    let change = ChannelChange {
        name: body
            .name
            .as_deref()
            .map(|n| text("name", n, 64))
            .transpose()?,
        url: body.url.as_ref().map(url).transpose()?,
        secret: body
            .secret
            .as_ref()
            .map(|s| s.as_ref().map(secret).transpose())
            .transpose()?,
        keyword: body
            .keyword
            .as_ref()
            .map(|k| k.as_deref().map(|k| text("keyword", k, 32)).transpose())
            .transpose()?,
        parks: body.parks.clone(),
        kinds: body
            .kinds
            .as_ref()
            .map(|k| k.as_deref().map(problem_kinds).transpose())
            .transpose()?,
        language: body.language.as_deref().map(language).transpose()?,
        enabled: body.enabled,
    };
    // The vendor's rules hold for the channel as it will be: what changes and what stays.
    let Some(current) = channels::open(&state.db, &state.secrets, id)
        .await
        .map_err(open_error)?
    else {
        return Err(ApiError::NotFound);
    };
    let url_after = change.url.as_ref().unwrap_or(&current.url);
    let secret_after = match &change.secret {
        Some(s) => s.as_ref(),
        None => current.secret.as_ref(),
    };
    vendor_rules(current.view.kind, url_after, secret_after)?;
    if let Some(Some(ids)) = &change.parks {
        known_parks(&state, ids).await?;
    }
    let name = change.name.clone().unwrap_or(current.view.name.clone());
    if !channels::update(&state.db, &state.secrets, id, &change)
        .await
        .map_err(name_taken(&name))?
    {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &state.db,
        &actor.actor(),
        "alert_channel.update",
        &format!("alert_channel:{id}"),
        json!({"name": name, "url_changed": change.url.is_some(),
               "secret_changed": change.secret.is_some(), "enabled": change.enabled}),
    )
    .await?;
    let view = channels::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view))
}

/// `DELETE /api/v1/alert-channels/{id}`.
#[utoipa::path(
    delete,
    path = "/api/v1/alert-channels/{id}",
    tag = "alerts",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
    )
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if !channels::delete(&state.db, id).await? {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &state.db,
        &actor.actor(),
        "alert_channel.delete",
        &format!("alert_channel:{id}"),
        json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn open_error(e: OpenChannelError) -> ApiError {
    match e {
        OpenChannelError::Storage(e) => ApiError::Storage(e),
        OpenChannelError::Sealed(_) => ApiError::Internal(e.to_string()),
    }
}

/// The answer to "send a test message".
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TestAnswer {
    /// What the vendor answered and what it means.
    sent: Sent,
    /// The channel after the answer.
    channel: ChannelView,
}

/// `POST /api/v1/alert-channels/{id}/test`: sends a test message now (paused channels too) and
/// shows the vendor's answer; the channel's state follows it.
#[utoipa::path(
    post,
    path = "/api/v1/alert-channels/{id}/test",
    tag = "alerts",
    security(("session" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The vendor's answer (`delivered`, `rate_limited`, `misconfigured`, `refused`, `transient`) and the channel", body = TestAnswer),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
    )
)]
pub(crate) async fn test(
    State(state): State<AppState>,
    Extension(actor): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Json<TestAnswer>, ApiError> {
    let channel = channels::open(&state.db, &state.secrets, id)
        .await
        .map_err(open_error)?
        .ok_or(ApiError::NotFound)?;
    let now = Utc::now();
    let link = state
        .settings
        .public_url
        .as_deref()
        .map(|base| format!("{}/alerts", base.trim_end_matches('/')));
    let digest = Digest {
        phase: Phase::Test,
        kind: ProblemKind::ChannelMisconfigured,
        park: None,
        subject: Some(&channel.view.name),
        since: now,
        resolved_at: None,
        count: 0,
        examples: &[],
        link: link.as_deref(),
        language: channel.view.language,
    };
    let client = PyunClient::new("", send::TIMEOUT);
    let sent = send::send(&state.db, &client, &channel, &digest, now).await?;
    sends::record_test(&state.db, id, &sent, now).await?;
    audit::record(
        &state.db,
        &actor.actor(),
        "alert_channel.test",
        &format!("alert_channel:{id}"),
        json!({"outcome": sent.outcome, "code": sent.code}),
    )
    .await?;
    let channel = channels::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(TestAnswer { sent, channel }))
}
