//! The records' storage in the database: entry bundles (`log_bundles`, see [`super::bundle`]) and the narrow index
//! rows queries select on (`log_index`, its texts as ids of `log_terms`). Appending writes both in the caller's
//! transaction, which holds the head; reading turns bundles back into records, their chain hashes computed from
//! the hash each bundle keeps of the record before it.
use sqlx::{Any, AnyConnection};
use std::collections::{BTreeSet, HashMap};

use super::bundle::{self, MAX_RECORDS};
use super::chain::{chain_hash, parse_hash, to_array, Kind, Record, Verdict, GENESIS};
use super::merkle::Hash;
use crate::store::{Backend, StoreError, Tx};

/// One row of `log_bundles`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Bundle {
    pub first_seq: i64,
    pub last_seq: i64,
    /// The time every record of the bundle carries.
    pub at: String,
    /// The chain hash of the record before the first.
    pub prev: Vec<u8>,
    pub data: Vec<u8>,
}

impl Bundle {
    /// Its records with sequence numbers in `[from, to]`, chained from `prev`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the bundle does not hold consecutive records from `first_seq`.
    pub fn records(&self, from: i64, to: i64) -> Result<Vec<Record>, StoreError> {
        let corrupt = || StoreError::Corrupt("log bundle");
        let parts = bundle::split(&self.data).ok_or_else(corrupt)?;
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
        .ok_or(StoreError::Corrupt("log bundle"))
}

const BUNDLE_COLUMNS: &str = "first_seq, last_seq, at, prev, data";

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

/// The bundles whose first records are `firsts`.
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

/// Writes `records` (consecutive, chained, with their `encodings`) as bundles and index rows. A bundle holds at
/// most [`MAX_RECORDS`] records, all of one time.
pub async fn write(tx: &mut Tx, records: &[Record], encodings: &[Vec<u8>]) -> Result<(), StoreError> {
    let pairs: Vec<(&Record, &Vec<u8>)> = records.iter().zip(encodings).collect();
    for same_time in pairs.chunk_by(|a, b| a.0.at == b.0.at) {
        for group in same_time.chunks(MAX_RECORDS) {
            let (Some(&(first, _)), Some(&(last, _))) = (group.first(), group.last()) else {
                continue;
            };
            let prev = parse_hash(&first.prev_hash).ok_or(StoreError::Corrupt("record hash"))?;
            sqlx::query("INSERT INTO log_bundles (first_seq, last_seq, at, prev, data) VALUES ($1, $2, $3, $4, $5)")
                .bind(first.seq)
                .bind(last.seq)
                .bind(&first.at)
                .bind(prev.to_vec())
                .bind(bundle::pack(group.iter().map(|(_, e)| e.as_slice())))
                .execute(tx.conn())
                .await?;
            let group: Vec<&Record> = group.iter().map(|&(r, _)| r).collect();
            index(tx, &group, first.seq).await?;
        }
    }
    Ok(())
}

/// The code `log_index.kind` stores for `kind`.
pub fn kind_code(kind: Kind) -> i64 {
    match kind {
        Kind::Disclosure => 1,
        Kind::Refusal => 2,
        Kind::Lookup => 3,
        Kind::Admin => 4,
    }
}

/// The index rows of the records of one bundle, and the terms they name.
async fn index(tx: &mut Tx, records: &[&Record], bundle: i64) -> Result<(), StoreError> {
    fn texts(r: &Record) -> [Option<&str>; 5] {
        let e = &r.entry;
        [&e.subject, &e.case_id, &e.source_oin, &e.recipient_oin, &e.action].map(Option::as_deref)
    }
    let terms: BTreeSet<&str> = records.iter().flat_map(|r| texts(r).into_iter().flatten()).collect();
    let ids = term_ids(tx, &terms).await?;
    let id = |t: Option<&str>| {
        t.and_then(|t| ids.get(t))
            .map_or(serde_json::Value::Null, |&i| i.into())
    };
    let rows: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let mut row = vec![
                serde_json::Value::from(r.seq),
                serde_json::Value::from(bundle),
                serde_json::Value::from(kind_code(r.entry.kind)),
                serde_json::Value::from(i64::from(r.entry.decision == Verdict::Allow)),
            ];
            row.extend(texts(r).map(id));
            serde_json::Value::Array(row)
        })
        .collect();
    sqlx::query(index_sql(tx.backend()))
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The ids of `terms` in `log_terms`, adding those it does not hold yet: two statements for a bundle, however many
/// records name them.
async fn term_ids(tx: &mut Tx, terms: &BTreeSet<&str>) -> Result<HashMap<String, i64>, StoreError> {
    if terms.is_empty() {
        return Ok(HashMap::new());
    }
    let list = serde_json::to_string(terms).map_err(|_| StoreError::Corrupt("log terms"))?;
    let (add, read) = match tx.backend() {
        Backend::Sqlite => (
            "INSERT INTO log_terms (term) SELECT value FROM json_each(?1) WHERE true ON CONFLICT (term) DO NOTHING",
            "SELECT id, term FROM log_terms WHERE term IN (SELECT value FROM json_each(?1))",
        ),
        Backend::Postgres => (
            "INSERT INTO log_terms (term) SELECT t FROM jsonb_array_elements_text($1::jsonb) AS t(t) \
             ON CONFLICT (term) DO NOTHING",
            "SELECT id, term FROM log_terms WHERE term IN (SELECT jsonb_array_elements_text($1::jsonb))",
        ),
    };
    sqlx::query(add).bind(&list).execute(tx.conn()).await?;
    let rows: Vec<(i64, String)> = sqlx::query_as(read).bind(&list).fetch_all(tx.conn()).await?;
    Ok(rows.into_iter().map(|(id, term)| (term, id)).collect())
}

/// One statement for a bundle's index rows, from one JSON parameter: `[seq, bundle, kind, allowed, subject,
/// case_id, source_oin, recipient_oin, action]` per record, the texts as their ids in `log_terms`.
fn index_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "INSERT INTO log_index (seq, bundle, kind, allowed, subject, case_id, source_oin, recipient_oin, action) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, \
             value ->> 7, value ->> 8 FROM json_each(?1)"
        }
        Backend::Postgres => {
            "INSERT INTO log_index (seq, bundle, kind, allowed, subject, case_id, source_oin, recipient_oin, action) \
             SELECT (r ->> 0)::bigint, (r ->> 1)::bigint, (r ->> 2)::smallint, (r ->> 3)::smallint, \
             (r ->> 4)::bigint, (r ->> 5)::bigint, (r ->> 6)::bigint, (r ->> 7)::bigint, (r ->> 8)::bigint \
             FROM jsonb_array_elements($1::jsonb) AS rows(r)"
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
        write(&mut tx, &records, &encodings).await?;
        let last = expected - 1;
        sqlx::query("DELETE FROM log_records WHERE seq <= $1")
            .bind(last)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        moved += records.len() as i64;
    }
}
