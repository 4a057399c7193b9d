//! Autoscaling policies, the memory model, worker pools and scenario rate profiles, checked
//! end to end: experiment JSON in, summary and time series out.
//!
//! - Policies never peek: runs whose traffic differs only after a time T decide identically
//!   up to T (predictive, target tracking, threshold, HPA).
//! - Memory: OOM kills, the kubelet's crash back-off, admission limits that keep memory under
//!   the limit, and the HPA's memory metric.
//! - Target tracking's alarms (3 datapoints out, 15 in, gradual scale-in) and KEDA's worker
//!   pool (activation from zero, HPA rate limits, scale to zero after the cool-down).
//! - A worker pool of 4 workers is an M/M/4 queue (Erlang C).
//! - Scenario rate profiles send the integral of their documented shape.
//! - The bundled Black Friday experiment is deterministic across thread counts.

use crate::support::{
    assert_conserved, assert_error_at, erlang_c, experiment, load_error, only, repo, run,
};
use surge::experiment::stats::t_quantile;
use surge::experiment::{ExecuteOptions, RunResult, run_experiment};
use surge::kernel::SimDuration;
use surge::metrics::Outcome;
use surge::metrics::timeseries::TimeSeriesRow;
use surge::report::Report;
use surge::simulation::ScalingAction;
use surge::workload::ClientKind;

// ---------------------------------------------------------------------------------------------
// Policies never peek.

/// When the two traffic profiles part.
const PART_S: f64 = 900.0;

/// The service `api` of 1-core instances (about 100 req/s each at 10 ms of exponential CPU)
/// with `policy`, under 100 -> 180 -> 320 req/s steps and then `after` req/s from 15 minutes.
fn parting_json(policy: &str, after: f64) -> String {
    format!(
        r#"{{
        "model": {{ "services": {{ "api": {{ "replicas": 2,
            "instance": {{ "cores": 1, "concurrency_limit": 32, "queue_limit": 64 }},
            "lifecycle": {{ "provisioning": "20s", "startup": "10s", "readiness": "5s" }},
            "autoscaler": {policy},
            "endpoints": {{ "work": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "10ms" }} }} ] }} }} }} }} }},
        "workload": [ {{ "name": "users", "kind": "open",
            "rate": {{ "kind": "points", "interpolation": "step", "points": [
                {{ "at": "0s", "rps": 100 }}, {{ "at": "3m", "rps": 180 }}, {{ "at": "8m", "rps": 320 }},
                {{ "at": "15m", "rps": {after} }} ] }},
            "mix": [ {{ "service": "api", "endpoint": "work" }} ] }} ],
        "duration": "20m", "seed": 77
    }}"#
    )
}

fn actions_until(r: &RunResult, t_s: f64) -> Vec<ScalingAction> {
    r.output
        .summary
        .scaling_actions
        .iter()
        .filter(|a| a.t_s <= t_s)
        .cloned()
        .collect()
}

fn rows_ending_by(r: &RunResult, t_s: f64) -> Vec<TimeSeriesRow> {
    r.output
        .timeseries
        .iter()
        .filter(|row| row.t_s + row.width_s <= t_s + 1e-9)
        .cloned()
        .collect()
}

fn peak_desired(r: &RunResult) -> u32 {
    r.output
        .timeseries
        .iter()
        .map(|row| row.services[0].desired)
        .max()
        .unwrap()
}

