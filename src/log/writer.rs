//! The group-commit writer: one task gathers whatever appends are waiting into one transaction (one fsync serves
//! many records) and answers each caller only after the commit.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

use super::chain::{Entry, Kind, Record};
use super::sql::{Batch, Records};
use crate::store::Store;
use crate::types::clock::{rfc3339, SharedClock};

/// Appends that may wait for the writer; beyond this callers are refused at once.
const QUEUE: usize = 16_384;

#[derive(Debug, Clone, thiserror::Error)]
pub enum LogError {
    #[error("the disclosure log cannot be written")]
    Unavailable,
    /// A release was asked for with no record that covers it (a batch of refusals only); nothing was written.
    #[error("a release needs a record that covers it")]
    Uncovered,
}

/// Proof that one record is durably in the chain. Only this module makes one, and it cannot be copied.
#[derive(Debug, PartialEq, Eq)]
pub struct Receipt {
    seq: i64,
    kind: Kind,
}

impl Receipt {
    pub fn seq(&self) -> i64 {
        self.seq
    }
}

/// Data that may leave the gateway. Only [`Log::release`] makes one, after committing the records that cover it,
/// and it names exactly those: every record of its batch that is not a refusal (refusals say what was withheld,
/// so they cover nothing that leaves). The API turns it into a response that cites them.
#[derive(Debug)]
pub struct Released<T> {
    records: Vec<i64>,
    body: T,
}

impl<T> Released<T> {
    /// The sequence numbers of the records this release was made under, in chain order.
    pub fn records(&self) -> &[i64] {
        &self.records
    }

    pub fn into_parts(self) -> (Vec<i64>, T) {
        (self.records, self.body)
    }

    /// The same release in another form (the records cover the data, not its wrapping).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Released<U> {
        Released {
            records: self.records,
            body: f(self.body),
        }
    }
}

/// A read whose data was released through the log, or one with nothing to release (its refusals, if any, are
/// recorded; nothing it holds needs a record).
pub enum Read<T> {
    Released(Released<T>),
    Nothing(T),
}

/// Whether a record covers a release (see [`Released`]).
fn covers(kind: Kind) -> bool {
    kind != Kind::Refusal
}

struct Pending {
    batch: Batch,
    reply: oneshot::Sender<Result<Appended, LogError>>,
}

/// The outcome of an append decided on facts of a known generation.
#[derive(Debug)]
pub enum Appended {
    /// Committed, in order.
    Committed(Vec<Receipt>),
    /// The facts changed since the decision; nothing was appended, so nothing may be released.
    Stale,
}

/// The handle every part of the gateway appends through; cheap to clone.
#[derive(Clone)]
pub struct Log {
    queue: mpsc::Sender<Pending>,
    available: Arc<AtomicBool>,
    records: Records,
    clock: SharedClock,
    timeout: Duration,
}

impl Log {
    /// Starts the writer task. `batch_max` bounds the records of one transaction; a commit that takes longer than
    /// `timeout` is abandoned (rolled back) and its callers refused.
    pub fn start(store: Store, clock: SharedClock, batch_max: usize, timeout: Duration) -> Log {
        let records = Records::new(store);
        let (queue, rx) = mpsc::channel(QUEUE);
        let available = Arc::new(AtomicBool::new(true));
        metrics::gauge!("doelpoort_log_available").set(1.0);
        tokio::spawn(writer(
            rx,
            records.clone(),
            clock.clone(),
            available.clone(),
            batch_max.max(1),
            timeout,
        ));
        Log {
            queue,
            available,
            records,
            clock,
            timeout,
        }
    }

    /// Appends one record and waits until it is committed.
    ///
    /// # Errors
    /// [`LogError::Unavailable`] when it could not be committed; then nothing may be released.
    pub async fn append(&self, entry: Entry) -> Result<Receipt, LogError> {
        let mut receipts = self.append_all(vec![entry]).await?;
        receipts.pop().ok_or(LogError::Unavailable)
    }

    /// Appends records that commit together (all or none), in order.
    ///
    /// # Errors
    /// [`LogError::Unavailable`] when they could not be committed.
    pub async fn append_all(&self, entries: Vec<Entry>) -> Result<Vec<Receipt>, LogError> {
        match self.submit(Batch { basis: None, entries }).await? {
            Appended::Committed(receipts) => Ok(receipts),
            Appended::Stale => Err(LogError::Unavailable),
        }
    }

    /// Appends records decided on facts read at facts generation `basis`, all or none, only if that is still the
    /// generation when the batch locks the chain head.
    ///
    /// # Errors
    /// [`LogError::Unavailable`] when they could not be committed.
    pub async fn append_all_at(&self, entries: Vec<Entry>, basis: i64) -> Result<Appended, LogError> {
        self.submit(Batch {
            basis: Some(basis),
            entries,
        })
        .await
    }

    /// Commits `entries` together and releases `body` under those of them that cover it.
    ///
    /// # Errors
    /// [`LogError::Unavailable`] when they could not be committed, [`LogError::Uncovered`] when none covers a
    /// release; then nothing may be released.
    pub async fn release<T>(&self, body: T, entries: Vec<Entry>) -> Result<Released<T>, LogError> {
        self.release_on(body, entries, None).await?.ok_or(LogError::Unavailable)
    }

