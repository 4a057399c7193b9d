//! An instance shape as the file gives it: cores, runtime, admission limits, memory.

use crate::config::quantity::{Duration, Size};
use schemars::JsonSchema;
use serde::Deserialize;

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
    /// Work that grows with concurrency (lock contention, cache thrashing, GC pressure):
    /// {"per_request": 0.02, "above": 10} makes each `cpu` or `block` step take
    /// 1 + 0.02 x (n - 10) times its drawn work when n > 10 requests are in progress on the
    /// instance as it starts (admitted: the accept queue does not contend), so overload can
    /// sustain itself.
    pub contention: Option<RawContention>,
}

/// Contention: `{"per_request": 0.02, "above": 10}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawContention {
    /// Extra work per open request beyond `above`, as a fraction of the step's (above 0, at
    /// most 10).
    pub per_request: f64,
    /// Requests in progress the instance serves without slowing down (default 1: only the request
    /// itself).
    pub above: Option<i64>,
}

/// Memory: `{"base": "200MiB", "per_request": "2MiB", "limit": "512Mi", "request": "256Mi"}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMemory {
    /// In use with no request open.
    pub base: Size,
    /// Added per open request (default 0).
    pub per_request: Option<Size>,
    /// Over this the process is killed (OOM) with its requests and restarted (default: no
    /// limit).
    pub limit: Option<Size>,
    /// The pod's request (Kubernetes memory utilisation is over it; default: the limit).
    pub request: Option<Size>,
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
