//! The `surge` binary: run, validate, and one case per class of bad input. Each bad input must
//! exit with 2, name the file, the JSON path and what was expected, never panic, and leave no
//! output behind.

use crate::support::{assert_bad_input, repo, surge, temp_dir, write_experiment};
use std::path::Path;
use std::process::Command;

const GOOD: &str = r#"{
  "model": { "services": { "api": { "replicas": 2,
      "instance": { "cores": 1 },
      "endpoints": { "get": { "steps": [ { "cpu": { "kind": "exponential", "mean": "5ms" } } ] } } } } },
  "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 100 },
                  "mix": [ { "service": "api", "endpoint": "get" } ] } ],
  "duration": "20s", "seed": 4
}"#;

/// Runs `surge run` on `json` (with `GOOD`'s text replaced as given) and checks the failure.
fn fails(tag: &str, json: &str, expected: &[&str]) {
    let path = write_experiment(tag, json);
    let out = path.parent().unwrap().join("out");
    let o = surge(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = assert_bad_input(tag, &o, expected);
    assert!(
        stderr.contains(&format!("{tag}.json")),
        "{tag}: the message must name the file: {stderr}"
    );
    assert!(!out.exists(), "{tag}: no output may be left behind");
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "{tag}: one paragraph: {stderr}"
    );
    // validate agrees.
    let v = surge(&["validate", path.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(2), "{tag}: validate exit code");
}

fn good_with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "test bug: `{from}` not in GOOD");
    GOOD.replace(from, to)
}

#[test]
fn run_writes_report_and_timeseries_and_prints_a_summary() {
    let dir = temp_dir("run");
    let exp = dir.join("e.json");
    std::fs::write(&exp, GOOD).unwrap();
    let out = dir.join("out");
    let o = surge(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-j",
        "2",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for row in [
        "arrivals",
        "throughput (req/s)",
        "latency p99.9",
        "CPU utilisation",
    ] {
        assert!(stdout.contains(row), "summary lacks `{row}`:\n{stdout}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    for key in ["experiment", "surge_version", "seed", "runs", "variants"] {
        assert!(report.get(key).is_some(), "report lacks `{key}`");
    }
    let run = &report["runs"][0];
    assert_eq!(run["variant"], "base");
    for key in [
        "arrivals",
        "outcomes",
        "throughput_rps",
        "latency_s",
        "services",
    ] {
        assert!(run["summary"].get(key).is_some(), "summary lacks `{key}`");
    }
    for q in ["mean", "p50", "p90", "p95", "p99", "p999", "max"] {
        assert!(run["summary"]["latency_s"][q].is_f64(), "latency_s.{q}");
    }
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert!(csv.starts_with("variant,replication,t_s,"));
    assert_eq!(
        csv.lines().count(),
        1 + 20,
        "header plus one row per second"
    );
    assert!(!out.join("report.tmp").exists());
}

#[test]
fn seed_flag_overrides_the_file() {
    let dir = temp_dir("seed");
    let exp = dir.join("e.json");
    std::fs::write(&exp, GOOD).unwrap();
    let read = |seed: &str| {
        let out = dir.join(format!("out-{seed}"));
        let o = surge(&[
            "run",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--seed",
            seed,
            "-q",
        ]);
        assert!(o.status.success());
        assert!(o.stdout.is_empty(), "--quiet prints nothing");
        std::fs::read_to_string(out.join("report.json")).unwrap()
    };
    let (a, b, a2) = (read("10"), read("11"), read("10"));
    assert_eq!(a, a2);
    assert_ne!(a, b);
    assert!(a.contains("\"seed\": 10"));
}

#[test]
fn validate_accepts_every_bundled_experiment() {
    let mut files: Vec<String> = ["experiments", "experiments/seeds"]
        .iter()
        .flat_map(|d| std::fs::read_dir(repo().join(d)).unwrap())
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".json"))
        .collect();
    files.sort();
    let args: Vec<&str> = std::iter::once("validate")
        .chain(files.iter().map(String::as_str))
        .collect();
    let o = surge(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.starts_with("ok: "))
            .count(),
        files.len()
    );
}

