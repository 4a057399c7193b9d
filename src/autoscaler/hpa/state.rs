//! The validated input of one HPA reconcile: the autoscaler's spec, the target's scale, the pods
//! and their metric samples, and the controller's memory of past recommendations and scale events.
//!
//! Every time is an age in seconds before the reconcile ("now" is implicit), so the state is
//! self-contained and a reconcile is a pure function of it. Field names match the snapshot JSON,
//! so the paths in [`StateError`] read the same for a file and for a state built in code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::StateError;

/// The default tolerance of the controller (`--horizontal-pod-autoscaler-tolerance`).
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// The default downscale stabilization window in seconds
/// (`--horizontal-pod-autoscaler-downscale-stabilization`, 5 minutes).
pub const DEFAULT_DOWNSCALE_STABILIZATION_S: f64 = 300.0;
/// The default CPU initialization period in seconds
/// (`--horizontal-pod-autoscaler-cpu-initialization-period`, 5 minutes).
pub const DEFAULT_CPU_INITIALIZATION_PERIOD_S: f64 = 300.0;
/// The default initial readiness delay in seconds
/// (`--horizontal-pod-autoscaler-initial-readiness-delay`).
pub const DEFAULT_INITIAL_READINESS_DELAY_S: f64 = 30.0;
/// Without `behavior`, one reconcile scales up to at most this factor times the current count...
pub const DEFAULT_SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// ... or to this many replicas, whichever is larger (upstream `scaleUpLimitMinimum`).
pub const DEFAULT_SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;
/// The window of a metric sample when a snapshot does not give one: metrics-server's default
/// resolution (`--metric-resolution=15s`).
pub const DEFAULT_SAMPLE_WINDOW_S: f64 = 15.0;
/// The largest stabilization window the API accepts (`MaxStabilizationWindowSeconds`).
pub const MAX_STABILIZATION_WINDOW_S: u32 = 3600;
/// The largest scaling policy period the API accepts (`MaxPeriodSeconds`).
pub const MAX_PERIOD_S: u32 = 1800;

/// Everything one reconcile of one HorizontalPodAutoscaler reads.
///
/// Build it from a snapshot with [`parse_snapshot`](super::parse_snapshot), or in code (start
/// from [`HpaState::new`] and set the fields) and call [`HpaState::validate`] once.
/// [`reconcile`](super::reconcile) never panics, whatever the state, but its answer is only
/// meaningful for a state that validates.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaState {
    /// `scale.spec.replicas` of the target: the count the controller scales from
    /// (upstream's `currentReplicas`).
    pub spec_replicas: u32,
    /// `scale.status.replicas`: the replicas that exist. Object and External metrics with an
    /// `AverageValue` target divide by it.
    pub status_replicas: u32,
    /// `spec.minReplicas` (the API default is 1; 0 needs an Object or External metric).
    pub min_replicas: u32,
    /// `spec.maxReplicas`.
    pub max_replicas: u32,
    /// `spec.metrics`, in order. The largest proposal wins.
    pub metrics: Vec<MetricSpec>,
    /// The pods the target's selector returns.
    pub pods: Vec<Pod>,
    /// `spec.behavior`, with the API defaults filled in; `None` selects the legacy rules
    /// (downscale stabilization and the `max(2x, 4)` scale-up limit).
    pub behavior: Option<Behavior>,
    /// The controller's unstabilized recommendations for this HPA; `None` if the controller has
    /// never reconciled it, in which case the current replica count is recorded first.
    pub recommendations: Option<Vec<Recommendation>>,
    /// Replicas added by recent scale-ups (kept by the controller only when `behavior` is set).
    pub scale_up_events: Vec<ScaleEvent>,
    /// Replicas removed by recent scale-downs (kept only when `behavior` is set).
    pub scale_down_events: Vec<ScaleEvent>,
    /// The controller manager's flags.
    pub config: ControllerConfig,
}

impl HpaState {
    /// A state with `replicas` in spec and status, the given bounds and metrics, no pods, no
    /// behavior, a controller that has never seen the HPA, and default flags.
    pub fn new(
        replicas: u32,
        min_replicas: u32,
        max_replicas: u32,
        metrics: Vec<MetricSpec>,
    ) -> Self {
        HpaState {
            spec_replicas: replicas,
            status_replicas: replicas,
            min_replicas,
            max_replicas,
            metrics,
            pods: Vec::new(),
            behavior: None,
            recommendations: None,
            scale_up_events: Vec::new(),
            scale_down_events: Vec::new(),
            config: ControllerConfig::default(),
        }
    }

