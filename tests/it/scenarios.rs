//! Every bundled experiment runs (with a shortened horizon where it is long), and on every run
//! every request is accounted for: arrivals = sum of outcomes + in flight at the end, overall
//! and per endpoint, and Little's law holds within its boundary term. Then the claims the
//! experiments make about the seed documents.

use crate::support::{repo, run, summary_of};
use surge::experiment::{Experiment, RunResult};
use surge::kernel::SimDuration;
use surge::simulation::RunSummary;
use surge::workload::ClientKind;

fn load(name: &str) -> Experiment {
    surge::config::load_experiment(&repo().join("experiments").join(name))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Caps the horizon at `max` (and the warm-up at a tenth of it) so the suite stays fast.
fn shortened(mut exp: Experiment, max: SimDuration) -> Experiment {
    if exp.duration > max {
        exp.duration = max;
        exp.warmup = exp.warmup.min(SimDuration::from_nanos(max.as_nanos() / 10));
    }
    exp
}

/// Arrivals = outcomes + in flight, overall and per endpoint.
fn assert_conserved(name: &str, r: &RunResult) {
    let s = &r.output.summary;
    let ended: u64 = s.outcomes.values().sum();
    assert_eq!(
        s.arrivals,
        ended + s.in_flight_at_end,
        "{name}/{}: arrivals {} != outcomes {ended} + in flight {}",
        r.variant,
        s.arrivals,
        s.in_flight_at_end
    );
    let per_endpoint: u64 = s.endpoints.values().map(|e| e.arrivals).sum();
    assert_eq!(
        per_endpoint, s.arrivals,
        "{name}/{}: endpoint arrivals do not add up",
        r.variant
    );
    for (ep, e) in &s.endpoints {
        assert!(
            e.outcomes.values().sum::<u64>() <= e.arrivals,
            "{name}/{}: {ep} ended more than arrived",
            r.variant
        );
    }
    assert_eq!(s.completed, s.outcomes["ok"]);
}

/// Little's law L = lambda W over the measured window [w, T]. Requests that straddle w or T
/// count in the time-average L but not (fully) in lambda W; each contributes at most its own
/// age, bounded by the longest response seen or the client timeout. So
/// |L - lambda W| <= (n_start + n_end) * max_age / T + lambda W * n_end / ended, plus 1e-9.
fn assert_little(name: &str, r: &RunResult, max_timeout_s: f64) {
    let s: &RunSummary = &r.output.summary;
    let ended: u64 = s.outcomes.values().sum();
    if ended == 0 {
        return;
    }
    let lw = s.arrival_rate_rps * s.mean_response_s;
    let max_age = s.latency_s.max.max(max_timeout_s).max(s.mean_response_s);
    let boundary = (s.in_flight_at_start + s.in_flight_at_end) as f64 * max_age / s.measured_s;
    let tol = boundary + lw * s.in_flight_at_end as f64 / ended as f64 + 1e-9;
    assert!(
        (s.mean_in_flight - lw).abs() <= tol,
        "{name}/{}: Little's law L = {} vs lambda W = {lw} (tolerance {tol})",
        r.variant,
        s.mean_in_flight
    );
}

#[test]
fn bundled_experiments_part_1_conserve_requests_and_obey_littles_law() {
    bundled_conserve(0);
}

#[test]
fn bundled_experiments_part_2_conserve_requests_and_obey_littles_law() {
    bundled_conserve(1);
}

#[test]
fn bundled_experiments_part_3_conserve_requests_and_obey_littles_law() {
    bundled_conserve(2);
}

/// Every third bundled experiment from the `part`-th (so the three parts run side by side),
/// cut to half an hour and one replication (each run is checked on its own; more replications
/// would check the same thing again).
fn bundled_conserve(part: usize) {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("experiments"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 4,
        "expected the bundled experiments, found {names:?}"
    );
    for name in names.iter().skip(part).step_by(3) {
        let mut exp = shortened(load(name), SimDuration::from_secs(1800));
        exp.replications = 1;
        let max_timeout = exp
            .variants
            .iter()
            .flat_map(|v| &v.workload)
            .filter_map(|c| c.timeout)
            .map(|t| t.as_secs_f64())
            .fold(0.0, f64::max);
        let results = run(&exp);
        assert_eq!(results.len(), exp.variants.len());
        for r in &results {
            assert!(r.output.summary.arrivals > 0, "{name}: no traffic");
            assert_conserved(name, r);
            assert_little(name, r, max_timeout);
            let rows = &r.output.timeseries;
            let expected_rows = exp.duration.as_nanos().div_ceil(exp.resolution.as_nanos());
            assert_eq!(
                rows.len() as u64,
                expected_rows,
                "{name}: one time-series row per bucket"
            );
        }
    }
}

#[test]
fn conservation_holds_under_overload_with_timeouts_and_rejections() {
    // 3x overload with a small accept queue and a client timeout: every cause of error occurs.
    let exp = crate::support::experiment(
        "overload",
        r#"{
        "model": { "services": { "api": { "replicas": 2,
            "instance": { "cores": 1, "concurrency_limit": 4, "queue_limit": 8 },
            "balancer": { "kind": "least_connections" },
            "endpoints": { "slow": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } }, { "io": "50ms" } ] } } } } },
        "workload": [
            { "name": "open", "kind": "open", "rate": { "kind": "constant", "rps": 600 }, "mix": [ { "service": "api", "endpoint": "slow" } ], "timeout": "150ms" },
            { "name": "users", "kind": "closed", "connections": 20, "think": { "kind": "exponential", "mean": "20ms" }, "mix": [ { "service": "api", "endpoint": "slow" } ], "timeout": "300ms" }
        ],
        "duration": "30s", "warmup": "3s", "seed": 9, "replications": 2
    }"#,
    );
    for r in run(&exp) {
        let s = &r.output.summary;
        assert!(
            s.outcomes["rejected"] > 0 && s.outcomes["timed_out"] > 0 && s.outcomes["ok"] > 0,
            "{:?}",
            s.outcomes
        );
        assert_conserved("overload", &r);
        assert_little("overload", &r, 0.3);
    }
}