#[test]
fn policies_decide_identically_until_the_traffic_differs_and_never_anticipate_a_spike() {
    // Two runs share everything up to T = 15 min; then one stays at 320 req/s and the other
    // jumps 10x. With common random numbers everything before T is the same dice, so a policy
    // that only sees the past must take the same actions, at the same times, for the same
    // reasons, up to and including T (an evaluation at T has seen only what came before it),
    // and the spike variant must not scale up before T more than the flat one does.
    let policies = [
        (
            "predictive linear trend",
            r#"{"kind":"predictive","min_replicas":2,"max_replicas":40,"period":"1m","cpu_target":0.7,
                "forecasters":[{"kind":"linear_trend","window":"5m"}]}"#,
        ),
        (
            "predictive Holt-Winters with history",
            r#"{"kind":"predictive","min_replicas":2,"max_replicas":40,"period":"1m","cpu_target":0.7,
                "forecasters":[{"kind":"holt_winters","season":"30m"},{"kind":"linear_trend","window":"5m"}],
                "history":{"rate":{"kind":"diurnal","mean_rps":300,"amplitude":0.5,"period":"30m"},"duration":"2h"}}"#,
        ),
        (
            "target tracking",
            r#"{"kind":"target_tracking","metric":"cpu","target":0.5,"min_replicas":2,"max_replicas":40,"instance_warmup":"1m"}"#,
        ),
        (
            "threshold",
            r#"{"kind":"threshold","min_replicas":2,"max_replicas":40,"period":"1m","cooldown":"2m",
                "scale_out":[{"metric":"cpu","above":0.7,"for":"2m","step":2}],
                "scale_in":[{"metric":"cpu","below":0.2,"for":"5m","step":1}]}"#,
        ),
        (
            "hpa",
            r#"{"kind":"hpa","min_replicas":2,"max_replicas":40,
                "metrics":[{"type":"Resource","name":"cpu","target":{"type":"Utilization","average_utilization":70}}]}"#,
        ),
    ];
    for (name, policy) in policies {
        let flat = run(&experiment("parting-flat", &parting_json(policy, 320.0)));
        let spike = run(&experiment("parting-spike", &parting_json(policy, 3200.0)));
        let (flat, spike) = (only(&flat), only(&spike));
        let before = actions_until(flat, PART_S);
        assert!(
            !before.is_empty(),
            "{name}: the steps before T should make the policy act, or the test shows nothing"
        );
        assert_eq!(
            before,
            actions_until(spike, PART_S),
            "{name}: actions up to T differ"
        );
        // Same arrivals (and everything else) bucket by bucket before T.
        let rows = rows_ending_by(flat, PART_S);
        assert_eq!(rows.len(), 900, "{name}");
        assert_eq!(
            rows,
            rows_ending_by(spike, PART_S),
            "{name}: time series before T differ"
        );
        // The profiles do differ after T, and the policy reacts only then.
        let after = |r: &RunResult| -> u64 {
            r.output
                .timeseries
                .iter()
                .filter(|row| row.t_s >= PART_S)
                .map(|row| row.arrivals)
                .sum()
        };
        assert!(
            after(spike) > 5 * after(flat),
            "{name}: the spike is in the traffic"
        );
        assert!(
            spike
                .output
                .summary
                .scaling_actions
                .iter()
                .any(|a| a.t_s > PART_S && a.to > a.from),
            "{name}: no scale-up after the spike"
        );
        assert!(
            peak_desired(spike) > peak_desired(flat),
            "{name}: the spike should ask for more than the flat load"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Memory.

/// One 1-core instance with 100 MiB base + 10 MiB per open request under a 200 MiB limit (so
/// an 11th open request kills it), under 300 req/s of 10 ms CPU (3x its capacity).
fn memory_json(admission: &str, duration: &str) -> String {
    format!(
        r#"{{
        "model": {{ "services": {{ "api": {{ "replicas": 1,
            "instance": {{ "cores": 1, {admission}
                "memory": {{ "base": "100MiB", "per_request": "10MiB", "limit": "200MiB" }} }},
            "lifecycle": {{ "startup": "6s", "readiness": "4s" }},
            "endpoints": {{ "work": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "10ms" }} }} ] }} }} }} }} }},
        "workload": [ {{ "name": "users", "kind": "open", "rate": {{ "kind": "constant", "rps": 300 }},
            "mix": [ {{ "service": "api", "endpoint": "work" }} ] }} ],
        "duration": "{duration}", "resolution": "100ms", "seed": 5
    }}"#
    )
}

#[test]
fn overload_without_admission_limits_is_oom_killed_and_restarts_with_the_kubelet_back_off() {
    // Without a concurrency limit the open requests grow until the 11th pushes the process
    // over its limit: it dies with what it held (`oom_killed`), and comes back after the
    // kubelet's back-off (10 s, doubling per crash in a row, at most 300 s) plus start-up (6 s)
    // and readiness (4 s); under the same overload it dies again at once. So the kills are
    // 20, 30, 50, 90, 170, 310 s apart.
    let results = run(&experiment("oom", &memory_json("", "700s")));
    let r = only(&results);
    let s = &r.output.summary;
    assert!(s.outcomes["oom_killed"] > 0, "{:?}", s.outcomes);
    assert!(
        s.outcomes["no_instance"] > 0,
        "while it restarts nothing serves"
    );
    assert_conserved("oom", s);
    let kills: Vec<f64> = r
        .output
        .timeseries
        .iter()
        .filter(|row| row.outcomes.get(Outcome::OomKilled) > 0)
        .map(|row| row.t_s)
        .collect();
    let gaps: Vec<f64> = kills.windows(2).map(|w| w[1] - w[0]).collect();
    let expected = [20.0, 30.0, 50.0, 90.0, 170.0, 310.0];
    assert_eq!(gaps.len(), expected.len(), "kills at {kills:?}");
    for (gap, want) in gaps.iter().zip(expected) {
        // The next kill follows readiness within a fraction of a second at 3x overload.
        assert!(
            *gap >= want - 0.15 && *gap <= want + 1.0,
            "kills at {kills:?}: gap {gap} s, expected {want} s"
        );
    }
    // The instance is ready again between kills.
    let rows = &r.output.timeseries;
    let instances_at = |t: f64| {
        rows.iter()
            .find(|row| (row.t_s - t).abs() < 1e-6)
            .unwrap()
            .services[0]
            .instances
    };
    assert_eq!(instances_at(kills[0] + 5.0), 0, "dead during the back-off");
    assert!(
        rows.iter()
            .any(|row| row.t_s > kills[0] && row.services[0].instances == 1),
        "it never came back"
    );
    assert_eq!(
        s.services["api"].instances_started, 1,
        "restarts are not new instances"
    );
}

