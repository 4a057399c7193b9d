//! Latency distributions in HDR histograms (bounded memory, mergeable across runs), with the
//! exact count, sum and maximum kept beside them so means are exact.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Latencies up to about 27.8 hours; longer ones are clamped into the top bucket.
const HIGHEST_NS: u64 = 100_000_000_000_000;

/// A latency histogram in nanoseconds.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

/// Latency statistics in seconds, as reports carry them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Exact mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Exact maximum.
    pub max: f64,
}

impl LatencyHistogram {
    /// Three significant digits from 1 ns: for the run summary.
    pub fn precise() -> Self {
        Self::with(1, 3)
    }

    /// Two significant digits from 1 us: for time-series buckets and SLO windows, where it is
    /// cleared often and must be small.
    pub fn coarse() -> Self {
        Self::with(1000, 2)
    }

    fn with(lowest: u64, digits: u8) -> Self {
        let hist = Histogram::new_with_bounds(lowest, HIGHEST_NS, digits)
            .expect("constant histogram bounds are valid");
        LatencyHistogram {
            hist,
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    /// Records one latency. O(1), no allocation.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns);
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Number of latencies recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact mean in seconds (0 if empty).
    pub fn mean_s(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ns as f64 / self.count as f64 / 1e9
        }
    }

    /// The `q` quantile in seconds, never above the exact maximum (0 if empty).
    pub fn quantile_s(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.hist.value_at_quantile(q).min(self.max_ns) as f64 / 1e9
    }

    /// How many latencies were at most `ns` (to the histogram's precision).
    pub fn count_at_most(&self, ns: u64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        self.hist.count_between(0, ns)
    }

    /// Adds another histogram's latencies.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.hist
            .add(&other.hist)
            .expect("histograms of one kind have equal bounds");
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Empties it (cost proportional to its bucket count, so only when something was recorded).
    pub fn clear(&mut self) {
        if self.count > 0 {
            self.hist.reset();
            self.count = 0;
            self.sum_ns = 0;
            self.max_ns = 0;
        }
    }

    /// The statistics reports carry.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            mean: self.mean_s(),
            p50: self.quantile_s(0.5),
            p90: self.quantile_s(0.9),
            p95: self.quantile_s(0.95),
            p99: self.quantile_s(0.99),
            p999: self.quantile_s(0.999),
            max: self.max_ns as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_within_three_digits_and_mean_exact() {
        let mut h = LatencyHistogram::precise();
        for ms in 1..=1000u64 {
            h.record(ms * 1_000_000);
        }
        let s = h.summary();
        assert_eq!(s.mean, 0.5005);
        assert!((s.p50 - 0.5).abs() / 0.5 < 1e-3, "{}", s.p50);
        assert!((s.p99 - 0.99).abs() / 0.99 < 1e-3, "{}", s.p99);
        assert_eq!(s.max, 1.0);
    }

    #[test]
    fn merged_equals_recorded_together() {
        let (mut a, mut b, mut all) = (
            LatencyHistogram::precise(),
            LatencyHistogram::precise(),
            LatencyHistogram::precise(),
        );
        for v in 0..5000u64 {
            let ns = v * v * 37 + 1;
            if v % 3 == 0 {
                a.record(ns)
            } else {
                b.record(ns)
            }
            all.record(ns);
        }
        a.merge(&b);
        assert_eq!(a.summary(), all.summary());
    }
}
