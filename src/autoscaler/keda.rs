//! KEDA-style scaling of a worker pool on its queue: `replicas = ceil(backlog / target)`.
//!
//! This is how KEDA itself works, and so how this does: a ScaledObject becomes an HPA with one
//! External metric (the queue length) and an `AverageValue` target, so from one replica up the
//! decision is the Kubernetes HPA's, with its tolerance, stabilisation and rate limits (the same
//! code as [`super::hpa`]). KEDA's own operator handles what the HPA cannot: it activates the
//! workload from zero when the queue length passes the activation threshold (checked every
//! polling interval), and scales it back to zero once the queue has stayed at or under the
//! threshold for the cool-down period.

use super::hpa::{self, HpaState, MetricSpec, Pod, ValueTarget};
use super::hpa_controller::{HpaController, HpaSpec};

/// A ScaledObject as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct KedaSpec {
    /// Fewest replicas; 0 lets the pool scale to zero.
    pub min_replicas: u32,
    /// Most replicas.
    pub max_replicas: u32,
    /// Target queue length per replica.
    pub target: f64,
    /// Queue length above which a pool at zero is activated.
    pub activation_target: f64,
    /// Seconds between KEDA's checks of the queue (`pollingInterval`, 30).
    pub polling_interval_s: f64,
    /// Seconds the queue must stay inactive before scaling to zero (`cooldownPeriod`, 300).
    pub cooldown_s: f64,
    /// The HPA KEDA creates (External metric `queue_length`, AverageValue `target`), with the
    /// ScaledObject's `behavior` if any; reconciled every polling interval.
    pub hpa: HpaSpec,
}

impl KedaSpec {
    /// The HPA template KEDA would create: min `max(1, min)`, the External queue-length metric.
    pub fn hpa_template(
        min_replicas: u32,
        max_replicas: u32,
        target: f64,
        behavior: Option<hpa::Behavior>,
    ) -> HpaState {
        let metric = MetricSpec::external(
            QUEUE_METRIC,
            ValueTarget::AverageValue {
                average_value_milli: milli(target).max(1),
            },
            0,
        );
        let mut state = HpaState::new(
            min_replicas.max(1),
            min_replicas.max(1),
            max_replicas,
            vec![metric],
        );
        state.behavior = behavior;
        state
    }
}

/// The External metric's name.
pub const QUEUE_METRIC: &str = "queue_length";

fn milli(v: f64) -> i64 {
    (v * 1000.0).round().clamp(0.0, i64::MAX as f64) as i64
}

/// A decision: the new desired replicas and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Desired replicas.
    pub replicas: u32,
    /// Why, in words.
    pub reason: String,
}

/// KEDA's operator state and the HPA it manages.
#[derive(Debug, Clone)]
pub struct KedaPolicy {
    spec: KedaSpec,
    hpa: HpaController,
    /// When the queue was last above the activation threshold, seconds.
    last_active_s: Option<f64>,
}

impl KedaPolicy {
    /// A ScaledObject just created.
    pub fn new(spec: KedaSpec) -> Self {
        KedaPolicy {
            hpa: HpaController::new(spec.hpa.clone()),
            spec,
            last_active_s: None,
        }
    }

    /// The configuration.
    pub fn spec(&self) -> &KedaSpec {
        &self.spec
    }

