//! [`CacheStore`]: a key index over an entry slab, plus what the eviction policy keeps (a
//! recency or arrival list, or LFU's counts and buckets).

use super::lfu::{Counts, Frequencies};
use super::slab::{self, Ends, Entry, FREE, NEVER, STALE};
use super::table::{NIL, Table, mix};
use super::{CacheSpec, CacheStats, Eviction, Lookup, MAX_CAPACITY, Ttl};
use crate::kernel::{RequestRng, SimTime};
use rand::Rng;
use std::fmt;

/// The first allocation of the slab, in entries; later ones double up to the capacity.
const FIRST_ALLOCATION: usize = 16;

/// The contents of one cache: which keys are resident, until when, and in what order they
/// leave. Deterministic: no randomised hasher; Random eviction draws from its own
/// generator seeded by the caller.
///
/// Every operation is O(1) (amortised over the doubling of the tables), except LFU's
/// admission of a count no resident has (see the `lfu` module).
#[derive(Clone)]
pub struct CacheStore {
    capacity: u64,
    eviction: Eviction,
    ttl: Option<Ttl>,
    /// Resident entries and free slots.
    entries: Vec<Entry>,
    /// The free slots, linked through `next`.
    free: u32,
    /// Resident entries (the slab's slots less the free ones).
    live: usize,
    index: Table,
    /// LRU: most recent first. FIFO: newest first. Unused by LFU and Random.
    order: Ends,
    /// LFU only.
    counts: Counts,
    /// LFU only.
    frequencies: Frequencies,
    /// Random only.
    rng: RequestRng,
    stats: CacheStats,
}

impl CacheStore {
    /// An empty cache. Allocates nothing until the first insert.
    ///
    /// # Panics
    /// If the capacity is 0 or above [`MAX_CAPACITY`]; the config layer rejects both.
    pub fn new(spec: &CacheSpec, seed: u64) -> CacheStore {
        assert!(
            (1..=MAX_CAPACITY).contains(&spec.capacity),
            "cache capacity {} is outside 1..={MAX_CAPACITY}",
            spec.capacity
        );
        CacheStore {
            capacity: spec.capacity,
            eviction: spec.eviction,
            ttl: spec.ttl,
            entries: Vec::new(),
            free: NIL,
            live: 0,
            index: Table::default(),
            order: Ends::EMPTY,
            counts: Counts::default(),
            frequencies: Frequencies::default(),
            rng: RequestRng::new(seed),
            stats: CacheStats::default(),
        }
    }

    /// Looks `key` up at `now`. A hit refreshes what the policy tracks (LRU recency, LFU
    /// count, the expiry when the TTL resets on hit); an expired entry is removed. For LFU
    /// every lookup, hit or not, counts as a reference. O(1).
    pub fn get(&mut self, key: u64, now: SimTime) -> Lookup {
        if self.eviction == Eviction::Lfu {
            self.counts.bump(key);
        }
        let Some(i) = self.find(key) else {
            self.stats.misses += 1;
            return Lookup::Miss;
        };
        let expiry = self.entries[i as usize].expiry;
        if expiry & !STALE <= now.as_nanos() {
            self.take_out(i);
            self.stats.misses += 1;
            self.stats.expired += 1;
            return Lookup::Expired;
        }
        self.stats.hits += 1;
        match self.eviction {
            Eviction::Lru => {
                slab::unlink(&mut self.entries, &mut self.order, i);
                slab::push_front(&mut self.entries, &mut self.order, i);
            }
            Eviction::Lfu => self.frequencies.touch(&mut self.entries, i),
            Eviction::Fifo | Eviction::Random => {}
        }
        if let Some(ttl) = self.ttl.filter(|t| t.reset_on_hit) {
            let stale = self.entries[i as usize].expiry & STALE;
            self.entries[i as usize].expiry = (now + ttl.duration).as_nanos().min(NEVER) | stale;
        }
        if expiry & STALE != 0 {
            self.stats.stale_hits += 1;
            return Lookup::Stale;
        }
        Lookup::Hit
    }

