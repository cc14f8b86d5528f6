//! Reading records: one by id, or a filtered page of a car park's, each with its sync class
//! derived from its recharges' outbox rows.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::storage::{Db, from_ms, to_ms};

/// Where a record stands with P云: the worst class over its recharges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncClass {
    /// No recharge at all.
    None,
    /// Some recharge is not batched yet.
    Queued,
    /// Some recharge's batch is pending or being sent.
    Pending,
    /// Every recharge was delivered.
    Delivered,
    /// Some recharge's batch was rejected, misconfigured, failed or is unknown.
    Problem,
}

impl SyncClass {
    /// The class a `sync=` filter names.
    pub fn parse(s: &str) -> Option<SyncClass> {
        Some(match s {
            "queued" => SyncClass::Queued,
            "pending" => SyncClass::Pending,
            "delivered" => SyncClass::Delivered,
            "problem" => SyncClass::Problem,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            SyncClass::None => "none",
            SyncClass::Queued => "queued",
            SyncClass::Pending => "pending",
            SyncClass::Delivered => "delivered",
            SyncClass::Problem => "problem",
        }
    }

    /// From the SQL rank below (worst wins: problem 4 > pending 3 > queued 2 > delivered 1).
    fn from_rank(rank: Option<i64>) -> SyncClass {
        match rank {
            Some(4) => SyncClass::Problem,
            Some(3) => SyncClass::Pending,
            Some(2) => SyncClass::Queued,
            Some(1) => SyncClass::Delivered,
            _ => SyncClass::None,
        }
    }
}

/// Whether a record's period covers now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// valid_from ≤ now ≤ valid_to.
    Valid,
    /// valid_to < now.
    Expired,
}

/// What `list` selects; `None` fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Substring of the normalised plate.
    pub plate: Option<String>,
    /// P云 card type code.
    pub vip_type: Option<u8>,
    /// Valid now or expired.
    pub validity: Option<Validity>,
    /// Sync class.
    pub sync: Option<SyncClass>,
    /// Rows to skip.
    pub offset: u32,
    /// Rows to return.
    pub limit: u32,
}

/// A record as the UI lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VipRecordView {
    /// Record id.
    pub id: i64,
    /// Its car park.
    pub park_id: i64,
    /// Normalised plate.
    pub plate: String,
    /// P云 colour code.
    pub plate_color: i32,
    /// Logical card number.
    pub card_no: Option<String>,
    /// Physical card number.
    pub card_id: Option<String>,
    /// The car park's VIP tariff id.
    pub charge_type: String,
    /// P云 card type code.
    pub vip_type: u8,
    /// First valid instant (min over recharges).
    pub valid_from: Option<DateTime<Utc>>,
    /// Last valid instant, inclusive (max over recharges).
    pub valid_to: Option<DateTime<Utc>>,
    /// Whether the period covers now.
    pub valid_now: bool,
    /// Number of recharges.
    pub recharge_count: i64,
    /// Worst sync class over its recharges.
    pub sync: SyncClass,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A page of records and how many match in all.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordPage {
    /// This page, newest first.
    pub records: Vec<VipRecordView>,
    /// Matching records in all.
    pub total: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    park_id: i64,
    plate: String,
    plate_color: i64,
    card_no: Option<String>,
    card_id: Option<String>,
    charge_type: String,
    vip_type: i64,
    valid_from: Option<i64>,
    valid_to: Option<i64>,
    created_at: i64,
    updated_at: i64,
    recharge_count: i64,
    sync_rank: Option<i64>,
}

impl Row {
    fn into_view(self, now: DateTime<Utc>) -> VipRecordView {
        let now_ms = to_ms(now);
        VipRecordView {
            valid_now: matches!((self.valid_from, self.valid_to),
                (Some(f), Some(t)) if f <= now_ms && now_ms < t + 1000),
            id: self.id,
            park_id: self.park_id,
            plate: self.plate,
            plate_color: i32::try_from(self.plate_color).unwrap_or(-1),
            card_no: self.card_no,
            card_id: self.card_id,
            charge_type: self.charge_type,
            vip_type: u8::try_from(self.vip_type).unwrap_or(0),
            valid_from: self.valid_from.map(from_ms),
            valid_to: self.valid_to.map(from_ms),
            recharge_count: self.recharge_count,
            sync: SyncClass::from_rank(self.sync_rank),
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
        }
    }
}

/// The record columns plus its recharge count and sync rank (one index probe each, on
/// `vip_recharges_record_idx`).
macro_rules! select_records {
    () => {
        concat!(
            "SELECT v.id, v.park_id, v.plate, v.plate_color, v.card_no, v.card_id, v.charge_type, ",
            "v.vip_type, v.valid_from, v.valid_to, v.created_at, v.updated_at, ",
            "(SELECT COUNT(*) FROM vip_recharges r WHERE r.record_id = v.id) AS recharge_count, ",
            "(SELECT CAST(MAX(CASE WHEN r.outbox_id IS NULL THEN 2 ",
            "WHEN o.state IN ('pending', 'sending') THEN 3 WHEN o.state = 'delivered' THEN 1 ELSE 4 END) AS BIGINT) ",
            "FROM vip_recharges r LEFT JOIN outbox o ON o.id = r.outbox_id WHERE r.record_id = v.id) AS sync_rank ",
            "FROM vip_records v "
        )
    };
}