#[test]
fn validate_prints_the_load_a_renewal_client_offers() {
    // Gaps of 2 ms or 8 ms, half each: a mean of 5 ms is 200 requests/s, times 5 ms of CPU is
    // one core of the two.
    let json = good_with(
        "\"rate\": { \"kind\": \"constant\", \"rps\": 100 }",
        r#""interarrival": { "kind": "mixture", "components": [
            { "weight": 1, "dist": { "kind": "exponential", "mean": "2ms" } },
            { "weight": 1, "dist": "8ms" } ] }"#,
    );
    let path = write_experiment("validate-renewal", &json);
    let o = surge(&["validate", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains("api at 50% of CPU capacity"),
        "offered load: {stdout}"
    );
}

#[test]
fn malformed_json_names_line_and_column() {
    fails(
        "malformed",
        "{\n  \"duration\": \"10s\",\n  \"seed\": 1,,\n}",
        &["malformed.json:3:13", "malformed JSON"],
    );
}

#[test]
fn unknown_fields_are_refused_with_their_path() {
    fails(
        "unknown-field",
        &good_with("\"replicas\": 2", "\"replicas\": 2, \"replcas\": 3"),
        &[
            "at `model.services.api.replcas`",
            "unknown field `replcas`",
            "expected one of",
        ],
    );
    fails(
        "unknown-top",
        &good_with("\"seed\": 4", "\"seed\": 4, \"sede\": 4"),
        &["unknown field `sede`"],
    );
}

#[test]
fn wrong_types_say_what_was_expected() {
    fails(
        "wrong-type",
        &good_with("\"replicas\": 2", "\"replicas\": \"two\""),
        &[
            "at `model.services.api.replicas`",
            "wrong type",
            "string \"two\"",
        ],
    );
}

#[test]
fn impossible_values_are_refused() {
    fails(
        "negative-cores",
        &good_with("\"cores\": 1", "\"cores\": -2"),
        &[
            "at `model.services.api.instance.cores`",
            "from 1 to 1024, got -2",
        ],
    );
    fails(
        "zero-cores",
        &good_with("\"cores\": 1", "\"cores\": 0"),
        &["instance.cores", "from 1 to 1024, got 0"],
    );
    fails(
        "zero-rate",
        &good_with("\"rps\": 100", "\"rps\": 0"),
        &["at `workload[0].rate.rps`", "more than zero"],
    );
    fails(
        "negative-rate",
        &good_with("\"rps\": 100", "\"rps\": -5"),
        &["workload[0].rate.rps"],
    );
    fails(
        "zero-duration",
        &good_with("\"duration\": \"20s\"", "\"duration\": \"0s\""),
        &["at `duration`", "longer than zero"],
    );
    fails(
        "bare-duration",
        &good_with("\"duration\": \"20s\"", "\"duration\": 20"),
        &["at `duration`", "bare number 20", "unit"],
    );
    fails(
        "zero-mean",
        &good_with("\"mean\": \"5ms\"", "\"mean\": \"0ms\""),
        &["steps[0].cpu", "positive"],
    );
    fails(
        "warmup-too-long",
        &good_with("\"seed\": 4", "\"seed\": 4, \"warmup\": \"30s\""),
        &["at `warmup`", "shorter than duration"],
    );
}

#[test]
fn unknown_kinds_are_refused() {
    fails(
        "unknown-dist",
        &good_with("\"kind\": \"exponential\"", "\"kind\": \"expo\""),
        &[
            "model.services.api.endpoints.get.steps[0].cpu",
            "unknown kind `expo`",
            "exponential",
        ],
    );
    fails(
        "unknown-balancer",
        &good_with(
            "\"replicas\": 2,",
            "\"replicas\": 2, \"balancer\": {\"kind\": \"fastest\"},",
        ),
        &["balancer", "unknown kind `fastest`", "least_connections"],
    );
    fails(
        "unknown-step",
        &good_with("{ \"cpu\": {", "{ \"gpu\": {"),
        &["steps[0]", "unknown field `gpu`"],
    );
}

