//! An endpoint as the file gives it: its steps (cpu, block, io, call, enqueue, parallel,
//! branch) and what a call or a fan-out does.

use super::{RawCacheGet, RawCacheRef, RawDist};
use crate::config::quantity::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

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
    /// The key space its requests draw their key from (a name in the model's `keyspaces`).
    /// Without one a request keeps the key of the request that called it, or, sent by a
    /// client, has the one key of an endpoint that serves a single object (a home page).
    pub key: Option<String>,
    /// On a database: "write" (on the primary, then replicated), "read" (to a replica, as
    /// the database's `read_routing` says) or "read_primary" (a read that must see every
    /// write). Required on a database's endpoints, refused elsewhere.
    pub query: Option<RawQuery>,
}

/// What a database endpoint does.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawQuery {
    /// On the primary, then replicated.
    Write,
    /// On a replica chosen by the database's read routing.
    Read,
    /// On the primary.
    ReadPrimary,
}

/// One step of an endpoint: exactly one of `cpu`, `block`, `io`, `call`, `enqueue`,
/// `parallel` (with its optional `join` and `leftovers`), `branch`, `cache_get`, `cache_set`
/// or `invalidate`.
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
    /// Look the request's key up in a cache; run the `miss` steps if it is not there.
    pub cache_get: Option<RawCacheGet>,
    /// Store the request's key in a cache (after a write: write-through).
    pub cache_set: Option<RawCacheRef>,
    /// Drop the request's key from a cache (after a write: invalidation).
    pub invalidate: Option<RawCacheRef>,
    /// Fail the request with this probability (0 to 1), whatever the load: a bug, a bad
    /// input, a flaky dependency not modelled.
    pub fail: Option<f64>,
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
    /// A connection pool (a name in the model's `pools`) the call takes a connection from
    /// for as long as it runs: it waits for one while all are in use.
    pub pool: Option<String>,
    /// Try again when the call fails (any outcome but ok): {"retries": 2, "backoff":
    /// {"kind": "exponential", "base": "100ms", "cap": "10s"}, "jitter": "full"}.
    pub retry: Option<RawRetry>,
    /// A circuit breaker on this edge (one for all the caller's instances): after `failures`
    /// tries in a row fail it opens, and calls fail at once without being sent; `open_for`
    /// later it lets `probes` calls through (half-open), and closes if they succeed.
    pub breaker: Option<RawBreaker>,
}

/// {"failures": 3, "open_for": "10s", "probes": 1}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    /// Failed tries in a row that open it (1 to 1000).
    pub failures: i64,
    /// How long it stays open before letting probes through.
    pub open_for: Duration,
    /// Calls let through while half-open (1 to 100, default 1).
    pub probes: Option<i64>,
}

/// A call's retries.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    /// Tries after the first (1 to 10).
    pub retries: i64,
    /// The wait before each retry (default: exponential from 100 ms, capped at 10 s).
    pub backoff: Option<RawBackoff>,
    /// Randomisation of each wait d: "none" (default), "full" (uniform in 0..d), "equal"
    /// (d/2 plus uniform in 0..d/2) or "decorrelated" (uniform between the base and three
    /// times the previous wait, capped).
    pub jitter: Option<RawJitter>,
    /// gRPC's retry throttling on this edge: {"max_tokens": 10, "token_ratio": 0.1}.
    pub throttle: Option<RawThrottle>,
}

/// A retry throttle: a failed try takes a token, a successful one gives back `token_ratio`;
/// retries are made only while more than half of `max_tokens` are left.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawThrottle {
    /// The bucket's size (above 0, at most 1000), full at the start.
    pub max_tokens: f64,
    /// Tokens a successful try gives back (above 0, at most 1).
    pub token_ratio: f64,
}

/// The wait before a retry.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawBackoff {
    /// The same wait before every retry.
    Constant { delay: Duration },
    /// base, 2 base, 4 base, ... before retries 1, 2, 3, ..., at most `cap` (default 10 s).
    Exponential {
        base: Duration,
        cap: Option<Duration>,
    },
}

/// How a retry's wait is randomised.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawJitter {
    None,
    Full,
    Equal,
    Decorrelated,
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
