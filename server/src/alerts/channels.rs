//! Alert channels as stored: a robot's URL holds its key or token, so the URL is sealed like the
//! signing secret and people only ever read its masked form.

use chrono::{DateTime, Utc};
use protocol::alerts::{ChannelKind, Language, ProblemKind, masked_url};
use serde::Serialize;

use crate::secrets::{Secret, SecretBox};
use crate::storage::{Db, from_ms, to_ms};

const URL_CONTEXT: &str = "alert_channel.url";
const SECRET_CONTEXT: &str = "alert_channel.secret";

/// A channel as people see it: never its URL's key or its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelView {
    /// Id.
    pub id: i64,
    /// Unique display name.
    pub name: String,
    /// `wecom`, `dingtalk`, `feishu` or `webhook`.
    #[schema(value_type = String)]
    pub kind: ChannelKind,
    /// The URL with its key, token or hook id hidden.
    pub url: String,
    /// Whether a signing secret is set (it is never returned).
    pub has_secret: bool,
    /// The keyword every message carries.
    pub keyword: Option<String>,
    /// The car parks whose problems it receives; absent for all.
    pub parks: Option<Vec<i64>>,
    /// The problem kinds it receives; absent for all.
    #[schema(value_type = Option<Vec<String>>)]
    pub kinds: Option<Vec<ProblemKind>>,
    /// `zh-CN` or `en`.
    #[schema(value_type = String)]
    pub language: Language,
    /// False while paused.
    pub enabled: bool,
    /// `untested`, `ok`, `misconfigured` (the vendor refused its URL, secret, keyword or IP) or
    /// `failing` (unreachable or refusing messages).
    pub state: String,
    /// The vendor's last answer, as it said it.
    pub last_answer: Option<String>,
    /// When a message was last sent.
    pub last_sent_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    kind: String,
    masked_url: String,
    has_secret: i64,
    keyword: Option<String>,
    parks_json: Option<String>,
    kinds_json: Option<String>,
    language: String,
    disabled_at: Option<i64>,
    state: String,
    last_answer: Option<String>,
    last_sent_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, name, kind, masked_url, \
    CASE WHEN sealed_secret IS NULL THEN 0 ELSE 1 END AS has_secret, keyword, parks_json, \
    kinds_json, language, disabled_at, state, last_answer, last_sent_at, created_at, updated_at";

impl Row {
    fn into_view(self) -> ChannelView {
        ChannelView {
            id: self.id,
            name: self.name,
            // The CHECK constraints keep these readable; a row written by a newer version
            // falls back rather than failing the whole list.
            kind: ChannelKind::parse(&self.kind).unwrap_or(ChannelKind::Webhook),
            url: self.masked_url,
            has_secret: self.has_secret != 0,
            keyword: self.keyword,
            parks: self.parks_json.and_then(|j| serde_json::from_str(&j).ok()),
            kinds: self.kinds_json.and_then(|j| serde_json::from_str(&j).ok()),
            language: Language::parse(&self.language).unwrap_or_default(),
            enabled: self.disabled_at.is_none(),
            state: self.state,
            last_answer: self.last_answer,
            last_sent_at: self.last_sent_at.map(from_ms),
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
        }
    }
}

/// What a new channel is made of (already checked).
#[derive(Debug)]
pub struct NewChannel {
    /// Display name.
    pub name: String,
    /// Vendor.
    pub kind: ChannelKind,
    /// The robot's or webhook's URL.
    pub url: Secret,
    /// Its signing secret.
    pub secret: Option<Secret>,
    /// Its keyword.
    pub keyword: Option<String>,
    /// Car parks, or all.
    pub parks: Option<Vec<i64>>,
    /// Problem kinds, or all.
    pub kinds: Option<Vec<ProblemKind>>,
    /// Message language.
    pub language: Language,
}

fn json_list<T: Serialize>(list: &Option<Vec<T>>) -> Option<String> {
    list.as_ref()
        .map(|l| serde_json::to_string(l).unwrap_or_else(|_| "[]".to_owned()))
}

/// Stores a channel; a duplicate name is `alert_channels_name_key`.
pub async fn create(db: &Db, secrets: &SecretBox, new: &NewChannel) -> Result<i64, sqlx::Error> {
    let now = to_ms(Utc::now());
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO alert_channels (name, kind, sealed_url, masked_url, sealed_secret, keyword, \
         parks_json, kinds_json, language, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(&new.name)
    .bind(new.kind.as_str())
    .bind(secrets.seal(URL_CONTEXT, new.url.expose().as_bytes()))
    .bind(masked_url(new.url.expose()))
    .bind(
        new.secret
            .as_ref()
            .map(|s| secrets.seal(SECRET_CONTEXT, s.expose().as_bytes())),
    )
    .bind(new.keyword.as_deref())
    .bind(json_list(&new.parks))
    .bind(json_list(&new.kinds))
    .bind(new.language.as_str())
    .bind(now)
    .fetch_one(&db.pool)
    .await
}

/// Every channel, by name.
pub async fn list(db: &Db) -> Result<Vec<ChannelView>, sqlx::Error> {
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM alert_channels ORDER BY name"
    )))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(Row::into_view).collect())
}

