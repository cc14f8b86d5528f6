//! A shop's monthly statement (对账单, issue 17): its validations of one Shanghai month by offer
//! and kind, their states, and what the delivered ones were worth — the figure shops are billed by.
//!
//! A validation's worth is its discount's on the stay: a local discount's own row; a P云 product's
//! the discount P云's `discount.create` recorded for its coupon (found by `grant_serial`); a QR
//! token's the discounts of the coupons claimed with it (`shops::claims`). A discount already
//! used carries its worth; an active one on a car still parked is worth its share of the stay's
//! figure now, as the ledger splits it (`protocol::ledger::worths`, as the stay page shows it);
//! a revoked one gave nothing. Anything else — no `discount.create` yet, a token nobody
//! scanned, a plate's free window not yet used — is counted in `worth_missing`. Refused
//! validations are listed but never billed.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::store::Shop;
use crate::parking::stay::stay_by_id;
use crate::parks::Park;
use crate::storage::{Db, from_ms};

/// The month `YYYY-MM` as written, if it is one.
pub fn parse_month(s: &str) -> Option<String> {
    let s = s.trim();
    let d = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()?;
    let canonical = d.format("%Y-%m").to_string();
    (canonical == s).then_some(canonical)
}

/// An offer's discount as the statement names it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineDiscount {
    /// `amount`, `minutes`, `free` or `percent`.
    pub kind: String,
    /// Fen, minutes or per mille.
    pub value: i64,
}

/// Counts and worth of a set of validations.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Tally {
    /// Delivered (billed).
    pub delivered: i64,
    /// Waiting for P云's answer.
    pub pending: i64,
    /// Refused (never billed).
    pub refused: i64,
    /// P云's answer unknown.
    pub unknown: i64,
    /// What the delivered ones were worth, as far as known (fen).
    pub worth_fen: i64,
    /// Delivered ones whose worth is not known (yet).
    pub worth_missing: i64,
}

impl Tally {
    fn add(&mut self, row: &StatementRow) {
        match row.state.as_str() {
            "delivered" => {
                self.delivered += 1;
                match row.worth_fen {
                    Some(w) => self.worth_fen += w,
                    None => self.worth_missing += 1,
                }
            }
            "pending" => self.pending += 1,
            "refused" => self.refused += 1,
            _ => self.unknown += 1,
        }
    }
}

/// One (offer, kind) of the month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementLine {
    /// The offer.
    pub offer_id: i64,
    /// Its name.
    pub offer_name: String,
    /// `plate` or `qr_token`.
    pub kind: String,
    /// Its P云 coupon product, if it gives one.
    pub product_id: Option<i64>,
    /// Its local discount, if it gives one.
    pub discount: Option<LineDiscount>,
    /// Counts and worth.
    #[serde(flatten)]
    pub tally: Tally,
}

/// One validation of the month, for the CSV.
#[derive(Debug, Clone)]
pub struct StatementRow {
    /// The till's `validation_id` (a QR token's `qr-<id>`).
    pub validation_id: String,
    /// The offer.
    pub offer_id: i64,
    /// Its name.
    pub offer_name: String,
    /// `plate` or `qr_token`.
    pub kind: String,
    /// The plate (a QR token's claimer's).
    pub plate: Option<String>,
    /// `delivered`, `pending`, `refused` or `unknown`.
    pub state: String,
    /// `user:<name>`.
    pub created_by: String,
    /// When it was given.
    pub created_at: DateTime<Utc>,
    /// Its worth, when delivered and known (fen).
    pub worth_fen: Option<i64>,
}

/// A shop's month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Statement {
    /// The shop.
    pub shop: Shop,
    /// Its car park's name.
    pub park_name: String,
    /// `YYYY-MM` (Asia/Shanghai).
    pub month: String,
    /// One per (offer, kind) with validations in the month, by offer then kind.
    pub lines: Vec<StatementLine>,
    /// The month's totals.
    pub totals: Tally,
    /// Every validation of the month, oldest first (the CSV's rows).
    #[serde(skip)]
    pub rows: Vec<StatementRow>,
}