    /// Checks what the types cannot: the API's validation rules (bounds, positive targets,
    /// policy ranges) and that the parts agree (unique pod names, samples that name a metric,
    /// finite non-negative ages). The error names the field as a JSON path.
    pub fn validate(&self) -> Result<(), StateError> {
        super::validate::validate(self)
    }
}

/// One entry of `spec.metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    /// The metric's name; for a Resource metric, the resource (`cpu`, `memory`, ...). Resource
    /// and Pods metrics read `pods[].samples[name]`.
    pub name: String,
    /// Where the value comes from and what it is compared with.
    pub source: MetricSource,
    /// The metrics API failed for this metric in this reconcile.
    pub fetch_error: bool,
}

impl MetricSpec {
    /// A Resource metric with a target utilization (percent of the pods' requests).
    pub fn resource_utilization(resource: &str, average_utilization: i32) -> Self {
        Self::new(
            resource,
            MetricSource::Resource(ResourceTarget::Utilization {
                average_utilization,
            }),
        )
    }

    /// A Resource metric with a target average value per pod, in milli-units.
    pub fn resource_average_value(resource: &str, average_value_milli: i64) -> Self {
        Self::new(
            resource,
            MetricSource::Resource(ResourceTarget::AverageValue {
                average_value_milli,
            }),
        )
    }

    /// A Pods metric (a per-pod custom metric) with a target average value per pod.
    pub fn pods(name: &str, average_value_milli: i64) -> Self {
        Self::new(
            name,
            MetricSource::Pods {
                average_value_milli,
            },
        )
    }

    /// An Object metric (one value describing a Kubernetes object) and its observed value.
    pub fn object(name: &str, target: ValueTarget, value_milli: i64) -> Self {
        Self::new(
            name,
            MetricSource::Object {
                target,
                value_milli: Some(value_milli),
            },
        )
    }

    /// An External metric (from outside the cluster) and its observed value, summed over the
    /// series the selector matches.
    pub fn external(name: &str, target: ValueTarget, value_milli: i64) -> Self {
        Self::new(
            name,
            MetricSource::External {
                target,
                value_milli: Some(value_milli),
            },
        )
    }

    /// This metric, failing to fetch in this reconcile.
    #[must_use]
    pub fn failing(mut self) -> Self {
        self.fetch_error = true;
        self
    }

    fn new(name: &str, source: MetricSource) -> Self {
        MetricSpec {
            name: name.to_string(),
            source,
            fetch_error: false,
        }
    }

    /// The metric's source type.
    pub fn metric_type(&self) -> MetricType {
        match self.source {
            MetricSource::Resource(_) => MetricType::Resource,
            MetricSource::Pods { .. } => MetricType::Pods,
            MetricSource::Object { .. } => MetricType::Object,
            MetricSource::External { .. } => MetricType::External,
        }
    }
}

/// The source types of `autoscaling/v2` (`ContainerResource` is not modelled: a pod here has
/// one request per resource).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum MetricType {
    /// A resource of the pods (`cpu`, `memory`), from the resource metrics API.
    Resource,
    /// A custom metric of each pod.
    Pods,
    /// A metric of one Kubernetes object (an Ingress's request rate, ...).
    Object,
    /// A metric from outside the cluster (a queue's length, ...).
    External,
}

/// Where a metric's value comes from and its target. Only the combinations the API accepts can
/// be written.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSource {
    /// A resource of the pods, from `pods[].samples[name]` (and `requests_milli[name]`).
    Resource(ResourceTarget),
    /// A per-pod custom metric from `pods[].samples[name]`, against a target average per pod.
    Pods {
        /// Target average value per pod, milli-units.
        average_value_milli: i64,
    },
    /// A metric of one object.
    Object {
        /// Total value, or average per replica.
        target: ValueTarget,
        /// The observed value, milli-units (`None` only when the fetch failed).
        value_milli: Option<i64>,
    },
    /// A metric from outside the cluster.
    External {
        /// Total value, or average per replica.
        target: ValueTarget,
        /// The observed value (the sum of the matching series), milli-units (`None` only when
        /// the fetch failed).
        value_milli: Option<i64>,
    },
}

