//! A service as the file gives it: its instances' count, balancer, life cycle, scheduled
//! actions and bill.

use super::{NAME_PATTERN, RawAutoscaler, RawEndpoint, RawInstance, UniqueMap};
use crate::config::quantity::{Duration, Size};
use schemars::JsonSchema;
use serde::Deserialize;

/// A service: identical instances behind a balancer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// What the service does.
    pub description: Option<String>,
    /// Instances at the start of the run (ready at time zero); schedules and autoscalers
    /// change the count from there.
    pub replicas: i64,
    /// The shape of every instance outside `groups`: cores, runtime, admission limits,
    /// memory.
    pub instance: RawInstance,
    /// Instances of other shapes in the same fleet (a canary, the bigger machines of a mixed
    /// fleet): each group takes the lowest ordinals after the groups before it, so its
    /// instances are the first started and the last a scale-in removes.
    pub groups: Option<Vec<RawGroup>>,
    /// The balancing weight of instances outside `groups` (1 to 1,000, default 1); only a
    /// `weighted_round_robin` balancer reads weights.
    pub weight: Option<i64>,
    /// How requests are spread over instances (default {"kind": "round_robin"}).
    pub balancer: Option<RawBalancer>,
    /// Endpoints by name (letters, digits, `-` and `_`): what serving one request costs.
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    #[serde(default)]
    pub endpoints: UniqueMap<RawEndpoint>,
    /// Delays of starting and stopping instances: provisioning, start-up, readiness, drain.
    pub lifecycle: Option<RawLifecycle>,
    /// Replica changes and resizes at set times (scheduled scaling), in time order.
    pub schedule: Option<Vec<RawScheduled>>,
    /// Availability zones, e.g. ["a", "b", "c"]: the instance of ordinal k runs in zone k mod
    /// n, as a zone-spread scheduler places replicas in turn.
    pub zones: Option<Vec<String>>,
    /// Faults at set times: {"at": "60s", "for": "1m", "kind": "slow", "factor": 20,
    /// "instances": 1}.
    pub faults: Option<Vec<RawFault>>,
    /// Failures at random: {"mtbf": "2h", "mttr": "5m"}: each ready instance's process dies
    /// after an exponential time of mean `mtbf` and starts again after one of mean `mttr`.
    pub failures: Option<RawFailures>,
    /// Active health checks by the balancer: {"interval": "30s", "timeout": "5s",
    /// "unhealthy_threshold": 2, "healthy_threshold": 2} (absent: the balancer knows at once
    /// when an instance is down).
    pub health_check: Option<RawHealthCheck>,
    /// Passive health checks: eject an instance whose answers keep failing.
    pub outlier_detection: Option<RawOutlierDetection>,
    /// A token-bucket rate limit: {"rps": 500, "burst": 50, "per": "service"}; a request
    /// that finds no token is refused at once (`rate_limited`, HTTP 429).
    pub rate_limit: Option<RawRateLimit>,
    /// Load shedding by queueing delay (Facebook's controlled delay): {"target": "5ms",
    /// "interval": "100ms", "lifo": true}.
    pub shedding: Option<RawShedding>,
    /// Sessions kept in each instance's memory, by the request's key: {"on_miss":
    /// "reauthenticate"} (served anyway, counted; the default) or {"on_miss": "fail"}.
    pub sessions: Option<RawSessions>,
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
    /// The service is a database: its oldest instance is the primary, the others read
    /// replicas that apply its writes late; endpoints say which `query` they are.
    pub database: Option<super::RawDatabase>,
    /// The service's keys split over shards, each a copy of the service.
    pub shards: Option<super::RawShards>,
}

/// Instances of one shape within a service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// Its name in reports (letters, digits, `-` and `_`).
    #[schemars(extend("pattern" = NAME_PATTERN))]
    pub name: String,
    /// How many of the service's instances it holds, at most (the service's `replicas`
    /// fill the groups in order first).
    pub instances: i64,
    /// Their shape (default: the service's `instance`).
    pub instance: Option<RawInstance>,
    /// Their balancing weight (1 to 1,000, default 1).
    pub weight: Option<i64>,
}

/// A fault of a service's instances for a while.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// When it starts.
    pub at: Duration,
    /// How long it lasts.
    #[serde(rename = "for")]
    pub lasts: Duration,
    /// "slow": every `cpu`, `block` and `io` step that starts meanwhile takes `factor` times
    /// its drawn time (a gray failure: the instance is up and answers, late); "hang": a CPU
    /// slice or I/O wait meanwhile ends only after the fault does, and health probes go
    /// unanswered; "errors": a
    /// request that starts being served meanwhile fails at once with probability `rate`;
    /// "crash": the process dies at `at` with what it holds, and starts again `for` later
    /// (then takes the service's start-up and readiness).
    pub kind: RawFaultKind,
    /// With "slow": how many times slower (above 1, at most 10,000).
    pub factor: Option<f64>,
    /// With "errors": the share of requests that fail (above 0, at most 1).
    pub rate: Option<f64>,
    /// How many instances it hits, those of the lowest ordinals (default: all).
    pub instances: Option<i64>,
    /// Only the instances of this zone of the service's `zones` (a zone outage).
    pub zone: Option<String>,
}

