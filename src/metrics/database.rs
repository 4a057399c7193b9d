//! What a database measured: writes and where reads went, stale reads, how late each
//! replica applied each write (its lag), writes lost at a failover, and the report's
//! per-database summary.

use super::{LatencyHistogram, LatencySummary};
use serde::{Deserialize, Serialize};

/// Where a read was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRoute {
    /// On a replica, by the database's routing.
    Replica,
    /// On the primary because the endpoint is `read_primary`.
    Primary,
    /// On the primary because its key was written within the read-your-writes window.
    ReadYourWrites,
    /// On the primary because no replica was ready.
    Fallback,
}

/// One database's counters (after warm-up, or within one bucket).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatabaseCounts {
    /// Writes committed on the primary.
    pub writes: u64,
    /// Reads routed (`replica_reads` + the three kinds on the primary).
    pub reads: u64,
    /// Reads routed to a replica.
    pub replica_reads: u64,
    /// Reads of `read_primary` endpoints.
    pub primary_reads: u64,
    /// Reads sent to the primary by read-your-writes.
    pub read_your_writes: u64,
    /// Reads on the primary because no replica was ready.
    pub fallback_reads: u64,
    /// Replica reads answered (each checked for staleness when its answer is ready).
    pub checked_reads: u64,
    /// Of those, reads of a key whose newest write that replica had not applied.
    pub stale_reads: u64,
    /// Writes applied by a replica (each write once per replica that follows it).
    pub applied: u64,
    /// Their lags summed (nanoseconds) and the longest.
    pub lag_ns: u128,
    pub max_lag_ns: u64,
}

impl DatabaseCounts {
    /// Mean lag of the writes applied, seconds (0 with none).
    pub fn mean_lag_s(&self) -> f64 {
        if self.applied == 0 {
            0.0
        } else {
            self.lag_ns as f64 / self.applied as f64 / 1e9
        }
    }

    /// Stale reads over replica reads answered (0 with none).
    pub fn stale_fraction(&self) -> f64 {
        if self.checked_reads == 0 {
            0.0
        } else {
            self.stale_reads as f64 / self.checked_reads as f64
        }
    }
}

/// Every database's counters in a run, by database (model order of their services).
#[derive(Debug, Clone)]
pub struct DatabaseMeter {
    /// After warm-up.
    pub counts: Vec<DatabaseCounts>,
    /// In the current bucket.
    pub bucket: Vec<DatabaseCounts>,
    /// Each database's lags after warm-up.
    pub lag: Vec<LatencyHistogram>,
    /// Since the start, warm-up included (what a policy reads differences of).
    pub total: Vec<DatabaseCounts>,
}

impl DatabaseMeter {
    /// A meter for `n` databases.
    pub fn new(n: usize) -> DatabaseMeter {
        DatabaseMeter {
            counts: vec![DatabaseCounts::default(); n],
            bucket: vec![DatabaseCounts::default(); n],
            lag: (0..n).map(|_| LatencyHistogram::precise()).collect(),
            total: vec![DatabaseCounts::default(); n],
        }
    }

    #[inline]
    fn count(&mut self, db: usize, counted: bool, f: impl Fn(&mut DatabaseCounts)) {
        f(&mut self.bucket[db]);
        f(&mut self.total[db]);
        if counted {
            f(&mut self.counts[db]);
        }
    }

    /// A write committed.
    pub fn write(&mut self, db: usize, counted: bool) {
        self.count(db, counted, |c| c.writes += 1);
    }

    /// A replica will have applied a write `lag_ns` after its commit.
    pub fn applied(&mut self, db: usize, lag_ns: u64, counted: bool) {
        self.count(db, counted, |c| {
            c.applied += 1;
            c.lag_ns += u128::from(lag_ns);
            c.max_lag_ns = c.max_lag_ns.max(lag_ns);
        });
        if counted {
            self.lag[db].record(lag_ns);
        }
    }

    /// A read routed where `route` says.
    pub fn routed(&mut self, db: usize, route: ReadRoute, counted: bool) {
        self.count(db, counted, |c| {
            c.reads += 1;
            match route {
                ReadRoute::Replica => c.replica_reads += 1,
                ReadRoute::Primary => c.primary_reads += 1,
                ReadRoute::ReadYourWrites => c.read_your_writes += 1,
                ReadRoute::Fallback => c.fallback_reads += 1,
            }
        });
    }

    /// A replica answered a read; `stale` if it lacked the key's newest write.
    pub fn answered(&mut self, db: usize, stale: bool, counted: bool) {
        self.count(db, counted, |c| {
            c.checked_reads += 1;
            c.stale_reads += u64::from(stale);
        });
    }

    /// The current bucket's counters, and a fresh bucket.
    pub fn take_bucket(&mut self) -> Vec<DatabaseCounts> {
        let b = self.bucket.clone();
        self.bucket.fill(DatabaseCounts::default());
        b
    }
}

/// A failover: the primary died, a replica took over.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailoverSummary {
    /// When the primary failed, seconds from the start.
    pub failed_at_s: f64,
    /// When the promoted replica took writes (absent: none was ready by the end).
    pub promoted_at_s: Option<f64>,
    /// Writes committed on the old primary that the promoted replica never received.
    pub lost_writes: u64,
}

/// One database in `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DatabaseSummary {
    /// Writes committed after warm-up.
    pub writes: u64,
    /// Reads routed after warm-up, wherever they went.
    pub reads: u64,
    /// Of those, to a replica.
    pub replica_reads: u64,
    /// On the primary: `read_primary` endpoints.
    pub primary_reads: u64,
    /// On the primary: read-your-writes.
    pub read_your_writes: u64,
    /// On the primary: no replica was ready.
    pub fallback_reads: u64,
    /// Replica reads answered.
    pub checked_reads: u64,
    /// Of those, reads of a key whose newest write the replica had not applied.
    pub stale_reads: u64,
    /// `stale_reads` / `checked_reads`.
    pub stale_fraction: f64,
    /// How long after its commit each replica applied each write (network and apply
    /// queue), over writes committed after warm-up.
    pub lag_s: LatencySummary,
    /// Writes lost at failovers (whole run).
    pub lost_writes: u64,
    /// Each failover (whole run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failovers: Vec<FailoverSummary>,
}

impl DatabaseSummary {
    /// The summary of counters `c` and lags `lag`.
    pub fn new(
        c: &DatabaseCounts,
        lag: &LatencyHistogram,
        failovers: Vec<FailoverSummary>,
    ) -> DatabaseSummary {
        DatabaseSummary {
            writes: c.writes,
            reads: c.reads,
            replica_reads: c.replica_reads,
            primary_reads: c.primary_reads,
            read_your_writes: c.read_your_writes,
            fallback_reads: c.fallback_reads,
            checked_reads: c.checked_reads,
            stale_reads: c.stale_reads,
            stale_fraction: c.stale_fraction(),
            lag_s: lag.summary(),
            lost_writes: failovers.iter().map(|f| f.lost_writes).sum(),
            failovers,
        }
    }
}
