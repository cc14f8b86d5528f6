//! Who is calling (PROTOCOLS.md §2.1, §2.6): the car park named by `parkId` (or the only one
//! with a Mallcoo `parkId` when it is absent) and the signature of its inbound key pair over
//! the exact body bytes, within ±5 minutes.
//!
//! GetParkingPaymentInfo is the hot path, so a car park's row and its decrypted key pair are
//! cached for `TTL` per `parkId`: a change (key rotation, relinked credential) is seen within
//! that time on every instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use protocol::mallcoo::sign::{self, AuthError, MallcooKeys, ReceivedHeaders};
use protocol::tariff::Tariff;
use serde::Deserialize;

use super::Refusal;
use crate::credentials::{self, CredentialKind};
use crate::secrets::{Secret, SecretBox};
use crate::storage::Db;

/// How stale a cached car park and key pair may be.
const TTL: Duration = Duration::from_secs(2);
/// Entries kept at most; beyond it the map is emptied (unknown `parkId`s cannot grow it forever).
const MAX_ENTRIES: usize = 1_000;

/// A car park as Mallcoo's calls need it: its id, tariff and inbound key pair.
#[derive(Debug)]
pub struct MallcooPark {
    /// `car_parks.id`.
    pub park_id: i64,
    /// The car park's tariff (grace minutes included).
    pub tariff: Tariff,
    /// The inbound key pair, `None` when the car park has none linked (every call is then 401).
    keys: Option<InboundKeys>,
}

#[derive(Debug)]
struct InboundKeys {
    app_id: String,
    public_key: String,
    private_key: Secret,
}

/// Which car park a call names, as cached.
#[derive(Debug, Clone)]
enum Lookup {
    Found(Arc<MallcooPark>),
    /// `parkId` given but unknown.
    Unknown,
    /// `parkId` absent while zero or several car parks have a Mallcoo `parkId`.
    Ambiguous(usize),
}

/// The per-instance cache of car parks and key pairs by `parkId` (`None`: the single car park).
#[derive(Default)]
pub struct KeyCache {
    map: Mutex<HashMap<Option<String>, (Instant, Lookup)>>,
}

impl KeyCache {
    fn get(&self, key: &Option<String>) -> Option<Lookup> {
        // Entries are whole values: a panic elsewhere cannot leave one half-written.
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: Option<String>, value: Lookup) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (Instant::now(), value));
    }
}

/// Only `parkId`, read before the signature is checked: it says whose key to check with.
#[derive(Deserialize)]
struct ParkIdOnly {
    #[serde(default, rename = "parkId")]
    park_id: Option<serde_json::Value>,
}