#[test]
fn bad_mixtures_are_refused_at_their_component() {
    const CPU: &str = "{ \"kind\": \"exponential\", \"mean\": \"5ms\" }";
    let mixture = |components: &str| {
        good_with(
            CPU,
            &format!("{{ \"kind\": \"mixture\", \"components\": [{components}] }}"),
        )
    };
    let at = "at `model.services.api.endpoints.get.steps[0].cpu.components";
    for (tag, weight) in [
        ("mixture-zero-weight", "0"),
        ("mixture-negative-weight", "-0.5"),
    ] {
        fails(
            tag,
            &mixture(&format!(
                "{{ \"weight\": 1, \"dist\": \"5ms\" }}, {{ \"weight\": {weight}, \"dist\": \"50ms\" }}"
            )),
            &[&format!("{at}[1].weight`"), "must be a positive number"],
        );
    }
    fails(
        "mixture-empty",
        &mixture(""),
        &[&format!("{at}`"), "1 to 1000 components", "got 0"],
    );
    fails(
        "mixture-weights-overflow",
        &mixture(
            "{ \"weight\": 1e308, \"dist\": \"5ms\" }, { \"weight\": 1e308, \"dist\": \"50ms\" }",
        ),
        &[&format!("{at}`"), "add up to more than a number can hold"],
    );
    // JSON has no NaN: the nearest a file can come is a string or an overflowing number.
    fails(
        "mixture-nan-weight",
        &mixture("{ \"weight\": \"NaN\", \"dist\": \"5ms\" }"),
        &["steps[0].cpu", "expected a number"],
    );
    fails(
        "mixture-bad-component",
        &mixture("{ \"weight\": 1, \"dist\": { \"kind\": \"exponential\", \"mean\": \"0ms\" } }"),
        &[&format!("{at}[0].dist`"), "positive"],
    );
}

#[test]
fn an_open_client_has_a_rate_or_an_interarrival() {
    const RATE: &str = "\"rate\": { \"kind\": \"constant\", \"rps\": 100 }";
    fails(
        "rate-and-interarrival",
        &good_with(RATE, &format!("{RATE}, \"interarrival\": \"10ms\"")),
        &["at `workload[0].interarrival`", "not both"],
    );
    fails(
        "neither-rate-nor-interarrival",
        &good_with(&format!("{RATE},"), ""),
        &["at `workload[0]`", "needs a `rate`", "or an `interarrival`"],
    );
    fails(
        "zero-interarrival",
        &good_with(RATE, "\"interarrival\": \"0ms\""),
        &["at `workload[0].interarrival`", "at least 100us"],
    );
    fails(
        "always-zero-interarrival",
        &good_with(
            RATE,
            "\"interarrival\": { \"kind\": \"empirical\", \"values\": [\"0ms\", \"0ms\"] }",
        ),
        &["at `workload[0].interarrival`", "at least 100us"],
    );
    fails(
        "heavy-tailed-interarrival",
        &good_with(
            RATE,
            "\"interarrival\": { \"kind\": \"pareto\", \"scale\": \"1ms\", \"shape\": 0.9 }",
        ),
        &["at `workload[0].interarrival`", "finite mean"],
    );
}

#[test]
fn missing_files_name_who_referenced_them() {
    fails(
        "missing-model",
        &good_with(
            &GOOD[GOOD.find("{ \"services\"").unwrap()..GOOD.find("\"workload\"").unwrap()],
            "\"models/nope.json\",\n  ",
        ),
        &[
            "nope.json",
            "cannot read the model file",
            "named by",
            "at `model`",
        ],
    );
    fails(
        "missing-trace",
        &good_with(
            "{ \"kind\": \"constant\", \"rps\": 100 }",
            "{ \"kind\": \"trace\", \"file\": \"no-such.csv\", \"peak_rps\": 100 }",
        ),
        &[
            "no-such.csv",
            "cannot read the trace file",
            "at `workload[0].rate.file`",
        ],
    );
    let o = surge(&["run", "/nonexistent/exp.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read the experiment file"));
}

