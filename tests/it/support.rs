//! Helpers: experiments from inline JSON, runs, and temporary directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use surge::experiment::{ExecuteOptions, Experiment, RunResult, run_experiment};

/// A fresh directory under the system temp dir, unique per call.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "surge-it-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `json` as an experiment file in a fresh directory and returns its path.
pub fn write_experiment(tag: &str, json: &str) -> PathBuf {
    let path = temp_dir(tag).join(format!("{tag}.json"));
    std::fs::write(&path, json).unwrap();
    path
}

/// Loads an experiment from inline JSON, panicking with the error if it is invalid.
pub fn experiment(tag: &str, json: &str) -> Experiment {
    let path = write_experiment(tag, json);
    surge::config::load_experiment(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs every run of an experiment on all cores.
pub fn run(exp: &Experiment) -> Vec<RunResult> {
    run_experiment(exp, &ExecuteOptions::default()).expect("the run stays within its limits")
}

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether the slow, exhaustive tests are on.
pub fn slow() -> bool {
    std::env::var("SURGE_SLOW_TESTS").is_ok_and(|v| v == "1")
}

/// The one run of a single-variant, single-replication experiment.
pub fn only(results: &[RunResult]) -> &RunResult {
    assert_eq!(results.len(), 1, "expected one run");
    &results[0]
}

/// Runs every run of an experiment and checks that each accounts for every request, call and
/// served request it saw ([`assert_conserved`]).
pub fn run_conserved(exp: &Experiment) -> Vec<RunResult> {
    let results = run(exp);
    for r in &results {
        assert_conserved(&format!("{}/{}", exp.name, r.variant), &r.output.summary);
    }
    results
}

/// Arrivals = outcomes + in flight at the end: for the clients' requests, for every edge of
/// the call graph (calls = outcomes + in flight), and for every endpoint as its service saw
/// it. The in-flight counts are taken from the spans left at the end, independently of the
/// counters.
pub fn assert_conserved(what: &str, s: &surge::simulation::RunSummary) {
    if let Some(e) = conservation_errors(s).first() {
        panic!("{what}: {e}");
    }
}

/// What [`assert_conserved`] checks, as messages (empty: all conserved).
pub fn conservation_errors(s: &surge::simulation::RunSummary) -> Vec<String> {
    let mut errors = Vec::new();
    let mut check = |what: String,
                     arrived: u64,
                     outcomes: &indexmap::IndexMap<String, u64>,
                     in_flight: u64| {
        let ended: u64 = outcomes.values().sum();
        if arrived != ended + in_flight {
            errors.push(format!(
                "{what}: {arrived} arrived != outcomes {ended} ({outcomes:?}) + in flight {in_flight}"
            ));
        }
    };
    check(
        "requests".into(),
        s.arrivals,
        &s.outcomes,
        s.in_flight_at_end,
    );
    for (edge, c) in &s.calls {
        check(
            format!("edge {edge}"),
            c.calls,
            &c.outcomes,
            c.in_flight_at_end,
        );
    }
    for (service, svc) in &s.services {
        for (endpoint, e) in &svc.endpoints {
            check(
                format!("{service}.{endpoint} as served"),
                e.arrivals,
                &e.outcomes,
                e.in_flight_at_end,
            );
        }
    }
    // Every lookup is a hit or a miss; a miss waited for another's fill, or found an
    // expired entry, at most once each.
    for (name, c) in &s.caches {
        if c.hits + c.misses != c.lookups || c.coalesced > c.misses || c.expired > c.misses {
            errors.push(format!(
                "cache {name}: {} lookups != {} hits + {} misses, or more coalesced ({}) or expired ({}) than misses",
                c.lookups, c.hits, c.misses, c.coalesced, c.expired
            ));
        }
    }
    // Every read went one of four ways; only replica reads are checked for staleness; a
    // database lost what its failovers lost; reads and writes are queries some call made.
    for (name, d) in &s.databases {
        let routed = d.replica_reads + d.primary_reads + d.read_your_writes + d.fallback_reads;
        if d.reads != routed {
            errors.push(format!(
                "database {name}: {} reads != {} replica + {} primary + {} read-your-writes + {} fallback",
                d.reads, d.replica_reads, d.primary_reads, d.read_your_writes, d.fallback_reads
            ));
        }
        if d.stale_reads > d.checked_reads || d.checked_reads > d.replica_reads {
            errors.push(format!(
                "database {name}: {} stale reads of {} checked of {} on replicas",
                d.stale_reads, d.checked_reads, d.replica_reads
            ));
        }
        let lost: u64 = d.failovers.iter().map(|f| f.lost_writes).sum();
        if d.lost_writes != lost {
            errors.push(format!(
                "database {name}: {} lost writes != {lost} lost at its failovers",
                d.lost_writes
            ));
        }
    }
    // A sharded service has a query count for each of its shard services, its hottest
    // share is the busiest's over all, and every call to it is one query.
    for (name, sh) in &s.shards {
        let services = s.services.keys().filter(|k| is_shard_of(k, name)).count();
        if sh.queries.len() != services {
            errors.push(format!(
                "shards {name}: {} query counts for {services} shard services",
                sh.queries.len()
            ));
        }
        let total: u64 = sh.queries.iter().sum();
        let max = sh.queries.iter().copied().max().unwrap_or(0);
        let share = if total == 0 {
            0.0
        } else {
            max as f64 / total as f64
        };
        if !(0.0..=1.0).contains(&sh.hottest_share) || (sh.hottest_share - share).abs() > 1e-12 {
            errors.push(format!(
                "shards {name}: hottest share {} != {max} / {total}",
                sh.hottest_share
            ));
        }
        let prefix = format!("-> {name}.");
        let calls: u64 = s
            .calls
            .iter()
            .filter(|(edge, _)| edge.contains(&prefix))
            .map(|(_, c)| c.calls)
            .sum();
        if total != calls {
            errors.push(format!(
                "shards {name}: {total} queries != {calls} calls to it"
            ));
        }
    }
    errors
}

/// Whether `service` is one of the shard services (`<group>-<k>`) of sharded service `group`.
pub fn is_shard_of(service: &str, group: &str) -> bool {
    service
        .strip_prefix(group)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
}

/// The error `load_experiment` gives for `json`, which must be refused.
pub fn load_error(tag: &str, json: &str) -> String {
    let path = write_experiment(tag, json);
    match surge::config::load_experiment(&path) {
        Ok(_) => panic!("{tag}: the experiment was accepted"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `error` points at JSON path `path` and says `words`.
pub fn assert_error_at(error: &str, path: &str, words: &str) {
    assert!(
        error.contains(&format!("at `{path}`")),
        "expected the error to name `{path}`: {error}"
    );
    assert!(
        error.contains(words),
        "expected the error to say `{words}`: {error}"
    );
}

/// Erlang C: the probability that an arrival waits in M/M/c with offered load a = lambda/mu.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let top = term * f64::from(c) / (f64::from(c) - a);
    top / (sum + top)
}

/// Runs the `surge` binary with `args`.
pub fn surge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_surge"))
        .args(args)
        .output()
        .expect("the surge binary runs")
}

/// Asserts the command succeeded and returns its stdout.
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts the command was refused as bad input: exit code 2, no panic, and each of
/// `expected` in the message. Returns the message.
pub fn assert_bad_input(what: &str, o: &Output, expected: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{what}: exit code; stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: panicked: {stderr}");
    for e in expected {
        assert!(stderr.contains(e), "{what}: expected `{e}` in: {stderr}");
    }
    stderr
}

/// The summary of `variant`'s first replication.
pub fn summary_of<'a>(
    results: &'a [RunResult],
    variant: &str,
) -> &'a surge::simulation::RunSummary {
    &results
        .iter()
        .find(|r| r.variant == variant)
        .unwrap_or_else(|| panic!("no variant {variant}"))
        .output
        .summary
}
