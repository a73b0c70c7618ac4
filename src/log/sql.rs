//! The disclosure log's own tables and SQL: appending to the chain (the group-commit writer's batches and records
//! written inside another change's transaction), paging through it, queries for privacy officers, and checkpoints.
//! Nothing outside `log` writes these tables.
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use utoipa::ToSchema;

use super::chain::{parse_hash, Entry, Kind, Record, Verdict};
use super::filter::LogFilter;
use super::merkle::{self, leaf_hash, Hash};
use super::packed::{self, Bundle, BUNDLE_COLUMNS};
use super::statement::Sql;
use super::tiles::{self, Edge};
use crate::store::{Backend, Store, StoreError, Tx};

/// Bundles a query reads per round trip.
const QUERY_PAGE: i64 = 64;

/// The tree's right edge as the last append through this handle left it, with the head hash it was left at: valid
/// only while the database's head still has that hash (no other writer appended since).
type KeptEdge = Arc<Mutex<Option<(String, Edge)>>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Checkpoint {
    pub seq: i64,
    pub at: String,
    /// Hash of record `seq`, hex.
    pub head_hash: String,
    /// Ed25519 public key that signed, base64url.
    pub public_key: String,
    /// Signature over `checkpoint_message(seq, head_hash, at)`, base64url.
    pub signature: String,
}

/// The log's tables in a database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Records {
    store: Store,
    edge: KeptEdge,
}

impl Records {
    pub fn new(store: Store) -> Records {
        Records {
            store,
            edge: KeptEdge::default(),
        }
    }

