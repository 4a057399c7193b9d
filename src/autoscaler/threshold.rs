//! Threshold (step) scaling rules, as in CloudWatch alarms driving an Auto Scaling group, or
//! the Mercenary guide: "scale out when CPU > 70% for 5 minutes, in when CPU < 30% for 15
//! minutes, min 2, max 20, 5-minute cool-down".
//!
//! The policy sees one datapoint per evaluation period, aggregated over that period the way a
//! monitoring agent publishes it (mean CPU utilisation of ready instances, mean queue length per
//! instance, mean response time). A rule fires when its condition held in each of the last
//! `datapoints` periods (consecutive breaching datapoints, as an alarm's "M out of M"). Scale-out
//! rules are checked first and the largest step wins; after any action the policy waits out its
//! cool-down. It never reads the simulator's state, only the datapoints it is given.

use std::collections::VecDeque;

/// What a rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Mean CPU utilisation of ready instances over the period, 0..1.
    Cpu,
    /// Mean memory utilisation of ready instances when the agent collected it, 0..1.
    Memory,
    /// Mean requests waiting per ready instance over the period.
    QueueLength,
    /// Mean response time of successful requests finished in the period, seconds.
    ResponseTime,
}

impl Signal {
    /// The name used in files and reasons.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Cpu => "cpu",
            Signal::Memory => "memory",
            Signal::QueueLength => "queue_length",
            Signal::ResponseTime => "response_time",
        }
    }
}

/// One rule: when `signal` is beyond `threshold` for `datapoints` periods, change by `step`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// What it watches.
    pub signal: Signal,
    /// The threshold (above it for scale-out rules, below it for scale-in rules).
    pub threshold: f64,
    /// Consecutive periods the condition must hold.
    pub datapoints: u32,
    /// Instances to add or remove.
    pub step: u32,
}

/// A threshold policy as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdSpec {
    /// Fewest replicas.
    pub min_replicas: u32,
    /// Most replicas.
    pub max_replicas: u32,
    /// Seconds per datapoint (and between evaluations).
    pub period_s: f64,
    /// Seconds after an action during which no other action is taken.
    pub cooldown_s: f64,
    /// Rules that add instances when a signal is above its threshold.
    pub scale_out: Vec<Rule>,
    /// Rules that remove instances when a signal is below its threshold.
    pub scale_in: Vec<Rule>,
}

/// One period's aggregated signals.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Datapoint {
    /// Mean CPU utilisation of ready instances, 0..1.
    pub cpu: f64,
    /// Mean memory utilisation of ready instances, 0..1 (`None` when memory is not modelled
    /// or no instance is ready).
    pub memory: Option<f64>,
    /// Mean requests waiting per ready instance.
    pub queue_length: f64,
    /// Mean response time of successful requests, seconds; `None` if none finished (such a
    /// datapoint is "missing", and breaches no response-time rule).
    pub response_time_s: Option<f64>,
}

impl Datapoint {
    fn get(&self, s: Signal) -> Option<f64> {
        match s {
            Signal::Cpu => Some(self.cpu),
            Signal::Memory => self.memory,
            Signal::QueueLength => Some(self.queue_length),
            Signal::ResponseTime => self.response_time_s,
        }
    }
}

/// A decision: the new desired replicas and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Desired replicas.
    pub replicas: u32,
    /// Why, in words.
    pub reason: String,
}

/// The policy's memory: recent datapoints and the time of its last action.
#[derive(Debug, Clone)]
pub struct ThresholdPolicy {
    spec: ThresholdSpec,
    history: VecDeque<Datapoint>,
    last_action_s: Option<f64>,
}

impl ThresholdPolicy {
    /// A policy with no history.
    pub fn new(spec: ThresholdSpec) -> Self {
        ThresholdPolicy {
            spec,
            history: VecDeque::new(),
            last_action_s: None,
        }
    }

    /// The configuration.
    pub fn spec(&self) -> &ThresholdSpec {
        &self.spec
    }

