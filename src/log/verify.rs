//! Verification of the whole chain and every checkpoint, as `doelpoort audit verify` runs it. Altered, missing,
//! inserted and reordered records are all detected; the first bad one is named.
use super::chain::{checkpoint_message, parse_hash, GENESIS};
use super::sql::Records;
use crate::crypto::verify_signature;
use crate::store::StoreError;

/// Records read per query.
const PAGE: i64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("record {seq}: {problem}")]
    Broken { seq: i64, problem: String },
    #[error("checkpoint at record {seq}: {problem}")]
    Checkpoint { seq: i64, problem: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub records: i64,
    pub checkpoints: usize,
    pub head_hash: String,
}

/// A verification started from the console, as its page shows it.
#[derive(Debug, Clone, Default)]
pub enum Run {
    #[default]
    Never,
    Running {
        started: String,
        done: i64,
        total: i64,
    },
    Finished {
        started: String,
        finished: String,
        /// The report, or why the log is not intact.
        result: Result<Report, String>,
    },
}

/// The one verification run of this process: at most one at a time.
#[derive(Debug, Default)]
pub struct Tracker(std::sync::Mutex<Run>);

impl Tracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Run> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn current(&self) -> Run {
        self.lock().clone()
    }

    /// Marks a run started at `at`; `false` when one is running already.
    pub fn start(&self, at: String) -> bool {
        let mut run = self.lock();
        if matches!(*run, Run::Running { .. }) {
            return false;
        }
        *run = Run::Running {
            started: at,
            done: 0,
            total: 0,
        };
        true
    }

    pub fn progress(&self, done: i64, total: i64) {
        if let Run::Running { done: d, total: t, .. } = &mut *self.lock() {
            (*d, *t) = (done, total);
        }
    }

    pub fn finish(&self, finished: String, result: Result<Report, String>) {
        let mut run = self.lock();
        let started = match &*run {
            Run::Running { started, .. } => started.clone(),
            _ => finished.clone(),
        };
        *run = Run::Finished {
            started,
            finished,
            result,
        };
    }
}

fn broken(seq: i64, problem: impl Into<String>) -> VerifyError {
    VerifyError::Broken {
        seq,
        problem: problem.into(),
    }
}

/// Walks the chain from the first record to the head, then checks every checkpoint; with `trusted` (base64url
/// Ed25519 keys) a checkpoint must also be signed by one of them — otherwise whoever can write the database could
/// re-seal a rewritten chain with a key of their own. `progress` is told how many records are done, out of the
/// head's count.
///
/// # Errors
/// The first bad record or checkpoint, or a database error.
pub async fn verify(
    records: &Records,
    trusted: Option<&[String]>,
    mut progress: impl FnMut(i64, i64),
) -> Result<Report, VerifyError> {
    let (head_seq, head_hash) = records.head().await?;
    let mut prev = GENESIS;
    let mut expected = 1i64;
    // The next page is read while this one is hashed.
    let fetch = |after: i64| {
        let records = records.clone();
        tokio::spawn(async move { records.page(after, PAGE).await })
    };
    let mut next = fetch(0);
    loop {
        let page = next.await.map_err(|_| broken(expected, "could not be read"))??;
        let Some(last) = page.last() else { break };
        next = fetch(last.seq);
        for r in &page {
            if r.seq != expected {
                return Err(broken(expected, format!("is missing (the next record is {})", r.seq)));
            }
            if parse_hash(&r.prev_hash) != Some(prev) {
                return Err(broken(
                    r.seq,
                    "does not follow its predecessor (inserted, reordered, or the record before it was replaced)",
                ));
            }
            let hash = r.compute_hash(&prev);
            if parse_hash(&r.hash) != Some(hash) {
                return Err(broken(r.seq, "does not match its hash (altered)"));
            }
            prev = hash;
            expected += 1;
        }
        progress(expected - 1, head_seq);
    }
    let last = expected - 1;
    if last < head_seq {
        return Err(broken(
            last + 1,
            format!("is missing (the head names record {head_seq})"),
        ));
    }
    if last > head_seq {
        return Err(broken(head_seq + 1, "lies beyond the head (inserted)"));
    }
    if last > 0 && parse_hash(&head_hash) != Some(prev) {
        return Err(broken(last, "does not match the head's hash"));
    }
    let checkpoints = verify_checkpoints(records, trusted).await?;
    Ok(Report {
        records: last,
        checkpoints,
        head_hash: hex::encode(prev),
    })
}

async fn verify_checkpoints(records: &Records, trusted: Option<&[String]>) -> Result<usize, VerifyError> {
    let mut after = 0;
    let mut count = 0;
    loop {
        let page = records.checkpoints(after, 1000).await?;
        if page.is_empty() {
            return Ok(count);
        }
        for c in &page {
            let bad = |problem: &str| VerifyError::Checkpoint {
                seq: c.seq,
                problem: problem.to_owned(),
            };
            let head = parse_hash(&c.head_hash).ok_or_else(|| bad("holds a malformed hash"))?;
            if trusted.is_some_and(|keys| !keys.contains(&c.public_key)) {
                return Err(bad("is signed by a key that is not the configured checkpoint key"));
            }
            if !verify_signature(&c.public_key, &checkpoint_message(c.seq, &head, &c.at), &c.signature) {
                return Err(bad("its signature does not verify"));
            }
            if records.record_hash(c.seq).await?.as_deref() != Some(c.head_hash.as_str()) {
                return Err(bad("the chain no longer has the sealed record"));
            }
            after = c.seq;
            count += 1;
        }
    }
}
