//! Verification of the whole log, as `doelpoort audit verify` runs it: the entry bundles, every leaf of the Merkle
//! tree (hashed from the bytes as stored) and the tiles that hold it, the hash chain where legacy checkpoints
//! signed it, every checkpoint's signature and root, that checkpoints came at the configured
//! interval over the records' times, and that the log extends each checkpoint a partner held. Altered, missing,
//! inserted and reordered records, a truncated tail, a rewritten head, deleted checkpoints and records recomputed
//! after an alteration are all detected; the first problem is named. Also the cheap check the gateway runs at start.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::collections::{BTreeMap, HashMap, VecDeque};

use super::bundle;
use super::chain::{chain_hash, checkpoint_message, parse_hash, Kind, Record, GENESIS};
use super::checkpoint::ACTION;
use super::merkle::{fold, leaf_hash, Hash};
use super::note;
use super::packed::Bundle;
use super::sql::{Records, StartSnapshot};
use super::tiles::HEIGHT;
use crate::crypto::verify_signature;
use crate::store::StoreError;
use crate::types::clock::parse_rfc3339;

/// Slack on the checkpoint interval: a record must be covered by a checkpoint within twice the interval and this.
const GRACE_SECS: i64 = 60;

/// Bundles read per query.
const PAGE: i64 = 1024;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("record {seq}: {problem}")]
    Broken { seq: i64, problem: String },
    #[error("checkpoint at record {seq}: {problem}")]
    Checkpoint { seq: i64, problem: String },
    #[error("record {seq} {problem}")]
    Interval { seq: i64, problem: String },
    /// `index`: the anchor's place among those given, from 1.
    #[error("anchor {index}: {problem}")]
    Anchor { index: usize, problem: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub records: i64,
    /// Signed tree checkpoints, and those of the hash chain from before the tree.
    pub checkpoints: usize,
    pub head_hash: String,
    /// The root of the tree over every record, hex.
    pub root: String,
    /// Anchors the log was found to extend.
    pub anchors: usize,
}

/// What a verification trusts and expects.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The checkpoints' origin (their signature's key name).
    pub origin: String,
    /// Ed25519 public keys (base64url) a checkpoint may be signed with: the key in use and retired ones.
    pub keys: Vec<String>,
    /// Seconds between checkpoints; `None` skips the interval check.
    pub interval_secs: Option<u64>,
    /// The time of the verification (RFC 3339): records older than the interval need a checkpoint by now.
    pub now: String,
    /// Checkpoint notes partners held; the log must extend each.
    pub anchors: Vec<String>,
}

impl Trust {
    /// What a verification of a log configured by `log` trusts: the key in use (when it can be read) and the
    /// retired ones, the origin and the interval, at `now`, with no anchors.
    pub fn configured(
        log: &super::LogConfig,
        host: &crate::types::Oin,
        current_key: Option<String>,
        now: String,
    ) -> Trust {
        let mut keys: Vec<String> = current_key.into_iter().collect();
        keys.extend(log.retired_checkpoint_keys.iter().cloned());
        Trust {
            origin: log.origin(host),
            keys,
            interval_secs: Some(log.checkpoint_interval_secs.max(1)),
            now,
            anchors: Vec::new(),
        }
    }

    fn keys(&self) -> Vec<Vec<u8>> {
        self.keys
            .iter()
            .filter_map(|k| URL_SAFE_NO_PAD.decode(k).ok())
            .collect()
    }