/// The target of a Resource metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceTarget {
    /// Average utilization in percent of the pods' requests (the sum of usage over the sum of
    /// requests of the pods with metrics, truncated to an integer percent, as upstream).
    Utilization {
        /// Percent, > 0 (may exceed 100).
        average_utilization: i32,
    },
    /// Average usage per pod, milli-units.
    AverageValue {
        /// Milli-units, > 0.
        average_value_milli: i64,
    },
}

/// The target of an Object or External metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueTarget {
    /// The whole value, compared with the value directly; the proposal scales the ready pods.
    Value {
        /// Milli-units, > 0.
        value_milli: i64,
    },
    /// The value divided among the replicas: the proposal is `ceil(value / average)`.
    AverageValue {
        /// Milli-units, > 0.
        average_value_milli: i64,
    },
}

/// One pod the target's selector returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    /// Unique among the pods.
    pub name: String,
    /// `status.phase`.
    pub phase: PodPhase,
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// The pod has a deletion timestamp (it is terminating): ignored, like a `Failed` pod.
    pub deleting: bool,
    /// Seconds since `status.startTime`; `None` if the pod has no start time (for CPU, such a
    /// pod's samples are set aside as unready).
    pub started_s_ago: Option<f64>,
    /// Seconds since the `Ready` condition last changed; `None` if the pod has no `Ready`
    /// condition (for CPU, unready).
    pub ready_changed_s_ago: Option<f64>,
    /// Requests per resource, milli-units (1 CPU = 1000). Utilization targets need the resource's
    /// request on every pod, as upstream.
    pub requests_milli: BTreeMap<String, i64>,
    /// The latest sample per metric name; a pod without one is "missing" for that metric.
    pub samples: BTreeMap<String, Sample>,
}

impl Pod {
    /// A `Running`, ready pod that started (and became ready) `up_for_s` seconds ago, with no
    /// requests or samples yet.
    pub fn running(name: &str, up_for_s: f64) -> Self {
        Pod {
            name: name.to_string(),
            phase: PodPhase::Running,
            ready: true,
            deleting: false,
            started_s_ago: Some(up_for_s),
            ready_changed_s_ago: Some(up_for_s),
            requests_milli: BTreeMap::new(),
            samples: BTreeMap::new(),
        }
    }

    /// This pod with a request for `resource`.
    #[must_use]
    pub fn with_request(mut self, resource: &str, milli: i64) -> Self {
        self.requests_milli.insert(resource.to_string(), milli);
        self
    }

    /// This pod with a fresh sample (age 0, default window) of `metric`.
    #[must_use]
    pub fn with_sample(self, metric: &str, value_milli: i64) -> Self {
        self.with_sample_at(
            metric,
            Sample {
                value_milli,
                age_s: 0.0,
                window_s: DEFAULT_SAMPLE_WINDOW_S,
            },
        )
    }

    /// This pod with the given sample of `metric`.
    #[must_use]
    pub fn with_sample_at(mut self, metric: &str, sample: Sample) -> Self {
        self.samples.insert(metric.to_string(), sample);
        self
    }
}

/// `status.phase` of a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodPhase {
    /// Accepted but not all containers are running: counted as unready for every metric.
    Pending,
    /// Bound and running.
    Running,
    /// All containers terminated successfully (upstream does not set these aside).
    Succeeded,
    /// Terminated in failure: ignored.
    Failed,
}

/// One metric sample of one pod.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The value, milli-units (CPU: millicores; memory: milli-bytes, as Quantity.MilliValue).
    pub value_milli: i64,
    /// Seconds since the sample's timestamp.
    pub age_s: f64,
    /// The window the sample averages over (CPU readiness rules use it).
    pub window_s: f64,
}

/// `spec.behavior`, with every field resolved as the API's defaulting does.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    /// Rules for scaling up.
    pub scale_up: ScalingRules,
    /// Rules for scaling down.
    pub scale_down: ScalingRules,
}

impl Default for Behavior {
    /// What the API fills in for `behavior: {}`.
    fn default() -> Self {
        Behavior {
            scale_up: ScalingRules::default_scale_up(),
            scale_down: ScalingRules::default_scale_down(),
        }
    }
}

