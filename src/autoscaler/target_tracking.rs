//! Target tracking, as an AWS Auto Scaling group's target tracking policy: keep a metric (mean
//! CPU utilisation, or requests per instance) at a target.
//!
//! How AWS runs it, and so how this does:
//! - The policy owns two CloudWatch alarms on one-minute datapoints: a high alarm (metric above
//!   the target for 3 datapoints in a row) and a low alarm (below 90% of the target for 15).
//! - Scale-out is proportional and fast: the new capacity is
//!   `ceil(measured instances x metric / target)`, and never below what is already asked for,
//!   so instances still warming up count as capacity on the way (no double scale-out).
//! - Scale-in is gradual: the same formula, but at most `scale_in_max_percent` of the fleet
//!   (at least one instance) per action, and not while instances are warming up or within the
//!   scale-in cool-down of the last scale-in. AWS does not publish its exact step; this limit
//!   is our reading of "scales in gradually" and is configurable.
//! - Instances in their warm-up (`instance_warmup` after they became ready) are left out of
//!   the metric, since a booting JVM or cold cache makes their numbers unrepresentative.

/// What the policy tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackedMetric {
    /// Mean CPU utilisation of measured instances, 0..1 (ASGAverageCPUUtilization).
    Cpu,
    /// Requests answered per second per measured instance (ALBRequestCountPerTarget, per
    /// second rather than per minute).
    RequestsPerInstance,
}

impl TrackedMetric {
    /// The name used in files and reasons.
    pub fn name(self) -> &'static str {
        match self {
            TrackedMetric::Cpu => "cpu",
            TrackedMetric::RequestsPerInstance => "requests_per_instance",
        }
    }
}

/// A target tracking policy as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTrackingSpec {
    /// The tracked metric.
    pub metric: TrackedMetric,
    /// Its target value.
    pub target: f64,
    /// Fewest instances.
    pub min_replicas: u32,
    /// Most instances.
    pub max_replicas: u32,
    /// Seconds per datapoint (one-minute detailed monitoring by default).
    pub period_s: f64,
    /// Datapoints in a row above the target that fire the scale-out alarm (3).
    pub scale_out_datapoints: u32,
    /// Datapoints in a row below `scale_in_threshold x target` that fire the scale-in alarm
    /// (15).
    pub scale_in_datapoints: u32,
    /// The low alarm's threshold as a fraction of the target (0.9).
    pub scale_in_threshold: f64,
    /// Seconds after becoming ready during which an instance is not measured (300).
    pub instance_warmup_s: f64,
    /// Seconds after a scale-in before the next one (300).
    pub scale_in_cooldown_s: f64,
    /// Largest scale-in per action, percent of the current count (10).
    pub scale_in_max_percent: f64,
    /// Never scale in (AWS `DisableScaleIn`).
    pub disable_scale_in: bool,
}

/// One period's view of the fleet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// The metric over measured instances (`None`: no instance could be measured, which an
    /// alarm sees as missing data).
    pub value: Option<f64>,
    /// Instances the value was measured over (ready and past warm-up).
    pub measured: u32,
    /// Instances asked for but still starting or warming up.
    pub warming: u32,
}

/// A decision: the new desired capacity and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Desired instances.
    pub replicas: u32,
    /// Why, in words.
    pub reason: String,
}

/// The policy's memory: how many datapoints in a row breached each alarm, and the last
/// scale-in.
#[derive(Debug, Clone)]
pub struct TargetTrackingPolicy {
    spec: TargetTrackingSpec,
    high_streak: u32,
    low_streak: u32,
    last_scale_in_s: Option<f64>,
}

impl TargetTrackingPolicy {
    /// A policy whose alarms have seen nothing yet.
    pub fn new(spec: TargetTrackingSpec) -> Self {
        TargetTrackingPolicy {
            spec,
            high_streak: 0,
            low_streak: 0,
            last_scale_in_s: None,
        }
    }

    /// The configuration.
    pub fn spec(&self) -> &TargetTrackingSpec {
        &self.spec
    }

