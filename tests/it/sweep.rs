//! Sweeps: expansion, determinism across thread counts, shards that merge into the whole, and
//! the summary `surge sweep` prints (with the highest load that meets the SLO).

use crate::support::{assert_error_at, ok, surge, temp_dir, write_experiment};
use std::path::{Path, PathBuf};
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

/// Two 1-core replicas (200 req/s of CPU) under 60 to 260 req/s of 10 ms (`get`) and 5 ms
/// (`put`) requests, priced, with a p99 SLO of 100 ms: the low rates meet it, the overloaded
/// ones cannot.
const LOAD_SWEEP: &str = r#"{
  "model": { "services": { "api": { "replicas": 2, "instance": { "cores": 1 },
      "cost": { "instance_type": "m5.large" },
      "endpoints": {
        "get": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } } ] },
        "put": { "steps": [ { "cpu": { "kind": "exponential", "mean": "5ms" } } ] } } } } },
  "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 100 },
      "mix": [ { "service": "api", "endpoint": "get", "weight": 3 },
               { "service": "api", "endpoint": "put", "weight": 1 } ] } ],
  "duration": "1m", "warmup": "5s", "seed": 8, "replications": 2,
  "slo": { "quantile": 0.99, "latency": "100ms", "window": "10s" },
  "variants": { "round-robin": {},
    "least-connections": { "services": { "api": { "balancer": { "kind": "least_connections" } } } } },
  "sweep": { "mode": "grid", "parameters": [
      { "path": "workload[0].rate.rps", "values": [60, 110, 160, 210, 260] } ] }
}"#;

/// Runs `surge sweep` on [`LOAD_SWEEP`] once per test binary: its stdout and output directory.
fn load_sweep_run() -> &'static (String, PathBuf) {
    static RUN: std::sync::OnceLock<(String, PathBuf)> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let file = write_experiment("sweep-summary", LOAD_SWEEP);
        let out = temp_dir("sweep-summary-out");
        let stdout = ok(&surge(&[
            "sweep",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]));
        (stdout, out)
    })
}

fn sweep_report(dir: &Path) -> SweepReport {
    surge::sweep::read_sweep_report(&dir.join("sweep.json")).unwrap()
}

#[test]
fn sweep_prints_a_row_per_point_and_variant_and_the_highest_rate_that_meets_the_slo() {
    let (stdout, out) = load_sweep_run();
    let report = sweep_report(out);
    let lines: Vec<&str> = stdout.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("point  rps  variant"))
        .unwrap_or_else(|| panic!("no table in:\n{stdout}"));
    for column in [
        "throughput (req/s)",
        "error rate",
        "latency p99",
        "cost (USD)",
        "SLO met",
    ] {
        assert!(
            lines[header].contains(column),
            "{column}: {}",
            lines[header]
        );
    }
    // 5 points x 2 variants, each with its intervals over the 2 replications.
    let rows = &lines[header + 2..header + 12];
    assert!(rows.iter().all(|r| r.contains(" +- ")), "{stdout}");
    assert!(lines[header + 12].starts_with("(means over 2 replications"));
    assert_eq!(lines[header + 13], "(swept: rps is workload[0].rate.rps)");
    // The answer, worked out here from sweep.json: scanning up from the lowest rate, the last
    // one every replication of which met the SLO before the first that did not.
    for variant in ["round-robin", "least-connections"] {
        let met: Vec<(i64, bool)> = report
            .points
            .iter()
            .map(|p| {
                let v = &p.variants[variant];
                (
                    p.parameters["workload[0].rate.rps"].as_i64().unwrap(),
                    v.runs.iter().all(|r| r.slo_met == Some(true)),
                )
            })
            .collect();
        let first_miss = met.iter().position(|(_, m)| !m).expect("overload misses");
        assert!(
            first_miss > 0,
            "{variant}: 60 req/s on 200 of capacity meets it"
        );
        let line = format!(
            "  {variant}: {} ({} does not",
            met[first_miss - 1].0,
            met[first_miss].0
        );
        assert!(stdout.contains(&line), "{line} in:\n{stdout}");
    }
    assert!(stdout.contains(
        "Highest rps that meets the SLO (a point meets it when every replication does):"
    ));
}

