//! Same file + same seed -> byte-identical report, whatever the thread count or shard;
//! variants see the same arrivals (common random numbers).

use crate::support::{ok, repo, surge, temp_dir, write_experiment};
use surge::experiment::{ExecuteOptions, run_experiment};
use surge::kernel::SimDuration;
use surge::report::Report;

fn quickstart() -> surge::Experiment {
    surge::config::load_experiment(&repo().join("experiments/quickstart.json")).unwrap()
}

fn report_json(exp: &surge::Experiment, threads: usize) -> String {
    let results = run_experiment(
        exp,
        &ExecuteOptions {
            threads: Some(threads),
            ..ExecuteOptions::default()
        },
    )
    .expect("the run stays within its limits");
    Report::new(exp, &results).to_json()
}

#[test]
fn same_file_and_seed_give_byte_identical_reports_on_any_thread_count() {
    let exp = quickstart();
    let one = report_json(&exp, 1);
    assert_eq!(one, report_json(&exp, 2));
    assert_eq!(one, report_json(&exp, 1));
    let mut other = quickstart();
    other.seed += 1;
    assert_ne!(
        one,
        report_json(&other, 2),
        "a different seed must change the results"
    );
}

#[test]
fn variants_differing_only_in_balancer_see_identical_arrivals() {
    let mut exp = quickstart();
    exp.resolution = SimDuration::from_millis(10);
    let results =
        run_experiment(&exp, &ExecuteOptions::default()).expect("the run stays within its limits");
    let arrivals = |variant: &str, rep: u32| -> Vec<u64> {
        let r = results
            .iter()
            .find(|r| r.variant == variant && r.id.replication == rep)
            .unwrap();
        r.output.timeseries.iter().map(|row| row.arrivals).collect()
    };
    for rep in 0..exp.replications {
        let rr = arrivals("round-robin", rep);
        assert!(rr.iter().sum::<u64>() > 10_000);
        assert_eq!(rr, arrivals("least-connections", rep), "replication {rep}");
        assert_eq!(rr, arrivals("4-replicas", rep), "replication {rep}");
    }
    // Replications differ from each other.
    assert_ne!(arrivals("round-robin", 0), arrivals("round-robin", 1));
}

