//! The records' storage in the database: entry bundles (`log_bundles`, see [`super::bundle`]) and the postings
//! queries narrow them by (`log_postings`: one row per bundle and term, see [`super::filter`]). Appending adds both
//! to the statement that writes the caller's batch, inside the transaction that holds the head; reading turns
//! bundles back into records, their chain hashes computed from the hash each bundle keeps of the record before it.
use sqlx::{Any, AnyConnection};
use std::borrow::Cow;
use std::collections::BTreeSet;

use super::bundle::{self, Codec, MAX_RECORDS};
use super::chain::{chain_hash, parse_hash, to_array, Record, GENESIS};
use super::filter::keys_of;
use super::merkle::Hash;
use super::statement::Sql;
use crate::store::{Backend, StoreError};

/// One row of `log_bundles`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Bundle {
    pub first_seq: i64,
    pub last_seq: i64,
    /// The time every record of the bundle carries.
    pub at: String,
    /// The chain hash of the record before the first.
    pub prev: Vec<u8>,
    /// How `data` holds the packed encodings ([`Codec`]).
    pub codec: i64,
    pub data: Vec<u8>,
}

fn corrupt() -> StoreError {
    StoreError::Corrupt("log bundle")
}

impl Bundle {
    /// Its encodings packed one after another ([`bundle::pack`]).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when `data` cannot be opened.
    pub fn packed(&self) -> Result<Cow<'_, [u8]>, StoreError> {
        bundle::open(self.codec, &self.data).ok_or_else(corrupt)
    }

    /// Its records with sequence numbers in `[from, to]`, chained from `prev`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the bundle does not hold consecutive records from `first_seq`.
    pub fn records(&self, from: i64, to: i64) -> Result<Vec<Record>, StoreError> {
        let packed = self.packed()?;
        let parts = bundle::split(&packed).ok_or_else(corrupt)?;
        let mut prev: Hash = (self.prev.len() == 32)
            .then(|| to_array(&self.prev))
            .ok_or_else(corrupt)?;
        let mut out = Vec::new();
        for (part, seq) in parts.iter().zip(self.first_seq..=to) {
            if seq < from {
                // Only its hash is needed, for the chain of the records after it.
                prev = chain_hash(&prev, part);
                continue;
            }
            let r = Record::decoded(part, &prev)
                .filter(|r| r.seq == seq)
                .ok_or_else(corrupt)?;
            prev = parse_hash(&r.hash).ok_or_else(corrupt)?;
            out.push(r);
        }
        Ok(out)
    }
}

/// The chain hash of the bundle's last record.
pub fn last_hash(b: &Bundle) -> Result<Hash, StoreError> {
    b.records(b.last_seq, b.last_seq)?
        .first()
        .and_then(|r| parse_hash(&r.hash))
        .ok_or_else(corrupt)
}

pub(super) const BUNDLE_COLUMNS: &str = "first_seq, last_seq, at, prev, codec, data";

/// Bundles with records after `after`, in order, at most `limit`, through `db`.
pub async fn after<'e>(
    db: impl sqlx::Executor<'e, Database = Any>,
    after: i64,
    limit: i64,
) -> Result<Vec<Bundle>, StoreError> {
    // A range on the primary key from the bundle that holds record `after + 1`: `last_seq` has no index, and a
    // filter on it alone would scan the table from its start for every page.
    Ok(sqlx::query_as(&format!(
        "SELECT {BUNDLE_COLUMNS} FROM log_bundles WHERE first_seq >= \
         COALESCE((SELECT MAX(first_seq) FROM log_bundles WHERE first_seq <= $1 + 1), 0) \
         AND last_seq > $1 ORDER BY first_seq LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// The bundle that holds record `seq`, if any, through `db`.
pub async fn holding<'e>(db: impl sqlx::Executor<'e, Database = Any>, seq: i64) -> Result<Option<Bundle>, StoreError> {
    let b: Option<Bundle> = sqlx::query_as(&format!(
        "SELECT {BUNDLE_COLUMNS} FROM log_bundles WHERE first_seq <= $1 ORDER BY first_seq DESC LIMIT 1"
    ))
    .bind(seq)
    .fetch_optional(db)
    .await?;
    Ok(b.filter(|b| b.last_seq >= seq))
}

/// The newest `n` bundles, newest first, through `db`.
pub async fn newest<'e>(db: impl sqlx::Executor<'e, Database = Any>, n: i64) -> Result<Vec<Bundle>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {BUNDLE_COLUMNS} FROM log_bundles ORDER BY first_seq DESC LIMIT $1"
    ))
    .bind(n)
    .fetch_all(db)
    .await?)
}

