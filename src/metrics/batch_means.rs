//! Batch means: confidence intervals from one long run. The measured period is cut into
//! equal batches in time; each batch's figures are treated as roughly independent samples
//! (they are, when a batch is much longer than the system's memory), and the interval comes
//! from their spread with Student's t on `batches - 1` degrees of freedom (Law & Kelton,
//! "Simulation Modeling and Analysis", section 9.5.3).

use super::{LatencyHistogram, Outcome};
use crate::experiment::stats::{Estimate, estimate};
use crate::kernel::{SimDuration, SimTime};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Most batches allowed: each holds a small latency histogram.
pub const MAX_BATCHES: u32 = 100;

/// What one batch saw.
#[derive(Debug, Clone)]
struct Batch {
    ok: u64,
    ended: u64,
    errors: u64,
    response_ns: u128,
    ok_latency: LatencyHistogram,
}

/// Per-batch counters over the measured period `[start, start + batches x width)`.
#[derive(Debug, Clone)]
pub struct Batches {
    start: SimTime,
    width: SimDuration,
    batches: Vec<Batch>,
}

/// A run's batch-means intervals, as `report.json` carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchMeansSummary {
    /// Number of batches.
    pub batches: u32,
    /// Length of each, seconds.
    pub batch_s: f64,
    /// Metric (flat name, as in the variant metrics) -> mean of the batch values with its
    /// 95% interval over batches.
    pub metrics: IndexMap<String, Estimate>,
    /// Lag-1 autocorrelation of the batch means of `mean_response_s`: near zero when the
    /// batches are long enough to be independent; above about 0.2, use fewer, longer
    /// batches.
    pub lag1_autocorrelation: Option<f64>,
}

impl Batches {
    /// `count` batches over the measured period from `start` of length `measured`.
    pub fn new(start: SimTime, measured: SimDuration, count: u32) -> Batches {
        let count = count.clamp(1, MAX_BATCHES);
        Batches {
            start,
            width: SimDuration::from_nanos((measured.as_nanos() / u64::from(count)).max(1)),
            batches: (0..count)
                .map(|_| Batch {
                    ok: 0,
                    ended: 0,
                    errors: 0,
                    response_ns: 0,
                    ok_latency: LatencyHistogram::coarse(),
                })
                .collect(),
        }
    }

    /// A counted request ended at `now`: it belongs to the batch it ended in.
    #[inline]
    pub fn record(&mut self, now: SimTime, outcome: Outcome, ns: u64) {
        let k = (now.since(self.start).as_nanos() / self.width.as_nanos()) as usize;
        let last = self.batches.len() - 1;
        let b = &mut self.batches[k.min(last)];
        b.ended += 1;
        b.response_ns += u128::from(ns);
        if outcome == Outcome::Ok {
            b.ok += 1;
            b.ok_latency.record(ns);
        } else {
            b.errors += 1;
        }
    }

    /// The intervals, metric by metric.
    pub fn summary(&self) -> BatchMeansSummary {
        let width_s = self.width.as_secs_f64();
        let mut series: IndexMap<String, Vec<f64>> = IndexMap::new();
        let ratio = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        for b in &self.batches {
            let h = &b.ok_latency;
            for (name, v) in [
                ("throughput_rps", b.ok as f64 / width_s),
                ("error_rate", ratio(b.errors, b.ended)),
                ("latency_s.mean", h.mean_s()),
                ("latency_s.p50", h.quantile_s(0.5)),
                ("latency_s.p90", h.quantile_s(0.9)),
                ("latency_s.p95", h.quantile_s(0.95)),
                ("latency_s.p99", h.quantile_s(0.99)),
                (
                    "mean_response_s",
                    if b.ended == 0 {
                        0.0
                    } else {
                        b.response_ns as f64 / b.ended as f64 / 1e9
                    },
                ),
            ] {
                series.entry(name.to_string()).or_default().push(v);
            }
        }
        BatchMeansSummary {
            batches: self.batches.len() as u32,
            batch_s: width_s,
            lag1_autocorrelation: lag1(&series["mean_response_s"]),
            metrics: series.into_iter().map(|(k, v)| (k, estimate(&v))).collect(),
        }
    }
}

/// Lag-1 autocorrelation (absent with fewer than three values or no spread).
fn lag1(x: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 3 {
        return None;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let var: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
    if var == 0.0 {
        return None;
    }
    let cov: f64 = x.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    Some(cov / var)
}

/// The interval a report shows for `metric` of a single run with batch means: centred on the
/// whole run's value (for quantiles, the batch average is biased by the batches' smaller
/// samples), as wide as the batches' spread says.
pub fn interval(run_value: f64, batches: &Estimate) -> Estimate {
    let half = batches.ci95_half_width;
    Estimate {
        mean: run_value,
        ci95_half_width: half,
        ci95_low: half.map(|h| run_value - h),
        ci95_high: half.map(|h| run_value + h),
        n: batches.n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_fall_in_the_batch_they_end_in() {
        let start = SimTime::ZERO + SimDuration::from_secs_f64(10.0);
        let mut b = Batches::new(start, SimDuration::from_secs_f64(100.0), 4);
        for s in [10u32, 30, 35, 60, 99, 109] {
            b.record(
                SimTime::ZERO + SimDuration::from_secs_f64(f64::from(s)),
                Outcome::Ok,
                1_000_000,
            );
        }
        b.record(
            SimTime::ZERO + SimDuration::from_secs_f64(40.0),
            Outcome::Rejected,
            0,
        );
        let counts: Vec<u64> = b.batches.iter().map(|x| x.ended).collect();
        assert_eq!(counts, [2, 2, 1, 2]);
        let s = b.summary();
        assert_eq!(s.batches, 4);
        assert_eq!(s.batch_s, 25.0);
        // Batches [10, 35), [35, 60), [60, 85), [85, 110): 2, 1, 1 and 2 ok in 25 s each.
        let t = s.metrics["throughput_rps"];
        assert!((t.mean - 0.06).abs() < 1e-12);
        assert_eq!(t.n, 4);
    }

    #[test]
    fn lag1_sees_trends_and_alternation() {
        assert!(lag1(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap() > 0.4);
        assert!(lag1(&[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]).unwrap() < -0.5);
        assert_eq!(lag1(&[2.0, 2.0, 2.0]), None);
    }
}
