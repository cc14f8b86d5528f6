//! Short-lived caches for what every coupon call reads and admins rarely change: a car park by
//! its code, and its event settings. A change made through this instance is seen at once (the
//! entry is dropped); one made through another instance sharing the database within `TTL`.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::coupons::config::{self, EventSettings};
use crate::parks::{self, Park};
use crate::storage::Db;

/// How stale an entry may be.
const TTL: Duration = Duration::from_secs(2);
/// Entries kept at most; beyond it the map is emptied (unknown codes cannot grow it forever).
const MAX_ENTRIES: usize = 10_000;

/// A map whose entries expire after `TTL`.
struct TtlMap<K, V> {
    map: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    fn new() -> Self {
        TtlMap {
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        // Entries are whole values: a panic elsewhere cannot leave one half-written.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &K) -> Option<V> {
        self.lock()
            .get(key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: K, value: V) {
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (Instant::now(), value));
    }

    fn clear(&self) {
        self.lock().clear();
    }
}

/// The caches of one instance.
pub struct HotLookups {
    parks_by_code: TtlMap<String, Option<Park>>,
    event_settings: TtlMap<i64, EventSettings>,
}

impl Default for HotLookups {
    fn default() -> Self {
        HotLookups {
            parks_by_code: TtlMap::new(),
            event_settings: TtlMap::new(),
        }
    }
}

impl HotLookups {
    /// The car park with code `code`, if any.
    pub async fn park_by_code(&self, db: &Db, code: &str) -> Result<Option<Park>, sqlx::Error> {
        if let Some(hit) = self.parks_by_code.get(&code.to_owned()) {
            return Ok(hit);
        }
        let park = parks::find_by_code(db, code).await?;
        self.parks_by_code.put(code.to_owned(), park.clone());
        Ok(park)
    }

    /// The event settings of car park `park_id`.
    pub async fn event_settings(
        &self,
        db: &Db,
        park_id: i64,
    ) -> Result<EventSettings, sqlx::Error> {
        if let Some(hit) = self.event_settings.get(&park_id) {
            return Ok(hit);
        }
        let settings = config::event_settings(db, park_id).await?;
        self.event_settings.put(park_id, settings.clone());
        Ok(settings)
    }

    /// Forgets every car park (one was created or changed here).
    pub fn parks_changed(&self) {
        self.parks_by_code.clear();
    }

    /// Forgets the event settings of every car park (one changed here).
    pub fn event_settings_changed(&self) {
        self.event_settings.clear();
    }
}