    /// The checkpoint in `text` if one of the trusted keys signed it under the origin.
    pub fn open(&self, text: &str) -> Option<note::Checkpoint> {
        let c = self.keys().iter().find_map(|k| note::open(text, &self.origin, k))?;
        (c.origin == self.origin).then_some(c)
    }
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

/// Walks the log from the first record to the head, then checks what the walk could not (the notes table, the
/// tail, the chain's checkpoints from before the tree). `progress` is told how many records are done, out of the
/// head's count.
///
/// # Errors
/// The first problem found, or a database error.
pub async fn verify(
    records: &Records,
    trust: &Trust,
    mut progress: impl FnMut(i64, i64),
) -> Result<Report, VerifyError> {
    let (head_seq, head_hash) = records.head().await?;
    let mut walk = Walk::new(records, trust).await?;
    // Three stages overlap: the database reads a page, a blocking thread opens the page read before it and hashes
    // its leaves, and the walk checks the page opened before that.
    let fetch = |after: i64| {
        let records = records.clone();
        tokio::spawn(async move {
            let bundles = records.bundles(after, PAGE).await?;
            let width = 1u64 << HEIGHT;
            let to = bundles.iter().map(|b| b.last_seq).max().unwrap_or(after).max(after) as u64;
            let tiles = records.tiles(0, after as u64 / width, to.div_ceil(width)).await?;
            Ok::<_, StoreError>((bundles, tiles))
        })
    };
    let mut reading = Some(fetch(0));
    let mut opening: Option<tokio::task::JoinHandle<Result<OpenedPage, VerifyError>>> = None;
    while reading.is_some() || opening.is_some() {
        let mut just_opened = None;
        if let Some(read) = reading.take() {
            let (page, tiles) = read.await.map_err(|_| broken(walk.expected(), "could not be read"))??;
            if let Some(after) = page.iter().map(|b| b.last_seq).max() {
                reading = Some(fetch(after));
                just_opened = Some(tokio::spawn(open_page(page, tiles, walk.chain_until)));
            }
        }
        if let Some(opened) = std::mem::replace(&mut opening, just_opened) {
            let (page, tiles) = opened
                .await
                .map_err(|_| broken(walk.expected(), "could not be read"))??;
            walk.tiles(tiles);
            for b in &page {
                walk.bundle(b)?;
            }
            progress(walk.expected() - 1, head_seq);
        }
    }
    let last = walk.expected() - 1;
    if last < head_seq {
        return Err(broken(
            last + 1,
            format!("is missing (the head names record {head_seq})"),
        ));
    }
    if last > head_seq {
        return Err(broken(head_seq + 1, "lies beyond the head (inserted)"));
    }
    if last > 0 && records.record_hash(last).await? != Some(head_hash.clone()) {
        return Err(broken(last, "does not match the head's hash"));
    }
    walk.finish(records, trust, head_hash).await
}

/// A page of bundles opened, with the level-0 tiles its leaves lie in, by index.
type OpenedPage = (Vec<Opened>, Vec<(u64, Vec<u8>)>);

/// Opens the bundles of `page` on as many blocking threads as there are cores, each a stretch of them, in order.
/// The encodings of records up to `keep_through` are kept (the chain of a log from before the tree needs them).
async fn open_page(
    page: Vec<Bundle>,
    tiles: Vec<(u64, Vec<u8>)>,
    keep_through: i64,
) -> Result<OpenedPage, VerifyError> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let first = page.first().map_or(0, |b| b.first_seq);
    let per = page.len().div_ceil(threads).max(1);
    let mut stretches = Vec::new();
    let mut rest = page;
    while !rest.is_empty() {
        let tail = rest.split_off(per.min(rest.len()));
        let stretch = std::mem::replace(&mut rest, tail);
        stretches.push(tokio::task::spawn_blocking(move || {
            stretch
                .into_iter()
                .map(|b| Opened::new(b, keep_through))
                .collect::<Vec<_>>()
        }));
    }
    let mut opened = Vec::new();
    for s in stretches {
        opened.extend(s.await.map_err(|_| broken(first, "could not be read"))?);
    }
    Ok((opened, tiles))
}

/// A bundle opened and what the walk needs of each record found: the work that needs no order, done away from
/// the walk.
struct Opened {
    /// The bundle's row, without its data.
    bundle: Bundle,
    /// Its records in order; `None` when the bundle cannot be read.
    parts: Option<Vec<Part>>,
}