/// The filter of `list`, shared by the page and the count. The sync sets are uncorrelated
/// subqueries, evaluated once: problem and pending batches are found from the car park's outbox
/// rows (`outbox_park_idx`), queued recharges from `vip_recharges_unbatched_idx`.
macro_rules! filtered {
    () => {
        concat!(
            "WHERE v.park_id = $1 ",
            "AND ($2 IS NULL OR v.plate LIKE $2 ESCAPE '\\') ",
            "AND ($3 IS NULL OR v.vip_type = $3) ",
            "AND ($4 IS NULL OR ($4 = 'valid' AND v.valid_from <= $5 AND v.valid_to >= $6) ",
            "OR ($4 = 'expired' AND v.valid_to < $6)) ",
            "AND ($7 IS NULL ",
            "OR ($7 = 'problem' AND v.id IN (", problem!(), ")) ",
            "OR ($7 = 'pending' AND v.id IN (", pending!(), ") AND v.id NOT IN (", problem!(), ")) ",
            "OR ($7 = 'queued' AND v.id IN (", queued!(), ") AND v.id NOT IN (", pending!(),
            ") AND v.id NOT IN (", problem!(), ")) ",
            "OR ($7 = 'delivered' AND EXISTS (SELECT 1 FROM vip_recharges d WHERE d.record_id = v.id) ",
            "AND v.id NOT IN (", queued!(), ") AND v.id NOT IN (", pending!(),
            ") AND v.id NOT IN (", problem!(), "))) "
        )
    };
}

macro_rules! problem {
    () => {
        "SELECT pr.record_id FROM outbox po JOIN vip_recharges pr ON pr.outbox_id = po.id \
         WHERE po.park_id = $1 AND po.state IN ('rejected', 'misconfigured', 'failed', 'unknown')"
    };
}

macro_rules! pending {
    () => {
        "SELECT qr.record_id FROM outbox qo JOIN vip_recharges qr ON qr.outbox_id = qo.id \
         WHERE qo.park_id = $1 AND qo.state IN ('pending', 'sending')"
    };
}

macro_rules! queued {
    () => {
        "SELECT ur.record_id FROM vip_recharges ur WHERE ur.park_id = $1 AND ur.outbox_id IS NULL"
    };
}

/// The plate text a search matches: trimmed, upper-cased, full-width folded — as plates are
/// stored — with LIKE's wildcards escaped.
fn plate_pattern(input: &str) -> Option<String> {
    let text: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '•' | '・'))
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if text.is_empty() {
        return None;
    }
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

/// A page of car park `park_id`'s records matching `filter`, newest first, and the total.
pub async fn list(db: &Db, park_id: i64, filter: &ListFilter) -> Result<RecordPage, sqlx::Error> {
    let now = Utc::now();
    let plate = filter.plate.as_deref().and_then(plate_pattern);
    let vip_type = filter.vip_type.map(i64::from);
    let validity = filter.validity.map(|v| match v {
        Validity::Valid => "valid",
        Validity::Expired => "expired",
    });
    let sync = filter.sync.map(SyncClass::as_str);
    // valid_to is inclusive to the second: still valid during its last second.
    let (now_ms, cut_ms) = (to_ms(now), to_ms(now) - 999);
    let rows = sqlx::query_as::<_, Row>(concat!(
        select_records!(),
        filtered!(),
        "ORDER BY v.id DESC LIMIT $8 OFFSET $9"
    ))
    .bind(park_id)
    .bind(plate.as_deref())
    .bind(vip_type)
    .bind(validity)
    .bind(now_ms)
    .bind(cut_ms)
    .bind(sync)
    .bind(i64::from(filter.limit))
    .bind(i64::from(filter.offset))
    .fetch_all(&db.pool)
    .await?;
    let total =
        sqlx::query_scalar::<_, i64>(concat!("SELECT COUNT(*) FROM vip_records v ", filtered!()))
            .bind(park_id)
            .bind(plate.as_deref())
            .bind(vip_type)
            .bind(validity)
            .bind(now_ms)
            .bind(cut_ms)
            .bind(sync)
            .fetch_one(&db.pool)
            .await?;
    Ok(RecordPage {
        records: rows.into_iter().map(|r| r.into_view(now)).collect(),
        total,
    })
}

/// One record by id.
pub(super) async fn record_view(db: &Db, id: i64) -> Result<Option<VipRecordView>, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(concat!(select_records!(), "WHERE v.id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.into_view(Utc::now())))
}