/// A token-bucket rate limit.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// Tokens added per second (above 0).
    pub rps: f64,
    /// Most tokens held: the burst let through at once (at least 1; default: a second's
    /// worth, at least 1).
    pub burst: Option<f64>,
    /// "service" (default: one bucket at the balancer) or "instance" (one per instance).
    pub per: Option<RawRateLimitScope>,
}

/// What one rate limit's bucket covers.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawRateLimitScope {
    Service,
    Instance,
}

/// Load shedding by queueing delay.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawShedding {
    /// The longest a request may wait once an instance's queue has stood non-empty for
    /// `interval` (default "5ms").
    pub target: Option<Duration>,
    /// The longest it may wait otherwise, and how long a queue must stand to count as
    /// overloaded (default "100ms"; at least `target`).
    pub interval: Option<Duration>,
    /// Serve the newest request first while overloaded (adaptive LIFO; default false).
    pub lifo: Option<bool>,
}

/// In-memory sessions.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSessions {
    /// What a request whose session is on another instance, or was lost, does.
    pub on_miss: Option<RawOnMiss>,
}

/// What a request without its session does.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawOnMiss {
    /// Served anyway (a new login), counted.
    Reauthenticate,
    /// Fails.
    Fail,
}

/// Failures at random.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFailures {
    /// Mean time between failures of one instance, while it is ready.
    pub mtbf: Duration,
    /// Mean time to repair: from the failure to the process starting again.
    pub mttr: Duration,
}

/// Active health checks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    /// Between two probes of an instance.
    pub interval: Duration,
    /// How long a probe waits for an answer (default "5s"; less than the interval).
    pub timeout: Option<Duration>,
    /// Failed probes in a row that take an instance out of rotation (1 to 100, default 2).
    pub unhealthy_threshold: Option<i64>,
    /// Passed probes in a row that put it back (1 to 100, default 2).
    pub healthy_threshold: Option<i64>,
}

/// Passive health checks: outlier ejection, as Envoy's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOutlierDetection {
    /// Failed answers in a row that eject an instance (1 to 1,000, default 5).
    pub consecutive_errors: Option<i64>,
    /// How long an ejection lasts (default "30s").
    pub eject_for: Option<Duration>,
    /// The largest share of the fleet ejected at once, above 0 and at most 1 (default 0.1;
    /// one instance may always be).
    pub max_ejected: Option<f64>,
}

/// What a fault does.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawFaultKind {
    Slow,
    Hang,
    Errors,
    Crash,
}

/// A load-balancing algorithm.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawBalancer {
    /// Each instance in turn.
    RoundRobin {},
    /// Each instance in proportion to its weight (the service's `weight`, or its group's),
    /// interleaved as nginx's smooth weighted round robin: weights 3:2 give 60/40, A B A B A.
    WeightedRoundRobin {},
    /// Uniformly at random.
    Random {},
    /// The instance with the fewest open requests (ties: round robin among them).
    LeastConnections {
        /// The loads it sees (default: every open request as it changes).
        view: Option<RawLoadView>,
    },
    /// The request's key on a hash ring of the instances (ketama): one key keeps reaching
    /// one instance (a cache node, a sticky session), and an instance leaving or joining
    /// moves only the keys it owned or takes.
    ConsistentHash {
        /// Tokens each instance places on the ring (1 to 4096, default 160).
        vnodes: Option<i64>,
    },
    /// The power of d choices: the least loaded (fewest open requests) of `d` instances drawn
    /// at random; O(d) a pick, nearly as even as least connections.
    PowerOfD {
        /// Instances drawn per pick (1 to 64, default 2; at most the fleet's size unless
        /// `replacement`).
        d: Option<i64>,
        /// Whether one instance may be drawn twice (default false).
        replacement: Option<bool>,
        /// The loads it sees (default: every open request as it changes).
        view: Option<RawLoadView>,
    },
    /// The instance with the least cost: its peak-EWMA response time times its open
    /// requests plus one (nginx Plus `least_time`); O(log n) a pick.
    LeastResponseTime {
        /// The estimate's time constant (default "10s", Finagle's and linkerd's).
        decay: Option<Duration>,
    },
    /// The cheaper of `d` random instances by that cost (Finagle's and linkerd's `p2c` with
    /// peak EWMA); O(d) a pick.
    PeakEwma {
        /// Instances drawn per pick (1 to 64, default 2; at most the fleet's size).
        d: Option<i64>,
        /// The estimate's time constant (default "10s").
        decay: Option<Duration>,
    },
    /// A worker pool pulling from one queue: workers with a free slot take the oldest message.
    Queue {
        /// Most messages waiting (default: unbounded).
        max_length: Option<i64>,
    },
}

/// The loads a balancer sees: `{"refresh": "1s"}` (copies published at an interval) or
/// `{"balancers": 4}` (several balancer instances, each counting only its own requests).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLoadView {
    /// Loads are read from a copy refreshed this often (stale in between).
    pub refresh: Option<Duration>,
    /// Balancer instances in front of the fleet (2 to 256); each request goes through one
    /// at random, and each counts only the requests it sent.
    pub balancers: Option<i64>,
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

/// A priced instance type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceType {
    /// vCPUs (for reference only: the instance's `cores` are what the simulation uses).
    pub vcpus: Option<i64>,
    /// Memory (for reference only: the instance's `memory` is what the simulation uses).
    pub memory: Option<Size>,
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