    /// Takes the datapoint of the period ending at `now_s` and decides, given `current`
    /// desired replicas. Returns `None` to leave the count as it is.
    pub fn evaluate(&mut self, now_s: f64, current: u32, dp: Datapoint) -> Option<Decision> {
        let keep = self
            .spec
            .scale_out
            .iter()
            .chain(&self.spec.scale_in)
            .map(|r| r.datapoints)
            .max()
            .unwrap_or(1);
        self.history.push_front(dp);
        self.history.truncate(keep as usize);
        // Outside [min, max] (e.g. the initial fleet), move inside first, cool-down or not.
        let clamped = current.clamp(self.spec.min_replicas, self.spec.max_replicas);
        if clamped != current {
            return self.act(
                now_s,
                clamped,
                format!(
                    "{current} replicas is outside [{}, {}]",
                    self.spec.min_replicas, self.spec.max_replicas
                ),
            );
        }
        if self
            .last_action_s
            .is_some_and(|t| now_s - t < self.spec.cooldown_s - 1e-9)
        {
            return None;
        }
        let out = self.fired(&self.spec.scale_out, |v, t| v > t);
        if let Some(rule) = out {
            let target = current
                .saturating_add(rule.step)
                .min(self.spec.max_replicas);
            if target > current {
                let reason = self.reason(rule, "above");
                return self.act(now_s, target, reason);
            }
        }
        let inn = self.fired(&self.spec.scale_in, |v, t| v < t);
        if let Some(rule) = inn {
            let target = current
                .saturating_sub(rule.step)
                .max(self.spec.min_replicas);
            if target < current {
                let reason = self.reason(rule, "below");
                return self.act(now_s, target, reason);
            }
        }
        None
    }

    /// The fired rule with the largest step, if any.
    fn fired(&self, rules: &[Rule], beyond: impl Fn(f64, f64) -> bool) -> Option<Rule> {
        rules
            .iter()
            .filter(|r| {
                self.history.len() >= r.datapoints as usize
                    && self
                        .history
                        .iter()
                        .take(r.datapoints as usize)
                        .all(|d| d.get(r.signal).is_some_and(|v| beyond(v, r.threshold)))
            })
            .max_by_key(|r| r.step)
            .copied()
    }

    fn reason(&self, rule: Rule, side: &str) -> String {
        let latest = self
            .history
            .front()
            .and_then(|d| d.get(rule.signal))
            .unwrap_or(f64::NAN);
        let shown = |v: f64| match rule.signal {
            Signal::Cpu | Signal::Memory => format!("{:.0}%", v * 100.0),
            Signal::QueueLength => format!("{v:.1}"),
            Signal::ResponseTime => format!("{:.0} ms", v * 1e3),
        };
        format!(
            "{} {side} {} for {} period(s) (latest {})",
            rule.signal.name(),
            shown(rule.threshold),
            rule.datapoints,
            shown(latest)
        )
    }