#[test]
fn node_event_loop_blocked_by_a_3s_request() {
    // Seed claim (node-gateway demo 1): a 3 s CPU-bound request delays /users on the same
    // event loop by about 3 s; the monitor logs "Event loop delay: 3002ms".
    let results = run(&load("node-event-loop.json"));
    let by = |v: &str| summary_of(&results, v);
    let single = by("single-event-loop");
    let lag = single.services["gateway"].peak_event_loop_lag_s;
    assert!((2.9..=3.0).contains(&lag), "peak lag {lag}");
    let users = &single.endpoints["gateway.users"].latency_s;
    assert!(users.max > 2.9 && users.p50 < 0.02, "users {users:?}");
    // Offloading the computation (worker_threads) frees the loop.
    let offloaded = by("worker-threads");
    assert!(offloaded.services["gateway"].peak_event_loop_lag_s < 0.05);
    assert!(offloaded.endpoints["gateway.users"].latency_s.max < 0.2);
    // Cluster mode: only the blocked worker's share of /users waits, so p95 recovers.
    let cluster = by("cluster-4-workers");
    assert!(cluster.endpoints["gateway.users"].latency_s.p95 < 0.1 && users.p95 > 1.0);
}

#[test]
fn node_replicas_scale_throughput_under_50_connections() {
    // Seed claim (demo 5): more replicas behind the balancer give more requests/s and lower
    // p99 under autocannon -c 50 -d 10, with 0% errors. With CPU-bound replicas (2 ms of CPU
    // per request) the model predicts ~500 req/s per replica and latency ~ 50 / throughput.
    let exp = load("node-replicas.json");
    let report = surge::report::Report::new(&exp, &run(&exp));
    let m = |v: &str, k: &str| report.variants[v].metrics[k].mean;
    let (t1, t3, t5) = (
        m("1-replica", "throughput_rps"),
        m("3-replicas", "throughput_rps"),
        m("5-replicas", "throughput_rps"),
    );
    assert!((480.0..=520.0).contains(&t1), "1 replica: {t1} req/s");
    assert!(t3 > 2.8 * t1 && t5 > 4.5 * t1, "{t1} {t3} {t5}");
    assert!(m("1-replica", "latency_s.p99") > m("3-replicas", "latency_s.p99"));
    assert!(m("3-replicas", "latency_s.p99") > m("5-replicas", "latency_s.p99"));
    for v in report.variants.values() {
        assert_eq!(v.metrics["error_rate"].mean, 0.0);
    }
    // Little's law for a closed loop: 50 connections = throughput x mean response.
    let l = m("1-replica", "throughput_rps") * m("1-replica", "mean_response_s");
    assert!((l - 50.0).abs() < 1.0, "{l}");
}

