//! Requests read recently, with everything their release is judged on, so that reading the same request again
//! costs no database read. An entry is never trusted on its own: it carries the facts generation it was read at
//! (migration 0007), and the log commits a release judged on it only while that is still the generation; when the
//! facts moved, nothing is released and the read starts over from the database.
//!
//! Entries hold what the database holds (content stays sealed). The cache is bounded in entries and bytes and is
//! per gateway: several gateways on one database each keep their own, all checked against the one generation. An
//! entry behind the generation can never be used again; `serve` drops those at every poll, so that, say, the sealed
//! content of a purged case does not stay in memory.
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use crate::cases::facts::Recorded;
use crate::store::{ItemRow, RequestRows};
use crate::types::RequestId;

/// Entries kept at most.
const MAX_ENTRIES: usize = 4096;
/// Bytes kept at most over all entries (sealed content and the overhead below).
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

/// What an entry counts against the byte budget.
pub trait Weigh {
    fn bytes(&self) -> usize;
}

impl Weigh for CachedRequest {
    fn bytes(&self) -> usize {
        ENTRY_OVERHEAD
            + self
                .items
                .iter()
                .map(|i| i.sealed.as_ref().map_or(0, Vec::len))
                .sum::<usize>()
    }
}

/// The cache of requests; cheap to share, safe to use from every request.
pub type RequestCache = Bounded<RequestId, CachedRequest>;

/// A map bounded in entries and bytes that drops arbitrary entries to make room (a miss costs only a read).
#[derive(Debug)]
pub struct Bounded<K, V> {
    entries: Mutex<Entries<K, V>>,
    max_entries: usize,
    max_bytes: usize,
}

#[derive(Debug)]
struct Entries<K, V> {
    by_id: HashMap<K, Arc<V>>,
    bytes: usize,
}

impl<K: Hash + Eq + Clone, V: Weigh> Default for Bounded<K, V> {
    fn default() -> Self {
        Bounded::new(MAX_ENTRIES, MAX_BYTES)
    }
}

impl<K: Hash + Eq + Clone, V: Weigh> Bounded<K, V> {
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Bounded {
            entries: Mutex::new(Entries {
                by_id: HashMap::new(),
                bytes: 0,
            }),
            max_entries,
            max_bytes,
        }
    }

    pub fn get(&self, id: &K) -> Option<Arc<V>> {
        self.lock().by_id.get(id).cloned()
    }

    /// Keeps `entry` under `id`, making room by dropping other entries; an entry larger than a sixteenth of the
    /// budget is not kept.
    pub fn put(&self, id: &K, entry: Arc<V>) {
        let size = entry.bytes();
        if size > self.max_bytes / 16 {
            return;
        }
        let mut entries = self.lock();
        entries.remove(id);
        while entries.by_id.len() >= self.max_entries || entries.bytes + size > self.max_bytes {
            let Some(victim) = entries.by_id.keys().next().cloned() else {
                break;
            };
            entries.remove(&victim);
        }
        entries.bytes += size;
        entries.by_id.insert(id.clone(), entry);
    }

    /// Drops the entry of `id`, if any (its facts moved).
    pub fn forget(&self, id: &K) {
        self.lock().remove(id);
    }

    /// Keeps only the entries `keep` approves.
    pub fn retain(&self, keep: impl Fn(&V) -> bool) {
        let mut entries = self.lock();
        let gone: Vec<K> = entries
            .by_id
            .iter()
            .filter(|(_, v)| !keep(v))
            .map(|(k, _)| k.clone())
            .collect();
        for id in gone {
            entries.remove(&id);
        }
    }

    /// Entries and bytes held now.
    pub fn size(&self) -> (usize, usize) {
        let entries = self.lock();
        (entries.by_id.len(), entries.bytes)
    }

    /// A poisoned lock only means another request panicked while holding it; the map itself is always whole.
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<K: Hash + Eq, V: Weigh> Entries<K, V> {
    fn remove(&mut self, id: &K) {
        if let Some(old) = self.by_id.remove(id) {
            self.bytes -= old.bytes();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Blob(usize);

    impl Weigh for Blob {
        fn bytes(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn the_cache_stays_within_its_entries_and_bytes() {
        let cache: Bounded<String, Blob> = Bounded::new(4, 1600);
        for i in 0..10 {
            cache.put(&format!("r{i}"), Arc::new(Blob(100)));
        }
        assert_eq!(cache.size(), (4, 400), "at most four entries");
        cache.put(&"big".to_owned(), Arc::new(Blob(100)));
        cache.put(&"r9".to_owned(), Arc::new(Blob(90)));
        let (count, bytes) = cache.size();
        assert!(count <= 4 && bytes <= 1600);
        assert_eq!(
            cache.get(&"r9".to_owned()).map(|b| b.0),
            Some(90),
            "a put replaces the entry of its id"
        );
        cache.put(&"huge".to_owned(), Arc::new(Blob(101)));
        assert!(
            cache.get(&"huge".to_owned()).is_none(),
            "more than a sixteenth of the budget is not kept"
        );
        for id in ["r9", "big", "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"] {
            cache.forget(&id.to_owned());
        }
        assert_eq!(cache.size(), (0, 0), "forgetting returns every byte");
    }

    #[test]
    fn the_byte_budget_drops_entries_to_make_room() {
        let cache: Bounded<String, Blob> = Bounded::new(100, 1600);
        for i in 0..20 {
            cache.put(&format!("r{i}"), Arc::new(Blob(100)));
        }
        assert_eq!(cache.size(), (16, 1600));
        assert!(cache.get(&"r19".to_owned()).is_some(), "the newest entry is kept");
        cache.put(&"small".to_owned(), Arc::new(Blob(10)));
        cache.retain(|b| b.0 < 100);
        assert_eq!(cache.size(), (1, 10), "retain drops the rest and their bytes");
    }
}