    /// Takes the datapoint of the period ending at `now_s` and decides, given `current`
    /// desired instances. `None` leaves the count as it is.
    pub fn evaluate(&mut self, now_s: f64, current: u32, obs: Observation) -> Option<Decision> {
        let spec = &self.spec;
        match obs.value {
            Some(v) if v > spec.target => {
                self.high_streak += 1;
                self.low_streak = 0;
            }
            Some(v) if v < spec.scale_in_threshold * spec.target => {
                self.low_streak += 1;
                self.high_streak = 0;
            }
            // In between, or missing: both alarms return to OK / insufficient data.
            _ => {
                self.high_streak = 0;
                self.low_streak = 0;
            }
        }
        let clamped = current.clamp(spec.min_replicas, spec.max_replicas);
        if clamped != current {
            return Some(Decision {
                replicas: clamped,
                reason: format!(
                    "{current} instances is outside [{}, {}]",
                    spec.min_replicas, spec.max_replicas
                ),
            });
        }
        let value = obs.value?;
        let needed = self.needed(value, obs.measured);
        if self.high_streak >= spec.scale_out_datapoints {
            let target = needed.clamp(current, spec.max_replicas);
            if target > current {
                return Some(Decision {
                    replicas: target,
                    reason: self.reason(value, "above", spec.scale_out_datapoints),
                });
            }
        }
        if self.low_streak >= spec.scale_in_datapoints
            && !spec.disable_scale_in
            && obs.warming == 0
            && self
                .last_scale_in_s
                .is_none_or(|t| now_s - t >= spec.scale_in_cooldown_s - 1e-9)
        {
            let step =
                ((f64::from(current) * spec.scale_in_max_percent / 100.0).floor() as u32).max(1);
            let target = needed
                .max(current.saturating_sub(step))
                .max(spec.min_replicas);
            if target < current {
                self.last_scale_in_s = Some(now_s);
                // The alarm stays in ALARM; AWS re-evaluates it each period, so the streak
                // continues and the next step waits only for the cool-down.
                return Some(Decision {
                    replicas: target,
                    reason: self.reason(value, "below", spec.scale_in_datapoints),
                });
            }
        }
        None
    }

    /// Instances that would bring the metric to its target: the load the measured ones carry,
    /// spread at the target.
    fn needed(&self, value: f64, measured: u32) -> u32 {
        let load = value * f64::from(measured.max(1));
        let n = (load / self.spec.target - 1e-9).ceil();
        if n.is_finite() && n > 0.0 {
            n.min(f64::from(u32::MAX)) as u32
        } else {
            0
        }
    }

