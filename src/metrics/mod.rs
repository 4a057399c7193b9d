//! Measurements: latency histograms, outcome counters, time-weighted averages and the time
//! series. Everything here is O(1) memory in the number of requests simulated.

pub mod batch_means;
pub mod cache;
pub mod database;
mod histogram;
mod outcome;
pub mod pool;
pub mod shard;
mod time_average;
pub mod timeseries;

pub use histogram::{LatencyHistogram, LatencySummary};
pub use outcome::{Outcome, OutcomeCounts};
pub use time_average::TimeAverage;