    /// `key` was written elsewhere (its database committed a newer value): if resident, its
    /// entry now serves an old value until it is stored again, invalidated or dropped.
    /// Returns whether it was resident. O(1).
    pub fn mark_stale(&mut self, key: u64) -> bool {
        let Some(i) = self.find(key) else {
            return false;
        };
        self.entries[i as usize].expiry |= STALE;
        true
    }

    /// Stores `key` at `now` (after a miss, or on a write). A resident key gets a fresh expiry
    /// (and, under LRU, becomes the most recent; FIFO, Random and LFU keep its place). An
    /// absent key is added, first evicting one entry if the cache is full; LFU admits it only
    /// if its count beats the lowest resident count, else counts it `rejected`. O(1).
    pub fn insert(&mut self, key: u64, now: SimTime) {
        // A store is of the newest value: it clears the stale mark.
        let expiry = self
            .ttl
            .map_or(NEVER, |t| (now + t.duration).as_nanos().min(NEVER));
        if let Some(i) = self.find(key) {
            self.entries[i as usize].expiry = expiry;
            if self.eviction == Eviction::Lru {
                slab::unlink(&mut self.entries, &mut self.order, i);
                slab::push_front(&mut self.entries, &mut self.order, i);
            }
            return;
        }
        let count = match self.eviction {
            Eviction::Lfu => self.counts.get(key),
            _ => 0,
        };
        if self.live as u64 >= self.capacity {
            let Some(victim) = self.victim(count) else {
                self.stats.rejected += 1;
                return;
            };
            self.take_out(victim);
            self.stats.evictions += 1;
        }
        self.add(key, expiry, count);
        self.stats.inserts += 1;
    }

    /// Drops `key` (an invalidation); whether it was resident, expired or not. O(1).
    pub fn remove(&mut self, key: u64) -> bool {
        let Some(i) = self.find(key) else {
            return false;
        };
        self.take_out(i);
        self.stats.removals += 1;
        true
    }

    /// Whether a lookup at `now` would hit. No side effects, no statistics.
    /// When `key`'s entry expires, if it is resident and has a TTL.
    pub fn expires_at(&self, key: u64) -> Option<SimTime> {
        self.ttl?;
        let i = self.find(key)?;
        Some(SimTime::from_nanos(self.entries[i as usize].expires()))
    }

    pub fn contains(&self, key: u64, now: SimTime) -> bool {
        self.find(key)
            .is_some_and(|i| self.entries[i as usize].expires() > now.as_nanos())
    }

    /// Drops every entry and releases the memory (the instance holding the cache is gone);
    /// LFU forgets its counts too. Statistics are kept.
    pub fn clear(&mut self) {
        self.entries = Vec::new();
        self.free = NIL;
        self.live = 0;
        self.index.clear();
        self.order = Ends::EMPTY;
        self.counts = Counts::default();
        self.frequencies = Frequencies::default();
    }

    /// Resident entries, expired ones included until a lookup finds them.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The most entries the cache holds.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// The eviction policy.
    pub fn eviction(&self) -> Eviction {
        self.eviction
    }

