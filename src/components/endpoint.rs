//! Endpoints: what serving one request costs and whom it calls, as a tree of steps. The tree
//! is what the file says; `program` compiles it into the flat form a run interprets.

use crate::distribution::Dist;
use crate::ids::{CacheId, EndpointRef, KeySpaceId};
use crate::kernel::SimDuration;

/// An endpoint of a service.
#[derive(Debug, Clone)]
pub struct EndpointSpec {
    /// Name, unique within its service.
    pub name: String,
    /// Steps run in order; a request is answered after the last.
    pub steps: Vec<Step>,
    /// The key space its requests draw their key from, as named in the file.
    pub key_name: Option<String>,
    /// That key space, resolved once the model's spaces are known (`None`: a request keeps
    /// its caller's key, or has key 0 of no space).
    pub key: Option<KeySpaceId>,
    /// On a database: which query it is (where it runs).
    pub query: Option<crate::components::database::Query>,
}

/// One step of an endpoint.
#[derive(Debug, Clone)]
pub enum Step {
    /// Compute on a core. If the instance has a CPU quantum, the step runs in slices and other
    /// CPU work interleaves (OS threads); otherwise it runs to completion once started.
    Cpu(Dist),
    /// Synchronous compute that holds its core (the event loop) until it finishes: no other
    /// CPU step runs on that core meanwhile, whatever the quantum.
    Block(Dist),
    /// An asynchronous wait (disk, sleep, a dependency not modelled as a service) that holds
    /// no core.
    Io(Dist),
    /// A request to another endpoint through its service's balancer, waiting for the answer.
    Call(CallSpec),
    /// A message put on a worker pool's queue; the endpoint goes on without waiting.
    Enqueue(EnqueueSpec),
    /// Branches run at once; the endpoint goes on when the join is satisfied.
    Parallel(ParallelSpec),
    /// One of several paths, chosen at random.
    Branch(Vec<Arm>),
    /// A lookup of the request's key; its steps run on a miss.
    CacheGet(CacheGetSpec),
    /// The request's key stored in a cache.
    CacheSet(CacheRef),
    /// The request's key dropped from a cache.
    Invalidate(CacheRef),
    /// A cache node's lookup of the request's key in its own store, answered to the caller
    /// (the last step of a node cache's `get`, which Surge writes).
    CacheProbe(CacheRef),
}

/// A cache named by a step.
#[derive(Debug, Clone)]
pub struct CacheRef {
    /// As named in the file.
    pub name: String,
    /// Resolved once the model's caches are known.
    pub cache: CacheId,
}

/// A cache lookup.
#[derive(Debug, Clone)]
pub struct CacheGetSpec {
    /// The cache.
    pub cache: CacheRef,
    /// Steps run on a miss.
    pub miss: Vec<Step>,
    /// Whether a miss whose steps succeed stores the key (cache-aside).
    pub fill: bool,
    /// The lookup is the call just before it (a cache with nodes): its node's answer says hit
    /// or miss, and a fill is a call in `miss`.
    pub answered_by_call: bool,
}

/// What a failed call does to its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// The caller's own answer is an error naming the failed dependency (the default).
    Fail,
    /// The caller goes on as if the call had succeeded: an optional dependency, a fallback.
    Continue,
}

/// A synchronous call.
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// The callee, as named in the file (for messages and report keys).
    pub service_name: String,
    /// The callee's endpoint, as named in the file.
    pub endpoint_name: String,
    /// The callee, resolved once every service is known.
    pub target: EndpointRef,
    /// How long the caller waits before giving up (`None`: for ever, or the propagated
    /// deadline).
    pub timeout: Option<SimDuration>,
    /// Network latency, drawn once each way (`None`: none).
    pub latency: Option<Dist>,
    /// What a failure does to the caller.
    pub on_error: OnError,
    /// The connection pool it takes a connection from, as named in the file, and resolved.
    pub pool_name: Option<String>,
    pub pool: Option<crate::ids::PoolId>,
    /// The callee is sharded: its shard group (the target is the first shard, and the
    /// request's key picks the shard).
    pub shards: Option<u32>,
}

/// An asynchronous message to a worker pool.
#[derive(Debug, Clone)]
pub struct EnqueueSpec {
    /// The worker pool, as named in the file.
    pub service_name: String,
    /// Its endpoint, as named in the file.
    pub endpoint_name: String,
    /// The worker pool's endpoint, resolved once every service is known.
    pub target: EndpointRef,
    /// Delay before the message reaches the queue (`None`: none).
    pub latency: Option<Dist>,
}

/// When a fan-out goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// When every branch has succeeded (fails at the first failure).
    All,
    /// When one branch has succeeded (fails when all have failed).
    Any,
    /// When `k` branches have succeeded (fails when `k` can no longer be reached).
    Quorum(u32),
}

/// What happens to the branches a satisfied (or failed) join no longer waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftovers {
    /// They run to their end in the background (what `Promise.race` does); counted.
    Finish,
    /// They are stopped at their next step (a cancelled context); counted.
    Cancel,
}

/// A fan-out.
#[derive(Debug, Clone)]
pub struct ParallelSpec {
    /// Each branch's steps.
    pub branches: Vec<Vec<Step>>,
    /// When to go on.
    pub join: Join,
    /// What happens to branches not waited for.
    pub leftovers: Leftovers,
}

impl ParallelSpec {
    /// Branch successes the join needs.
    pub fn needed(&self) -> u32 {
        match self.join {
            Join::All => self.branches.len() as u32,
            Join::Any => 1,
            Join::Quorum(k) => k,
        }
    }
}

/// One path of a random branch.
#[derive(Debug, Clone)]
pub struct Arm {
    /// Probability of taking it.
    pub p: f64,
    /// Its steps (may be empty: "do nothing more").
    pub steps: Vec<Step>,
}
