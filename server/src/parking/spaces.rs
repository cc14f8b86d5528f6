//! A car park's spaces against the cars inside now: what the 余位 sign at the entrance shows and
//! the dashboard's occupancy.

use serde::Serialize;
use sqlx::AnyConnection;

use crate::storage::Db;

/// Spaces, cars inside and free spaces of a car park, now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Spaces {
    /// The car park's configured spaces; `null` when not configured.
    pub total: Option<i64>,
    /// Cars inside: the car park's open parking sessions.
    pub inside: i64,
    /// `max(0, total − inside)`; `null` when `total` is.
    pub free: Option<i64>,
}

impl Spaces {
    /// The figures of a car park with `total` spaces and `inside` cars.
    pub fn of(total: Option<i64>, inside: i64) -> Spaces {
        Spaces {
            total,
            inside,
            // More cars than spaces (a missed exit, spaces set too low) shows full, not negative.
            free: total.map(|t| (t - inside).max(0)),
        }
    }

    /// Cars inside as a whole percentage of the spaces, rounded half up; `None` without spaces
    /// (unset, or 0: no share of nothing). Above 100 when more cars are inside than spaces.
    pub fn occupancy_percent(&self) -> Option<i64> {
        let total = self.total.filter(|t| *t > 0)?;
        Some((self.inside.max(0) * 100 + total / 2) / total)
    }
}

// The open-ended range on entry_at is what steers SQLite, which keeps no statistics, to the
// partial index of open sessions (`parking_sessions_park_open_entry_idx`, 1 ms for 10k open
// among 1M) rather than `(park_id, id)` (a scan of the car park's history, 100 ms).
const COUNT_INSIDE: &str = "SELECT COUNT(*) FROM parking_sessions \
     WHERE park_id = $1 AND state = 'open' AND entry_at < $2";

/// Cars inside car park `park_id` now: its open sessions.
pub async fn inside_now(db: &Db, park_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(COUNT_INSIDE)
        .bind(park_id)
        .bind(i64::MAX)
        .fetch_one(&db.pool)
        .await
}

/// [`inside_now`] on `conn`: a gate event's transaction counts with its own change.
pub async fn inside_now_on(conn: &mut AnyConnection, park_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(COUNT_INSIDE)
        .bind(park_id)
        .bind(i64::MAX)
        .fetch_one(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_spaces_never_go_below_zero_and_need_a_total() {
        assert_eq!(
            Spaces::of(Some(10), 3),
            Spaces {
                total: Some(10),
                inside: 3,
                free: Some(7)
            }
        );
        assert_eq!(Spaces::of(Some(2), 5).free, Some(0));
        assert_eq!(Spaces::of(None, 5).free, None);
    }

    #[test]
    fn occupancy_is_a_rounded_percentage_of_a_positive_total() {
        assert_eq!(Spaces::of(Some(3), 1).occupancy_percent(), Some(33));
        assert_eq!(Spaces::of(Some(3), 2).occupancy_percent(), Some(67));
        assert_eq!(Spaces::of(Some(8), 1).occupancy_percent(), Some(13));
        assert_eq!(Spaces::of(Some(4), 6).occupancy_percent(), Some(150));
        assert_eq!(Spaces::of(Some(0), 0).occupancy_percent(), None);
        assert_eq!(Spaces::of(None, 4).occupancy_percent(), None);
    }
}
