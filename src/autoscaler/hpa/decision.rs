//! The outcome of one reconcile: the replica count to set and why, the per-metric proposals, the
//! conditions and events upstream would record, and the controller memory to carry to the next
//! reconcile.

use serde::Serialize;

use super::state::{MetricType, Recommendation, ScaleEvent};

/// What one reconcile decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The replica count to set on the target (equal to `current_replicas` when nothing changes).
    pub desired_replicas: u32,
    /// `spec_replicas` of the input: the count the decision starts from.
    pub current_replicas: u32,
    /// Up, down or keep.
    pub action: ScaleAction,
    /// Why, in upstream's words where it has them (the rescale reason of the `SuccessfulRescale`
    /// event, the condition messages), with the stabilization or limit that applied.
    pub reason: String,
    /// The largest proposal of the valid metrics, before stabilization and limits; `None` when
    /// the metrics were not consulted or could not be used.
    pub metric_desired_replicas: Option<i32>,
    /// The recommendation after the stabilization window, before the rate limits and bounds.
    pub stabilized_replicas: Option<i32>,
    /// The stabilization window changed the recommendation.
    pub stabilized: bool,
    /// A rate limit, `min_replicas` or `max_replicas` changed the stabilized recommendation.
    pub limited: bool,
    /// One entry per metric, in spec order.
    pub metrics: Vec<MetricOutcome>,
    /// The HPA status conditions this reconcile sets (`AbleToScale`, `ScalingActive`,
    /// `ScalingLimited`), in the order first set.
    pub conditions: Vec<Condition>,
    /// The Kubernetes events this reconcile would emit.
    pub events: Vec<Event>,
    /// The controller's recommendation history after this reconcile (ages as of now): feed it
    /// back, aged by the time until the next reconcile, as `recommendations`.
    pub next_recommendations: Vec<Recommendation>,
    /// Scale-up events after this reconcile, for the next `scale_up_events`.
    pub next_scale_up_events: Vec<ScaleEvent>,
    /// Scale-down events after this reconcile, for the next `scale_down_events`.
    pub next_scale_down_events: Vec<ScaleEvent>,
}

/// The direction of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ScaleAction {
    /// More replicas.
    ScaleUp,
    /// Fewer replicas.
    ScaleDown,
    /// The same count.
    Keep,
}

/// What one metric proposed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricOutcome {
    /// The metric's source type.
    #[serde(rename = "type")]
    pub kind: MetricType,
    /// The metric's name.
    pub name: String,
    /// Upstream's description, e.g. `cpu resource utilization (percentage of request)`.
    pub description: String,
    /// The replica count this metric proposes; `None` if it failed.
    pub replicas: Option<i32>,
    /// Current over target, as first computed (before unready and missing pods are counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_ratio: Option<f64>,
    /// Current utilization, percent of requests (Utilization targets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_utilization: Option<i32>,
    /// Current average value per pod or replica, milli-units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_average_value_milli: Option<i64>,
    /// Current total value, milli-units (Object and External `Value` targets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_value_milli: Option<i64>,
    /// How the pods were grouped (Resource and Pods metrics).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<PodCounts>,
    /// How the proposal came about, when it is not the plain formula.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why the metric failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The pod groups of one Resource or Pods metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PodCounts {
    /// Pods whose samples count.
    pub ready: u32,
    /// Pending pods, and for CPU pods not yet ready or still initializing: set aside, or
    /// counted as using nothing on a scale-up.
    pub unready: u32,
    /// Pods with no sample: counted against the direction of scaling.
    pub missing: u32,
    /// Deleting or Failed pods: not counted at all.
    pub ignored: u32,
}

/// An HPA status condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    /// Which condition.
    #[serde(rename = "type")]
    pub kind: ConditionType,
    /// `True` or `False`.
    pub status: ConditionStatus,
    /// Upstream's CamelCase reason, e.g. `ScaleDownStabilized`.
    pub reason: String,
    /// Upstream's message.
    pub message: String,
}

/// The condition types of `autoscaling/v2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConditionType {
    /// Whether the HPA can fetch and update the scale, and whether a backoff applies.
    AbleToScale,
    /// Whether the metrics yield a replica count.
    ScalingActive,
    /// Whether the desired count was limited (bounds or rate).
    ScalingLimited,
}

/// The status of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// It does not.
    False,
}

/// A Kubernetes event the controller would record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Normal or Warning.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// e.g. `SuccessfulRescale`, `FailedGetResourceMetric`.
    pub reason: String,
    /// e.g. `New size: 6; reason: cpu resource utilization (percentage of request) above target`.
    pub message: String,
}

/// The type of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    /// Routine.
    Normal,
    /// Something failed.
    Warning,
}

/// Conditions keyed by type: setting one replaces it in place, as upstream's `setCondition`.
#[derive(Debug, Default)]
pub(crate) struct Conditions(Vec<Condition>);

impl Conditions {
    pub(crate) fn set(
        &mut self,
        kind: ConditionType,
        status: ConditionStatus,
        reason: &str,
        message: impl Into<String>,
    ) {
        let condition = Condition {
            kind,
            status,
            reason: reason.to_string(),
            message: message.into(),
        };
        match self.0.iter_mut().find(|c| c.kind == kind) {
            Some(slot) => *slot = condition,
            None => self.0.push(condition),
        }
    }

    pub(crate) fn into_vec(self) -> Vec<Condition> {
        self.0
    }
}