type Row = (
    i64,
    String,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    String,
    Option<String>,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

/// A discount's row: its stay, state and recorded worth.
type DiscountState = (Option<i64>, String, Option<i64>);

/// Shop `shop` of `park` in `month` (`YYYY-MM`, checked by the caller), worth as of `now`.
/// The caller brings pending P云 validations up to date first (`validate::follow_records`).
pub async fn of_month(
    db: &Db,
    park: &Park,
    shop: Shop,
    month: &str,
    now: DateTime<Utc>,
) -> Result<Statement, sqlx::Error> {
    let found = sqlx::query_as::<_, Row>(
        "SELECT v.id, v.validation_id, v.offer_id, o.name, o.product_id, o.discount_kind, \
         o.discount_value, v.kind, v.plate, v.state, v.created_by, v.created_at, v.discount_id, \
         ob.grant_serial FROM shop_validations v JOIN shop_offers o ON o.id = v.offer_id \
         LEFT JOIN outbox ob ON ob.id = v.outbox_id \
         WHERE v.shop_id = $1 AND v.month_key = $2 ORDER BY v.id",
    )
    .bind(shop.id)
    .bind(month)
    .fetch_all(&db.pool)
    .await?;
    let mut worth = Worth::new(db, park, now);
    let mut rows = Vec::with_capacity(found.len());
    let mut lines: Vec<StatementLine> = Vec::new();
    let mut totals = Tally::default();
    for r in found {
        let (id, kind, state) = (r.0, r.7.clone(), r.9.clone());
        let worth_fen = if state == "delivered" {
            worth
                .of_validation(id, &kind, r.12, r.13.as_deref())
                .await?
        } else {
            None
        };
        let row = StatementRow {
            validation_id: r.1,
            offer_id: r.2,
            offer_name: r.3.clone(),
            kind: kind.clone(),
            plate: r.8,
            state,
            created_by: r.10,
            created_at: from_ms(r.11),
            worth_fen,
        };
        let at = match lines
            .iter()
            .position(|l| l.offer_id == row.offer_id && l.kind == kind)
        {
            Some(i) => i,
            None => {
                lines.push(StatementLine {
                    offer_id: r.2,
                    offer_name: r.3,
                    kind,
                    product_id: r.4,
                    discount: r.5.map(|kind| LineDiscount {
                        kind,
                        value: r.6.unwrap_or(0),
                    }),
                    tally: Tally::default(),
                });
                lines.len() - 1
            }
        };
        let line = &mut lines[at];
        line.tally.add(&row);
        totals.add(&row);
        rows.push(row);
    }
    lines.sort_by(|a, b| (a.offer_id, &a.kind).cmp(&(b.offer_id, &b.kind)));
    Ok(Statement {
        shop,
        park_name: park.fields.name.clone(),
        month: month.to_owned(),
        lines,
        totals,
        rows,
    })
}

/// Finds delivered validations' worth, each stay priced once.
struct Worth<'a> {
    db: &'a Db,
    park: &'a Park,
    now: DateTime<Utc>,
    /// Per open stay: its counted discounts' shares now, by discount id.
    shares: HashMap<i64, HashMap<i64, i64>>,
}

