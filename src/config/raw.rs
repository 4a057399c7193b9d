//! Serde types that mirror the JSON files field for field. Unknown fields are refused. Nothing
//! here is validated beyond types: [`super::resolve`] turns these into the typed specs the
//! simulation reads, rejecting impossible values with their JSON path.

use super::quantity::{Duration, Quantity};
use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A JSON object of user-chosen names, read in file order, refusing a name that appears twice
/// (serde_json alone would keep the last one silently).
#[derive(Debug)]
pub struct UniqueMap<V>(pub IndexMap<String, V>);

impl<V> Default for UniqueMap<V> {
    fn default() -> Self {
        UniqueMap(IndexMap::new())
    }
}

impl<V> std::ops::Deref for UniqueMap<V> {
    type Target = IndexMap<String, V>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a, V> IntoIterator for &'a UniqueMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = indexmap::map::Iter<'a, String, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// An object whose values are `V`. (That a name appears once cannot be said in JSON Schema: a
/// validator sees the object after parsing, duplicates gone.)
impl<V: JsonSchema> JsonSchema for UniqueMap<V> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }

    fn schema_id() -> Cow<'static, str> {
        format!("{}::UniqueMap<{}>", module_path!(), V::schema_id()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": generator.subschema_for::<V>()
        })
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = UniqueMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object keyed by name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueMap<V>, A::Error> {
                let mut out = IndexMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(de::Error::custom(format!(
                            "`{key}` appears twice; a name may appear once, or the second would silently replace the first"
                        )));
                    }
                    let value = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(UniqueMap(out))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

/// An experiment file: a model, the traffic that reaches it, for how long, and the variants to
/// compare.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExperiment {
    /// The JSON Schema editors check this file against, e.g. "../schema/experiment.schema.json"
    /// (relative to this file). Ignored by Surge.
    #[serde(rename = "$schema")]
    pub schema: Option<String>,
    /// Names the experiment in reports and in the default output directory
    /// (`results/<name>/`); defaults to the file name without extension.
    pub name: Option<String>,
    /// What the experiment shows; printed above the summary table and kept in the report.
    pub description: Option<String>,
    /// The system to simulate: a path to a model file, relative to this file (e.g.
    /// "../models/web-api.json"), or the model written inline.
    pub model: ModelSource,
    /// The clients that send traffic (at least one); each names the endpoints it calls.
    pub workload: Vec<RawClient>,
    /// Simulated time of each run, e.g. "10m" or "24h".
    pub duration: Duration,
    /// Initial period left out of the summary metrics (default "0s"); shorter than `duration`.
    pub warmup: Option<Duration>,
    /// Master seed of every random stream (default 1): the same file and seed give a
    /// byte-identical report.
    pub seed: Option<u64>,
    /// Independent replications of each variant (default 1, at most 100000); summaries give
    /// means with 95% confidence intervals over them.
    pub replications: Option<u32>,
    /// Width of a time-series bucket in timeseries.csv and the plots (default "1s").
    pub resolution: Option<Duration>,
    /// Batch means: cut the measured period of a single long run into this many equal
    /// batches and take 95% intervals from their spread (2 to 100, usually 20 to 30; needs
    /// `replications` = 1).
    #[schemars(range(min = 2, max = 100))]
    pub batch_means: Option<u32>,
    /// Service-level objective: a latency quantile target and/or an error-rate ceiling, judged
    /// per window.
    pub slo: Option<RawSlo>,
    /// Variants to compare on identical traffic, run in this order: each a JSON merge patch
    /// (RFC 7396) over the model, e.g. {"services": {"api": {"replicas": 4}}}, or {} for the
    /// model as it is. A patch can change only what the model has. Absent: the model runs as
    /// one variant, `base`.
    #[serde(default)]
    #[schemars(schema_with = "variant_patches")]
    pub variants: UniqueMap<serde_json::Value>,
    /// Parameters to sweep, read by `surge sweep` (`surge run` runs the file as written):
    /// {"mode": "grid", "parameters": [{"path": "model.services.api.replicas", "values": [2, 3, 4]}]}.
    // Kept as JSON because `surge sweep` reads it by hand (see `crate::sweep::spec`); the
    // schema comes from the schema-only `SweepSchema` beside that parser.
    #[schemars(with = "Option<crate::sweep::spec::SweepSchema>")]
    pub sweep: Option<serde_json::Value>,
}

