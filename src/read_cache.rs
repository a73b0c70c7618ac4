//! Requests read recently, with everything their release is judged on, so that reading the same request again
//! costs no database read. An entry is never trusted on its own: it carries the facts generation it was read at
//! (migration 0007), and the log commits a release judged on it only while that is still the generation; when the
//! facts moved, nothing is released and the read starts over from the database.
//!
//! Entries hold what the database holds (content stays sealed). The cache is bounded in entries and bytes and is
//! per gateway: several gateways on one database each keep their own, all checked against the one generation.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::facts::Recorded;
use crate::store::{ItemRow, RequestRows};

/// Entries kept at most.
const MAX_ENTRIES: usize = 4096;
/// Sealed bytes kept at most, over all entries.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Bytes counted for an entry beside its sealed content (rows, ids, facts).
const ENTRY_OVERHEAD: usize = 2048;

/// A request as read at facts generation `generation`, with items to judge.
#[derive(Debug)]
pub struct CachedRequest {
    pub generation: i64,
    pub rows: RequestRows,
    pub items: Vec<ItemRow>,
    pub recorded: Recorded,
}

impl CachedRequest {
    fn bytes(&self) -> usize {
        ENTRY_OVERHEAD
            + self
                .items
                .iter()
                .map(|i| i.sealed.as_ref().map_or(0, Vec::len))
                .sum::<usize>()
    }
}

#[derive(Debug, Default)]
struct Entries {
    by_id: HashMap<String, Arc<CachedRequest>>,
    bytes: usize,
}

/// The cache; cheap to share, safe to use from every request.
#[derive(Debug, Default)]
pub struct RequestCache {
    entries: Mutex<Entries>,
}

impl RequestCache {
    pub fn get(&self, id: &str) -> Option<Arc<CachedRequest>> {
        self.lock().by_id.get(id).cloned()
    }

    /// Keeps `entry` under `id`, making room by dropping other entries; an entry too large for the cache is not
    /// kept.
    pub fn put(&self, id: &str, entry: Arc<CachedRequest>) {
        let size = entry.bytes();
        if size > MAX_BYTES / 16 {
            return;
        }
        let mut entries = self.lock();
        entries.remove(id);
        while entries.by_id.len() >= MAX_ENTRIES || entries.bytes + size > MAX_BYTES {
            let Some(victim) = entries.by_id.keys().next().cloned() else {
                break;
            };
            entries.remove(&victim);
        }
        entries.bytes += size;
        entries.by_id.insert(id.to_owned(), entry);
    }

    /// Drops the entry of `id`, if any (its facts moved).
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    /// A poisoned lock only means another request panicked while holding it; the map itself is always whole.
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Entries {
    fn remove(&mut self, id: &str) {
        if let Some(old) = self.by_id.remove(id) {
            self.bytes -= old.bytes();
        }
    }
}