#[test]
fn closed_clients_have_no_rate_and_open_clients_do() {
    let exp = load("node-replicas.json");
    assert!(matches!(
        exp.variants[0].workload[0].kind,
        ClientKind::Closed {
            connections: 50,
            ..
        }
    ));
}

#[test]
fn trace_replay_sends_what_the_trace_says() {
    // Replay 15:00-17:00 GMT of the World Cup 1998 semi-final evening, scaled so its busiest
    // minute is 200 req/s. Arrivals are Poisson within each minute, so the count over the
    // window is Poisson with mean sum(count) x factor: 5 standard deviations of slack.
    let csv = repo().join("experiments/traces/worldcup98-semifinal.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let counts: Vec<f64> = text
        .lines()
        .skip(1)
        .take(120)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let factor = 200.0 / (counts.iter().cloned().fold(0.0, f64::max) / 60.0);
    let expected: f64 = counts.iter().sum::<f64>() * factor;
    let json = format!(
        r#"{{
        "model": {{ "services": {{ "web": {{ "replicas": 4, "instance": {{ "cores": 2 }},
            "endpoints": {{ "page": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "5ms" }} }} ] }} }} }} }} }},
        "workload": [ {{ "kind": "open", "mix": [ {{ "service": "web", "endpoint": "page" }} ],
            "rate": {{ "kind": "trace", "file": "{}", "from": "0s", "to": "2h", "peak_rps": 200 }} }} ],
        "duration": "2h30m", "resolution": "1m", "seed": 21
    }}"#,
        csv.display()
    );
    let exp = crate::support::experiment("trace", &json);
    let r = &run(&exp)[0];
    let n = r.output.summary.arrivals as f64;
    assert!(
        (n - expected).abs() < 5.0 * expected.sqrt(),
        "arrivals {n}, trace says {expected:.0}"
    );
    // After the window the trace is over: the last 30 minutes see no arrivals.
    assert!(
        r.output.timeseries[120..]
            .iter()
            .all(|row| row.arrivals == 0)
    );
    // Minute by minute, arrivals follow the trace's shape.
    let first: u64 = r.output.timeseries[..10]
        .iter()
        .map(|row| row.arrivals)
        .sum();
    let expected_first: f64 = counts[..10].iter().sum::<f64>() * factor;
    assert!((first as f64 - expected_first).abs() < 5.0 * expected_first.sqrt());
}

