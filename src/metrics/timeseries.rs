//! Time series: one row per bucket of virtual time (default 1 s), for plots and notebooks.

use super::OutcomeCounts;

/// Per-service figures within one bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceBucket {
    /// Requests sent to the service (its share of the clients' arrivals).
    pub arrivals: u64,
    /// Busy core-time over serving (ready or draining) core-time.
    pub cpu_utilisation: f64,
    /// Mean requests waiting (admission or a core), summed over instances.
    pub queue_length: f64,
    /// Replicas asked for at the end of the bucket.
    pub desired: u32,
    /// Instances starting (provisioning, start-up, readiness) at the end of the bucket.
    pub starting: u32,
    /// Instances serving at the end of the bucket.
    pub instances: u32,
    /// Instances draining at the end of the bucket.
    pub draining: u32,
    /// Longest wait of a CPU segment for a core, in seconds.
    pub max_event_loop_lag_s: f64,
    /// Instances the balancer sends requests to at the end of the bucket (the serving ones
    /// its health checks have not taken out, and, with active checks, dead ones they have not
    /// yet noticed).
    pub in_rotation: u32,
}

/// One bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeSeriesRow {
    /// Bucket start, seconds.
    pub t_s: f64,
    /// Bucket width, seconds (the last bucket may be shorter).
    pub width_s: f64,
    /// Requests that arrived.
    pub arrivals: u64,
    /// Requests that ended, by outcome.
    pub outcomes: OutcomeCounts,
    /// Successful responses per second.
    pub throughput_rps: f64,
    /// Median latency of successful responses, seconds (0 if none).
    pub p50_s: f64,
    /// 99th percentile, seconds (0 if none).
    pub p99_s: f64,
    /// Mean requests in flight (sent, not yet answered).
    pub in_flight: f64,
    /// Per service, in model order.
    pub services: Vec<ServiceBucket>,
    /// Per cache, in model order: its counters within the bucket (`timeseries.csv` keeps
    /// lookups, hits and coalesced misses).
    pub caches: Vec<super::cache::CacheCounts>,
    /// Per database, in model order: its counters within the bucket (`timeseries.csv` keeps
    /// writes, replica reads answered, stale reads, and the mean and longest lag).
    pub databases: Vec<super::database::DatabaseCounts>,
}