/// `variants`: objects keyed by variant name, each a merge patch. What a patch may hold is the
/// model's business (checked when it is applied), so the schema only says "an object".
fn variant_patches(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "description": "A JSON merge patch over the model: the fields to change (null removes one), e.g. {\"services\": {\"api\": {\"replicas\": 4}}}.",
            "type": "object"
        }
    })
}

/// Where the model comes from.
#[derive(Debug)]
pub enum ModelSource {
    /// A path relative to the file that names it.
    Path(String),
    /// The model written in place.
    Inline(Box<RawModel>),
}

/// A string (the path) or a model object, as the deserializer below takes them.
impl JsonSchema for ModelSource {
    fn schema_name() -> Cow<'static, str> {
        "ModelSource".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::ModelSource").into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                {
                    "description": "A path to a model file, relative to this file.",
                    "type": "string",
                    "examples": ["../models/web-api.json"]
                },
                generator.subschema_for::<RawModel>()
            ]
        })
    }
}

impl<'de> Deserialize<'de> for ModelSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ModelSource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path to a model file (a string) or a model object")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ModelSource, E> {
                Ok(ModelSource::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ModelSource, A::Error> {
                RawModel::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|m| ModelSource::Inline(Box::new(m)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A model file: the system's topology and capacities (services, their instances, balancers,
/// endpoints, autoscalers and prices); no traffic, no duration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// The JSON Schema editors check this file against, e.g. "../schema/model.schema.json"
    /// (relative to this file). Ignored by Surge.
    #[serde(rename = "$schema")]
    pub schema: Option<String>,
    /// Display name (default: the file's name without extension).
    pub name: Option<String>,
    /// What is modelled.
    pub description: Option<String>,
    /// Services by name (letters, digits, `-` and `_`; the name appears in report keys).
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub services: UniqueMap<RawService>,
    /// Instance types and prices of your own, added to (or replacing) the bundled catalogue,
    /// e.g. {"c7g.large": {"vcpus": 2, "memory": "4GiB", "on_demand_per_hour": 0.0725}}.
    #[serde(default)]
    pub instance_types: UniqueMap<RawInstanceType>,
}

/// The names the resolver accepts for services, endpoints and clients: non-empty, letters,
/// digits, `-` and `_` (they appear in report keys such as `service.endpoint`).
pub const NAME_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// A priced instance type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceType {
    /// vCPUs (for reference only: the instance's `cores` are what the simulation uses).
    pub vcpus: Option<i64>,
    /// Memory (for reference only: the instance's `memory` is what the simulation uses).
    pub memory: Option<super::quantity::Size>,
    /// USD per instance-hour on demand.
    pub on_demand_per_hour: f64,
    /// USD per reserved instance-hour (default: the on-demand price).
    pub reserved_per_hour: Option<f64>,
}

/// How a service is billed.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    /// An instance type from the bundled catalogue (t3.medium, m5.large, m5.xlarge,
    /// m5.2xlarge, c5.large, r5.large) or the model's `instance_types`.
    pub instance_type: String,
    /// Instances reserved (default 0): paid for the whole run, used first.
    pub reserved: Option<i64>,
    /// Run instances beyond the reservation on spot capacity.
    pub spot: Option<RawSpot>,
}

/// Spot capacity: `{"interruptions_per_hour": 0.05, "price_per_hour": 0.035, "notice": "2m"}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSpot {
    /// Interruptions per spot instance-hour (a Poisson process), e.g. 0.05.
    pub interruptions_per_hour: f64,
    /// USD per spot instance-hour (default 35% of the on-demand price).
    pub price_per_hour: Option<f64>,
    /// Warning before an interruption (default 0s: no handler, the instance just goes).
    pub notice: Option<Duration>,
}

