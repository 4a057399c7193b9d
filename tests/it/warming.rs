//! Scheduled cache warming: every `every`, each store fetches its warm keys by requests to
//! the reload's endpoint and stores those that succeed.

use crate::support::{assert_error_at, experiment, load_error, only, run_conserved};

/// 50 keys read at 200/s through cache `c` (`SCOPE`), warmed with all 50 at the start and
/// reloaded as `WARM` says; 35 s, no warm-up.
const MODEL: &str = r#"{ "name": "reload", "seed": 3, "duration": "35s", "warmup": "0s", "resolution": "1s",
  "model": {
    "keyspaces": { "k": { "kind": "uniform", "keys": 50 } },
    "caches": { "c": { SCOPE "capacity": 100, "ttl": "15s",
                       "warm": { "keyspace": "k", "top": 50 WARM } } },
    "services": {
      "api": { "replicas": 3, "instance": { "cores": 2 }, "endpoints": {
        "read": { "key": "k", "steps": [
          { "cache_get": { "cache": "c", "miss": [ { "call": { "service": "db", "endpoint": "read" } } ] } } ] } } },
      "db": { "replicas": 1, "instance": { "cores": 8, "runtime": "thread_pool" }, "endpoints": {
        "read": { "steps": [ { "cpu": "1ms" } ] } } } } },
  "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 200 },
                  "mix": [ { "service": "api", "endpoint": "read" } ] } ] }"#;

const LOAD: &str = r#", "every": "10s", "load": { "service": "db", "endpoint": "read" }"#;

fn model(scope: &str, warm: &str) -> String {
    MODEL.replace("SCOPE", scope).replace("WARM", warm)
}

/// Reloads at 10, 20 and 30 s each fetch the 50 keys once for the shared store: 150 fetches,
/// all stored, each one a request the database serves. Every entry is stored again within
/// its 15 s TTL (at the start, then every 10 s), so no lookup ever misses.
#[test]
fn a_reload_every_ten_seconds_fetches_each_key_and_keeps_a_15s_ttl_from_expiring() {
    let results = run_conserved(&experiment(
        "reload-shared",
        &model(r#""scope": "shared","#, LOAD),
    ));
    let s = &only(&results).output.summary;
    let c = &s.caches["c"];
    let r = c.reloads.as_ref().expect("reload figures");
    assert_eq!(
        (r.fetches, r.stored, r.dropped, r.in_flight_at_end),
        (150, 150, 0, 0)
    );
    assert_eq!(s.services["db"].endpoints["read"].arrivals, 150);
    assert_eq!((c.misses, c.expired), (0, 0));
    assert_eq!(c.hits, c.lookups);
    // Without the reloads every key expires at 15 s, and again 15 s after its refill.
    let plain = run_conserved(&experiment(
        "reload-none",
        &model(r#""scope": "shared","#, ""),
    ));
    let c = &only(&plain).output.summary.caches["c"];
    assert!(c.reloads.is_none());
    assert!(c.expired >= 50, "{} expired", c.expired);
}

/// An instance cache reloads in each of the three pods that holds a store: 3 x 50 a round;
/// at 10 keys a second a round takes 5 s, so the database's first reload second sees 10 from each (and no miss: each pod's
/// store is warmed when made and reloaded within its TTL).
#[test]
fn each_pod_reloads_its_own_store_at_the_set_pace() {
    let paced = format!(r#"{LOAD}, "keys_per_second": 10"#);
    let results = run_conserved(&experiment("reload-paced", &model("", &paced)));
    let out = &only(&results).output;
    let r = out.summary.caches["c"].reloads.as_ref().unwrap();
    assert_eq!((r.fetches, r.stored, r.dropped), (450, 450, 0));
    // Buckets of 1 s: [10, 11) holds the first reload's first 10 keys in each of 3 pods.
    let db = out
        .timeseries
        .iter()
        .find(|row| row.t_s == 10.0)
        .expect("a bucket at 10 s");
    assert_eq!(
        db.services[1].arrivals, 30,
        "10 fetches from each of 3 pods"
    );
    assert_eq!(out.summary.caches["c"].misses, 0);
}

#[test]
fn bad_reloads_are_refused_with_their_path() {
    let cases = [
        (
            r#", "every": "10s""#,
            "model.caches.c.warm.load",
            "give `load`",
        ),
        (
            r#", "load": { "service": "db", "endpoint": "read" }"#,
            "model.caches.c.warm.every",
            "give `every`",
        ),
        (
            r#", "keys_per_second": 5"#,
            "model.caches.c.warm.keys_per_second",
            "give `every` and `load`",
        ),
        (
            r#", "every": "10s", "load": { "service": "db", "endpoint": "read" }, "keys_per_second": 4"#,
            "model.caches.c.warm.keys_per_second",
            "never end before the next",
        ),
        (
            r#", "every": "10s", "load": { "service": "db", "endpoint": "read" }, "keys_per_second": -1"#,
            "model.caches.c.warm.keys_per_second",
            "a positive number",
        ),
        (
            r#", "every": "0s", "load": { "service": "db", "endpoint": "read" }"#,
            "model.caches.c.warm.every",
            "",
        ),
        (
            r#", "every": "10s", "load": { "service": "cdn", "endpoint": "read" }"#,
            "model.caches.c.warm.load.service",
            "no service `cdn`",
        ),
        (
            r#", "every": "10s", "load": { "service": "db", "endpoint": "get" }"#,
            "model.caches.c.warm.load.endpoint",
            "has no endpoint `get`",
        ),
    ];
    for (i, (warm, path, words)) in cases.into_iter().enumerate() {
        let e = load_error(&format!("reload-bad-{i}"), &model("", warm));
        assert_error_at(&e, path, words);
    }
}