/// The bundles whose first records are `firsts`, in order, through `conn`.
pub async fn by_first(conn: &mut AnyConnection, firsts: &BTreeSet<i64>) -> Result<Vec<Bundle>, StoreError> {
    if firsts.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = firsts.iter().map(i64::to_string).collect();
    // Integers the database gave us, so they are written into the text rather than bound one by one.
    Ok(sqlx::query_as(&format!(
        "SELECT {BUNDLE_COLUMNS} FROM log_bundles WHERE first_seq IN ({}) ORDER BY first_seq",
        list.join(", ")
    ))
    .fetch_all(conn)
    .await?)
}

/// Adds to `q` the statements that store `records` (consecutive, chained, with their `encodings`) as bundles of
/// at most [`MAX_RECORDS`] records of one time, compressed, with their postings.
///
/// # Errors
/// [`StoreError::Corrupt`] when a record's previous hash is malformed; nothing was added then.
pub(super) fn write_into(q: &mut Sql, records: &[Record], encodings: &[Vec<u8>]) -> Result<(), StoreError> {
    let pairs: Vec<(&Record, &Vec<u8>)> = records.iter().zip(encodings).collect();
    let mut rows = Vec::new();
    for same_time in pairs.chunk_by(|a, b| a.0.at == b.0.at) {
        for group in same_time.chunks(MAX_RECORDS) {
            let (Some(&(first, _)), Some(&(last, _))) = (group.first(), group.last()) else {
                continue;
            };
            let prev = parse_hash(&first.prev_hash).ok_or(StoreError::Corrupt("record hash"))?;
            let packed = bundle::pack(group.iter().map(|(_, e)| e.as_slice()));
            let data = bundle::compress(&packed).ok_or(StoreError::Corrupt("log bundle compression"))?;
            let keys = keys_of(group.iter().map(|(r, _)| &r.entry));
            rows.push((first, last.seq, prev, data, keys));
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    q.then()
        .push("INSERT INTO log_bundles (first_seq, last_seq, at, prev, codec, data) VALUES ");
    for (i, (first, last, prev, data, _)) in rows.iter_mut().enumerate() {
        q.comma(i)
            .push("(")
            .int(first.seq)
            .push(", ")
            .int(*last)
            .push(", ")
            .text(&first.at)
            .push(", ")
            .blob(prev.to_vec())
            .push(", ")
            .int(Codec::Zstd.code())
            .push(", ")
            .blob(std::mem::take(data))
            .push(")");
    }
    for (first, _, _, _, keys) in &rows {
        postings_into(q, first.seq, keys);
    }
    Ok(())
}

/// Adds to `q` the statement that stores the postings `keys` of the bundle that starts at `bundle`: on SQLite a row
/// per key (the keys as one JSON array of integers, which SQLite unpacks without parsing text again), on
/// PostgreSQL one row with the keys as an array (`log_postings.keys`, under a GIN index).
fn postings_into(q: &mut Sql, bundle: i64, keys: &[i64]) {
    let list: Vec<String> = keys.iter().map(i64::to_string).collect();
    match q.backend() {
        Backend::Sqlite => q
            .then()
            .push("INSERT INTO log_postings (key, bundle) SELECT value, ")
            .int(bundle)
            .push(" FROM json_each(")
            .text(&format!("[{}]", list.join(",")))
            .push(") WHERE true ON CONFLICT DO NOTHING"),
        Backend::Postgres => q
            .then()
            .push("INSERT INTO log_postings (bundle, keys) VALUES (")
            .int(bundle)
            .push(", ")
            .text(&format!("{{{}}}", list.join(",")))
            .push("::bigint[]) ON CONFLICT (bundle) DO NOTHING"),
    };
}

/// Bundles indexed per transaction when a log from before postings is indexed.
const INDEX_CHUNK: i64 = 512;

/// Writes the postings of bundles written before postings existed (those with `first_seq` up to
/// `log_head.unindexed`), newest first, a chunk per transaction; returns how many bundles were indexed.
///
/// # Errors
/// The database refused, or a bundle cannot be read.
pub async fn index_unindexed(store: &crate::store::Store) -> Result<i64, StoreError> {
    let mut indexed = 0;
    loop {
        let mut tx = store.begin().await?;
        let below: i64 = sqlx::query_scalar("SELECT unindexed FROM log_head WHERE id = 1")
            .fetch_one(tx.conn())
            .await?;
        let bundles: Vec<Bundle> = sqlx::query_as(&format!(
            "SELECT {BUNDLE_COLUMNS} FROM log_bundles WHERE first_seq <= $1 ORDER BY first_seq DESC LIMIT $2"
        ))
        .bind(below)
        .bind(INDEX_CHUNK)
        .fetch_all(tx.conn())
        .await?;
        let mut q = Sql::new(tx.backend(), "");
        for b in &bundles {
            let records = b.records(b.first_seq, b.last_seq)?;
            postings_into(&mut q, b.first_seq, &keys_of(records.iter().map(|r| &r.entry)));
        }
        let rest = bundles.last().map_or(0, |b| b.first_seq - 1);
        q.then()
            .push("UPDATE log_head SET unindexed = ")
            .int(rest)
            .push(" WHERE id = 1");
        q.execute(tx.conn()).await?;
        tx.commit().await?;
        indexed += bundles.len() as i64;
        if rest == 0 {
            return Ok(indexed);
        }
    }
}

/// Legacy rows moved per transaction.
const MOVE_CHUNK: i64 = 4096;

/// Moves the rows of `log_records` (a log from before bundles) into bundles, oldest first, one chunk per
/// transaction that holds the head; each moved row must follow its chain from the records before it. Returns
/// how many rows were moved.
///
/// # Errors
/// The database refused, or a row does not follow its chain: nothing of that chunk moves, and the log is not
/// served (the start-up check fails on it).
pub async fn move_legacy(store: &crate::store::Store, now: &str) -> Result<i64, StoreError> {
    let mut moved = 0;
    loop {
        let mut tx = store.begin().await?;
        super::sql::lock_head(tx.conn(), now).await?;
        let rows = sqlx::query("SELECT * FROM log_records ORDER BY seq LIMIT $1")
            .bind(MOVE_CHUNK)
            .fetch_all(tx.conn())
            .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(moved);
        }
        let records = rows.iter().map(super::sql::record_of).collect::<Result<Vec<_>, _>>()?;
        let (mut prev, mut expected) = match newest(tx.conn(), 1).await?.first() {
            Some(b) => (last_hash(b)?, b.last_seq + 1),
            None => (GENESIS, 1),
        };
        let mut encodings = Vec::with_capacity(records.len());
        for r in &records {
            let encoding = r.encode();
            let follows = r.seq == expected && parse_hash(&r.prev_hash) == Some(prev);
            if !follows || parse_hash(&r.hash) != Some(chain_hash(&prev, &encoding)) {
                return Err(StoreError::Corrupt(
                    "a log record from before bundles does not follow its chain",
                ));
            }
            prev = parse_hash(&r.hash).unwrap_or(GENESIS);
            expected += 1;
            encodings.push(encoding);
        }
        let mut q = Sql::new(tx.backend(), "");
        write_into(&mut q, &records, &encodings)?;
        q.then().push("DELETE FROM log_records WHERE seq <= ").int(expected - 1);
        q.execute(tx.conn()).await?;
        tx.commit().await?;
        moved += records.len() as i64;
    }
}