/// A service: identical instances behind a balancer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// What the service does.
    pub description: Option<String>,
    /// Instances at the start of the run (ready at time zero); schedules and autoscalers
    /// change the count from there.
    pub replicas: i64,
    /// The shape of every instance: cores, runtime, admission limits, memory.
    pub instance: RawInstance,
    /// How requests are spread over instances (default {"kind": "round_robin"}).
    pub balancer: Option<RawBalancer>,
    /// Endpoints by name (letters, digits, `-` and `_`): what serving one request costs.
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub endpoints: UniqueMap<RawEndpoint>,
    /// Delays of starting and stopping instances: provisioning, start-up, readiness, drain.
    pub lifecycle: Option<RawLifecycle>,
    /// Replica changes and resizes at set times (scheduled scaling), in time order.
    pub schedule: Option<Vec<RawScheduled>>,
    /// A policy that changes the replica count from what it observes.
    pub autoscaler: Option<RawAutoscaler>,
    /// How its instances are billed (absent: the service costs nothing in reports).
    pub cost: Option<RawCost>,
    /// A request that waited longer than this in an accept queue (or this worker pool's
    /// queue) is dropped unserved when it reaches the front, as `expired` (default: never).
    pub queue_timeout: Option<Duration>,
    /// The service knows each request's deadline (its caller's remaining budget, as gRPC
    /// sends it): a request dequeued after it is `expired`, and its own calls wait at most
    /// until it (default false: nginx, Node, Go net/http and Tomcat do not).
    pub propagate_deadlines: Option<bool>,
    /// The service stops work on a request whose caller gave up (a cancelled gRPC context),
    /// at the request's next step (default false: the work runs to its end).
    pub cancel_abandoned: Option<bool>,
}

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

/// Instance life-cycle delays.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLifecycle {
    /// Node or VM boot and image pull (default "0s").
    pub provisioning: Option<Duration>,
    /// Process start (default "0s").
    pub startup: Option<Duration>,
    /// From start-up to the first successful readiness probe (default "0s").
    pub readiness: Option<Duration>,
    /// Grace period for in-flight requests of a removed instance (default "30s").
    pub drain_timeout: Option<Duration>,
}

/// One scheduled action: a replica count, a resize, or both.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScheduled {
    /// When, from the start of the run, e.g. "2h".
    pub at: Duration,
    /// Desired replicas from then on (with an autoscaler: its new starting point).
    pub replicas: Option<i64>,
    /// Vertical scaling: restart every instance with a new shape.
    pub resize: Option<RawResize>,
}

/// A new instance shape for vertical scaling.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawResize {
    /// The new shape (as the service's `instance`).
    pub instance: RawInstance,
    /// The new instance type, if the bill changes (the service must have a `cost`).
    pub instance_type: Option<String>,
    /// `recreate` (default: all at once) or `rolling` (one at a time).
    pub strategy: Option<RawResizeStrategy>,
}

/// How instances restart for a resize.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawResizeStrategy {
    /// All at once.
    Recreate,
    /// One at a time.
    Rolling,
}

/// An instance shape.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    /// CPU cores (1 to 1024).
    pub cores: i64,
    /// How the cores run CPU work: "thread_pool" (default) or "event_loop".
    pub runtime: Option<RawRuntime>,
    /// Most requests in progress at once; more wait in the accept queue (default: no limit).
    /// For a `queue` balancer: the workers per instance (required there).
    pub concurrency_limit: Option<i64>,
    /// Most requests waiting for a concurrency slot; more are rejected with a 503 (default: no
    /// limit). Needs `concurrency_limit`.
    pub queue_limit: Option<i64>,
    /// Time slice for `cpu` steps (absent: each runs to completion).
    pub cpu_quantum: Option<Duration>,
    /// Event loops of an `event_loop` instance, 1 to `cores` (default: one per core, Node's
    /// cluster mode).
    pub workers: Option<i64>,
    /// Memory use and limit (absent: memory is not modelled).
    pub memory: Option<RawMemory>,
}

/// Memory: `{"base": "200MiB", "per_request": "2MiB", "limit": "512Mi", "request": "256Mi"}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMemory {
    /// In use with no request open.
    pub base: super::quantity::Size,
    /// Added per open request (default 0).
    pub per_request: Option<super::quantity::Size>,
    /// Over this the process is killed (OOM) with its requests and restarted (default: no
    /// limit).
    pub limit: Option<super::quantity::Size>,
    /// The pod's request (Kubernetes memory utilisation is over it; default: the limit).
    pub request: Option<super::quantity::Size>,
}

/// How an instance's cores run CPU work.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawRuntime {
    /// One shared run queue for all cores (Go, JVM, a thread-per-request server).
    ThreadPool,
    /// One event loop per core; a request stays on the loop that accepted it (Node cluster).
    EventLoop,
}

/// A load-balancing algorithm.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawBalancer {
    /// Each instance in turn.
    RoundRobin {},
    /// Uniformly at random.
    Random {},
    /// The instance with the fewest open requests (ties: round robin among them).
    LeastConnections {},
    /// A worker pool pulling from one queue: workers with a free slot take the oldest message.
    Queue {
        /// Most messages waiting (default: unbounded).
        max_length: Option<i64>,
    },
}

