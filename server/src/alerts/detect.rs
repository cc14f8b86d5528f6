//! Detection: each detector reads what is wrong now from the tables the rest of ParkBridge
//! keeps (the outbox, stays, gateway calls, channels, shop quotas) and says so as
//! [`Condition`]s; [`problems::reconcile`] opens, refreshes and resolves problems from them.
//!
//! Detectors only read, through small indexes, so a pass costs the request paths nothing.

use chrono::{DateTime, NaiveTime, TimeDelta, Timelike, Utc};
use protocol::alerts::ProblemKind;

use super::problems::{self, Condition};
use crate::storage::{Db, from_ms, to_ms};

/// Detection's thresholds (server options).
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// An undelivered outbox row older than this is stuck.
    pub stuck_after: TimeDelta,
    /// No entry or exit for this long is gate silence.
    pub gate_silence_after: TimeDelta,
    /// Shanghai hours when silence opens no problem (e.g. 01:00–06:00); `None`: never quiet.
    pub quiet_hours: Option<(NaiveTime, NaiveTime)>,
    /// Window in which P云 calls failing our signature count.
    pub downlink_window: TimeDelta,
    /// Nothing but transient failures to a partner for this long is "unreachable".
    pub unreachable_after: TimeDelta,
    /// A VIP full sync with no batch finished for this long is stuck.
    pub sync_stuck_after: TimeDelta,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            stuck_after: TimeDelta::minutes(10),
            gate_silence_after: TimeDelta::minutes(60),
            quiet_hours: NaiveTime::from_hms_opt(1, 0, 0).zip(NaiveTime::from_hms_opt(6, 0, 0)),
            downlink_window: TimeDelta::minutes(15),
            unreachable_after: TimeDelta::minutes(5),
            sync_stuck_after: TimeDelta::minutes(10),
        }
    }
}

/// The kinds a pass looks for: every kind.
pub const DETECTED: [ProblemKind; 10] = ProblemKind::ALL;

/// The partner an outbox kind goes to, and its name for people.
fn partner(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "enter_notice" => ("mallcoo", "猫酷"),
        "pyun_enter" | "pyun_leave" => ("pyun_carpark", "P云（车场接入）"),
        _ => ("pyun", "P云"),
    }
}

/// The admin page where a partner's deliveries at a car park are looked after.
fn partner_page(key: &str, park_id: i64) -> String {
    match key {
        "pyun_carpark" => format!("/parks/{park_id}/pyun"),
        "mallcoo" => "/parks".to_owned(),
        _ => "/coupons".to_owned(),
    }
}

const PARTNERS: [(&str, &[&str]); 3] = [
    ("pyun", &["coupon_event", "coupon_grant", "vip_batch"]),
    ("pyun_carpark", &["pyun_enter", "pyun_leave"]),
    ("mallcoo", &["enter_notice"]),
];

