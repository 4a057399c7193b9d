//! Caches: the store that decides which keys are resident (capacity in entries, an eviction
//! policy, an optional TTL), a pure data structure on virtual time, and (`tier`) a cache as
//! the model names it: where its stores live and whether misses coalesce. The request path
//! that consults them is `simulation::caching`.
//!
//! Keys are opaque `u64`s (encoded keys), hashed with the SplitMix64 finaliser into our own
//! open-addressing index: std's `HashMap` has a randomised hasher, and its per-entry overhead
//! would break the memory budget below. Expiry is lazy: an expired entry is noticed (and
//! removed) by the lookup that finds it, or evicted like any other.
//!
//! Memory, measured by `memory_bytes()` on a full cache of distinct keys (`behaviour.rs`; the
//! 10M fill runs with `SURGE_SLOW_TESTS=1`):
//!
//! | policy            | 10M entries | 1M entries | made of                                  |
//! |-------------------|-------------|------------|------------------------------------------|
//! | LRU, FIFO, Random | 37.4 B      | 40.8 B     | 24 slab entry + 8 per index slot / load  |
//! | LFU               | -           | 78.3 B     | the above + 4 bucket id + 16 per counted key / load |
//!
//! The index's load lies between 7/16 and 7/8 (it doubles), so LRU, FIFO and Random cost at
//! most 24 + 8 x 16/7 = 42.3 bytes an entry at any capacity (measured at the worst load).
//! LFU's figure has each key looked up once; its frequency buckets (24 bytes, plus a slot in
//! their own index) number at most the resident entries but are as few as the distinct
//! counts (one in that fill), and its reference counts grow with the distinct keys ever
//! looked up, not with the capacity: perfect LFU remembers every key (16 bytes a slot,
//! 18-37 bytes a key).
//!
//! Allocation is lazy: tables start empty and double, and the slab stops at exactly the
//! capacity, so a 10M-entry cache holding 1000 keys costs kilobytes.

mod lfu;
mod slab;
mod store;
mod table;
mod tier;

#[cfg(test)]
mod behaviour;
#[cfg(test)]
mod theory;

pub use store::CacheStore;
pub use tier::{CacheNodes, CacheScope, CacheTierSpec, Reload, WriteBehind};

use crate::kernel::SimDuration;

/// The largest capacity a store accepts (entries): slab indices are `u32`, and the index's
/// fingerprint must cover its home slot.
pub const MAX_CAPACITY: u64 = 1 << 31;

/// Which resident entry makes room for a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    /// Least recently used (hits and writes refresh recency).
    Lru,
    /// Least frequently used, counting every lookup of a key since the cache started, resident
    /// or not ("perfect" LFU); ties go to the entry longest at that count. A newcomer is
    /// admitted only if its count beats the least resident count.
    Lfu,
    /// First in, first out: hits do not matter.
    Fifo,
    /// A uniformly random resident entry.
    Random,
}

/// How long an entry stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl {
    /// Lifetime from the insert (or from the last hit, with `reset_on_hit`).
    pub duration: SimDuration,
    /// Whether a hit extends the lifetime; if not, an entry expires `duration` after it was
    /// stored ("set on miss only").
    pub reset_on_hit: bool,
}

/// A cache as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheSpec {
    /// Most entries held, at least 1.
    pub capacity: u64,
    pub eviction: Eviction,
    pub ttl: Option<Ttl>,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Hit,
    /// Resident and served, but its key has been written to the database since it was stored
    /// (see [`CacheStore::mark_stale`]): a hit for the hit ratio, with an old value.
    Stale,
    /// Not resident.
    Miss,
    /// Resident but past its TTL: now removed. A miss for the hit ratio.
    Expired,
}

impl Lookup {
    /// Whether the lookup was answered from the cache (a stale answer too).
    pub fn is_hit(self) -> bool {
        matches!(self, Lookup::Hit | Lookup::Stale)
    }
}

/// What a store has done since it was created (a `clear` keeps them).
///
/// Until the first clear, `len() == inserts - evictions - expired - removals`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found a live entry, stale ones included.
    pub hits: u64,
    /// Of those, entries marked stale.
    pub stale_hits: u64,
    /// Lookups that did not hit, expired ones included.
    pub misses: u64,
    /// Lookups that found an entry past its TTL.
    pub expired: u64,
    /// Keys added (an insert of a resident key only refreshes it and is not counted).
    pub inserts: u64,
    /// Entries dropped to make room.
    pub evictions: u64,
    /// Entries dropped by `remove`.
    pub removals: u64,
    /// Inserts LFU refused because the key's count did not beat the least resident count.
    pub rejected: u64,
}

impl CacheStats {
    /// Hits over lookups; 0 before any lookup.
    pub fn hit_ratio(&self) -> f64 {
        let lookups = self.hits + self.misses;
        if lookups == 0 {
            0.0
        } else {
            self.hits as f64 / lookups as f64
        }
    }
}
