//! A car park's parking sessions for staff, newest first: plate search, state filter and keyset
//! paging by id (stable while gates keep adding sessions, and cheap at any depth).

use chrono::{DateTime, Utc};
use protocol::plate::Plate;
use protocol::tariff::Tariff;
use serde::Serialize;
use sqlx::AssertSqlSafe;

use super::ParkingError;
use super::stay::stay_by_id;
use crate::storage::{Db, from_ms};

/// The page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page.
pub const MAX_LIMIT: u32 = 200;

/// How a plate search matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlateMatch {
    /// A whole valid plate: equality, on `parking_sessions_park_plate_id_idx`.
    Exact(String),
    /// The beginning of a plate, normalised as plates are stored.
    Prefix(String),
}

impl PlateMatch {
    /// Reads a search: a whole plate matches exactly, anything else by prefix; `None` when empty.
    pub fn parse(input: &str) -> Option<PlateMatch> {
        if let Ok(plate) = Plate::parse(input) {
            return Some(PlateMatch::Exact(plate.into_string()));
        }
        // The same folding `Plate::parse` applies, so a partial plate meets stored ones.
        let text: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '•' | '・'))
            .map(|c| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                _ => c,
            })
            .map(|c| c.to_ascii_uppercase())
            .take(16)
            .collect();
        (!text.is_empty()).then_some(PlateMatch::Prefix(text))
    }
}

/// Which sessions a page shows.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Plate search.
    pub plate: Option<PlateMatch>,
    /// `open`, `closed` or `no_exit_seen`.
    pub state: Option<&'static str>,
    /// Only sessions with a smaller id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Page size, 1..=`MAX_LIMIT`.
    pub limit: u32,
}

/// The states a session can be in, as the filter names them.
pub const STATES: [&str; 3] = ["open", "closed", "no_exit_seen"];

/// One session as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionRow {
    /// Session id.
    pub id: i64,
    /// Normalised plate; absent for a plate-less car.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
    /// Ticket number of a plate-less car (or the gate's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    /// Entry time.
    pub entry_at: DateTime<Utc>,
    /// Entry gate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_gate: Option<String>,
    /// Exit time, once closed by an exit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_at: Option<DateTime<Utc>>,
    /// Exit gate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_gate: Option<String>,
    /// `open`, `closed` or `no_exit_seen`.
    pub state: String,
    /// Fen due at the exit; absent until closed by an exit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_due_fen: Option<i64>,
    /// Fen settled by its payments (amounts plus deductions), 0 when none.
    pub paid_fen: i64,
    /// What its discounts take off: now while parked, at the exit once closed (0 when none).
    pub discount_worth_fen: i64,
    /// What the car owes now while parked (the stay's figure, PROTOCOLS.md §5.1), or owed at its
    /// exit; absent for a stay closed by a later entry (never billed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owed_fen: Option<i64>,
    /// A VIP record covered part or all of the stay (known at exit).
    pub vip: bool,
}

/// A page of sessions, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionPage {
    /// The sessions.
    pub sessions: Vec<SessionRow>,
    /// Pass as `before` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

type Row = (
    i64,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
);

/// A page of car park `park_id`'s sessions matching `filter`, newest first, each with what it
/// owes by `tariff` at `now` (open) or owed at its exit (closed).
pub async fn sessions(
    db: &Db,
    park_id: i64,
    tariff: &Tariff,
    filter: &SessionFilter,
    now: DateTime<Utc>,
) -> Result<SessionPage, ParkingError> {
    // Only constant fragments are spliced; every value is bound, in the order pushed.
    let mut clauses = vec!["s.park_id = $1".to_owned()];
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    let plate_text = match &filter.plate {
        Some(PlateMatch::Exact(p)) => {
            clauses.push(format!("s.plate = ${}", next()));
            Some(p.clone())
        }
        Some(PlateMatch::Prefix(p)) => {
            clauses.push(format!("s.plate LIKE ${} ESCAPE '\\'", next()));
            let escaped = p
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            Some(format!("{escaped}%"))
        }
        None => None,
    };
    if filter.state.is_some() {
        clauses.push(format!("s.state = ${}", next()));
    }
    if filter.before.is_some() {
        clauses.push(format!("s.id < ${}", next()));
    }
    let limit_param = next();
    let sql = format!(
        "SELECT s.id, s.plate, s.barcode, s.entry_at, s.entry_gate, s.exit_at, s.exit_gate, \
         s.state, s.fee_due_fen, s.vip, \
         (SELECT CAST(COALESCE(SUM(p.amount_fen + p.deduction_fen), 0) AS BIGINT) \
          FROM parking_payments p WHERE p.session_id = s.id), \
         (SELECT CAST(COALESCE(SUM(d.worth_fen), 0) AS BIGINT) \
          FROM parking_discounts d WHERE d.session_id = s.id AND d.state = 'used') \
         FROM parking_sessions s WHERE {} ORDER BY s.id DESC LIMIT ${limit_param}",
        clauses.join(" AND ")
    );
    let limit = filter.limit.clamp(1, MAX_LIMIT);
    // One row more than asked tells whether a next page exists.
    let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql)).bind(park_id);
    if let Some(p) = plate_text {
        query = query.bind(p);
    }
    if let Some(state) = filter.state {
        query = query.bind(state);
    }
    if let Some(before) = filter.before {
        query = query.bind(before);
    }
    let mut rows = query.bind(i64::from(limit) + 1).fetch_all(&db.pool).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let mut sessions: Vec<SessionRow> = rows.into_iter().map(view).collect();
    // A parked car's figure grows with time and counts its active discounts: priced now, one
    // stay at a time (a page holds at most `MAX_LIMIT`, and most rows are closed).
    let mut conn = db.pool.acquire().await?;
    for row in sessions.iter_mut().filter(|r| r.state == "open") {
        if let Some(stay) = stay_by_id(&mut conn, park_id, row.id).await? {
            let figure = stay.figure(tariff, now)?;
            row.owed_fen = Some(figure.owed);
            row.discount_worth_fen = figure.discount_worth;
        }
    }
    let next_before = more.then(|| sessions.last().map(|s| s.id)).flatten();
    Ok(SessionPage {
        sessions,
        next_before,
    })
}

fn view(r: Row) -> SessionRow {
    let owed_fen = if r.7 == "closed" { r.8 } else { None };
    SessionRow {
        id: r.0,
        plate: r.1,
        barcode: r.2,
        entry_at: from_ms(r.3),
        entry_gate: r.4,
        exit_at: r.5.map(from_ms),
        exit_gate: r.6,
        state: r.7,
        fee_due_fen: r.8,
        vip: r.9 != 0,
        paid_fen: r.10,
        discount_worth_fen: r.11,
        owed_fen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_plate_matches_exactly_and_a_part_by_prefix() {
        assert_eq!(
            PlateMatch::parse(" 粤b 12345 "),
            Some(PlateMatch::Exact("粤B12345".into()))
        );
        assert_eq!(
            PlateMatch::parse("粤ｂ1"),
            Some(PlateMatch::Prefix("粤B1".into()))
        );
        assert_eq!(PlateMatch::parse("  "), None);
    }
}