fn in_list(kinds: &[&str]) -> String {
    kinds
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Outbox rows in `state` needing a person, per car park and partner, with examples; for
/// `after_delivery`, only those newer than the partner's last delivery at that car park.
async fn attention(
    db: &Db,
    state: &str,
    kinds: Option<&[&str]>,
    after_delivery: bool,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<(i64, &'static str, &'static str, i64, Vec<String>)>, sqlx::Error> {
    let mut out = Vec::new();
    for (partner_key, partner_kinds) in PARTNERS {
        let kinds_here: Vec<&str> = partner_kinds
            .iter()
            .copied()
            .filter(|k| kinds.is_none_or(|only| only.contains(k)))
            .collect();
        if kinds_here.is_empty() {
            continue;
        }
        let list = in_list(&kinds_here);
        let groups = sqlx::query_as::<_, (i64, i64, i64)>(sqlx::AssertSqlSafe(format!(
            "SELECT park_id, COUNT(*), MAX(id) FROM outbox \
             WHERE state = $1 AND reconciled_at IS NULL AND kind IN ({list}) AND updated_at >= $2 \
             GROUP BY park_id"
        )))
        .bind(state)
        .bind(since.map_or(0, to_ms))
        .fetch_all(&db.pool)
        .await?;
        for (park_id, count, newest) in groups {
            if after_delivery {
                let delivered_since: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM outbox WHERE id > $1 AND park_id = $2 \
                     AND state = 'delivered' AND kind IN ({list})"
                )))
                .bind(newest)
                .bind(park_id)
                .fetch_one(&db.pool)
                .await?;
                if delivered_since > 0 {
                    continue;
                }
            }
            let examples = sqlx::query_as::<_, (String, Option<String>, Option<String>)>(
                sqlx::AssertSqlSafe(format!(
                    "SELECT summary, pyun_code, COALESCE(pyun_message, last_error) FROM outbox \
                     WHERE state = $1 AND reconciled_at IS NULL AND park_id = $2 AND kind IN ({list}) \
                     ORDER BY id DESC LIMIT {}",
                    problems::MAX_EXAMPLES
                )),
            )
            .bind(state)
            .bind(park_id)
            .fetch_all(&db.pool)
            .await?
            .into_iter()
            .map(|(summary, code, message)| match (code, message) {
                (Some(c), Some(m)) => format!("{summary}：{c} {m}"),
                (None, Some(m)) => format!("{summary}：{m}"),
                _ => summary,
            })
            .collect();
            let (_, partner_name) = partner(kinds_here[0]);
            out.push((park_id, partner_key, partner_name, count, examples));
        }
    }
    Ok(out)
}

/// P云 or Mallcoo refused our credentials, and nothing was delivered to it since.
async fn credentials_refused(db: &Db) -> Result<Vec<Condition>, sqlx::Error> {
    Ok(attention(db, "misconfigured", None, true, None)
        .await?
        .into_iter()
        .map(|(park_id, key, name, count, examples)| Condition {
            kind: ProblemKind::CredentialRefused,
            park_id: Some(park_id),
            subject: format!("partner:{key}"),
            label: Some(name.to_owned()),
            count,
            examples,
            link_path: "/credentials".to_owned(),
        })
        .collect())
}

/// Deliveries whose retries were exhausted in the last day, not resent or settled.
async fn deliveries_failed(db: &Db, now: DateTime<Utc>) -> Result<Vec<Condition>, sqlx::Error> {
    Ok(
        attention(db, "failed", None, false, Some(now - TimeDelta::days(1)))
            .await?
            .into_iter()
            .map(|(park_id, key, name, count, examples)| Condition {
                kind: ProblemKind::DeliveriesFailed,
                park_id: Some(park_id),
                subject: format!("partner:{key}"),
                label: Some(name.to_owned()),
                count,
                examples,
                link_path: partner_page(key, park_id),
            })
            .collect(),
    )
}

/// Coupon grants `unknown`, until a person settles each.
async fn coupons_unknown(db: &Db) -> Result<Vec<Condition>, sqlx::Error> {
    Ok(
        attention(db, "unknown", Some(&["coupon_grant"]), false, None)
            .await?
            .into_iter()
            .map(|(park_id, _, name, count, examples)| Condition {
                kind: ProblemKind::CouponsUnknown,
                park_id: Some(park_id),
                subject: "partner:pyun".to_owned(),
                label: Some(name.to_owned()),
                count,
                examples,
                link_path: "/coupons".to_owned(),
            })
            .collect(),
    )
}

