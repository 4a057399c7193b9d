//! Serde types that mirror the JSON files field for field. Unknown fields are refused. Nothing
//! here is validated beyond types: [`super::resolve`] turns these into the typed specs the
//! simulation reads, rejecting impossible values with their JSON path.

use super::quantity::{Duration, Quantity};
use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
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

/// An experiment file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExperiment {
    /// Defaults to the file name without extension.
    pub name: Option<String>,
    /// What the experiment shows; printed in reports.
    pub description: Option<String>,
    /// A path to a model file (relative to this file) or the model inline.
    pub model: ModelSource,
    /// The clients that send traffic.
    pub workload: Vec<RawClient>,
    /// Simulated time, e.g. "10m".
    pub duration: Duration,
    /// Initial period excluded from the summary.
    pub warmup: Option<Duration>,
    /// Master seed (default 1).
    pub seed: Option<u64>,
    /// Independent replications per variant (default 1).
    pub replications: Option<u32>,
    /// Time-series bucket width (default "1s").
    pub resolution: Option<Duration>,
    /// Batch means: cut the measured period of a single long run into this many equal
    /// batches and take 95% intervals from their spread (needs `replications` = 1).
    pub batch_means: Option<u32>,
    /// Service-level objective.
    pub slo: Option<RawSlo>,
    /// Named JSON merge patches over the model, run in this order.
    #[serde(default)]
    pub variants: UniqueMap<serde_json::Value>,
    /// Parameters to sweep (read by `surge sweep`; `surge run` runs the file as written).
    pub sweep: Option<serde_json::Value>,
}

/// Where the model comes from.
#[derive(Debug)]
pub enum ModelSource {
    /// A path relative to the file that names it.
    Path(String),
    /// The model written in place.
    Inline(Box<RawModel>),
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

/// A model file: the system's topology and capacities.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// Display name.
    pub name: Option<String>,
    /// What is modelled.
    pub description: Option<String>,
    /// Services by name.
    pub services: UniqueMap<RawService>,
    /// Instance types and prices of your own, added to (or overriding) the bundled catalogue.
    #[serde(default)]
    pub instance_types: UniqueMap<RawInstanceType>,
}

/// A priced instance type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceType {
    /// vCPUs (for reference).
    pub vcpus: Option<i64>,
    /// Memory (for reference).
    pub memory: Option<super::quantity::Size>,
    /// USD per hour on demand.
    pub on_demand_per_hour: f64,
    /// USD per reserved hour (default: on-demand).
    pub reserved_per_hour: Option<f64>,
}

/// How a service is billed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    /// A type from the catalogue (bundled or `instance_types`).
    pub instance_type: String,
    /// Instances reserved (default 0): paid for the whole run, used first.
    pub reserved: Option<i64>,
    /// Run instances beyond the reservation on spot capacity.
    pub spot: Option<RawSpot>,
}

/// Spot capacity: `{"interruptions_per_hour": 0.05, "price_per_hour": 0.035, "notice": "2m"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpot {
    /// Interruptions per instance-hour.
    pub interruptions_per_hour: f64,
    /// USD per hour (default 35% of on-demand).
    pub price_per_hour: Option<f64>,
    /// Warning before an interruption (default 0s: no handler, the instance just goes).
    pub notice: Option<Duration>,
}

/// A service: identical instances behind a balancer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// What the service does.
    pub description: Option<String>,
    /// Number of instances.
    pub replicas: i64,
    /// The shape of every instance.
    pub instance: RawInstance,
    /// How requests are spread over instances (default round robin).
    pub balancer: Option<RawBalancer>,
    /// Endpoints by name.
    pub endpoints: UniqueMap<RawEndpoint>,
    /// Delays of starting and stopping instances.
    pub lifecycle: Option<RawLifecycle>,
    /// Replica changes at set times (scheduled scaling).
    pub schedule: Option<Vec<RawScheduled>>,
    /// A policy that changes the replica count from what it observes.
    pub autoscaler: Option<RawAutoscaler>,
    /// How its instances are billed.
    pub cost: Option<RawCost>,
}

/// Autoscaling policies.
#[derive(Debug, Deserialize)]
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
        min_replicas: i64,
        max_replicas: i64,
        /// Datapoint length and evaluation interval (default 1m).
        period: Option<Duration>,
        /// Quiet time after an action (default 5m).
        cooldown: Option<Duration>,
        #[serde(default)]
        scale_out: Vec<RawRule>,
        #[serde(default)]
        scale_in: Vec<RawRule>,
    },
}