/// An endpoint: what serving one request costs, step by step.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    /// What the endpoint does.
    pub description: Option<String>,
    /// The steps, run in order: each {"cpu": ...}, {"block": ...} or {"io": ...} with a
    /// duration ("20ms") or a distribution ({"kind": "exponential", "mean": "20ms"}), or a
    /// {"call": ...}, {"enqueue": ...}, {"parallel": [...]} or {"branch": [...]}.
    pub steps: Vec<RawStep>,
}

/// One step of an endpoint: exactly one of `cpu`, `block`, `io`, `call`, `enqueue`,
/// `parallel` (with its optional `join` and `leftovers`) or `branch`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Compute that needs a core (time-sliced if the instance has a `cpu_quantum`).
    pub cpu: Option<RawDist<Duration>>,
    /// Synchronous compute that holds its core until done, never sliced.
    pub block: Option<RawDist<Duration>>,
    /// An asynchronous wait that holds no core (disk, a sleep, a dependency not modelled).
    pub io: Option<RawDist<Duration>>,
    /// A request to another service's endpoint, waited for.
    pub call: Option<RawCall>,
    /// A message to a worker pool's queue, not waited for.
    pub enqueue: Option<RawEnqueue>,
    /// Branches run at once, each a list of steps.
    pub parallel: Option<Vec<Vec<RawStep>>>,
    /// With `parallel`: go on when "all" (default), "any" or {"quorum": k} branches succeed.
    pub join: Option<RawJoin>,
    /// With `parallel`: what happens to branches the join no longer waits for: "finish"
    /// (default: they run on, as `Promise.race` leaves them) or "cancel".
    pub leftovers: Option<RawLeftovers>,
    /// One path chosen at random: [{"p": 0.1, "steps": [...]}, ...], probabilities summing to 1.
    pub branch: Option<Vec<RawArm>>,
}

/// A call: `{"service": "users", "endpoint": "get", "timeout": "1s"}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCall {
    /// The service called.
    pub service: String,
    /// Its endpoint.
    pub endpoint: String,
    /// How long the caller waits before giving up (default: for ever, or the caller's
    /// deadline where the caller propagates deadlines).
    pub timeout: Option<Duration>,
    /// Network latency, drawn once each way (default: none).
    pub latency: Option<RawDist<Duration>>,
    /// What a failed call does to the caller: "fail" (default: the caller's answer is an
    /// error naming this dependency) or "continue" (an optional dependency, a fallback).
    pub on_error: Option<RawOnError>,
}

/// A message to a worker pool: `{"service": "jobs", "endpoint": "process"}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEnqueue {
    /// The worker pool (a service with a `queue` balancer).
    pub service: String,
    /// Its endpoint.
    pub endpoint: String,
    /// Delay before the message is on the queue (default: none).
    pub latency: Option<RawDist<Duration>>,
}

/// What a failed call does to its caller.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawOnError {
    /// The caller fails.
    Fail,
    /// The caller goes on.
    Continue,
}

/// When a fan-out goes on.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawJoin {
    /// "all" or "any".
    Kind(RawJoinKind),
    /// {"quorum": k}: when k branches have succeeded.
    Quorum {
        /// Branch successes needed (1 to the number of branches).
        quorum: i64,
    },
}

/// "all" or "any".
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawJoinKind {
    /// Every branch.
    All,
    /// One branch.
    Any,
}

/// What happens to branches a join no longer waits for.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawLeftovers {
    /// They run to their end.
    Finish,
    /// They stop at their next step.
    Cancel,
}

/// One path of a random branch.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawArm {
    /// Probability of this path (0 to 1; the paths' sum to 1).
    pub p: f64,
    /// Its steps (may be empty).
    pub steps: Vec<RawStep>,
}

/// A distribution: a string shorthand for a constant ("20ms") or an object with a `kind`.
#[derive(Debug)]
pub enum RawDist<Q> {
    /// A constant written as a plain quantity.
    Shorthand(Q),
    /// A full specification.
    Spec(DistSpec<Q>),
}

