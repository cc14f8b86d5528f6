//! Every call P云 makes to the gateway: logged with its service, car park, result code and
//! latency, counted in `/metrics`, and kept (request and reply as exchanged — a `sign` but never
//! a key) for a person to inspect on the admin page.

use std::collections::HashMap;
use std::sync::PoisonError;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::storage::{Db, from_ms, to_ms, values_sql};

/// Longest request or reply kept, in bytes (P云's calls are a few hundred).
const KEEP_BYTES: usize = 16 * 1024;

/// How long calls are kept.
const KEEP_DAYS: i64 = 30;

/// The services counted by name in `/metrics`; anything else is `other`, so a prober cannot grow
/// the series.
const KNOWN: [&str; 5] = [
    "service.parking.payment.billing",
    "service.parking.payment.result",
    "service.parking.discount.create",
    "service.parking.discount.destroy",
    "service.parking.realtime",
];

/// One call as it happened.
#[derive(Debug)]
pub struct Call<'a> {
    /// The car park, when `park_uuid` named one on access.
    pub park_id: Option<i64>,
    /// `park_uuid` as sent.
    pub park_uuid: Option<&'a str>,
    /// `service` as sent.
    pub service: Option<&'a str>,
    /// The `result_code` answered.
    pub result_code: &'a str,
    /// The `message` answered.
    pub message: &'a str,
    /// From the first byte read to the reply.
    pub latency: Duration,
    /// The body received.
    pub request: &'a [u8],
    /// The body answered.
    pub reply: &'a str,
    /// When it arrived.
    pub at: DateTime<Utc>,
}

fn kept(text: &str) -> String {
    if text.len() <= KEEP_BYTES {
        return text.to_owned();
    }
    let mut end = KEEP_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A call as stored.
#[derive(Debug)]
struct Stored {
    park_id: Option<i64>,
    park_uuid: Option<String>,
    service: Option<String>,
    result_code: String,
    message: String,
    latency_us: i64,
    request: String,
    reply: String,
    at: i64,
}

/// Calls waiting to be written before new ones are dropped (and counted as dropped).
const QUEUE: usize = 10_000;
/// How often old calls are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Most calls written in one transaction.
const BATCH: usize = 4096;
/// How long the writer lets calls gather after the first one before writing them together.
/// While P云 polls, a transaction per few calls made the log's writing cost a third of each
/// `payment.billing` call's CPU (sqlx's worker thread woken for every statement, a commit each
/// time); gathered for this long, one transaction carries a few thousand at full load, and the
/// admin page shows a call this much later.
const GATHER: Duration = Duration::from_millis(200);

/// Writes calls to `pyun_gateway_calls` off the request path, many per transaction: P云's
/// polling and payment flows never wait for (nor, on SQLite, queue behind) the log's writes.
/// A call still queued when the process dies is not kept; its log line was written.
pub struct CallLog {
    tx: tokio::sync::mpsc::Sender<Stored>,
}

impl CallLog {
    /// Starts the writer on `db` (needs a Tokio runtime).
    pub fn start(db: Db) -> CallLog {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Stored>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut pruned: Option<std::time::Instant> = None;
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                tokio::time::sleep(GATHER).await;
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(call) => batch.push(call),
                        Err(_) => break,
                    }
                }
                if let Err(e) = write(&db, &batch).await {
                    tracing::error!(error = %e, calls = batch.len(), "P云 gateway calls not stored");
                }
                batch.clear();
                // Old calls go now and then, by the writer that adds new ones.
                if pruned.is_none_or(|t| t.elapsed() > PRUNE_EVERY) {
                    pruned = Some(std::time::Instant::now());
                    if let Err(e) = prune(&db, Utc::now()).await {
                        tracing::warn!(error = %e, "old P云 gateway calls not pruned");
                    }
                }
            }
        });
        CallLog { tx }
    }

    /// Logs, counts and queues `call` for storage; never the caller's problem.
    pub fn record(&self, call: &Call<'_>) {
        count(call);
        tracing::info!(
            park = ?call.park_id,
            park_uuid = ?call.park_uuid,
            service = ?call.service,
            result_code = call.result_code,
            message = call.message,
            latency_us = call.latency.as_micros() as u64,
            "P云 gateway call"
        );
        let stored = Stored {
            park_id: call.park_id,
            park_uuid: call.park_uuid.map(kept),
            service: call.service.map(kept),
            result_code: call.result_code.to_owned(),
            message: call.message.to_owned(),
            latency_us: i64::try_from(call.latency.as_micros()).unwrap_or(i64::MAX),
            request: kept(&String::from_utf8_lossy(call.request)),
            reply: kept(call.reply),
            at: to_ms(call.at),
        };
        if self.tx.try_send(stored).is_err() {
            metrics::counter!("pyun_gateway_calls_unstored_total").increment(1);
        }
    }
}

/// A service's latency histogram and its counters by result code.
type Series = (metrics::Histogram, Vec<(Box<str>, metrics::Counter)>);

/// The series registered so far, by service ([`KNOWN`]'s index, then `other`): looked up rather
/// than registered per call (a key built and hashed each time, twice a call).
static SERIES: std::sync::LazyLock<std::sync::RwLock<HashMap<usize, Series>>> =
    std::sync::LazyLock::new(Default::default);