/// Target tracking: `{"kind": "target_tracking", "metric": "cpu", "target": 0.5, ...}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargetTracking {
    /// `cpu` (target a fraction 0..1) or `requests_per_instance` (target per second).
    pub metric: String,
    /// The value to hold the metric at.
    pub target: f64,
    /// Fewest instances.
    pub min_replicas: i64,
    /// Most instances.
    pub max_replicas: i64,
    /// Datapoint length (default 1m).
    pub period: Option<Duration>,
    /// Time after ready during which an instance is not measured (default 5m).
    pub instance_warmup: Option<Duration>,
    /// Time between scale-ins (default 5m).
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

/// Predictive scaling.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPredictive {
    /// Fewest replicas.
    pub min_replicas: i64,
    /// Most replicas.
    pub max_replicas: i64,
    /// Evaluation interval and observation length (default 1m).
    pub period: Option<Duration>,
    /// How far ahead to forecast (default: the instance's time to ready).
    pub look_ahead: Option<Duration>,
    /// Forecasters (default: Holt-Winters with a daily season, and a 10-period linear trend).
    pub forecasters: Option<Vec<RawForecaster>>,
    /// Requests per second one replica should carry.
    pub requests_per_replica: Option<f64>,
    /// CPU utilisation to size for, 0..1.
    pub cpu_target: Option<f64>,
    /// How long a lower recommendation must persist before scale-in (default 5m).
    pub scale_in_stabilization: Option<Duration>,
    /// What traffic looked like before the run, to train the forecasters.
    pub history: Option<RawHistory>,
}

/// A forecaster.
#[derive(Debug, Deserialize)]
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
        /// Season length (default 1d).
        season: Option<Duration>,
    },
    /// A least-squares line through recent observations.
    LinearTrend {
        /// How much history the line is fitted to (default 10 periods).
        window: Option<Duration>,
    },
}

/// The traffic before the run: a rate profile over `duration`, ending where the run starts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHistory {
    /// Rate over the history (its time zero is the start of the history).
    pub rate: RawRate,
    /// How long the history is.
    pub duration: Duration,
}

/// KEDA ScaledObject on a worker pool's queue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeda {
    /// Fewest replicas (default 0: scale to zero).
    pub min_replicas: Option<i64>,
    /// Most replicas (default 100).
    pub max_replicas: Option<i64>,
    /// Messages per replica.
    pub target: f64,
    /// Messages that wake a pool at zero (default 0).
    pub activation_target: Option<f64>,
    /// Queue check interval (default 30s).
    pub polling_interval: Option<Duration>,
    /// Inactivity before scaling to zero (default 5m).
    pub cooldown_period: Option<Duration>,
    /// HPA behavior of the generated HPA (as `advanced.horizontalPodAutoscalerConfig`).
    pub behavior: Option<serde_json::Value>,
}

/// The Kubernetes HPA. `metrics`, `behavior` and `controller` take the same JSON as the
/// `metrics`, `behavior` and `config` of a `surge hpa` snapshot.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHpa {
    /// Fewest replicas (default 1).
    pub min_replicas: Option<i64>,
    /// Most replicas.
    pub max_replicas: i64,
    /// Metrics and targets (default: cpu at 80% utilisation, as Kubernetes).
    pub metrics: Option<serde_json::Value>,
    /// Scaling behavior (absent: the legacy path).
    pub behavior: Option<serde_json::Value>,
    /// Controller flags: tolerance, downscale stabilisation, CPU initialisation period...
    pub controller: Option<serde_json::Value>,
    /// Reconcile interval (default 15s).
    pub sync_period: Option<Duration>,
    /// Metric scrape interval and sample window (default 15s).
    pub metric_resolution: Option<Duration>,
    /// CPU request per pod in millicores (default 1000 per core).
    pub cpu_request_milli: Option<i64>,
}

/// A threshold rule: `{"metric": "cpu", "above": 0.7, "for": "5m", "step": 2}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// `cpu` (fraction 0..1), `queue_length` (per instance) or `response_time` (a duration).
    pub metric: String,
    /// Threshold for scale-out rules.
    pub above: Option<serde_json::Value>,
    /// Threshold for scale-in rules.
    pub below: Option<serde_json::Value>,
    /// How long the condition must hold (default one period).
    #[serde(rename = "for")]
    pub for_: Option<Duration>,
    /// Instances to add or remove (default 1).
    pub step: Option<i64>,
}

/// Instance life-cycle delays.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLifecycle {
    /// Node or VM boot and image pull (default 0s).
    pub provisioning: Option<Duration>,
    /// Process start (default 0s).
    pub startup: Option<Duration>,
    /// Until the first successful readiness probe (default 0s).
    pub readiness: Option<Duration>,
    /// Grace period for in-flight requests of a removed instance (default 30s).
    pub drain_timeout: Option<Duration>,
}

/// One scheduled replica change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScheduled {
    /// When.
    pub at: Duration,
    /// Desired replicas from then on.
    pub replicas: Option<i64>,
    /// Vertical scaling: restart every instance with a new shape.
    pub resize: Option<RawResize>,
}