/// The shorthand (whatever `Q` accepts) or a distribution object, as deserialized below.
impl<Q: JsonSchema> JsonSchema for RawDist<Q> {
    fn schema_name() -> Cow<'static, str> {
        format!("Dist_of_{}", Q::schema_name()).into()
    }

    fn schema_id() -> Cow<'static, str> {
        format!("{}::RawDist<{}>", module_path!(), Q::schema_id()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A constant written as a plain value (\"20ms\"), or a distribution object with a `kind`, e.g. {\"kind\": \"exponential\", \"mean\": \"20ms\"}.",
            "anyOf": [
                generator.subschema_for::<Q>(),
                generator.subschema_for::<DistSpec<Q>>()
            ]
        })
    }
}

impl<'de, Q: Quantity> Deserialize<'de> for RawDist<Q> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<Q>(PhantomData<Q>);
        impl<'de, Q: Quantity> Visitor<'de> for V<Q> {
            type Value = RawDist<Q>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a constant like \"20ms\", or a distribution object such as {\"kind\": \"exponential\", \"mean\": \"20ms\"}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDist<Q>, E> {
                Q::parse_str(v).map(RawDist::Shorthand).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDist<Q>, E> {
                Q::deserialize(de::value::U64Deserializer::<E>::new(v)).map(RawDist::Shorthand)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDist<Q>, E> {
                Q::deserialize(de::value::I64Deserializer::<E>::new(v)).map(RawDist::Shorthand)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDist<Q>, E> {
                Q::deserialize(de::value::F64Deserializer::<E>::new(v)).map(RawDist::Shorthand)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDist<Q>, A::Error> {
                DistSpec::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawDist::Spec)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The distribution kinds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    bound = "Q: Quantity"
)]
pub enum DistSpec<Q> {
    /// Always `value`.
    Constant {
        /// The value.
        value: Q,
    },
    /// Exponential with the given mean.
    Exponential {
        /// The mean.
        mean: Q,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// The smallest value.
        min: Q,
        /// The largest value.
        max: Q,
    },
    /// Normal truncated at zero.
    Normal {
        /// The mean (before truncation).
        mean: Q,
        /// The standard deviation (before truncation).
        std_dev: Q,
    },
    /// Log-normal by `mean` and `p99`, or by `mu` and `sigma` of ln(x in base units).
    Lognormal {
        /// The mean (with `p99`).
        mean: Option<Q>,
        /// The 99th percentile (with `mean`).
        p99: Option<Q>,
        /// Mean of the natural log of the value in seconds or bytes (with `sigma`).
        mu: Option<f64>,
        /// Standard deviation of the natural log of the value (with `mu`).
        sigma: Option<f64>,
    },
    /// Gamma by `shape` and either `scale` or `mean`.
    Gamma {
        /// The shape parameter k.
        shape: f64,
        /// The scale parameter theta (or give `mean`).
        scale: Option<Q>,
        /// The mean, k theta (or give `scale`).
        mean: Option<Q>,
    },
    /// Pareto by minimum `scale` and tail index `shape`.
    Pareto {
        /// The minimum value.
        scale: Q,
        /// The tail index alpha (the mean is finite above 1).
        shape: f64,
    },
    /// One of `values`, with optional `weights`.
    Empirical {
        /// The values to draw from.
        values: Vec<Q>,
        /// Relative weights, one per value (default: all equal).
        weights: Option<Vec<f64>>,
    },
    /// A weighted mixture: each draw picks a component by weight, then draws from its
    /// distribution (a mixture of exponentials is a hyperexponential).
    Mixture {
        /// 1 to 1000 components; mixtures nest at most 4 deep.
        #[schemars(length(min = 1, max = crate::distribution::MAX_MIXTURE_COMPONENTS))]
        components: Vec<RawMixtureComponent<Q>>,
    },
}

/// One component of a mixture.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, bound = "Q: Quantity")]
pub struct RawMixtureComponent<Q> {
    /// Relative weight, more than zero (the weights are normalised to sum to one).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub weight: f64,
    /// The component's distribution: any kind, or the shorthand for a constant.
    pub dist: RawDist<Q>,
}

/// A client: open-loop (arrivals from a rate profile or an inter-arrival distribution) or
/// closed-loop (connections).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = client_kind_fields)]
pub struct RawClient {
    /// Names the client's random streams and its rows in reports (default `client<k>`, k its
    /// index); unique, letters, digits, `-` and `_`.
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub name: Option<String>,
    /// "open" (arrivals from a `rate` or an `interarrival` distribution, whatever the
    /// responses) or "closed" (`connections` that each wait for a response before sending
    /// again).
    pub kind: RawClientKind,
    /// Open clients (this or `interarrival`): the arrival rate over time; arrivals are
    /// Poisson.
    pub rate: Option<RawRate>,
    /// Open clients (this or `rate`): the time between arrivals, drawn afresh for each gap (a
    /// renewal process): "10ms" is one every 10 ms, a gamma smoother than Poisson, a mixture
    /// of exponentials burstier. Its mean must be finite and at least 100us.
    pub interarrival: Option<RawDist<Duration>>,
    /// Closed clients (required there): connections, each with one request outstanding at a
    /// time.
    pub connections: Option<i64>,
    /// Closed clients: pause between a response and the next request (default: none).
    pub think: Option<RawDist<Duration>>,
    /// Closed clients: connections start evenly spread over this span (default: all at once).
    pub ramp_up: Option<Duration>,
    /// Closed clients: pause after an error before the connection sends again (default
    /// "1ms").
    pub error_pause: Option<Duration>,
    /// Which endpoints requests go to, with weights (at least one entry).
    pub mix: Vec<RawMixEntry>,
    /// The client gives up on a request after this long (default: never).
    pub timeout: Option<Duration>,
}

/// Open clients need exactly one of `rate` and `interarrival` and take none of the
/// closed-loop fields; closed clients need `connections` and take neither. The resolver refuses
/// the same (`resolve::client_arrivals`); the schema says it too, so editors flag it as it is
/// typed. (Where the resolver would take an explicit `null` for an absent field, the schema
/// refuses it.)
fn client_kind_fields(schema: &mut Schema) {
    let open_only = ["rate", "interarrival"];
    let closed_only = ["connections", "think", "ramp_up", "error_pause"];
    let forbid = |fields: &[&str]| -> serde_json::Map<String, serde_json::Value> {
        fields
            .iter()
            .map(|f| (f.to_string(), serde_json::Value::Bool(false)))
            .collect()
    };
    schema.insert(
        "allOf".into(),
        serde_json::json!([
            {
                "if": { "properties": { "kind": { "const": "open" } } },
                "then": {
                    "oneOf": [ { "required": ["rate"] }, { "required": ["interarrival"] } ],
                    "properties": forbid(&closed_only)
                }
            },
            {
                "if": { "properties": { "kind": { "const": "closed" } } },
                "then": { "required": ["connections"], "properties": forbid(&open_only) }
            }
        ]),
    );
}

/// Open or closed loop.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawClientKind {
    /// Arrivals do not wait for responses.
    Open,
    /// Each connection waits for its response before sending again.
    Closed,
}

/// One entry of a client's endpoint mix.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMixEntry {
    /// A service of the model.
    pub service: String,
    /// An endpoint of that service.
    pub endpoint: String,
    /// Relative weight, more than zero (default 1).
    pub weight: Option<f64>,
}