#[test]
fn sweep_quiet_prints_nothing_and_a_shard_leaves_the_summary_to_the_merge() {
    let file = write_experiment("sweep-quiet", LOAD_SWEEP);
    let out = temp_dir("sweep-quiet-out");
    let o = surge(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(ok(&o).is_empty(), "-q printed something");
    assert!(out.join("sweep.json").exists());
    let o = surge(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.join("shard").to_str().unwrap(),
        "--shard",
        "1/2",
    ]);
    let stdout = ok(&o);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("shard 1/2"), "{stdout}");
    // Merged, the shards give the whole sweep's summary, which `surge report` prints.
    ok(&surge(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.join("shard2").to_str().unwrap(),
        "--shard",
        "2/2",
        "-q",
    ]));
    ok(&surge(&[
        "merge",
        out.join("shard").join("sweep.json").to_str().unwrap(),
        out.join("shard2").join("sweep.json").to_str().unwrap(),
        "--out",
        out.join("merged").to_str().unwrap(),
    ]));
    let report = ok(&surge(&[
        "report",
        out.join("merged").join("sweep.json").to_str().unwrap(),
    ]));
    let (whole, _) = load_sweep_run();
    // Both start with a line of their own (what was written; the name), then the summary.
    let summary = |text: &str| text.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(summary(&report).trim_start(), summary(whole).trim_start());
    assert!(
        report.contains("Highest rps that meets the SLO"),
        "{report}"
    );
}

#[test]
fn sweeps_keep_per_endpoint_metrics() {
    let (_, out) = load_sweep_run();
    let report = sweep_report(out);
    let m = &report.points[0].variants["round-robin"].metrics;
    for e in ["get", "put"] {
        for k in [
            "arrivals",
            "throughput_rps",
            "error_rate",
            "latency_s.p50",
            "latency_s.p99",
        ] {
            assert!(m.contains_key(&format!("endpoints.api.{e}.{k}")), "{e}.{k}");
        }
    }
    // Three in four requests go to `get`: its arrivals are a share of the run's, and the two
    // endpoints' arrivals add up to the run's in every replication.
    for run in &report.points[0].variants["round-robin"].runs {
        let get = run.metrics["endpoints.api.get.arrivals"];
        let put = run.metrics["endpoints.api.put.arrivals"];
        assert_eq!(get + put, run.metrics["arrivals"]);
        assert!(get > 2.0 * put, "get {get}, put {put}");
    }
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert!(csv.contains(",round-robin,endpoints.api.put.latency_s.p99,"));
}

#[test]
fn every_alias_chooses_sweep_summary_columns_and_plots() {
    use surge::report::aliases::{ALIASES, resolve};
    use surge::report::plots::sweep::{available_metrics, curves_file};
    let (_, out) = load_sweep_run();
    let report = sweep_report(out);
    let available = available_metrics(&report);
    let plot_dir = temp_dir("sweep-alias-plots");
    let mut args = vec![
        "plot".to_string(),
        out.join("sweep.json").display().to_string(),
        "--out".into(),
        plot_dir.display().to_string(),
    ];
    let mut expected_files: Vec<String> = Vec::new();
    for a in ALIASES
        .iter()
        .map(|a| a.name)
        .chain(["services.api.cpu", "endpoints.*.p99"])
    {
        let metrics = resolve(a, available.iter().map(String::as_str));
        assert!(!metrics.is_empty(), "{a} stands for nothing in the sweep");
        let text = surge::sweep::summary::render_metrics(&report, &[a.to_string()]).unwrap();
        let header = text.lines().next().unwrap();
        for m in &metrics {
            assert!(
                header.contains(m.as_str()),
                "{a}: no column {m} in {header}"
            );
        }
        args.extend(["--metric".to_string(), a.to_string()]);
        expected_files.extend(metrics.iter().map(|m| curves_file(m)));
    }
    let o = surge(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let written = ok(&o);
    for f in &expected_files {
        assert!(plot_dir.join(f).exists(), "{f} not written: {written}");
    }
    // A name that stands for nothing is still refused, with what there is.
    let o = surge(&[
        "plot",
        out.join("sweep.json").to_str().unwrap(),
        "--out",
        plot_dir.to_str().unwrap(),
        "--metric",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown metric `nope`"));
}
