//! What a connection pool measured: connections taken, calls that waited and how long,
//! timeouts, refusals, and the most connections in use at once.

use serde::{Deserialize, Serialize};

/// One pool's counters after warm-up (over all its instances).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolCounts {
    /// Calls that asked for a connection.
    pub asked: u64,
    /// Of the waiters, those that got one.
    pub got_after_wait: u64,
    /// Connections taken (at once or after a wait).
    pub acquired: u64,
    /// Calls that found every connection in use and waited (the pool was exhausted).
    pub waited: u64,
    /// Their waits, summed (nanoseconds), for those that got a connection.
    pub wait_ns: u128,
    /// Waits that ran out (`acquire_timeout`).
    pub timeouts: u64,
    /// Calls refused at once: `max_clients` held or waiting.
    pub refused: u64,
    /// Most connections in use at once in one pool instance.
    pub peak_in_use: u32,
}

/// One pool in `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PoolSummary {
    /// "instance" (one per calling instance) or "shared".
    pub scope: String,
    /// Connections.
    pub size: u32,
    /// Calls that took a connection after warm-up.
    pub acquired: u64,
    /// Calls that found the pool exhausted and waited.
    pub waited: u64,
    /// `waited` over the calls that asked.
    pub exhausted_fraction: f64,
    /// Mean wait of those that waited and got a connection, seconds.
    pub mean_wait_s: f64,
    /// Waits that timed out.
    pub timeouts: u64,
    /// Calls refused for `max_clients`.
    pub refused: u64,
    /// Most connections in use at once in one pool.
    pub peak_in_use: u32,
}

impl PoolSummary {
    /// The summary of `c` for a pool of `size` connections.
    pub fn new(scope: &str, size: u32, c: &PoolCounts) -> PoolSummary {
        let (asked, got_after_wait) = (c.asked, c.got_after_wait);
        PoolSummary {
            scope: scope.to_string(),
            size,
            acquired: c.acquired,
            waited: c.waited,
            exhausted_fraction: if asked == 0 {
                0.0
            } else {
                c.waited as f64 / asked as f64
            },
            mean_wait_s: if got_after_wait == 0 {
                0.0
            } else {
                c.wait_ns as f64 / got_after_wait as f64 / 1e9
            },
            timeouts: c.timeouts,
            refused: c.refused,
            peak_in_use: c.peak_in_use,
        }
    }
}