/// What the walk needs of one record.
struct Part {
    /// Its sequence number, whether it carries its bundle's time and whether it is a checkpoint record; `None`
    /// when its encoding cannot be read.
    peek: Option<(i64, bool, bool)>,
    leaf: Hash,
    /// Its encoding, kept for a checkpoint record and for the legacy chain.
    encoding: Option<Vec<u8>>,
}

impl Opened {
    fn new(mut bundle: Bundle, keep_through: i64) -> Opened {
        let data = std::mem::take(&mut bundle.data);
        let parts = bundle::open_with(bundle.codec, &data, |packed| {
            let parts = bundle::split(packed)?;
            let keep = |seq: i64, checkpoint: bool| checkpoint || seq <= keep_through;
            Some(
                parts
                    .into_iter()
                    .map(|part| {
                        let peek =
                            bundle::peek(part, ACTION).map(|p| (p.seq, p.at == bundle.at.as_bytes(), p.checkpoint));
                        Part {
                            peek,
                            leaf: leaf_hash(part),
                            encoding: peek.filter(|&(seq, _, cp)| keep(seq, cp)).map(|_| part.to_vec()),
                        }
                    })
                    .collect(),
            )
        })
        .flatten();
        Opened { bundle, parts }
    }
}

/// The state of a walk over the log.
struct Walk {
    /// The chain hash of the last record walked, kept while legacy checkpoints need the chain (up to `chain_until`).
    prev: Hash,
    chain_until: i64,
    /// Leaves hashed so far.
    size: u64,
    /// The complete subtrees of the leaves so far, largest first: their fold is the root.
    frontier: Vec<(u32, Hash)>,
    /// Level-0 tiles read ahead, by index.
    leaves: VecDeque<(u64, Vec<u8>)>,
    /// Every higher tile, by (level, index).
    upper: HashMap<(u32, u64), Vec<u8>>,
    keys: Vec<Vec<u8>>,
    origin: String,
    /// Checkpoint records seen: size → (record, note).
    notes: BTreeMap<u64, (i64, String)>,
    /// Anchors by size: their place among those given (from 1) and root; and how many the walk matched.
    anchors: BTreeMap<u64, (usize, Hash)>,
    anchored: usize,
    /// Legacy chain checkpoints by the record they sealed, with their time.
    legacy: BTreeMap<i64, String>,
    /// The oldest record not yet covered by a checkpoint, and its time.
    uncovered: Option<(i64, time::OffsetDateTime)>,
    interval: Option<i64>,
}

impl Walk {
    async fn new(records: &Records, trust: &Trust) -> Result<Walk, VerifyError> {
        let mut upper = HashMap::new();
        for level in 1.. {
            let tiles = records.tiles(level, 0, u64::MAX >> 1).await?;
            if tiles.is_empty() {
                break;
            }
            upper.extend(tiles.into_iter().map(|(i, h)| ((level, i), h)));
        }
        let mut anchors = BTreeMap::new();
        for (i, text) in trust.anchors.iter().enumerate() {
            let c = trust.open(text).ok_or_else(|| VerifyError::Anchor {
                index: i + 1,
                problem: "is not a checkpoint of this log signed by its key".into(),
            })?;
            anchors.insert(c.size, (i + 1, c.root));
        }
        let legacy = records
            .checkpoints(0, i64::MAX)
            .await?
            .into_iter()
            .map(|c| (c.seq, c.at))
            .collect::<BTreeMap<i64, String>>();
        Ok(Walk {
            prev: GENESIS,
            chain_until: legacy.keys().next_back().copied().unwrap_or(0),
            size: 0,
            frontier: Vec::new(),
            leaves: VecDeque::new(),
            upper,
            keys: trust.keys(),
            origin: trust.origin.clone(),
            notes: BTreeMap::new(),
            anchors,
            anchored: 0,
            legacy,
            uncovered: None,
            interval: trust.interval_secs.map(|s| 2 * s as i64 + GRACE_SECS),
        })
    }

    fn expected(&self) -> i64 {
        self.size as i64 + 1
    }

