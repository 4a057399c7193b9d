//! Databases with read replicas: where queries run, how late replicas apply writes, which
//! reads are stale, and what a failover loses, checked against queueing theory and exact
//! scenario outcomes.

use crate::support::{assert_conserved, assert_error_at, experiment, load_error, repo, run};
use crate::support::{only, summary_of};

/// An API in front of a database with `DB` (its instances, endpoints and database block) and
/// the `CLIENTS` given.
const BASE: &str = r#"{ "model": { "keyspaces": { "users": KEYS },
    "services": {
      "api": { "replicas": 4, "instance": { "cores": 4 }, "endpoints": {
        "get": { "key": "users", "steps": [ { "call": { "service": "db", "endpoint": "read" } } ] },
        "put": { "key": "users", "steps": [ { "call": { "service": "db", "endpoint": "write" } } ] } } },
      "db": DB } },
    "workload": [ CLIENTS ], "duration": "DURATION", "warmup": "5s", "seed": 7 VARIANTS }"#;

fn clients(reads: f64, writes: f64) -> String {
    format!(
        r#"{{ "name": "readers", "kind": "open", "rate": {{ "kind": "constant", "rps": {reads} }}, "mix": [ {{ "service": "api", "endpoint": "get" }} ] }},
           {{ "name": "writers", "kind": "open", "rate": {{ "kind": "constant", "rps": {writes} }}, "mix": [ {{ "service": "api", "endpoint": "put" }} ] }}"#
    )
}

fn db(instances: u32, replication: &str, extra: &str) -> String {
    format!(
        r#"{{ "replicas": {instances}, "instance": {{ "cores": 8 }},
            "database": {{ "replication": {replication} {extra} }},
            "endpoints": {{ "read": {{ "query": "read", "steps": [ {{ "cpu": "10us" }} ] }},
                            "write": {{ "query": "write", "steps": [ {{ "cpu": "10us" }} ] }} }} }}"#
    )
}

fn build(keys: &str, db: &str, clients: &str, duration: &str, variants: &str) -> String {
    BASE.replace("KEYS", keys)
        .replace("DB", db)
        .replace("CLIENTS", clients)
        .replace("DURATION", duration)
        .replace("VARIANTS", variants)
}

