//! Key spaces and caches: sizes, exponents and capacities checked, names kept for the steps
//! that use them.

use super::{At, check_name, positive_duration};
use crate::components::cache::{
    CacheNodes, CacheScope, CacheSpec, CacheTierSpec, Eviction, Reload, Ttl, WriteBehind,
};
use crate::config::ConfigError;
use crate::config::raw::{
    RawCache, RawCacheNodes, RawCacheScope, RawEviction, RawKeySpace, RawTtlRefresh, RawWarm,
};
use crate::config::raw::{RawModel, UniqueMap};
use crate::workload::keys::{KeyDist, KeySpaceSpec, MAX_KEY_SPACES, MAX_KEYS};

/// Most entries one cache store holds.
const MAX_CACHE_ENTRIES: i64 = crate::components::cache::MAX_CAPACITY as i64;
/// Most caches a model names.
const MAX_CACHES: usize = 10_000;

/// The model's key spaces, in file order.
pub(crate) fn keyspaces(raw: &RawModel, at: At) -> Result<Vec<KeySpaceSpec>, ConfigError> {
    if raw.keyspaces.len() > MAX_KEY_SPACES {
        return Err(at.err(
            "keyspaces",
            format!("a model has at most {MAX_KEY_SPACES} key spaces"),
        ));
    }
    raw.keyspaces
        .iter()
        .map(|(name, k)| {
            let rel = format!("keyspaces.{name}");
            check_name(at, &rel, name, "key space")?;
            keyspace(name, k, at, &rel)
        })
        .collect()
}

fn keyspace(name: &str, raw: &RawKeySpace, at: At, rel: &str) -> Result<KeySpaceSpec, ConfigError> {
    let count = |keys: i64, min: i64| -> Result<u64, ConfigError> {
        if keys < min || keys as u64 > MAX_KEYS {
            return Err(at.err(
                &format!("{rel}.keys"),
                format!("a key space has {min} to 2^48 ({MAX_KEYS}) keys, got {keys}"),
            ));
        }
        Ok(keys as u64)
    };
    let share = |v: f64, field: &str, what: &str, open: bool| -> Result<f64, ConfigError> {
        let inside = if open {
            v > 0.0 && v < 1.0
        } else {
            (0.0..=1.0).contains(&v)
        };
        if !(v.is_finite() && inside) {
            let range = if open {
                "above 0 and below 1"
            } else {
                "from 0 to 1"
            };
            return Err(at.err(
                &format!("{rel}.{field}"),
                format!("{what} is a fraction {range}, got {v}"),
            ));
        }
        Ok(v)
    };
    let (n, dist) = match *raw {
        RawKeySpace::Uniform { keys } => (count(keys, 1)?, KeyDist::Uniform),
        RawKeySpace::Sequential { keys } => (count(keys, 1)?, KeyDist::Sequential),
        RawKeySpace::Zipf { keys, s } => {
            let n = count(keys, 1)?;
            if !(s.is_finite() && (0.0..=10.0).contains(&s)) {
                return Err(at.err(
                    &format!("{rel}.s"),
                    format!(
                        "a Zipf exponent is from 0 to 10 (web objects: about 0.6 to 1.2), got {s}"
                    ),
                ));
            }
            let sampler = rand_distr::Zipf::new(n as f64, s).map_err(|e| {
                at.err(
                    &format!("{rel}.s"),
                    format!("no Zipf distribution with these: {e}"),
                )
            })?;
            (n, KeyDist::Zipf { s, sampler })
        }
        RawKeySpace::HotSet {
            keys,
            hot_keys,
            hot_requests,
        } => {
            let n = count(keys, 2)?;
            let fraction = share(hot_keys, "hot_keys", "`hot_keys`", true)?;
            let requests = share(hot_requests, "hot_requests", "`hot_requests`", false)?;
            // At least one hot key and at least one cold one.
            let hot = ((n as f64 * fraction).round() as u64).clamp(1, n - 1);
            (
                n,
                KeyDist::HotSet {
                    hot,
                    share: requests,
                },
            )
        }
    };
    Ok(KeySpaceSpec::new(name.to_string(), n, dist))
}

/// The model's caches, in file order.
pub(crate) fn caches(
    raw: &UniqueMap<RawCache>,
    keyspaces: &[KeySpaceSpec],
    at: At,
) -> Result<Vec<CacheTierSpec>, ConfigError> {
    if raw.len() > MAX_CACHES {
        return Err(at.err("caches", format!("a model has at most {MAX_CACHES} caches")));
    }
    raw.iter()
        .map(|(name, c)| {
            let rel = format!("caches.{name}");
            check_name(at, &rel, name, "cache")?;
            cache(name, c, keyspaces, at, &rel)
        })
        .collect()
}

