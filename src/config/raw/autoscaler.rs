//! Autoscaling policies as the file gives them, one tagged kind each.

use super::RawRate;
use crate::config::quantity::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

/// Autoscaling policies.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawAutoscaler {
    /// The Kubernetes HorizontalPodAutoscaler, faithful to the upstream controller.
    Hpa(RawHpa),
    /// AWS-style target tracking on CPU or requests per instance.
    TargetTracking(RawTargetTracking),
    /// Forecast-driven sizing (Go Coffee's PredictiveScaler).
    Predictive(RawPredictive),
    /// KEDA on a worker pool's queue length.
    Keda(RawKeda),
    /// Go Coffee's read-replica scaler on a database: read/write ratio, connections, CPU.
    DatabaseReplicas(RawDatabaseReplicas),
    /// Threshold (step) rules, as CloudWatch alarms or the Mercenary guide.
    Threshold {
        /// Fewest instances (at least 1).
        min_replicas: i64,
        /// Most instances.
        max_replicas: i64,
        /// Datapoint length and evaluation interval (default "1m").
        period: Option<Duration>,
        /// Quiet time after an action before the next (default "5m").
        cooldown: Option<Duration>,
        /// Rules that add instances, each with `above` (at least one rule in `scale_out` or
        /// `scale_in`).
        #[serde(default)]
        scale_out: Vec<RawRule>,
        /// Rules that remove instances, each with `below`.
        #[serde(default)]
        scale_in: Vec<RawRule>,
    },
}

/// Target tracking: `{"kind": "target_tracking", "metric": "cpu", "target": 0.5, ...}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTargetTracking {
    /// `cpu` (target a utilisation between 0 and 1) or `requests_per_instance` (target in
    /// requests per second per instance).
    #[schemars(extend("enum" = ["cpu", "requests_per_instance"]))]
    pub metric: String,
    /// The value to hold the metric at: 0.5 for 50% CPU, or requests per second per instance.
    pub target: f64,
    /// Fewest instances (at least 1).
    pub min_replicas: i64,
    /// Most instances.
    pub max_replicas: i64,
    /// Datapoint length and evaluation interval (default "1m").
    pub period: Option<Duration>,
    /// Time after ready during which an instance is not measured (default "5m").
    pub instance_warmup: Option<Duration>,
    /// Time between scale-ins (default "5m").
    pub scale_in_cooldown: Option<Duration>,
    /// Breaching datapoints for scale-out (default 3).
    pub scale_out_datapoints: Option<i64>,
    /// Breaching datapoints for scale-in (default 15).
    pub scale_in_datapoints: Option<i64>,
    /// Low alarm threshold as a fraction of the target (default 0.9).
    pub scale_in_threshold: Option<f64>,
    /// Largest scale-in per action, percent of the fleet (default 10).
    pub scale_in_max_percent: Option<f64>,
    /// Never scale in (default false).
    pub disable_scale_in: Option<bool>,
}

/// Predictive scaling: forecast the request rate, size for it ahead of time. Needs
/// `requests_per_replica`, `cpu_target` or both.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPredictive {
    /// Fewest replicas (at least 1).
    pub min_replicas: i64,
    /// Most replicas.
    pub max_replicas: i64,
    /// Evaluation interval and observation length (default "1m").
    pub period: Option<Duration>,
    /// How far ahead to forecast (default: the instance's time to ready).
    pub look_ahead: Option<Duration>,
    /// Forecasters, the highest forecast wins (default: Holt-Winters with a daily season and
    /// a 10-period linear trend).
    pub forecasters: Option<Vec<RawForecaster>>,
    /// Requests per second one replica should carry.
    pub requests_per_replica: Option<f64>,
    /// CPU utilisation to size for, above 0 and at most 1 (0.7 for 70%).
    pub cpu_target: Option<f64>,
    /// How long a lower recommendation must persist before scale-in (default "5m").
    pub scale_in_stabilization: Option<Duration>,
    /// What traffic looked like before the run, to train the forecasters.
    pub history: Option<RawHistory>,
}

/// A forecaster.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawForecaster {
    /// Additive Holt-Winters.
    HoltWinters {
        /// Level smoothing (default 0.3).
        alpha: Option<f64>,
        /// Trend smoothing (default 0.05).
        beta: Option<f64>,
        /// Seasonal smoothing (default 0.3).
        gamma: Option<f64>,
        /// Season length, a whole number of periods (default "1d").
        season: Option<Duration>,
    },
    /// A least-squares line through recent observations.
    LinearTrend {
        /// How much history the line is fitted to, a whole number of periods from 2 to 10000
        /// (default 10 periods).
        window: Option<Duration>,
    },
}

/// The traffic before the run: a rate profile over `duration`, ending where the run starts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHistory {
    /// Rate over the history (its time zero is the start of the history).
    pub rate: RawRate,
    /// How long the history is, a whole number of the policy's periods.
    pub duration: Duration,
}

