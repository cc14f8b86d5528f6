//! Runs deliveries: a new row is sent at once by the request that created it when a delivery
//! slot is free, otherwise by the worker, which also retries due rows and recovers rows whose
//! instance died. Handlers wait briefly for a row's outcome through `wait`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use protocol::pyun::coupon_token::{COUPON_TOKEN_PATH, CouponToken};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, broadcast, watch};
use tokio::task::JoinHandle;

use super::park_signers::{ParkSigners, SignerError};
use super::retry::{self, Attempt, Policy};
use super::store::{self, Finish, Inserted, Item, Lease, NewItem, PyunAnswer};
use super::{Kind, State};
use crate::coupons::request;
use crate::mallcoo_out::{self, NoticeAnswer, Prepared as NoticePrepared};
use crate::pyun_client::{CallResult, Endpoint, PyunClient};
use crate::pyun_upload::{self, Prepared as UploadPrepared};
use crate::secrets::SecretBox;
use crate::storage::{Db, from_ms, to_ms};
use crate::tokens;
use crate::vip::sync::BatchRequest;
use crate::vip::sync::batch_rows::{self, BatchError, Prepared};
use crate::vip::sync::full_sync;

/// How often the worker looks for rows whose lease ran out.
const RECOVERY_INTERVAL: Duration = Duration::from_secs(1);
/// The longest the worker sleeps when nothing is due (another instance may add rows).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How often a waiting handler re-reads its row (another instance may deliver it).
const WAIT_POLL: Duration = Duration::from_millis(200);
/// Most rows the worker leases in one statement.
const CLAIM_BATCH: u32 = 64;

/// How deliveries behave.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// Bound on one outbound call (P云 or Mallcoo), connection included.
    pub call_timeout: Duration,
    /// Mallcoo's open-platform base URL (entry notices), without a trailing slash.
    pub mallcoo_base_url: String,
    /// Retry schedule of resendable rows.
    pub policy: Policy,
    /// Deliveries in flight at once in this instance.
    pub concurrency: usize,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            call_timeout: Duration::from_secs(10),
            mallcoo_base_url: protocol::mallcoo::enter_notify::DEFAULT_BASE_URL.to_owned(),
            policy: Policy::default(),
            concurrency: 32,
        }
    }
}

struct Inner {
    db: Db,
    secrets: Arc<SecretBox>,
    client: PyunClient,
    /// The same client, at Mallcoo's base URL.
    mallcoo: PyunClient,
    policy: Policy,
    lease: Lease,
    permits: Arc<Semaphore>,
    concurrency: usize,
    wake: Notify,
    /// Every recorded outcome, as the row now stands (waiting handlers need no read).
    finished: broadcast::Sender<Arc<Item>>,
    signers: ParkSigners,
    stop: watch::Sender<bool>,
}

/// Outcome notices subscribed to before a row is submitted (see `Dispatcher::ticket`).
pub struct Ticket(broadcast::Receiver<Arc<Item>>);

/// The instance's delivery engine; cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

impl Dispatcher {
    /// A dispatcher sending to P云 at `pyun_base_url` (and Mallcoo at the settings' URL); call
    /// `spawn_worker` to start retries.
    pub fn new(
        db: Db,
        secrets: Arc<SecretBox>,
        pyun_base_url: &str,
        settings: &DispatchSettings,
    ) -> Dispatcher {
        let lease_ms = i64::try_from(settings.call_timeout.as_millis()).unwrap_or(i64::MAX / 2);
        let (finished, _) = broadcast::channel(4096);
        let (stop, _) = watch::channel(false);
        Dispatcher {
            inner: Arc::new(Inner {
                db,
                secrets,
                client: PyunClient::new(pyun_base_url, settings.call_timeout),
                mallcoo: PyunClient::new(&settings.mallcoo_base_url, settings.call_timeout),
                policy: settings.policy,
                // The lease outlives the longest call by a margin, so a live sender never loses
                // its row to another instance.
                lease: Lease {
                    owner: format!("inst-{}", tokens::random_hex(6)),
                    duration: TimeDelta::milliseconds(lease_ms) + TimeDelta::seconds(5),
                },
                permits: Arc::new(Semaphore::new(settings.concurrency.max(1))),
                concurrency: settings.concurrency.max(1),
                wake: Notify::new(),
                finished,
                signers: ParkSigners::default(),
                stop,
            }),
        }
    }