fn cache(
    name: &str,
    raw: &RawCache,
    keyspaces: &[KeySpaceSpec],
    at: At,
    rel: &str,
) -> Result<CacheTierSpec, ConfigError> {
    if raw.capacity < 1 || raw.capacity > MAX_CACHE_ENTRIES {
        return Err(at.err(
            &format!("{rel}.capacity"),
            format!(
                "a cache holds 1 to {MAX_CACHE_ENTRIES} entries, got {}",
                raw.capacity
            ),
        ));
    }
    let ttl = match raw.ttl {
        Some(d) => Some(Ttl {
            duration: positive_duration(at, &format!("{rel}.ttl"), d, "a time to live")?,
            reset_on_hit: matches!(raw.ttl_refresh, Some(RawTtlRefresh::OnHit)),
        }),
        None if raw.ttl_refresh.is_some() => {
            return Err(at.err(
                &format!("{rel}.ttl_refresh"),
                "`ttl_refresh` says when a `ttl` starts, and this cache has no `ttl`",
            ));
        }
        None => None,
    };
    let nodes = match &raw.nodes {
        None => None,
        Some(n) => Some(cache_nodes(raw, n, at, rel)?),
    };
    let write_behind = match &raw.write_behind {
        None => None,
        Some(w) => Some(WriteBehind {
            delay: positive_duration(
                at,
                &format!("{rel}.write_behind.delay"),
                w.delay,
                "a write-behind delay",
            )?,
            service: w.service.clone(),
            endpoint: w.endpoint.clone(),
            target: crate::ids::EndpointRef {
                service: 0,
                endpoint: 0,
            },
        }),
    };
    let refresh_ahead = match raw.refresh_ahead {
        None => None,
        Some(f) => {
            let frel = format!("{rel}.refresh_ahead");
            if !(f > 0.0 && f < 1.0) {
                return Err(at.err(
                    &frel,
                    format!("refresh_ahead is the fraction of the TTL after which a hit refreshes: above 0, below 1, got {f}"),
                ));
            }
            match &ttl {
                None => return Err(at.err(&frel, "refresh-ahead refreshes an entry before its `ttl` ends, and this cache has no `ttl`")),
                Some(t) if t.reset_on_hit => return Err(at.err(&frel, "with `ttl_refresh: on_hit` a hit restarts the TTL, so there is nothing to refresh ahead of")),
                Some(_) => {}
            }
            if raw.nodes.is_some() {
                return Err(at.err(&frel, "refresh-ahead runs in the caller's process; a cache with `nodes` answers over the network (refresh an instance cache in front)"));
            }
            Some(f)
        }
    };
    Ok(CacheTierSpec {
        nodes,
        write_behind,
        refresh_ahead,
        count_stale: raw.count_stale.unwrap_or(false),
        name: name.to_string(),
        scope: match raw.scope {
            None | Some(RawCacheScope::Instance) => CacheScope::Instance,
            Some(RawCacheScope::Shared) => CacheScope::Shared,
        },
        store: CacheSpec {
            capacity: raw.capacity as u64,
            eviction: match raw.eviction {
                None | Some(RawEviction::Lru) => Eviction::Lru,
                Some(RawEviction::Lfu) => Eviction::Lfu,
                Some(RawEviction::Fifo) => Eviction::Fifo,
                Some(RawEviction::Random) => Eviction::Random,
            },
            ttl,
        },
        coalesce: raw.coalesce.unwrap_or(false),
        reload: match &raw.warm {
            None => None,
            Some(w) => reload(w, at, &format!("{rel}.warm"))?,
        },
        warm: match &raw.warm {
            None => None,
            Some(w) => {
                let wrel = format!("{rel}.warm");
                let names: Vec<String> = keyspaces.iter().map(|k| k.name.clone()).collect();
                let k = super::steps::lookup(
                    &names,
                    &w.keyspace,
                    "key space",
                    "keyspaces",
                    at,
                    &format!("{wrel}.keyspace"),
                )?;
                let most = (raw.capacity as u64).min(keyspaces[k as usize].n);
                if w.top < 1 || w.top as u64 > most {
                    return Err(at.err(
                        &format!("{wrel}.top"),
                        format!(
                            "warming loads 1 to {most} keys (the cache's capacity, or the key space's size), got {}",
                            w.top
                        ),
                    ));
                }
                Some((crate::ids::KeySpaceId(k), w.top as u64))
            }
        },
    })
}

