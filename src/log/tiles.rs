//! Where the Merkle tree's hashes are kept: tiles in the manner of `c2sp.org/tlog-tiles`. A tile of level `L`
//! holds up to 64 consecutive hashes of tree level `6·L` (level 0: the leaves); when a tile fills, the root of its
//! 64 hashes becomes the next entry of level `L + 1`. Only the right-most tile of a level is ever rewritten, so a
//! subtree complete at some size keeps its hash for every larger size: proofs for old checkpoints read the same
//! rows. Any complete subtree's hash is at most 32 entries of one tile, hashed up.
use sqlx::AnyConnection;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::merkle::{complete, fold, subtrees, Hash, Subtree};
use super::statement::Sql;
use crate::store::{Backend, StoreError};

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

/// The right edge of a tree of `size` leaves: at each level, the tile that is not full yet, with the hashes it
/// holds. Appending leaves needs only these; a writer that keeps the edge of the tree it last wrote skips reading
/// them again (it must check that the tree in the database is still that one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    size: u64,
    /// Level by level from 0; a level whose count is a multiple of the width holds an empty tile.
    tiles: Vec<Vec<Hash>>,
}

/// A tile to store: its level, index and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileWrite {
    pub level: u32,
    pub index: u64,
    pub hashes: Vec<Hash>,
}

impl Edge {
    /// The edge of a tree of `size` leaves, read from the tiles in `conn`.
    ///
    /// # Errors
    /// The database refused, or a tile does not hold what `size` says it should.
    pub async fn read(conn: &mut AnyConnection, size: u64) -> Result<Edge, StoreError> {
        let mut tiles = Vec::new();
        let (mut level, mut count) = (0u32, size);
        while count > 0 {
            let tile = match count % WIDTH {
                0 => Vec::new(),
                n => {
                    let tile = read(conn, level, count / WIDTH).await?;
                    if tile.len() as u64 != n {
                        return Err(StoreError::Corrupt("tree tile"));
                    }
                    tile
                }
            };
            tiles.push(tile);
            (level, count) = (level + 1, count / WIDTH);
        }
        Ok(Edge { size, tiles })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends `leaves`; returns the tiles that changed, to be stored.
    pub fn extend(&mut self, leaves: Vec<Hash>) -> Vec<TileWrite> {
        let mut writes = Vec::new();
        let (mut level, mut count, mut new) = (0u32, self.size, leaves);
        self.size += new.len() as u64;
        while !new.is_empty() {
            if self.tiles.len() <= level as usize {
                self.tiles.push(Vec::new());
            }
            let Some(tile) = self.tiles.get_mut(level as usize) else {
                break;
            };
            let mut index = count / WIDTH;
            let mut full = Vec::new();
            for h in new {
                tile.push(h);
                if tile.len() as u64 == WIDTH {
                    full.push(complete(tile));
                    writes.push(TileWrite {
                        level,
                        index,
                        hashes: std::mem::take(tile),
                    });
                    index += 1;
                }
            }
            if !tile.is_empty() {
                writes.push(TileWrite {
                    level,
                    index,
                    hashes: tile.clone(),
                });
            }
            (level, count, new) = (level + 1, count / WIDTH, full);
        }
        writes
    }
}

/// Adds the statement that stores `writes` to `q`.
pub(super) fn write_into(q: &mut Sql, writes: &[TileWrite]) {
    if writes.is_empty() {
        return;
    }
    q.then().push("INSERT INTO log_tiles (level, idx, hashes) VALUES ");
    for (i, w) in writes.iter().enumerate() {
        q.comma(i)
            .push("(")
            .int(i64::from(w.level))
            .push(", ")
            .int(w.index as i64)
            .push(", ")
            .blob(w.hashes.concat())
            .push(")");
    }
    q.push(" ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes");
}

/// Appends `leaves` to the tree of `size` leaves in `conn` (inside the transaction that holds the head).
///
/// # Errors
/// The database refused, or a tile does not hold what `size` says it should.
pub async fn append(
    conn: &mut AnyConnection,
    backend: Backend,
    size: u64,
    leaves: Vec<Hash>,
) -> Result<(), StoreError> {
    let mut edge = Edge::read(conn, size).await?;
    let mut q = Sql::new(backend, "");
    write_into(&mut q, &edge.extend(leaves));
    q.execute(conn).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::merkle::leaf_hash;
    use std::collections::BTreeMap;

    /// Every tile of a tree over `leaves`, computed from nothing: level 0 the leaves in 64s, each level above the
    /// roots of the full tiles below.
    fn tiles_of(leaves: &[Hash]) -> BTreeMap<(u32, u64), Vec<Hash>> {
        let mut out = BTreeMap::new();
        let (mut level, mut hashes) = (0u32, leaves.to_vec());
        while !hashes.is_empty() {
            let mut up = Vec::new();
            for (i, tile) in hashes.chunks(WIDTH as usize).enumerate() {
                out.insert((level, i as u64), tile.to_vec());
                if tile.len() as u64 == WIDTH {
                    up.push(complete(tile));
                }
            }
            (level, hashes) = (level + 1, up);
        }
        out
    }

    #[test]
    fn an_edge_extended_batch_by_batch_writes_the_tiles_of_the_whole_tree() {
        let leaves: Vec<Hash> = (0..9_000u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut written = BTreeMap::new();
        let mut edge = Edge {
            size: 0,
            tiles: Vec::new(),
        };
        let (mut at, mut step) = (0usize, 1usize);
        while at < leaves.len() {
            let end = (at + step).min(leaves.len());
            for w in edge.extend(leaves[at..end].to_vec()) {
                written.insert((w.level, w.index), w.hashes);
            }
            assert_eq!(edge.size(), end as u64);
            at = end;
            // Batches of every size from one leaf to more than a tile, across the boundaries of levels 1 and 2.
            step = step * 7 % 131 + 1;
        }
        assert_eq!(written, tiles_of(&leaves));
        let expected: Vec<Vec<Hash>> = (0..3u32)
            .map(|level| {
                let count = leaves.len() as u64 >> (HEIGHT * level);
                match count % WIDTH {
                    0 => Vec::new(),
                    _ => written[&(level, count / WIDTH)].clone(),
                }
            })
            .collect();
        assert_eq!(edge.tiles, expected);
    }
}
