//! Bugs found in review, each pinned by the smallest input that showed it.

use crate::support::{experiment, run, write_experiment};
use std::process::Command;

fn refused(tag: &str, json: &str, expected: &str) {
    let path = write_experiment(tag, json);
    let o = Command::new(env!("CARGO_BIN_EXE_surge"))
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{tag}: {stderr}");
    assert!(
        stderr.contains(expected),
        "{tag}: expected `{expected}` in {stderr}"
    );
}

fn one_service(service: &str, client: &str, extra: &str) -> String {
    format!(
        r#"{{ "model": {{ "services": {{ "api": {service} }} }},
        "workload": [ {client} ], "duration": "10s" {extra} }}"#
    )
}

const API: &str = r#"{ "replicas": 2, "instance": { "cores": 1 }, "endpoints": { "e": { "steps": [ { "cpu": "1ms" } ] } } }"#;
const OPEN: &str = r#"{ "kind": "open", "rate": { "kind": "constant", "rps": 10 }, "mix": [ { "service": "api", "endpoint": "e" } ] }"#;

#[test]
fn draining_instances_keep_their_cores_in_the_utilisation_denominator() {
    // Two 1-core instances busy with 10 s CPU steps; one is removed at 5 s with a long grace
    // period. Utilisation was reported as 137% when its cores left the denominator at once.
    let exp = experiment(
        "drain-util",
        r#"{ "model": { "services": { "api": { "replicas": 2, "instance": { "cores": 1 },
            "lifecycle": { "drain_timeout": "100s" }, "schedule": [ { "at": "5s", "replicas": 1 } ],
            "endpoints": { "e": { "steps": [ { "cpu": "10s" } ] } } } } },
          "workload": [ { "kind": "closed", "connections": 2, "mix": [ { "service": "api", "endpoint": "e" } ] } ],
          "duration": "40s", "resolution": "5s" }"#,
    );
    let r = &run(&exp)[0];
    assert!(r.output.summary.services["api"].cpu_utilisation <= 1.0 + 1e-12);
    assert!(
        r.output
            .timeseries
            .iter()
            .all(|row| row.services[0].cpu_utilisation <= 1.0 + 1e-12)
    );
}

#[test]
fn closed_loops_that_could_spin_at_one_instant_are_refused() {
    let closed = r#"{ "kind": "closed", "connections": 2, "error_pause": "0s", "mix": [ { "service": "api", "endpoint": "e" } ] }"#;
    refused(
        "error-pause-zero",
        &one_service(API, closed, ""),
        "error_pause must be longer than zero",
    );
    let instant = r#"{ "replicas": 1, "instance": { "cores": 1 }, "endpoints": { "e": { "steps": [ { "cpu": "0s" } ] } } }"#;
    let closed = r#"{ "kind": "closed", "connections": 2, "mix": [ { "service": "api", "endpoint": "e" } ] }"#;
    refused(
        "instant-endpoint",
        &one_service(instant, closed, ""),
        "takes no time and the client does not think",
    );
}

#[test]
fn huge_counts_are_refused_not_allocated() {
    refused(
        "huge-replicas",
        &one_service(
            &API.replace("\"replicas\": 2", "\"replicas\": 4000000000"),
            OPEN,
            "",
        ),
        "replicas must be a whole number from 0 to 100000",
    );
    refused(
        "huge-cores",
        &one_service(&API.replace("\"cores\": 1", "\"cores\": 70000"), OPEN, ""),
        "cores must be a whole number from 1 to 1024",
    );
    let many = r#"{ "kind": "closed", "connections": 4000000000, "think": "1s", "mix": [ { "service": "api", "endpoint": "e" } ] }"#;
    refused(
        "huge-connections",
        &one_service(API, many, ""),
        "connections must be a whole number from 1 to 1000000",
    );
    refused(
        "huge-replications",
        &one_service(API, OPEN, r#", "replications": 4000000000"#),
        "replications must be at most",
    );
    refused(
        "huge-rate",
        &one_service(API, &OPEN.replace("\"rps\": 10", "\"rps\": 1e308"), ""),
        "at most 1e9",
    );
}

#[test]
fn tiny_periods_are_refused() {
    refused(
        "tiny-slo-window",
        &one_service(
            API,
            OPEN,
            r#", "slo": { "latency": "1s", "window": "1ns" }"#,
        ),
        "SLO windows",
    );
    let hpa = API.replace(
        "\"endpoints\"",
        r#""autoscaler": { "kind": "hpa", "max_replicas": 5, "sync_period": "1ns" }, "endpoints""#,
    );
    refused("tiny-sync", &one_service(&hpa, OPEN, ""), "evaluations");
}

#[test]
fn names_that_appear_twice_are_refused() {
    let twice = r#"{ "replicas": 1, "instance": { "cores": 1 }, "endpoints": { "e": { "steps": [ { "cpu": "1ms" } ] }, "e": { "steps": [ { "cpu": "2ms" } ] } } }"#;
    refused(
        "dup-endpoint",
        &one_service(twice, OPEN, ""),
        "`e` appears twice",
    );
    refused(
        "dup-variant",
        &one_service(API, OPEN, r#", "variants": { "a": {}, "a": {} }"#),
        "`a` appears twice",
    );
}

#[test]
fn events_at_the_horizon_are_outside_the_run() {
    // One connection, 1 s of CPU per request, 10 s: the 10th response lands exactly at the
    // horizon. The summary and the time series must count the same requests.
    let exp = experiment(
        "horizon",
        r#"{ "model": { "services": { "api": { "replicas": 1, "instance": { "cores": 1 },
            "endpoints": { "e": { "steps": [ { "cpu": "1s" } ] } } } } },
          "workload": [ { "kind": "closed", "connections": 1, "mix": [ { "service": "api", "endpoint": "e" } ] } ],
          "duration": "10s", "slo": { "latency": "2s", "window": "5s" } }"#,
    );
    let r = &run(&exp)[0];
    let s = &r.output.summary;
    let ts_arrivals: u64 = r.output.timeseries.iter().map(|row| row.arrivals).sum();
    let ts_ok: u64 = r
        .output
        .timeseries
        .iter()
        .map(|row| row.outcomes.get(surge::metrics::Outcome::Ok))
        .sum();
    assert_eq!((s.arrivals, s.completed), (ts_arrivals, ts_ok));
    assert_eq!((s.arrivals, s.completed, s.in_flight_at_end), (10, 9, 1));
}

#[test]
fn the_bucket_ending_at_warm_up_keeps_its_event_loop_lag() {
    // A 1 s block at 0 holds the loop while a second request waits; warm-up ends at 5 s, on a
    // bucket edge. The first bucket must still report the lag.
    let exp = experiment(
        "warmup-lag",
        r#"{ "model": { "services": { "api": { "replicas": 1, "instance": { "cores": 1, "runtime": "event_loop" },
            "endpoints": { "e": { "steps": [ { "block": "1s" } ] } } } } },
          "workload": [ { "kind": "closed", "connections": 2, "think": "10s", "mix": [ { "service": "api", "endpoint": "e" } ] } ],
          "duration": "15s", "warmup": "5s", "resolution": "5s" }"#,
    );
    let r = &run(&exp)[0];
    assert!(
        r.output.timeseries[0].services[0].max_event_loop_lag_s >= 1.0,
        "{:?}",
        r.output.timeseries[0]
    );
}
