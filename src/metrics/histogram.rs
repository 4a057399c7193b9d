//! Latency distributions in log-linear histograms (bounded memory, mergeable across runs),
//! with the exact count, sum and maximum kept beside them so means are exact.
//!
//! The buckets are HdrHistogram's (Gil Tene's layout: a power-of-two number of linear
//! sub-buckets per power of two, enough for the stated significant digits), so quantiles are
//! the ones HdrHistogram reports, to the nanosecond. We keep our own because recording is on
//! the path of every request: here it is a few shifts and one increment, where the crate's
//! general `record` (auto-resize, min/max tracking, saturating counts) cost about four times
//! as many instructions.

use serde::{Deserialize, Serialize};

/// Latencies up to about 27.8 hours; longer ones are clamped into the top bucket.
const HIGHEST_NS: u64 = 100_000_000_000_000;

/// A latency histogram in nanoseconds.
#[derive(Clone)]
pub struct LatencyHistogram {
    /// Counts per bucket: bucket 0 holds `2 << half_magnitude` linear steps of one unit; each
    /// bucket after holds the top half of that many steps, each twice as wide as the last's.
    counts: Vec<u64>,
    /// log2 of the unit (the width of the finest step, in nanoseconds).
    unit_magnitude: u32,
    /// log2 of half the sub-buckets per bucket.
    half_magnitude: u32,
    /// Set over the linear range's values (so a small value's bucket comes out 0), and the
    /// leading zeros of the range's top value: what `bucket_of` needs, computed once.
    linear_mask: u64,
    linear_zeros: u32,
    /// Where values beyond the top land.
    top_index: usize,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("count", &self.count)
            .field("buckets", &self.counts.len())
            .field("max_ns", &self.max_ns)
            .finish()
    }
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

    /// Unit resolution up to 2 x 10^digits units, as HdrHistogram's `new_with_bounds(lowest,
    /// HIGHEST_NS, digits)` lays it out.
    fn with(lowest: u64, digits: u32) -> Self {
        let unit_magnitude = lowest.ilog2();
        let sub_magnitude = (2 * 10u64.pow(digits)).next_power_of_two().ilog2();
        let half_magnitude = sub_magnitude - 1;
        // Buckets until the sub-buckets of the last reach past the top.
        let mut buckets = 1;
        let mut untrackable = 1u64 << (sub_magnitude + unit_magnitude);
        while untrackable <= HIGHEST_NS {
            untrackable <<= 1;
            buckets += 1;
        }
        let len = (buckets + 1) << half_magnitude;
        let mut h = LatencyHistogram {
            counts: vec![0; len],
            unit_magnitude,
            half_magnitude,
            linear_mask: ((2u64 << half_magnitude) - 1) << unit_magnitude,
            linear_zeros: 64 - unit_magnitude - half_magnitude - 1,
            top_index: 0,
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        };
        h.top_index = h.index_of(HIGHEST_NS);
        debug_assert!(h.top_index < len);
        h
    }

    /// The bucket of `ns` among the powers of two: 0 for the linear range.
    #[inline]
    fn bucket_of(&self, ns: u64) -> u32 {
        self.linear_zeros - (ns | self.linear_mask).leading_zeros()
    }

    /// The counter `ns` belongs to (past the end for values beyond the top bucket).
    #[inline]
    fn index_of(&self, ns: u64) -> usize {
        let bucket = self.bucket_of(ns);
        let sub = (ns >> (bucket + self.unit_magnitude)) as usize;
        // Bucket b > 0 uses only the top half of its sub-buckets, so it starts b halves in.
        ((bucket as usize) << self.half_magnitude) + sub
    }

    /// The lowest value counter `index` holds.
    fn lowest_at(&self, index: usize) -> u64 {
        let half = 1usize << self.half_magnitude;
        let (bucket, sub) = match (index >> self.half_magnitude).checked_sub(1) {
            Some(b) => (b as u32, (index & (half - 1)) + half),
            None => (0, index),
        };
        (sub as u64) << (bucket + self.unit_magnitude)
    }

    /// The highest value counter `index` holds.
    fn highest_at(&self, index: usize) -> u64 {
        let low = self.lowest_at(index);
        low + (1u64 << (self.unit_magnitude + self.bucket_of(low))) - 1
    }

    /// Records one latency. O(1), no allocation.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let i = self.index_of(ns);
        let i = if i < self.counts.len() {
            i
        } else {
            self.top_index
        };
        self.counts[i] += 1;
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
        // The first counter at which the running count reaches rank ceil(q n), reported as the
        // highest value it holds (HdrHistogram's convention; the lowest for q = 0).
        let q = q.min(1.0);
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let v = if q == 0.0 {
                    self.lowest_at(i)
                } else {
                    self.highest_at(i)
                };
                return v.min(self.max_ns) as f64 / 1e9;
            }
        }
        self.max_ns as f64 / 1e9
    }

    /// How many latencies were at most `ns` (to the histogram's precision).
    pub fn count_at_most(&self, ns: u64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let last = self.index_of(ns).min(self.counts.len() - 1);
        self.counts[..=last].iter().sum()
    }

    /// Adds another histogram's latencies.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        assert_eq!(
            (self.counts.len(), self.unit_magnitude),
            (other.counts.len(), other.unit_magnitude),
            "histograms of one kind have equal bounds"
        );
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Empties it (cost proportional to its bucket count, so only when something was recorded).
    pub fn clear(&mut self) {
        if self.count > 0 {
            self.counts.fill(0);
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

    /// Our buckets are HdrHistogram's: on values spread over every magnitude (and past the
    /// top), every reported quantile and cumulative count is the crate's, to the nanosecond.
    #[test]
    fn quantiles_are_hdrhistograms() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        for (lowest, digits, ours) in [
            (1, 3, LatencyHistogram::precise()),
            (1000, 2, LatencyHistogram::coarse()),
        ] {
            let mut ours = ours;
            let mut reference =
                hdrhistogram::Histogram::<u64>::new_with_bounds(lowest, HIGHEST_NS, digits)
                    .unwrap();
            for _ in 0..50_000 {
                let ns = rng.next_u64() >> (rng.next_u32() % 64);
                ours.record(ns);
                reference.saturating_record(ns);
            }
            for q in [0.0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
                let want = reference.value_at_quantile(q).min(ours.max_ns) as f64 / 1e9;
                assert_eq!(ours.quantile_s(q), want, "q = {q}, digits = {digits}");
            }
            for _ in 0..200 {
                let ns = rng.next_u64() >> (rng.next_u32() % 64);
                assert_eq!(
                    ours.count_at_most(ns),
                    reference.count_between(0, ns),
                    "{ns}"
                );
            }
        }
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
