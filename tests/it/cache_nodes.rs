//! Caches that are clusters of their own (Redis, memcached): nodes as the instances of a
//! service, keys placed by consistent hashing, nodes lost and added, each checked by exact
//! miss counts or against Che's approximation.

use crate::support::{assert_error_at, experiment, load_error, only, run};
use surge::experiment::RunResult;

fn variant<'a>(results: &'a [RunResult], name: &str) -> &'a surge::simulation::RunSummary {
    &results
        .iter()
        .find(|r| r.variant == name)
        .expect("variant ran")
        .output
        .summary
}

/// An API whose one endpoint looks its key up in cache `l2` on the nodes of `redis`; `KEYS`,
/// `CAPACITY`, `RPS`, `NODES` and `VARIANTS` are filled in.
const CLUSTER: &str = r#"{ "name": "cluster", "seed": 5, "duration": "20s", "warmup": "WARMUP",
  "model": {
    "keyspaces": { "k": KEYS },
    "caches": { "l2": { "capacity": CAPACITY, "nodes": { "service": "redis" } } },
    "services": {
      "api": { "replicas": 2, "instance": { "cores": 2 }, "endpoints": {
        "e": { "key": "k", "steps": [ { "cache_get": { "cache": "l2" } } ] } } },
      "redis": { "replicas": NODES, "instance": { "cores": 1, "runtime": "event_loop" },
                 "lifecycle": { "provisioning": "0s", "startup": "0s", "readiness": "0s" } } } },
  "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": RPS },
                  "mix": [ { "service": "api", "endpoint": "e" } ] } ],
  "variants": VARIANTS }"#;

fn cluster(
    keys: &str,
    capacity: u64,
    nodes: u32,
    rps: u32,
    warmup: &str,
    variants: &str,
) -> String {
    CLUSTER
        .replace("KEYS", keys)
        .replace("CAPACITY", &capacity.to_string())
        .replace("NODES", &nodes.to_string())
        .replace("RPS", &rps.to_string())
        .replace("WARMUP", warmup)
        .replace("VARIANTS", variants)
}

/// Every operation costs nothing and no node evicts (each holds all 2,000 keys), so a miss
/// is exactly a (key, node) pair met for the first time; 100,000 lookups touch every key
/// about 50 times. So: with the ring each key misses once (2,000); losing
/// node 2 at 10 s adds exactly the keys it held (its ring share: 1/3, sd about 0.037 with 160
/// tokens, plus 0.011 of binomial spread over 2,000 keys), adding a fourth adds what it takes
/// (1/4, sd about 0.035); and the new node holds nothing else.
#[test]
fn a_ring_misses_each_key_once_and_a_lost_node_only_its_own() {
    let variants = r#"{ "ring": {},
        "lose-a-node": { "services": { "redis": { "schedule": [ { "at": "10s", "replicas": 2 } ] } } },
        "add-a-node": { "services": { "redis": { "schedule": [ { "at": "10s", "replicas": 4 } ] } } } }"#;
    let json = cluster(
        r#"{ "kind": "uniform", "keys": 2000 }"#,
        2000,
        3,
        5000,
        "0s",
        variants,
    );
    let results = run(&experiment("cluster-misses", &json));
    let misses = |v: &str| variant(&results, v).caches["l2"].misses;
    assert_eq!(misses("ring"), 2000, "the ring: one miss a key");
    let lost = (misses("lose-a-node") - 2000) as f64 / 2000.0;
    assert!(
        (lost - 1.0 / 3.0).abs() < 0.13,
        "the lost node held {lost} of the keys"
    );
    let taken = (misses("add-a-node") - 2000) as f64 / 2000.0;
    assert!(
        (taken - 0.25).abs() < 0.12,
        "the new node took {taken} of the keys"
    );
    let ring = variant(&results, "ring");
    assert_eq!(ring.caches["l2"].scope, "nodes");
    assert_eq!(ring.caches["l2"].nodes.as_deref(), Some("redis"));
    assert_eq!(
        ring.caches["l2"].entries_at_end, 2000,
        "each key on one node"
    );
    // Each lookup is a call to `get`, each miss a call to `set`.
    let calls = |name: &str| {
        ring.calls
            .get(name)
            .unwrap_or_else(|| panic!("no edge {name}"))
            .calls
    };
    assert_eq!(calls("api.e -> redis.get"), ring.caches["l2"].lookups);
    assert_eq!(calls("api.e -> redis.set"), 2000);
}