/// `HPAScalingRules`: stabilization window, policies, and how to pick among them.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingRules {
    /// Seconds of recommendations to stabilize over. `None` for scale-down means the
    /// controller's `downscale_stabilization_s` (as upstream, which leaves it unset in the API
    /// default for that reason); `None` for scale-up means 0.
    pub stabilization_window_s: Option<u32>,
    /// Which policy's limit applies.
    pub select_policy: SelectPolicy,
    /// Rate limits; at least one.
    pub policies: Vec<ScalingPolicy>,
    /// The tolerance for this direction (`HPAConfigurableTolerance`), overriding the
    /// controller's.
    pub tolerance: Option<f64>,
}

impl ScalingRules {
    /// The API default for scale-up: no stabilization, at most +4 pods or +100% per 15 s,
    /// whichever allows more.
    pub fn default_scale_up() -> Self {
        ScalingRules {
            stabilization_window_s: Some(0),
            select_policy: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy {
                    kind: PolicyKind::Pods,
                    value: 4,
                    period_s: 15,
                },
                ScalingPolicy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period_s: 15,
                },
            ],
            tolerance: None,
        }
    }

    /// The API default for scale-down: the controller's stabilization window, at most -100%
    /// per 15 s.
    pub fn default_scale_down() -> Self {
        ScalingRules {
            stabilization_window_s: None,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy {
                kind: PolicyKind::Percent,
                value: 100,
                period_s: 15,
            }],
            tolerance: None,
        }
    }
}

/// `selectPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SelectPolicy {
    /// The policy that allows the largest change.
    Max,
    /// The policy that allows the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// One `HPAScalingPolicy`: at most `value` pods or percent of change per `period_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingPolicy {
    /// Pods or Percent.
    pub kind: PolicyKind,
    /// > 0.
    pub value: u32,
    /// 1..=1800 seconds.
    pub period_s: u32,
}

/// The unit of a scaling policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum PolicyKind {
    /// An absolute number of pods.
    Pods,
    /// A percentage of the replicas at the start of the period.
    Percent,
}

/// An unstabilized recommendation the controller remembers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Recommendation {
    /// The recommended replica count (before stabilization and limits).
    pub replicas: u32,
    /// Seconds since it was made.
    pub age_s: f64,
}

/// A past scale event the rate-limit policies count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScaleEvent {
    /// How many replicas were added (in `scale_up_events`) or removed (in `scale_down_events`).
    pub change: u32,
    /// Seconds since it happened.
    pub age_s: f64,
}

/// The controller manager's flags that affect the decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControllerConfig {
    /// The tolerance band around a usage ratio of 1.
    pub tolerance: Tolerances,
    /// Without `behavior`: scale-down stabilization window; with it, the scale-down window
    /// when `behavior` leaves it unset (truncated to whole seconds, as upstream).
    pub downscale_stabilization_s: f64,
    /// For CPU: how long after a pod starts its samples need a full window after readiness.
    pub cpu_initialization_period_s: f64,
    /// For CPU, after the initialization period: an unready pod whose readiness last changed
    /// within this delay of its start has never been ready, and is set aside.
    pub initial_readiness_delay_s: f64,
    /// Without `behavior`: a reconcile scales up to at most `factor x current` ...
    pub scale_up_limit_factor: f64,
    /// ... or this many replicas, whichever is larger.
    pub scale_up_limit_minimum: f64,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            tolerance: Tolerances::symmetric(DEFAULT_TOLERANCE),
            downscale_stabilization_s: DEFAULT_DOWNSCALE_STABILIZATION_S,
            cpu_initialization_period_s: DEFAULT_CPU_INITIALIZATION_PERIOD_S,
            initial_readiness_delay_s: DEFAULT_INITIAL_READINESS_DELAY_S,
            scale_up_limit_factor: DEFAULT_SCALE_UP_LIMIT_FACTOR,
            scale_up_limit_minimum: DEFAULT_SCALE_UP_LIMIT_MINIMUM,
        }
    }
}

/// How far the usage ratio may stray from 1 before the controller acts:
/// `1 - scale_down <= ratio <= 1 + scale_up` keeps the current count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tolerances {
    /// Above 1.
    pub scale_up: f64,
    /// Below 1.
    pub scale_down: f64,
}

impl Tolerances {
    /// The same tolerance both ways.
    pub fn symmetric(tolerance: f64) -> Self {
        Tolerances {
            scale_up: tolerance,
            scale_down: tolerance,
        }
    }

    /// Whether `ratio` is close enough to 1 to keep the current count (both ends inclusive).
    pub fn is_within(&self, ratio: f64) -> bool {
        1.0 - self.scale_down <= ratio && ratio <= 1.0 + self.scale_up
    }
}