#[test]
fn the_crash_back_off_resets_after_ten_minutes_of_serving() {
    // Short bursts of 3x overload at 0 s, 30 s and 700 s, with 10 req/s (a tenth of capacity)
    // between them. The first kill waits 10 s, the second (a crash in a row) 20 s; by the
    // third the instance has served for over 10 minutes since it last became ready, which
    // forgives the earlier crashes, so it waits 10 s again. Each restart then takes 10 s of
    // start-up and readiness.
    let json = r#"{
        "model": { "services": { "api": { "replicas": 1,
            "instance": { "cores": 1, "memory": { "base": "100MiB", "per_request": "10MiB", "limit": "200MiB" } },
            "lifecycle": { "startup": "6s", "readiness": "4s" },
            "endpoints": { "work": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } } ] } } } } },
        "workload": [ { "name": "users", "kind": "open",
            "rate": { "kind": "points", "interpolation": "step", "points": [
                { "at": "0s", "rps": 300 }, { "at": "2s", "rps": 10 },
                { "at": "30s", "rps": 300 }, { "at": "32s", "rps": 10 },
                { "at": "700s", "rps": 300 }, { "at": "702s", "rps": 10 } ] },
            "mix": [ { "service": "api", "endpoint": "work" } ] } ],
        "duration": "760s", "resolution": "100ms", "seed": 6
    }"#;
    let results = run(&experiment("oom-reset", json));
    let r = only(&results);
    assert_conserved("oom-reset", &r.output.summary);
    let rows = &r.output.timeseries;
    // (down, up): bucket starts where the instance leaves and rejoins the balancer.
    let mut outages = Vec::new();
    let mut down = None;
    for row in rows {
        match (row.services[0].instances, down) {
            (0, None) => down = Some(row.t_s),
            (1, Some(d)) => {
                outages.push((d, row.t_s));
                down = None;
            }
            _ => {}
        }
    }
    assert_eq!(outages.len(), 3, "{outages:?}");
    for ((d, u), want) in outages.iter().zip([20.0, 30.0, 20.0]) {
        assert!(
            (u - d - want).abs() <= 0.21,
            "outages {outages:?}: expected {want} s of back-off, start-up and readiness"
        );
    }
    assert!((700.0..701.0).contains(&outages[2].0), "{outages:?}");
}

#[test]
fn admission_limits_that_bound_open_requests_keep_memory_under_the_limit() {
    // 4 in progress + 6 waiting = 10 open requests = exactly 200 MiB, at (not over) the limit:
    // the same overload is shed as 503s and nothing is OOM-killed.
    let results = run(&experiment(
        "no-oom",
        &memory_json(r#""concurrency_limit": 4, "queue_limit": 6,"#, "100s"),
    ));
    let r = only(&results);
    let s = &r.output.summary;
    assert_eq!(s.outcomes["oom_killed"], 0, "{:?}", s.outcomes);
    assert!(s.outcomes["rejected"] > 0 && s.outcomes["ok"] > 5000);
    assert_eq!(s.outcomes["no_instance"], 0);
    assert_conserved("no-oom", s);
    // One more waiting slot is one request too many.
    let results = run(&experiment(
        "oom-by-one",
        &memory_json(r#""concurrency_limit": 4, "queue_limit": 7,"#, "100s"),
    ));
    let r = only(&results);
    assert!(r.output.summary.outcomes["oom_killed"] > 0);
    assert_conserved("oom-by-one", &r.output.summary);
}

/// A one-service experiment whose instance has `memory` and `autoscaler` (JSON or empty).
fn memory_config_json(memory: &str, autoscaler: &str) -> String {
    format!(
        r#"{{ "model": {{ "services": {{ "api": {{ "replicas": 1,
            "instance": {{ "cores": 1 {memory} }} {autoscaler},
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": "1ms" }} ] }} }} }} }} }},
        "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": 1 }},
            "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ],
        "duration": "1m" }}"#
    )
}

#[test]
fn impossible_memory_configurations_are_refused_with_their_json_path() {
    let mem = "model.services.api.instance.memory";
    let cases = [
        (
            r#", "memory": { "base": "200MiB", "limit": "200MiB" }"#,
            "",
            format!("{mem}.base"),
            "could never start",
        ),
        (
            r#", "memory": { "base": "300MiB", "limit": "200MiB" }"#,
            "",
            format!("{mem}.base"),
            "not under its limit",
        ),
        (
            r#", "memory": { "base": "-100MiB", "limit": "200MiB" }"#,
            "",
            format!("{mem}.base"),
            "between zero and 1 PB",
        ),
        (
            r#", "memory": { "base": "100MiB", "per_request": "-1MiB", "limit": "200MiB" }"#,
            "",
            format!("{mem}.per_request"),
            "per_request",
        ),
        (
            r#", "memory": { "base": "100MiB", "limit": "-2GiB" }"#,
            "",
            format!("{mem}.limit"),
            "limit",
        ),
        (
            r#", "memory": { "base": "100MiB", "request": "0" }"#,
            "",
            format!("{mem}.request"),
            "request",
        ),
        (
            "",
            r#", "autoscaler": { "kind": "hpa", "max_replicas": 5, "metrics": [
                { "type": "Resource", "name": "memory", "target": { "type": "Utilization", "average_utilization": 80 } } ] }"#,
            "model.services.api.autoscaler.metrics[0]".to_string(),
            "memory model",
        ),
        (
            "",
            r#", "autoscaler": { "kind": "threshold", "min_replicas": 1, "max_replicas": 5,
                "scale_out": [ { "metric": "memory", "above": 0.8 } ] }"#,
            "model.services.api.autoscaler.scale_out[0].metric".to_string(),
            "memory model",
        ),
    ];
    for (k, (memory, autoscaler, path, words)) in cases.iter().enumerate() {
        let e = load_error(
            &format!("bad-memory-{k}"),
            &memory_config_json(memory, autoscaler),
        );
        assert_error_at(&e, path, words);
    }
}

