//! Write-behind caches: a write is stored and written to the database later, merged with
//! the writes of its key that come meanwhile, and lost if its store's process goes first.

use crate::support::{assert_error_at, experiment, load_error, run};

/// Writes of one endpoint to cache `l2` (`SCOPE`), which writes behind to `db.write` 1 s
/// after a key's first unwritten write; `VARIANTS` filled in.
const MODEL: &str = r#"{ "name": "behind", "seed": 11, "duration": "30s", "warmup": "10s",
  "model": {
    "keyspaces": { "k": { "kind": "uniform", "keys": 1000 } },
    "caches": { "l2": { "capacity": 1000, SCOPE
                        "write_behind": { "delay": "1s", "service": "db", "endpoint": "write" } } },
    "services": {
      "api": { "replicas": 1, "instance": { "cores": 2 }, "endpoints": {
        "w": { "key": "k", "steps": [ { "cache_set": { "cache": "l2" } } ] } } },
      "redis": { "replicas": 1, "instance": { "cores": 1, "runtime": "event_loop" },
                 "lifecycle": { "provisioning": "0s", "startup": "500ms", "readiness": "0s" },
                 "endpoints": { "set": { "steps": [ { "cpu": "20us" } ] } } },
      "db": { "replicas": 1, "instance": { "cores": 4 }, "endpoints": {
        "write": { "steps": [ { "cpu": "1ms" } ] } } } } },
  "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 500 },
                  "mix": [ { "service": "api", "endpoint": "w" } ] } ],
  "variants": VARIANTS }"#;

fn model(scope: &str, variants: &str) -> String {
    MODEL.replace("SCOPE", scope).replace("VARIANTS", variants)
}