/// A warming's schedule: `every` with its `load` (neither alone), and a pace that ends a
/// reload before the next.
fn reload(w: &RawWarm, at: At, rel: &str) -> Result<Option<Reload>, ConfigError> {
    let (every, load) = match (w.every, &w.load) {
        (None, None) => {
            if w.keys_per_second.is_some() {
                return Err(at.err(
                    &format!("{rel}.keys_per_second"),
                    "keys_per_second paces a scheduled reload: give `every` and `load` too",
                ));
            }
            return Ok(None);
        }
        (Some(_), None) => {
            return Err(at.err(
                &format!("{rel}.load"),
                "a scheduled reload fetches each key from somewhere: give `load` ({\"service\": \"database\", \"endpoint\": \"read\"})",
            ));
        }
        (None, Some(_)) => {
            return Err(at.err(
                &format!("{rel}.every"),
                "`load` is what each scheduled reload fetches from: give `every` (\"30m\")",
            ));
        }
        (Some(every), Some(load)) => (
            positive_duration(at, &format!("{rel}.every"), every, "a reload interval")?,
            load,
        ),
    };
    if let Some(r) = w.keys_per_second {
        let krel = format!("{rel}.keys_per_second");
        if !(r.is_finite() && r > 0.0) {
            return Err(at.err(
                &krel,
                format!("keys fetched per second: a positive number, got {r}"),
            ));
        }
        let takes = w.top.max(1) as f64 / r;
        if takes >= every.as_secs_f64() {
            return Err(at.err(
                &krel,
                format!(
                    "at {r} keys a second a reload of {} keys takes {takes:.1} s, not less than its interval ({} s): it would never end before the next",
                    w.top,
                    every.as_secs_f64()
                ),
            ));
        }
    }
    Ok(Some(Reload {
        every,
        keys_per_second: w.keys_per_second,
        service: load.service.clone(),
        endpoint: load.endpoint.clone(),
        target: crate::ids::EndpointRef {
            service: 0,
            endpoint: 0,
        },
    }))
}

/// What a cache's clients' calls to its nodes are like; a node caches what its store holds,
/// so a cache with nodes neither has a `scope` nor coalesces, and warming (which would load
/// every node with every key) is refused.
fn cache_nodes(
    raw: &RawCache,
    n: &RawCacheNodes,
    at: At,
    rel: &str,
) -> Result<CacheNodes, ConfigError> {
    let refuse = |key: &str, why: &str| Err(at.err(&format!("{rel}.{key}"), why));
    if raw.scope.is_some() {
        return refuse(
            "scope",
            "a cache with `nodes` lives on its nodes: one store per instance of the nodes' service, so it takes no `scope`",
        );
    }
    if raw.coalesce == Some(true) {
        return refuse(
            "coalesce",
            "a cache with `nodes` does not coalesce misses: its clients' misses are theirs (put an instance cache that coalesces in front)",
        );
    }
    if raw.warm.is_some() {
        return refuse(
            "warm",
            "a cache with `nodes` is not warmed: each node would load every top key, not the ones the ring gives it",
        );
    }
    let nrel = format!("{rel}.nodes");
    Ok(CacheNodes {
        service: n.service.clone(),
        latency: match &n.latency {
            Some(d) => Some(super::dist::dist(d, at, &format!("{nrel}.latency"))?),
            None => None,
        },
        timeout: match n.timeout {
            Some(t) => Some(positive_duration(
                at,
                &format!("{nrel}.timeout"),
                t,
                "a timeout on a cache node",
            )?),
            None => None,
        },
    })
}

/// A cache that counts stale hits needs writes to count them from: some database endpoint
/// with `"query": "write"`.
pub(crate) fn stale_needs_writes(
    caches: &[CacheTierSpec],
    services: &[crate::components::service::ServiceSpec],
    at: At,
) -> Result<(), ConfigError> {
    let writes = services.iter().any(|s| {
        s.database.is_some()
            && s.endpoints
                .iter()
                .any(|e| e.query == Some(crate::components::database::Query::Write))
    });
    match caches.iter().find(|c| c.count_stale) {
        Some(c) if !writes => Err(at.err(
            &format!("caches.{}.count_stale", c.name),
            "a stale hit is a hit on a key a database wrote after it was stored, and no database of this model takes writes (an endpoint with \"query\": \"write\" on a service with `database`)",
        )),
        _ => Ok(()),
    }
}

