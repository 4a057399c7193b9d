//! `surge compare`: real differences are flagged as significant, A vs A is not, thresholds
//! exit non-zero, and bad input is named.

use crate::support::{assert_bad_input, surge, temp_dir, write_experiment};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// M/M/c at high load: 270 req/s of 10 ms exponential CPU on 1-core replicas. With 3 replicas
/// the load is 0.9 per core; with 4, 0.675. Variant `three-again` is `three` under another
/// name, for A vs A.
const HIGH_LOAD: &str = r#"{
  "model": { "services": { "api": { "replicas": 4, "instance": { "cores": 1 },
      "endpoints": { "e": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } } ] } } } } },
  "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 270 },
      "mix": [ { "service": "api", "endpoint": "e" } ] } ],
  "duration": "2m", "warmup": "10s", "seed": 11, "replications": 6,
  "variants": {
    "four": {},
    "three": { "services": { "api": { "replicas": 3 } } },
    "three-again": { "services": { "api": { "replicas": 3 } } }
  }
}"#;

/// Runs the high-load experiment once per test binary and returns its report.json.
fn high_load_report() -> &'static Path {
    static REPORT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    REPORT.get_or_init(|| run_to("compare-high", HIGH_LOAD, &[]))
}

fn run_to(tag: &str, json: &str, extra: &[&str]) -> PathBuf {
    let file = write_experiment(tag, json);
    let out = temp_dir(&format!("{tag}-out"));
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    args.extend(extra);
    let o = surge(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out.join("report.json")
}

fn compare_json(args: &[&str]) -> Value {
    let mut all = vec!["compare", "--format", "json"];
    all.extend(args);
    let o = surge(&all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The row of `metric`: (significant, p-value) for the first candidate.
fn verdict(c: &Value, metric: &str) -> (bool, f64) {
    let row = c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} in {c}"));
    let d = &row["differences"][0];
    (
        d["significant"].as_bool().unwrap(),
        d["p_value"].as_f64().unwrap(),
    )
}

#[test]
fn three_against_four_replicas_at_high_load_is_significant_and_paired() {
    let r = high_load_report().to_str().unwrap();
    let c = compare_json(&[&format!("{r}#four"), &format!("{r}#three")]);
    assert_eq!(
        c["tests"][0]["test"], "paired",
        "same seed, same replications"
    );
    for m in [
        "latency_s.p99",
        "mean_response_s",
        "services.api.cpu_utilisation",
    ] {
        let (significant, p) = verdict(&c, m);
        assert!(significant && p < 1e-3, "{m}: p = {p}");
    }
    // Three replicas are slower: the difference and its interval are positive.
    let row = c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "mean_response_s")
        .unwrap();
    assert!(row["differences"][0]["ci95_low"].as_f64().unwrap() > 0.0);
    // Welch on the same runs also sees it, with a wider interval: pairing sharpens.
    let w = compare_json(&[
        "--test",
        "welch",
        &format!("{r}#four"),
        &format!("{r}#three"),
    ]);
    assert!(verdict(&w, "mean_response_s").0);
    let width = |c: &Value| {
        let d = &c["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == "mean_response_s")
            .unwrap()["differences"][0];
        d["ci95_high"].as_f64().unwrap() - d["ci95_low"].as_f64().unwrap()
    };
    assert!(
        width(&c) < width(&w),
        "paired {} vs welch {}",
        width(&c),
        width(&w)
    );
}

#[test]
fn a_against_itself_is_not_significant() {
    let r = high_load_report().to_str().unwrap();
    // Same configuration, same random numbers: every difference is exactly zero.
    let c = compare_json(&[&format!("{r}#three"), &format!("{r}#three-again")]);
    for row in c["metrics"].as_array().unwrap() {
        let d = &row["differences"][0];
        assert_eq!(d["mean"].as_f64(), Some(0.0), "{}", row["metric"]);
        assert_eq!(d["significant"], false, "{}", row["metric"]);
    }
    // Same configuration, independent seeds: Welch's test. At alpha = 0.01 each metric has a
    // 1% chance of a false alarm; these seeds give none on the latency metrics.
    let json = HIGH_LOAD.replace(r#""seed": 11"#, r#""seed": 12"#);
    let other = run_to("compare-high-seed", &json, &[]);
    let c = compare_json(&[
        "--alpha",
        "0.01",
        &format!("{r}#three"),
        &format!("{}#three", other.display()),
    ]);
    assert_eq!(c["tests"][0]["test"], "welch");
    for m in [
        "latency_s.p50",
        "latency_s.p99",
        "mean_response_s",
        "throughput_rps",
    ] {
        let (significant, p) = verdict(&c, m);
        assert!(!significant, "{m}: p = {p}");
    }
}

#[test]
fn fail_if_thresholds_exit_3_when_crossed() {
    let r = high_load_report().to_str().unwrap();
    let (four, three) = (format!("{r}#four"), format!("{r}#three"));
    let o = surge(&["compare", &four, &three, "--fail-if", "p99 > +10%"]);
    assert_eq!(o.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("FAILED p99 > +10%: three latency_s.p99"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 --fail-if check(s) failed"));
    // Within bounds: a generous relative bound, a level bound and a significant-only rule on
    // a metric that does not change.
    let o = surge(&[
        "compare",
        &four,
        &three,
        "--fail-if",
        "p99 > +100000%",
        "--fail-if",
        "error_rate > 1%",
        "--fail-if",
        "arrivals > +0%",
        "--significant-only",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("All 3 threshold check(s) passed"));
    // Fewer replicas cost less: a guard on cost in the other direction fails.
    let o = surge(&[
        "compare",
        &four,
        &three,
        "--fail-if",
        "instance_hours < -10%",
    ]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn formats_are_tables_markdown_and_json() {
    let r = high_load_report().to_str().unwrap();
    let o = surge(&["compare", r]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    // Three candidates against `four`: one table each.
    for t in ["three vs four", "three-again vs four"] {
        assert!(table.contains(t), "{table}");
    }
    assert!(table.contains("Paired t-test over 6 replication(s)"));
    let o = surge(&[
        "compare",
        r,
        "--format",
        "markdown",
        "--metric",
        "latency_s.*",
    ]);
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.contains("| metric | four | three |"), "{md}");
    assert!(md.contains("|---|---:|"), "{md}");
    assert!(md.contains("| latency_s.p999 |"), "{md}");
    assert!(!md.contains("cost_usd"), "--metric selects: {md}");
}

#[test]
fn bad_input_is_named_and_exits_2() {
    let r = high_load_report().to_str().unwrap();
    let dir = temp_dir("compare-bad");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, r#"{"experiment": "x", "runs": 3}"#).unwrap();
    let sweep = dir.join("sweep.json");
    std::fs::write(
        &sweep,
        r#"{"experiment": "x", "points": [], "total_runs": 0}"#,
    )
    .unwrap();
    let missing = dir.join("missing.json");
    let (b, s, m) = (
        broken.to_str().unwrap(),
        sweep.to_str().unwrap(),
        missing.to_str().unwrap(),
    );
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            vec![m.into(), r.into()],
            vec!["missing.json", "cannot read the report"],
        ),
        (
            vec![b.into(), r.into()],
            vec!["broken.json", "not a report.json as `surge run` writes it"],
        ),
        (
            vec![s.into(), r.into()],
            vec!["sweep.json", "looks like a sweep.json"],
        ),
        (
            vec![format!("{r}#nope"), r.into()],
            vec!["no variant \"nope\"", "\"four\", \"three\""],
        ),
        (vec![format!("{r}#four")], vec!["at least two"]),
        (
            vec![r.into(), "--fail-if".into(), "p99 >> 3".into()],
            vec!["--fail-if \"p99 >> 3\"", "expected METRIC OP VALUE"],
        ),
        (
            vec![r.into(), "--fail-if".into(), "latency > +1%".into()],
            vec!["no metric \"latency\""],
        ),
        (
            vec![r.into(), "--metric".into(), "nothing.*".into()],
            vec!["matches no metric"],
        ),
        (
            vec![r.into(), "--alpha".into(), "1.5".into()],
            vec!["--alpha"],
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["compare"];
        all.extend(args.iter().map(String::as_str));
        assert_bad_input(&format!("{args:?}"), &surge(&all), &expected);
    }
}

/// Two endpoints on a priced service with an SLO, three replicas against four: every alias
/// has something to stand for (cost, SLO minutes, per-endpoint figures).
const PRICED: &str = r#"{
  "model": { "services": { "api": { "replicas": 4, "instance": { "cores": 1 },
      "cost": { "instance_type": "m5.large" },
      "endpoints": {
        "get": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } } ] },
        "put": { "steps": [ { "cpu": { "kind": "exponential", "mean": "20ms" } } ] } } } } },
  "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 200 },
      "mix": [ { "service": "api", "endpoint": "get", "weight": 3 },
               { "service": "api", "endpoint": "put", "weight": 1 } ] } ],
  "duration": "1m", "warmup": "5s", "seed": 13, "replications": 3,
  "slo": { "quantile": 0.99, "latency": "100ms", "window": "10s" },
  "variants": { "four": {}, "three": { "services": { "api": { "replicas": 3 } } } }
}"#;