/// Each key is written as a Poisson stream of rate r = 500/1000 per second. A write to a
/// clean key makes it dirty for d = 1 s, then it is written and stays clean until its next
/// write (exponential, mean 1/r): a renewal cycle of mean d + 1/r = 3 s with one flush, so
/// the database sees N / (d + 1/r) = 333.3 writes/s instead of 500, and a write finds its key
/// dirty (and merges) with probability r d / (1 + r d) = 1/3 (Poisson arrivals see time
/// averages). Over 20 s the flush count's standard error is 0.8% (renewal variance
/// T sigma^2 / mu^3 per key): 4% is 5 of them.
#[test]
fn write_behind_writes_each_key_once_per_renewal_cycle() {
    let results = run(&experiment(
        "behind-rate",
        &model(r#""scope": "shared","#, "{}"),
    ));
    let s = &crate::support::only(&results).output.summary;
    let w = s.caches["l2"]
        .write_behind
        .as_ref()
        .expect("write-behind figures");
    // Cycles starting in the 20 s measured: flushed, or pending at the end.
    let rate = (w.flushed + w.pending_at_end) as f64 / 20.0;
    assert!(
        (rate / (1000.0 / 3.0) - 1.0).abs() < 0.04,
        "{rate} flushes/s"
    );
    let merged = w.merged as f64 / w.writes as f64;
    assert!((merged - 1.0 / 3.0).abs() < 0.02, "merged {merged}");
    assert_eq!(w.lost, 0, "a shared store is lost with no process");
    assert_eq!(w.writes, w.merged + w.flushed + w.lost + w.pending_at_end);
    // A flush is counted with its write, its message when it is sent: they differ by the
    // flushes of the delay after the warm-up ends (about 333).
    let messages = s.calls["api.w => db.write"].calls;
    assert!(
        messages.abs_diff(w.flushed) < 450,
        "{messages} messages for {} flushes",
        w.flushed
    );
}

/// The store on a Redis node restarted at 15 s (a resize) loses the keys it had not written:
/// at any moment a key is dirty with probability r d / (1 + r d) = 1/3, so about 333 of the
/// 1,000 (binomial sd 15; 75 is 5 of them); without the restart none is lost.
#[test]
fn a_restarted_node_loses_the_writes_it_had_not_written() {
    let variants = r#"{ "steady": {},
      "restart": { "services": { "redis": { "schedule": [
        { "at": "15s", "resize": { "instance": { "cores": 2, "runtime": "event_loop" } } } ] } } } }"#;
    let json = model(r#""nodes": { "service": "redis" },"#, variants);
    let results = run(&experiment("behind-lost", &json));
    let summary = |v: &str| {
        &results
            .iter()
            .find(|r| r.variant == v)
            .expect("variant ran")
            .output
            .summary
    };
    let steady = summary("steady").caches["l2"].write_behind.clone().unwrap();
    assert_eq!(steady.lost, 0);
    let restart = summary("restart").caches["l2"]
        .write_behind
        .clone()
        .unwrap();
    assert!(
        (restart.lost as f64 - 1000.0 / 3.0).abs() < 75.0,
        "{} writes lost",
        restart.lost
    );
    for w in [&steady, &restart] {
        assert_eq!(w.writes, w.merged + w.flushed + w.lost + w.pending_at_end);
    }
    // The node writes: its flushes are messages from its `set`.
    let calls = &summary("steady").calls;
    assert!(
        calls["redis.set => db.write"]
            .calls
            .abs_diff(steady.flushed)
            < 450
    );
}

#[test]
fn bad_write_behind_is_refused_with_its_path() {
    for (tag, behind, path, words) in [
        (
            "zero-delay",
            r#"{ "delay": "0s", "service": "db", "endpoint": "write" }"#,
            "model.caches.l2.write_behind.delay",
            "write-behind delay",
        ),
        (
            "no-service",
            r#"{ "delay": "1s", "service": "postgres", "endpoint": "write" }"#,
            "model.caches.l2.write_behind.service",
            "no service `postgres`",
        ),
        (
            "no-endpoint",
            r#"{ "delay": "1s", "service": "db", "endpoint": "upsert" }"#,
            "model.caches.l2.write_behind.endpoint",
            "no endpoint `upsert`",
        ),
    ] {
        let json = model(r#""scope": "shared","#, "{}").replace(
            r#"{ "delay": "1s", "service": "db", "endpoint": "write" }"#,
            behind,
        );
        let err = load_error(&format!("behind-{tag}"), &json);
        assert_error_at(&err, path, words);
    }
    let sharded = model(r#""scope": "shared","#, "{}").replace(
        r#""db": { "replicas": 1,"#,
        r#""db": { "shards": { "key": "k", "count": 2 }, "replicas": 1,"#,
    );
    let err = load_error("behind-sharded", &sharded);
    assert_error_at(&err, "model.caches.l2.write_behind.service", "is sharded");
}

/// `experiments/write-behind.json`: 3,000 stock updates/s at 2 ms of database CPU each are 6
/// cores of writes on a 4-core database, so writing through saturates it and updates fail;
/// writing behind by 1 s merges a hot product's updates (Zipf(1.0)): the database sees half
/// the writes and keeps up; losing a Redis node loses the updates it had not written, and
/// only then.
#[test]
fn write_behind_saves_the_database_and_loses_a_lost_nodes_writes() {
    let path = crate::support::repo().join("experiments/write-behind.json");
    let exp = surge::config::load_experiment(&path).unwrap_or_else(|e| panic!("{e}"));
    let results = run(&exp);
    let summary = |v: &str| {
        &results
            .iter()
            .find(|r| r.variant == v)
            .expect("variant ran")
            .output
            .summary
    };
    let through = summary("write-through");
    assert!(through.services["database"].cpu_utilisation > 0.99);
    assert!(
        through.error_rate > 0.2,
        "error rate {}",
        through.error_rate
    );
    let behind = summary("write-behind");
    assert_eq!(behind.error_rate, 0.0);
    let w = behind.caches["stock"].write_behind.clone().unwrap();
    let merged = w.merged as f64 / w.writes as f64;
    assert!(merged > 0.4 && merged < 0.6, "merged {merged}");
    assert_eq!(w.lost, 0);
    let lost = summary("lose-a-node").caches["stock"]
        .write_behind
        .clone()
        .unwrap();
    assert!(lost.lost > 100, "{} lost", lost.lost);
    assert_eq!(
        lost.writes,
        lost.merged + lost.flushed + lost.lost + lost.pending_at_end
    );
}