#[test]
fn scheduled_prescaling_needs_lead_time_equal_to_time_to_ready() {
    // Seed claim (FinPay): off-peak 5 / peak 50 instances. Instances take 90 + 20 + 10 s to
    // become ready, so a schedule that acts at the peak's start leaves ~2 minutes of overload,
    // while one 5 minutes ahead serves the peak as well as a static 50 for fewer
    // instance-hours.
    let exp = load("scheduled-prescale.json");
    let results = run(&exp);
    let by = |v: &str| results.iter().find(|r| r.variant == v).unwrap();
    let summary = |v: &str| &by(v).output.summary;
    let svc = |v: &str| &summary(v).services["payments"];
    assert!(summary("static-5").error_rate > 0.5);
    assert!(summary("static-50").error_rate < 1e-4);
    assert!(summary("scheduled-5m-ahead").error_rate < 1e-4);
    let late = summary("scheduled-at-peak");
    assert!(
        late.error_rate > 0.01,
        "acting at the peak's start must cost errors: {}",
        late.error_rate
    );
    assert!(late.slo.as_ref().unwrap().violation_minutes >= 1.0);
    // 50 instances for the 29 measured minutes.
    assert!((svc("static-50").instance_hours - 50.0 * 29.0 / 60.0).abs() < 1e-6);
    assert!(svc("scheduled-5m-ahead").instance_hours < 0.7 * svc("static-50").instance_hours);
    // The actions are recorded with their times, and readiness follows 2 minutes later.
    let actions = &summary("scheduled-5m-ahead").scaling_actions;
    assert_eq!(
        actions
            .iter()
            .map(|a| (a.t_s, a.from, a.to))
            .collect::<Vec<_>>(),
        vec![(300.0, 5, 50), (1380.0, 50, 5)]
    );
    let rows = &by("scheduled-5m-ahead").output.timeseries;
    let at = |t: f64| rows.iter().find(|r| r.t_s == t).unwrap().services[0].clone();
    assert_eq!(
        (at(290.0).desired, at(290.0).starting, at(290.0).instances),
        (5, 0, 5)
    );
    assert_eq!(
        (at(300.0).desired, at(300.0).starting, at(300.0).instances),
        (50, 45, 5)
    );
    assert_eq!(
        (at(420.0).starting, at(420.0).instances),
        (0, 50),
        "ready 120 s after the decision"
    );
    assert_eq!(
        at(1380.0).instances,
        5,
        "scale-down leaves the balancer at once"
    );
}

#[test]
fn removed_instances_drain_and_are_killed_at_the_deadline() {
    // Requests spend 20 s in I/O; two of three instances are removed at 30 s with a 5 s grace
    // period, so what they hold at 35 s is killed. Nothing is lost from the books.
    let exp = crate::support::experiment(
        "drain",
        r#"{
        "model": { "services": { "api": { "replicas": 3, "instance": { "cores": 1 },
            "lifecycle": { "drain_timeout": "5s" },
            "schedule": [ { "at": "30s", "replicas": 1 } ],
            "endpoints": { "slow": { "steps": [ { "cpu": "1ms" }, { "io": "20s" } ] } } } } },
        "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 20 }, "mix": [ { "service": "api", "endpoint": "slow" } ] } ],
        "duration": "2m", "seed": 3
    }"#,
    );
    let r = &run(&exp)[0];
    let s = &r.output.summary;
    assert!(s.outcomes["killed"] > 100, "{:?}", s.outcomes);
    assert_conserved("drain", r);
    let svc = &s.services["api"];
    assert_eq!((svc.instances, svc.desired_replicas), (1, 1));
    let stopped: Vec<f64> = svc
        .per_instance
        .iter()
        .filter_map(|i| i.stopped_s)
        .collect();
    assert_eq!(
        stopped,
        vec![35.0, 35.0],
        "killed at the end of the grace period"
    );
    // An idle instance stops as soon as it is removed.
    let quick = crate::support::experiment(
        "drain-idle",
        r#"{
        "model": { "services": { "api": { "replicas": 3, "instance": { "cores": 1 },
            "schedule": [ { "at": "30s", "replicas": 1 }, { "at": "60s", "replicas": 4 } ],
            "lifecycle": { "provisioning": "10s", "readiness": "5s" },
            "endpoints": { "fast": { "steps": [ { "cpu": "1ms" } ] } } } } },
        "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 0.5 }, "mix": [ { "service": "api", "endpoint": "fast" } ] } ],
        "duration": "2m", "seed": 4
    }"#,
    );
    let r = &run(&quick)[0];
    let svc = &r.output.summary.services["api"];
    assert_eq!(r.output.summary.outcomes["killed"], 0);
    assert_eq!((svc.instances, svc.instances_started), (4, 6));
    assert_eq!(
        svc.per_instance
            .iter()
            .filter(|i| i.stopped_s.is_some())
            .count(),
        2
    );
    assert_eq!(
        r.output.timeseries[74].services[0].instances, 1,
        "new instances are not ready before 75 s"
    );
    assert_eq!(r.output.timeseries[75].services[0].instances, 4);
}