    fn pool(&self) -> &sqlx::AnyPool {
        self.store.pool()
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Appends the batches whose basis is still current in one transaction; returns, per batch, its chained
    /// records, or `None` when the facts generation moved past the batch's basis (nothing of it was appended).
    ///
    /// # Errors
    /// The database refused; nothing was appended.
    pub(super) async fn append_batches(
        &self,
        batches: Vec<Batch>,
        now: &str,
    ) -> Result<Vec<Option<Vec<Record>>>, StoreError> {
        let mut tx = self.store.begin().await?;
        let head = lock_head(tx.conn(), now).await?;
        let generation = head.generation;
        let current = |b: &Batch| b.basis.is_none_or(|g| g == generation);
        let accepted: Vec<Entry> = batches
            .iter()
            .filter(|b| current(b))
            .flat_map(|b| b.entries.clone())
            .collect();
        let mut records = chain_after(&mut tx, head, accepted, now, &self.edge).await?.into_iter();
        tx.commit().await?;
        Ok(batches
            .iter()
            .map(|b| current(b).then(|| records.by_ref().take(b.entries.len()).collect()))
            .collect())
    }

    /// The chain head: last sequence number and its hash.
    pub async fn head(&self) -> Result<(i64, String), StoreError> {
        Ok(sqlx::query_as("SELECT seq, hash FROM log_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?)
    }

    /// Records with `seq > after`, in order, at most `limit`.
    pub async fn page(&self, after: i64, limit: i64) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for b in packed::after(self.pool(), after, limit).await? {
            out.extend(b.records(after + 1, after.saturating_add(limit))?);
        }
        out.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(out)
    }

    /// Bundles holding records after `after`, in order, at most `limit`: what `audit verify` reads.
    pub async fn bundles(&self, after: i64, limit: i64) -> Result<Vec<Bundle>, StoreError> {
        packed::after(self.pool(), after, limit).await
    }

    /// Records matching `filter` with `seq > after` (ascending) or `seq < after` (descending), at most `limit`.
    pub async fn query(
        &self,
        filter: &LogFilter,
        after: i64,
        descending: bool,
        limit: i64,
    ) -> Result<Vec<Record>, StoreError> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let mut out = Vec::new();
        if limit > 0 {
            self.scan(filter, after, descending, |r| {
                out.push(r);
                out.len() < limit
            })
            .await?;
        }
        Ok(out)
    }

    /// How many records match `filter`.
    pub async fn count(&self, filter: &LogFilter) -> Result<i64, StoreError> {
        let mut n = 0;
        self.scan(filter, 0, false, |_| {
            n += 1;
            true
        })
        .await?;
        Ok(n)
    }

    /// Hands `visit` the records matching `filter` beyond `bound` (after it ascending, before it descending), in
    /// that order, until it returns `false`. The postings narrow the bundles read; [`LogFilter::matches`] decides.
    async fn scan(
        &self,
        filter: &LogFilter,
        bound: i64,
        descending: bool,
        mut visit: impl FnMut(Record) -> bool,
    ) -> Result<(), StoreError> {
        let backend = self.backend();
        let mut conn = self.pool().acquire().await?;
        let Some(mut window) = Window::of(&mut conn, backend, filter, bound, descending).await? else {
            return Ok(());
        };
        let groups = filter.key_groups();
        loop {
            let ids = window.next_ids(&mut conn, backend, groups.first()).await?;
            if ids.is_empty() {
                return Ok(());
            }
            let others = groups.get(1..).unwrap_or_default();
            let mut bundles = read_candidates(&mut conn, backend, &ids, others).await?;
            if descending {
                bundles.reverse();
            }
            for b in &bundles {
                let mut records = b.records(b.first_seq, b.last_seq)?;
                if descending {
                    records.reverse();
                }
                let beyond = |r: &Record| if descending { r.seq < bound } else { r.seq > bound };
                for r in records.into_iter().filter(|r| beyond(r) && filter.matches(r)) {
                    if !visit(r) {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// The decisions recorded in `[from, to)` (disclosures, refusals, hit/no-hit answers), grouped by what the
    /// covenant decides on — organisations, meeting type, purpose, categories, article and, for a refusal, its
    /// reason — with how many records each group holds. No subject, case or person: what the steering group's
    /// figures and a dry run of a new covenant read.
    pub async fn decisions(&self, from: &str, to: &str) -> Result<Vec<DecisionGroup>, StoreError> {
        let mut groups: std::collections::HashMap<DecisionGroup, i64> = std::collections::HashMap::new();
        let mut after = 0i64;
        loop {
            let bundles: Vec<Bundle> = sqlx::query_as(&format!(
                "SELECT {BUNDLE_COLUMNS} FROM log_bundles \
                 WHERE at >= $1 AND at < $2 AND first_seq > $3 ORDER BY first_seq LIMIT 512"
            ))
            .bind(from)
            .bind(to)
            .bind(after)
            .fetch_all(self.pool())
            .await?;
            let Some(last) = bundles.last() else { break };
            after = last.first_seq;
            for b in &bundles {
                let packed = b.packed()?;
                let parts = super::bundle::split(&packed).ok_or(StoreError::Corrupt("log bundle"))?;
                for part in parts {
                    let (_, _, e) = super::chain::decode(part).ok_or(StoreError::Corrupt("log bundle"))?;
                    if e.kind == Kind::Admin {
                        continue;
                    }
                    let key = DecisionGroup {
                        reason: if e.kind == Kind::Refusal { e.reason } else { None },
                        kind: e.kind,
                        source_oin: e.source_oin,
                        recipient_oin: e.recipient_oin,
                        meeting_type: e.meeting_type,
                        purpose: e.purpose,
                        categories: e.categories,
                        article: e.article,
                        records: 0,
                    };
                    *groups.entry(key).or_default() += 1;
                }
            }
        }
        Ok(groups
            .into_iter()
            .map(|(g, records)| DecisionGroup { records, ..g })
            .collect())
    }

    /// Moves the records of a log from before bundles into bundles, writes the postings of bundles from before
    /// postings, then builds the Merkle tree of a log from before it, `chunk` records per transaction; returns its
    /// size.
    ///
    /// # Errors
    /// The database refused, or a record is missing.
    pub async fn build_tree(&self, now: &str, chunk: i64) -> Result<i64, StoreError> {
        packed::move_legacy(&self.store, now).await?;
        packed::index_unindexed(&self.store).await?;
        loop {
            let mut tx = self.store.begin().await?;
            let mut head = lock_head(tx.conn(), now).await?;
            if head.tree_size >= head.seq {
                tx.rollback().await?;
                return Ok(head.tree_size);
            }
            let seq = head.seq;
            grow_tree(&mut tx, &mut head, seq, chunk).await?;
            tx.commit().await?;
        }
    }

    /// In one transaction that holds the head: if records other than the last checkpoint's own came after the last
    /// checkpoint, asks `make` for the note over the tree as it stands (its size and root) and the record that
    /// carries it, appends that record and stores the note. Returns the stored note, if one was made.
    ///
    /// # Errors
    /// The database refused; nothing was written.
    pub(super) async fn seal_with(
        &self,
        now: &str,
        make: impl FnOnce(u64, Hash) -> (String, Entry),
    ) -> Result<Option<StoredNote>, StoreError> {
        let mut tx = self.store.begin().await?;
        let mut head = lock_head(tx.conn(), now).await?;
        let seq = head.seq;
        grow_tree(&mut tx, &mut head, seq, i64::MAX).await?;
        let last: Option<(i64, i64)> = sqlx::query_as("SELECT size, seq FROM log_notes ORDER BY size DESC LIMIT 1")
            .fetch_optional(tx.conn())
            .await?;
        let (last_size, last_seq) = last.unwrap_or((0, 0));
        let since = head.seq - last_size - i64::from(last_seq > last_size);
        if since <= 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let size = head.seq;
        let root = tiles::Reader::default().range(tx.conn(), 0, size as u64).await?;
        let (note, entry) = make(size as u64, root);
        let record = chain_after(&mut tx, head, vec![entry], now, &self.edge).await?;
        let seq = record
            .first()
            .map(|r| r.seq)
            .ok_or(StoreError::Corrupt("checkpoint record"))?;
        sqlx::query("INSERT INTO log_notes (size, seq, at, note) VALUES ($1, $2, $3, $4)")
            .bind(size)
            .bind(seq)
            .bind(now)
            .bind(&note)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(Some(StoredNote {
            size,
            seq,
            at: now.to_owned(),
            note,
        }))
    }

    /// Checkpoint notes over more than `after` records, smallest first, at most `limit`.
    pub async fn notes(&self, after: i64, limit: i64) -> Result<Vec<StoredNote>, StoreError> {
        let rows: Vec<(i64, i64, String, String)> =
            sqlx::query_as("SELECT size, seq, at, note FROM log_notes WHERE size > $1 ORDER BY size LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(StoredNote::from).collect())
    }

    /// The newest checkpoint note.
    pub async fn latest_note(&self) -> Result<Option<StoredNote>, StoreError> {
        newest_note(self.pool()).await
    }

    /// What the start-up check compares, read under the head's lock: no instance appends between the reads, so a
    /// busy second instance on the same database cannot make an intact log look torn. Nothing is written.
    ///
    /// # Errors
    /// The database refused.
    pub async fn start_snapshot(&self, now: &str) -> Result<StartSnapshot, StoreError> {
        let mut tx = self.store.begin().await?;
        let head = lock_head(tx.conn(), now).await?;
        let mut newest = Vec::new();
        for b in packed::newest(tx.conn(), 2).await? {
            newest.extend(b.records(b.last_seq - 1, b.last_seq)?.into_iter().rev());
        }
        newest.truncate(2);
        let mut reader = tiles::Reader::default();
        let covered = |lo: i64, hi: i64| lo >= 0 && lo < hi && hi <= head.tree_size;
        let last_leaf = match covered(head.seq - 1, head.seq) {
            true => reader.range(tx.conn(), head.seq as u64 - 1, head.seq as u64).await.ok(),
            false => None,
        };
        let latest_note = newest_note(tx.conn()).await?;
        let (note_record, note_root) = match &latest_note {
            Some(n) => {
                let root = match covered(0, n.size) {
                    true => reader.range(tx.conn(), 0, n.size as u64).await.ok(),
                    false => None,
                };
                (record_at(tx.conn(), n.seq).await?, root)
            }
            None => (None, None),
        };
        tx.rollback().await?;
        Ok(StartSnapshot {
            head: (head.seq, head.hash),
            tree_size: head.tree_size,
            newest,
            last_leaf,
            latest_note,
            note_record,
            note_root,
        })
    }

    /// The note over exactly `size` records.
    pub async fn note(&self, size: i64) -> Result<Option<StoredNote>, StoreError> {
        let row: Option<(i64, i64, String, String)> =
            sqlx::query_as("SELECT size, seq, at, note FROM log_notes WHERE size = $1")
                .bind(size)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(StoredNote::from))
    }

    /// The number of records the tree covers.
    pub async fn tree_size(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT tree_size FROM log_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?)
    }

    /// The hashes of `ranges` of leaves, in order, from the tiles.
    ///
    /// # Errors
    /// The database refused, or the tiles do not cover a range.
    pub async fn range_hashes(&self, ranges: &[(u64, u64)]) -> Result<Vec<Hash>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let mut reader = tiles::Reader::default();
        reader.prefetch(&mut conn, ranges).await?;
        let mut out = Vec::with_capacity(ranges.len());
        for &(lo, hi) in ranges {
            out.push(reader.range(&mut conn, lo, hi).await?);
        }
        Ok(out)
    }

    /// The root of the tree over the first `size` records, from the tiles.
    ///
    /// # Errors
    /// As [`Records::range_hashes`].
    pub async fn root(&self, size: u64) -> Result<Hash, StoreError> {
        Ok(self
            .range_hashes(&[(0, size)])
            .await?
            .pop()
            .unwrap_or_else(merkle::empty_root))
    }

    /// Every stored tile of `level` with index in `[from, to)`, as (index, hashes).
    pub async fn tiles(&self, level: u32, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, hashes FROM log_tiles WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
        )
        .bind(i64::from(level))
        .bind(from as i64)
        .bind(to as i64)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(i, h)| (i as u64, h)).collect())
    }

    /// One record.
    pub async fn record(&self, seq: i64) -> Result<Option<Record>, StoreError> {
        record_at(self.pool(), seq).await
    }

    /// The witness pinned for `oin`.
    pub async fn witness(&self, oin: &str) -> Result<Option<Witness>, StoreError> {
        Ok(
            sqlx::query_as("SELECT oin, name, public_key, since FROM log_witnesses WHERE oin = $1")
                .bind(oin)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Every organisation's pinned witness.
    pub async fn witnesses(&self) -> Result<Vec<Witness>, StoreError> {
        Ok(
            sqlx::query_as("SELECT oin, name, public_key, since FROM log_witnesses ORDER BY oin")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Pins `oin`'s witness key at its first cosignature and stores the cosignature; `false` when `oin` already
    /// cosigned the checkpoint of `size`.
    pub async fn add_cosignature(
        &self,
        oin: &str,
        (name, public_key): (&str, &str),
        size: i64,
        line: &str,
        now: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.store.begin().await?;
        sqlx::query(
            "INSERT INTO log_witnesses (oin, name, public_key, since) VALUES ($1, $2, $3, $4) ON CONFLICT (oin) DO NOTHING",
        )
        .bind(oin)
        .bind(name)
        .bind(public_key)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let added = sqlx::query(
            "INSERT INTO log_cosignatures (size, oin, line, at) VALUES ($1, $2, $3, $4) ON CONFLICT (size, oin) DO NOTHING",
        )
        .bind(size)
        .bind(oin)
        .bind(line)
        .bind(now)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(added == 1)
    }

    /// The cosignature lines over the checkpoint of `size`, with who made them: (oin, line).
    pub async fn cosignatures(&self, size: i64) -> Result<Vec<(String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT oin, line FROM log_cosignatures WHERE size = $1 ORDER BY oin")
                .bind(size)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Checkpoints of the hash chain from before the tree (`log_checkpoints`, no longer written) with `seq > after`,
    /// oldest first, at most `limit`.
    pub async fn checkpoints(&self, after: i64, limit: i64) -> Result<Vec<Checkpoint>, StoreError> {
        let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, at, head_hash, public_key, signature FROM log_checkpoints WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, at, head_hash, public_key, signature)| Checkpoint {
                seq,
                at,
                head_hash,
                public_key,
                signature,
            })
            .collect())
    }

    /// The hash of record `seq`, if it exists.
    pub async fn record_hash(&self, seq: i64) -> Result<Option<String>, StoreError> {
        Ok(self.record(seq).await?.map(|r| r.hash))
    }

    /// Whether a write transaction can commit now (the log's health probe).
    pub(super) async fn probe_write(&self, now: &str) -> Result<(), StoreError> {
        let mut tx = self.store.begin().await?;
        sqlx::query("UPDATE log_head SET locked_at = $1 WHERE id = 1")
            .bind(now)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The head, the newest records and the newest checkpoint, read at one moment ([`Records::start_snapshot`]).
#[derive(Debug)]
pub struct StartSnapshot {
    /// Sequence number and hash the head names.
    pub head: (i64, String),
    pub tree_size: i64,
    /// The newest two records, newest first.
    pub newest: Vec<Record>,
    /// The tree's leaf for the head's record, if the tiles hold it.
    pub last_leaf: Option<Hash>,
    pub latest_note: Option<StoredNote>,
    /// The record that carries the newest note, if it exists.
    pub note_record: Option<Record>,
    /// The tree's root over the newest note's size, if the tiles hold it.
    pub note_root: Option<Hash>,
}

/// An organisation's witness, pinned at its first cosignature.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Witness {
    pub oin: String,
    /// The name in its cosignature lines.
    pub name: String,
    /// Ed25519, base64.
    pub public_key: String,
    pub since: String,
}

/// A checkpoint note as stored: over the first `size` records, carried by record `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StoredNote {
    pub size: i64,
    pub seq: i64,
    pub at: String,
    /// The signed note (`c2sp.org/tlog-checkpoint`).
    pub note: String,
}

impl From<(i64, i64, String, String)> for StoredNote {
    fn from((size, seq, at, note): (i64, i64, String, String)) -> Self {
        StoredNote { size, seq, at, note }
    }
}

/// Records appended together, decided on the facts of generation `basis` (`None`: read in the deciding request,
/// so current enough).
#[derive(Debug, Clone)]
pub struct Batch {
    pub basis: Option<i64>,
    pub entries: Vec<Entry>,
}

/// The locked chain head and the facts generation it was locked at.
pub(super) struct Head {
    pub seq: i64,
    hash: String,
    generation: i64,
    /// Records the Merkle tree's tiles cover; behind `seq` only for a log from before the tree, until it is built.
    pub tree_size: i64,
}

/// Locks the head row and reads it with the facts generation: one statement, one round trip per batch. A change
/// to the facts committed before this statement began shows in the generation it reads; one that commits while the
/// statement waits for the head was concurrent with the read it records, as it would be without a cache.
pub(super) async fn lock_head(conn: &mut AnyConnection, now: &str) -> Result<Head, StoreError> {
    let (seq, hash, generation, tree_size): (i64, String, i64, i64) = sqlx::query_as(
        "UPDATE log_head SET locked_at = $1 WHERE id = 1 \
         RETURNING seq, hash, (SELECT generation FROM facts_generation WHERE id = 1), tree_size",
    )
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(Head {
        seq,
        hash,
        generation,
        tree_size,
    })
}

/// The newest checkpoint note, through `db` (the pool, or a transaction's connection).
async fn newest_note<'e>(db: impl sqlx::Executor<'e, Database = Any>) -> Result<Option<StoredNote>, StoreError> {
    let row: Option<(i64, i64, String, String)> =
        sqlx::query_as("SELECT size, seq, at, note FROM log_notes ORDER BY size DESC LIMIT 1")
            .fetch_optional(db)
            .await?;
    Ok(row.map(StoredNote::from))
}

/// Record `seq`, through `db`.
async fn record_at<'e>(db: impl sqlx::Executor<'e, Database = Any>, seq: i64) -> Result<Option<Record>, StoreError> {
    let Some(b) = packed::holding(db, seq).await? else {
        return Ok(None);
    };
    Ok(b.records(seq, seq)?.pop())
}

/// Adds to the tree the records in `(head.tree_size, up_to]`, read back from the log (a log from before the tree),
/// at most `limit` of them.
pub(super) async fn grow_tree(tx: &mut Tx, head: &mut Head, up_to: i64, limit: i64) -> Result<(), StoreError> {
    let up_to = up_to.min(head.tree_size.saturating_add(limit));
    while head.tree_size < up_to {
        let bundles = packed::after(tx.conn(), head.tree_size, 256).await?;
        let mut leaves = Vec::new();
        let mut seq = head.tree_size;
        'read: for b in &bundles {
            let packed = b.packed()?;
            let parts = super::bundle::split(&packed).ok_or(StoreError::Corrupt("log bundle"))?;
            for (part, at) in parts.iter().zip(b.first_seq..) {
                if at <= seq {
                    continue;
                }
                if at != seq + 1 || super::bundle::peek(part, "").map(|p| p.seq) != Some(at) {
                    return Err(StoreError::Corrupt("log record missing"));
                }
                if at > up_to {
                    break 'read;
                }
                leaves.push(leaf_hash(part));
                seq = at;
            }
        }
        if leaves.is_empty() {
            return Err(StoreError::Corrupt("log record missing"));
        }
        let backend = tx.backend();
        tiles::append(tx.conn(), backend, head.tree_size as u64, leaves).await?;
        head.tree_size = seq;
        sqlx::query("UPDATE log_head SET tree_size = $1 WHERE id = 1")
            .bind(seq)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Locks the head row, chains `entries` after it, inserts them and moves the head — inside the caller's
/// transaction.
pub(super) async fn append_in(tx: &mut Tx, entries: Vec<Entry>, now: &str) -> Result<Vec<Record>, StoreError> {
    let head = lock_head(tx.conn(), now).await?;
    chain_after(tx, head, entries, now, &KeptEdge::default()).await
}

/// Chains `entries` after the locked `head` and writes them in one statement: their bundles and postings, the
/// tiles they change, and the head moved past them. `kept` is the tree's right edge as an earlier append left it;
/// it is used only if the head still has the hash it was kept at, and is replaced by the edge this append leaves.
/// If the transaction is then rolled back, the kept edge names a head hash the database does not have, so it is
/// not used.
async fn chain_after(
    tx: &mut Tx,
    mut head: Head,
    entries: Vec<Entry>,
    now: &str,
    kept: &KeptEdge,
) -> Result<Vec<Record>, StoreError> {
    let seq = head.seq;
    grow_tree(tx, &mut head, seq, i64::MAX).await?;
    let mut seq = head.seq;
    let mut prev = parse_hash(&head.hash).ok_or(StoreError::Corrupt("log head hash"))?;
    let mut records = Vec::with_capacity(entries.len());
    let mut encodings = Vec::with_capacity(entries.len());
    let mut leaves = Vec::with_capacity(entries.len());
    for entry in entries {
        seq += 1;
        let (record, encoding, leaf) = Record::chained(entry, seq, now.to_owned(), &prev);
        prev = parse_hash(&record.hash).ok_or(StoreError::Corrupt("record hash"))?;
        records.push(record);
        encodings.push(encoding);
        leaves.push(leaf);
    }
    let Some(last) = records.last() else {
        return Ok(records);
    };
    let held = take_kept(kept).filter(|(hash, edge)| *hash == head.hash && edge.size() == head.tree_size as u64);
    let mut edge = match held {
        Some((_, edge)) => edge,
        None => Edge::read(tx.conn(), head.tree_size as u64).await?,
    };
    let mut q = Sql::new(tx.backend(), "");
    packed::write_into(&mut q, &records, &encodings)?;
    tiles::write_into(&mut q, &edge.extend(leaves));
    q.then()
        .push("UPDATE log_head SET seq = ")
        .int(last.seq)
        .push(", hash = ")
        .text(&last.hash)
        .push(", tree_size = ")
        .int(last.seq)
        .push(" WHERE id = 1");
    q.execute(tx.conn()).await?;
    put_kept(kept, (last.hash.clone(), edge));
    Ok(records)
}

fn take_kept(kept: &KeptEdge) -> Option<(String, Edge)> {
    kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
}

fn put_kept(kept: &KeptEdge, edge: (String, Edge)) {
    *kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(edge);
}

/// The stretch of bundles a scan may still read, and how it moves on.
struct Window {
    /// Bundles with `first_seq` in `[lo, hi]`.
    lo: i64,
    hi: i64,
    descending: bool,
}

impl Window {
    /// The bundles that may hold records of `filter` beyond `bound`; `None` when none can (a period with no
    /// records). A period is turned into the range of bundles of that time by the index on `at`.
    async fn of(
        conn: &mut AnyConnection,
        backend: Backend,
        filter: &LogFilter,
        bound: i64,
        descending: bool,
    ) -> Result<Option<Window>, StoreError> {
        // A bundle holds at most MAX_RECORDS records, so one that starts this far back may hold records after `bound`.
        let reach = super::bundle::MAX_RECORDS as i64;
        let (mut lo, mut hi) = match descending {
            true => (0, bound.saturating_sub(1)),
            false => (bound.saturating_sub(reach).max(0), i64::MAX),
        };
        if let Some(through) = filter.through {
            hi = hi.min(through);
        }
        if filter.from.is_some() || filter.to.is_some() {
            let mut q = Sql::new(
                backend,
                "SELECT MIN(first_seq), MAX(first_seq) FROM log_bundles WHERE true",
            );
            if let Some(from) = &filter.from {
                q.push(" AND at >= ").text(from);
            }
            if let Some(to) = &filter.to {
                q.push(" AND at < ").text(to);
            }
            let row = q.fetch_all(&mut *conn).await?;
            let range: Option<(Option<i64>, Option<i64>)> = row
                .first()
                .map(|r| Ok::<_, sqlx::Error>((sqlx::Row::try_get(r, 0)?, sqlx::Row::try_get(r, 1)?)))
                .transpose()?;
            let Some((Some(first), Some(last))) = range else {
                return Ok(None);
            };
            (lo, hi) = (lo.max(first), hi.min(last));
        }
        Ok((lo <= hi).then_some(Window { lo, hi, descending }))
    }

    /// The next bundles in the window that have a posting of one of `keys` (any bundle without keys), in scan
    /// order, and moves the window past them; empty when the window is done.
    async fn next_ids(
        &mut self,
        conn: &mut AnyConnection,
        backend: Backend,
        keys: Option<&Vec<i64>>,
    ) -> Result<Vec<i64>, StoreError> {
        if self.lo > self.hi {
            return Ok(Vec::new());
        }
        let order = if self.descending { "DESC" } else { "ASC" };
        let mut ids = BTreeSet::new();
        let sources: Vec<Option<i64>> = match keys {
            Some(keys) => keys.iter().copied().map(Some).collect(),
            None => vec![None],
        };
        // One query per key, each in index order, merged: an IN list would sort every posting of every key.
        for key in sources {
            let mut q = match key {
                Some(key) => {
                    let mut q = Sql::new(backend, "SELECT bundle FROM log_postings WHERE ");
                    match backend {
                        Backend::Sqlite => q.push("key = ").int(key),
                        Backend::Postgres => q.push("keys @> ARRAY[").int(key).push("]::bigint[]"),
                    };
                    q.push(" AND bundle >= ");
                    q
                }
                None => Sql::new(backend, "SELECT first_seq FROM log_bundles WHERE first_seq >= "),
            };
            let column = if key.is_some() { "bundle" } else { "first_seq" };
            q.int(self.lo)
                .push(&format!(" AND {column} <= "))
                .int(self.hi)
                .push(&format!(" ORDER BY {column} {order} LIMIT "))
                .int(QUERY_PAGE);
            for row in q.fetch_all(&mut *conn).await? {
                ids.insert(sqlx::Row::try_get::<i64, _>(&row, 0)?);
            }
        }
        let page: Vec<i64> = match self.descending {
            true => ids.into_iter().rev().take(QUERY_PAGE as usize).collect(),
            false => ids.into_iter().take(QUERY_PAGE as usize).collect(),
        };
        match (self.descending, page.last()) {
            (_, None) => self.lo = self.hi.saturating_add(1),
            (true, Some(&last)) => self.hi = last - 1,
            (false, Some(&last)) => self.lo = last + 1,
        }
        Ok(page)
    }
}

/// The bundles `ids` that also have, for each of `groups`, a posting of one of its keys; in `first_seq` order.
async fn read_candidates(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[i64],
    groups: &[Vec<i64>],
) -> Result<Vec<Bundle>, StoreError> {
    let mut q = Sql::new(
        backend,
        &format!("SELECT {BUNDLE_COLUMNS} FROM log_bundles b WHERE first_seq IN ("),
    );
    for (i, id) in ids.iter().enumerate() {
        q.comma(i).int(*id);
    }
    q.push(")");
    for group in groups {
        q.push(" AND EXISTS (SELECT 1 FROM log_postings p WHERE p.bundle = b.first_seq AND ");
        q.push(match backend {
            Backend::Sqlite => "p.key IN (",
            Backend::Postgres => "p.keys && ARRAY[",
        });
        for (i, key) in group.iter().enumerate() {
            q.comma(i).int(*key);
        }
        q.push(match backend {
            Backend::Sqlite => "))",
            Backend::Postgres => "]::bigint[])",
        });
    }
    q.push(" ORDER BY first_seq");
    q.fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok(<Bundle as sqlx::FromRow<AnyRow>>::from_row(row)?))
        .collect()
}

/// Recorded decisions alike in everything the covenant decides on, and how many records there are of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DecisionGroup {
    pub kind: Kind,
    pub source_oin: Option<String>,
    pub recipient_oin: Option<String>,
    pub meeting_type: Option<String>,
    pub purpose: Option<String>,
    pub categories: Vec<String>,
    /// The article(s) recorded, `; ` between them.
    pub article: Option<String>,
    /// A refusal's reason, `code: why`.
    pub reason: Option<String>,
    pub records: i64,
}

