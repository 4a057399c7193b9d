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
        "error_pause must be at least 100us",
    );
    let instant = r#"{ "replicas": 1, "instance": { "cores": 1 }, "endpoints": { "e": { "steps": [ { "cpu": "0s" } ] } } }"#;
    let closed = r#"{ "kind": "closed", "connections": 2, "mix": [ { "service": "api", "endpoint": "e" } ] }"#;
    refused(
        "instant-endpoint",
        &one_service(instant, closed, ""),
        "takes no time and the client does not think",
    );
    // A mixture of zeros is zero too, however it is written.
    let zeros = r#"{ "kind": "mixture", "components": [ { "weight": 1, "dist": "0s" },
        { "weight": 2, "dist": { "kind": "empirical", "values": ["0s", "0s"] } } ] }"#;
    refused(
        "instant-mixture-endpoint",
        &one_service(&instant.replace(r#""0s""#, zeros), closed, ""),
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

// Second review (issue 3's policies).

#[test]
fn a_spot_notice_longer_than_a_lifetime_does_not_stall_time() {
    // Lifetimes of about a minute with an hour's notice: no notice can be given, so each
    // instance simply goes at its interruption (before: a notice at the launch instant, a
    // replacement at the same instant, and so on for ever).
    let json = r#"{ "model": { "services": { "api": { "replicas": 2, "instance": { "cores": 1 },
            "cost": { "instance_type": "m5.large", "spot": { "interruptions_per_hour": 60, "notice": "1h" } },
            "endpoints": { "e": { "steps": [ { "cpu": "1ms" } ] } } } } },
        "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 10 },
            "mix": [ { "service": "api", "endpoint": "e" } ] } ],
        "duration": "30m" }"#
        .to_string();
    let r = &run(&experiment("spot-stall", &json))[0];
    let s = &r.output.summary;
    // About 2 instances x 60/h x 0.5 h = 60 interruptions.
    let n = s.services["api"].spot_interruptions;
    assert!((30..=100).contains(&n), "{n}");
    refused(
        "spot-rate",
        &one_service(
            r#"{ "replicas": 1, "instance": { "cores": 1 }, "cost": { "instance_type": "m5.large",
                "spot": { "interruptions_per_hour": 3600 } }, "endpoints": { "e": { "steps": [ { "cpu": "1ms" } ] } } }"#,
            OPEN,
            "",
        ),
        "between 0 and 60",
    );
}

#[test]
fn after_a_resize_the_hpa_divides_by_the_new_pods_requests() {
    // Four 8-core pods resized to 2 cores under 5.6 cores of work: the HPA must see ~70%+ of
    // the new 2000m requests and scale out (before: it kept dividing by 8000m and scaled in
    // to one pod while requests timed out).
    let json = r#"{
        "model": { "services": { "api": { "replicas": 4, "instance": { "cores": 8 },
            "lifecycle": { "startup": "5s", "readiness": "5s" },
            "schedule": [ { "at": "5m", "resize": { "instance": { "cores": 2 }, "strategy": "rolling" } } ],
            "autoscaler": { "kind": "hpa", "min_replicas": 1, "max_replicas": 20,
                "metrics": [ { "type": "Resource", "name": "cpu", "target": { "type": "Utilization", "average_utilization": 70 } } ] },
            "endpoints": { "e": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } } ] } } } } },
        "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 560 },
            "mix": [ { "service": "api", "endpoint": "e" } ], "timeout": "10s" } ],
        "duration": "20m", "seed": 3
    }"#;
    let r = &run(&experiment("hpa-resize", json))[0];
    let s = &r.output.summary;
    let last = r.output.timeseries.last().unwrap();
    assert!(last.services[0].desired >= 4, "{:?}", s.scaling_actions);
    assert!(s.error_rate < 0.05, "{}", s.error_rate);
}

#[test]
fn resizing_back_to_the_reserved_type_restores_the_reservation() {
    // 4 reserved m5.large for 3 h; 1 minute on m5.2xlarge in between. Expected: the
    // reservation (4 x 0.060 x 3) plus one minute of 4 m5.2xlarge on demand (4 x 0.384 / 60).
    let json = r#"{
        "model": { "services": { "api": { "replicas": 4, "instance": { "cores": 2 },
            "cost": { "instance_type": "m5.large", "reserved": 4 },
            "schedule": [
                { "at": "1h", "resize": { "instance": { "cores": 8 }, "instance_type": "m5.2xlarge" } },
                { "at": "1h1m", "resize": { "instance": { "cores": 2 }, "instance_type": "m5.large" } } ],
            "endpoints": { "e": { "steps": [ { "cpu": "1ms" } ] } } } } },
        "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 5 },
            "mix": [ { "service": "api", "endpoint": "e" } ] } ],
        "duration": "3h", "seed": 3
    }"#;
    let r = &run(&experiment("reprice-back", json))[0];
    let usd = r.output.summary.cost_usd.unwrap();
    let expected = 4.0 * 0.060 * 3.0 + 4.0 * 0.384 / 60.0;
    assert!((usd - expected).abs() < 1e-9, "{usd} vs {expected}");
}

