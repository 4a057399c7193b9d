//! The simulated Kubernetes HPA controller: what the reconcile loop keeps between syncs (the
//! recommendation history and recent scale events, as absolute times) around the pure
//! [`hpa::reconcile`] decision. The simulation supplies the pods, with samples that a
//! metrics-server-like scraper took at its own resolution, so the controller sees metrics as
//! late and as coarse as a real one does.

use super::hpa::{self, Decision, HpaState, Pod, Recommendation, ScaleEvent};

/// A simulated HPA as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    /// The HPA's spec and controller flags (metrics, bounds, behavior, tolerance...); its pods
    /// and memory are filled in at each reconcile.
    pub template: HpaState,
    /// Seconds between reconciles (`--horizontal-pod-autoscaler-sync-period`, default 15).
    pub sync_period_s: f64,
    /// Seconds between metric scrapes, which is also each sample's window (metrics-server's
    /// `--metric-resolution`, default 15).
    pub metric_resolution_s: f64,
    /// CPU request of each pod, millicores, if set; by default 1000 per core of the pods'
    /// current shape (so a resize changes it, as recreated pods get new requests).
    pub cpu_request_milli: Option<i64>,
}

/// The Pods metrics the simulation measures (requests answered per second, under its two
/// common names).
pub const POD_METRICS: [&str; 2] = ["requests_per_second", "http_requests_per_second"];

impl HpaSpec {
    /// The metric names the HPA reads from pods (Resource and Pods metrics).
    pub fn pod_metrics(&self) -> impl Iterator<Item = &str> {
        self.template
            .metrics
            .iter()
            .filter_map(|m| match &m.source {
                hpa::MetricSource::Resource(_) | hpa::MetricSource::Pods { .. } => {
                    Some(m.name.as_str())
                }
                _ => None,
            })
    }
}

/// The controller's memory between reconciles.
#[derive(Debug, Clone)]
pub struct HpaController {
    spec: HpaSpec,
    /// (replicas, when in ns) of past recommendations; `None` before the first reconcile.
    /// Integer times, so ages at period edges are exact (the policies compare them with `<`).
    recommendations: Option<Vec<(u32, u64)>>,
    scale_up: Vec<(u32, u64)>,
    scale_down: Vec<(u32, u64)>,
}

impl HpaController {
    /// A controller that has never seen its HPA.
    pub fn new(spec: HpaSpec) -> Self {
        HpaController {
            spec,
            recommendations: None,
            scale_up: Vec::new(),
            scale_down: Vec::new(),
        }
    }

    /// The configuration.
    pub fn spec(&self) -> &HpaSpec {
        &self.spec
    }

    /// Sets the value the metrics API will return for the External metric `name` (for a
    /// controller whose metric comes from outside the pods, as KEDA's queue length).
    pub fn set_external_value(&mut self, name: &str, value_milli: i64) {
        for m in &mut self.spec.template.metrics {
            if let hpa::MetricSource::External { value_milli: v, .. } = &mut m.source {
                if m.name == name {
                    *v = Some(value_milli);
                }
            }
        }
    }

    /// One reconcile at `now_ns` nanoseconds, with `spec_replicas` desired and `pods` as they
    /// are now.
    pub fn reconcile(&mut self, now_ns: u64, spec_replicas: u32, pods: Vec<Pod>) -> Decision {
        let mut state = self.spec.template.clone();
        state.spec_replicas = spec_replicas;
        state.status_replicas = pods.iter().filter(|p| !p.deleting).count() as u32;
        state.pods = pods;
        let age = |at: u64| now_ns.saturating_sub(at) as f64 / 1e9;
        state.recommendations = self.recommendations.as_ref().map(|r| {
            r.iter()
                .map(|&(replicas, at)| Recommendation {
                    replicas,
                    age_s: age(at),
                })
                .collect()
        });
        state.scale_up_events = self
            .scale_up
            .iter()
            .map(|&(change, at)| ScaleEvent {
                change,
                age_s: age(at),
            })
            .collect();
        state.scale_down_events = self
            .scale_down
            .iter()
            .map(|&(change, at)| ScaleEvent {
                change,
                age_s: age(at),
            })
            .collect();
        let decision = hpa::reconcile(&state);
        let when = |age_s: f64| now_ns.saturating_sub((age_s * 1e9).round() as u64);
        self.recommendations = Some(
            decision
                .next_recommendations
                .iter()
                .map(|r| (r.replicas, when(r.age_s)))
                .collect(),
        );
        self.scale_up = decision
            .next_scale_up_events
            .iter()
            .map(|e| (e.change, when(e.age_s)))
            .collect();
        self.scale_down = decision
            .next_scale_down_events
            .iter()
            .map(|e| (e.change, when(e.age_s)))
            .collect();
        decision
    }
}