/// Points each write-behind cache and each scheduled reload at its endpoint, among the final
/// services (a sharded service's name is its shards' group, not one service: refused).
pub(crate) fn cache_targets(
    raw: &RawModel,
    caches: &mut [CacheTierSpec],
    services: &[crate::components::service::ServiceSpec],
    at: At,
) -> Result<(), ConfigError> {
    for c in caches {
        if let Some(w) = &mut c.write_behind {
            let rel = format!("caches.{}.write_behind", c.name);
            w.target = endpoint_target(raw, services, &w.service, &w.endpoint, &rel, at)?;
        }
        if let Some(r) = &mut c.reload {
            let rel = format!("caches.{}.warm.load", c.name);
            r.target = endpoint_target(raw, services, &r.service, &r.endpoint, &rel, at)?;
        }
    }
    Ok(())
}

/// `service`'s endpoint `endpoint`, named at `rel`: one service, not a sharded group.
fn endpoint_target(
    raw: &RawModel,
    services: &[crate::components::service::ServiceSpec],
    service: &str,
    endpoint: &str,
    rel: &str,
    at: At,
) -> Result<crate::ids::EndpointRef, ConfigError> {
    let sharded = raw
        .services
        .iter()
        .any(|(name, s)| name == service && s.shards.is_some());
    if sharded {
        return Err(at.err(
            &format!("{rel}.service"),
            format!(
                "`{service}` is sharded: a cache's writes and reloads go to one service (give each shard its own cache)"
            ),
        ));
    }
    let Some(s) = services.iter().position(|s| s.name == service) else {
        let known: Vec<&str> = raw.services.iter().map(|(n, _)| n.as_str()).collect();
        return Err(at.err(
            &format!("{rel}.service"),
            format!(
                "no service `{service}` in the model; it has: {}",
                known.join(", ")
            ),
        ));
    };
    let endpoints = &services[s].endpoints;
    let Some(e) = endpoints.iter().position(|e| e.name == endpoint) else {
        let known: Vec<&str> = endpoints.iter().map(|e| e.name.as_str()).collect();
        return Err(at.err(
            &format!("{rel}.endpoint"),
            format!(
                "service `{service}` has no endpoint `{endpoint}`; it has: {}",
                known.join(", ")
            ),
        ));
    };
    Ok(crate::ids::EndpointRef {
        service: s as u32,
        endpoint: e as u32,
    })
}

/// Most connection pools a model names.
const MAX_POOLS: usize = 10_000;

/// The model's connection pools, in file order.
pub(crate) fn pools(
    raw: &UniqueMap<crate::config::raw::RawPool>,
    at: At,
) -> Result<Vec<crate::components::pool::PoolSpec>, ConfigError> {
    use crate::components::pool::{MAX_POOL_SIZE, PoolSpec};
    if raw.len() > MAX_POOLS {
        return Err(at.err("pools", format!("a model has at most {MAX_POOLS} pools")));
    }
    raw.iter()
        .map(|(name, p)| {
            let rel = format!("pools.{name}");
            check_name(at, &rel, name, "pool")?;
            if p.size < 1 || p.size > i64::from(MAX_POOL_SIZE) {
                return Err(at.err(
                    &format!("{rel}.size"),
                    format!("a pool has 1 to {MAX_POOL_SIZE} connections, got {}", p.size),
                ));
            }
            let max_clients = match p.max_clients {
                None => u32::MAX,
                Some(m) if m < p.size || m > i64::from(u32::MAX) => {
                    return Err(at.err(
                        &format!("{rel}.max_clients"),
                        format!(
                            "max_clients counts the calls holding or waiting for a connection: from the pool's size ({}) to {}, got {m}",
                            p.size,
                            u32::MAX
                        ),
                    ));
                }
                Some(m) => m as u32,
            };
            Ok(PoolSpec {
                name: name.clone(),
                scope: match p.scope {
                    None | Some(RawCacheScope::Instance) => CacheScope::Instance,
                    Some(RawCacheScope::Shared) => CacheScope::Shared,
                },
                size: p.size as u32,
                max_clients,
                acquire_timeout: match p.acquire_timeout {
                    Some(d) => Some(positive_duration(
                        at,
                        &format!("{rel}.acquire_timeout"),
                        d,
                        "acquire_timeout",
                    )?),
                    None => None,
                },
            })
        })
        .collect()
}
