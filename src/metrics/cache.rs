//! What a cache measured: lookups and how they went, fills and what they evicted, and the
//! report's per-cache summary. A lookup that waited for another request's fill
//! (single-flight) is a miss that did no work of its own: `coalesced` counts those.

use serde::{Deserialize, Serialize};

/// One cache's counters (after warm-up, or within one bucket).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Lookups (`cache_get` steps run).
    pub lookups: u64,
    /// Lookups that found their key.
    pub hits: u64,
    /// Of those, entries whose key a database had written since they were stored.
    pub stale_hits: u64,
    /// Misses because the key's entry had outlived its TTL (part of the misses).
    pub expired: u64,
    /// Misses that waited for another request's fill instead of doing the work.
    pub coalesced: u64,
    /// Keys stored (fills after a miss, and writes).
    pub stores: u64,
    /// Entries dropped to make room.
    pub evictions: u64,
    /// `invalidate` steps run.
    pub invalidations: u64,
    /// Writes to a write-behind cache that will be written later (the first unwritten write
    /// of their key in their store).
    pub writes_deferred: u64,
    /// Writes of a key already waiting to be written: merged into that write.
    pub writes_merged: u64,
    /// Deferred writes written (each a message to the database).
    pub writes_flushed: u64,
    /// Deferred writes whose store's process stopped or restarted first.
    pub writes_lost: u64,
    /// Refresh-ahead refreshes started by a hit near its entry's expiry.
    pub refreshes: u64,
    /// Scheduled warming: keys fetched, and of those stored (the rest failed, or found
    /// their store gone).
    pub reload_fetches: u64,
    pub reload_stored: u64,
    pub reload_dropped: u64,
}

impl CacheCounts {
    /// Lookups that did not find their key.
    pub fn misses(&self) -> u64 {
        self.lookups - self.hits
    }

    /// Hits over lookups (0 with no lookups).
    pub fn hit_ratio(&self) -> f64 {
        if self.lookups == 0 {
            0.0
        } else {
            self.hits as f64 / self.lookups as f64
        }
    }
}

/// One cache in `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CacheSummary {
    /// "instance" (one store per instance), "shared", or "nodes" (one store per instance of
    /// the service `nodes`, a cache cluster).
    pub scope: String,
    /// A cache cluster's service, whose instances are its nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<String>,
    /// Entries each store holds at most.
    pub capacity: u64,
    /// Which entry a full store drops.
    pub eviction: String,
    /// Lookups after warm-up.
    pub lookups: u64,
    /// Of those, found.
    pub hits: u64,
    /// Of those, not found (`lookups` = `hits` + `misses`).
    pub misses: u64,
    /// `hits` / `lookups`.
    pub hit_ratio: f64,
    /// Misses of an entry that had expired.
    pub expired: u64,
    /// Misses that waited for another request's fill of the same key (single-flight).
    pub coalesced: u64,
    /// Keys stored after warm-up (fills and writes).
    pub stores: u64,
    /// Entries dropped to make room after warm-up.
    pub evictions: u64,
    /// Invalidations after warm-up.
    pub invalidations: u64,
    /// Refresh-ahead refreshes started after warm-up (each runs the miss's steps once).
    #[serde(default)]
    pub refreshes: u64,
    /// Entries held at the end, over the stores of the instances still running.
    pub entries_at_end: u64,
    /// Bytes the stores held at the end.
    pub memory_bytes: u64,
    /// A write-behind cache's writes and what became of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_behind: Option<WriteBehindSummary>,
    /// A cache warmed on a schedule: its fetches and what became of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reloads: Option<ReloadSummary>,
    /// A cache that counts stale hits (`count_stale`): how many of its hits served a value
    /// its database had since overwritten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<StaleSummary>,
}

/// Scheduled warming's fetches sent after warm-up: `fetches` = `stored` + `dropped` +
/// `in_flight_at_end`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReloadSummary {
    /// Requests sent to fetch a key for a store.
    pub fetches: u64,
    /// Of those, stored.
    pub stored: u64,
    /// Failed, or their store was gone (its process stopped or restarted).
    pub dropped: u64,
    /// Not ended at the end of the run.
    pub in_flight_at_end: u64,
}

/// Stale hits after warm-up: hits on an entry whose key a database wrote after it was stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StaleSummary {
    /// Stale hits (part of `hits`).
    pub hits: u64,
    /// `hits` over the cache's hits (0 without hits).
    pub fraction: f64,
}

impl StaleSummary {
    pub fn new(counts: &CacheCounts) -> StaleSummary {
        StaleSummary {
            hits: counts.stale_hits,
            fraction: if counts.hits == 0 {
                0.0
            } else {
                counts.stale_hits as f64 / counts.hits as f64
            },
        }
    }
}

/// A write-behind cache's writes after warm-up: `writes` = `merged` + `flushed` + `lost` +
/// `pending_at_end` (a write merged into one already waiting is not written on its own).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WriteBehindSummary {
    /// `cache_set` steps run.
    pub writes: u64,
    /// Of those, merged into a write of their key already waiting.
    pub merged: u64,
    /// Written to the database (each a message on the cache's write-behind edge).
    pub flushed: u64,
    /// Lost: the store's process stopped or restarted before their flush.
    pub lost: u64,
    /// Still waiting at the end of the run.
    pub pending_at_end: u64,
}