    fn root(&self) -> Hash {
        let hashes: Vec<Hash> = self.frontier.iter().map(|(_, h)| *h).collect();
        fold(&hashes)
    }

    /// Keeps the level-0 tiles read for the next leaves, dropping those behind the walk.
    fn tiles(&mut self, tiles: Vec<(u64, Vec<u8>)>) {
        let from = self.size >> HEIGHT;
        while self.leaves.front().is_some_and(|(i, _)| *i < from) {
            self.leaves.pop_front();
        }
        for (i, t) in tiles {
            if self.leaves.back().is_none_or(|(last, _)| i > *last) {
                self.leaves.push_back((i, t));
            }
        }
    }

    fn tile_entry(&self, level: u32, index: u64) -> Option<&[u8]> {
        let width = 1u64 << HEIGHT;
        let tile = if level == 0 {
            let tile = index / width;
            let base = self.leaves.front()?.0;
            let (i, t) = self.leaves.get(usize::try_from(tile.checked_sub(base)?).ok()?)?;
            (*i == tile).then_some(t)
        } else {
            self.upper.get(&(level, index / width))
        }?;
        let at = (index % width) as usize * 32;
        tile.get(at..at + 32)
    }

    /// Every record of a bundle, which must start where the walk is, hold what its range says and carry its time.
    fn bundle(&mut self, o: &Opened) -> Result<(), VerifyError> {
        let (b, expected) = (&o.bundle, self.expected());
        if b.first_seq != expected {
            return Err(broken(
                expected,
                format!("is missing (the next bundle starts at record {})", b.first_seq),
            ));
        }
        let parts = o
            .parts
            .as_ref()
            .ok_or_else(|| broken(expected, "its bundle cannot be read"))?;
        if expected <= self.chain_until && b.prev[..] != self.prev[..] {
            return Err(broken(expected, "does not follow its predecessor in the chain"));
        }
        let at = parse_rfc3339(&b.at);
        for part in parts {
            let seq = self.expected();
            let (found, at_ok, checkpoint) = part.peek.ok_or_else(|| broken(seq, "cannot be read"))?;
            if found != seq {
                return Err(broken(
                    seq,
                    format!("is missing or out of place (record {found} is in its place)"),
                ));
            }
            if !at_ok {
                return Err(broken(seq, "does not carry its bundle's time"));
            }
            let encoding = || part.encoding.as_deref().ok_or_else(|| broken(seq, "cannot be read"));
            if seq <= self.chain_until {
                self.prev = chain_hash(&self.prev, encoding()?);
            }
            if checkpoint {
                let r = Record::decoded(encoding()?, &GENESIS).ok_or_else(|| broken(seq, "cannot be read"))?;
                self.checkpoint(&r, checkpoint_size(&r).unwrap_or(u64::MAX))?;
            }
            let at = at.ok_or_else(|| broken(seq, "has an unreadable time"))?;
            self.cover(seq, at, checkpoint)?;
            self.leaf(seq, part.leaf)?;
        }
        if b.last_seq != self.expected() - 1 {
            return Err(broken(
                b.first_seq,
                "its bundle does not hold the records its range names",
            ));
        }
        Ok(())
    }

    /// A checkpoint record: signed by a trusted key, over the tree just before it, with the root the walk computed.
    fn checkpoint(&mut self, r: &Record, size: u64) -> Result<(), VerifyError> {
        let bad = |problem: &str| VerifyError::Checkpoint {
            seq: r.seq,
            problem: problem.to_owned(),
        };
        let text = note_of(r).ok_or_else(|| bad("holds no note"))?;
        let c = self
            .keys
            .iter()
            .find_map(|k| note::open(&text, &self.origin, k))
            .ok_or_else(|| bad("is not signed by the log's checkpoint key"))?;
        if c.size != size || size != self.size {
            return Err(bad("does not cover the records before it"));
        }
        if c.root != self.root() {
            return Err(bad(
                "signs a root the records do not have (they were changed after it was signed)",
            ));
        }
        self.notes.insert(size, (r.seq, text));
        Ok(())
    }

