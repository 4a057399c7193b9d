//! Endpoint steps: each raw step resolved into the step tree, then, once every service is
//! known, calls and enqueues bound to their targets and the call graph checked (a cycle of
//! calls must end on average).

use super::{At, dist, positive_duration};
use crate::components::balancer::BalancerSpec;
use crate::components::endpoint::{
    Arm, Backoff, Breaker, CacheGetSpec, CacheRef, CallSpec, EnqueueSpec, Jitter, Join, Leftovers,
    OnError, ParallelSpec, Retry, Step, Throttle,
};
use crate::components::program::{MAX_NESTING, MAX_OPS, op_count};
use crate::components::service::ServiceSpec;
use crate::config::ConfigError;
use crate::config::raw::{
    RawArm, RawBackoff, RawBreaker, RawJitter, RawJoin, RawJoinKind, RawLeftovers, RawOnError,
    RawRetry, RawStep,
};
use crate::ids::{CacheId, EndpointRef, KeySpaceId, PoolId};
use crate::kernel::SimDuration;

/// Most branches of one fan-out, or arms of one random branch.
pub(crate) const MAX_BRANCHES: usize = 10_000;

/// The steps of one endpoint (or branch) at `rel`, `depth` levels of nesting down.
pub(crate) fn steps(
    raw: &[RawStep],
    at: At,
    rel: &str,
    depth: usize,
) -> Result<Vec<Step>, ConfigError> {
    raw.iter()
        .enumerate()
        .map(|(k, st)| step(st, at, &format!("{rel}[{k}]"), depth))
        .collect()
}

