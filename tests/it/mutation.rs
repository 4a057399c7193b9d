//! Mutation testing of every bundled file: experiments (with their models inlined), HPA
//! snapshots, and the reports, sweeps and shards Surge writes, each mutated at random places
//! into values that have broken parsers and simulators before (zeros, negatives, huge and tiny
//! numbers, nanosecond durations, control characters, formula prefixes, paths that climb out,
//! devices, wrong types, missing and unknown fields). Every mutant goes through the command
//! that reads it, and must exit 0 or 2 (never a panic, an abort or a hang), within a watchdog
//! limit and a memory limit, writing nothing outside its output directory.
//!
//! Bounded by default (a few hundred mutants); `SURGE_SLOW_TESTS=1` runs twenty times as many.

use crate::reliability::{run_within, surge_within};
use crate::support::{repo, slow, temp_dir};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// SplitMix64: a seeded, reproducible choice of mutations.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Values that have broken something somewhere.
fn nasty(d: &mut Dice) -> Value {
    let pick = [
        json!(0),
        json!(-1),
        json!(1),
        json!(0.5),
        json!(1e308),
        json!(-1e308),
        json!(1e-308),
        json!(4_294_967_296u64),
        json!(u64::MAX),
        json!(1e20),
        json!(""),
        json!("0s"),
        json!("1ns"),
        json!("1us"),
        json!("99999d"),
        json!("1e308s"),
        json!("-5s"),
        json!("x"),
        json!("../../../../tmp/surge-escaped"),
        json!("/dev/zero"),
        json!("\u{1b}[2J\u{1b}]0;t\u{7}"),
        json!("=1+1"),
        json!("a\nb"),
        json!("constant"),
        json!("exponential"),
        Value::Null,
        json!(true),
        json!([]),
        json!({}),
        json!([0]),
        json!({"kind": "constant"}),
        json!({"kind": "exponential", "mean": "1ns"}),
        json!("1000000000"),
    ];
    pick[d.below(pick.len())].clone()
}