    /// The interval check: the oldest record since the last checkpoint must not be older than the interval allows
    /// when the next one comes.
    fn cover(&mut self, seq: i64, at: time::OffsetDateTime, checkpoint: bool) -> Result<(), VerifyError> {
        let Some(limit) = self.interval else { return Ok(()) };
        let covering = checkpoint
            .then_some(at)
            .or_else(|| self.legacy.get(&(seq - 1)).and_then(|t| parse_rfc3339(t)));
        if let Some(when) = covering {
            if let Some((seq, oldest)) = self.uncovered.take() {
                if (when - oldest).whole_seconds() > limit {
                    return Err(VerifyError::Interval {
                        seq,
                        problem: format!(
                            "waited {} s for a checkpoint (the interval allows {limit} s): a checkpoint is missing",
                            (when - oldest).whole_seconds()
                        ),
                    });
                }
            }
        }
        if !checkpoint {
            let oldest = match self.uncovered {
                Some((s, t)) if t <= at => (s, t),
                _ => (seq, at),
            };
            self.uncovered = Some(oldest);
        }
        Ok(())
    }

    /// Adds the record's leaf; the leaf and every complete subtree of a tile level must match the tiles.
    fn leaf(&mut self, seq: i64, leaf: Hash) -> Result<(), VerifyError> {
        if self.tile_entry(0, self.size) != Some(&leaf[..]) {
            return Err(broken(seq, "its leaf in the tree's tiles does not match it"));
        }
        self.size += 1;
        self.frontier.push((0, leaf));
        while let [.., (l1, left), (l2, right)] = self.frontier[..] {
            if l1 != l2 {
                break;
            }
            self.frontier.truncate(self.frontier.len() - 2);
            let level = l1 + 1;
            let hash = super::merkle::node_hash(&left, &right);
            if level % HEIGHT == 0 {
                let index = (self.size >> level) - 1;
                if self.tile_entry(level / HEIGHT, index) != Some(&hash[..]) {
                    return Err(broken(seq, "the tree's tiles do not match the records before it"));
                }
            }
            self.frontier.push((level, hash));
        }
        if let Some(&(index, root)) = self.anchors.get(&self.size) {
            if root != self.root() {
                return Err(VerifyError::Anchor {
                    index,
                    problem: format!(
                        "the checkpoint over {} records a partner held does not match the log: it was rewritten",
                        self.size
                    ),
                });
            }
            self.anchored += 1;
        }
        Ok(())
    }

    async fn finish(self, records: &Records, trust: &Trust, head_hash: String) -> Result<Report, VerifyError> {
        if let Some((size, &(index, _))) = self.anchors.iter().find(|(s, _)| **s > self.size) {
            return Err(VerifyError::Anchor {
                index,
                problem: format!(
                    "a partner held a checkpoint over {size} records; the log has {} (its tail was removed)",
                    self.size
                ),
            });
        }
        if records.tree_size().await? != self.size as i64 {
            return Err(broken(self.size as i64, "the tree's size does not match the head"));
        }
        if let (Some(limit), Some((seq, oldest)), Some(now)) =
            (self.interval, self.uncovered, parse_rfc3339(&trust.now))
        {
            if (now - oldest).whole_seconds() > limit {
                return Err(VerifyError::Interval {
                    seq,
                    problem: format!(
                        "has had no checkpoint for {} s (the interval allows {limit} s): a checkpoint is missing \
                         (or the gateway stopped without sealing one)",
                        (now - oldest).whole_seconds()
                    ),
                });
            }
        }
        let stored = records.notes(0, i64::MAX).await?;
        for n in &stored {
            let held = self.notes.get(&(n.size as u64));
            if held != Some(&(n.seq, n.note.clone())) {
                return Err(VerifyError::Checkpoint {
                    seq: n.seq,
                    problem: "the stored checkpoint has no record with the same note".into(),
                });
            }
        }
        if let Some((_, (seq, _))) = self
            .notes
            .iter()
            .find(|(size, _)| !stored.iter().any(|n| n.size as u64 == **size))
        {
            return Err(VerifyError::Checkpoint {
                seq: *seq,
                problem: "its stored checkpoint was deleted".into(),
            });
        }
        let legacy = verify_checkpoints(records, (!trust.keys.is_empty()).then_some(&trust.keys[..])).await?;
        Ok(Report {
            records: self.size as i64,
            checkpoints: self.notes.len() + legacy,
            head_hash,
            root: hex::encode(self.root()),
            anchors: self.anchored,
        })
    }
}

