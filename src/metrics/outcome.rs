//! How a request ended. Every request that arrives ends in exactly one outcome, or is still in
//! flight when the run stops.

use indexmap::IndexMap;

/// The end of a request, as its client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Answered successfully.
    Ok,
    /// Refused by an instance whose accept queue was full (HTTP 503).
    Rejected,
    /// The client gave up waiting.
    TimedOut,
    /// The service had no instance to send it to (HTTP 502/503 from the balancer).
    NoInstance,
    /// Its instance was stopped before answering: the drain deadline passed.
    Killed,
    /// Its instance's process went over its memory limit and was killed.
    OomKilled,
    /// Its instance was spot capacity and the cloud took it back.
    Interrupted,
    /// It waited in an accept queue past the server's queue deadline (or its caller's
    /// propagated deadline) and was dropped unserved.
    Expired,
    /// A dependency it called failed (the cause names the edge).
    Failed,
    /// Its caller gave up on it, or the join it belonged to no longer needed it, and its
    /// server stopped the work.
    Cancelled,
    /// Its instance's process crashed while it held it, or it was sent to an instance whose
    /// process was down (connection refused) by a balancer that had not yet noticed.
    Crashed,
    /// Refused by a rate limit that had no token left (HTTP 429).
    RateLimited,
    /// Dropped unserved by its server's load shedding: it had waited past the queue's
    /// allowed delay (controlled delay).
    Shed,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 13] = [
        Outcome::Ok,
        Outcome::Rejected,
        Outcome::TimedOut,
        Outcome::NoInstance,
        Outcome::Killed,
        Outcome::OomKilled,
        Outcome::Interrupted,
        Outcome::Expired,
        Outcome::Failed,
        Outcome::Cancelled,
        Outcome::Crashed,
        Outcome::RateLimited,
        Outcome::Shed,
    ];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::TimedOut => "timed_out",
            Outcome::NoInstance => "no_instance",
            Outcome::Killed => "killed",
            Outcome::OomKilled => "oom_killed",
            Outcome::Interrupted => "interrupted",
            Outcome::Expired => "expired",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
            Outcome::Crashed => "crashed",
            Outcome::RateLimited => "rate_limited",
            Outcome::Shed => "shed",
        }
    }

    #[inline]
    fn index(self) -> usize {
        self as usize
    }
}

/// Counts by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts([u64; Outcome::ALL.len()]);

impl OutcomeCounts {
    /// Counts one.
    #[inline]
    pub fn record(&mut self, o: Outcome) {
        self.0[o.index()] += 1;
    }

    /// Counts `n` more that ended with `o` (reading counts back from a file).
    pub fn add(&mut self, o: Outcome, n: u64) {
        self.0[o.index()] += n;
    }

    /// The counts without those that ended with `o`.
    pub fn without(mut self, o: Outcome) -> OutcomeCounts {
        self.0[o.index()] = 0;
        self
    }

    /// How many ended with `o`.
    pub fn get(&self, o: Outcome) -> u64 {
        self.0[o.index()]
    }

    /// All outcomes.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// All but `Ok`.
    pub fn errors(&self) -> u64 {
        self.total() - self.get(Outcome::Ok)
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &OutcomeCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// As a name -> count map, every outcome present (zeros included) for stable columns.
    pub fn to_map(&self) -> IndexMap<String, u64> {
        Outcome::ALL
            .iter()
            .map(|o| (o.name().to_string(), self.get(*o)))
            .collect()
    }
}