/// A new instance shape for vertical scaling.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResize {
    /// The new shape (as the service's `instance`).
    pub instance: RawInstance,
    /// The new instance type, if the bill changes (the service must be priced).
    pub instance_type: Option<String>,
    /// `recreate` (default: all at once) or `rolling` (one at a time).
    pub strategy: Option<RawResizeStrategy>,
}

/// How instances restart for a resize.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawResizeStrategy {
    /// All at once.
    Recreate,
    /// One at a time.
    Rolling,
}

/// An instance shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    /// CPU cores.
    pub cores: i64,
    /// "thread_pool" (default) or "event_loop".
    pub runtime: Option<RawRuntime>,
    /// Maximum requests in progress at once; more wait in the accept queue.
    pub concurrency_limit: Option<i64>,
    /// Maximum requests waiting for admission; more are rejected (503).
    pub queue_limit: Option<i64>,
    /// Time slice for `cpu` steps; absent means run to completion.
    pub cpu_quantum: Option<Duration>,
    /// Event loops of an `event_loop` instance (default: one per core, Node's cluster mode).
    pub workers: Option<i64>,
    /// Memory use and limit (absent: memory is not modelled).
    pub memory: Option<RawMemory>,
}

/// Memory: `{"base": "200MiB", "per_request": "2MiB", "limit": "512Mi", "request": "256Mi"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMemory {
    /// In use with no request open.
    pub base: super::quantity::Size,
    /// Per open request (default 0).
    pub per_request: Option<super::quantity::Size>,
    /// Over this the process is killed (OOM) and restarted.
    pub limit: Option<super::quantity::Size>,
    /// The pod's request (Kubernetes memory utilisation is over it; default: the limit).
    pub request: Option<super::quantity::Size>,
}

/// How an instance's cores run CPU work.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawRuntime {
    /// One shared run queue for all cores (Go, JVM, a thread-per-request server).
    ThreadPool,
    /// One event loop per core; a request stays on the loop that accepted it (Node cluster).
    EventLoop,
}

/// A load-balancing algorithm.
#[derive(Debug, Deserialize)]
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    /// What the endpoint does.
    pub description: Option<String>,
    /// The steps, run in order.
    pub steps: Vec<RawStep>,
}

/// One step of an endpoint.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawStep {
    /// Compute that needs a core (time-sliced if the instance has a `cpu_quantum`).
    Cpu(RawDist<Duration>),
    /// Synchronous compute that holds its core until done, never sliced.
    Block(RawDist<Duration>),
    /// An asynchronous wait that holds no core.
    Io(RawDist<Duration>),
}

/// A distribution: a string shorthand for a constant ("20ms") or an object with a `kind`.
#[derive(Debug)]
pub enum RawDist<Q> {
    /// A constant written as a plain quantity.
    Shorthand(Q),
    /// A full specification.
    Spec(DistSpec<Q>),
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
#[derive(Debug, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    bound = "Q: Quantity"
)]
pub enum DistSpec<Q> {
    /// Always `value`.
    Constant { value: Q },
    /// Exponential with the given mean.
    Exponential { mean: Q },
    /// Uniform between min and max.
    Uniform { min: Q, max: Q },
    /// Normal truncated at zero.
    Normal { mean: Q, std_dev: Q },
    /// Log-normal by `mean` and `p99`, or by `mu` and `sigma` of ln(x in base units).
    Lognormal {
        mean: Option<Q>,
        p99: Option<Q>,
        mu: Option<f64>,
        sigma: Option<f64>,
    },
    /// Gamma by `shape` and either `scale` or `mean`.
    Gamma {
        shape: f64,
        scale: Option<Q>,
        mean: Option<Q>,
    },
    /// Pareto by minimum `scale` and tail index `shape`.
    Pareto { scale: Q, shape: f64 },
    /// One of `values`, with optional `weights`.
    Empirical {
        values: Vec<Q>,
        weights: Option<Vec<f64>>,
    },
}

/// A client: open-loop (arrivals from a rate profile) or closed-loop (connections).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClient {
    /// Names the client's random streams and its rows in reports.
    pub name: Option<String>,
    /// "open" or "closed".
    pub kind: RawClientKind,
    /// Open: the arrival rate over time.
    pub rate: Option<RawRate>,
    /// Closed: number of connections, each with one request outstanding at a time.
    pub connections: Option<i64>,
    /// Closed: pause between a response and the next request (default none).
    pub think: Option<RawDist<Duration>>,
    /// Closed: connections start evenly spread over this span (default all at once).
    pub ramp_up: Option<Duration>,
    /// Closed: pause after an error before the connection sends again (default "1ms").
    pub error_pause: Option<Duration>,
    /// Which endpoints requests go to, with weights.
    pub mix: Vec<RawMixEntry>,
    /// The client gives up after this long (default: never).
    pub timeout: Option<Duration>,
}