/// Che's approximation for LRU under the independent reference model: the characteristic
/// time T solves sum_i (1 - e^(-p_i T)) = C, and the hit ratio is sum_i p_i (1 - e^(-p_i T)).
fn che_hit_ratio(p: &[f64], capacity: f64) -> f64 {
    let filled = |t: f64| p.iter().map(|&q| 1.0 - (-q * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while filled(hi) < capacity {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if filled(mid) < capacity {
            lo = mid
        } else {
            hi = mid
        }
    }
    p.iter().map(|&q| q * (1.0 - (-q * hi).exp())).sum()
}

/// Four LRU nodes of 500 entries under Zipf(0.8) over 20,000 keys. The ring gives each node
/// a quarter of the keys, each node's LRU sees only its keys, and together they behave as
/// one LRU of 2,000 (Che with C = 2,000: each node's characteristic time is the global one
/// when the shares are equal; 160 tokens leave them within a few percent, worth under 0.01
/// of hit ratio), far more than one node's 500 would. 100,000 counted lookups give a
/// binomial standard error of 0.0016; LRU's correlation and Che's error (under 0.5% here)
/// bring the tolerance to 0.015.
#[test]
fn a_ring_of_lru_nodes_holds_what_one_lru_of_their_sum_holds() {
    let json = cluster(
        r#"{ "kind": "zipf", "keys": 20000, "s": 0.8 }"#,
        500,
        4,
        10000,
        "10s",
        "{}",
    );
    let results = run(&experiment("cluster-che", &json));
    let weights: Vec<f64> = (1..=20_000).map(|r| (r as f64).powf(-0.8)).collect();
    let total: f64 = weights.iter().sum();
    let p: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let (whole, one) = (che_hit_ratio(&p, 2000.0), che_hit_ratio(&p, 500.0));
    let ring = only(&results).output.summary.caches["l2"].hit_ratio;
    assert!(
        (ring - whole).abs() < 0.015,
        "ring {ring}, Che(2000) {whole}"
    );
    assert!(
        ring - one > 0.1,
        "four nodes hold more than one: {ring} against {one}"
    );
}

/// A process restart (here a resize) loses what an in-process cache held: one instance, a
/// cache holding every key, so each key misses once before the restart and once after.
#[test]
fn a_restarted_instance_starts_with_a_cold_cache() {
    let json = r#"{ "name": "restart", "seed": 2, "duration": "20s",
      "model": { "keyspaces": { "k": { "kind": "uniform", "keys": 500 } },
        "caches": { "l1": { "capacity": 500 } },
        "services": { "api": { "replicas": 1, "instance": { "cores": 2 },
          "lifecycle": { "provisioning": "0s", "startup": "1s", "readiness": "0s" },
          "schedule": [ { "at": "10s", "resize": { "instance": { "cores": 4 } } } ],
          "endpoints": { "e": { "key": "k", "steps": [ { "cache_get": { "cache": "l1" } } ] } } } } },
      "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 2000 },
                      "mix": [ { "service": "api", "endpoint": "e" } ] } ] }"#;
    let results = run(&experiment("restart-cold", json));
    let s = &only(&results).output.summary;
    assert_eq!(
        s.caches["l1"].misses, 1000,
        "500 keys, missed before and after the restart"
    );
}

#[test]
fn bad_cache_nodes_are_refused_with_their_path() {
    let base = |caches: &str, redis: &str| {
        format!(
            r#"{{ "duration": "1s", "model": {{ "keyspaces": {{ "k": {{ "kind": "uniform", "keys": 10 }} }},
              "caches": {{ {caches} }},
              "services": {{
                "api": {{ "replicas": 1, "instance": {{ "cores": 1 }}, "endpoints": {{
                  "e": {{ "key": "k", "steps": [ {{ "cache_get": {{ "cache": "l2" }} }} ] }} }} }},
                "redis": {{ "replicas": 1, "instance": {{ "cores": 1 }} {redis} }} }} }},
              "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": 10 }},
                              "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ] }}"#
        )
    };
    let l2 = r#""l2": { "capacity": 10, "nodes": { "service": "redis" } }"#;
    for (tag, caches, redis, path, words) in [
        (
            "no-such-service",
            r#""l2": { "capacity": 10, "nodes": { "service": "memcached" } }"#,
            "",
            "caches.l2.nodes.service",
            "no service `memcached`",
        ),
        (
            "scope",
            r#""l2": { "capacity": 10, "scope": "shared", "nodes": { "service": "redis" } }"#,
            "",
            "caches.l2.scope",
            "takes no `scope`",
        ),
        (
            "coalesce",
            r#""l2": { "capacity": 10, "coalesce": true, "nodes": { "service": "redis" } }"#,
            "",
            "caches.l2.coalesce",
            "does not coalesce",
        ),
        (
            "warm",
            r#""l2": { "capacity": 10, "warm": { "keyspace": "k", "top": 5 }, "nodes": { "service": "redis" } }"#,
            "",
            "caches.l2.warm",
            "not warmed",
        ),
        (
            "zero-timeout",
            r#""l2": { "capacity": 10, "nodes": { "service": "redis", "timeout": "0s" } }"#,
            "",
            "caches.l2.nodes.timeout",
            "timeout",
        ),
        (
            "two-caches",
            r#""l2": { "capacity": 10, "nodes": { "service": "redis" } }, "l3": { "capacity": 10, "nodes": { "service": "redis" } }"#,
            "",
            "caches.l3.nodes.service",
            "already the nodes of cache `l2`",
        ),
        (
            "other-endpoint",
            l2,
            r#", "endpoints": { "scan": { "steps": [ { "cpu": "1ms" } ] } }"#,
            "services.redis.endpoints.scan",
            "`get`, `set` and `delete`",
        ),
        (
            "a-call",
            l2,
            r#", "endpoints": { "get": { "steps": [ { "call": { "service": "api", "endpoint": "e" } } ] } }"#,
            "services.redis.endpoints.get.steps[0]",
            "`cpu`, `block` or `io` steps only",
        ),
        (
            "own-key",
            l2,
            r#", "endpoints": { "get": { "key": "k", "steps": [ { "cpu": "1ms" } ] } }"#,
            "services.redis.endpoints.get.key",
            "draws none",
        ),
        (
            "database",
            l2,
            r#", "database": {}, "endpoints": { "get": { "query": "read_primary", "steps": [ { "cpu": "1ms" } ] } }"#,
            "services.redis",
            "cannot be a database",
        ),
        (
            "sharded",
            l2,
            r#", "shards": { "key": "k", "count": 2 }"#,
            "services.redis",
            "cannot be sharded",
        ),
        (
            "zero-vnodes",
            l2,
            r#", "balancer": { "kind": "consistent_hash", "vnodes": 0 }"#,
            "services.redis.balancer.vnodes",
            "1 to 4096",
        ),
        (
            "round-robin",
            l2,
            r#", "balancer": { "kind": "round_robin" }"#,
            "services.redis.balancer",
            "by the key",
        ),
    ] {
        let err = load_error(&format!("nodes-{tag}"), &base(caches, redis));
        assert_error_at(&err, &format!("model.{path}"), words);
    }
}

