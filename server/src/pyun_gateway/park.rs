//! Which car park a gateway call is for, and the key that verifies it: P云 names the car park by
//! `park_uuid` alone, so only a car park with car-park access switched on answers to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol::tariff::Tariff;

use crate::credentials::{self, CarparkKeys};
use crate::secrets::{Secret, SecretBox};
use crate::storage::Db;

/// A car park on P云 car-park access, with what its calls need.
#[derive(Debug)]
pub struct GatewayPark {
    /// Car park id.
    pub id: i64,
    /// P云's `park_uuid`.
    pub park_uuid: String,
    /// Its tariff.
    pub tariff: Tariff,
    /// Its spaces, if configured.
    pub total_spaces: Option<i64>,
    /// The downlink key (`&key=`): verifies calls, signs replies; never logged.
    pub key: Secret,
}

/// Why the car park of a call could not be settled.
#[derive(Debug, thiserror::Error)]
pub enum ParkLookupError {
    /// The database failed.
    #[error("storage failure: {0}")]
    Storage(#[from] sqlx::Error),
    /// The credential does not open or is not a key pair: an admin must fix it.
    #[error("car park {park}: the P云 car-park credential cannot be read: {reason}")]
    Credential {
        /// The car park.
        park: i64,
        /// Why (never the secret).
        reason: String,
    },
}

/// The car park on access whose `pyun_park_uuid` is `park_uuid`, with its key; `None` if no car
/// park on access has it.
pub async fn find(
    db: &Db,
    secrets: &SecretBox,
    park_uuid: &str,
) -> Result<Option<GatewayPark>, ParkLookupError> {
    let row = sqlx::query_as::<_, (i64, String, Option<i64>, i64)>(
        "SELECT id, tariff_json, total_spaces, pyun_carpark_credential_id FROM car_parks \
         WHERE pyun_park_uuid = $1 AND pyun_carpark_credential_id IS NOT NULL",
    )
    .bind(park_uuid)
    .fetch_optional(&db.pool)
    .await?;
    let Some((id, tariff_json, total_spaces, credential)) = row else {
        return Ok(None);
    };
    let broken = |reason: String| ParkLookupError::Credential { park: id, reason };
    let material = credentials::signing_material(db, secrets, credential)
        .await
        .map_err(|e| broken(e.to_string()))?
        .ok_or_else(|| broken("the credential is gone".to_owned()))?;
    let keys = CarparkKeys::from_secret(&material.secret)
        .ok_or_else(|| broken("not a pyun_carpark key pair".to_owned()))?;
    let tariff = serde_json::from_str(&tariff_json).unwrap_or_else(|e| {
        tracing::error!(park = id, error = %e, "stored tariff does not parse");
        Tariff::example()
    });
    Ok(Some(GatewayPark {
        id,
        park_uuid: park_uuid.to_owned(),
        tariff,
        total_spaces,
        key: Secret::new(keys.downlink_key),
    }))
}

/// How long a looked-up car park (or its absence) is trusted: a changed key or tariff takes
/// effect within this, and P云's polling and payment flows do not each read and unseal it.
const TTL: Duration = Duration::from_secs(2);
/// Entries before the cache starts over (a prober sending random `park_uuid`s cannot grow it).
const MAX_ENTRIES: usize = 1024;

/// A looked-up car park (or its absence) and when it was read.
type Entry = (Instant, Option<Arc<GatewayPark>>);

/// Car parks by `park_uuid`, for [`TTL`], per instance.
#[derive(Default)]
pub struct ParkCache {
    map: Mutex<HashMap<String, Entry>>,
}

impl ParkCache {
    /// The car park on access named `park_uuid`, from the cache or [`find`].
    pub async fn get(
        &self,
        db: &Db,
        secrets: &SecretBox,
        park_uuid: &str,
    ) -> Result<Option<Arc<GatewayPark>>, ParkLookupError> {
        {
            // Entries are whole values: a panic elsewhere cannot leave one half-written.
            let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, park)) = map.get(park_uuid)
                && at.elapsed() < TTL
            {
                return Ok(park.clone());
            }
        }
        let park = find(db, secrets, park_uuid).await?.map(Arc::new);
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(park_uuid.to_owned(), (Instant::now(), park.clone()));
        Ok(park)
    }
}
