//! Caches that are clusters of their own (Redis, memcached): the nodes' service gets its
//! cache's operations (`get`, `set`, `delete`: the cost the file gives, then the store's
//! part), and every other endpoint's cache steps on such a cache become calls to it. A node's
//! store is its instance's, so a node that stops or restarts loses what it held, and the
//! nodes' consistent-hash balancer sends a key to the node that holds it.

use super::At;
use super::balancer::DEFAULT_VNODES;
use crate::components::balancer::BalancerSpec;
use crate::components::cache::CacheTierSpec;
use crate::components::endpoint::{CacheGetSpec, CacheRef, CallSpec, EndpointSpec, OnError, Step};
use crate::components::service::ServiceSpec;
use crate::config::ConfigError;
use crate::config::raw::RawModel;
use crate::ids::{CacheId, EndpointRef};

/// A node's operations, in the order Surge adds the missing ones.
const OPERATIONS: [&str; 3] = ["get", "set", "delete"];

/// Each cache's nodes' service, by index (`None`: a cache without nodes).
pub(super) type NodeServices = Vec<Option<usize>>;

/// Before the steps are bound: finds each cache's nodes' service, checks that it is only
/// that, and gives it the operations the file leaves out (costing nothing) and, unless the
/// file names one, a consistent-hash balancer.
pub(super) fn give_operations(
    raw: &RawModel,
    services: &mut [ServiceSpec],
    caches: &[CacheTierSpec],
    at: At,
) -> Result<NodeServices, ConfigError> {
    let mut node_of: NodeServices = vec![None; caches.len()];
    for (c, cache) in caches.iter().enumerate() {
        let Some(nodes) = &cache.nodes else { continue };
        let rel = format!("caches.{}.nodes.service", cache.name);
        let Some(s) = services.iter().position(|s| s.name == nodes.service) else {
            let known: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
            return Err(at.err(
                &rel,
                format!(
                    "no service `{}` in the model; it has: {}",
                    nodes.service,
                    known.join(", ")
                ),
            ));
        };
        if let Some(other) = node_of.iter().position(|&n| n == Some(s)) {
            return Err(at.err(
                &rel,
                format!(
                    "`{}` is already the nodes of cache `{}`: a service is the nodes of one cache",
                    nodes.service, caches[other].name
                ),
            ));
        }
        node_of[c] = Some(s);
        let spec = &mut services[s];
        let (_, raw_service) = raw
            .services
            .iter()
            .find(|(name, _)| *name == &spec.name)
            .expect("services follow the file");
        let srel = format!("services.{}", spec.name);
        let not = |what: &str| {
            Err(at.err(
                &srel,
                format!(
                    "`{}` holds cache `{}` on its instances, so it cannot be {what}",
                    spec.name, cache.name
                ),
            ))
        };
        if spec.database.is_some() {
            return not("a database");
        }
        if raw_service.shards.is_some() {
            return not("sharded (its consistent-hash balancer spreads the keys)");
        }
        match spec.balancer {
            BalancerSpec::ConsistentHash { .. } => {}
            _ if raw_service.balancer.is_none() => {
                spec.balancer = BalancerSpec::ConsistentHash {
                    vnodes: DEFAULT_VNODES,
                };
            }
            _ => {
                // A lookup and its fill are separate calls: only the key keeps them on one node.
                return Err(at.err(
                    &format!("{srel}.balancer"),
                    format!(
                        "`{}` holds cache `{}`, whose clients pick a node by the key: its balancer is `consistent_hash` (the default here)",
                        spec.name, cache.name
                    ),
                ));
            }
        }
        check_operations(spec, &cache.name, at)?;
        for op in OPERATIONS {
            if !spec.endpoints.iter().any(|e| e.name == op) {
                spec.endpoints.push(EndpointSpec {
                    name: op.to_string(),
                    steps: Vec::new(),
                    key_name: None,
                    key: None,
                    query: None,
                });
            }
        }
    }
    Ok(node_of)
}

/// A node serves its cache's operations only, each costing CPU or time, and keeps its
/// callers' keys.
fn check_operations(spec: &ServiceSpec, cache: &str, at: At) -> Result<(), ConfigError> {
    for ep in &spec.endpoints {
        let rel = format!("services.{}.endpoints.{}", spec.name, ep.name);
        if !OPERATIONS.contains(&ep.name.as_str()) {
            return Err(at.err(
                &rel,
                format!(
                    "`{}` holds cache `{cache}`: its endpoints are the cache's operations `get`, `set` and `delete` (each optional)",
                    spec.name
                ),
            ));
        }
        if ep.key_name.is_some() {
            return Err(at.err(
                &format!("{rel}.key"),
                "a cache node's operation is about its caller's key, so it draws none",
            ));
        }
        for (k, step) in ep.steps.iter().enumerate() {
            if !matches!(step, Step::Cpu(_) | Step::Block(_) | Step::Io(_)) {
                return Err(at.err(
                    &format!("{rel}.steps[{k}]"),
                    "a cache node's operation costs `cpu`, `block` or `io` steps only (Surge adds the store's part)",
                ));
            }
        }
    }
    Ok(())
}