/// Every path (as JSON pointer segments) to a value in `v`.
fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                at.push(k.clone());
                paths(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(i.to_string());
                paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn pointer(p: &[String]) -> String {
    p.iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// One to three mutations at random places.
fn mutate(doc: &Value, d: &mut Dice) -> Value {
    let mut v = doc.clone();
    for _ in 0..1 + d.below(3) {
        let mut all = Vec::new();
        paths(&v, &mut Vec::new(), &mut all);
        let target = all[d.below(all.len())].clone();
        match d.below(6) {
            // Remove it from its parent.
            0 if !target.is_empty() => {
                let (last, parent) = target.split_last().expect("not the root");
                match v.pointer_mut(&pointer(parent)) {
                    Some(Value::Object(o)) => {
                        o.shift_remove(last);
                    }
                    Some(Value::Array(a)) => {
                        if let Ok(i) = last.parse::<usize>() {
                            if i < a.len() {
                                a.remove(i);
                            }
                        }
                    }
                    _ => {}
                }
            }
            // Add an unknown field, or a copy of an element to a list.
            1 => match v.pointer_mut(&pointer(&target)) {
                Some(Value::Object(o)) => {
                    o.insert("surprise".into(), nasty(d));
                }
                Some(Value::Array(a)) if !a.is_empty() => {
                    let copy = a[d.below(a.len())].clone();
                    a.push(copy);
                }
                _ => {}
            },
            // Replace it with something nasty.
            _ => {
                if let Some(slot) = v.pointer_mut(&pointer(&target)) {
                    *slot = nasty(d);
                }
            }
        }
    }
    v
}

/// The bundled experiments, each with its model inlined (so that mutations reach the model
/// too) and a short horizon (so that a mutant runs in seconds unless a mutation says
/// otherwise).
fn experiments() -> Vec<(String, Value)> {
    let mut files = Vec::new();
    collect_json(&repo().join("experiments"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(&f).ok()?;
            let mut v: Value = serde_json::from_str(&text).ok()?;
            let o = v.as_object_mut()?;
            if let Some(Value::String(m)) = o.get("model") {
                let mf = f.parent().unwrap().join(m);
                let model: Value = serde_json::from_str(&std::fs::read_to_string(mf).ok()?).ok()?;
                o.insert("model".into(), model);
            }
            // Trace files are named relative to the experiment: make them absolute.
            absolute_traces(&mut v, f.parent().unwrap());
            let o = v.as_object_mut()?;
            o.insert("duration".into(), json!("20s"));
            o.shift_remove("warmup");
            o.shift_remove("batch_means");
            o.shift_remove("$schema");
            o.insert("replications".into(), json!(1));
            Some((f.file_name()?.to_string_lossy().into_owned(), v))
        })
        .collect()
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_json(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn absolute_traces(v: &mut Value, dir: &Path) {
    match v {
        Value::Object(o) => {
            if o.get("kind").and_then(Value::as_str) == Some("trace") {
                if let Some(Value::String(f)) = o.get("file") {
                    let abs = dir.join(f).to_string_lossy().into_owned();
                    o.insert("file".into(), json!(abs));
                }
            }
            for x in o.values_mut() {
                absolute_traces(x, dir);
            }
        }
        Value::Array(a) => {
            for x in a {
                absolute_traces(x, dir);
            }
        }
        _ => {}
    }
}

const WATCHDOG: Duration = Duration::from_secs(90);
/// Address space a mutant may take (the run's own ceilings keep it far below).
const MEMORY_KIB: u64 = 8 << 20;

/// Runs `surge args` on a mutant in a fresh directory, under a memory limit, and checks the
/// outcome. Returns the exit code.
fn check(what: &str, mutant: &Value, file_name: &str, args: &[&str]) -> i32 {
    let dir = temp_dir("mutant");
    std::fs::write(
        dir.join(file_name),
        serde_json::to_string_pretty(mutant).unwrap(),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_surge");
    let script = format!("ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\"");
    let mut full = vec!["-c", &script, bin];
    full.extend(args);
    let o = run_within("sh", &full, &dir, WATCHDOG);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let code = o.status.code().unwrap_or(-1);
    let shown = serde_json::to_string(mutant).unwrap();
    let shown = &shown[..shown.len().min(3000)];
    assert!(
        code == 0 || code == 2,
        "{what}: exit {code} (a crash, abort or out-of-memory is never right)\nstderr: {stderr}\nmutant: {shown}"
    );
    assert!(
        !stderr.contains("panicked"),
        "{what}: panicked: {stderr}\nmutant: {shown}"
    );
    if code == 2 {
        assert!(
            stderr.starts_with("error: "),
            "{what}: exit 2 without a message: {stderr}"
        );
    }
    // Nothing outside `out`: the directory holds the mutant and, at most, the output.
    let mut entries: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    entries.retain(|e| e != file_name && e != "out");
    assert!(
        entries.is_empty(),
        "{what}: wrote {entries:?} outside --out\nmutant: {shown}"
    );
    assert!(
        !Path::new("/tmp/surge-escaped").exists(),
        "{what}: a path climbed out of the output directory"
    );
    let _ = std::fs::remove_dir_all(&dir);
    code
}

fn scale() -> usize {
    if slow() { 20 } else { 1 }
}

/// What `run` and `sweep` get after the file: one thread and tight limits, so that a mutant
/// that multiplies work is stopped in seconds.
const RUN_ARGS: [&str; 9] = [
    "--out",
    "out",
    "-q",
    "-j",
    "1",
    "--max-events",
    "3000000",
    "--max-in-flight",
    "200000",
];

#[test]
fn mutated_experiments_and_models_validate_and_run_or_are_refused_cleanly() {
    let files = experiments();
    assert!(
        files.len() >= 10,
        "found {} bundled experiments",
        files.len()
    );
    let mut d = Dice(0x5EED);
    let mut ran = 0;
    for k in 0..files.len() * 6 * scale() {
        let (name, doc) = &files[k % files.len()];
        let mutant = mutate(doc, &mut d);
        let what = format!("mutant {k} of {name}");
        let code = check(&what, &mutant, "e.json", &["validate", "e.json"]);
        // Run about one valid mutant in three (running is what finds hangs and blow-ups).
        if code == 0 && d.below(3) == 0 {
            let mut args = vec!["run", "e.json", "--png"];
            args.extend(RUN_ARGS);
            check(&what, &mutant, "e.json", &args);
            ran += 1;
        }
    }
    assert!(ran > 0, "no mutant was valid enough to run");
}

#[test]
fn mutated_sweeps_validate_and_run_or_are_refused_cleanly() {
    let text = std::fs::read_to_string(repo().join("experiments/hpa-target-sweep.json")).unwrap();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let model = doc["model"].as_str().map(str::to_string);
    if let Some(m) = model {
        let mtext = std::fs::read_to_string(repo().join("experiments").join(m)).unwrap();
        doc["model"] = serde_json::from_str(&mtext).unwrap();
    }
    doc["duration"] = json!("30s");
    doc["replications"] = json!(1);
    let sweep = doc["sweep"].clone();
    let mut d = Dice(0x5EEE);
    for k in 0..40 * scale() {
        // Mutate the sweep itself most of the time.
        let mut mutant = doc.clone();
        mutant["sweep"] = mutate(&sweep, &mut d);
        let what = format!("sweep mutant {k}");
        if check(&what, &mutant, "s.json", &["validate", "s.json"]) == 0 && k % 4 == 0 {
            let mut args = vec!["sweep", "s.json"];
            args.extend(RUN_ARGS);
            check(&what, &mutant, "s.json", &args);
        }
    }
}

#[test]
fn mutated_hpa_snapshots_are_decided_or_refused_cleanly() {
    let mut files = Vec::new();
    collect_json(&repo().join("src/autoscaler/hpa/examples"), &mut files);
    files.sort();
    assert!(!files.is_empty());
    let docs: Vec<Value> = files
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    let mut d = Dice(0xA11);
    for k in 0..docs.len() * 20 * scale() {
        let mutant = mutate(&docs[k % docs.len()], &mut d);
        check(
            &format!("hpa mutant {k}"),
            &mutant,
            "h.json",
            &["hpa", "h.json"],
        );
    }
}

#[test]
fn mutated_reports_and_sweep_files_are_read_or_refused_cleanly() {
    // Real outputs to mutate: a run's report (with its time series) and two sweep shards.
    let base = temp_dir("mutation-sources");
    let quick = repo().join("experiments/quickstart.json");
    let sweep = repo().join("experiments/hpa-target-sweep.json");
    let o = surge_within(
        &[
            "run",
            quick.to_str().unwrap(),
            "--out",
            "run",
            "-q",
            "--replications",
            "2",
        ],
        &base,
        WATCHDOG,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for k in ["1/2", "2/2"] {
        let out = format!("shard{}", &k[..1]);
        let o = surge_within(
            &[
                "sweep",
                sweep.to_str().unwrap(),
                "--out",
                &out,
                "-q",
                "--shard",
                k,
            ],
            &base,
            Duration::from_secs(600),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let read = |p: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(base.join(p)).unwrap()).unwrap()
    };
    let report = read("run/report.json");
    let shard1 = read("shard1/sweep.json");
    let shard2 = base.join("shard2/sweep.json");
    let csv = base.join("run/timeseries.csv");
    let mut d = Dice(0xBEEF);
    for k in 0..30 * scale() {
        let mutant = mutate(&report, &mut d);
        let what = format!("report mutant {k}");
        check(&what, &mutant, "report.json", &["report", "report.json"]);
        check(
            &what,
            &mutant,
            "report.json",
            &["compare", "report.json", "report.json"],
        );
        // `plot` reads the time series beside the report.
        let dir = temp_dir("plot-mutant");
        std::fs::copy(&csv, dir.join("timeseries.csv")).unwrap();
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_string(&mutant).unwrap(),
        )
        .unwrap();
        let o = surge_within(&["plot", "report.json", "--out", "out"], &dir, WATCHDOG);
        let code = o.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 2,
            "{what}: plot exit {code}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    for k in 0..30 * scale() {
        let mutant = mutate(&shard1, &mut d);
        let what = format!("shard mutant {k}");
        check(
            &what,
            &mutant,
            "a.json",
            &["merge", "a.json", shard2.to_str().unwrap(), "--out", "out"],
        );
        check(
            &what,
            &mutant,
            "a.json",
            &["plot", "a.json", "--out", "out"],
        );
    }
}