fn step(raw: &RawStep, at: At, rel: &str, depth: usize) -> Result<Step, ConfigError> {
    let kinds: Vec<&str> = [
        ("cpu", raw.cpu.is_some()),
        ("block", raw.block.is_some()),
        ("io", raw.io.is_some()),
        ("call", raw.call.is_some()),
        ("enqueue", raw.enqueue.is_some()),
        ("parallel", raw.parallel.is_some()),
        ("branch", raw.branch.is_some()),
        ("cache_get", raw.cache_get.is_some()),
        ("cache_set", raw.cache_set.is_some()),
        ("invalidate", raw.invalidate.is_some()),
        ("fail", raw.fail.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(k, _)| k)
    .collect();
    match kinds.as_slice() {
        [_] => {}
        [] => {
            return Err(at.err(
                rel,
                "a step needs one of `cpu`, `block`, `io`, `call`, `enqueue`, `parallel`, `branch`, `cache_get`, `cache_set`, `invalidate` or `fail`",
            ));
        }
        many => {
            return Err(at.err(
                rel,
                format!(
                    "a step is exactly one of `cpu`, `block`, `io`, `call`, `enqueue`, `parallel`, `branch`, `cache_get`, `cache_set`, `invalidate` or `fail`; this one has {}",
                    many.join(" and ")
                ),
            ));
        }
    }
    if raw.parallel.is_none() {
        for (key, set) in [
            ("join", raw.join.is_some()),
            ("leftovers", raw.leftovers.is_some()),
        ] {
            if set {
                return Err(at.err(
                    &format!("{rel}.{key}"),
                    format!("`{key}` belongs to a `parallel` step"),
                ));
            }
        }
    }
    if let Some(d) = &raw.cpu {
        return Ok(Step::Cpu(dist(d, at, &format!("{rel}.cpu"))?));
    }
    if let Some(d) = &raw.block {
        return Ok(Step::Block(dist(d, at, &format!("{rel}.block"))?));
    }
    if let Some(d) = &raw.io {
        return Ok(Step::Io(dist(d, at, &format!("{rel}.io"))?));
    }
    if let Some(c) = &raw.call {
        let crel = format!("{rel}.call");
        return Ok(Step::Call(CallSpec {
            service_name: c.service.clone(),
            endpoint_name: c.endpoint.clone(),
            target: EndpointRef {
                service: 0,
                endpoint: 0,
            },
            timeout: match c.timeout {
                Some(t) => Some(positive_duration(
                    at,
                    &format!("{crel}.timeout"),
                    t,
                    "a call's timeout",
                )?),
                None => None,
            },
            shards: None,
            pool_name: c.pool.clone(),
            pool: None,
            latency: match &c.latency {
                Some(d) => Some(dist(d, at, &format!("{crel}.latency"))?),
                None => None,
            },
            on_error: match c.on_error {
                None | Some(RawOnError::Fail) => OnError::Fail,
                Some(RawOnError::Continue) => OnError::Continue,
            },
            retry: match &c.retry {
                Some(r) => Some(retry(r, at, &format!("{crel}.retry"))?),
                None => None,
            },
            breaker: match &c.breaker {
                Some(b) => Some(breaker(b, at, &format!("{crel}.breaker"))?),
                None => None,
            },
        }));
    }
    if let Some(p) = raw.fail {
        if !(0.0..=1.0).contains(&p) {
            return Err(at.err(
                &format!("{rel}.fail"),
                format!("the probability that the step fails the request: 0 to 1, got {p}"),
            ));
        }
        return Ok(Step::Fail(p));
    }
    if let Some(q) = &raw.enqueue {
        return Ok(Step::Enqueue(EnqueueSpec {
            service_name: q.service.clone(),
            endpoint_name: q.endpoint.clone(),
            target: EndpointRef {
                service: 0,
                endpoint: 0,
            },
            latency: match &q.latency {
                Some(d) => Some(dist(d, at, &format!("{rel}.enqueue.latency"))?),
                None => None,
            },
        }));
    }
    let cache_ref = |name: &str| CacheRef {
        name: name.to_string(),
        cache: CacheId(0),
    };
    if let Some(c) = &raw.cache_set {
        return Ok(Step::CacheSet(cache_ref(&c.cache)));
    }
    if let Some(c) = &raw.invalidate {
        return Ok(Step::Invalidate(cache_ref(&c.cache)));
    }
    let deeper = depth + 1;
    if deeper > MAX_NESTING {
        return Err(at.err(
            rel,
            format!("`parallel`, `branch` and `cache_get` steps nest at most {MAX_NESTING} deep"),
        ));
    }
    if let Some(branches) = &raw.parallel {
        return parallel(raw, branches, at, rel, deeper);
    }
    if let Some(c) = &raw.cache_get {
        return Ok(Step::CacheGet(CacheGetSpec {
            cache: cache_ref(&c.cache),
            miss: steps(&c.miss, at, &format!("{rel}.cache_get.miss"), deeper)?,
            fill: c.fill.unwrap_or(true),
            answered_by_call: false,
        }));
    }
    let arms = raw.branch.as_deref().unwrap_or_default();
    branch(arms, at, rel, deeper)
}

/// Most retries a call makes after its first try.
const MAX_RETRIES: i64 = 10;

fn breaker(raw: &RawBreaker, at: At, rel: &str) -> Result<Breaker, ConfigError> {
    if !(1..=1000).contains(&raw.failures) {
        return Err(at.err(
            &format!("{rel}.failures"),
            format!(
                "failed tries in a row that open the breaker: 1 to 1000, got {}",
                raw.failures
            ),
        ));
    }
    let probes = raw.probes.unwrap_or(1);
    if !(1..=100).contains(&probes) {
        return Err(at.err(
            &format!("{rel}.probes"),
            format!("calls let through while half-open: 1 to 100, got {probes}"),
        ));
    }
    Ok(Breaker {
        failures: raw.failures as u32,
        open_for: positive_duration(
            at,
            &format!("{rel}.open_for"),
            raw.open_for,
            "how long a breaker stays open",
        )?,
        probes: probes as u32,
    })
}

fn retry(raw: &RawRetry, at: At, rel: &str) -> Result<Retry, ConfigError> {
    if !(1..=MAX_RETRIES).contains(&raw.retries) {
        return Err(at.err(
            &format!("{rel}.retries"),
            format!(
                "tries after the first: 1 to {MAX_RETRIES}, got {}",
                raw.retries
            ),
        ));
    }
    let brel = format!("{rel}.backoff");
    let backoff = match &raw.backoff {
        None => Backoff::Exponential {
            base: SimDuration::from_millis(100),
            cap: SimDuration::from_secs(10),
        },
        Some(RawBackoff::Constant { delay }) => {
            // Zero is allowed: an immediate retry.
            Backoff::Constant(delay.0)
        }
        Some(RawBackoff::Exponential { base, cap }) => {
            let base = positive_duration(at, &format!("{brel}.base"), *base, "a backoff's base")?;
            let cap = match cap {
                None => SimDuration::from_secs(10).max(base),
                Some(c) => {
                    let c = positive_duration(at, &format!("{brel}.cap"), *c, "a backoff's cap")?;
                    if c < base {
                        return Err(at.err(
                            &format!("{brel}.cap"),
                            "a backoff's cap is at least its base",
                        ));
                    }
                    c
                }
            };
            Backoff::Exponential { base, cap }
        }
    };
    let throttle = match &raw.throttle {
        None => None,
        Some(t) => {
            let trel = format!("{rel}.throttle");
            if !(t.max_tokens > 0.0 && t.max_tokens <= 1000.0) {
                return Err(at.err(
                    &format!("{trel}.max_tokens"),
                    format!(
                        "the bucket holds above 0 and at most 1000 tokens, got {}",
                        t.max_tokens
                    ),
                ));
            }
            if !(t.token_ratio > 0.0 && t.token_ratio <= 1.0) {
                return Err(at.err(
                    &format!("{trel}.token_ratio"),
                    format!(
                        "a success gives back above 0 and at most 1 token, got {}",
                        t.token_ratio
                    ),
                ));
            }
            Some(Throttle {
                max_tokens: t.max_tokens,
                token_ratio: t.token_ratio,
            })
        }
    };
    Ok(Retry {
        throttle,
        retries: raw.retries as u16,
        backoff,
        jitter: match raw.jitter {
            None | Some(RawJitter::None) => Jitter::None,
            Some(RawJitter::Full) => Jitter::Full,
            Some(RawJitter::Equal) => Jitter::Equal,
            Some(RawJitter::Decorrelated) => Jitter::Decorrelated,
        },
    })
}

fn parallel(
    raw: &RawStep,
    branches: &[Vec<RawStep>],
    at: At,
    rel: &str,
    depth: usize,
) -> Result<Step, ConfigError> {
    let prel = format!("{rel}.parallel");
    if branches.is_empty() || branches.len() > MAX_BRANCHES {
        return Err(at.err(
            &prel,
            format!(
                "a fan-out has 1 to {MAX_BRANCHES} branches, each a list of steps; got {}",
                branches.len()
            ),
        ));
    }
    let resolved = branches
        .iter()
        .enumerate()
        .map(|(b, steps_of)| steps(steps_of, at, &format!("{prel}[{b}]"), depth))
        .collect::<Result<Vec<_>, _>>()?;
    let n = branches.len() as i64;
    let join = match raw.join {
        None | Some(RawJoin::Kind(RawJoinKind::All)) => Join::All,
        Some(RawJoin::Kind(RawJoinKind::Any)) => Join::Any,
        Some(RawJoin::Quorum { quorum }) => {
            if quorum < 1 || quorum > n {
                return Err(at.err(
                    &format!("{rel}.join.quorum"),
                    format!("a quorum is 1 to the number of branches ({n}), got {quorum}"),
                ));
            }
            Join::Quorum(quorum as u32)
        }
    };
    Ok(Step::Parallel(ParallelSpec {
        branches: resolved,
        join,
        leftovers: match raw.leftovers {
            None | Some(RawLeftovers::Finish) => Leftovers::Finish,
            Some(RawLeftovers::Cancel) => Leftovers::Cancel,
        },
    }))
}

fn branch(arms: &[RawArm], at: At, rel: &str, depth: usize) -> Result<Step, ConfigError> {
    let brel = format!("{rel}.branch");
    if arms.is_empty() || arms.len() > MAX_BRANCHES {
        return Err(at.err(
            &brel,
            format!("a random branch has 1 to {MAX_BRANCHES} paths, each {{\"p\": ..., \"steps\": [...]}}; got {}", arms.len()),
        ));
    }
    let mut resolved = Vec::with_capacity(arms.len());
    let mut total = 0.0;
    for (a, arm) in arms.iter().enumerate() {
        let arel = format!("{brel}[{a}]");
        if !(arm.p.is_finite() && (0.0..=1.0).contains(&arm.p)) {
            return Err(at.err(
                &format!("{arel}.p"),
                format!("a probability is between 0 and 1, got {}", arm.p),
            ));
        }
        total += arm.p;
        resolved.push(Arm {
            p: arm.p,
            steps: steps(&arm.steps, at, &format!("{arel}.steps"), depth)?,
        });
    }
    if (total - 1.0).abs() > 1e-9 {
        return Err(at.err(
            &brel,
            format!("the paths' probabilities must sum to 1, got {total}"),
        ));
    }
    Ok(Step::Branch(resolved))
}

/// Binds every call and enqueue to its target, refuses what cannot run, and checks that
/// every cycle of calls ends on average. Errors point at `services.<name>.endpoints...`.
pub(crate) fn link(
    services: &mut [ServiceSpec],
    names: &DataNames,
    at: At,
) -> Result<(), ConfigError> {
    let index: Vec<(String, Vec<String>, bool)> = services
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.endpoints.iter().map(|e| e.name.clone()).collect(),
                matches!(s.balancer, BalancerSpec::Queue { .. }),
            )
        })
        .collect();
    for svc in services.iter_mut() {
        for ep in &mut svc.endpoints {
            let rel = format!("services.{}.endpoints.{}.steps", svc.name, ep.name);
            if op_count(ep) > MAX_OPS {
                return Err(at.err(
                    &rel,
                    format!(
                        "an endpoint compiles to at most {MAX_OPS} operations; this one has more"
                    ),
                ));
            }
            if let Some(space) = &ep.key_name {
                ep.key = Some(KeySpaceId(lookup(
                    &names.keyspaces,
                    space,
                    "key space",
                    "keyspaces",
                    at,
                    &format!("services.{}.endpoints.{}.key", svc.name, ep.name),
                )?));
            }
            let binder = Binder {
                index: &index,
                names,
                at,
            };
            binder.bind(&mut ep.steps, &rel)?;
        }
    }
    let rates = crate::model::graph::CallRates::new(services);
    if let Some(cycle) = rates.endless_cycle() {
        let names: Vec<String> = cycle
            .path
            .iter()
            .map(|r| {
                let s = &services[r.service as usize];
                format!("{}.{}", s.name, s.endpoints[r.endpoint as usize].name)
            })
            .collect();
        let first = cycle.path[0];
        let s = &services[first.service as usize];
        return Err(at.err(
            &format!("services.{}.endpoints.{}.steps", s.name, s.endpoints[first.endpoint as usize].name),
            format!(
                "the call cycle {} never ends on average: each visit makes {:.3} further visits around it (it must be below 1, e.g. by calling back only on a `branch` path with a small `p`)",
                names.join(" -> "),
                cycle.radius
            ),
        ));
    }
    Ok(())
}