    fn reason(&self, value: f64, side: &str, datapoints: u32) -> String {
        let shown = |v: f64| match self.spec.metric {
            TrackedMetric::Cpu => format!("{:.0}%", v * 100.0),
            TrackedMetric::RequestsPerInstance => format!("{v:.1}/s"),
        };
        let threshold = if side == "above" {
            self.spec.target
        } else {
            self.spec.target * self.spec.scale_in_threshold
        };
        format!(
            "target tracking: {} {} {side} {} for {datapoints} datapoints (target {})",
            self.spec.metric.name(),
            shown(value),
            shown(threshold),
            shown(self.spec.target)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TargetTrackingSpec {
        TargetTrackingSpec {
            metric: TrackedMetric::Cpu,
            target: 0.5,
            min_replicas: 2,
            max_replicas: 20,
            period_s: 60.0,
            scale_out_datapoints: 3,
            scale_in_datapoints: 15,
            scale_in_threshold: 0.9,
            instance_warmup_s: 300.0,
            scale_in_cooldown_s: 300.0,
            scale_in_max_percent: 10.0,
            disable_scale_in: false,
        }
    }

    fn obs(value: f64, measured: u32) -> Observation {
        Observation {
            value: Some(value),
            measured,
            warming: 0,
        }
    }

    #[test]
    fn scale_out_waits_for_three_datapoints_then_goes_proportional() {
        let mut p = TargetTrackingPolicy::new(spec());
        assert_eq!(p.evaluate(60.0, 4, obs(0.9, 4)), None);
        assert_eq!(p.evaluate(120.0, 4, obs(0.9, 4)), None);
        // 4 x 0.9 / 0.5 = 7.2 -> 8.
        let d = p.evaluate(180.0, 4, obs(0.9, 4)).unwrap();
        assert_eq!(d.replicas, 8);
        assert!(d.reason.contains("above"), "{}", d.reason);
    }

    #[test]
    fn warming_instances_count_so_scale_out_is_not_doubled() {
        let mut p = TargetTrackingPolicy::new(spec());
        for t in 1..=3 {
            p.evaluate(60.0 * f64::from(t), 4, obs(0.9, 4));
        }
        // Desired is now 8 with 4 warming; the 4 measured still read 0.9: needs 8, has 8.
        let warming = Observation {
            value: Some(0.9),
            measured: 4,
            warming: 4,
        };
        assert_eq!(p.evaluate(240.0, 8, warming), None);
        // Load grew further: 4 x 1.2 / 0.5 = 9.6 -> 10, only the difference is added.
        let more = Observation {
            value: Some(1.2),
            measured: 4,
            warming: 4,
        };
        assert_eq!(p.evaluate(300.0, 8, more).unwrap().replicas, 10);
    }

    #[test]
    fn a_datapoint_between_the_alarms_resets_both_streaks() {
        let mut p = TargetTrackingPolicy::new(spec());
        p.evaluate(60.0, 4, obs(0.9, 4));
        p.evaluate(120.0, 4, obs(0.9, 4));
        assert_eq!(p.evaluate(180.0, 4, obs(0.48, 4)), None);
        assert_eq!(p.evaluate(240.0, 4, obs(0.9, 4)), None);
    }

    #[test]
    fn missing_data_breaks_the_streak() {
        let mut p = TargetTrackingPolicy::new(spec());
        p.evaluate(60.0, 4, obs(0.9, 4));
        p.evaluate(120.0, 4, obs(0.9, 4));
        let missing = Observation {
            value: None,
            measured: 0,
            warming: 4,
        };
        assert_eq!(p.evaluate(180.0, 4, missing), None);
        assert_eq!(p.evaluate(240.0, 4, obs(0.9, 4)), None);
    }

    #[test]
    fn scale_in_is_gradual_and_waits_for_fifteen_datapoints_and_the_cooldown() {
        let mut p = TargetTrackingPolicy::new(spec());
        // 20 instances at 10%: needs 4, but at most 10% (2) per action.
        for k in 1..15 {
            assert_eq!(
                p.evaluate(60.0 * f64::from(k), 20, obs(0.1, 20)),
                None,
                "{k}"
            );
        }
        let d = p.evaluate(900.0, 20, obs(0.1, 20)).unwrap();
        assert_eq!(d.replicas, 18);
        // Still low, but within the 300 s cool-down.
        for k in 16..20 {
            assert_eq!(
                p.evaluate(60.0 * f64::from(k), 18, obs(0.1, 18)),
                None,
                "{k}"
            );
        }
        assert_eq!(p.evaluate(1200.0, 18, obs(0.1, 18)).unwrap().replicas, 17);
    }

    #[test]
    fn scale_in_never_goes_below_what_the_load_needs_or_the_minimum() {
        let mut s = spec();
        s.scale_in_max_percent = 100.0;
        let mut p = TargetTrackingPolicy::new(s);
        for k in 1..15 {
            p.evaluate(60.0 * f64::from(k), 10, obs(0.4, 10));
        }
        // 10 x 0.4 / 0.5 = 8.
        assert_eq!(p.evaluate(900.0, 10, obs(0.4, 10)).unwrap().replicas, 8);
        let mut p = TargetTrackingPolicy::new(TargetTrackingSpec {
            scale_in_max_percent: 100.0,
            ..spec()
        });
        for k in 1..=15 {
            let d = p.evaluate(60.0 * f64::from(k), 10, obs(0.0, 10));
            if k == 15 {
                assert_eq!(d.unwrap().replicas, 2);
            }
        }
    }

    #[test]
    fn no_scale_in_while_instances_warm_up_or_when_disabled() {
        let mut p = TargetTrackingPolicy::new(spec());
        let warming = Observation {
            value: Some(0.1),
            measured: 10,
            warming: 1,
        };
        for k in 1..=20 {
            assert_eq!(p.evaluate(60.0 * f64::from(k), 11, warming), None);
        }
        let mut p = TargetTrackingPolicy::new(TargetTrackingSpec {
            disable_scale_in: true,
            ..spec()
        });
        for k in 1..=20 {
            assert_eq!(p.evaluate(60.0 * f64::from(k), 10, obs(0.1, 10)), None);
        }
    }

    #[test]
    fn outside_bounds_moves_inside_first_and_max_caps_scale_out() {
        let mut p = TargetTrackingPolicy::new(spec());
        assert_eq!(p.evaluate(60.0, 1, obs(0.5, 1)).unwrap().replicas, 2);
        let mut p = TargetTrackingPolicy::new(spec());
        for k in 1..=3 {
            let d = p.evaluate(60.0 * f64::from(k), 10, obs(5.0, 10));
            if k == 3 {
                assert_eq!(d.unwrap().replicas, 20);
            }
        }
    }
}