    /// Commits `new` (once per key) and starts its delivery; the row is durable before any
    /// network call. A repeated key returns the first row and sends nothing.
    pub async fn submit(&self, new: &NewItem) -> Result<Inserted, sqlx::Error> {
        let inner = &self.inner;
        let permit = inner.permits.clone().try_acquire_owned().ok();
        let lease = permit.as_ref().map(|_| &inner.lease);
        let inserted = store::insert(&inner.db, new, lease, Utc::now()).await?;
        if inserted.created {
            match permit {
                Some(permit) => {
                    tokio::spawn(deliver(inner.clone(), inserted.item.clone(), permit));
                }
                None => inner.wake.notify_one(),
            }
        }
        Ok(inserted)
    }

    /// Calls P云's `mcoupon/token` for car park `park_id` now, signed with its third-party
    /// credential, outside the outbox: a token is shown to the customer at the till at once or
    /// not at all, and P云 cannot tell a resent call from a new one, so it is never retried.
    pub async fn mint_token(
        &self,
        park_id: i64,
        token: &CouponToken,
    ) -> Result<CallResult, SignerError> {
        let inner = &self.inner;
        let signer = inner
            .signers
            .get(&inner.db, &inner.secrets, park_id)
            .await?;
        let form = token
            .to_signed_form(&signer.app_id, signer.secret.expose())
            .map_err(|e| SignerError::NotConfigured(format!("the token request: {e}")))?;
        Ok(inner
            .client
            .post_form(Endpoint::CouponToken, COUPON_TOKEN_PATH, &form)
            .await)
    }

    /// Wakes the worker: rows were added without `submit` (VIP batches, entry notices).
    pub fn notify(&self) {
        self.inner.wake.notify_one();
    }

    /// A ticket to wait with: take it before `submit`, so that an outcome recorded in between
    /// is not missed and the first read can be skipped.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.inner.finished.subscribe())
    }

    /// The row `id` once final, or as it stands after `patience`; `ticket` was taken before the
    /// row was submitted, and `read_first: false` skips the first read when the caller knows the
    /// row is not final yet (it just submitted it).
    pub async fn wait(
        &self,
        ticket: Ticket,
        id: i64,
        patience: Duration,
        read_first: bool,
    ) -> Result<Option<Item>, sqlx::Error> {
        let mut finished = ticket.0;
        let deadline = tokio::time::Instant::now() + patience;
        let mut read = read_first;
        loop {
            if read {
                let item = store::get(&self.inner.db, id).await?;
                match &item {
                    Some(i) if !i.state.is_final() => {}
                    _ => return Ok(item),
                }
            }
            read = true;
            let poll = tokio::time::Instant::now() + WAIT_POLL;
            loop {
                tokio::select! {
                    got = finished.recv() => match got {
                        Ok(done) if done.id != id => continue,
                        Ok(done) if done.state.is_final() => return Ok(Some((*done).clone())),
                        // Ours but to be retried, or we lagged behind: re-read.
                        _ => break,
                    },
                    () = tokio::time::sleep_until(poll.min(deadline)) => break,
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return store::get(&self.inner.db, id).await;
            }
        }
    }

    /// Starts the worker: due rows, retries, and recovery of rows whose instance died.
    pub fn spawn_worker(&self) -> JoinHandle<()> {
        tokio::spawn(work(self.inner.clone()))
    }

    /// Stops leasing new rows and waits (up to `grace`) for deliveries in flight to record their
    /// outcome, so a graceful stop leaves nothing `sending`.
    pub async fn shutdown(&self, grace: Duration) {
        let inner = &self.inner;
        let _ = inner.stop.send(true);
        inner.wake.notify_one();
        let all = u32::try_from(inner.concurrency).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(grace, inner.permits.acquire_many(all)).await;
    }
}