#[test]
fn variant_patches_that_name_nothing_are_refused() {
    let with_variants =
        |v: &str| good_with("\"seed\": 4", &format!("\"seed\": 4, \"variants\": {v}"));
    fails(
        "variant-typo",
        &with_variants(r#"{"big": {"services": {"apii": {"replicas": 4}}}}"#),
        &[
            "at `variants.big.services.apii`",
            "service `apii`",
            "it has: api",
        ],
    );
    fails(
        "variant-endpoint",
        &with_variants(r#"{"big": {"services": {"api": {"endpoints": {"put": {"steps": []}}}}}}"#),
        &["variants.big.services.api.endpoints.put", "endpoint `put`"],
    );
    fails(
        "variant-bad-value",
        &with_variants(r#"{"big": {"services": {"api": {"replicas": -1}}}}"#),
        &[
            "in variant `big`",
            "replicas must be a whole number from 0 to 100000, got -1",
        ],
    );
    fails(
        "variant-field-typo",
        &with_variants(r#"{"big": {"services": {"api": {"replica": 4}}}}"#),
        &["in variant `big`", "unknown field `replica`"],
    );
}

#[test]
fn mix_must_name_existing_endpoints() {
    fails(
        "mix-endpoint",
        &good_with("\"endpoint\": \"get\"", "\"endpoint\": \"post\""),
        &[
            "at `workload[0].mix[0].endpoint`",
            "no endpoint `post`",
            "it has: get",
        ],
    );
}

#[test]
fn output_is_kept_out_of_the_way_of_a_broken_pipe() {
    // `surge validate ... | head -0` must not report an error.
    let path = write_experiment("pipe", GOOD);
    let mut child = Command::new(env!("CARGO_BIN_EXE_surge"))
        .args(["validate", path.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    let _ = Path::new("unused");
}

#[test]
fn hpa_prints_what_one_reconcile_would_do() {
    // 3 ready pods use 1300m of 1500m requested: 86% against a 50% target, ratio 1.72, so
    // ceil(1.72 x 3) = 6; counting the Pending pod as idle gives 65% and ceil(1.3 x 4) = 6.
    let example = repo().join("src/autoscaler/hpa/examples/cpu-scale-up.json");
    let o = surge(&["hpa", example.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["desired_replicas"], 6);
    assert_eq!(
        d["reason"],
        "cpu resource utilization (percentage of request) above target"
    );
    for name in ["behavior-scale-down.json", "failing-metric.json"] {
        let o = surge(&[
            "hpa",
            repo()
                .join("src/autoscaler/hpa/examples")
                .join(name)
                .to_str()
                .unwrap(),
        ]);
        assert!(o.status.success(), "{name}");
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            d["desired_replicas"].is_u64() && d["reason"].is_string(),
            "{name}"
        );
    }
}

#[test]
fn hpa_refuses_bad_snapshots_with_path_and_expectation() {
    let dir = temp_dir("hpa");
    let check = |name: &str, json: &str, expected: &[&str]| {
        let path = dir.join(name);
        std::fs::write(&path, json).unwrap();
        let o = surge(&["hpa", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(name) && !stderr.contains("panicked"),
            "{stderr}"
        );
        for e in expected {
            assert!(stderr.contains(e), "{name}: expected `{e}` in {stderr}");
        }
    };
    check(
        "bounds.json",
        r#"{"spec_replicas": 3, "min_replicas": 5, "max_replicas": 2, "metrics": []}"#,
        &[": at `min_replicas`", "max_replicas"],
    );
    check(
        "syntax.json",
        "{\"spec_replicas\": 3,",
        &["syntax.json:", "malformed JSON"],
    );
    check(
        "unknown.json",
        r#"{"spec_replicas": 3, "max_replicas": 5, "metrics": [], "pod": []}"#,
        &["unknown field `pod`"],
    );
    let o = surge(&["hpa", "/nonexistent/snapshot.json"]);
    assert_eq!(o.status.code(), Some(2));
}