/// The size a checkpoint record covers, if `r` is one (`u64::MAX` when its size cannot be read, which no tree
/// matches).
pub fn checkpoint_size(r: &Record) -> Option<u64> {
    (r.entry.kind == Kind::Admin && r.entry.action.as_deref() == Some(ACTION)).then(|| {
        r.entry
            .target
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(u64::MAX)
    })
}

/// The note a checkpoint record holds.
fn note_of(r: &Record) -> Option<String> {
    let detail: serde_json::Value = serde_json::from_str(r.entry.detail.as_deref()?).ok()?;
    detail.get("note")?.as_str().map(str::to_owned)
}

/// The check before serving, cheap (no full scan): the head names the newest record and its hash, that record
/// follows its predecessor, the tree covers exactly the head with that record's leaf last, and the newest
/// checkpoint is signed by a trusted key, held by its record, and has the root the tree has at its size.
///
/// # Errors
/// What disagrees, in a sentence for the operator; or a database error, as text.
pub async fn start_check(records: &Records, trust: &Trust) -> Result<(), String> {
    let snapshot = records
        .start_snapshot(&trust.now)
        .await
        .map_err(|e| format!("the log could not be read: {e}"))?;
    agrees(&snapshot, trust)
}

/// Whether the head, the newest records, the tree and the newest checkpoint of `s` agree.
fn agrees(s: &StartSnapshot, trust: &Trust) -> Result<(), String> {
    let (seq, hash) = (s.head.0, &s.head.1);
    let top = s.newest.first().map_or(0, |r| r.seq);
    if top != seq {
        return Err(format!("the head names record {seq} but the newest record is {top}"));
    }
    if let Some(r) = s.newest.first() {
        let prev = match s.newest.get(1) {
            Some(p) if p.seq == seq - 1 => parse_hash(&p.hash),
            None if seq == 1 => Some(GENESIS),
            _ => None,
        }
        .ok_or_else(|| format!("record {} is missing", seq - 1))?;
        if parse_hash(&r.prev_hash) != Some(prev) || parse_hash(&r.hash) != Some(r.compute_hash(&prev)) {
            return Err(format!("record {seq} does not match its hash or its predecessor"));
        }
        if parse_hash(hash) != Some(r.compute_hash(&prev)) {
            return Err(format!("the head's hash is not that of record {seq}"));
        }
    }
    if s.tree_size != seq {
        return Err(format!("the tree covers {} records, the head {seq}", s.tree_size));
    }
    if let Some(r) = s.newest.first() {
        if s.last_leaf != Some(leaf_hash(&r.encode())) {
            return Err(format!("the tree's last leaf is not record {seq}"));
        }
    }
    let Some(latest) = &s.latest_note else {
        return Ok(());
    };
    let c = trust.open(&latest.note).ok_or_else(|| {
        format!(
            "the newest checkpoint (over {} records) is not signed by the log's key",
            latest.size
        )
    })?;
    let carried = s
        .note_record
        .as_ref()
        .is_some_and(|r| checkpoint_size(r) == Some(c.size) && note_of(r).as_deref() == Some(latest.note.as_str()));
    if !carried || c.size as i64 != latest.size || latest.size > seq {
        return Err(format!(
            "the newest checkpoint (over {} records) is not the one its record holds",
            latest.size
        ));
    }
    if s.note_root != Some(c.root) {
        return Err(format!(
            "the tree's root over {} records is not the one the newest checkpoint signed",
            c.size
        ));
    }
    Ok(())
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