/// KEDA ScaledObject on a worker pool's queue (the service's balancer is `queue`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawKeda {
    /// Fewest replicas (default 0: scale to zero).
    pub min_replicas: Option<i64>,
    /// Most replicas (default 100).
    pub max_replicas: Option<i64>,
    /// Waiting messages per replica to aim for.
    pub target: f64,
    /// Messages that wake a pool at zero (default 0).
    pub activation_target: Option<f64>,
    /// Queue check interval, also the generated HPA's sync period (default "30s").
    pub polling_interval: Option<Duration>,
    /// Inactivity before scaling to zero (default "5m").
    pub cooldown_period: Option<Duration>,
    /// Scaling behavior of the HPA that KEDA generates (as its
    /// `advanced.horizontalPodAutoscalerConfig.behavior`), in the HPA's form.
    // Read by the HPA snapshot parser, whose types give the schema.
    #[schemars(with = "Option<crate::autoscaler::hpa::BehaviorSchema>")]
    pub behavior: Option<serde_json::Value>,
}

/// The Kubernetes HPA. `metrics`, `behavior` and `controller` take the same JSON as the
/// `metrics`, `behavior` and `config` of a `surge hpa` snapshot.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHpa {
    /// Fewest replicas (default 1).
    pub min_replicas: Option<i64>,
    /// Most replicas.
    pub max_replicas: i64,
    /// Metrics and targets, as `spec.metrics` of an autoscaling/v2 HPA (default: cpu at 80%
    /// utilisation, as Kubernetes). The simulation measures Resource `cpu` and `memory` and
    /// the Pods metric `requests_per_second`.
    // These three are read by the HPA snapshot parser (`surge hpa`), whose types give the
    // schema.
    #[schemars(with = "Option<Vec<crate::autoscaler::hpa::MetricSchema>>")]
    pub metrics: Option<serde_json::Value>,
    /// Scaling behavior, as `spec.behavior` (absent: the legacy path, with a 5-minute
    /// downscale stabilisation and scale-up limited to max(2x, 4)).
    #[schemars(with = "Option<crate::autoscaler::hpa::BehaviorSchema>")]
    pub behavior: Option<serde_json::Value>,
    /// Controller flags (kube-controller-manager's): tolerance, downscale stabilisation, CPU
    /// initialisation period, initial readiness delay, legacy scale-up limits.
    #[schemars(with = "Option<crate::autoscaler::hpa::ControllerSchema>")]
    pub controller: Option<serde_json::Value>,
    /// Reconcile interval (default "15s").
    pub sync_period: Option<Duration>,
    /// Metric scrape interval and sample window (default "15s").
    pub metric_resolution: Option<Duration>,
    /// CPU request per pod in millicores (default 1000 per core).
    pub cpu_request_milli: Option<i64>,
}

/// A threshold rule: `{"metric": "cpu", "above": 0.7, "for": "5m", "step": 2}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// `cpu` or `memory` (utilisation, 0.7 for 70%), `queue_length` (waiting requests per
    /// instance) or `response_time` (a duration such as "500ms").
    #[schemars(extend("enum" = ["cpu", "memory", "queue_length", "response_time"]))]
    pub metric: String,
    /// Threshold of a `scale_out` rule: fires when the metric is above it.
    #[schemars(with = "Option<ThresholdSchema>")]
    pub above: Option<serde_json::Value>,
    /// Threshold of a `scale_in` rule: fires when the metric is below it.
    #[schemars(with = "Option<ThresholdSchema>")]
    pub below: Option<serde_json::Value>,
    /// How long the condition must hold, a whole number of periods (default one period).
    #[serde(rename = "for")]
    pub for_: Option<Duration>,
    /// Instances to add or remove (default 1).
    pub step: Option<i64>,
}

// Schema only: the resolver reads `above` and `below` by hand, as the metric says.
/// A threshold: a number, or a duration for `response_time`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Threshold")]
#[allow(dead_code)]
enum ThresholdSchema {
    /// For `cpu` and `memory` (a utilisation between 0 and 1) and `queue_length`.
    Number(f64),
    /// For `response_time`.
    Duration(Duration),
}

/// Go Coffee's `DatabaseScaler`: `{"kind": "database_replicas"}` with its thresholds by
/// default.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDatabaseReplicas {
    /// Time between evaluations (default "1m").
    pub period: Option<Duration>,
    /// The two read/write ratios above which 2, then 3 replicas are asked for (default [5, 10]).
    pub ratio_steps: Option<[f64; 2]>,
    /// Open queries above which one more replica (default 80).
    pub connections_above: Option<f64>,
    /// CPU utilisation (0 to 1) above which one more replica (default 0.7).
    pub cpu_above: Option<f64>,
    /// Fewest read replicas (default 1).
    pub min_replicas: Option<i64>,
    /// Most read replicas (default 5).
    pub max_replicas: Option<i64>,
}
