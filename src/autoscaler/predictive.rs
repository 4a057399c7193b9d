//! Predictive scaling, as Go Coffee's `PredictiveScaler`: forecast the request rate one
//! look-ahead from now (the time a new instance takes to become ready, so capacity asked for
//! now is serving when the forecast load arrives), then size the fleet by requests per replica
//! and by the CPU target, take the larger, and clamp to [min, max].
//!
//! The policy only ever sees what has happened: once per period it is handed the request rate
//! and CPU per request measured over the period that just ended (and, optionally, a history of
//! the days before the run, as a real predictor is trained on past weeks). Nothing in its input
//! comes from the future; a test feeds it runs that differ only after some time and checks its
//! decisions before then are identical.
//!
//! Forecasts can be wrong both ways, so the demand it sizes for is never below the rate it
//! just measured, and scale-in waits out a stabilisation window (the largest recommendation of
//! the window wins, as the HPA does).

use super::forecast::{Forecaster, ForecasterSpec};
use std::collections::VecDeque;

/// A predictive policy as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictiveSpec {
    /// Fewest replicas.
    pub min_replicas: u32,
    /// Most replicas.
    pub max_replicas: u32,
    /// Seconds between evaluations (and per observation).
    pub period_s: f64,
    /// How far ahead to forecast, seconds (default: the instance's time to ready).
    pub look_ahead_s: f64,
    /// The forecasters; the largest forecast wins.
    pub forecasters: Vec<ForecasterSpec>,
    /// Requests per second one replica should carry (`None`: not a sizing rule).
    pub requests_per_replica: Option<f64>,
    /// CPU utilisation to size for, 0..1 (`None`: not a sizing rule).
    pub cpu_target: Option<f64>,
    /// Seconds a lower recommendation must persist before the fleet shrinks.
    pub scale_in_stabilization_s: f64,
    /// Request rates of the periods before the run (oldest first), fed to the forecasters
    /// before the first evaluation.
    pub history: Vec<f64>,
}

/// What the policy measured over the period that just ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Cores per replica now (for the CPU rule; a resize changes them).
    pub cores: u32,
    /// Requests that reached the service, per second.
    pub request_rate: f64,
    /// Core-seconds of CPU per answered request (`None` if none was answered).
    pub cpu_per_request_s: Option<f64>,
}

/// A decision: the new desired replicas and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Desired replicas.
    pub replicas: u32,
    /// Why, in words.
    pub reason: String,
}

/// The policy's memory: its forecasters, the CPU cost of a request, and recent
/// recommendations.
#[derive(Debug, Clone)]
pub struct PredictivePolicy {
    spec: PredictiveSpec,
    forecasters: Vec<Forecaster>,
    /// Smoothed core-seconds per request (exponentially weighted, so one odd period does not
    /// swing the fleet).
    cpu_per_request_s: Option<f64>,
    /// (when, replicas) of recommendations within the stabilisation window.
    recommendations: VecDeque<(f64, u32)>,
}

/// Weight of the newest period in the CPU-per-request average.
const CPU_COST_SMOOTHING: f64 = 0.3;