#[test]
fn hpa_on_memory_utilisation_scales_out_when_open_requests_fill_memory() {
    // 100 MiB base + 10 MiB per open request over a 200 MiB request; 200 ms of I/O per
    // request. At 30 req/s three pods hold 2 requests each (60%, under the 70% target); at
    // 150 req/s they hold 10 each (100%), so the HPA asks for ceil(3 x 100 / 70) = 5 pods, and
    // at n pods utilisation is (100 + 300 / n) / 200: the target is met from about 8 pods. CPU
    // stays near 5%, so memory alone drives the scaling.
    let json = r#"{
        "model": { "services": { "api": { "replicas": 3,
            "instance": { "cores": 1, "memory": { "base": "100MiB", "per_request": "10MiB", "request": "200MiB", "limit": "1GiB" } },
            "lifecycle": { "startup": "5s", "readiness": "5s" },
            "autoscaler": { "kind": "hpa", "min_replicas": 3, "max_replicas": 20,
                "metrics": [ { "type": "Resource", "name": "memory", "target": { "type": "Utilization", "average_utilization": 70 } } ] },
            "endpoints": { "work": { "steps": [ { "cpu": "1ms" }, { "io": "200ms" } ] } } } } },
        "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "step", "from_rps": 30, "to_rps": 150, "at": "2m" },
            "mix": [ { "service": "api", "endpoint": "work" } ] } ],
        "duration": "10m", "resolution": "10s", "seed": 8
    }"#;
    let results = run(&experiment("hpa-memory", json));
    let r = only(&results);
    let s = &r.output.summary;
    let actions = &s.scaling_actions;
    assert!(!actions.is_empty(), "no scaling");
    assert!(
        actions.iter().all(|a| a.t_s > 120.0),
        "nothing to do before the step: {actions:?}"
    );
    assert!(
        actions.iter().all(|a| a.reason.contains("memory")),
        "{actions:?}"
    );
    let first = &actions[0];
    assert_eq!(first.from, 3);
    assert!((4..=6).contains(&first.to), "{first:?}");
    let desired = s.services["api"].desired_replicas;
    assert!((7..=10).contains(&desired), "settled at {desired}");
    assert_eq!(s.outcomes["oom_killed"], 0);
    assert_conserved("hpa-memory", s);
}

// ---------------------------------------------------------------------------------------------
// Target tracking.