#[test]
fn threshold_rules_lag_a_product_launch_that_twelve_instances_absorb() {
    // Seed claim (Mercenary): a 10x product launch is handled by 4 -> 12 instances with
    // p99 < 800 ms. A static 12 does meet it. The guide's rules (+2 per 5-minute cool-down)
    // get past 12 instances too, but only after the launch has queued and shed requests.
    let exp = shortened(
        load("product-launch.json"),
        SimDuration::from_secs(2 * 3600),
    );
    let results = run(&exp);
    let by = |v: &str| summary_of(&results, v);
    let twelve = by("static-12");
    assert!(
        twelve.latency_s.p99 < 0.8 && twelve.error_rate == 0.0,
        "{:?}",
        twelve.latency_s
    );
    let rules = by("threshold-rules");
    let app = &rules.services["app"];
    assert!(app.peak_instances >= 12, "{}", app.peak_instances);
    assert!(rules.error_rate > 0.0 && rules.slo.as_ref().unwrap().violation_minutes > 5.0);
    assert!(by("static-4").error_rate > rules.error_rate);
    // Actions respect the 5-minute cool-down, the bounds, and say why.
    let actions = &rules.scaling_actions;
    assert!(
        actions.windows(2).all(|w| w[1].t_s - w[0].t_s >= 300.0),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .all(|a| (2..=20).contains(&a.to) && !a.reason.is_empty())
    );
    // Before the launch CPU sits at 25%, below the 30% scale-in rule for its 15 minutes.
    assert_eq!(
        (actions[0].t_s, actions[0].from, actions[0].to),
        (900.0, 4, 3)
    );
    // Target tracking (3 one-minute datapoints, proportional) sheds about as much as the
    // rules, not reliably less: before the launch it may scale in to 2 and then lags, and
    // whether it does is a draw (3.5% to 6.3% rejected over six seeds at this horizon, the
    // rules 3.8% on every one). Either way it is far from the static 4's loss.
    let tracking = by("target-tracking");
    assert!(
        tracking.error_rate < by("static-4").error_rate / 5.0,
        "{}",
        tracking.error_rate
    );
    assert_eq!(tracking.services["app"].peak_instances, 20);
}

#[test]
fn a_flash_sale_outruns_every_reactive_policy_but_not_a_schedule() {
    // Go Coffee's flash sale: 10x within 10 s. A pod needs 65 s to serve, so whatever reacts
    // loses requests; capacity in place before the sale (static or scheduled) loses none.
    let exp = load("flash-sale.json");
    let results = run(&exp);
    let by = |v: &str| summary_of(&results, v);
    for v in ["static-sale", "scheduled-5m-ahead"] {
        assert_eq!(by(v).error_rate, 0.0, "{v}");
        assert_eq!(by(v).slo.as_ref().unwrap().violation_minutes, 0.0, "{v}");
    }
    let normal = by("static-normal").error_rate;
    assert!(normal > 0.3, "{normal}");
    for v in [
        "hpa-upstream-defaults",
        "hpa-go-coffee-behavior",
        "target-tracking",
    ] {
        let e = by(v).error_rate;
        assert!(e > 0.0 && e < normal, "{v}: {e}");
        assert!(by(v).services["api"].peak_instances >= 9, "{v}");
    }
    // The schedule costs less than the fleet sized for the sale all hour.
    assert!(by("scheduled-5m-ahead").cost_usd < by("static-sale").cost_usd);
}

