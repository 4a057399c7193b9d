//! Sweeps: expansion, determinism across thread counts, shards that merge into the whole.

use crate::support::{assert_error_at, write_experiment};
use surge::sweep::{SweepOptions, SweepReport, load_sweep, run_sweep};

/// A small M/M/c-like service with its replicas and arrival rate swept.
fn sweep_json(mode: &str, extra: &str) -> String {
    format!(
        r#"{{
        "model": {{ "services": {{ "api": {{ "replicas": 2, "instance": {{ "cores": 1 }},
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "10ms" }} }} ] }} }} }} }} }},
        "workload": [ {{ "name": "users", "kind": "open", "rate": {{ "kind": "constant", "rps": 100 }},
            "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ],
        "duration": "2m", "seed": 5, "replications": 3,
        "variants": {{ "round-robin": {{}}, "least-connections": {{ "services": {{ "api": {{ "balancer": {{ "kind": "least_connections" }} }} }} }} }},
        "sweep": {{ "mode": "{mode}", "parameters": [
            {{ "path": "model.services.api.replicas", "values": [2, 3] }},
            {{ "path": "workload[0].rate.rps", "range": {{ "from": 60, "to": 150, "steps": 2 }} }}{extra} ] }}
    }}"#
    )
}

#[test]
fn a_grid_crosses_parameters_and_every_point_runs_every_variant_and_replication() {
    let sweep = load_sweep(&write_experiment("sweep-grid", &sweep_json("grid", ""))).unwrap();
    assert_eq!(sweep.points.len(), 4);
    let report =
        run_sweep(&sweep, &SweepOptions::default(), None).expect("the run stays within its limits");
    assert_eq!(report.total_runs, 4 * 2 * 3);
    let params: Vec<(i64, i64)> = report
        .points
        .iter()
        .map(|p| {
            (
                p.parameters["model.services.api.replicas"]
                    .as_i64()
                    .unwrap(),
                p.parameters["workload[0].rate.rps"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(params, vec![(2, 60), (2, 150), (3, 60), (3, 150)]);
    for p in &report.points {
        assert_eq!(
            p.variants.keys().collect::<Vec<_>>(),
            ["round-robin", "least-connections"]
        );
        for v in p.variants.values() {
            assert_eq!(v.runs.len(), 3);
            assert_eq!(v.metrics["arrivals"].n, 3);
        }
    }
    // The swept values took effect: more load, more arrivals; more replicas, less CPU each.
    let arrivals = |i: usize| report.points[i].variants["round-robin"].metrics["arrivals"].mean;
    assert!(arrivals(1) > 2.0 * arrivals(0));
    let cpu = |i: usize| {
        report.points[i].variants["round-robin"].metrics["services.api.cpu_utilisation"].mean
    };
    assert!(cpu(3) < cpu(1));
    // Common random numbers: the same rate gives the same arrivals at every replica count.
    assert_eq!(arrivals(0), arrivals(2));
}

#[test]
fn zip_matches_values_one_to_one() {
    let sweep = load_sweep(&write_experiment("sweep-zip", &sweep_json("zip", ""))).unwrap();
    assert_eq!(sweep.points.len(), 2);
    assert_eq!(sweep.points[1].variants[0].model.services[0].replicas, 3);
}

#[test]
fn results_are_byte_identical_for_any_thread_count_and_shards_merge_into_the_whole() {
    let sweep = load_sweep(&write_experiment("sweep-det", &sweep_json("grid", ""))).unwrap();
    let with = |threads, shard| SweepOptions {
        threads: Some(threads),
        shard,
        ..SweepOptions::default()
    };
    let one = run_sweep(&sweep, &with(1, None), None).expect("the run stays within its limits");
    let two = run_sweep(&sweep, &with(2, None), None).expect("the run stays within its limits");
    assert_eq!(one.to_json(), two.to_json());
    assert_eq!(one.to_csv(), two.to_csv());
    // Four shards, each through a JSON round trip as `surge merge` reads them.
    let shards: Vec<SweepReport> = (1..=4)
        .map(|k| {
            let r = run_sweep(&sweep, &with(2, Some((k, 4))), None)
                .expect("the run stays within its limits");
            serde_json::from_str(&r.to_json()).unwrap()
        })
        .collect();
    let held: usize = shards
        .iter()
        .flat_map(|s| &s.points)
        .flat_map(|p| p.variants.values())
        .map(|v| v.runs.len())
        .sum();
    assert_eq!(held, one.total_runs);
    let merged = SweepReport::merge(shards.clone()).unwrap();
    assert_eq!(merged.to_json(), one.to_json());
    assert_eq!(merged.to_csv(), one.to_csv());
    // Missing or repeated shards are refused.
    let e = SweepReport::merge(shards[..3].to_vec()).unwrap_err();
    assert!(e.contains("4/4 is missing"), "{e}");
    let mut twice = shards.clone();
    twice[3] = shards[0].clone();
    assert!(SweepReport::merge(twice).unwrap_err().contains("twice"));
}

#[test]
fn a_sweep_that_names_nothing_or_breaks_a_point_is_refused_with_its_path() {
    let bad_path = sweep_json(
        "grid",
        r#", { "path": "model.services.apii.replicas", "values": [1] }"#,
    );
    let e = load_sweep(&write_experiment("sweep-bad-path", &bad_path))
        .unwrap_err()
        .to_string();
    assert_error_at(&e, "sweep.parameters[2].path", "names nothing");
    let bad_value = sweep_json(
        "grid",
        r#", { "path": "model.services.api.instance.cores", "values": [1, 0] }"#,
    );
    let e = load_sweep(&write_experiment("sweep-bad-value", &bad_value))
        .unwrap_err()
        .to_string();
    assert_error_at(&e, "model.services.api.instance.cores", "sweep point 1");
    assert!(e.contains("instance.cores = 0"), "{e}");
}
