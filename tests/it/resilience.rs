//! Servers that degrade under concurrency, and the metastable failure they make with retries
//! (`experiments/retry-storm.json`).

use crate::support::{
    assert_error_at, experiment, load_error, only, repo, run_conserved, summary_of,
};
use surge::metrics::Outcome;

/// Ten closed-loop connections with no think time keep ten requests in progress on a
/// 16-core instance, so each 10 ms step starts with n = 10 and, at 10% more work per request
/// beyond the first, takes 10 x (1 + 0.1 x 9) = 19 ms; a lone connection's takes 10 ms.
#[test]
fn contention_grows_each_step_with_the_requests_in_progress() {
    let json = |connections: u32| {
        format!(
            r#"{{ "duration": "20s", "warmup": "2s", "seed": 1,
              "model": {{ "services": {{ "q": {{ "replicas": 1,
                "instance": {{ "cores": 16, "contention": {{ "per_request": 0.1 }} }},
                "endpoints": {{ "e": {{ "steps": [ {{ "cpu": "10ms" }} ] }} }} }} }} }},
              "workload": [ {{ "kind": "closed", "connections": {connections},
                               "mix": [ {{ "service": "q", "endpoint": "e" }} ] }} ] }}"#
        )
    };
    for (connections, expected) in [(10, 0.019), (1, 0.010)] {
        let results = run_conserved(&experiment("contention", &json(connections)));
        let s = &only(&results).output.summary;
        assert!(
            (s.latency_s.p50 - expected).abs() < 0.0005,
            "{connections} connections: p50 {} s, expected {expected}",
            s.latency_s.p50
        );
    }
    let e = load_error(
        "contention-bad",
        &json(1).replace(r#""per_request": 0.1"#, r#""per_request": 0"#),
    );
    assert_error_at(
        &e,
        "model.services.q.instance.contention.per_request",
        "above 0",
    );
}