#[test]
fn target_tracking_scales_out_after_three_datapoints_and_in_gradually_after_fifteen() {
    // 20 one-core instances at 20% CPU; at 5 min the load quadruples (80%), at 15 min it
    // drops back. The agent publishes each instance's datapoint once a minute and the policy
    // sees the one published before its evaluation, so the first breaching datapoint (the
    // minute 300-360 s) is seen at 420 s and the third at 540 s: scale-out to
    // ceil(20 x cpu / 0.5). After the drop, the 15th low datapoint is seen at 1,860 s; each
    // scale-in removes at most 10% of the fleet, one per 5-minute cool-down.
    let step_s = 300.0;
    let drop_s = 900.0;
    let json = r#"{
        "model": { "services": { "api": { "replicas": 20,
            "instance": { "cores": 1 },
            "autoscaler": { "kind": "target_tracking", "metric": "cpu", "target": 0.5,
                "min_replicas": 2, "max_replicas": 60, "period": "60s" },
            "endpoints": { "work": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } } ] } } } } },
        "workload": [ { "name": "users", "kind": "open",
            "rate": { "kind": "points", "interpolation": "step", "points": [
                { "at": "0s", "rps": 400 }, { "at": "5m", "rps": 1600 }, { "at": "15m", "rps": 400 } ] },
            "mix": [ { "service": "api", "endpoint": "work" } ] } ],
        "duration": "2500s", "seed": 8
    }"#;
    let results = run(&experiment("target-tracking", json));
    let r = only(&results);
    let actions = &r.output.summary.scaling_actions;
    let rows = &r.output.timeseries;
    let mean_cpu = |from: f64, to: f64| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|row| row.t_s >= from && row.t_s < to)
            .map(|row| row.services[0].cpu_utilisation)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let out = actions.iter().find(|a| a.to > a.from).expect("a scale-out");
    assert!(
        actions.iter().take_while(|a| a.to > a.from).count() == 1,
        "one proportional scale-out, not a staircase: {actions:?}"
    );
    assert!(
        out.t_s >= step_s + 180.0 && out.t_s <= step_s + 240.0,
        "3 datapoints plus one publication delay after the step: {out:?}"
    );
    assert_eq!(out.t_s, 540.0, "{out:?}");
    assert!(out.reason.contains("above") && out.reason.contains("3 datapoints"));
    // The datapoint the decision used covers [t - 120 s, t - 60 s).
    let cpu = mean_cpu(out.t_s - 120.0, out.t_s - 60.0);
    let needed = (20.0 * cpu / 0.5).ceil() as u32;
    assert!((0.75..0.85).contains(&cpu), "{cpu}");
    assert_eq!(
        (out.from, out.to),
        (20, needed),
        "ceil(20 x {cpu:.3} / 0.5)"
    );
    // Nothing scales in before the step: fewer than 15 low datapoints.
    assert!(actions.iter().all(|a| a.t_s > step_s));
    let ins: Vec<&ScalingAction> = actions.iter().filter(|a| a.to < a.from).collect();
    assert!(ins.len() >= 2, "{actions:?}");
    assert!(
        ins[0].t_s >= drop_s + 15.0 * 60.0 && ins[0].t_s <= drop_s + 16.0 * 60.0,
        "15 low datapoints after the drop: {:?}",
        ins[0]
    );
    assert!(ins[0].reason.contains("below") && ins[0].reason.contains("15 datapoints"));
    for a in &ins {
        let most = (a.from / 10).max(1);
        assert!(a.from - a.to <= most, "at most 10% per scale-in: {a:?}");
    }
    assert_eq!(
        ins[0].from - ins[0].to,
        3,
        "from 32, 10% is 3 instances: {:?}",
        ins[0]
    );
    assert!(
        ins.windows(2).all(|w| w[1].t_s - w[0].t_s >= 300.0),
        "scale-in cool-down: {ins:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// KEDA worker pools.

#[test]
fn keda_activates_a_pool_from_zero_scales_by_backlog_and_returns_to_zero() {
    // A pool starting at 0 replicas; workers are 2 slots on 1 core, each job 500 ms of CPU.
    // 600 jobs arrive in 60-90 s, 50 more in 600-610 s. Jobs that arrive with no replica wait
    // in the queue (none is `no_instance`). KEDA polls every 10 s: it activates the pool (to 1)
    // when the queue is non-empty, then its HPA asks for ceil(queue / 10) within the legacy
    // scale-up limit max(2 x current, 4) and max_replicas 20, and after 60 s of an empty queue
    // it scales to 0.
    let json = r#"{
        "model": { "services": { "workers": { "replicas": 0,
            "instance": { "cores": 1, "concurrency_limit": 2 },
            "balancer": { "kind": "queue" },
            "lifecycle": { "startup": "5s" },
            "autoscaler": { "kind": "keda", "min_replicas": 0, "max_replicas": 20, "target": 10,
                "polling_interval": "10s", "cooldown_period": "60s" },
            "endpoints": { "job": { "steps": [ { "cpu": "500ms" } ] } } } } },
        "workload": [ { "name": "producer", "kind": "open",
            "rate": { "kind": "points", "interpolation": "step", "points": [
                { "at": "0s", "rps": 0 }, { "at": "60s", "rps": 20 }, { "at": "90s", "rps": 0 },
                { "at": "600s", "rps": 5 }, { "at": "610s", "rps": 0 } ] },
            "mix": [ { "service": "workers", "endpoint": "job" } ] } ],
        "duration": "900s", "seed": 8
    }"#;
    let results = run(&experiment("keda", json));
    let r = only(&results);
    let s = &r.output.summary;
    assert_eq!(s.outcomes["no_instance"], 0, "{:?}", s.outcomes);
    assert_eq!(s.outcomes["ok"], s.arrivals, "every job is done");
    assert_conserved("keda", s);
    let actions = &s.scaling_actions;
    // Two activations from zero, each when the first poll finds messages.
    let activations: Vec<&ScalingAction> = actions.iter().filter(|a| a.from == 0).collect();
    assert_eq!(activations.len(), 2, "{actions:?}");
    assert_eq!((activations[0].t_s, activations[0].to), (70.0, 1));
    assert_eq!((activations[1].t_s, activations[1].to), (610.0, 1));
    assert!(activations.iter().all(|a| a.reason.contains("activated")));
    // Scale-ups from one replica on follow the HPA's limits.
    for a in actions.iter().filter(|a| a.from > 0 && a.to > a.from) {
        assert!(
            a.to <= (2 * a.from).max(4) && a.to <= 20,
            "scale-up beyond the HPA's rate limit: {a:?}"
        );
        assert!(a.reason.contains("keda (hpa)"), "{a:?}");
    }
    // The first burst's backlog (~200 at 80 s, then more) wants far more than 20: it reaches
    // the maximum. The second (~50 messages) wants ceil(50 / 10) = 5, give or take the queue
    // draining meanwhile.
    assert_eq!(
        actions.iter().filter(|a| a.t_s < 600.0).map(|a| a.to).max(),
        Some(20)
    );
    let second_peak = actions
        .iter()
        .filter(|a| a.t_s >= 600.0)
        .map(|a| a.to)
        .max()
        .unwrap();
    assert!((4..=6).contains(&second_peak), "{actions:?}");
    // Back to zero once the queue has been empty for the cool-down, not before.
    let rows = &r.output.timeseries;
    let to_zero: Vec<&ScalingAction> = actions.iter().filter(|a| a.to == 0).collect();
    assert_eq!(to_zero.len(), 2, "{actions:?}");
    for z in &to_zero {
        assert!(z.reason.contains("scaled to zero"), "{z:?}");
        let busy_until = rows
            .iter()
            .filter(|row| row.t_s < z.t_s && row.services[0].queue_length > 0.0)
            .map(|row| row.t_s + row.width_s)
            .fold(0.0, f64::max);
        assert!(
            z.t_s >= busy_until + 60.0 - 10.0 && z.t_s <= busy_until + 60.0 + 20.0,
            "scaled to zero at {} s, queue empty since {busy_until} s",
            z.t_s
        );
    }
    assert_eq!(s.services["workers"].instances, 0);
    assert_eq!(s.services["workers"].desired_replicas, 0);
}

