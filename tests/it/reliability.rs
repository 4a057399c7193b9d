//! Every input that once broke Surge (tests/fixtures/reliability/): each now exits 0 or 2
//! within a watchdog's limit, says what was wrong, and touches nothing outside `--out`.

use crate::support::{repo, surge, temp_dir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/reliability").join(name)
}

/// Runs `surge args` in `cwd`, killing it after `limit`: a hang is a failure, not a wait.
/// (A watchdog, not a timing assertion: the limit is minutes above what any of these needs.)
pub fn surge_within(args: &[&str], cwd: &Path, limit: Duration) -> Output {
    run_within(env!("CARGO_BIN_EXE_surge"), args, cwd, limit)
}

/// Runs `program args` in `cwd` under the same watchdog.
pub fn run_within(program: &str, args: &[&str], cwd: &Path, limit: Duration) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the surge binary runs");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("waits").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!(
                "{program} {args:?} still running after {limit:?} (hung): {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const LIMIT: Duration = Duration::from_secs(120);

/// Runs `surge run FILE --out OUT` in a scratch directory; returns (output, scratch).
fn run_fixture(name: &str) -> (Output, PathBuf) {
    let dir = temp_dir(&format!("rel-{name}"));
    let o = surge_within(
        &["run", fixture(name).to_str().unwrap(), "--out", "out", "-q"],
        &dir,
        LIMIT,
    );
    (o, dir)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Refused with exit 2, naming the file and each of `expected`, with nothing left behind.
fn refused(name: &str, expected: &[&str]) {
    let (o, dir) = run_fixture(name);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: {e}");
    assert!(!e.contains("panicked"), "{name}: {e}");
    assert!(e.contains(name), "{name}: the message names the file: {e}");
    for x in expected {
        assert!(e.contains(x), "{name}: expected `{x}` in {e}");
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "{name}: nothing may be written"
    );
}

#[test]
fn runs_that_would_never_end_are_refused_with_the_stated_minimum() {
    refused(
        "cpu-quantum-1ns-time-explosion.json",
        &["cpu_quantum", "at least 100us"],
    );
    refused(
        "closed-think-1ns-time-explosion.json",
        &["workload[0].think", "100us"],
    );
    refused(
        "closed-error-pause-1ns-time-explosion.json",
        &["error_pause", "at least 100us"],
    );
    refused(
        "diurnal-tiny-period-hang.json",
        &["workload[0].rate", "changes more than 10000000 times"],
    );
}

#[test]
fn a_run_past_its_event_budget_stops_and_names_what_drives_it() {
    // An endpoint that takes 1 ns and no think time: legal, but 1e9 requests a second.
    let dir = temp_dir("rel-budget");
    let file = dir.join("spin.json");
    std::fs::write(
        &file,
        r#"{"model":{"services":{"api":{"replicas":1,"instance":{"cores":1},"endpoints":{"e":{"steps":[{"io":"1ns"}]}}}}},
            "workload":[{"name":"spinner","kind":"closed","connections":1,"mix":[{"service":"api","endpoint":"e"}]}],"duration":"1h"}"#,
    )
    .unwrap();
    let o = surge_within(
        &[
            "run",
            "spin.json",
            "--out",
            "out",
            "-q",
            "--max-events",
            "1000000",
        ],
        &dir,
        LIMIT,
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    for x in [
        "budget of 1000000 events",
        "closed-loop sends",
        "client `spinner`",
        "--max-events",
        "nothing was written",
    ] {
        assert!(e.contains(x), "expected `{x}` in {e}");
    }
    assert!(!dir.join("out").exists());
}

#[test]
fn memory_that_would_explode_is_bounded_before_or_during_the_run() {
    refused(
        "resolution-1us-oom.json",
        &[
            "resolution",
            "time-series rows per run",
            "more than 1000000",
        ],
    );
    refused(
        "overload-1e9rps-oom.json",
        &[
            "requests were in memory",
            "--max-in-flight",
            "service `api`",
            "no concurrency_limit",
        ],
    );
}

#[test]
fn sweeps_too_large_to_hold_are_refused_by_validate_and_sweep() {
    for name in [
        "sweep-1M-points-memory.json",
        "sweep-60x1M-params-memory.json",
    ] {
        let dir = temp_dir("rel-sweep");
        for cmd in ["validate", "sweep"] {
            let path = fixture(name);
            let mut args = vec![cmd, path.to_str().unwrap()];
            if cmd == "sweep" {
                args.extend(["--out", "out", "-q"]);
            }
            let o = surge_within(&args, &dir, LIMIT);
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{cmd} {name}: {e}");
            assert!(
                e.contains("sweep.parameters[0].range.steps"),
                "{cmd} {name}: {e}"
            );
            assert!(e.contains("1 to 10000"), "{cmd} {name}: {e}");
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }
}

#[test]
fn malformed_shards_are_refused_by_merge_without_a_panic() {
    let dir = temp_dir("rel-merge");
    let (a, b) = (
        fixture("merge-missing-param-panic.a.json"),
        fixture("merge-missing-param-panic.b.json"),
    );
    let o = surge_within(
        &[
            "merge",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            "m",
        ],
        &dir,
        LIMIT,
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("merge-missing-param-panic.a.json"), "{e}");
    assert!(e.contains("not a sweep.json"), "{e}");
    // The same shard in a sweep of two runs: now its point lacks the parameter.
    let shard = std::fs::read_to_string(&a)
        .unwrap()
        .replace("\"total_runs\":1", "\"total_runs\":2");
    std::fs::write(dir.join("a.json"), shard).unwrap();
    let o = surge_within(
        &["merge", "a.json", b.to_str().unwrap(), "--out", "m"],
        &dir,
        LIMIT,
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("a.json: at `points[0].parameters`"), "{e}");
    assert!(
        e.contains("expected exactly the sweep's parameters `p`"),
        "{e}"
    );
    std::fs::remove_file(dir.join("a.json")).unwrap();
    let huge = fixture("merge-huge-shard-oom.a.json");
    let o = surge_within(
        &["merge", huge.to_str().unwrap(), "--out", "m"],
        &dir,
        LIMIT,
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("at `shard"), "{e}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn reads_are_capped_and_refuse_what_is_not_a_regular_file() {
    refused(
        "model-devzero-unbounded-read.json",
        &["/dev/zero", "not a regular file"],
    );
}

#[test]
fn numbers_that_would_overflow_or_are_not_numbers_are_refused_with_their_place() {
    refused(
        "empirical-weights-overflow.json",
        &[
            "steps[0].cpu",
            "weights",
            "add up to more than a number can hold",
        ],
    );
    refused(
        "trace-nan-accepted.json",
        &["workload[0].rate.file", "line 3", "not a finite number"],
    );
}

#[test]
fn an_error_about_a_file_never_echoes_what_it_read() {
    let (o, _) = run_fixture("trace-path-disclosure.json");
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("t_seconds,requests"), "{e}");
    assert!(
        !e.contains("root:"),
        "the message must not show the file's contents: {e}"
    );
}

#[test]
fn names_with_control_characters_are_refused_and_never_reach_the_terminal() {
    for (name, place) in [
        ("terminal-escape-in-table.json", "at `name`"),
        ("plot-roundtrip-newline.json", "variants.two\\nlines"),
        ("csv-cr-and-formula.json", "variants.a\\rb"),
    ] {
        let (o, _) = run_fixture(name);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {e}");
        assert!(e.contains(place), "{name}: {e}");
        assert!(e.contains("control characters"), "{name}: {e}");
        assert!(
            !e.contains('\u{1b}') && !e.contains('\r') && !e.contains('\u{7}'),
            "{name}: a control character reached the terminal: {e:?}"
        );
    }
}

#[test]
fn a_spreadsheet_formula_in_a_variant_name_is_neutralised_in_sweep_csv() {
    let dir = temp_dir("rel-formula");
    std::fs::write(
        dir.join("f.json"),
        r#"{"model":{"services":{"api":{"replicas":1,"instance":{"cores":1},"endpoints":{"e":{"steps":[{"cpu":"1ms"}]}}}}},
            "workload":[{"name":"c","kind":"open","rate":{"kind":"constant","rps":10},"mix":[{"service":"api","endpoint":"e"}]}],"duration":"2s",
            "variants":{"=HYPERLINK(\"http://x\",\"y\")":{},"@SUM(1+1)":{},"plain, with comma":{}},
            "sweep":{"parameters":[{"path":"model.services.api.replicas","values":[1,2]}]}}"#,
    )
    .unwrap();
    let o = surge_within(&["sweep", "f.json", "--out", "out", "-q"], &dir, LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.join("out/sweep.csv")).unwrap();
    for line in csv.lines().skip(1) {
        let variant_field = line.split(',').nth(2).unwrap();
        assert!(
            !variant_field.starts_with(['=', '@', '+']),
            "a formula reached sweep.csv: {line}"
        );
    }
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
        "{csv}"
    );
    assert!(csv.contains(",'@SUM(1+1),"), "{csv}");
    assert!(csv.contains(",\"plain, with comma\","), "{csv}");
}