#[test]
fn keda_raises_a_pool_below_its_minimum_without_waiting_for_work() {
    let json = r#"{
        "model": { "services": { "workers": { "replicas": 0, "instance": { "cores": 1, "concurrency_limit": 2 },
            "balancer": { "kind": "queue" },
            "autoscaler": { "kind": "keda", "min_replicas": 2, "max_replicas": 10, "target": 5 },
            "endpoints": { "job": { "steps": [ { "cpu": "100ms" } ] } } } } },
        "workload": [ { "kind": "open", "rate": { "kind": "points", "interpolation": "step",
            "points": [ { "at": "0s", "rps": 0 }, { "at": "10m", "rps": 1 } ] },
            "mix": [ { "service": "workers", "endpoint": "job" } ] } ],
        "duration": "12m", "seed": 3
    }"#;
    let r = &run(&experiment("keda-min", json))[0];
    let first = &r.output.summary.scaling_actions[0];
    assert_eq!((first.t_s, first.from, first.to), (30.0, 0, 2));
}

#[test]
fn a_model_files_history_trace_is_read_beside_the_model_in_variants_too() {
    let dir = crate::support::temp_dir("history-dir");
    std::fs::create_dir_all(dir.join("models/traces")).unwrap();
    std::fs::create_dir_all(dir.join("experiments")).unwrap();
    let mut csv = String::from("t_seconds,requests\n");
    for k in 0..120 {
        csv.push_str(&format!("{},{}\n", k * 60, 600));
    }
    std::fs::write(dir.join("models/traces/history.csv"), csv).unwrap();
    std::fs::write(
        dir.join("models/m.json"),
        r#"{ "services": { "api": { "replicas": 2, "instance": { "cores": 1 },
            "autoscaler": { "kind": "predictive", "min_replicas": 1, "max_replicas": 10, "cpu_target": 0.7,
                "forecasters": [ { "kind": "linear_trend", "window": "5m" } ],
                "history": { "rate": { "kind": "trace", "file": "traces/history.csv" }, "duration": "2h" } },
            "endpoints": { "e": { "steps": [ { "cpu": "1ms" } ] } } } } }"#,
    )
    .unwrap();
    let exp = dir.join("experiments/e.json");
    std::fs::write(
        &exp,
        r#"{ "model": "../models/m.json",
            "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 10 },
                "mix": [ { "service": "api", "endpoint": "e" } ] } ],
            "duration": "1m", "variants": { "a": {}, "b": { "services": { "api": { "replicas": 3 } } } } }"#,
    )
    .unwrap();
    surge::config::load_experiment(&exp).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn composite_profiles_are_held_to_the_rate_limit() {
    refused(
        "product-cap",
        &one_service(
            API,
            r#"{ "kind": "open", "rate": { "kind": "product", "of": [ { "kind": "constant", "rps": 1e9 }, { "kind": "constant", "rps": 1e9 } ] },
                "mix": [ { "service": "api", "endpoint": "e" } ] }"#,
            "",
        ),
        "peaks at",
    );
}

#[test]
fn a_spot_notice_drains_within_the_grace_period() {
    // Requests of 5 minutes of I/O, a 30 s grace period and a 2-minute notice: what a warned
    // instance holds at the end of the grace period is killed, before the interruption.
    let json = r#"{
        "model": { "services": { "api": { "replicas": 2, "instance": { "cores": 1 },
            "cost": { "instance_type": "m5.large", "spot": { "interruptions_per_hour": 6, "notice": "2m" } },
            "lifecycle": { "drain_timeout": "30s" },
            "endpoints": { "e": { "steps": [ { "io": "5m" } ] } } } } },
        "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 1 },
            "mix": [ { "service": "api", "endpoint": "e" } ] } ],
        "duration": "2h", "seed": 8
    }"#;
    let r = &run(&experiment("spot-grace", json))[0];
    let s = &r.output.summary;
    assert!(s.services["api"].spot_interruptions > 0);
    // Killed at the grace deadline, not left to the interruption. (Instances whose lifetime
    // is shorter than the notice get none, and their requests end `interrupted`.)
    assert!(s.outcomes["killed"] > 0);
}