/// The oldest undelivered row of a car park and partner is older than the threshold.
async fn deliveries_stuck(
    db: &Db,
    now: DateTime<Utc>,
    after: TimeDelta,
) -> Result<Vec<Condition>, sqlx::Error> {
    let rows = sqlx::query_as::<_, (i64, String, i64, i64)>(
        "SELECT park_id, kind, COUNT(*), MIN(created_at) FROM outbox \
         WHERE state IN ('pending', 'sending') GROUP BY park_id, kind",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut by_partner: Vec<Condition> = Vec::new();
    for (park_id, kind, count, oldest) in rows {
        if now - from_ms(oldest) < after {
            continue;
        }
        let (key, name) = partner(&kind);
        let subject = format!("partner:{key}");
        let example = format!(
            "{count} 条 {kind} 未送达，最早 {} 分钟前",
            (now - from_ms(oldest)).num_minutes()
        );
        match by_partner
            .iter_mut()
            .find(|c| c.park_id == Some(park_id) && c.subject == subject)
        {
            Some(c) => {
                c.count += count;
                c.examples.push(example);
            }
            None => by_partner.push(Condition {
                kind: ProblemKind::DeliveriesStuck,
                park_id: Some(park_id),
                subject,
                label: Some(name.to_owned()),
                count,
                examples: vec![example],
                link_path: partner_page(key, park_id),
            }),
        }
    }
    Ok(by_partner)
}

/// P云's calls to our gateway failing our signature check (`1401`) in the window.
async fn downlink_signature(
    db: &Db,
    now: DateTime<Utc>,
    window: TimeDelta,
) -> Result<Vec<Condition>, sqlx::Error> {
    let rows = sqlx::query_as::<_, (Option<i64>, i64, Option<String>)>(
        "SELECT park_id, COUNT(*), MAX(park_uuid) FROM pyun_gateway_calls \
         WHERE at >= $1 AND result_code = '1401' GROUP BY park_id",
    )
    .bind(to_ms(now - window))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(park_id, count, uuid)| Condition {
            kind: ProblemKind::DownlinkSignature,
            park_id,
            subject: "gateway".to_owned(),
            label: uuid.map(|u| format!("park_uuid {u}")),
            count,
            examples: Vec::new(),
            link_path: park_id.map_or("/parks".to_owned(), |p| format!("/parks/{p}/pyun")),
        })
        .collect())
}

/// Whether `now` falls in the quiet hours (Shanghai), which may wrap midnight.
fn quiet(now: DateTime<Utc>, hours: Option<(NaiveTime, NaiveTime)>) -> bool {
    let Some((from, to)) = hours else {
        return false;
    };
    let local = protocol::time::to_shanghai(now).time();
    let local = NaiveTime::from_hms_opt(local.hour(), local.minute(), 0).unwrap_or(local);
    if from <= to {
        from <= local && local < to
    } else {
        local >= from || local < to
    }
}

/// No entry or exit at a car park that has had stays, for the threshold's length. In quiet hours
/// silence opens nothing, but a silence already open stays open until the gate speaks.
async fn gate_silence(
    db: &Db,
    now: DateTime<Utc>,
    t: &Thresholds,
) -> Result<Vec<Condition>, sqlx::Error> {
    let parks = sqlx::query_as::<_, (i64, Option<i64>, Option<i64>)>(
        "SELECT c.id, \
         (SELECT MAX(entry_at) FROM parking_sessions s WHERE s.park_id = c.id), \
         (SELECT MAX(exit_at) FROM parking_sessions s WHERE s.park_id = c.id AND s.exit_at IS NOT NULL) \
         FROM car_parks c",
    )
    .fetch_all(&db.pool)
    .await?;
    let quiet_now = quiet(now, t.quiet_hours);
    let open: Vec<Option<i64>> = if quiet_now {
        sqlx::query_scalar(
            "SELECT park_id FROM problems WHERE state = 'open' AND kind = 'gate_silence'",
        )
        .fetch_all(&db.pool)
        .await?
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    for (park_id, entry, exit) in parks {
        let Some(last) = entry.max(exit) else {
            continue;
        };
        let silent = now - from_ms(last);
        if silent < t.gate_silence_after || (quiet_now && !open.contains(&Some(park_id))) {
            continue;
        }
        out.push(Condition {
            kind: ProblemKind::GateSilence,
            park_id: Some(park_id),
            subject: "gate".to_owned(),
            label: None,
            count: 1,
            examples: vec![format!(
                "最后一次进出：{}（北京时间），已 {} 分钟无记录",
                protocol::time::to_shanghai(from_ms(last)).format("%Y-%m-%d %H:%M"),
                silent.num_minutes()
            )],
            link_path: "/sessions".to_owned(),
        });
    }
    Ok(out)
}

/// Alert channels whose vendor refused their URL, secret, keyword or IP.
async fn channels_misconfigured(db: &Db) -> Result<Vec<Condition>, sqlx::Error> {
    let rows = sqlx::query_as::<_, (i64, String, Option<String>)>(
        "SELECT id, name, last_answer FROM alert_channels \
         WHERE state = 'misconfigured' AND disabled_at IS NULL",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, answer)| Condition {
            kind: ProblemKind::ChannelMisconfigured,
            park_id: None,
            subject: format!("channel:{id}"),
            label: Some(name),
            count: 1,
            examples: answer.into_iter().collect(),
            link_path: "/alerts".to_owned(),
        })
        .collect())
}

