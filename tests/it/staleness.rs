//! Stale cache hits: a database's write marks its key's cached entries, and a hit on a marked
//! entry is counted until the entry is stored again, invalidated, expired or evicted.

use crate::support::{assert_error_at, experiment, load_error, only, run};

/// 100 keys read at 1,000/s and written at 10/s (both uniform), through a shared cache with a
/// 10 s TTL set on store; `WRITE` is the write endpoint's steps after its database call.
const MODEL: &str = r#"{ "name": "stale", "seed": 5, "duration": "DURATION", "warmup": "10s",
  "model": {
    "keyspaces": { "k": { "kind": "uniform", "keys": 100 } },
    "caches": { "c": { "scope": "shared", "capacity": 1000, "ttl": "10s", "count_stale": true } },
    "services": {
      "api": { "replicas": 1, "instance": { "cores": 8 }, "endpoints": {
        "read": { "key": "k", "steps": [
          { "cache_get": { "cache": "c", "miss": [ { "call": { "service": "db", "endpoint": "read" } } ] } } ] },
        "write": { "key": "k", "steps": [ { "call": { "service": "db", "endpoint": "write" } } WRITE ] } } },
      "db": { "replicas": 1, "instance": { "cores": 16, "runtime": "thread_pool" }, "database": {},
        "endpoints": {
          "read": { "query": "read_primary", "steps": [ { "cpu": "100us" } ] },
          "write": { "query": "write", "steps": [ { "cpu": "100us" } ] } } } } },
  "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 1010 },
                  "mix": [ { "service": "api", "endpoint": "read", "weight": 100 },
                           { "service": "api", "endpoint": "write", "weight": 1 } ] } ] }"#;

fn model(duration: &str, write: &str) -> String {
    MODEL.replace("DURATION", duration).replace("WRITE", write)
}

/// An entry lives T = 10 s from its fill, read at r = 10/s per key, and its key is written at
/// w = 0.1/s (Poisson): a hit at age t is stale if a write came since the fill, probability
/// 1 - e^{-wt}, so the stale share of a life's hits is
/// (1/T) integral_0^T (1 - e^{-wt}) dt = 1 - (1 - e^{-wT}) / (wT) = e^{-1} = 0.368 at wT = 1.
/// Over 2,000 s (about 19,800 lives of 100 hits each) its standard error is about 0.0025:
/// 0.012 is five of them.
#[test]
fn a_ttl_bounds_stale_hits_to_the_writes_within_an_entrys_life() {
    let results = run(&experiment("stale-ttl", &model("2010s", "")));
    let s = &only(&results).output.summary;
    let c = &s.caches["c"];
    let stale = c.stale.as_ref().expect("the cache counts stale hits");
    let wt: f64 = 0.1 * 10.0;
    let expected = 1.0 - (1.0 - (-wt).exp()) / wt;
    assert!(
        (stale.fraction - expected).abs() < 0.012,
        "stale share of hits {} against {expected}",
        stale.fraction
    );
    assert_eq!(stale.fraction, stale.hits as f64 / c.hits as f64);
    assert!(stale.hits <= c.hits);
    eprintln!(
        "stale {} of {} hits: {:.4}",
        stale.hits, c.hits, stale.fraction
    );
}

/// A write that invalidates the entry, or writes it through, leaves nothing stale: the mark
/// and its removal (or refresh) happen at the same instant.
#[test]
fn invalidating_or_writing_through_leaves_no_stale_hit() {
    for (label, write) in [
        ("invalidate", r#", { "invalidate": { "cache": "c" } }"#),
        ("write-through", r#", { "cache_set": { "cache": "c" } }"#),
    ] {
        let results = run(&experiment(
            &format!("stale-{label}"),
            &model("210s", write),
        ));
        let s = &only(&results).output.summary;
        let c = &s.caches["c"];
        assert!(c.hits > 100_000, "{label}: {} hits", c.hits);
        assert_eq!(c.stale.as_ref().map(|x| x.hits), Some(0), "{label}");
    }
}

#[test]
fn counting_stale_hits_without_database_writes_is_refused() {
    let json = model("20s", "").replace(r#""query": "write""#, r#""query": "read_primary""#);
    let e = load_error("stale-no-writes", &json);
    assert_error_at(
        &e,
        "model.caches.c.count_stale",
        "no database of this model takes writes",
    );
}

/// A database without replicas has no lag and no replica reads: no `database.svg` (the
/// cache's plot is there).
#[test]
fn no_database_plot_for_a_primary_alone() {
    let path = crate::support::write_experiment("stale-plot", &model("30s", ""));
    let out = crate::support::temp_dir("stale-plot-out");
    crate::support::ok(&crate::support::surge(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    assert!(out.join("cache.svg").exists());
    assert!(!out.join("database.svg").exists());
}