/// Channel `id`, if any.
pub async fn get(db: &Db, id: i64) -> Result<Option<ChannelView>, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM alert_channels WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(Row::into_view))
}

/// A change to a channel: only what is given changes; `secret: Some(None)` removes it.
#[derive(Debug, Default)]
pub struct ChannelChange {
    /// New name.
    pub name: Option<String>,
    /// New URL.
    pub url: Option<Secret>,
    /// New secret, or none.
    pub secret: Option<Option<Secret>>,
    /// New keyword, or none.
    pub keyword: Option<Option<String>>,
    /// New car parks, or all.
    pub parks: Option<Option<Vec<i64>>>,
    /// New kinds, or all.
    pub kinds: Option<Option<Vec<ProblemKind>>>,
    /// New language.
    pub language: Option<Language>,
    /// Paused or not.
    pub enabled: Option<bool>,
}

/// Applies `change` to channel `id` in one statement; false when there is no such channel.
/// A new URL or secret makes the channel `untested` again: the last answer was about the old one.
pub async fn update(
    db: &Db,
    secrets: &SecretBox,
    id: i64,
    change: &ChannelChange,
) -> Result<bool, sqlx::Error> {
    let now = to_ms(Utc::now());
    let credentials_changed = change.url.is_some() || change.secret.is_some();
    let done = sqlx::query(
        "UPDATE alert_channels SET \
         name = COALESCE($1, name), \
         sealed_url = COALESCE($2, sealed_url), \
         masked_url = COALESCE($3, masked_url), \
         sealed_secret = CASE WHEN $4 = 1 THEN $5 ELSE sealed_secret END, \
         keyword = CASE WHEN $6 = 1 THEN $7 ELSE keyword END, \
         parks_json = CASE WHEN $8 = 1 THEN $9 ELSE parks_json END, \
         kinds_json = CASE WHEN $10 = 1 THEN $11 ELSE kinds_json END, \
         language = COALESCE($12, language), \
         disabled_at = CASE WHEN $13 = 1 THEN NULL WHEN $13 = 0 THEN COALESCE(disabled_at, $14) \
                       ELSE disabled_at END, \
         state = CASE WHEN $15 = 1 THEN 'untested' ELSE state END, \
         updated_at = $14 \
         WHERE id = $16",
    )
    .bind(change.name.as_deref())
    .bind(
        change
            .url
            .as_ref()
            .map(|u| secrets.seal(URL_CONTEXT, u.expose().as_bytes())),
    )
    .bind(change.url.as_ref().map(|u| masked_url(u.expose())))
    .bind(i64::from(change.secret.is_some()))
    .bind(
        change
            .secret
            .as_ref()
            .and_then(|s| s.as_ref())
            .map(|s| secrets.seal(SECRET_CONTEXT, s.expose().as_bytes())),
    )
    .bind(i64::from(change.keyword.is_some()))
    .bind(change.keyword.clone().flatten())
    .bind(i64::from(change.parks.is_some()))
    .bind(change.parks.as_ref().and_then(json_list))
    .bind(i64::from(change.kinds.is_some()))
    .bind(change.kinds.as_ref().and_then(json_list))
    .bind(change.language.map(Language::as_str))
    .bind(change.enabled.map_or(-1_i64, i64::from))
    .bind(now)
    .bind(i64::from(credentials_changed))
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes channel `id`; false when there is none.
pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM alert_channels WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A channel ready to send: its URL and secret opened.
#[derive(Debug)]
pub struct Opened {
    /// The channel as people see it.
    pub view: ChannelView,
    /// Its URL (holds the robot's key or token).
    pub url: Secret,
    /// Its signing secret.
    pub secret: Option<Secret>,
}

/// Why a channel could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenChannelError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
    /// The master key does not open what is stored (a different key than the one sealing it).
    #[error("the master key does not open channel {0}'s sealed URL or secret")]
    Sealed(i64),
}

/// Channel `id` with its URL and secret opened.
pub async fn open(
    db: &Db,
    secrets: &SecretBox,
    id: i64,
) -> Result<Option<Opened>, OpenChannelError> {
    let Some(view) = get(db, id).await? else {
        return Ok(None);
    };
    let (sealed_url, sealed_secret) = sqlx::query_as::<_, (Vec<u8>, Option<Vec<u8>>)>(
        "SELECT sealed_url, sealed_secret FROM alert_channels WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    let open = |context: &str, sealed: &[u8]| {
        secrets
            .open(context, sealed)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Secret::new)
            .ok_or(OpenChannelError::Sealed(id))
    };
    let url = open(URL_CONTEXT, &sealed_url)?;
    let secret = sealed_secret
        .map(|s| open(SECRET_CONTEXT, &s))
        .transpose()?;
    Ok(Some(Opened { view, url, secret }))
}

/// Records what the vendor's answer to a message meant for the channel.
pub async fn record_answer(
    db: &Db,
    id: i64,
    state: &str,
    answer: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE alert_channels SET state = $1, last_answer = $2, last_sent_at = $3 WHERE id = $4",
    )
    .bind(state)
    .bind(answer)
    .bind(to_ms(at))
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}