fn priced_report() -> &'static Path {
    static REPORT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    REPORT.get_or_init(|| run_to("compare-priced", PRICED, &[]))
}

/// The flat metrics every run of a report has, in report order.
fn flat_metrics(report: &Path) -> Vec<String> {
    let r = surge::report::read_report(report).unwrap();
    surge::report::flatten(&r.runs[0].summary)
        .into_keys()
        .collect()
}

fn metric_names(c: &Value) -> Vec<String> {
    c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["metric"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_alias_names_the_same_metrics_in_metric_and_fail_if() {
    use surge::report::aliases::{ALIASES, resolve};
    let r = priced_report().to_str().unwrap();
    let (four, three) = (format!("{r}#four"), format!("{r}#three"));
    let available = flat_metrics(priced_report());
    // The aliases of the issue, scoped ones, and every alias in the table.
    let mut names: Vec<String> = ALIASES.iter().map(|a| a.name.to_string()).collect();
    names.extend(
        [
            "services.api.cpu",
            "endpoints.api.put.p99",
            "endpoints.*.errors",
        ]
        .map(String::from),
    );
    for name in &names {
        let expected = resolve(name, available.iter().map(String::as_str));
        assert!(!expected.is_empty(), "{name} stands for nothing");
        let c = compare_json(&[&four, &three, "--metric", name]);
        assert_eq!(metric_names(&c), expected, "--metric {name}");
        // A level no metric reaches: the rule is checked on exactly those metrics and passes.
        let rule = format!("{name} > 1e300");
        let c = compare_json(&[&four, &three, "--fail-if", &rule]);
        let checked: Vec<&str> = c["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["metric"].as_str().unwrap())
            .collect();
        assert_eq!(checked, expected, "--fail-if {rule}");
        assert_eq!(c["passed"], true);
    }
    // The issue's case, in words: `--metric cpu` is the CPU utilisation.
    let c = compare_json(&[&four, &three, "--metric", "cpu"]);
    assert_eq!(metric_names(&c), ["services.api.cpu_utilisation"]);
}

#[test]
fn endpoints_are_compared_by_default_when_there_are_several() {
    let r = priced_report().to_str().unwrap();
    let c = compare_json(&[&format!("{r}#four"), &format!("{r}#three")]);
    let names = metric_names(&c);
    for e in ["get", "put"] {
        for m in ["throughput_rps", "error_rate", "latency_s.p99"] {
            let name = format!("endpoints.api.{e}.{m}");
            assert!(names.contains(&name), "{name} in {names:?}");
        }
    }
    let mean = |metric: &str, side: usize| {
        c["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == metric)
            .unwrap()["values"][side]["mean"]
            .as_f64()
            .unwrap()
    };
    for side in [0, 1] {
        // Both count successes over the measured window: the endpoints' add up to the run's.
        let sum = mean("endpoints.api.get.throughput_rps", side)
            + mean("endpoints.api.put.throughput_rps", side);
        assert!((sum - mean("throughput_rps", side)).abs() < 1e-9);
    }
    // At 0.83 of three cores instead of 0.62 of four, each endpoint's tail is longer.
    for e in ["get", "put"] {
        let m = format!("endpoints.api.{e}.latency_s.p99");
        assert!(mean(&m, 1) > mean(&m, 0), "{m}");
    }
    // With one endpoint its figures are the run's, and not repeated.
    let h = high_load_report().to_str().unwrap();
    let c = compare_json(&[&format!("{h}#four"), &format!("{h}#three")]);
    assert!(!metric_names(&c).iter().any(|m| m.starts_with("endpoints.")));
    // Though they can be asked for.
    let c = compare_json(&[
        &format!("{h}#four"),
        &format!("{h}#three"),
        "--metric",
        "endpoints.*.p99",
    ]);
    assert_eq!(metric_names(&c), ["endpoints.api.e.latency_s.p99"]);
}

#[test]
fn a_zero_interval_is_printed_as_plus_minus_zero() {
    let r = high_load_report().to_str().unwrap();
    let o = surge(&[
        "compare",
        &format!("{r}#four"),
        &format!("{r}#three"),
        "--metric",
        "instances",
    ]);
    let table = String::from_utf8_lossy(&o.stdout);
    // Every replication ends with the replicas it started with: an interval of width zero.
    let row = table
        .lines()
        .find(|l| l.starts_with("services.api.instances"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("4 +- 0") && row.contains("3 +- 0"), "{row}");
}