async fn work(inner: Arc<Inner>) {
    let mut stop = inner.stop.subscribe();
    let mut last_recovery: Option<tokio::time::Instant> = None;
    loop {
        if *stop.borrow() {
            return;
        }
        if last_recovery.is_none_or(|at| at.elapsed() >= RECOVERY_INTERVAL) {
            last_recovery = Some(tokio::time::Instant::now());
            match store::recover_expired(&inner.db, Utc::now()).await {
                Ok((0, 0)) => {}
                Ok((requeued, unknown)) => {
                    tracing::warn!(
                        requeued,
                        unknown,
                        "recovered rows whose sender stopped mid-delivery"
                    );
                }
                Err(e) => tracing::warn!(error = %e, "outbox recovery failed; retrying"),
            }
        }
        // Wait for a free slot before leasing, so a leased row never waits for one.
        let first = tokio::select! {
            p = inner.permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = stop.changed() => continue,
        };
        let free = u32::try_from(inner.permits.available_permits()).unwrap_or(0);
        let limit = (free + 1).min(CLAIM_BATCH);
        let items = match store::claim_due(&inner.db, &inner.lease, Utc::now(), limit).await {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!(error = %e, "cannot lease outbox rows; retrying in 1 s");
                drop(first);
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
        };
        if items.is_empty() {
            drop(first);
            let nap = match store::next_due(&inner.db).await {
                Ok(Some(at)) => (at - Utc::now())
                    .to_std()
                    .unwrap_or_default()
                    .min(IDLE_POLL),
                _ => IDLE_POLL,
            };
            // Due now yet nothing leased: the due rows wait behind an earlier batch of their car
            // park (which wakes us when it finishes) or another instance took them.
            let nap = if nap.is_zero() { IDLE_POLL } else { nap };
            tokio::select! {
                () = inner.wake.notified() => {}
                () = tokio::time::sleep(nap) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let mut first = Some(first);
        for item in items {
            let permit = match first.take() {
                Some(p) => p,
                None => match inner.permits.clone().acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => return,
                },
            };
            tokio::spawn(deliver(inner.clone(), item, permit));
        }
    }
}

/// Sends one leased row and records what happened; the permit is held until it is recorded.
async fn deliver(inner: Arc<Inner>, item: Item, permit: OwnedSemaphorePermit) {
    let _permit = permit;
    if item.kind == Kind::EnterNotice {
        // Mallcoo's identity, not P云's: a car park may well have only one of them.
        deliver_notice(&inner, &item).await;
        return;
    }
    if item.kind.is_pyun_upload() {
        // The car park's P云 car-park credential, not its third-party one.
        deliver_upload(&inner, &item).await;
        return;
    }
    let signer = match inner
        .signers
        .get(&inner.db, &inner.secrets, item.park_id)
        .await
    {
        Ok(s) => s,
        Err(SignerError::Storage(e)) => {
            // The lease runs out and recovery requeues it (or marks a grant unknown, though
            // nothing left): better than a guess while the database is unreachable.
            tracing::error!(record = item.id, error = %e, "cannot read the car park to send a row");
            return;
        }
        Err(SignerError::NotConfigured(why)) => {
            record(&inner, &item, Attempt::NotConfigured(&why), None).await;
            return;
        }
    };
    let call = match item.kind {
        Kind::VipBatch => match batch_rows::prepare(&inner.db, &item, &signer).await {
            Ok(Prepared::Send(batch)) => {
                inner
                    .client
                    .post_json(batch.endpoint, batch.path, batch.body, &batch.authorization)
                    .await
            }
            Ok(Prepared::Empty(why)) => {
                record(&inner, &item, Attempt::Superseded(&why), None).await;
                return;
            }
            Err(BatchError::Storage(e)) => {
                tracing::error!(record = item.id, error = %e, "cannot read a VIP batch's rows");
                return;
            }
            Err(BatchError::NotConfigured(why)) => {
                record(&inner, &item, Attempt::NotConfigured(&why), None).await;
                return;
            }
            Err(BatchError::Invalid(why)) => {
                record(&inner, &item, Attempt::Invalid(&why), None).await;
                return;
            }
        },
        Kind::CouponEvent
        | Kind::CouponGrant
        | Kind::EnterNotice
        | Kind::PyunEnter
        | Kind::PyunLeave => {
            // (Entry notices and uploads never get here: they were taken above.)
            match request::sign(item.kind, &item.request_json, &signer) {
                Ok(signed) => {
                    inner
                        .client
                        .post_form(signed.endpoint, signed.path, &signed.form)
                        .await
                }
                Err(why) => {
                    record(&inner, &item, Attempt::NotConfigured(&why), None).await;
                    return;
                }
            }
        }
    };
    let attempt = match &call.answer {
        Ok(outcome) => Attempt::Answered(outcome),
        Err(e) => Attempt::Transport(e),
    };
    record(&inner, &item, attempt, Some(&call)).await;
}

/// Sends one leased entry notice to Mallcoo and records what happened.
async fn deliver_notice(inner: &Inner, item: &Item) {
    let signed = match mallcoo_out::prepare(&inner.db, &inner.secrets, item, Utc::now()).await {
        Ok(NoticePrepared::Send(signed)) => signed,
        Ok(NoticePrepared::NotConfigured(why)) => {
            record(inner, item, Attempt::NotConfigured(&why), None).await;
            return;
        }
        Ok(NoticePrepared::Invalid(why)) => {
            record(inner, item, Attempt::Invalid(&why), None).await;
            return;
        }
        Err(e) => {
            // As for P云 rows: the lease runs out and recovery requeues the notice.
            tracing::error!(record = item.id, error = %e, "cannot read the car park to send a notice");
            return;
        }
    };
    let headers = signed.headers.pairs();
    let call = inner
        .mallcoo
        .post_json_raw(
            Endpoint::MallcooEnterNotify,
            protocol::mallcoo::enter_notify::PATH,
            &headers,
            signed.body.into_bytes(),
        )
        .await;
    let answer = call
        .answer
        .as_ref()
        .map(|(status, body)| NoticeAnswer::read(*status, body));
    let attempt = match &answer {
        Ok(a) => Attempt::Notice(a),
        Err(e) => Attempt::Transport(e),
    };
    record_timed(inner, item, attempt, Some(call.latency)).await;
}

/// Most boundaries tried for one upload: a random one occurring inside a part is already
/// unheard of, so a second draw settles it.
const BOUNDARY_DRAWS: usize = 3;

/// Sends one leased upload to P云 and records what happened.
async fn deliver_upload(inner: &Inner, item: &Item) {
    let signed = match pyun_upload::prepare(&inner.db, &inner.secrets, item).await {
        Ok(UploadPrepared::Send(signed)) => signed,
        Ok(UploadPrepared::NotConfigured(why)) => {
            tracing::warn!(record = item.id, note = %why, "P云 upload not sent: misconfigured");
            record(inner, item, Attempt::NotConfigured(&why), None).await;
            return;
        }
        Ok(UploadPrepared::Invalid(why)) => {
            record(inner, item, Attempt::Invalid(&why), None).await;
            return;
        }
        Err(e) => {
            // As for P云 rows: the lease runs out and recovery requeues the upload.
            tracing::error!(record = item.id, error = %e, "cannot read the car park to send an upload");
            return;
        }
    };
    // A fresh random boundary per request: the body is built around it.
    let body = (0..BOUNDARY_DRAWS).find_map(|_| {
        let boundary = format!("----ParkBridge{}", tokens::random_hex(12));
        signed.form.multipart(&boundary).ok()
    });
    let Some(body) = body else {
        let why = "no multipart boundary kept clear of the upload's fields";
        record(inner, item, Attempt::Invalid(why), None).await;
        return;
    };
    let call = inner
        .client
        .post_multipart(signed.endpoint, signed.path, &body.content_type, body.body)
        .await;
    let answer = call
        .answer
        .as_ref()
        .map(|(status, body)| signed.read_answer(*status, body));
    signed.log(item.kind, &answer);
    let attempt = match &answer {
        Ok(a) => Attempt::Upload(a),
        Err(e) => Attempt::Transport(e),
    };
    record_timed(inner, item, attempt, Some(call.latency)).await;
}

/// Decides and stores the row's next state, logs the call, and tells waiting handlers.
async fn record(inner: &Inner, item: &Item, attempt: Attempt<'_>, call: Option<&CallResult>) {
    record_timed(inner, item, attempt, call.map(|c| c.latency)).await;
}

/// `record`, given the call's wall time (`None`: nothing was sent).
async fn record_timed(inner: &Inner, item: &Item, attempt: Attempt<'_>, latency: Option<Duration>) {
    let verdict = retry::decide(item.kind, item.attempts, attempt, &inner.policy, jitter());
    let (http_status, pyun) = match attempt {
        Attempt::Answered(outcome) => (
            Some(outcome.http_status()),
            outcome.response().map(|r| PyunAnswer {
                code: r.code.clone(),
                message: Some(r.message.clone()).filter(|m| !m.is_empty()),
                hint: r.hint.clone(),
                seqno: r.seqno.clone(),
                grant_serial: r.grant_serial.clone().filter(|s| !s.is_empty()),
            }),
        ),
        // Mallcoo's `Code`/`Message` go where P云's `code`/`message` do: the platform's answer.
        Attempt::Notice(answer) => (
            Some(answer.http_status),
            answer.code().map(|code| PyunAnswer {
                code: code.to_string(),
                message: Some(answer.message().to_owned()).filter(|m| !m.is_empty()),
                hint: None,
                seqno: None,
                grant_serial: None,
            }),
        ),
        Attempt::Upload(answer) => (
            Some(answer.http_status),
            answer.decoded.response().map(|r| PyunAnswer {
                code: r.code.clone(),
                message: Some(r.message.clone()).filter(|m| !m.is_empty()),
                hint: r.hint.clone().filter(|h| !h.is_empty()),
                seqno: r.seqno.clone(),
                grant_serial: None,
            }),
        ),
        _ => (None, None),
    };
    let note = verdict.note.clone().or_else(|| match attempt {
        Attempt::Transport(e) => Some(e.message().to_owned()),
        _ => None,
    });
    let now = Utc::now();
    let finish = Finish {
        state: verdict.state,
        next_attempt_at: verdict
            .retry_in
            .map(|d| now + TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)),
        http_status,
        pyun: pyun.as_ref(),
        note: note.as_deref(),
    };
    // One line per attempt; the message names the platform (log searches and tests key on it).
    macro_rules! attempt_line {
        ($message:literal) => {
            tracing::info!(
                record = item.id,
                kind = item.kind.as_str(),
                attempt = item.attempts,
                seqno = pyun.as_ref().and_then(|p| p.seqno.as_deref()).unwrap_or(""),
                code = pyun.as_ref().map_or("", |p| p.code.as_str()),
                http_status = http_status.unwrap_or(0),
                latency_ms = latency.map_or(0.0, |l| l.as_secs_f64() * 1000.0),
                state = verdict.state.as_str(),
                note = note.as_deref().unwrap_or(""),
                $message
            )
        };
    }
    if item.kind == Kind::EnterNotice {
        attempt_line!("Mallcoo delivery attempt");
    } else {
        attempt_line!("P云 delivery attempt");
    }
    // Before this batch is final: once it is, ordering no longer holds back its successors.
    if let Some(job) = item
        .sync_job_id
        .filter(|_| verdict.state.is_final() && verdict.state != State::Delivered)
    {
        stop_job(inner, item, job, verdict.state).await;
    }
    match store::finish(&inner.db, item.id, &inner.lease.owner, &finish, now).await {
        Ok(true) => {
            metrics::counter!("parkbridge_outbox_attempts_total", "kind" => item.kind.as_str(), "state" => verdict.state.as_str())
                .increment(1);
            // A retry falls due later; the end of an ordered row lets its successor go now.
            if verdict.state == State::Pending || (item.kind.ordered() && verdict.state.is_final())
            {
                inner.wake.notify_one();
            }
            let _ = inner.finished.send(Arc::new(recorded(item, &finish, now)));
        }
        Ok(false) => tracing::warn!(
            record = item.id,
            "the lease ran out before the outcome was recorded; another instance owns the row now"
        ),
        Err(e) => tracing::error!(
            record = item.id,
            error = %e,
            "cannot record a delivery outcome; recovery will settle the row when its lease ends"
        ),
    }
    if item.kind == Kind::CouponGrant && verdict.state == State::Unknown {
        tracing::warn!(
            record = item.id,
            "grant outcome unknown: a person must reconcile it"
        );
    }
}

