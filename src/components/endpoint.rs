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
    /// Fail the request with this probability, whatever the load.
    Fail(f64),
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
    /// Tries again when the call fails.
    pub retry: Option<Retry>,
    /// Fails calls at once while too many in a row have failed.
    pub breaker: Option<Breaker>,
}

/// A circuit breaker: `failures` failed tries in a row open it; `open_for` later it lets
/// `probes` calls through, closing if they succeed and opening again if one fails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breaker {
    pub failures: u32,
    pub open_for: SimDuration,
    pub probes: u32,
}

/// A call's retries: up to `retries` more tries after a failure, each after a wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    pub retries: u16,
    pub backoff: Backoff,
    pub jitter: Jitter,
    /// Retries stop while the edge's recent tries fail too often (gRPC's retry throttling).
    pub throttle: Option<Throttle>,
}

/// gRPC's retry throttling (gRFC A6), per call edge: a bucket of `max_tokens` tokens, full at
/// the start; a failed try takes one, a successful one gives back `token_ratio`; a retry is
/// made only while more than half the tokens are left. Retries stop once more than about
/// `token_ratio / (1 + token_ratio)` of the tries fail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    pub max_tokens: f64,
    pub token_ratio: f64,
}

/// The wait before a retry, before jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    Constant(SimDuration),
    /// base, 2 base, 4 base, ... at most `cap`.
    Exponential {
        base: SimDuration,
        cap: SimDuration,
    },
}

/// How a retry's wait is randomised (the kinds of the AWS Architecture Blog's "Exponential
/// Backoff And Jitter").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    None,
    /// Uniform in 0..d.
    Full,
    /// d/2 plus uniform in 0..d/2.
    Equal,
    /// Uniform in base..3 x the previous wait, at most the cap.
    Decorrelated,
}

impl Retry {
    /// The wait before retry `k` (0 for the first), given the previous wait (for decorrelated
    /// jitter) and a uniform draw `u` in 0..1.
    pub fn wait(&self, k: u16, previous: SimDuration, u: f64) -> SimDuration {
        let (base, cap, d) = match self.backoff {
            Backoff::Constant(d) => (d, d, d),
            Backoff::Exponential { base, cap } => {
                let doubled = base.as_nanos().saturating_mul(1u64 << u32::from(k).min(40));
                (
                    base,
                    cap,
                    SimDuration::from_nanos(doubled.min(cap.as_nanos())),
                )
            }
        };
        let ns = d.as_nanos() as f64;
        let waited = match self.jitter {
            Jitter::None => ns,
            Jitter::Full => u * ns,
            Jitter::Equal => ns / 2.0 + u * ns / 2.0,
            Jitter::Decorrelated => {
                let lo = base.as_nanos() as f64;
                let hi = (previous.as_nanos() as f64 * 3.0).max(lo);
                (lo + u * (hi - lo)).min(cap.as_nanos() as f64)
            }
        };
        SimDuration::from_nanos(waited as u64)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Exponential backoff doubles from its base up to its cap; full jitter scales the wait
    /// by the draw, equal jitter keeps half of it, decorrelated draws between the base and
    /// three times the previous wait.
    #[test]
    fn waits_follow_their_backoff_and_jitter() {
        let ms = SimDuration::from_millis;
        let exp = |jitter| Retry {
            retries: 5,
            backoff: Backoff::Exponential {
                base: ms(100),
                cap: ms(1000),
            },
            jitter,
            throttle: None,
        };
        let plain: Vec<u64> = (0..6)
            .map(|k| exp(Jitter::None).wait(k, ms(0), 0.7).as_nanos() / 1_000_000)
            .collect();
        assert_eq!(plain, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(exp(Jitter::Full).wait(2, ms(0), 0.25), ms(100));
        assert_eq!(exp(Jitter::Equal).wait(2, ms(0), 0.0), ms(200));
        assert_eq!(exp(Jitter::Equal).wait(2, ms(0), 1.0), ms(400));
        assert_eq!(exp(Jitter::Decorrelated).wait(0, ms(0), 0.5), ms(100));
        assert_eq!(exp(Jitter::Decorrelated).wait(3, ms(200), 0.5), ms(350));
        assert_eq!(exp(Jitter::Decorrelated).wait(3, ms(900), 1.0), ms(1000));
        let constant = Retry {
            retries: 1,
            backoff: Backoff::Constant(ms(50)),
            jitter: Jitter::None,
            throttle: None,
        };
        assert_eq!(constant.wait(7, ms(0), 0.9), ms(50));
    }
}