    fn act(&mut self, now_s: f64, replicas: u32, reason: String) -> Option<Decision> {
        self.last_action_s = Some(now_s);
        Some(Decision { replicas, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Mercenary guide's rules with one-minute periods.
    fn mercenary() -> ThresholdPolicy {
        ThresholdPolicy::new(ThresholdSpec {
            min_replicas: 2,
            max_replicas: 20,
            period_s: 60.0,
            cooldown_s: 300.0,
            scale_out: vec![
                Rule {
                    signal: Signal::Cpu,
                    threshold: 0.7,
                    datapoints: 5,
                    step: 2,
                },
                Rule {
                    signal: Signal::QueueLength,
                    threshold: 100.0,
                    datapoints: 1,
                    step: 2,
                },
                Rule {
                    signal: Signal::ResponseTime,
                    threshold: 0.5,
                    datapoints: 1,
                    step: 1,
                },
            ],
            scale_in: vec![Rule {
                signal: Signal::Cpu,
                threshold: 0.3,
                datapoints: 15,
                step: 1,
            }],
        })
    }

    fn cpu(v: f64) -> Datapoint {
        Datapoint {
            memory: None,
            cpu: v,
            queue_length: 0.0,
            response_time_s: Some(0.05),
        }
    }

    #[test]
    fn cpu_must_breach_for_the_whole_duration() {
        let mut p = mercenary();
        for minute in 1..=4 {
            assert_eq!(
                p.evaluate(60.0 * f64::from(minute), 4, cpu(0.9)),
                None,
                "minute {minute}"
            );
        }
        let d = p.evaluate(300.0, 4, cpu(0.9)).unwrap();
        assert_eq!(d.replicas, 6);
        assert!(
            d.reason.starts_with("cpu above 70% for 5 period(s)"),
            "{}",
            d.reason
        );
        // One dip resets the count.
        let mut p = mercenary();
        for (k, v) in [0.9, 0.9, 0.6, 0.9, 0.9, 0.9, 0.9].iter().enumerate() {
            assert_eq!(p.evaluate(60.0 * (k + 1) as f64, 4, cpu(*v)), None);
        }
        assert!(p.evaluate(480.0, 4, cpu(0.9)).is_some());
    }

    #[test]
    fn cooldown_blocks_actions_until_it_ends() {
        let mut p = mercenary();
        let busy = Datapoint {
            memory: None,
            cpu: 0.5,
            queue_length: 150.0,
            response_time_s: Some(0.1),
        };
        assert_eq!(p.evaluate(60.0, 4, busy).unwrap().replicas, 6);
        for t in [120.0, 180.0, 240.0, 300.0] {
            assert_eq!(p.evaluate(t, 6, busy), None, "t={t}");
        }
        assert_eq!(p.evaluate(360.0, 6, busy).unwrap().replicas, 8);
    }

    #[test]
    fn largest_step_wins_and_max_clamps() {
        let mut p = mercenary();
        let both = Datapoint {
            memory: None,
            cpu: 0.5,
            queue_length: 150.0,
            response_time_s: Some(0.9),
        };
        assert_eq!(p.evaluate(60.0, 19, both).unwrap().replicas, 20);
        let mut p = mercenary();
        assert_eq!(p.evaluate(60.0, 20, both), None, "already at max");
    }

    #[test]
    fn scale_in_needs_fifteen_quiet_minutes_and_respects_min() {
        let mut p = mercenary();
        for minute in 1..15 {
            assert_eq!(p.evaluate(60.0 * f64::from(minute), 3, cpu(0.1)), None);
        }
        let d = p.evaluate(900.0, 3, cpu(0.1)).unwrap();
        assert_eq!(d.replicas, 2);
        assert!(d.reason.starts_with("cpu below 30%"));
        let mut p = mercenary();
        for minute in 1..=20 {
            assert_eq!(
                p.evaluate(60.0 * f64::from(minute), 2, cpu(0.1)),
                None,
                "at min"
            );
        }
    }

    #[test]
    fn missing_response_times_breach_nothing() {
        let mut p = mercenary();
        let idle = Datapoint {
            memory: None,
            cpu: 0.5,
            queue_length: 0.0,
            response_time_s: None,
        };
        assert_eq!(p.evaluate(60.0, 4, idle), None);
    }

    #[test]
    fn an_initial_fleet_outside_the_bounds_is_moved_inside() {
        let mut p = mercenary();
        assert_eq!(p.evaluate(60.0, 1, cpu(0.5)).unwrap().replicas, 2);
        // Bounds come before the cool-down: a fleet outside them is always moved.
        assert_eq!(p.evaluate(120.0, 30, cpu(0.5)).unwrap().replicas, 20);
    }

    #[test]
    fn a_memory_rule_reads_the_memory_gauge_and_missing_memory_never_breaches() {
        let mut p = ThresholdPolicy::new(ThresholdSpec {
            min_replicas: 2,
            max_replicas: 20,
            period_s: 60.0,
            cooldown_s: 300.0,
            scale_out: vec![Rule {
                signal: Signal::Memory,
                threshold: 0.8,
                datapoints: 5,
                step: 2,
            }],
            scale_in: vec![],
        });
        let mem = |m: Option<f64>| Datapoint {
            memory: m,
            ..cpu(0.1)
        };
        for k in 1..5 {
            assert_eq!(p.evaluate(60.0 * f64::from(k), 4, mem(Some(0.85))), None);
        }
        let d = p.evaluate(300.0, 4, mem(Some(0.85))).unwrap();
        assert_eq!(d.replicas, 6);
        assert!(
            d.reason.contains("memory above 80%") && d.reason.contains("latest 85%"),
            "{}",
            d.reason
        );
        let mut q = ThresholdPolicy::new(p.spec().clone());
        for k in 1..=10 {
            assert_eq!(q.evaluate(60.0 * f64::from(k), 4, mem(None)), None);
        }
    }
}