    /// Bytes held by the cache's allocations (allocated capacity, not just what is used).
    pub fn memory_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<Entry>()
            + self.index.memory_bytes()
            + self.counts.memory_bytes()
            + self.frequencies.memory_bytes()
    }

    /// Distinct keys whose reference counts LFU keeps (0 for other policies). Their memory,
    /// 18-37 bytes each, is part of [`memory_bytes`](Self::memory_bytes).
    pub fn counted_keys(&self) -> usize {
        self.counts.len()
    }

    fn find(&self, key: u64) -> Option<u32> {
        let entries = &self.entries;
        self.index
            .find(mix(key), |i| entries[i as usize].key == key)
    }

    /// The entry to evict for a newcomer whose LFU count is `count`; `None` if LFU refuses
    /// the newcomer.
    fn victim(&mut self, count: u64) -> Option<u32> {
        match self.eviction {
            // The tail: least recent (LRU) or oldest arrival (FIFO).
            Eviction::Lru | Eviction::Fifo => Some(self.order.tail),
            Eviction::Lfu => {
                let lowest = self.frequencies.min_freq()?;
                if count > lowest {
                    self.frequencies.victim()
                } else {
                    None
                }
            }
            Eviction::Random => {
                // A full cache has no free slot (the slab never outgrows the capacity), so a
                // uniform slot is a uniform entry. Lemire's multiply-shift: uniform within
                // 2^-32 (len < 2^31).
                debug_assert_eq!(self.free, NIL);
                let r = self.rng.next_u64();
                Some(((u128::from(r) * self.entries.len() as u128) >> 64) as u32)
            }
        }
    }

    fn add(&mut self, key: u64, expiry: u64, count: u64) {
        let i = if self.free != NIL {
            let i = self.free;
            self.free = self.entries[i as usize].next;
            self.entries[i as usize] = Entry::new(key, expiry);
            i
        } else {
            if self.entries.len() == self.entries.capacity() {
                self.grow();
            }
            self.entries.push(Entry::new(key, expiry));
            (self.entries.len() - 1) as u32
        };
        self.live += 1;
        self.index.insert(mix(key), i);
        match self.eviction {
            Eviction::Lru | Eviction::Fifo => {
                slab::push_front(&mut self.entries, &mut self.order, i);
            }
            Eviction::Lfu => self.frequencies.add(&mut self.entries, i, count),
            Eviction::Random => {}
        }
    }

    /// Doubles the slab, but never past the capacity: a full cache holds no spare slots.
    fn grow(&mut self) {
        let now = self.entries.capacity();
        let next = (now * 2).max(FIRST_ALLOCATION).min(self.capacity as usize);
        self.entries.reserve_exact(next - self.entries.len());
        if self.eviction == Eviction::Lfu {
            self.frequencies.reserve_exact(next);
        }
    }

    /// Removes entry `i` from every structure; its slot joins the free list.
    fn take_out(&mut self, i: u32) {
        match self.eviction {
            Eviction::Lru | Eviction::Fifo => slab::unlink(&mut self.entries, &mut self.order, i),
            Eviction::Lfu => self.frequencies.detach(&mut self.entries, i),
            Eviction::Random => {}
        }
        let entry = &mut self.entries[i as usize];
        self.index.remove(mix(entry.key), i);
        entry.prev = FREE;
        entry.next = self.free;
        self.free = i;
        self.live -= 1;
    }

    /// Checks every structure against the others; for tests.
    #[cfg(test)]
    pub(super) fn check_invariants(&self) {
        let mut free = 0;
        let mut at = self.free;
        while at != NIL {
            assert_eq!(self.entries[at as usize].prev, FREE);
            (free, at) = (free + 1, self.entries[at as usize].next);
        }
        assert_eq!(
            free + self.live,
            self.entries.len(),
            "free slots and entries"
        );
        assert!(self.entries.len() as u64 <= self.capacity);
        let resident = || {
            self.entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.prev != FREE)
        };
        for (i, e) in resident() {
            assert_eq!(
                self.find(e.key),
                Some(i as u32),
                "key {} not indexed",
                e.key
            );
        }
        match self.eviction {
            Eviction::Lru | Eviction::Fifo => {
                let (mut n, mut at, mut prev) = (0, self.order.head, NIL);
                while at != NIL {
                    assert_eq!(self.entries[at as usize].prev, prev);
                    (prev, at) = (at, self.entries[at as usize].next);
                    n += 1;
                }
                assert_eq!(prev, self.order.tail);
                assert_eq!(n, self.live);
            }
            Eviction::Lfu => {
                for (i, e) in resident() {
                    assert_eq!(self.frequencies.freq_of(i as u32), self.counts.get(e.key));
                }
                assert!(self.frequencies.bucket_count() <= self.live);
            }
            Eviction::Random => {}
        }
    }
}

/// A summary: the entries themselves could be millions.
impl fmt::Debug for CacheStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheStore")
            .field("capacity", &self.capacity)
            .field("eviction", &self.eviction)
            .field("ttl", &self.ttl)
            .field("len", &self.live)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