/// The names a step may refer to: services and their endpoints, key spaces and caches.
pub(crate) struct DataNames {
    /// Key spaces, in model order.
    pub keyspaces: Vec<String>,
    /// Caches, in model order.
    pub caches: Vec<String>,
    /// Connection pools, in model order.
    pub pools: Vec<String>,
}

struct Binder<'a> {
    index: &'a [(String, Vec<String>, bool)],
    names: &'a DataNames,
    at: At<'a>,
}

impl Binder<'_> {
    fn bind(&self, steps: &mut [Step], rel: &str) -> Result<(), ConfigError> {
        let (index, at) = (self.index, self.at);
        for (k, step) in steps.iter_mut().enumerate() {
            let srel = format!("{rel}[{k}]");
            match step {
                Step::Call(c) => {
                    c.target = target(
                        index,
                        &c.service_name,
                        &c.endpoint_name,
                        at,
                        &format!("{srel}.call"),
                    )?;
                    if let Some(name) = &c.pool_name {
                        c.pool = Some(PoolId(lookup(
                            &self.names.pools,
                            name,
                            "pool",
                            "pools",
                            at,
                            &format!("{srel}.call.pool"),
                        )?));
                    }
                }
                Step::Enqueue(q) => {
                    let qrel = format!("{srel}.enqueue");
                    q.target = target(index, &q.service_name, &q.endpoint_name, at, &qrel)?;
                    if !index[q.target.service as usize].2 {
                        return Err(at.err(
                            &format!("{qrel}.service"),
                            format!("`{}` is not a worker pool: an enqueue needs a service with a `queue` balancer (use `call` to wait for an answer)", q.service_name),
                        ));
                    }
                }
                Step::Parallel(p) => {
                    for (b, branch) in p.branches.iter_mut().enumerate() {
                        self.bind(branch, &format!("{srel}.parallel[{b}]"))?;
                    }
                }
                Step::Branch(arms) => {
                    for (a, arm) in arms.iter_mut().enumerate() {
                        self.bind(&mut arm.steps, &format!("{srel}.branch[{a}].steps"))?;
                    }
                }
                Step::CacheGet(g) => {
                    self.cache(&mut g.cache, &format!("{srel}.cache_get.cache"))?;
                    self.bind(&mut g.miss, &format!("{srel}.cache_get.miss"))?;
                }
                Step::CacheSet(c) => self.cache(c, &format!("{srel}.cache_set.cache"))?,
                Step::Invalidate(c) => self.cache(c, &format!("{srel}.invalidate.cache"))?,
                Step::CacheProbe(_) => {} // written after binding
                Step::Cpu(_) | Step::Block(_) | Step::Io(_) | Step::Fail(_) => {}
            }
        }
        Ok(())
    }

    fn cache(&self, c: &mut CacheRef, rel: &str) -> Result<(), ConfigError> {
        c.cache = CacheId(lookup(
            &self.names.caches,
            &c.name,
            "cache",
            "caches",
            self.at,
            rel,
        )?);
        Ok(())
    }
}

