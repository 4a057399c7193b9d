//! The Kubernetes HorizontalPodAutoscaler's decision as a pure function: from an explicit state
//! (the HPA spec, the target's scale, the pods and their samples, the controller's memory) to
//! the replica count to set, faithful to the upstream controller
//! (`pkg/controller/podautoscaler`, `horizontal.go` and `replica_calculator.go`).
//!
//! ```
//! # use surge::autoscaler::hpa::{reconcile, HpaState, MetricSpec, Pod};
//! // 3 pods at 90% of a 500m CPU request, target 50%: ceil(3 x 90/50) = 6.
//! let mut state = HpaState::new(3, 1, 10, vec![MetricSpec::resource_utilization("cpu", 50)]);
//! state.pods = (0..3)
//!     .map(|i| Pod::running(&format!("web-{i}"), 600.0).with_request("cpu", 500).with_sample("cpu", 450))
//!     .collect();
//! state.validate()?;
//! let decision = reconcile(&state);
//! assert_eq!(decision.desired_replicas, 6);
//! assert_eq!(decision.reason, "cpu resource utilization (percentage of request) above target");
//! # Ok::<(), surge::autoscaler::hpa::StateError>(())
//! ```
//!
//! The flow of one reconcile ([`reconcile`]):
//!
//! 1. A target at zero replicas with `min_replicas > 0` is left alone; one outside the bounds
//!    goes to the nearest bound.
//! 2. Each metric proposes a count (`replica_calculator`): the usage ratio (current over target)
//!    within the tolerance keeps the current count; otherwise `ceil(ratio x ready pods)`, with
//!    unready pods counted as idle on a scale-up and missing pods counted against the direction
//!    of scaling, reverting to the current count if that flips the direction.
//! 3. The largest valid proposal wins. If some metrics fail, only a scale-up is allowed.
//! 4. The proposal is stabilized and limited (`behavior`): without `behavior`, the highest
//!    recommendation of the downscale window and a scale-up of at most `max(2x, 4)`; with it,
//!    both windows and the Pods/Percent policies over the scale events of their periods.
//!
//! The controller's memory (recommendations, scale events) is input and output: the
//! [`Decision`] carries the next values, so a caller that reconciles periodically feeds them back
//! with their ages advanced.

mod behavior;
mod decision;
mod error;
mod reconcile;
mod replica_calculator;
mod snapshot;
mod state;
mod validate;

#[cfg(test)]
mod tests;

pub use decision::{
    Condition, ConditionStatus, ConditionType, Decision, Event, EventType, MetricOutcome,
    PodCounts, ScaleAction,
};
pub use error::{SnapshotFileError, StateError};
pub use reconcile::reconcile;
pub use snapshot::{DEFAULT_CPU_UTILIZATION, parse_snapshot, read_snapshot};
/// The snapshot's types for `metrics`, `behavior` and the controller flags, which a simulated
/// HPA's file form shares: the experiment schema describes those fields with them.
pub(crate) use snapshot::{
    RawBehavior as BehaviorSchema, RawConfig as ControllerSchema, RawMetric as MetricSchema,
};
pub use state::{
    Behavior, ControllerConfig, DEFAULT_CPU_INITIALIZATION_PERIOD_S,
    DEFAULT_DOWNSCALE_STABILIZATION_S, DEFAULT_INITIAL_READINESS_DELAY_S, DEFAULT_SAMPLE_WINDOW_S,
    DEFAULT_SCALE_UP_LIMIT_FACTOR, DEFAULT_SCALE_UP_LIMIT_MINIMUM, DEFAULT_TOLERANCE, HpaState,
    MAX_PERIOD_S, MAX_STABILIZATION_WINDOW_S, MetricSource, MetricSpec, MetricType, Pod, PodPhase,
    PolicyKind, Recommendation, ResourceTarget, Sample, ScaleEvent, ScalingPolicy, ScalingRules,
    SelectPolicy, Tolerances, ValueTarget,
};