/// The calls a client of a cache with nodes makes.
struct NodeCalls {
    get: CallSpec,
    set: CallSpec,
    delete: CallSpec,
}

/// After the steps are bound: every cache step on a cache with nodes becomes a call to its
/// nodes (a lookup, a call then the answer; a fill, a call in the miss's steps), and each
/// node's operations end in their store's part.
pub(super) fn rewrite(
    services: &mut [ServiceSpec],
    caches: &[CacheTierSpec],
    node_of: &NodeServices,
) {
    let calls: Vec<Option<NodeCalls>> = caches
        .iter()
        .zip(node_of)
        .map(|(cache, &node)| {
            let (nodes, s) = (cache.nodes.as_ref()?, node?);
            let call = |op: &str| {
                let e = services[s].endpoints.iter().position(|e| e.name == op);
                CallSpec {
                    service_name: services[s].name.clone(),
                    endpoint_name: op.to_string(),
                    target: EndpointRef {
                        service: s as u32,
                        endpoint: e.expect("operations were given") as u32,
                    },
                    timeout: nodes.timeout,
                    latency: nodes.latency.clone(),
                    // A node that fails or is too slow is a miss (a lookup) or nothing (a
                    // fill), as cache clients treat it.
                    on_error: OnError::Continue,
                    pool_name: None,
                    pool: None,
                    shards: None,
                    retry: None,
                    breaker: None,
                }
            };
            Some(NodeCalls {
                get: call("get"),
                set: call("set"),
                delete: call("delete"),
            })
        })
        .collect();
    for (s, svc) in services.iter_mut().enumerate() {
        match node_of.iter().position(|&n| n == Some(s)) {
            Some(c) => {
                let cache = CacheRef {
                    name: caches[c].name.clone(),
                    cache: CacheId(c as u32),
                };
                for ep in &mut svc.endpoints {
                    ep.steps.push(match ep.name.as_str() {
                        "get" => Step::CacheProbe(cache.clone()),
                        "set" => Step::CacheSet(cache.clone()),
                        _ => Step::Invalidate(cache.clone()),
                    });
                }
            }
            None => {
                for ep in &mut svc.endpoints {
                    ep.steps = through_nodes(std::mem::take(&mut ep.steps), &calls);
                }
            }
        }
    }
}

/// `steps` with each cache step on a cache with nodes replaced by its calls.
fn through_nodes(steps: Vec<Step>, calls: &[Option<NodeCalls>]) -> Vec<Step> {
    let mut out = Vec::with_capacity(steps.len());
    for step in steps {
        match step {
            Step::CacheGet(g) => {
                let miss = through_nodes(g.miss, calls);
                match &calls[g.cache.cache.index()] {
                    Some(n) => {
                        out.push(Step::Call(n.get.clone()));
                        let mut miss = miss;
                        if g.fill {
                            miss.push(Step::Call(n.set.clone()));
                        }
                        out.push(Step::CacheGet(CacheGetSpec {
                            cache: g.cache,
                            miss,
                            fill: false,
                            answered_by_call: true,
                        }));
                    }
                    None => out.push(Step::CacheGet(CacheGetSpec { miss, ..g })),
                }
            }
            Step::CacheSet(c) => match &calls[c.cache.index()] {
                Some(n) => out.push(Step::Call(n.set.clone())),
                None => out.push(Step::CacheSet(c)),
            },
            Step::Invalidate(c) => match &calls[c.cache.index()] {
                Some(n) => out.push(Step::Call(n.delete.clone())),
                None => out.push(Step::Invalidate(c)),
            },
            Step::Parallel(mut p) => {
                p.branches = p
                    .branches
                    .into_iter()
                    .map(|b| through_nodes(b, calls))
                    .collect();
                out.push(Step::Parallel(p));
            }
            Step::Branch(mut arms) => {
                for a in &mut arms {
                    a.steps = through_nodes(std::mem::take(&mut a.steps), calls);
                }
                out.push(Step::Branch(arms));
            }
            other => out.push(other),
        }
    }
    out
}