/// Arrival-rate profiles, in requests per second.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawRate {
    /// A fixed rate.
    Constant {
        /// Requests per second.
        rps: f64,
    },
    /// `from_rps` until `start`, linear to `to_rps` over `over`, then `to_rps`.
    Ramp {
        /// Requests per second before the ramp.
        from_rps: f64,
        /// Requests per second after the ramp.
        to_rps: f64,
        /// When the ramp begins (default "0s").
        start: Option<Duration>,
        /// How long the ramp takes.
        over: Duration,
    },
    /// `from_rps` before `at`, `to_rps` from then on.
    Step {
        /// Requests per second before `at`.
        from_rps: f64,
        /// Requests per second from `at` on.
        to_rps: f64,
        /// When the rate jumps.
        at: Duration,
    },
    /// Baseline, linear rise to the peak, plateau, linear decay back to baseline.
    Spike {
        /// Requests per second outside the spike.
        baseline_rps: f64,
        /// Requests per second on the plateau.
        peak_rps: f64,
        /// When the rise begins.
        start: Duration,
        /// From the baseline to the peak.
        rise: Duration,
        /// Time at the peak.
        plateau: Duration,
        /// From the peak back to the baseline.
        decay: Duration,
    },
    /// mean * (1 + amplitude * cos(2 pi (t - peak_at) / period)).
    Diurnal {
        /// Mean requests per second over a period.
        mean_rps: f64,
        /// Swing as a fraction of the mean, 0 to 1.
        amplitude: f64,
        /// Length of one cycle (default "1d").
        period: Option<Duration>,
        /// Time of the daily peak (default: half a period).
        peak_at: Option<Duration>,
    },
    /// Rates at given times, joined linearly (default) or held until the next point.
    Points {
        /// The points, in time order (at least one; before the first and after the last the
        /// rate is the nearest point's).
        points: Vec<RawPoint>,
        /// Between points: "linear" (default) or "step" (hold until the next point).
        interpolation: Option<RawInterpolation>,
    },
    /// A CSV trace with `t_seconds,requests` rows, replayed from `from` to `to`.
    Trace {
        /// The CSV file, relative to the file that names it.
        file: String,
        /// Trace time that becomes simulated time zero (default: the trace's start).
        from: Option<Duration>,
        /// Trace time where the replay ends (default: the trace's end); no arrivals after it.
        to: Option<Duration>,
        /// Scale so the busiest bin of the window has this rate (or give `factor`).
        peak_rps: Option<f64>,
        /// Multiply every rate by this (or give `peak_rps`).
        factor: Option<f64>,
        /// Within and between bins: "step" (default: each bin's mean rate) or "linear".
        interpolation: Option<RawInterpolation>,
    },
    /// The sum of several profiles.
    Sum {
        /// The profiles to add (at least one).
        of: Vec<RawRate>,
    },
    /// The product of several profiles (a baseline times a multiplier).
    Product {
        /// The profiles to multiply (at least one).
        of: Vec<RawRate>,
    },
    /// Black Friday: a diurnal baseline; from `event_start - ramp` a pre-event rise to
    /// `pre_event_multiplier`; at `event_start` the surge to `peak_multiplier` x baseline over
    /// `surge` (minutes); the peak held for `peak`; a long tail back to 1x over `tail`.
    BlackFriday {
        /// Mean requests per second of the diurnal baseline.
        baseline_mean_rps: f64,
        /// Day/night swing of the baseline, fraction of its mean (default 0.5).
        amplitude: Option<f64>,
        /// Time of the baseline's daily peak (default "20h").
        baseline_peak_at: Option<Duration>,
        /// When the event (the surge) begins.
        event_start: Duration,
        /// Multiplier of the peak (default 10).
        peak_multiplier: Option<f64>,
        /// Multiplier reached just before the event (default 2).
        pre_event_multiplier: Option<f64>,
        /// Pre-event rise (default "2h").
        ramp: Option<Duration>,
        /// From the event's start to the peak (default "5m").
        surge: Option<Duration>,
        /// Time at the peak (default "1h").
        peak: Option<Duration>,
        /// Decay back to the baseline (default "4h").
        tail: Option<Duration>,
    },
    /// A flash sale: `multiplier` x a constant baseline within seconds, briefly.
    FlashSale {
        /// Requests per second outside the sale.
        baseline_rps: f64,
        /// When the rise begins.
        start: Duration,
        /// Multiplier (default 10).
        multiplier: Option<f64>,
        /// Rise time (default "10s").
        rise: Option<Duration>,
        /// Time at the peak (default "15m").
        duration: Option<Duration>,
        /// Fall back to the baseline (default "1m").
        fall: Option<Duration>,
    },
    /// A product launch: `multiplier` x a constant baseline for hours.
    ProductLaunch {
        /// Requests per second before the launch.
        baseline_rps: f64,
        /// When the rise begins.
        start: Duration,
        /// Multiplier (default 10).
        multiplier: Option<f64>,
        /// Rise time (default "10m").
        rise: Option<Duration>,
        /// Time at the peak (default "3h").
        duration: Option<Duration>,
        /// Decay back to the baseline (default "30m").
        decay: Option<Duration>,
    },
}

/// A point of a `points` profile.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPoint {
    /// When, from the start of the run.
    pub at: Duration,
    /// Requests per second at that time.
    pub rps: f64,
}

/// How a profile goes between points.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawInterpolation {
    /// Straight lines between points.
    Linear,
    /// Hold each point's rate until the next point.
    Step,
}

/// Service-level objective.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    /// The latency quantile the target applies to, between 0 and 1 (default 0.99).
    pub quantile: Option<f64>,
    /// Latency target at that quantile, e.g. "200ms".
    pub latency: Option<Duration>,
    /// Highest acceptable fraction of requests that end in error, e.g. 0.001.
    pub error_rate: Option<f64>,
    /// Window over which the SLO is judged; a violated window adds its minutes (default
    /// "1m").
    pub window: Option<Duration>,
}