/// Nothing but transient failures (no answer, 5xx) to a partner at a car park for the
/// threshold's length: the oldest row still retrying after a failure is that old, and nothing
/// was delivered to the partner there since.
async fn partners_unreachable(
    db: &Db,
    now: DateTime<Utc>,
    after: TimeDelta,
) -> Result<Vec<Condition>, sqlx::Error> {
    let mut out = Vec::new();
    for (partner_key, partner_kinds) in PARTNERS {
        let list = in_list(partner_kinds);
        let groups = sqlx::query_as::<_, (i64, i64, i64, i64, Option<String>)>(
            sqlx::AssertSqlSafe(format!(
                "SELECT park_id, COUNT(*), MIN(created_at), MIN(id), MAX(last_error) FROM outbox \
             WHERE state IN ('pending', 'sending') AND attempts >= 1 AND last_error IS NOT NULL \
             AND kind IN ({list}) GROUP BY park_id"
            )),
        )
        .fetch_all(&db.pool)
        .await?;
        for (park_id, count, oldest, first_id, error) in groups {
            if now - from_ms(oldest) < after {
                continue;
            }
            let delivered: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM outbox WHERE id >= $1 AND park_id = $2 \
                 AND state = 'delivered' AND kind IN ({list}) AND finished_at >= $3"
            )))
            .bind(first_id)
            .bind(park_id)
            .bind(to_ms(now - after))
            .fetch_one(&db.pool)
            .await?;
            if delivered > 0 {
                continue;
            }
            let (_, name) = partner(partner_kinds[0]);
            out.push(Condition {
                kind: ProblemKind::PartnerUnreachable,
                park_id: Some(park_id),
                subject: format!("partner:{partner_key}"),
                label: Some(name.to_owned()),
                count,
                examples: error.into_iter().collect(),
                link_path: partner_page(partner_key, park_id),
            });
        }
    }
    Ok(out)
}

/// A VIP full sync with batches still to send and none finished for the threshold's length.
async fn vip_syncs_stuck(
    db: &Db,
    now: DateTime<Utc>,
    after: TimeDelta,
) -> Result<Vec<Condition>, sqlx::Error> {
    let jobs = sqlx::query_as::<_, (i64, i64, i64, i64, i64, Option<i64>)>(
        "SELECT j.id, j.park_id, j.started_at, j.batches_total, \
         (SELECT COUNT(*) FROM outbox o WHERE o.sync_job_id = j.id AND o.state IN ('pending', 'sending')), \
         (SELECT MAX(o.finished_at) FROM outbox o WHERE o.sync_job_id = j.id) \
         FROM vip_sync_jobs j WHERE j.started_at >= $1",
    )
    .bind(to_ms(now - TimeDelta::days(7)))
    .fetch_all(&db.pool)
    .await?;
    Ok(jobs
        .into_iter()
        .filter(|(_, _, started, _, remaining, last)| {
            *remaining > 0 && now - from_ms(last.unwrap_or(*started).max(*started)) >= after
        })
        .map(|(id, park_id, _, total, remaining, _)| Condition {
            kind: ProblemKind::VipSyncStuck,
            park_id: Some(park_id),
            subject: format!("vip_sync:{id}"),
            label: Some(format!("全量同步 #{id}")),
            count: remaining,
            examples: vec![format!(
                "{} / {total} 批已完成，{remaining} 批未送达",
                total - remaining
            )],
            link_path: "/vip".to_owned(),
        })
        .collect())
}