impl PredictivePolicy {
    /// A policy trained on the spec's history, if any.
    pub fn new(spec: PredictiveSpec) -> Self {
        let mut forecasters: Vec<Forecaster> =
            spec.forecasters.iter().map(Forecaster::new).collect();
        for &rate in &spec.history {
            for f in &mut forecasters {
                f.observe(rate);
            }
        }
        PredictivePolicy {
            spec,
            forecasters,
            cpu_per_request_s: None,
            recommendations: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn spec(&self) -> &PredictiveSpec {
        &self.spec
    }

    /// The forecast of the request rate one look-ahead after the last observation, and the
    /// forecaster that made it; `None` while no forecaster has enough history.
    pub fn forecast(&self) -> Option<(f64, &'static str)> {
        let steps = self.spec.look_ahead_s / self.spec.period_s;
        self.forecasters
            .iter()
            .filter_map(|f| f.forecast(steps).map(|v| (v, f.name())))
            .filter(|(v, _)| v.is_finite())
            .fold(
                None,
                |best: Option<(f64, &'static str)>, (v, name)| match best {
                    Some((b, _)) if b >= v => best,
                    _ => Some((v, name)),
                },
            )
    }

    /// Takes the period that ended at `now_s` and decides, given `current` desired replicas.
    pub fn evaluate(&mut self, now_s: f64, current: u32, obs: Observation) -> Option<Decision> {
        for f in &mut self.forecasters {
            f.observe(obs.request_rate);
        }
        if let Some(c) = obs.cpu_per_request_s.filter(|c| c.is_finite() && *c >= 0.0) {
            self.cpu_per_request_s = Some(match self.cpu_per_request_s {
                Some(old) => old + CPU_COST_SMOOTHING * (c - old),
                None => c,
            });
        }
        let (forecast, source) = self
            .forecast()
            .unwrap_or((obs.request_rate, "no forecast yet"));
        let demand = forecast.max(obs.request_rate);
        let by_rate = self
            .spec
            .requests_per_replica
            .map(|r| replicas_for(demand / r));
        let by_cpu = match (self.spec.cpu_target, self.cpu_per_request_s) {
            (Some(target), Some(cost)) => Some(replicas_for(
                demand * cost / (f64::from(obs.cores.max(1)) * target),
            )),
            _ => None,
        };
        let wanted = by_rate
            .into_iter()
            .chain(by_cpu)
            .max()
            .unwrap_or(current)
            .clamp(self.spec.min_replicas, self.spec.max_replicas);
        // Scale-in stabilisation: the largest recommendation within the window.
        self.recommendations.push_back((now_s, wanted));
        while self
            .recommendations
            .front()
            .is_some_and(|&(t, _)| now_s - t >= self.spec.scale_in_stabilization_s - 1e-9)
            && self.recommendations.len() > 1
        {
            self.recommendations.pop_front();
        }
        let stabilised = if wanted < current {
            self.recommendations
                .iter()
                .map(|&(_, r)| r)
                .max()
                .unwrap_or(wanted)
                .min(current)
        } else {
            wanted
        };
        (stabilised != current).then(|| Decision {
            replicas: stabilised,
            reason: format!(
                "predictive: {demand:.0} req/s expected in {:.0} s ({source}: {forecast:.0}, measured {:.0}){}{}",
                self.spec.look_ahead_s,
                obs.request_rate,
                by_rate.map_or(String::new(), |n| format!("; {n} by requests per replica")),
                by_cpu.map_or(String::new(), |n| format!("; {n} by CPU")),
            ),
        })
    }
}

/// Replicas to carry `load` units when one carries one unit.
fn replicas_for(load: f64) -> u32 {
    let n = (load - 1e-9).ceil();
    if n.is_finite() && n > 0.0 {
        n.min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> PredictiveSpec {
        PredictiveSpec {
            min_replicas: 3,
            max_replicas: 50,
            period_s: 60.0,
            look_ahead_s: 120.0,
            forecasters: vec![ForecasterSpec::LinearTrend { window_periods: 5 }],
            requests_per_replica: Some(100.0),
            cpu_target: Some(0.7),
            scale_in_stabilization_s: 300.0,
            history: Vec::new(),
        }
    }

    fn obs(rate: f64) -> Observation {
        Observation {
            cores: 1,
            request_rate: rate,
            cpu_per_request_s: Some(0.005),
        }
    }

    #[test]
    fn sizes_by_the_larger_of_requests_per_replica_and_cpu() {
        let mut p = PredictivePolicy::new(spec());
        // Flat 1,000 req/s: 10 by rate; 1,000 x 5 ms / 0.7 = 7.2 -> 8 by CPU.
        let d = p.evaluate(60.0, 3, obs(1000.0)).unwrap();
        assert_eq!(d.replicas, 10);
        let mut heavy = spec();
        heavy.requests_per_replica = Some(1000.0);
        let mut p = PredictivePolicy::new(heavy);
        assert_eq!(p.evaluate(60.0, 3, obs(1000.0)).unwrap().replicas, 8);
    }

    #[test]
    fn a_rising_trend_is_met_one_look_ahead_early() {
        let mut p = PredictivePolicy::new(spec());
        let mut last = None;
        // +100 req/s per minute: at 500 req/s the line says 700 two minutes ahead.
        for k in 1..=5 {
            last = p.evaluate(60.0 * f64::from(k), 3, obs(100.0 * f64::from(k)));
        }
        let d = last.unwrap();
        assert_eq!(d.replicas, 7, "{}", d.reason);
        assert!(d.reason.contains("linear_trend"), "{}", d.reason);
    }

    #[test]
    fn never_sizes_below_the_measured_rate() {
        let mut p = PredictivePolicy::new(spec());
        for (k, rate) in [1000.0, 800.0, 600.0, 400.0].into_iter().enumerate() {
            p.evaluate(60.0 * (k as f64 + 1.0), 10, obs(rate));
        }
        // The line heads to 0 but 400 req/s are measured: at least 4.
        let f = p.forecast().unwrap().0;
        assert!(f < 400.0);
        let mut q = p.clone();
        let d = q.evaluate(300.0, 3, obs(400.0)).unwrap();
        assert!(d.replicas >= 4, "{}", d.reason);
    }

    #[test]
    fn scale_in_waits_out_the_stabilisation_window() {
        let mut p = PredictivePolicy::new(spec());
        assert_eq!(p.evaluate(60.0, 3, obs(2000.0)).unwrap().replicas, 20);
        // Load drops at once; for 300 s the recommendation of 20 holds.
        for k in 2..=5 {
            assert_eq!(p.evaluate(60.0 * f64::from(k), 20, obs(300.0)), None, "{k}");
        }
        let d = p.evaluate(360.0, 20, obs(300.0)).unwrap();
        assert!(d.replicas < 20, "{}", d.reason);
    }

    #[test]
    fn history_trains_the_forecaster_before_the_run() {
        let mut s = spec();
        s.history = (1..=5).map(|k| 100.0 * f64::from(k)).collect();
        let p = PredictivePolicy::new(s);
        let (f, name) = p.forecast().unwrap();
        assert!((f - 700.0).abs() < 1e-6, "{f}");
        assert_eq!(name, "linear_trend");
    }

    #[test]
    fn clamps_to_the_bounds() {
        let mut p = PredictivePolicy::new(spec());
        assert_eq!(p.evaluate(60.0, 10, obs(0.0)).unwrap().replicas, 3);
        let mut p = PredictivePolicy::new(spec());
        assert_eq!(p.evaluate(60.0, 3, obs(1e9)).unwrap().replicas, 50);
    }
}