impl<'a> Worth<'a> {
    fn new(db: &'a Db, park: &'a Park, now: DateTime<Utc>) -> Worth<'a> {
        Worth {
            db,
            park,
            now,
            shares: HashMap::new(),
        }
    }

    /// The worth of a delivered validation, or `None` while some of it is unknown.
    async fn of_validation(
        &mut self,
        id: i64,
        kind: &str,
        local: Option<i64>,
        grant_serial: Option<&str>,
    ) -> Result<Option<i64>, sqlx::Error> {
        if let Some(d) = local {
            return self.of_discount(d).await;
        }
        if kind == "qr_token" {
            let claimed: Vec<i64> = sqlx::query_scalar(
                "SELECT discount_id FROM shop_token_claims WHERE validation_id = $1 \
                 ORDER BY discount_id",
            )
            .bind(id)
            .fetch_all(&self.db.pool)
            .await?;
            if claimed.is_empty() {
                return Ok(None);
            }
            let mut sum = 0;
            for d in claimed {
                match self.of_discount(d).await? {
                    Some(w) => sum += w,
                    None => return Ok(None),
                }
            }
            return Ok(Some(sum));
        }
        let Some(serial) = grant_serial.filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let applied: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM parking_discounts \
             WHERE park_id = $1 AND source = 'pyun' AND source_key = $2",
        )
        .bind(self.park.id)
        .bind(serial)
        .fetch_optional(&self.db.pool)
        .await?;
        match applied {
            Some(d) => self.of_discount(d).await,
            None => Ok(None),
        }
    }

    /// Discount `id`'s worth: recorded when used, 0 when revoked, its share now when active on a
    /// car still parked; else unknown.
    async fn of_discount(&mut self, id: i64) -> Result<Option<i64>, sqlx::Error> {
        let found = sqlx::query_as::<_, DiscountState>(
            "SELECT session_id, state, worth_fen FROM parking_discounts \
             WHERE id = $1 AND park_id = $2",
        )
        .bind(id)
        .bind(self.park.id)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some((session, state, recorded)) = found else {
            return Ok(None);
        };
        match (state.as_str(), session) {
            ("used", _) => Ok(recorded),
            ("revoked", _) => Ok(Some(0)),
            ("active", Some(session)) => Ok(self.share(session, id).await?),
            _ => Ok(None),
        }
    }

    async fn share(&mut self, session: i64, discount: i64) -> Result<Option<i64>, sqlx::Error> {
        if !self.shares.contains_key(&session) {
            let mut conn = self.db.pool.acquire().await?;
            let shares = match stay_by_id(&mut conn, self.park.id, session).await? {
                Some(stay) if stay.is_open() => {
                    let tariff = &self.park.fields.tariff;
                    match protocol::ledger::worths(&stay.ledger(tariff), stay.priced_at(self.now)) {
                        Ok(w) => stay.discount_rows.iter().map(|r| r.id).zip(w).collect(),
                        Err(e) => {
                            tracing::warn!(session, error = %e, "stay cannot be priced for a statement");
                            HashMap::new()
                        }
                    }
                }
                _ => HashMap::new(),
            };
            self.shares.insert(session, shares);
        }
        Ok(self
            .shares
            .get(&session)
            .and_then(|s| s.get(&discount))
            .copied())
    }
}

/// The CSV's header.
pub const CSV_HEADER: [&str; 8] = [
    "时间",
    "方式",
    "车牌",
    "优惠",
    "状态",
    "价值(元)",
    "操作人",
    "编号",
];

fn state_name(state: &str) -> &'static str {
    match state {
        "delivered" => "已送达",
        "pending" => "处理中",
        "refused" => "被拒绝",
        _ => "未知",
    }
}

fn shanghai_time(t: DateTime<Utc>) -> String {
    protocol::time::to_shanghai(t)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The statement as CSV text: a row per validation, oldest first, then the totals row.
pub fn csv_text(s: &Statement) -> String {
    use protocol::vip::csv::{format_yuan, write_table};
    let mut table: Vec<[String; 8]> = s
        .rows
        .iter()
        .map(|r| {
            [
                shanghai_time(r.created_at),
                if r.kind == "qr_token" {
                    "二维码"
                } else {
                    "车牌"
                }
                .to_owned(),
                r.plate.clone().unwrap_or_default(),
                r.offer_name.clone(),
                state_name(&r.state).to_owned(),
                r.worth_fen.map(format_yuan).unwrap_or_default(),
                r.created_by
                    .strip_prefix("user:")
                    .unwrap_or(&r.created_by)
                    .to_owned(),
                r.validation_id.clone(),
            ]
        })
        .collect();
    let t = &s.totals;
    table.push([
        "合计".to_owned(),
        String::new(),
        String::new(),
        String::new(),
        format!(
            "已送达 {} / 处理中 {} / 被拒绝 {} / 未知 {}",
            t.delivered, t.pending, t.refused, t.unknown
        ),
        format_yuan(t.worth_fen),
        String::new(),
        if t.worth_missing > 0 {
            format!("{} 笔价值未知", t.worth_missing)
        } else {
            String::new()
        },
    ]);
    write_table(CSV_HEADER, &table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_real_month_written_yyyy_mm_is_a_month() {
        assert_eq!(parse_month("2026-12").as_deref(), Some("2026-12"));
        for bad in ["2026-13", "2026-1", "202612", "2026-12-01", "", "abcd-ef"] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
    }
}