/// `experiments/cache-cluster.json` (G-22, C-02): Go Coffee's three layers on a Zipf(0.9)
/// catalogue. Each layer's misses are what the next one sees, and the database reads the
/// last layer's misses. L3 (the CDN) is consulted only when L2 missed: every draw being
/// common to `l1-l2-l3` and `l1-l2` (L1 and L2 see the same stream, L2's fills only come
/// 5 ms later), the mean latencies differ by L3's 5 ms round trip on each of its lookups less
/// the 2 ms database read each of its hits saves (the database never queues), per request,
/// within 2% (the later fills). Losing a Redis node at 3 minutes sends its keys,
/// cold, to the other two: L2 hits fewer, and the CDN catches more.
#[test]
fn go_coffee_layers_and_a_lost_redis_node() {
    let path = crate::support::repo().join("experiments/cache-cluster.json");
    let exp = surge::config::load_experiment(&path).unwrap_or_else(|e| panic!("{e}"));
    let results = run(&exp);
    let (full, two, one, lost) = (
        variant(&results, "l1-l2-l3"),
        variant(&results, "l1-l2"),
        variant(&results, "l1-only"),
        variant(&results, "lose-a-node"),
    );
    let db = |s: &surge::simulation::RunSummary| s.calls["api.product -> database.read"].calls;
    // A lookup is counted by when its request started, a call by when it was made: they can
    // differ for the few requests on their way at the end of the warm-up.
    let near = |a: u64, b: u64, what: &str| assert!(a.abs_diff(b) <= 5, "{what}: {a} against {b}");
    near(
        db(full),
        full.caches["l3"].misses,
        "the database reads L3's misses",
    );
    near(db(two), two.caches["l2"].misses, "without L3, L2's");
    near(db(one), one.caches["l1"].misses, "without L2, L1's");
    near(
        full.caches["l2"].lookups,
        full.caches["l1"].misses,
        "L2 sees L1's misses",
    );
    near(
        full.caches["l3"].lookups,
        full.caches["l2"].misses,
        "L3 sees L2's misses",
    );
    // L3 only delays L2's fills by its round trip: a handful of L2 lookups land in that gap.
    let (h3, h2) = (full.caches["l2"].hits, two.caches["l2"].hits);
    assert!(
        h3.abs_diff(h2) * 1000 < h2,
        "L2 hits {h3} with L3, {h2} without"
    );
    let l3 = &full.caches["l3"];
    let added = (0.005 * l3.lookups as f64 - 0.002 * l3.hits as f64) / full.completed as f64;
    let diff = full.latency_s.mean - two.latency_s.mean;
    assert!(
        (diff - added).abs() < 0.02 * added,
        "L3 adds {diff} s to the mean; its round trips less the reads it saves {added} s"
    );
    assert!(
        lost.caches["l2"].hit_ratio < full.caches["l2"].hit_ratio - 0.02,
        "a lost node costs L2 hits: {} against {}",
        lost.caches["l2"].hit_ratio,
        full.caches["l2"].hit_ratio
    );
    assert!(
        lost.caches["l3"].hit_ratio > full.caches["l3"].hit_ratio + 0.02,
        "the CDN catches moved keys"
    );
    assert_eq!(lost.services["redis"].instances, 2);
}