// ---------------------------------------------------------------------------------------------
// Worker-pool queueing theory.

#[test]
fn a_worker_pool_of_four_workers_is_an_mm4_queue() {
    // A `queue` balancer over 2 instances of 2 cores with 2 workers each: 4 servers behind one
    // FIFO queue, each with a core of its own, so with Poisson arrivals and exponential CPU it
    // is M/M/4. At rho = 0.8 (S = 10 ms, lambda = 320/s) the Erlang C formula gives
    // W = C(4, 3.2) / (4 mu - lambda) + 1/mu. The replication mean must lie within the 99.9%
    // Student-t half-width over 8 replications, which itself must be under 10% of W.
    let (c, s, rho) = (4u32, 0.01, 0.8);
    let lambda = rho * f64::from(c) / s;
    let a = lambda * s;
    let w = erlang_c(c, a) / (f64::from(c) / s - lambda) + s;
    let customers = 250_000.0;
    let duration = customers / lambda;
    let json = format!(
        r#"{{
        "model": {{ "services": {{ "pool": {{ "replicas": 2,
            "instance": {{ "cores": 2, "concurrency_limit": 2 }},
            "balancer": {{ "kind": "queue" }},
            "endpoints": {{ "job": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "10ms" }} }} ] }} }} }} }} }},
        "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": {lambda} }},
            "mix": [ {{ "service": "pool", "endpoint": "job" }} ] }} ],
        "duration": "{duration:.3}s", "warmup": "{:.3}s", "resolution": "{:.3}s",
        "seed": 31, "replications": 8
    }}"#,
        duration * 0.05,
        duration / 10.0
    );
    let results = run(&experiment("pool-mm4", &json));
    assert_eq!(results.len(), 8);
    let mut response = Vec::new();
    for r in &results {
        let sum = &r.output.summary;
        assert_eq!(sum.error_rate, 0.0);
        // Each worker has its own core: no CPU segment ever waits for one. The waiting is
        // all in the pool's queue.
        assert_eq!(sum.services["pool"].cpu_wait_probability, 0.0);
        response.push(sum.latency_s.mean);
    }
    let n = response.len() as f64;
    let mean = response.iter().sum::<f64>() / n;
    let sd = (response.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let half = t_quantile(0.9995, n - 1.0) * sd / n.sqrt();
    assert!(
        half <= 0.1 * w,
        "too noisy to judge: +-{half:.5} vs W {w:.5}"
    );
    assert!(
        (mean - w).abs() <= half,
        "M/M/4 rho=0.8 W: measured {mean:.5} +- {half:.5} (99.9%), Erlang C {w:.5}"
    );
}

// ---------------------------------------------------------------------------------------------
// Scenario rate profiles.

/// Runs an open client with `rate` against a trivial sink for `duration_s` and returns the
/// time series (1 s buckets).
fn arrivals_of(tag: &str, rate: &str, duration_s: u32) -> Vec<TimeSeriesRow> {
    only(&run(&experiment(tag, &sink_json(rate, duration_s))))
        .output
        .timeseries
        .clone()
}

/// An open client with `rate` sending to a sink that answers after 1 ms of I/O.
fn sink_json(rate: &str, duration_s: u32) -> String {
    format!(
        r#"{{
        "model": {{ "services": {{ "sink": {{ "replicas": 1, "instance": {{ "cores": 1 }},
            "endpoints": {{ "e": {{ "steps": [ {{ "io": "1ms" }} ] }} }} }} }} }},
        "workload": [ {{ "name": "shoppers", "kind": "open", "rate": {rate},
            "mix": [ {{ "service": "sink", "endpoint": "e" }} ] }} ],
        "duration": "{duration_s}s", "seed": 404
    }}"#
    )
}

/// Asserts the arrivals in [from, to) are a Poisson count with mean `expected`: within 5
/// standard deviations.
fn assert_poisson(what: &str, rows: &[TimeSeriesRow], from: f64, to: f64, expected: f64) {
    let n: u64 = rows
        .iter()
        .filter(|r| r.t_s >= from && r.t_s < to)
        .map(|r| r.arrivals)
        .sum();
    let tol = 5.0 * expected.sqrt();
    assert!(
        (n as f64 - expected).abs() <= tol,
        "{what} [{from}, {to}): {n} arrivals, the shape says {expected:.0} +- {tol:.0}"
    );
}

/// The piecewise-linear function through `points` (time order) at `t`, constant before the
/// first point and after the last.
fn piecewise_at(points: &[(f64, f64)], t: f64) -> f64 {
    if t <= points[0].0 {
        return points[0].1;
    }
    for w in points.windows(2) {
        let ((t0, r0), (t1, r1)) = (w[0], w[1]);
        if t <= t1 {
            return if t1 > t0 {
                r0 + (r1 - r0) * (t - t0) / (t1 - t0)
            } else {
                r1
            };
        }
    }
    points[points.len() - 1].1
}