/// Offers of live shops that used ≥ 90 % of today's quota or this month's budget.
async fn shop_quotas(db: &Db, now: DateTime<Utc>) -> Result<Vec<Condition>, sqlx::Error> {
    let (day, month) = crate::shops::quota::periods(now);
    let offers = sqlx::query_as::<_, (i64, String, String, i64, i64, Option<i64>, Option<i64>, Option<i64>)>(
        "SELECT o.id, o.name, s.name, s.park_id, o.daily_quota, o.monthly_quota, \
         (SELECT used FROM shop_quota_usage u WHERE u.offer_id = o.id AND u.period_kind = 'day' AND u.period_key = $1), \
         (SELECT used FROM shop_quota_usage u WHERE u.offer_id = o.id AND u.period_kind = 'month' AND u.period_key = $2) \
         FROM shop_offers o JOIN shops s ON s.id = o.shop_id \
         WHERE o.disabled_at IS NULL AND s.disabled_at IS NULL",
    )
    .bind(&day)
    .bind(&month)
    .fetch_all(&db.pool)
    .await?;
    let nearly = |used: Option<i64>, quota: i64| used.unwrap_or(0) * 10 >= quota * 9;
    Ok(offers
        .into_iter()
        .filter_map(
            |(id, offer, shop, park_id, daily, monthly, used_day, used_month)| {
                let mut examples = Vec::new();
                if nearly(used_day, daily) {
                    examples.push(format!(
                        "{shop}「{offer}」今日已用 {} / {daily}",
                        used_day.unwrap_or(0)
                    ));
                }
                if let Some(m) = monthly.filter(|m| nearly(used_month, *m)) {
                    examples.push(format!(
                        "{shop}「{offer}」本月已用 {} / {m}",
                        used_month.unwrap_or(0)
                    ));
                }
                (!examples.is_empty()).then(|| Condition {
                    kind: ProblemKind::ShopQuotaNearlyUsed,
                    park_id: Some(park_id),
                    subject: format!("offer:{id}"),
                    label: Some(format!("{shop}「{offer}」")),
                    count: used_day.unwrap_or(0),
                    examples,
                    link_path: "/shops".to_owned(),
                })
            },
        )
        .collect())
}

/// One pass: every detector, then the problems reconciled with what was found.
pub async fn pass(db: &Db, now: DateTime<Utc>, t: &Thresholds) -> Result<(), sqlx::Error> {
    let mut found = credentials_refused(db).await?;
    found.extend(deliveries_failed(db, now).await?);
    found.extend(deliveries_stuck(db, now, t.stuck_after).await?);
    found.extend(coupons_unknown(db).await?);
    found.extend(downlink_signature(db, now, t.downlink_window).await?);
    found.extend(gate_silence(db, now, t).await?);
    found.extend(channels_misconfigured(db).await?);
    found.extend(partners_unreachable(db, now, t.unreachable_after).await?);
    found.extend(vip_syncs_stuck(db, now, t.sync_stuck_after).await?);
    found.extend(shop_quotas(db, now).await?);
    problems::reconcile(db, &DETECTED, &found, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn quiet_hours_are_shanghai_time_and_may_wrap_midnight() {
        let night = (
            NaiveTime::from_hms_opt(1, 0, 0),
            NaiveTime::from_hms_opt(6, 0, 0),
        );
        let night = night.0.zip(night.1);
        // 18:30 UTC is 02:30 in Shanghai.
        assert!(quiet(
            Utc.with_ymd_and_hms(2026, 12, 6, 18, 30, 0).unwrap(),
            night
        ));
        // 22:00 UTC is 06:00: quiet hours are over.
        assert!(!quiet(
            Utc.with_ymd_and_hms(2026, 12, 6, 22, 0, 0).unwrap(),
            night
        ));
        let wrap = NaiveTime::from_hms_opt(23, 0, 0).zip(NaiveTime::from_hms_opt(5, 0, 0));
        // 15:30 UTC is 23:30.
        assert!(quiet(
            Utc.with_ymd_and_hms(2026, 12, 6, 15, 30, 0).unwrap(),
            wrap
        ));
        assert!(!quiet(
            Utc.with_ymd_and_hms(2026, 12, 6, 4, 0, 0).unwrap(),
            wrap
        ));
        assert!(!quiet(Utc::now(), None));
    }
}
