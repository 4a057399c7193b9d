//! Databases: a service whose endpoints are queries, with a primary that takes the writes and
//! read replicas that apply them late. A database saturates like any server (its instances
//! have cores, a connection limit and per-query CPU and I/O); what this module adds is who
//! serves a query (`Query`, `ReadRouting`) and how far behind each replica is
//! (`replication`: a replica applies the primary's writes at a finite rate, so its lag is a
//! network delay plus its apply queue).
//!
//! The primary is one of the service's ready instances (the oldest at the start); the others
//! are replicas, so a policy that scales the service scales its replicas. A scheduled failure
//! can kill the primary (a replica is promoted after a delay) or a replica.

mod replication;

#[cfg(test)]
mod theory;

pub use replication::{ReplicaStream, WriteLog};

use crate::distribution::Dist;
use crate::kernel::SimDuration;

/// What a database endpoint does, which decides where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// A write: on the primary, then replicated.
    Write,
    /// A read routed to a replica by the database's read routing.
    Read,
    /// A read that must see every write (in a transaction, after a lock): on the primary.
    ReadPrimary,
}

/// How reads choose a replica.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReadRouting {
    /// Each replica in turn.
    RoundRobin,
    /// The replica with the fewest open queries (ties: the oldest).
    LeastLoaded,
    /// To the primary when the key was written within `window` (the key stands for the
    /// writer: a user reading their own account), else round robin over replicas.
    ReadYourWrites { window: SimDuration },
}

/// How writes reach the replicas.
#[derive(Debug, Clone)]
pub struct ReplicationSpec {
    /// Writes per second one replica applies (its replay rate): each write takes
    /// 1/`apply_rate` of the replica's single applier, in commit order.
    pub apply_rate: f64,
    /// Delay from the primary's commit to the write's arrival at a replica (`None`: none).
    pub network: Option<Dist>,
    /// Where reads go.
    pub routing: ReadRouting,
}

impl ReplicationSpec {
    /// One write's apply time.
    pub fn apply_time(&self) -> SimDuration {
        SimDuration::from_secs_f64(1.0 / self.apply_rate)
    }
}

/// What a scheduled failure kills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureTarget {
    /// The primary; the oldest ready replica is promoted `promote_after` later (writes fail
    /// meanwhile), and the old primary comes back as a replica after its start-up.
    Primary { promote_after: SimDuration },
    /// The oldest replica, which restarts (start-up and readiness) caught up.
    Replica,
}

/// A failure at a set time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseFailure {
    /// When, from the start of the run.
    pub at: SimDuration,
    pub target: FailureTarget,
}

/// A service that is a database.
#[derive(Debug, Clone, Default)]
pub struct DatabaseSpec {
    /// Replicas and how they follow (`None`: a primary alone; reads must be `read_primary`).
    pub replication: Option<ReplicationSpec>,
    /// Failures in time order.
    pub failures: Vec<DatabaseFailure>,
}

/// Largest apply rate accepted (writes/s): one write's apply time stays a nanosecond or more.
pub const MAX_APPLY_RATE: f64 = 1e9;