/// The integral of [`piecewise_at`] over [a, b], by the trapezoid rule on each piece (exact).
fn piecewise_integral(points: &[(f64, f64)], a: f64, b: f64) -> f64 {
    let at = |t: f64| piecewise_at(points, t);
    let mut edges: Vec<f64> = vec![a, b];
    edges.extend(points.iter().map(|p| p.0).filter(|t| *t > a && *t < b));
    edges.sort_by(f64::total_cmp);
    edges
        .windows(2)
        .map(|w| (w[1] - w[0]) * (at(w[0]) + at(w[1])) / 2.0)
        .sum()
}

#[test]
fn flash_sale_sends_ten_times_the_baseline_with_linear_rise_and_fall() {
    // 20 req/s; from 60 s a 10 s rise to 200 req/s, 120 s at the peak, a 60 s fall.
    let rows = arrivals_of(
        "flash-sale",
        r#"{ "kind": "flash_sale", "baseline_rps": 20, "start": "1m", "multiplier": 10,
             "rise": "10s", "duration": "2m", "fall": "1m" }"#,
        400,
    );
    let shape = [(60.0, 20.0), (70.0, 200.0), (190.0, 200.0), (250.0, 20.0)];
    assert_eq!(piecewise_integral(&shape, 0.0, 400.0), 35_900.0);
    assert_poisson("flash sale", &rows, 0.0, 400.0, 35_900.0);
    assert_poisson("flash sale before", &rows, 0.0, 60.0, 1_200.0);
    assert_poisson("flash sale peak", &rows, 70.0, 190.0, 24_000.0);
    assert_poisson("flash sale fall", &rows, 190.0, 250.0, 6_600.0);
    assert_poisson("flash sale after", &rows, 250.0, 400.0, 3_000.0);
    // The documented defaults: x10, 10 s rise, 15 minutes at the peak, 1 minute fall.
    let rows = arrivals_of(
        "flash-sale-defaults",
        r#"{ "kind": "flash_sale", "baseline_rps": 2, "start": "1m" }"#,
        1200,
    );
    let shape = [(60.0, 2.0), (70.0, 20.0), (970.0, 20.0), (1030.0, 2.0)];
    let expected = piecewise_integral(&shape, 0.0, 1200.0);
    assert_eq!(expected, 19_230.0);
    assert_poisson("flash sale (defaults)", &rows, 0.0, 1200.0, expected);
}

#[test]
fn product_launch_holds_the_multiplier_for_its_duration() {
    // 10 req/s; from 5 min a 10-minute rise to 5x, 30 minutes there, a 15-minute decay.
    let rows = arrivals_of(
        "product-launch",
        r#"{ "kind": "product_launch", "baseline_rps": 10, "start": "5m", "multiplier": 5,
             "rise": "10m", "duration": "30m", "decay": "15m" }"#,
        4000,
    );
    let shape = [(300.0, 10.0), (900.0, 50.0), (2700.0, 50.0), (3600.0, 10.0)];
    let expected = piecewise_integral(&shape, 0.0, 4000.0);
    assert_eq!(expected, 142_000.0);
    assert_poisson("product launch", &rows, 0.0, 4000.0, expected);
    assert_poisson("product launch plateau", &rows, 900.0, 2700.0, 90_000.0);
    assert_poisson("product launch rise", &rows, 300.0, 900.0, 18_000.0);
}

#[test]
fn product_of_profiles_multiplies_them() {
    // 50 req/s times a multiplier rising linearly from 1 to 3 over 100 s, then holding.
    let rows = arrivals_of(
        "product",
        r#"{ "kind": "product", "of": [
            { "kind": "constant", "rps": 50 },
            { "kind": "points", "points": [ { "at": "0s", "rps": 1 }, { "at": "100s", "rps": 3 } ] } ] }"#,
        200,
    );
    assert_poisson("product", &rows, 0.0, 200.0, 25_000.0);
    assert_poisson("product ramp", &rows, 0.0, 100.0, 10_000.0);
    assert_poisson("product hold", &rows, 100.0, 200.0, 15_000.0);
}

const BLACK_FRIDAY: &str = r#"{ "kind": "black_friday", "baseline_mean_rps": 5, "amplitude": 0.5,
    "baseline_peak_at": "20h", "event_start": "2h", "peak_multiplier": 10,
    "pre_event_multiplier": 2, "ramp": "1h", "surge": "5m", "peak": "30m", "tail": "1h" }"#;