/// Counts `call` in `/metrics`.
fn count(call: &Call<'_>) {
    let index = call
        .service
        .and_then(|s| KNOWN.iter().position(|k| *k == s))
        .unwrap_or(KNOWN.len());
    let bump = |(took, _): &Series, counter: &metrics::Counter| {
        counter.increment(1);
        took.record(call.latency.as_secs_f64());
    };
    {
        let known = SERIES.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = known.get(&index)
            && let Some((_, counter)) = series.1.iter().find(|(c, _)| **c == *call.result_code)
        {
            bump(series, counter);
            return;
        }
    }
    let service = KNOWN.get(index).copied().unwrap_or("other");
    let mut known = SERIES.write().unwrap_or_else(PoisonError::into_inner);
    let series = known.entry(index).or_insert_with(|| {
        (
            metrics::histogram!("pyun_gateway_call_duration_seconds", "service" => service),
            Vec::new(),
        )
    });
    let at = match series.1.iter().position(|(c, _)| **c == *call.result_code) {
        Some(at) => at,
        None => {
            let labels = [
                ("service", service.to_owned()),
                ("result_code", call.result_code.to_owned()),
            ];
            let counter = metrics::counter!("pyun_gateway_calls_total", &labels);
            series.1.push((call.result_code.into(), counter));
            series.1.len() - 1
        }
    };
    bump(series, &series.1[at].1);
}

/// Rows per `INSERT`, largest first: one statement, one round trip to sqlx's SQLite worker
/// thread, for many calls (9 parameters each, far below either engine's limit). Only these three
/// shapes, so the few statements each pooled connection caches are not pushed out by one per
/// batch length.
const ROWS_PER_INSERT: [usize; 3] = [64, 8, 1];
/// The columns of a stored call, and how many.
const INSERT_HEAD: &str = "INSERT INTO pyun_gateway_calls (park_id, park_uuid, service, result_code, \
     message, latency_us, request_body, reply_body, at)";
const COLUMNS: usize = 9;

async fn write(db: &Db, calls: &[Stored]) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let mut rest = calls;
    while !rest.is_empty() {
        let rows = ROWS_PER_INSERT
            .into_iter()
            .find(|n| *n <= rest.len())
            .unwrap_or(1);
        let (chunk, after) = rest.split_at(rows);
        rest = after;
        let sql = values_sql(db.backend, INSERT_HEAD, COLUMNS, chunk.len(), "");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            query = query
                .bind(c.park_id)
                .bind(c.park_uuid.as_deref())
                .bind(c.service.as_deref())
                .bind(&c.result_code)
                .bind(&c.message)
                .bind(c.latency_us)
                .bind(&c.request)
                .bind(&c.reply)
                .bind(c.at);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Deletes calls older than the retention; run now and then by the server.
pub async fn prune(db: &Db, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let cutoff = to_ms(now - chrono::TimeDelta::days(KEEP_DAYS));
    let done = sqlx::query("DELETE FROM pyun_gateway_calls WHERE at < $1")
        .bind(cutoff)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

/// A stored call as the admin page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallView {
    /// Row id.
    pub id: i64,
    /// When it arrived.
    pub at: DateTime<Utc>,
    /// `service` as sent.
    pub service: Option<String>,
    /// `park_uuid` as sent.
    pub park_uuid: Option<String>,
    /// The `result_code` answered (`1001` OK, `1401` signature/park, `1503` not implemented…).
    pub result_code: String,
    /// The `message` answered.
    pub message: String,
    /// Milliseconds to answer.
    pub latency_ms: f64,
    /// The body received.
    pub request: String,
    /// The body answered.
    pub reply: String,
}

type Row = (
    i64,
    i64,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    String,
    String,
);

/// The newest `limit` calls for car park `park_id`, and those naming its `park_uuid` before it
/// was on access (a wrong key or uuid shows there), newest first.
pub async fn recent(
    db: &Db,
    park_id: i64,
    park_uuid: Option<&str>,
    limit: i64,
) -> Result<Vec<CallView>, sqlx::Error> {
    let rows = sqlx::query_as::<_, Row>(
        "SELECT id, at, service, park_uuid, result_code, message, latency_us, request_body, \
         reply_body FROM pyun_gateway_calls \
         WHERE park_id = $1 OR (park_id IS NULL AND park_uuid = $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(park_id)
    .bind(park_uuid)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CallView {
            id: r.0,
            at: from_ms(r.1),
            service: r.2,
            park_uuid: r.3,
            result_code: r.4,
            message: r.5,
            latency_ms: r.6 as f64 / 1000.0,
            request: r.7,
            reply: r.8,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(i: usize) -> Stored {
        Stored {
            park_id: None,
            park_uuid: Some("uuid-1".to_owned()),
            service: Some("service.parking.realtime".to_owned()),
            result_code: "1001".to_owned(),
            message: "成功".to_owned(),
            latency_us: i as i64,
            request: format!("{{\"n\":{i}}}"),
            reply: format!("reply {i}"),
            at: 1_700_000_000_000 + i as i64,
        }
    }

    /// A batch longer than one statement's rows is kept whole, each call with its own fields.
    #[tokio::test]
    async fn a_batch_over_several_statements_keeps_every_call() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&crate::storage::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        let calls: Vec<Stored> = (0..ROWS_PER_INSERT[0] * 2 + 11).map(call).collect();
        write(&db, &calls).await.unwrap();
        let kept = recent(&db, -1, Some("uuid-1"), 200).await.unwrap();
        assert_eq!(kept.len(), calls.len());
        // Newest first: the last call written is the first listed, with its own body and latency.
        let last = calls.len() - 1;
        assert_eq!(kept[0].request, format!("{{\"n\":{last}}}"));
        assert_eq!(kept[0].reply, format!("reply {last}"));
        assert_eq!(kept[0].latency_ms, last as f64 / 1000.0);
        assert_eq!(kept[last].request, "{\"n\":0}");
    }
}