/// Stops full sync `job` after its batch `item` ended `state` without being delivered.
async fn stop_job(inner: &Inner, item: &Item, job: i64, state: State) {
    let seq = serde_json::from_str::<BatchRequest>(&item.request_json)
        .ok()
        .and_then(|r| r.seq);
    match full_sync::stop_after(&inner.db, job, seq, state.as_str(), Utc::now()).await {
        Ok(stopped) => tracing::warn!(
            job,
            batch = item.id,
            state = state.as_str(),
            stopped,
            "full VIP sync stopped after a batch was not delivered"
        ),
        // The job's later batches then stay pending and go out after this one without it; the
        // progress still shows this batch's failure, and an admin can start a new full sync.
        Err(e) => tracing::error!(job, error = %e, "cannot stop a failed full VIP sync"),
    }
}

/// `item` as `finish` left it in the database (what `store::get` would now read).
fn recorded(item: &Item, finish: &Finish<'_>, now: chrono::DateTime<Utc>) -> Item {
    // Times as stored: whole milliseconds.
    let ms = |t: chrono::DateTime<Utc>| from_ms(to_ms(t));
    let now = ms(now);
    Item {
        state: finish.state,
        next_attempt_at: finish.next_attempt_at.map(ms),
        http_status: finish.http_status,
        pyun: finish.pyun.cloned(),
        last_error: finish.note.map(str::to_owned),
        updated_at: now,
        finished_at: finish.state.is_final().then_some(now),
        ..item.clone()
    }
}

/// A uniform draw in [0, 1) for retry jitter.
fn jitter() -> f64 {
    // 53 random bits fill an f64 mantissa exactly.
    getrandom::u64().map_or(0.5, |r| (r >> 11) as f64 / (1u64 << 53) as f64)
}