/// One row of `log_records`, the table of a log from before bundles.
#[derive(sqlx::FromRow)]
struct LegacyRow {
    seq: i64,
    at: String,
    kind: String,
    source_oin: Option<String>,
    recipient_oin: Option<String>,
    actor_oin: Option<String>,
    actor_sub: Option<String>,
    case_id: Option<String>,
    subject: Option<String>,
    meeting_id: Option<String>,
    meeting_type: Option<String>,
    purpose: Option<String>,
    categories: String,
    covenant_version: Option<String>,
    article: Option<String>,
    request_id: Option<String>,
    content_digest: Option<String>,
    decision: String,
    reason: Option<String>,
    action: Option<String>,
    target: Option<String>,
    detail: Option<String>,
    trace_id: Option<String>,
    span_id: Option<String>,
    prev_hash: String,
    hash: String,
}

impl LegacyRow {
    fn into_record(self) -> Result<Record, StoreError> {
        Ok(Record {
            seq: self.seq,
            at: self.at,
            entry: Entry {
                // An unknown kind is reported, not dropped: `audit verify` must see every row.
                kind: Kind::parse(&self.kind).ok_or(StoreError::Corrupt("record kind"))?,
                source_oin: self.source_oin,
                recipient_oin: self.recipient_oin,
                actor_oin: self.actor_oin,
                actor_sub: self.actor_sub,
                case_id: self.case_id,
                subject: self.subject,
                meeting_id: self.meeting_id,
                meeting_type: self.meeting_type,
                purpose: self.purpose,
                categories: serde_json::from_str(&self.categories)
                    .map_err(|_| StoreError::Corrupt("record categories"))?,
                covenant_version: self.covenant_version,
                article: self.article,
                request_id: self.request_id,
                content_digest: self.content_digest,
                decision: Verdict::parse(&self.decision).ok_or(StoreError::Corrupt("record decision"))?,
                reason: self.reason,
                action: self.action,
                target: self.target,
                detail: self.detail,
                trace_id: self.trace_id,
                span_id: self.span_id,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// A record from a row of `log_records` (a log from before bundles).
pub(super) fn record_of(row: &AnyRow) -> Result<Record, StoreError> {
    <LegacyRow as sqlx::FromRow<AnyRow>>::from_row(row)?.into_record()
}