/// The position of `name` among `known`, or an error listing what there is.
pub(crate) fn lookup(
    known: &[String],
    name: &str,
    what: &str,
    section: &str,
    at: At,
    rel: &str,
) -> Result<u32, ConfigError> {
    match known.iter().position(|k| k == name) {
        Some(i) => Ok(i as u32),
        None if known.is_empty() => Err(at.err(
            rel,
            format!("no {what} `{name}`: the model has no `{section}`"),
        )),
        None => Err(at.err(
            rel,
            format!(
                "no {what} `{name}` in the model's `{section}`; it has: {}",
                known.join(", ")
            ),
        )),
    }
}

fn target(
    index: &[(String, Vec<String>, bool)],
    service: &str,
    endpoint: &str,
    at: At,
    rel: &str,
) -> Result<EndpointRef, ConfigError> {
    let Some(s) = index.iter().position(|(name, _, _)| name == service) else {
        let known: Vec<&str> = index.iter().map(|(n, _, _)| n.as_str()).collect();
        return Err(at.err(
            &format!("{rel}.service"),
            format!(
                "no service `{service}` in the model; it has: {}",
                known.join(", ")
            ),
        ));
    };
    let Some(e) = index[s].1.iter().position(|name| name == endpoint) else {
        return Err(at.err(
            &format!("{rel}.endpoint"),
            format!(
                "service `{service}` has no endpoint `{endpoint}`; it has: {}",
                index[s].1.join(", ")
            ),
        ));
    };
    Ok(EndpointRef {
        service: s as u32,
        endpoint: e as u32,
    })
}