    /// As [`Log::release`] for records decided on facts read at facts generation `basis`: committed only if that is
    /// still the generation when the batch locks the chain head, `None` (nothing written or released) otherwise.
    ///
    /// # Errors
    /// As [`Log::release`].
    pub async fn release_at<T>(
        &self,
        body: T,
        entries: Vec<Entry>,
        basis: i64,
    ) -> Result<Option<Released<T>>, LogError> {
        self.release_on(body, entries, Some(basis)).await
    }

    async fn release_on<T>(
        &self,
        body: T,
        entries: Vec<Entry>,
        basis: Option<i64>,
    ) -> Result<Option<Released<T>>, LogError> {
        if !entries.iter().any(|e| covers(e.kind)) {
            return Err(LogError::Uncovered);
        }
        match self.submit(Batch { basis, entries }).await? {
            Appended::Committed(receipts) => Ok(Some(Released {
                records: receipts.iter().filter(|r| covers(r.kind)).map(Receipt::seq).collect(),
                body,
            })),
            Appended::Stale => Ok(None),
        }
    }

    /// Refuses every append from now on, for `reason` (the log does not agree with itself); nothing is released
    /// until the gateway is restarted on a log that passes the start-up check.
    pub fn halt(&self, reason: String) {
        tracing::error!(%reason, "the disclosure log failed its integrity check; refusing every release");
        self.records.store().fence(reason);
        set_available(&self.available, false);
    }

    /// Why the log refuses every append, if it does.
    pub fn halted(&self) -> Option<String> {
        self.records.store().fenced()
    }

    async fn submit(&self, batch: Batch) -> Result<Appended, LogError> {
        if self.halted().is_some() {
            return Err(LogError::Unavailable);
        }
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Pending { batch, reply })
            .map_err(|_| LogError::Unavailable)?;
        // The writer answers within `timeout` of taking the batch; the margin covers batches queued before it.
        match tokio::time::timeout(self.timeout * 2, answer).await {
            Ok(Ok(result)) => result,
            _ => Err(LogError::Unavailable),
        }
    }

    /// The log's tables, for reading.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// Whether the last commit attempt succeeded; when it did not, checks whether a write commits now.
    pub async fn healthy(&self) -> bool {
        if self.halted().is_some() {
            return false;
        }
        if self.available.load(Ordering::Relaxed) {
            return true;
        }
        let now = rfc3339(self.clock.now());
        let probe = self.records.probe_write(&now);
        let ok = matches!(tokio::time::timeout(self.timeout, probe).await, Ok(Ok(())));
        set_available(&self.available, ok);
        ok
    }
}

fn set_available(flag: &AtomicBool, ok: bool) {
    flag.store(ok, Ordering::Relaxed);
    metrics::gauge!("doelpoort_log_available").set(if ok { 1.0 } else { 0.0 });
}

/// Takes what is waiting (up to `batch_max` records), commits it as one transaction, answers every caller.
async fn writer(
    mut rx: mpsc::Receiver<Pending>,
    records: Records,
    clock: SharedClock,
    available: Arc<AtomicBool>,
    batch_max: usize,
    timeout: Duration,
) {
    while let Some(first) = rx.recv().await {
        // Callers answered by the last commit are waking up to append again; one yield lets them reach the queue
        // and join this batch instead of the next (otherwise batches alternate between one record and the rest).
        tokio::task::yield_now().await;
        let mut count = first.batch.entries.len();
        let mut batch = vec![first];
        while count < batch_max {
            match rx.try_recv() {
                Ok(p) => {
                    count += p.batch.entries.len();
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        // A caller that gave up has already answered its client with 503: its record must not appear afterwards.
        batch.retain(|p| !p.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        let batches: Vec<Batch> = batch.iter().map(|p| p.batch.clone()).collect();
        let started = std::time::Instant::now();
        let now = rfc3339(clock.now());
        let result = match tokio::time::timeout(timeout, records.append_batches(batches, &now)).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err("the commit did not finish in time".to_owned()),
        };
        match result {
            Ok(outcomes) => {
                set_available(&available, true);
                let records: usize = outcomes.iter().flatten().map(Vec::len).sum();
                metrics::counter!("doelpoort_log_records_total").increment(records as u64);
                metrics::histogram!("doelpoort_log_batch_records").record(records as f64);
                metrics::histogram!("doelpoort_log_commit_seconds").record(started.elapsed().as_secs_f64());
                for (p, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = p.reply.send(Ok(appended(outcome)));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, records = count, "disclosure log append failed; refusing the requests");
                metrics::counter!("doelpoort_log_refused_records_total").increment(count as u64);
                set_available(&available, false);
                metrics::counter!("doelpoort_log_append_failures_total").increment(1);
                for p in batch {
                    let _ = p.reply.send(Err(LogError::Unavailable));
                }
            }
        }
    }
}

fn appended(outcome: Option<Vec<Record>>) -> Appended {
    match outcome {
        Some(records) => Appended::Committed(
            records
                .into_iter()
                .map(|r| Receipt {
                    seq: r.seq,
                    kind: r.entry.kind,
                })
                .collect(),
        ),
        None => {
            metrics::counter!("doelpoort_log_stale_batches_total").increment(1);
            Appended::Stale
        }
    }
}