/// The retry storm: a 10 s spike pushes a backend whose work grows with concurrency past its
/// callers' 1 s timeout. Without retries it drains its backlog and recovers; with 3 tries per
/// call the timed-out tries come back, the backend gets three times the load, and it stays
/// collapsed to the end; with gRPC's retry throttling the retries stop and it recovers.
#[test]
fn a_short_spike_collapses_a_retrying_system_for_good_unless_retries_are_throttled() {
    let path = repo().join("experiments/retry-storm.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace(r#""duration": "5m""#, r#""duration": "3m""#);
    let results = run_conserved(&experiment("retry-storm", &text));
    // Goodput and the backend's load over the last minute, long after the spike (60-72 s).
    let late = |v: &str| {
        let r = results.iter().find(|r| r.variant == v).unwrap();
        let rows: Vec<_> = r
            .output
            .timeseries
            .iter()
            .filter(|row| row.t_s >= 120.0)
            .collect();
        let secs: f64 = rows.iter().map(|row| row.width_s).sum();
        let ok: u64 = rows.iter().map(|row| row.outcomes.get(Outcome::Ok)).sum();
        let tries: u64 = rows.iter().map(|row| row.services[1].arrivals).sum();
        (ok as f64 / secs, tries as f64 / secs)
    };
    let (calm, calm_tries) = late("no-retries");
    let (storm, storm_tries) = late("retries");
    let (throttled, _) = late("retries-throttled");
    assert!(calm > 950.0, "no retries: {calm} answers/s after the spike");
    assert!(
        throttled > 950.0,
        "throttled: {throttled} answers/s after the spike"
    );
    assert!(storm < 50.0, "retries: {storm} answers/s after the spike");
    assert!(
        storm_tries > 2.5 * calm_tries,
        "the backend serves {storm_tries} tries/s in the storm against {calm_tries}"
    );
    let retries = summary_of(&results, "retries").calls["api.order -> backend.work"].retries;
    assert!(retries > 100_000, "{retries} retries");
}

/// The Node gateway's demo 6: the breaker opens at the third failure after the payment
/// service stops (60 s), fails calls at once for 10 s, probes every 10 s while the service is
/// down (70 ... 120 s: six failed probes, six more openings), and closes at the probe of
/// 130 s, the first after the service is back (ready at 125 s). So exactly 3 + 6 calls reach
/// the stopped service, against every call without the breaker.
#[test]
fn the_breaker_opens_after_three_failures_and_closes_at_the_first_good_probe() {
    let path = repo().join("experiments/circuit-breaker.json");
    let results = run_conserved(&surge::config::load_experiment(&path).unwrap());
    let edge = "gateway.pay -> payment.charge";
    let with = &summary_of(&results, "breaker").calls[edge];
    assert_eq!(with.breaker_opens, 7);
    assert_eq!(with.outcomes["no_instance"], 9);
    assert!(
        with.short_circuited > 1000,
        "{} failed at once",
        with.short_circuited
    );
    let without = &summary_of(&results, "no-breaker").calls[edge];
    assert_eq!((without.breaker_opens, without.short_circuited), (0, 0));
    assert!(without.outcomes["no_instance"] > 1200);
    // The first answers after the outage: the 130 s bucket with the breaker, 125 s without.
    let first_ok_after = |v: &str| {
        let r = results.iter().find(|r| r.variant == v).unwrap();
        r.output
            .timeseries
            .iter()
            .find(|row| row.t_s > 60.0 && row.outcomes.get(Outcome::Ok) > 0)
            .map(|row| row.t_s)
    };
    assert_eq!(first_ok_after("breaker"), Some(130.0));
    assert_eq!(first_ok_after("no-breaker"), Some(125.0));
}

#[test]
fn bad_breakers_are_refused_with_their_path() {
    let path = repo().join("experiments/circuit-breaker.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let at = "model.services.gateway.endpoints.pay.steps[1].call.breaker";
    for (from, to, field, words) in [
        (
            r#""failures": 3"#,
            r#""failures": 0"#,
            "failures",
            "1 to 1000",
        ),
        (
            r#""open_for": "10s""#,
            r#""open_for": "0s""#,
            "open_for",
            "longer than zero",
        ),
        (
            r#""open_for": "10s""#,
            r#""open_for": "10s", "probes": 0"#,
            "probes",
            "1 to 100",
        ),
    ] {
        let e = load_error("breaker-bad", &text.replace(from, to));
        assert_error_at(&e, &format!("{at}.{field}"), words);
    }
}

/// A slow fault: one connection's 10 ms steps take 30 ms while a 3x fault lasts (10-20 s)
/// and 10 ms before and after; with `instances: 1` only the instance of ordinal 0 slows.
#[test]
fn a_slow_fault_multiplies_the_steps_it_overlaps() {
    let json = |replicas: u32, instances: &str| {
        format!(
            r#"{{ "duration": "30s", "warmup": "0s", "seed": 1, "resolution": "5s",
              "model": {{ "services": {{ "q": {{ "replicas": {replicas}, "instance": {{ "cores": 1 }},
                "faults": [ {{ "at": "10s", "for": "10s", "kind": "slow", "factor": 3 {instances} }} ],
                "endpoints": {{ "e": {{ "steps": [ {{ "cpu": "10ms" }} ] }} }} }} }} }},
              "workload": [ {{ "kind": "closed", "connections": 1,
                               "mix": [ {{ "service": "q", "endpoint": "e" }} ] }} ] }}"#
        )
    };
    let results = run_conserved(&experiment("slow-fault", &json(1, "")));
    let rows = &only(&results).output.timeseries;
    for row in rows {
        let expected = if (10.0..20.0).contains(&row.t_s) {
            0.030
        } else {
            0.010
        };
        assert!(
            (row.p50_s - expected).abs() < 0.0005,
            "at {} s: p50 {}",
            row.t_s,
            row.p50_s
        );
    }
    // Two instances in turn, only one slowed: half the requests take 30 ms, half 10 ms.
    let results = run_conserved(&experiment(
        "slow-fault-one",
        &json(2, r#", "instances": 1"#),
    ));
    let during = &only(&results).output.timeseries[2];
    assert!(
        during.p99_s > 0.029 && during.p50_s < 0.0305,
        "{} {}",
        during.p50_s,
        during.p99_s
    );
    let e = load_error(
        "slow-fault-bad",
        &json(1, "").replace(r#""factor": 3"#, r#""factor": 1"#),
    );
    assert_error_at(&e, "model.services.q.faults[0].factor", "above 1");
    let late = json(1, "").replace(r#""at": "10s""#, r#""at": "30s""#);
    let e = load_error("slow-fault-late", &late);
    assert!(e.contains("faults[0].at") && e.contains("has ended"), "{e}");
}

/// The metastability map (`experiments/metastability-map.json`) cut to its corners: with
/// retries the system stays collapsed after a 10 s spike at 800 req/s (3 tries a call offer
/// 2,400 tries/s against the backend's ~1,500: every 30 s SLO window to the end violated) but
/// recovers from a 2 s one, and from a 10 s spike at 300 req/s (900 tries/s) within a couple of
/// minutes; throttled retries recover everywhere within a minute.
#[test]
fn the_metastability_map_separates_recovery_from_collapse() {
    let path = repo().join("experiments/metastability-map.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["sweep"]["parameters"][0]["values"] = serde_json::json!([300, 800]);
    doc["sweep"]["parameters"][1]["values"] = serde_json::json!(["2s", "10s"]);
    doc["variants"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| k != "no-retries");
    let file = crate::support::write_experiment("metastability-map", &doc.to_string());
    let sweep = surge::sweep::load_sweep(&file).unwrap();
    let report = surge::sweep::run_sweep(&sweep, &surge::sweep::SweepOptions::default(), None)
        .expect("the sweep stays within its limits");
    let minutes = |load: i64, plateau: &str, variant: &str| {
        let p = report
            .points
            .iter()
            .find(|p| {
                p.parameters["workload[0].rate.baseline_rps"] == serde_json::json!(load)
                    && p.parameters["workload[0].rate.plateau"] == serde_json::json!(plateau)
            })
            .unwrap();
        p.variants[variant].metrics["slo.violation_minutes"].mean
    };
    assert_eq!(minutes(800, "10s", "retries"), 4.0);
    assert_eq!(minutes(800, "2s", "retries"), 0.0);
    assert!(minutes(300, "10s", "retries") <= 2.0);
    for (load, plateau) in [(300, "2s"), (300, "10s"), (800, "2s"), (800, "10s")] {
        assert!(minutes(load, plateau, "retries-throttled") <= 1.0);
    }
}