#[test]
fn a_name_that_would_climb_out_of_results_stays_inside() {
    let dir = temp_dir("rel-traversal");
    let o = surge_within(
        &[
            "run",
            fixture("name-path-traversal.json").to_str().unwrap(),
            "-q",
        ],
        &dir,
        LIMIT,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let entries: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["results"]);
    let safe = surge::output::safe_file_name("../../escaped-by-name");
    assert!(dir.join("results").join(safe).join("report.json").is_file());
    assert!(!dir.parent().unwrap().join("escaped-by-name").exists());
}

#[cfg(unix)]
#[test]
fn a_symlink_planted_in_the_output_directory_is_never_followed() {
    let dir = temp_dir("rel-symlink");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    for name in ["report.tmp", "timeseries.tmp", "latency.tmp", "report.json"] {
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    let quick = repo().join("experiments/quickstart.json");
    // A directory holding links Surge did not make is not its results: refused before the run.
    let o = surge(&[
        "run",
        quick.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("files Surge did not write"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn an_earlier_complete_result_survives_a_failed_run_and_is_replaced_whole_by_a_good_one() {
    let dir = temp_dir("rel-replace");
    let quick = repo().join("experiments/quickstart.json");
    let out = dir.join("out");
    let o = surge(&[
        "run",
        quick.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(out.join("report.json")).unwrap();
    // A run stopped by its budget leaves the earlier result exactly as it was.
    let o = surge(&[
        "run",
        quick.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--max-events",
        "1000",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("report.json")).unwrap(), before);
    assert!(out.join("timeseries.csv").is_file() && out.join("latency.svg").is_file());
    // Only the output directory itself is beside it: no staging directory is left.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // A file in the way is refused before anything runs.
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = surge(&[
        "run",
        quick.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("a file is in the way"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn least_connections_over_100000_instances_picks_without_scanning() {
    // One simulated minute through 100,000 instances: minutes with a scan per request.
    let (o, dir) = run_fixture("least-connections-100k-instances-slow.json");
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/report.json")).unwrap())
            .unwrap();
    let s = &report["runs"][0]["summary"];
    assert!(s["arrivals"].as_u64().unwrap() > 10_000);
    assert_eq!(s["outcomes"]["rejected"], 0);
}

#[cfg(unix)]
#[test]
fn an_interrupt_says_nothing_was_written_and_leaves_the_earlier_result() {
    let dir = temp_dir("rel-interrupt");
    let quick = repo().join("experiments/quickstart.json");
    let o = surge_within(
        &["run", quick.to_str().unwrap(), "--out", "out", "-q"],
        &dir,
        LIMIT,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(dir.join("out/report.json")).unwrap();
    // A run of an hour's traffic at 20,000 req/s takes long enough to be interrupted.
    std::fs::write(
        dir.join("long.json"),
        r#"{"model":{"services":{"api":{"replicas":40,"instance":{"cores":2},"endpoints":{"e":{"steps":[{"cpu":"1ms"}]}}}}},
            "workload":[{"name":"c","kind":"open","rate":{"kind":"constant","rps":20000},"mix":[{"service":"api","endpoint":"e"}]}],"duration":"1h"}"#,
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_surge"))
        .args(["run", "long.json", "--out", "out", "-q"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the staging directory exists the run is under way.
    let start = Instant::now();
    while !std::fs::read_dir(&dir).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".out.surge-")
    }) {
        assert!(start.elapsed() < LIMIT, "the run never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{e}");
    assert!(
        e.contains("interrupted: nothing was written; out is as it was"),
        "{e}"
    );
    assert_eq!(std::fs::read(dir.join("out/report.json")).unwrap(), before);
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        left.is_empty(),
        "the staging directory was left behind: {left:?}"
    );
}

#[test]
fn merge_takes_the_shard_directories_the_kubernetes_job_writes() {
    let dir = temp_dir("rel-merge-dirs");
    let file = dir.join("s.json");
    std::fs::write(
        &file,
        r#"{"model":{"services":{"api":{"replicas":1,"instance":{"cores":1},"endpoints":{"e":{"steps":[{"cpu":"1ms"}]}}}}},
            "workload":[{"name":"c","kind":"open","rate":{"kind":"constant","rps":10},"mix":[{"service":"api","endpoint":"e"}]}],"duration":"5s",
            "sweep":{"parameters":[{"path":"model.services.api.replicas","values":[1,2,3]}]}}"#,
    )
    .unwrap();
    for k in ["1/2", "2/2"] {
        let out = format!("shard-{}", &k[..1]);
        let o = surge_within(
            &["sweep", "s.json", "--out", &out, "-q", "--shard", k],
            &dir,
            LIMIT,
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = surge_within(
        &["merge", "shard-1", "shard-2", "--out", "all"],
        &dir,
        LIMIT,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = surge_within(&["sweep", "s.json", "--out", "whole", "-q"], &dir, LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(dir.join("all/sweep.json")).unwrap(),
        std::fs::read(dir.join("whole/sweep.json")).unwrap()
    );
}