#[test]
fn keda_scales_a_worker_pool_to_zero_and_back_without_losing_a_job() {
    let exp = load("worker-queue.json");
    let results = run(&exp);
    let by = |v: &str| summary_of(&results, v);
    for r in &results {
        // No client timeout: every job waits in the queue until a worker takes it.
        assert_eq!(r.output.summary.error_rate, 0.0, "{}", r.variant);
    }
    let zero = by("keda-scale-to-zero");
    let actions = &zero.scaling_actions;
    assert!(
        actions
            .iter()
            .any(|a| a.to == 0 && a.reason.contains("zero")),
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a.from == 0 && a.to >= 1));
    assert!(zero.services["workers"].peak_instances >= 20);
    let min_one = by("keda-min-1");
    assert!(min_one.scaling_actions.iter().all(|a| a.to >= 1));
    // Scaling to zero saves instance-hours, at the price of a cold start for the first jobs.
    assert!(zero.services["workers"].instance_hours < min_one.services["workers"].instance_hours);
    // A static pool of 2 works the backlog off for most of an hour.
    let p95 = |v: &str| by(v).latency_s.p95;
    assert!(p95("static-2") > 10.0 * p95("keda-min-1"));
}

#[test]
fn vertical_scaling_one_vm_means_outages_and_one_process_wastes_the_cores() {
    let exp = load("vertical-scaling.json");
    let results = run(&exp);
    let by = |v: &str| summary_of(&results, v);
    let one = by("one-vm-cluster-mode");
    // Two resizes of the only VM: two outages of the restart's length.
    assert!(one.outcomes["no_instance"] > 0 && one.outcomes["killed"] > 0);
    assert_eq!(one.services["gateway"].cores_per_instance, 32);
    let rolling = by("two-vms-rolling");
    assert_eq!(rolling.outcomes["no_instance"], 0);
    assert!(rolling.error_rate < one.error_rate);
    // One Node process uses one core of 32: it sheds most of the 6,000 req/s.
    let single = by("one-vm-single-process");
    assert!(single.error_rate > 0.5, "{}", single.error_rate);
    assert!(single.services["gateway"].cpu_utilisation < 0.5);
}