/// Mercenary M-11 and FinPay F-17 (`experiments/read-replicas.json`): the primary alone needs
/// 5.7 of its 4 cores and collapses; two replicas take the reads. Each replica is an M/D/1
/// applier (300 writes/s, 0.5 ms each, rho = 0.15) 1 ms behind the primary: mean lag =
/// 1 ms + 0.5 ms + rho / (2 mu (1 - rho)) = 1.5441 ms (Pollaczek-Khinchine). 36,000 lags at
/// this load have a standard error near 0.003 ms; 0.02 ms is over five of them.
#[test]
fn read_replicas_take_the_reads_a_saturated_primary_cannot() {
    let exp = surge::config::load_experiment(&repo().join("experiments/read-replicas.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let results = run(&exp);
    let alone = summary_of(&results, "primary-only");
    assert!(alone.error_rate > 0.9, "error rate {}", alone.error_rate);
    let two = summary_of(&results, "2-replicas");
    assert_eq!(two.error_rate, 0.0);
    let d = &two.databases["database"];
    assert_eq!(d.reads, d.replica_reads, "every read on a replica");
    let rho: f64 = 300.0 / 2000.0;
    let expected = 0.001 + 0.0005 + rho / (2.0 * 2000.0 * (1.0 - rho));
    assert!(
        (d.lag_s.mean - expected).abs() < 2e-5,
        "mean lag {} vs M/D/1 {expected}",
        d.lag_s.mean
    );
    assert!(
        d.lag_s.max < 0.1,
        "M-11's 100 ms target holds: {}",
        d.lag_s.max
    );
    assert!(d.stale_reads > 0 && d.stale_fraction < 0.01, "{d:?}");
    // Go Coffee's scaler (G-19) at 10 s: reads/writes 2,700 / 301 = 8.97 > 5 asks for 2
    // replicas, the backlog on the one saturated replica (far over 80 open queries) one more.
    let scaled = summary_of(&results, "go-coffee-scaler");
    let first = &scaled.scaling_actions[0];
    assert_eq!((first.t_s, first.from, first.to), (10.0, 2, 4), "{first:?}");
    assert!(
        first.reason.contains("reads/writes 8.9"),
        "{}",
        first.reason
    );
    // Once the backlog is gone only the ratio's 2 replicas are left (3 instances).
    assert_eq!(scaled.services["database"].instances, 3);
    // A CPU rule on the whole database (M-19) averages the saturated replica with a primary
    // that only writes: 54% never crosses 70%, and it never scales.
    let cpu = summary_of(&results, "cpu-threshold");
    assert!(cpu.scaling_actions.is_empty());
    assert!(cpu.error_rate > 0.8);
    for r in &results {
        assert_conserved(&r.variant, &r.output.summary);
    }
}

/// Writes at 2,500/s against replicas that apply 2,000/s: each replica's applier never
/// idles, so a write committed at t is applied at about t lambda / mu, and the lag grows as
/// t (lambda / mu - 1) = 0.25 t. The per-bucket mean lag between 20 s and 50 s rises at that
/// slope; the commit times' Poisson noise (sqrt(n) / lambda, about 0.15 s at 50 s) keeps it
/// well within 0.02.
#[test]
fn replication_lag_grows_linearly_when_writes_outrun_the_apply_rate() {
    let json = build(
        r#"{ "kind": "uniform", "keys": 1000 }"#,
        &db(2, r#"{ "apply_rate": 2000 }"#, ""),
        &clients(100.0, 2500.0),
        "50s",
        "",
    );
    let exp = experiment("lag-linear", &json);
    let results = run(&exp);
    let r = only(&results);
    let rows = &r.output.timeseries;
    let lag_at = |t: f64| {
        rows.iter()
            .find(|row| row.t_s == t)
            .map(|row| row.databases[0].mean_lag_s())
            .unwrap()
    };
    let slope = (lag_at(45.0) - lag_at(20.0)) / 25.0;
    assert!((slope - 0.25).abs() < 0.02, "lag slope {slope}");
    let d = &r.output.summary.databases["db"];
    assert!(
        (d.lag_s.max - 0.25 * 50.0).abs() < 0.5,
        "max lag {}",
        d.lag_s.max
    );
}

/// Reads of a key written within the last L are stale on a replica L behind: with writes of
/// each of 100 uniform keys at w = 0.5/s and L = 200 ms (network; applying takes 1 us),
/// P(stale) = 1 - exp(-w L) = 0.0952. Read-your-writes with a 1 s window sends a key's reads
/// to the primary for 1 s after its write: 1 - exp(-w) = 0.3935 of them, and no replica read
/// is stale, because the window covers the lag (only a write during a 10 us read could slip
/// through). 25,000 reads: binomial standard errors 0.0019 and 0.0031; tolerance five.
#[test]
fn stale_reads_follow_the_lag_and_read_your_writes_avoids_them() {
    let json = build(
        r#"{ "kind": "uniform", "keys": 100 }"#,
        &db(3, r#"{ "apply_rate": 1000000, "network": "200ms" }"#, ""),
        &clients(500.0, 50.0),
        "55s",
        r#", "variants": { "round-robin": {}, "read-your-writes": { "services": { "db": { "database": { "replication": { "read_routing": "read_your_writes", "read_your_writes_window": "1s" } } } } } }"#,
    );
    let exp = experiment("stale-reads", &json);
    let results = run(&exp);
    let rr = &summary_of(&results, "round-robin").databases["db"];
    let p = 1.0 - (-0.5f64 * 0.2).exp();
    let se = (p * (1.0 - p) / rr.checked_reads as f64).sqrt();
    assert!(rr.checked_reads > 24_000, "{rr:?}");
    assert!(
        (rr.stale_fraction - p).abs() < 5.0 * se,
        "stale {} vs 1 - exp(-wL) = {p}",
        rr.stale_fraction
    );
    let ryw = &summary_of(&results, "read-your-writes").databases["db"];
    let q = 1.0 - (-0.5f64).exp();
    let share = ryw.read_your_writes as f64 / ryw.reads as f64;
    let se = (q * (1.0 - q) / ryw.reads as f64).sqrt();
    assert!(
        (share - q).abs() < 5.0 * se,
        "to the primary {share} vs {q}"
    );
    assert!(ryw.stale_fraction < 0.001, "{ryw:?}");
}

/// The primary dies at 10 s and a replica is promoted 5 s later: writes find no primary
/// meanwhile (about 5 s x 200 writes/s fail), reads go on at the replicas, the promotion
/// happens at exactly 15 s (the replica had long applied what it received), and the writes
/// of the last 100 ms before the failure, still on the network, are lost (about 20).
#[test]
fn a_failover_promotes_a_replica_and_counts_the_writes_it_lost() {
    let json = build(
        r#"{ "kind": "uniform", "keys": 1000 }"#,
        &db(
            3,
            r#"{ "apply_rate": 100000, "network": "100ms" }"#,
            r#", "failures": [ { "at": "10s", "fails": "primary", "promote_after": "5s" } ]"#,
        ),
        &clients(200.0, 200.0),
        "30s",
        "",
    );
    let exp = experiment("failover", &json);
    let results = run(&exp);
    let s = &only(&results).output.summary;
    assert_conserved("failover", s);
    let d = &s.databases["db"];
    assert_eq!(d.failovers.len(), 1);
    let f = &d.failovers[0];
    assert_eq!(f.failed_at_s, 10.0);
    assert_eq!(f.promoted_at_s, Some(15.0));
    assert!((5..=40).contains(&f.lost_writes), "lost {}", f.lost_writes);
    assert_eq!(d.lost_writes, f.lost_writes);
    let put = &s.endpoints["api.put"];
    let failed = put.outcomes["failed"];
    assert!((850..=1150).contains(&failed), "writes failed {failed}");
    let get = &s.endpoints["api.get"];
    assert!(
        get.outcomes["failed"] <= 5,
        "reads go on: {:?}",
        get.outcomes
    );
    // After the promotion every write succeeds again.
    let late_failures: u64 = only(&results)
        .output
        .timeseries
        .iter()
        .filter(|row| row.t_s >= 16.0)
        .map(|row| row.outcomes.get(surge::metrics::Outcome::Failed))
        .sum();
    assert_eq!(late_failures, 0);
}

#[test]
fn bad_databases_are_refused_with_their_path() {
    let keys = r#"{ "kind": "uniform", "keys": 10 }"#;
    let cl = clients(1.0, 1.0);
    let endpoints = r#""endpoints": { "read": { "query": "read", "steps": [ { "cpu": "1ms" } ] }, "write": { "query": "write", "steps": [ { "cpu": "1ms" } ] } }"#;
    for (tag, db, path, words) in [
        (
            "read-without-replicas",
            format!(r#"{{ "replicas": 1, "instance": {{ "cores": 1 }}, "database": {{}}, {endpoints} }}"#),
            "services.db.endpoints.read.query",
            "has none",
        ),
        (
            "query-off-a-database",
            format!(r#"{{ "replicas": 1, "instance": {{ "cores": 1 }}, {endpoints} }}"#),
            "services.db.endpoints.read.query",
            "give the service a `database`",
        ),
        (
            "missing-query",
            r#"{ "replicas": 1, "instance": { "cores": 1 }, "database": {}, "endpoints": { "read": { "steps": [ { "cpu": "1ms" } ] }, "write": { "query": "write", "steps": [ { "cpu": "1ms" } ] } } }"#.to_string(),
            "services.db.endpoints.read.query",
            "which query it is",
        ),
        (
            "zero-apply-rate",
            format!(r#"{{ "replicas": 2, "instance": {{ "cores": 1 }}, "database": {{ "replication": {{ "apply_rate": 0 }} }}, {endpoints} }}"#),
            "services.db.database.replication.apply_rate",
            "above 0",
        ),
        (
            "ryw-without-window",
            format!(r#"{{ "replicas": 2, "instance": {{ "cores": 1 }}, "database": {{ "replication": {{ "apply_rate": 10, "read_routing": "read_your_writes" }} }}, {endpoints} }}"#),
            "services.db.database.replication.read_your_writes_window",
            "give that window",
        ),
        (
            "no-promotion-delay",
            format!(r#"{{ "replicas": 2, "instance": {{ "cores": 1 }}, "database": {{ "replication": {{ "apply_rate": 10 }}, "failures": [ {{ "at": "1s", "fails": "primary" }} ] }}, {endpoints} }}"#),
            "services.db.database.failures[0].promote_after",
            "how long",
        ),
        (
            "failures-out-of-order",
            format!(r#"{{ "replicas": 2, "instance": {{ "cores": 1 }}, "database": {{ "replication": {{ "apply_rate": 10 }}, "failures": [ {{ "at": "2s", "fails": "replica" }}, {{ "at": "1s", "fails": "replica" }} ] }}, {endpoints} }}"#),
            "services.db.database.failures[1].at",
            "time order",
        ),
        (
            "no-primary",
            format!(r#"{{ "replicas": 0, "instance": {{ "cores": 1 }}, "database": {{ "replication": {{ "apply_rate": 10 }} }}, {endpoints} }}"#),
            "services.db.replicas",
            "at least 1",
        ),
    ] {
        let json = build(keys, &db, &cl, "1s", "");
        let e = load_error(tag, &json);
        assert_error_at(&e, &format!("model.{path}"), words);
    }
}

/// `database.svg` draws, per database, the replication lag (mean and longest per bucket) and
/// the stale reads, a line per variant: in `experiments/read-replicas.json` every variant
/// with replicas has its lines, and the primary alone, which has none, is marked in the
/// legend instead of drawn.
#[test]
fn database_plot_shows_lag_and_stale_reads_per_variant() {
    let out = crate::support::temp_dir("database-plot");
    let o = crate::support::surge(&[
        "run",
        "experiments/read-replicas.json",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(out.join("database.svg")).unwrap();
    let lines_in = |group: &str| {
        let open = format!("<g class=\"series\" data-series=\"{group}\">");
        assert!(svg.contains(&open), "no {group}");
        svg.lines()
            .skip_while(|l| *l != open)
            .skip(1)
            .take_while(|l| *l != "</g>")
            .filter(|l| l.starts_with("<polyline"))
            .count()
    };
    for variant in ["1-replica", "2-replicas", "5-replicas"] {
        for panel in ["mean lag", "longest lag", "stale reads"] {
            let group = format!("database {panel}: {variant}");
            assert!(lines_in(&group) >= 1, "{group} draws nothing");
        }
    }
    for panel in ["mean lag", "longest lag", "stale reads"] {
        assert_eq!(lines_in(&format!("database {panel}: primary-only")), 0);
    }
    for text in [
        "database: replication lag",
        "database: stale reads (% of replica reads)",
        "lag (ms)",
        "\nno replica traffic\n",
    ] {
        assert!(svg.contains(text), "{text}");
    }
}

/// `surge plot` redraws `database.svg` byte for byte from `timeseries.csv`, where the mean
/// lag is a float: with writes above the apply rate, five replicas and 10 s buckets, a
/// bucket's lags sum to about 2e15 ns, past where rounding mean x 1e9 x applied gives the
/// sum back, yet every mean read back is the one written, bit for bit.
#[test]
fn surge_plot_redraws_the_database_plot_from_timeseries_csv() {
    let json = build(
        r#"{ "kind": "uniform", "keys": 1000 }"#,
        &db(6, r#"{ "apply_rate": 2000, "network": "1ms" }"#, ""),
        &clients(500.0, 2500.0),
        "60s",
        r#", "resolution": "10s", "variants": { "slow": {}, "fast": { "services": { "db": { "database": { "replication": { "apply_rate": 5000 } } } } } }"#,
    );
    let path = crate::support::write_experiment("database-replot", &json);
    let out = path.parent().unwrap().join("out");
    let o = crate::support::surge(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(out.join("database.svg")).unwrap();
    assert!(svg.contains("lag (log scale)"), "ms beside seconds");
    let again = out.join("again");
    let o = crate::support::surge(&[
        "plot",
        out.join("report.json").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(again.join("database.svg")).unwrap(),
        svg
    );

    let exp = experiment("database-replot-lib", &json);
    let results = run(&exp);
    let report = surge::report::Report::new(&exp, &results);
    let csv = surge::report::timeseries_csv::render(&results);
    let read = surge::report::timeseries_csv::read_first_replications(&csv, &report).unwrap();
    let mut largest = 0u128;
    for (written, read) in results.iter().zip(&read) {
        assert_eq!(written.variant, read.variant);
        for (w, r) in written
            .output
            .timeseries
            .iter()
            .zip(&read.output.timeseries)
        {
            let (w, r) = (&w.databases[0], &r.databases[0]);
            assert_eq!(w.mean_lag_s().to_bits(), r.mean_lag_s().to_bits(), "{w:?}");
            assert_eq!(w.max_lag_ns, r.max_lag_ns);
            assert_eq!(w.stale_fraction().to_bits(), r.stale_fraction().to_bits());
            largest = largest.max(w.lag_ns);
        }
    }
    assert!(largest > 1_000_000_000_000_000, "largest sum {largest} ns");
}

/// A model without databases has no `database.svg`.
#[test]
fn no_database_plot_without_databases() {
    let plain = crate::support::temp_dir("no-database-plot");
    let o = crate::support::surge(&[
        "run",
        "experiments/quickstart.json",
        "--out",
        plain.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    assert!(plain.join("latency.svg").exists());
    assert!(!plain.join("database.svg").exists());
}