/// Open or closed loop.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawClientKind {
    /// Arrivals do not wait for responses.
    Open,
    /// Each connection waits for its response before sending again.
    Closed,
}

/// One entry of a client's endpoint mix.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMixEntry {
    /// Service name in the model.
    pub service: String,
    /// Endpoint name in that service.
    pub endpoint: String,
    /// Relative weight (default 1).
    pub weight: Option<f64>,
}

/// Arrival-rate profiles, in requests per second.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawRate {
    /// A fixed rate.
    Constant { rps: f64 },
    /// `from_rps` until `start`, linear to `to_rps` over `over`, then `to_rps`.
    Ramp {
        from_rps: f64,
        to_rps: f64,
        start: Option<Duration>,
        over: Duration,
    },
    /// `from_rps` before `at`, `to_rps` from then on.
    Step {
        from_rps: f64,
        to_rps: f64,
        at: Duration,
    },
    /// Baseline, linear rise to the peak, plateau, linear decay back to baseline.
    Spike {
        baseline_rps: f64,
        peak_rps: f64,
        start: Duration,
        rise: Duration,
        plateau: Duration,
        decay: Duration,
    },
    /// mean * (1 + amplitude * cos(2 pi (t - peak_at) / period)).
    Diurnal {
        mean_rps: f64,
        amplitude: f64,
        period: Option<Duration>,
        peak_at: Option<Duration>,
    },
    /// Rates at given times, joined linearly (default) or held until the next point.
    Points {
        points: Vec<RawPoint>,
        interpolation: Option<RawInterpolation>,
    },
    /// A CSV trace with `t_seconds,requests` rows, replayed from `from` to `to`.
    Trace {
        file: String,
        from: Option<Duration>,
        to: Option<Duration>,
        peak_rps: Option<f64>,
        factor: Option<f64>,
        interpolation: Option<RawInterpolation>,
    },
    /// The sum of several profiles.
    Sum { of: Vec<RawRate> },
    /// The product of several profiles (a baseline times a multiplier).
    Product { of: Vec<RawRate> },
    /// Black Friday: a diurnal baseline; from `event_start - ramp` a pre-event rise to
    /// `pre_event_multiplier`; at `event_start` the surge to `peak_multiplier` x baseline over
    /// `surge` (minutes); the peak held for `peak`; a long tail back to 1x over `tail`.
    BlackFriday {
        baseline_mean_rps: f64,
        /// Day/night swing of the baseline, fraction of its mean (default 0.5).
        amplitude: Option<f64>,
        /// Time of the baseline's daily peak (default 20h).
        baseline_peak_at: Option<Duration>,
        event_start: Duration,
        /// Multiplier of the peak (default 10).
        peak_multiplier: Option<f64>,
        /// Multiplier reached just before the event (default 2).
        pre_event_multiplier: Option<f64>,
        /// Pre-event rise (default 2h).
        ramp: Option<Duration>,
        /// From the event's start to the peak (default 5m).
        surge: Option<Duration>,
        /// Time at the peak (default 1h).
        peak: Option<Duration>,
        /// Decay back to the baseline (default 4h).
        tail: Option<Duration>,
    },
    /// A flash sale: `multiplier` x a constant baseline within seconds, briefly.
    FlashSale {
        baseline_rps: f64,
        start: Duration,
        /// Multiplier (default 10).
        multiplier: Option<f64>,
        /// Rise time (default 10s).
        rise: Option<Duration>,
        /// Time at the peak (default 15m).
        duration: Option<Duration>,
        /// Fall back to the baseline (default 1m).
        fall: Option<Duration>,
    },
    /// A product launch: `multiplier` x a constant baseline for hours.
    ProductLaunch {
        baseline_rps: f64,
        start: Duration,
        /// Multiplier (default 10).
        multiplier: Option<f64>,
        /// Rise time (default 10m).
        rise: Option<Duration>,
        /// Time at the peak (default 3h).
        duration: Option<Duration>,
        /// Decay back to the baseline (default 30m).
        decay: Option<Duration>,
    },
}

/// A point of a `points` profile.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPoint {
    /// When.
    pub at: Duration,
    /// Requests per second at that time.
    pub rps: f64,
}

/// How a profile goes between points.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawInterpolation {
    /// Straight lines between points.
    Linear,
    /// Hold each point's rate until the next point.
    Step,
}

/// Service-level objective.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    /// The latency quantile the target applies to (default 0.99).
    pub quantile: Option<f64>,
    /// Latency target at that quantile.
    pub latency: Option<Duration>,
    /// Highest acceptable fraction of requests that end in error.
    pub error_rate: Option<f64>,
    /// Window over which violation minutes are judged (default "1m").
    pub window: Option<Duration>,
}