    /// One polling interval at `now_ns`: the queue holds `queue_length` messages (waiting and
    /// in progress), `current` replicas are desired, and `pods` are the pool's pods.
    pub fn evaluate(
        &mut self,
        now_ns: u64,
        current: u32,
        queue_length: u64,
        pods: Vec<Pod>,
    ) -> Option<Decision> {
        let now_s = now_ns as f64 / 1e9;
        let active = queue_length as f64 > self.spec.activation_target;
        if active {
            self.last_active_s = Some(now_s);
        }
        if current < self.spec.min_replicas {
            // KEDA's scale executor keeps the pool at its minimum, active or not.
            return Some(Decision {
                replicas: self.spec.min_replicas,
                reason: format!(
                    "keda: {current} replicas is below the minimum {}",
                    self.spec.min_replicas
                ),
            });
        }
        if current == 0 {
            return active.then(|| Decision {
                replicas: self.spec.min_replicas.max(1),
                reason: format!(
                    "keda: activated, queue length {queue_length} > activation {}",
                    self.spec.activation_target
                ),
            });
        }
        let idle_for = now_s - self.last_active_s.unwrap_or(0.0);
        if self.spec.min_replicas == 0 && !active && idle_for >= self.spec.cooldown_s - 1e-9 {
            return Some(Decision {
                replicas: 0,
                reason: format!(
                    "keda: queue inactive for {idle_for:.0} s (cool-down {:.0} s), scaled to zero",
                    self.spec.cooldown_s
                ),
            });
        }
        self.hpa.set_external_value(
            QUEUE_METRIC,
            i64::try_from(queue_length.saturating_mul(1000)).unwrap_or(i64::MAX),
        );
        let d = self.hpa.reconcile(now_ns, current, pods);
        (d.desired_replicas != current).then(|| Decision {
            replicas: d.desired_replicas,
            reason: format!("keda (hpa): {}", d.reason),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(min: u32) -> KedaSpec {
        KedaSpec {
            min_replicas: min,
            max_replicas: 30,
            target: 10.0,
            activation_target: 0.0,
            polling_interval_s: 30.0,
            cooldown_s: 300.0,
            hpa: HpaSpec {
                template: KedaSpec::hpa_template(min, 30, 10.0, None),
                sync_period_s: 30.0,
                metric_resolution_s: 30.0,
                cpu_request_milli: None,
            },
        }
    }

    fn pods(n: u32) -> Vec<Pod> {
        (0..n)
            .map(|k| Pod::running(&format!("w{k}"), 3600.0))
            .collect()
    }

    #[test]
    fn replicas_follow_backlog_over_target() {
        let mut k = KedaPolicy::new(spec(1));
        // 95 messages at 10 per replica: ceil(9.5) = 10, within the legacy scale-up limit
        // max(2 x 2, 4) = 4 from 2... so 4 first.
        let d = k.evaluate(30_000_000_000, 2, 95, pods(2)).unwrap();
        assert_eq!(d.replicas, 4, "{}", d.reason);
        let d = k.evaluate(60_000_000_000, 4, 95, pods(4)).unwrap();
        assert_eq!(d.replicas, 8, "{}", d.reason);
        let d = k.evaluate(90_000_000_000, 8, 95, pods(8)).unwrap();
        assert_eq!(d.replicas, 10, "{}", d.reason);
        // Within the HPA's tolerance: nothing.
        assert_eq!(k.evaluate(120_000_000_000, 10, 104, pods(10)), None);
    }

    #[test]
    fn activates_from_zero_and_scales_back_to_zero_after_the_cooldown() {
        let mut k = KedaPolicy::new(spec(0));
        assert_eq!(k.evaluate(30_000_000_000, 0, 0, pods(0)), None);
        let d = k.evaluate(60_000_000_000, 0, 3, pods(0)).unwrap();
        assert_eq!(d.replicas, 1);
        // The queue empties at 90 s; zero replicas only 300 s after it was last active (60 s).
        let mut t = 90;
        while t < 360 {
            let d = k.evaluate(t * 1_000_000_000, 1, 0, pods(1));
            assert!(d.is_none_or(|d| d.replicas == 1), "at {t} s");
            t += 30;
        }
        assert_eq!(
            k.evaluate(360_000_000_000, 1, 0, pods(1)).unwrap().replicas,
            0
        );
    }

    #[test]
    fn never_scales_to_zero_with_a_minimum() {
        let mut k = KedaPolicy::new(spec(2));
        for t in 1..=20u64 {
            if let Some(d) = k.evaluate(t * 30_000_000_000, 2, 0, pods(2)) {
                assert!(d.replicas >= 2, "{}", d.reason);
            }
        }
    }
}