#[test]
fn black_friday_follows_the_diurnal_baseline_times_the_event_multiplier() {
    // Baseline 5 req/s mean, 50% day/night swing peaking at 20:00. The event starts at 2 h:
    // a 1 h pre-event rise to 2x, a 5-minute surge to 10x, 30 minutes at the peak and a
    // 1-hour tail back to 1x. Expected arrivals: the integral of baseline(t) x multiplier(t),
    // by Simpson's rule on one-second steps.
    let rows = arrivals_of("black-friday", BLACK_FRIDAY, 18_000);
    let baseline =
        |t: f64| 5.0 * (1.0 + 0.5 * (2.0 * std::f64::consts::PI * (t - 72_000.0) / 86_400.0).cos());
    let knots = [
        (3600.0, 1.0),
        (7200.0, 2.0),
        (7500.0, 10.0),
        (9300.0, 10.0),
        (12_900.0, 1.0),
    ];
    let rate = |t: f64| baseline(t) * piecewise_at(&knots, t);
    let integral = |a: f64, b: f64| {
        let n = ((b - a) as usize).max(2) & !1; // even number of one-second-ish steps
        let h = (b - a) / n as f64;
        let mut sum = rate(a) + rate(b);
        for k in 1..n {
            sum += rate(a + h * k as f64) * if k % 2 == 1 { 4.0 } else { 2.0 };
        }
        sum * h / 3.0
    };
    let total = integral(0.0, 18_000.0);
    assert_poisson("black friday", &rows, 0.0, 18_000.0, total);
    assert_poisson(
        "black friday night",
        &rows,
        0.0,
        3600.0,
        integral(0.0, 3600.0),
    );
    assert_poisson(
        "black friday pre-event",
        &rows,
        3600.0,
        7200.0,
        integral(3600.0, 7200.0),
    );
    assert_poisson(
        "black friday peak",
        &rows,
        7500.0,
        9300.0,
        integral(7500.0, 9300.0),
    );
    assert_poisson(
        "black friday tail",
        &rows,
        9300.0,
        12_900.0,
        integral(9300.0, 12_900.0),
    );
    assert_poisson(
        "black friday after",
        &rows,
        12_900.0,
        18_000.0,
        integral(12_900.0, 18_000.0),
    );
    // What `surge validate` reports as the offered load agrees with the shape's integral.
    let exp = experiment("black-friday-profile", &sink_json(BLACK_FRIDAY, 18_000));
    let ClientKind::Open { arrivals } = &exp.variants[0].workload[0].kind else {
        panic!("an open client");
    };
    let offered = arrivals.expected_arrivals(18_000.0);
    assert!(
        (offered - total).abs() <= 1e-4 * total,
        "expected_arrivals {offered} vs the integral {total}"
    );
}

#[test]
fn impossible_scenario_profiles_are_refused_with_their_json_path() {
    let exp = |rate: &str| {
        format!(
            r#"{{ "model": {{ "services": {{ "sink": {{ "replicas": 1, "instance": {{ "cores": 1 }},
                "endpoints": {{ "e": {{ "steps": [ {{ "io": "1ms" }} ] }} }} }} }} }},
            "workload": [ {{ "kind": "open", "rate": {rate},
                "mix": [ {{ "service": "sink", "endpoint": "e" }} ] }} ],
            "duration": "1m" }}"#
        )
    };
    let r = "workload[0].rate";
    let cases = [
        (
            r#"{ "kind": "flash_sale", "baseline_rps": 10, "start": "1m", "multiplier": 0.5 }"#,
            format!("{r}.multiplier"),
            "multiplier",
        ),
        (
            r#"{ "kind": "product_launch", "baseline_rps": 10, "start": "1m", "multiplier": 0 }"#,
            format!("{r}.multiplier"),
            "multiplier",
        ),
        (
            r#"{ "kind": "product_launch", "baseline_rps": -1, "start": "1m" }"#,
            format!("{r}.baseline_rps"),
            "rate",
        ),
        (
            r#"{ "kind": "black_friday", "baseline_mean_rps": 10, "event_start": "2h", "amplitude": 1.5 }"#,
            format!("{r}.amplitude"),
            "amplitude",
        ),
        (
            r#"{ "kind": "black_friday", "baseline_mean_rps": 10, "event_start": "2h", "peak_multiplier": 0.9 }"#,
            format!("{r}.peak_multiplier"),
            "multiplier",
        ),
        (
            r#"{ "kind": "black_friday", "baseline_mean_rps": 10, "event_start": "2h", "pre_event_multiplier": 0.5 }"#,
            format!("{r}.pre_event_multiplier"),
            "multiplier",
        ),
        (
            r#"{ "kind": "product", "of": [] }"#,
            format!("{r}.of"),
            "at least one",
        ),
        (
            r#"{ "kind": "product", "of": [ { "kind": "constant", "rps": 5 }, { "kind": "diurnal", "mean_rps": 1, "amplitude": 2 } ] }"#,
            format!("{r}.of[1].amplitude"),
            "amplitude",
        ),
    ];
    for (k, (rate, path, words)) in cases.iter().enumerate() {
        let e = load_error(&format!("bad-rate-{k}"), &exp(rate));
        assert_error_at(&e, path, words);
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism.

#[test]
fn black_friday_experiment_gives_identical_reports_on_one_and_two_threads() {
    // Every policy of the bundled Black Friday experiment (HPA, target tracking, threshold,
    // predictive with a trained Holt-Winters, a schedule), cut to its first 10 minutes (the
    // go-coffee HPA scales three times in them; 20 minutes would double the test's ~8 s): the
    // report is byte for byte the same whichever thread ran which variant.
    let mut exp = surge::config::load_experiment(&repo().join("experiments/black-friday.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    exp.duration = SimDuration::from_secs(10 * 60);
    exp.warmup = SimDuration::from_secs(60);
    let report = |threads: usize| {
        let results = run_experiment(
            &exp,
            &ExecuteOptions {
                threads: Some(threads),
                ..ExecuteOptions::default()
            },
        )
        .expect("the run stays within its limits");
        for r in &results {
            assert_conserved(&r.variant, &r.output.summary);
        }
        Report::new(&exp, &results).to_json()
    };
    let one = report(1);
    assert!(
        one.contains("\"hpa-go-coffee\"") && one.contains("pods metric"),
        "the shortened run should still scale"
    );
    assert_eq!(one, report(2), "1 and 2 threads differ");
}
