//! Where the Merkle tree's hashes are kept: tiles in the manner of `c2sp.org/tlog-tiles`. A tile of level `L`
//! holds up to 64 consecutive hashes of tree level `6·L` (level 0: the leaves); when a tile fills, the root of its
//! 64 hashes becomes the next entry of level `L + 1`. Only the right-most tile of a level is ever rewritten, so a
//! subtree complete at some size keeps its hash for every larger size: proofs for old checkpoints read the same
//! rows. Any complete subtree's hash is at most 32 entries of one tile, hashed up.
use sqlx::AnyConnection;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::merkle::{complete, fold, subtrees, Hash, Subtree};
use crate::store::StoreError;

/// Tree levels per tile level.
pub const HEIGHT: u32 = 6;
const WIDTH: u64 = 1 << HEIGHT;

async fn read(conn: &mut AnyConnection, level: u32, index: u64) -> Result<Vec<Hash>, StoreError> {
    let blob: Option<Vec<u8>> = sqlx::query_scalar("SELECT hashes FROM log_tiles WHERE level = $1 AND idx = $2")
        .bind(i64::from(level))
        .bind(index as i64)
        .fetch_optional(conn)
        .await?;
    parse(&blob.unwrap_or_default())
}

fn parse(blob: &[u8]) -> Result<Vec<Hash>, StoreError> {
    if blob.len() % 32 != 0 || blob.len() as u64 > WIDTH * 32 {
        return Err(StoreError::Corrupt("tree tile"));
    }
    Ok(blob
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

async fn write(conn: &mut AnyConnection, level: u32, index: u64, hashes: &[Hash]) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO log_tiles (level, idx, hashes) VALUES ($1, $2, $3) \
         ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes",
    )
    .bind(i64::from(level))
    .bind(index as i64)
    .bind(hashes.concat())
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends `leaves` to the tree of `size` leaves in `conn` (inside the transaction that holds the head).
///
/// # Errors
/// The database refused, or a tile does not hold what `size` says it should.
pub async fn append(conn: &mut AnyConnection, size: u64, leaves: Vec<Hash>) -> Result<(), StoreError> {
    let (mut level, mut count, mut new) = (0u32, size, leaves);
    while !new.is_empty() {
        let mut index = count / WIDTH;
        let mut tile = if count % WIDTH == 0 {
            Vec::new()
        } else {
            read(conn, level, index).await?
        };
        if tile.len() as u64 != count % WIDTH {
            return Err(StoreError::Corrupt("tree tile"));
        }
        let mut full = Vec::new();
        for h in new {
            tile.push(h);
            if tile.len() as u64 == WIDTH {
                write(conn, level, index, &tile).await?;
                full.push(complete(&tile));
                tile.clear();
                index += 1;
            }
        }
        if !tile.is_empty() {
            write(conn, level, index, &tile).await?;
        }
        (level, count, new) = (level + 1, count / WIDTH, full);
    }
    Ok(())
}

/// Tiles read for one computation.
#[derive(Default)]
pub struct Reader {
    tiles: HashMap<(u32, u64), Vec<Hash>>,
}

impl Reader {
    /// Reads every tile the subtrees of `ranges` lie in that this reader does not hold yet, in one query (a proof
    /// needs a handful, each of which would be a round trip of its own).
    ///
    /// # Errors
    /// The database refused, or a tile is malformed.
    pub async fn prefetch(&mut self, conn: &mut AnyConnection, ranges: &[(u64, u64)]) -> Result<(), StoreError> {
        let mut keys: Vec<(u32, u64)> = ranges
            .iter()
            .flat_map(|&(lo, hi)| subtrees(lo, hi))
            .map(|t| (t.level / HEIGHT, (t.index << (t.level % HEIGHT)) / WIDTH))
            .filter(|k| !self.tiles.contains_key(k))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for chunk in keys.chunks(100) {
            let clauses: Vec<String> = (0..chunk.len())
                .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "SELECT level, idx, hashes FROM log_tiles WHERE {}",
                clauses.join(" OR ")
            );
            let mut query = sqlx::query_as::<_, (i64, i64, Vec<u8>)>(&sql);
            for &(level, index) in chunk {
                query = query.bind(i64::from(level)).bind(index as i64);
            }
            for &key in chunk {
                self.tiles.insert(key, Vec::new());
            }
            for (level, index, blob) in query.fetch_all(&mut *conn).await? {
                let key = (
                    u32::try_from(level).map_err(|_| StoreError::Corrupt("tree tile"))?,
                    index as u64,
                );
                self.tiles.insert(key, parse(&blob)?);
            }
        }
        Ok(())
    }

    /// The hash of a complete subtree.
    ///
    /// # Errors
    /// The database refused, or the tiles do not hold the subtree.
    pub async fn subtree(&mut self, conn: &mut AnyConnection, t: Subtree) -> Result<Hash, StoreError> {
        let (level, rest) = (t.level / HEIGHT, t.level % HEIGHT);
        let first = t.index << rest;
        let key = (level, first / WIDTH);
        let tile = match self.tiles.entry(key) {
            Entry::Occupied(held) => held.into_mut(),
            Entry::Vacant(slot) => slot.insert(read(conn, key.0, key.1).await?),
        };
        let offset = (first % WIDTH) as usize;
        tile.get(offset..offset + (1 << rest))
            .map(complete)
            .ok_or(StoreError::Corrupt("tree tile"))
    }

    /// `MTH` of leaves `[lo, hi)`.
    ///
    /// # Errors
    /// As [`Reader::subtree`].
    pub async fn range(&mut self, conn: &mut AnyConnection, lo: u64, hi: u64) -> Result<Hash, StoreError> {
        let mut hashes = Vec::new();
        for t in subtrees(lo, hi) {
            hashes.push(self.subtree(conn, t).await?);
        }
        Ok(fold(&hashes))
    }
}