#[test]
fn hpa_under_a_10x_step_scales_as_fast_as_its_policies_allow_and_no_faster() {
    // 150 -> 1,500 req/s at 300 s; needed at 70% of a 1-CPU request: ceil(15 / 0.7) = 22 pods.
    let exp = load("hpa-step.json");
    let results = run(&exp);
    let by = |v: &str| summary_of(&results, v);
    let ups = |v: &str| -> Vec<(f64, u32, u32)> {
        by(v)
            .scaling_actions
            .iter()
            .filter(|a| a.to > a.from)
            .map(|a| (a.t_s, a.from, a.to))
            .collect()
    };
    for v in [
        "hpa-upstream-defaults",
        "hpa-default-behavior",
        "hpa-go-coffee-behavior",
    ] {
        let actions = &by(v).scaling_actions;
        assert!(
            actions.iter().all(|a| a.t_s % 15.0 == 0.0),
            "{v}: decisions only at 15 s syncs"
        );
        assert!(
            actions.iter().all(|a| a.t_s > 300.0),
            "{v}: nothing happens before the step"
        );
        assert!(by(v).services["orders"].desired_replicas >= 21, "{v}");
    }
    // Legacy path: each reconcile may at most double (or reach 4): 3 -> 6 -> 12 -> ...
    let legacy = ups("hpa-upstream-defaults");
    assert!(
        legacy.iter().all(|&(_, from, to)| to <= (2 * from).max(4)),
        "{legacy:?}"
    );
    assert_eq!(
        &legacy[..2].iter().map(|a| a.2).collect::<Vec<_>>(),
        &[6, 12]
    );
    assert!(legacy.windows(2).all(|w| w[1].0 - w[0].0 >= 15.0));
    // Default behavior: at most max(4 pods, 100%) more per 15 s: 3 -> 7 -> 14.
    let default = ups("hpa-default-behavior");
    assert!(
        default
            .iter()
            .all(|&(_, from, to)| to - from <= from.max(4)),
        "{default:?}"
    );
    assert_eq!(
        &default[..2].iter().map(|a| a.2).collect::<Vec<_>>(),
        &[7, 14]
    );
    // Go Coffee: 60 s of scale-up stabilisation, then 100% per 60 s: 3 -> 6 -> 12 -> 21.
    let go = ups("hpa-go-coffee-behavior");
    assert!(
        go[0].0 >= 360.0,
        "stabilisation delays the first scale-up: {go:?}"
    );
    assert!(
        go.windows(2)
            .all(|w| w[1].0 - w[0].0 >= 60.0 && w[1].2 <= 2 * w[1].1),
        "{go:?}"
    );
    assert!(by("hpa-go-coffee-behavior").error_rate > by("hpa-default-behavior").error_rate);
    // Scale-down waits out the 300 s downscale stabilisation after the last high recommendation.
    let legacy_down: Vec<f64> = by("hpa-upstream-defaults")
        .scaling_actions
        .iter()
        .filter(|a| a.to < a.from)
        .map(|a| a.t_s)
        .collect();
    assert!(
        legacy_down
            .iter()
            .all(|t| *t >= legacy.last().unwrap().0 + 300.0),
        "{legacy_down:?}"
    );
    assert!(by("static-3").error_rate > 0.5);
    // Requests that fail count against the latency objective: every minute after the step
    // is in violation for the static fleet, even though few requests succeed to be measured.
    assert!(by("static-3").slo.as_ref().unwrap().violation_minutes >= 9.0);
}

#[test]
fn the_bill_follows_instance_hours_and_the_reservation() {
    // c5.large at 0.085 USD/h on demand, 0.054 USD/h reserved. Static 50 for the 29 measured
    // minutes: 50 x 29/60 x 0.085.
    let exp = load("scheduled-prescale.json");
    let results = run(&exp);
    let by = |v: &str| summary_of(&results, v);
    let s50 = by("static-50");
    assert!((s50.cost_usd.unwrap() - 50.0 * 29.0 / 60.0 * 0.085).abs() < 1e-9);
    let ahead = by("scheduled-5m-ahead");
    let hours = ahead.services["payments"].instance_hours;
    assert!((ahead.cost_usd.unwrap() - hours * 0.085).abs() < 1e-9);
    assert!(
        (ahead.cost_per_million_ok_usd.unwrap()
            - ahead.cost_usd.unwrap() / ahead.completed as f64 * 1e6)
            .abs()
            < 1e-9
    );
    // A reservation of 5 is paid for the whole window; only instances beyond it are on demand.
    let mut reserved = exp.clone();
    for v in &mut reserved.variants {
        v.model.services[0].cost.as_mut().unwrap().reserved = 5;
    }
    let results = run(&reserved);
    let r = &results
        .iter()
        .find(|r| r.variant == "scheduled-5m-ahead")
        .unwrap()
        .output
        .summary;
    let window_h = 29.0 / 60.0;
    let expected = 5.0 * 0.054 * window_h + (hours - 5.0 * window_h) * 0.085;
    assert!(
        (r.cost_usd.unwrap() - expected).abs() < 1e-9,
        "{} vs {expected}",
        r.cost_usd.unwrap()
    );
}