/// `parkId` of a body; blank, `null` or an unreadable body count as absent (the full decode,
/// after the signature, reports what is wrong with the body).
fn park_id_of(body: &[u8]) -> Option<String> {
    let v = serde_json::from_slice::<ParkIdOnly>(body).ok()?.park_id?;
    let text = match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Authenticates a Mallcoo call: the headers must be present, the car park known, and the
/// signature over `body` valid for its inbound key pair at `now`.
pub async fn authenticate(
    db: &Db,
    secrets: &SecretBox,
    cache: &KeyCache,
    received: &ReceivedHeaders<'_>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Arc<MallcooPark>, Refusal> {
    // No signature at all: refused before the body is looked at.
    for (value, name) in [
        (received.app_id, sign::HEADER_APP_ID),
        (received.public_key, sign::HEADER_PUBLIC_KEY),
        (received.timestamp, sign::HEADER_TIMESTAMP),
        (received.sign, sign::HEADER_SIGN),
    ] {
        if value.is_none_or(str::is_empty) {
            return Err(unauthenticated(&AuthError::MissingHeader(name)));
        }
    }
    let park_id = park_id_of(body);
    let park = match lookup(db, secrets, cache, park_id.clone()).await? {
        Lookup::Found(p) => p,
        Lookup::Unknown => {
            return Err(Refusal::refused(format!(
                "parkId {} 不存在（未配置该猫酷停车场）",
                park_id.unwrap_or_default()
            )));
        }
        Lookup::Ambiguous(n) => {
            return Err(Refusal::refused(format!(
                "缺少 parkId：已配置 {n} 个猫酷停车场，须提供 parkId"
            )));
        }
    };
    let Some(keys) = &park.keys else {
        tracing::warn!(
            park = park.park_id,
            "Mallcoo call for a car park without an inbound key pair"
        );
        return Err(Refusal::Unauthenticated(
            "该停车场未配置猫酷接入密钥".to_owned(),
        ));
    };
    let keys = MallcooKeys {
        app_id: &keys.app_id,
        public_key: &keys.public_key,
        private_key: keys.private_key.expose(),
    };
    sign::verify(received, body, &keys, now, sign::DEFAULT_MAX_SKEW).map_err(|e| {
        tracing::info!(park = park.park_id, reason = %e, "Mallcoo call refused: signature");
        unauthenticated(&e)
    })?;
    Ok(park)
}

fn unauthenticated(e: &AuthError) -> Refusal {
    let why = match e {
        AuthError::MissingHeader(h) => format!("缺少请求头 {h}"),
        AuthError::UnknownAppId(_) | AuthError::PublicKeyMismatch(_) => {
            "AppID 或 PublicKey 与该停车场的密钥不符".to_owned()
        }
        AuthError::MalformedTimestamp(_) => "TimeStamp 格式错误，应为 yyyyMMddHHmmss".to_owned(),
        AuthError::StaleTimestamp { offset_secs, .. } => {
            format!("TimeStamp 与服务器时间相差 {offset_secs} 秒，超出 ±5 分钟")
        }
        AuthError::BadSignature => "Sign 签名错误".to_owned(),
    };
    Refusal::Unauthenticated(format!("签名验证失败：{why}"))
}

async fn lookup(
    db: &Db,
    secrets: &SecretBox,
    cache: &KeyCache,
    park_id: Option<String>,
) -> Result<Lookup, Refusal> {
    if let Some(hit) = cache.get(&park_id) {
        return Ok(hit);
    }
    type Row = (i64, String, Option<i64>);
    let rows: Vec<Row> = match &park_id {
        Some(id) => {
            sqlx::query_as(
                "SELECT id, tariff_json, mallcoo_in_credential_id FROM car_parks \
                 WHERE mallcoo_park_id = $1",
            )
            .bind(id.as_str())
            .fetch_all(&db.pool)
            .await?
        }
        None => {
            sqlx::query_as(
                "SELECT id, tariff_json, mallcoo_in_credential_id FROM car_parks \
                 WHERE mallcoo_park_id IS NOT NULL ORDER BY id LIMIT 2",
            )
            .fetch_all(&db.pool)
            .await?
        }
    };
    let found = match (rows.len(), park_id.is_some()) {
        (1, _) => {
            let (id, tariff_json, credential) = rows.into_iter().next().expect("one row");
            Lookup::Found(Arc::new(
                load(db, secrets, id, &tariff_json, credential).await?,
            ))
        }
        (0, true) => Lookup::Unknown,
        (n, _) => Lookup::Ambiguous(n),
    };
    cache.put(park_id, found.clone());
    Ok(found)
}

async fn load(
    db: &Db,
    secrets: &SecretBox,
    park_id: i64,
    tariff_json: &str,
    credential: Option<i64>,
) -> Result<MallcooPark, Refusal> {
    let tariff: Tariff = serde_json::from_str(tariff_json)
        .map_err(|e| Refusal::Internal(format!("car park {park_id}: stored tariff: {e}")))?;
    let keys = match credential {
        None => None,
        Some(id) => match credentials::signing_material(db, secrets, id).await {
            Ok(Some(m)) if m.kind == CredentialKind::MallcooInbound => {
                m.public.public_key.map(|public_key| InboundKeys {
                    app_id: m.public.app_id,
                    public_key,
                    private_key: m.secret,
                })
            }
            Ok(_) => None,
            Err(credentials::RevealError::Storage(e)) => return Err(Refusal::Storage(e)),
            Err(e) => return Err(Refusal::Internal(e.to_string())),
        },
    };
    Ok(MallcooPark {
        park_id,
        tariff,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn park_id_is_read_leniently_before_the_signature() {
        assert_eq!(park_id_of(br#"{"parkId":"P1"}"#).as_deref(), Some("P1"));
        assert_eq!(park_id_of(br#"{"parkId":12}"#).as_deref(), Some("12"));
        assert_eq!(park_id_of(br#"{"parkId":" "}"#), None);
        assert_eq!(park_id_of(br#"{"parkId":null}"#), None);
        assert_eq!(park_id_of(b"{"), None);
        assert_eq!(park_id_of(b""), None);
    }
}