/// A call graph with everything that reorders work: calls with network latency and timeouts,
/// a fan-out joined by `any` that cancels its leftovers, a random branch, a message to a worker
/// pool, queue deadlines, propagated deadlines, cancelled abandoned work and a client timeout,
/// Zipf keys and caches (a shared one with a TTL and single-flight, one per instance with
/// random eviction, whose generator is the store's own), a replicated database whose replicas
/// lag (stale reads) and whose primary fails over and a replica restarts, and a sharded
/// database on a consistent ring that reshards 3 -> 4 (keys moving to a shard that starts);
/// with `sweep`, a grid over the load and a callee's replicas.
fn graph_experiment(sweep: &str) -> String {
    format!(
        r#"{{
        "name": "graph-determinism",
        "model": {{
          "keyspaces": {{ "k": {{ "kind": "zipf", "keys": 200, "s": 1.0 }} }},
          "caches": {{ "hot": {{ "scope": "shared", "capacity": 20, "ttl": "200ms", "coalesce": true }},
                       "l1": {{ "scope": "instance", "capacity": 10, "eviction": "random" }} }},
          "services": {{
            "gw": {{ "replicas": 2, "instance": {{ "cores": 2 }},
                "balancer": {{ "kind": "least_connections" }}, "cancel_abandoned": true,
                "endpoints": {{ "page": {{ "key": "k", "steps": [
                    {{ "cpu": {{ "kind": "exponential", "mean": "1ms" }} }},
                    {{ "call": {{ "service": "users", "endpoint": "get", "timeout": "15ms",
                                  "latency": {{ "kind": "exponential", "mean": "500us" }} }} }},
                    {{ "parallel": [
                        [ {{ "call": {{ "service": "search", "endpoint": "q", "timeout": "25ms" }} }} ],
                        [ {{ "call": {{ "service": "search", "endpoint": "q", "on_error": "continue" }} }} ],
                        [ {{ "io": {{ "kind": "exponential", "mean": "8ms" }} }} ] ],
                      "join": "any", "leftovers": "cancel" }},
                    {{ "branch": [
                        {{ "p": 0.3, "steps": [ {{ "enqueue": {{ "service": "mail", "endpoint": "send",
                                                              "latency": "1ms" }} }},
                                                {{ "call": {{ "service": "ledger", "endpoint": "post",
                                                              "on_error": "continue" }} }} ] }},
                        {{ "p": 0.7, "steps": [ {{ "cpu": "500us" }} ] }} ] }},
                    {{ "branch": [
                        {{ "p": 0.2, "steps": [ {{ "call": {{ "service": "accounts", "endpoint": "write",
                                                              "on_error": "continue" }} }} ] }},
                        {{ "p": 0.8, "steps": [ {{ "call": {{ "service": "accounts", "endpoint": "read",
                                                              "timeout": "20ms", "on_error": "continue" }} }} ] }} ] }} ] }} }} }},
            "users": {{ "replicas": 2,
                "instance": {{ "cores": 1, "concurrency_limit": 3, "queue_limit": 10 }},
                "queue_timeout": "10ms", "propagate_deadlines": true, "cancel_abandoned": true,
                "endpoints": {{ "get": {{ "steps": [
                    {{ "cpu": {{ "kind": "exponential", "mean": "3ms" }} }},
                    {{ "io": {{ "kind": "exponential", "mean": "2ms" }} }} ] }} }} }},
            "search": {{ "replicas": 1, "instance": {{ "cores": 2 }}, "cancel_abandoned": true,
                "endpoints": {{ "q": {{ "steps": [
                    {{ "cpu": {{ "kind": "exponential", "mean": "5ms" }} }},
                    {{ "cache_get": {{ "cache": "l1", "miss": [
                        {{ "cache_get": {{ "cache": "hot", "miss": [
                            {{ "call": {{ "service": "users", "endpoint": "get", "on_error": "continue" }} }} ] }} }} ] }} }} ] }} }} }},
            "accounts": {{ "replicas": 3, "instance": {{ "cores": 2 }},
                "database": {{ "replication": {{ "apply_rate": 60,
                                                 "network": {{ "kind": "exponential", "mean": "5ms" }},
                                                 "read_routing": "round_robin" }},
                              "failures": [ {{ "at": "4s", "fails": "primary", "promote_after": "1s" }},
                                            {{ "at": "7s", "fails": "replica" }} ] }},
                "lifecycle": {{ "provisioning": "0s", "startup": "500ms", "readiness": "0s" }},
                "endpoints": {{
                    "read": {{ "query": "read", "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "2ms" }} }} ] }},
                    "write": {{ "query": "write", "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "1ms" }} }} ] }} }} }},
            "ledger": {{ "replicas": 1, "instance": {{ "cores": 1 }}, "database": {{}},
                "shards": {{ "key": "k", "count": 3, "placement": {{ "kind": "consistent", "vnodes": 32 }},
                            "reshard": {{ "at": "5s", "count": 4 }} }},
                "lifecycle": {{ "provisioning": "0s", "startup": "1s", "readiness": "0s" }},
                "endpoints": {{ "post": {{ "query": "write", "steps": [
                    {{ "cache_get": {{ "cache": "l1", "miss": [ {{ "io": "2ms" }} ] }} }},
                    {{ "cpu": {{ "kind": "exponential", "mean": "2ms" }} }} ] }} }} }},
            "mail": {{ "replicas": 1, "instance": {{ "cores": 1, "concurrency_limit": 2 }},
                "balancer": {{ "kind": "queue", "max_length": 50 }}, "queue_timeout": "200ms",
                "endpoints": {{ "send": {{ "steps": [
                    {{ "cpu": {{ "kind": "exponential", "mean": "15ms" }} }} ] }} }} }}
        }} }},
        "workload": [ {{ "name": "users", "kind": "open", "rate": {{ "kind": "constant", "rps": 250 }},
                         "timeout": "30ms", "mix": [ {{ "service": "gw", "endpoint": "page" }} ] }} ],
        "duration": "10s", "warmup": "1s", "seed": 77, "replications": 3{sweep}
    }}"#
    )
}

/// Runs `surge` with `args` and returns the bytes of `file` in the output directory `out`.
fn surge_output(args: &[&str], out: &std::path::Path, file: &str) -> Vec<u8> {
    let mut all = args.to_vec();
    all.extend(["--out", out.to_str().unwrap(), "-q"]);
    ok(&surge(&all));
    std::fs::read(out.join(file)).unwrap()
}

#[test]
fn a_call_graph_with_fan_out_and_timeouts_is_byte_identical_on_any_thread_count_and_shard() {
    let file = write_experiment("graph-det", &graph_experiment(""));
    let f = file.to_str().unwrap();
    let dir = temp_dir("graph-det-out");
    let one = surge_output(&["run", f, "-j", "1"], &dir.join("j1"), "report.json");
    let two = surge_output(&["run", f, "-j", "2"], &dir.join("j2"), "report.json");
    assert!(one == two, "report.json differs between -j 1 and -j 2");
    assert_eq!(
        std::fs::read(dir.join("j1").join("timeseries.csv")).unwrap(),
        std::fs::read(dir.join("j2").join("timeseries.csv")).unwrap(),
        "timeseries.csv differs between -j 1 and -j 2"
    );
    // The run went through every path that could reorder work (else the test proves little).
    let report: serde_json::Value = serde_json::from_slice(&one).unwrap();
    let s = &report["runs"][0]["summary"];
    let calls = &s["calls"];
    for (what, n) in [
        ("client timeouts", &s["outcomes"]["timed_out"]),
        (
            "call timeouts",
            &calls["gw.page -> users.get"]["outcomes"]["timed_out"],
        ),
        (
            "expired in a queue",
            &calls["gw.page -> users.get"]["outcomes"]["expired"],
        ),
        (
            "abandoned calls",
            &calls["gw.page -> search.q"]["outcomes"]["cancelled"],
        ),
        ("jobs", &calls["gw.page => mail.send"]["calls"]),
        ("shared cache hits", &s["caches"]["hot"]["hits"]),
        ("coalesced misses", &s["caches"]["hot"]["coalesced"]),
        ("expired entries", &s["caches"]["hot"]["expired"]),
        ("random evictions", &s["caches"]["l1"]["evictions"]),
        (
            "cancelled branches",
            &s["services"]["gw"]["endpoints"]["page"]["branches_cancelled"],
        ),
        (
            "work cancelled at a callee",
            &s["services"]["users"]["endpoints"]["get"]["outcomes"]["cancelled"],
        ),
        (
            "replica reads",
            &s["databases"]["accounts"]["replica_reads"],
        ),
        ("stale reads", &s["databases"]["accounts"]["stale_reads"]),
        (
            "writes without a primary during the failover",
            &calls["gw.page -> accounts.write"]["outcomes"]["no_instance"],
        ),
        (
            "writes lost at the failover",
            &s["databases"]["accounts"]["lost_writes"],
        ),
        (
            "queries on a shard the resharding added",
            &s["shards"]["ledger"]["queries"][3],
        ),
    ] {
        assert!(n.as_u64().unwrap_or(0) > 0, "no {what}: {s}");
    }
    let promoted = &s["databases"]["accounts"]["failovers"][0]["promoted_at_s"];
    assert!(promoted.as_f64().is_some(), "no promotion: {s}");
    let switched = &s["shards"]["ledger"]["reshard"]["switched_at_s"];
    assert_eq!(switched.as_f64(), Some(6.0), "the resharding: {s}");
    // A sweep over the same graph: three shards merged give the unsharded sweep.json.
    let sweep = r#", "sweep": { "mode": "grid", "parameters": [
            { "path": "workload[0].rate.rps", "values": [150, 300] },
            { "path": "model.services.users.replicas", "values": [1, 2] } ] }"#;
    let file = write_experiment("graph-det-sweep", &graph_experiment(sweep));
    let f = file.to_str().unwrap();
    let whole = surge_output(&["sweep", f, "-j", "2"], &dir.join("whole"), "sweep.json");
    let mut shards = Vec::new();
    for k in 1..=3 {
        let out = dir.join(format!("shard{k}"));
        let shard = format!("{k}/3");
        surge_output(
            &["sweep", f, "-j", "1", "--shard", &shard],
            &out,
            "sweep.json",
        );
        shards.push(out.join("sweep.json").to_str().unwrap().to_string());
    }
    let mut merge = vec!["merge"];
    merge.extend(shards.iter().map(String::as_str));
    let merged_dir = dir.join("merged");
    merge.extend(["--out", merged_dir.to_str().unwrap()]);
    ok(&surge(&merge));
    let merged = std::fs::read(merged_dir.join("sweep.json")).unwrap();
    assert!(
        whole == merged,
        "merged shards differ from the unsharded sweep.json"
    );
    assert_eq!(
        std::fs::read(dir.join("whole").join("sweep.csv")).unwrap(),
        std::fs::read(merged_dir.join("sweep.csv")).unwrap(),
        "sweep.csv"
    );
}
