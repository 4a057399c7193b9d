//! Health checks against faults, each scenario's outcome exact: active probes find a crashed
//! instance after their unhealthy threshold and take a restarted one back after their healthy
//! one; outlier ejection takes out an instance whose answers fail, for its time, and again.

use crate::support::{assert_error_at, experiment, load_error, run_conserved, summary_of};
use surge::metrics::Outcome;

/// Four single-core instances behind round robin at 200 requests/s of 10 ms; the first
/// crashes at 61 s and its process starts again 30 s later, then takes 10 s of start-up.
/// `checks` is the service's health settings.
fn crash_model(checks: &str) -> String {
    format!(
        r#"{{ "duration": "150s", "warmup": "0s", "seed": 5, "resolution": "1s",
          "model": {{ "services": {{ "api": {{ "replicas": 4,
            "instance": {{ "cores": 1, "runtime": "thread_pool" }},
            "lifecycle": {{ "startup": "10s" }},
            {checks}
            "faults": [ {{ "at": "61s", "for": "30s", "kind": "crash", "instances": 1 }} ],
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "10ms" }} }} ] }} }} }} }} }},
          "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": 200 }},
                           "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ] }}"#
    )
}

/// Probes every 10 s, two failures to take out, two passes to put back (the Mercenary
/// guide's thresholds at a third of its interval). The crash at 61 s is refused by the probes
/// at 70 and 80 s, so the instance leaves rotation at 80 s, and the 19 s between cost a
/// quarter of the requests (round robin still sends it its turn): 200 x 19 / 4 = 950 refused
/// (Poisson counts: sd 16). It is ready again at 101 s, passes at 110 and 120 s, and is back
/// at 120 s; the probes at 90 and 100 s found it still starting. Without checks the
/// balancer knows at once and refuses nothing.
#[test]
fn active_checks_find_a_crash_after_their_threshold_and_take_the_instance_back_after_theirs() {
    let checks = r#""health_check": { "interval": "10s", "timeout": "2s", "unhealthy_threshold": 2, "healthy_threshold": 2 },"#;
    let results = run_conserved(&experiment("health-crash", &crash_model(checks)));
    let r = &results[0];
    let s = &r.output.summary;
    let h = s.services["api"].health.expect("health figures");
    assert_eq!(
        (h.probes_failed, h.marked_unhealthy, h.marked_healthy),
        (4, 1, 1),
        "{h:?}"
    );
    assert!((h.refused as f64 - 950.0).abs() < 80.0, "{h:?}");
    // Requests failed as `crashed`: the refused ones and the few the process held.
    let crashed = s
        .outcomes
        .get(Outcome::Crashed.name())
        .copied()
        .unwrap_or(0);
    assert!(
        crashed >= h.refused && crashed < h.refused + 20,
        "{crashed} vs {h:?}"
    );
    for row in &r.output.timeseries {
        let in_rotation = row.services[0].in_rotation;
        let t = row.t_s;
        let want = if (80.0..120.0).contains(&(t + 1.0)) {
            3
        } else {
            4
        };
        if (t - 79.0).abs() > 0.5 && (t - 119.0).abs() > 0.5 {
            assert_eq!(in_rotation, want, "at {t} s");
        }
    }

    // The replicas plot draws what the balancer sends to where it differs from what is ready.
    let exp = experiment("health-crash-plot", &crash_model(checks));
    let report = surge::report::Report::new(&exp, &results);
    let plot = surge::report::plots::replicas(&report, &results)
        .unwrap()
        .unwrap();
    assert!(plot.svg.contains("data-series=\"base: in rotation\""));
    assert!(
        plot.svg.lines().any(|l| l == "in rotation"),
        "the legend names it"
    );

    let unchecked = run_conserved(&experiment("health-crash-unchecked", &crash_model("")));
    let exp = experiment("health-crash-unchecked-plot", &crash_model(""));
    let report = surge::report::Report::new(&exp, &unchecked);
    let plot = surge::report::plots::replicas(&report, &unchecked)
        .unwrap()
        .unwrap();
    assert!(
        !plot.svg.contains("in rotation"),
        "no line where nothing differs"
    );
    let s = summary_of(&unchecked, "base");
    assert!(s.services["api"].health.is_none());
    let crashed = s
        .outcomes
        .get(Outcome::Crashed.name())
        .copied()
        .unwrap_or(0);
    assert!(crashed < 20, "only what the process held: {crashed}");
}

/// The same fleet, but the first instance hangs from 61 s to 101 s: its probes are not
/// refused but unanswered, so each fails only at its 2 s timeout: the probes of 70 and 80 s
/// take it out at 82 s; those of 90 and 100 s fail too (the hang lasts until 101 s); those of
/// 110 and 120 s pass and put it back at 120 s. Nothing is refused (the process is up), but
/// the requests it was sent before 82 s wait out the hang.
#[test]
fn active_checks_find_a_hang_only_when_their_probes_time_out() {
    let checks = r#""health_check": { "interval": "10s", "timeout": "2s", "unhealthy_threshold": 2, "healthy_threshold": 2 },"#;
    let json = crash_model(checks).replace(
        r#""at": "61s", "for": "30s", "kind": "crash""#,
        r#""at": "61s", "for": "40s", "kind": "hang""#,
    );
    let results = run_conserved(&experiment("health-hang-probed", &json));
    let r = &results[0];
    let h = r.output.summary.services["api"]
        .health
        .expect("health figures");
    assert_eq!(
        (
            h.probes_failed,
            h.marked_unhealthy,
            h.marked_healthy,
            h.refused
        ),
        (4, 1, 1, 0),
        "{h:?}"
    );
    for row in &r.output.timeseries {
        let t = row.t_s;
        let want = if (82.0..120.0).contains(&(t + 1.0)) {
            3
        } else {
            4
        };
        if (t - 81.0).abs() > 0.5 && (t - 119.0).abs() > 0.5 {
            assert_eq!(row.services[0].in_rotation, want, "at {t} s");
        }
    }
    // About 21 s x 50 requests/s sent to it before it left rotation, all answered late.
    assert!(r.output.summary.latency_s.p99 > 1.0);
}

/// A gateway calls four instances (round robin, 1 s call timeout, 25 calls/s each); the first
/// hangs from 30 s to 90 s. Outlier detection ejects it once 5 calls in a row got no answer,
/// for 30 s: at about 31.2 s (the fifth call's timeout), let back at about 61.2 s, still
/// hung, ejected again at about 62.4 s, let back at about 92.4 s, after the hang: 2
/// ejections. The calls sent to it before each ejection took effect time out: about 1.2 s x
/// 25/s = 30 each time (Poisson arrivals: sd about 3.5 for the pair).
#[test]
fn outlier_detection_ejects_a_hung_instance_for_its_time_and_again() {
    let json = r#"{ "duration": "120s", "warmup": "0s", "seed": 9,
      "model": { "services": {
        "gateway": { "replicas": 1, "instance": { "cores": 8 },
          "endpoints": { "e": { "steps": [ { "call": { "service": "api", "endpoint": "e", "timeout": "1s" } } ] } } },
        "api": { "replicas": 4, "instance": { "cores": 1, "runtime": "thread_pool" },
          "outlier_detection": { "consecutive_errors": 5, "eject_for": "30s", "max_ejected": 0.5 },
          "faults": [ { "at": "30s", "for": "60s", "kind": "hang", "instances": 1 } ],
          "endpoints": { "e": { "steps": [ { "cpu": "1ms" } ] } } } } },
      "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 100 },
                       "mix": [ { "service": "gateway", "endpoint": "e" } ] } ] }"#;
    let results = run_conserved(&experiment("health-hang", json));
    let s = summary_of(&results, "base");
    let h = s.services["api"].health.expect("health figures");
    assert_eq!(h.ejections, 2, "{h:?}");
    let call = &s.calls.values().next().expect("the gateway's call");
    let timed_out = call.outcomes.get("timed_out").copied().unwrap_or(0);
    assert!((timed_out as f64 - 60.0).abs() < 20.0, "{call:?}");
}

/// An errors fault at rate 1 on the first of four instances (a bad deploy) from 30 s to 90 s;
/// outlier detection at 5 errors ejects it after its fifth failed answer, lets it back 30 s
/// later to fail five more and be ejected again, and lets it back at about 90 s, healthy: 10
/// requests fail in all, 2 ejections.
#[test]
fn outlier_detection_stops_a_bad_deploy_after_five_errors_a_time() {
    let json = r#"{ "duration": "120s", "warmup": "0s", "seed": 3,
      "model": { "services": { "api": { "replicas": 4, "instance": { "cores": 1, "runtime": "thread_pool" },
          "outlier_detection": { "consecutive_errors": 5, "eject_for": "30s" },
          "faults": [ { "at": "30s", "for": "60s", "kind": "errors", "rate": 1, "instances": 1 } ],
          "endpoints": { "e": { "steps": [ { "cpu": "1ms" } ] } } } } },
      "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 100 },
                       "mix": [ { "service": "api", "endpoint": "e" } ] } ] }"#;
    let results = run_conserved(&experiment("health-errors", json));
    let s = summary_of(&results, "base");
    assert_eq!(s.services["api"].health.unwrap().ejections, 2);
    assert_eq!(s.outcomes.get(Outcome::Failed.name()).copied(), Some(10));
}

#[test]
fn bad_health_checks_and_faults_are_refused_with_their_path() {
    let base = crash_model(
        r#""health_check": { "interval": "10s", "timeout": "2s" }, "outlier_detection": { "consecutive_errors": 5 },"#,
    );
    for (tag, from, to, path, words) in [
        (
            "hc-timeout",
            r#""timeout": "2s""#,
            r#""timeout": "20s""#,
            "model.services.api.health_check.timeout",
            "must not exceed the interval",
        ),
        (
            "hc-interval",
            r#""interval": "10s""#,
            r#""interval": "0s""#,
            "model.services.api.health_check.interval",
            "interval",
        ),
        (
            "hc-threshold",
            r#""timeout": "2s""#,
            r#""timeout": "2s", "healthy_threshold": 0"#,
            "model.services.api.health_check.healthy_threshold",
            "from 1 to 100",
        ),
        (
            "od-errors",
            r#""consecutive_errors": 5"#,
            r#""consecutive_errors": 0"#,
            "model.services.api.outlier_detection.consecutive_errors",
            "from 1 to 1000",
        ),
        (
            "od-share",
            r#""consecutive_errors": 5"#,
            r#""consecutive_errors": 5, "max_ejected": 1.5"#,
            "model.services.api.outlier_detection.max_ejected",
            "at most 1",
        ),
        (
            "fault-rate",
            r#""kind": "crash""#,
            r#""kind": "errors", "rate": 0"#,
            "model.services.api.faults[0].rate",
            "above 0",
        ),
        (
            "fault-no-rate",
            r#""kind": "crash""#,
            r#""kind": "errors""#,
            "model.services.api.faults[0].rate",
            "needs its `rate`",
        ),
        (
            "fault-factor",
            r#""kind": "crash""#,
            r#""kind": "hang", "factor": 3"#,
            "model.services.api.faults[0].factor",
            "a hang fault has no `factor`",
        ),
        (
            "fault-kind",
            r#""kind": "crash""#,
            r#""kind": "meltdown""#,
            "model.services.api.faults[0].kind",
            "unknown kind `meltdown`",
        ),
    ] {
        assert!(base.contains(from), "{tag}");
        let e = load_error(tag, &base.replacen(from, to, 1));
        assert_error_at(&e, path, words);
    }
}

/// The bundled zone outage: zone a's three instances die at 60 s. With health checks the
/// balancer keeps sending to them until its probes find them, and least connections sends
/// them more than their share (a dead instance holds nothing, so it always looks least
/// loaded); the survivors then carry everything, which nine instances can and six cannot
/// (their queues fill and refuse). Without checks nothing is sent to the dead zone; only what
/// its processes held fails.
#[test]
fn the_bundled_zone_outage_shows_detection_and_what_survivors_carry() {
    let path = crate::support::repo().join("experiments/zone-outage.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let results = run_conserved(&experiment("zone-outage", &text));
    let nine = summary_of(&results, "nine-instances");
    let h = nine.services["api"].health.unwrap();
    assert_eq!((h.marked_unhealthy, h.marked_healthy), (3, 3), "{h:?}");
    // About 20 s until the probes find them, at 500 req/s, more than a third of it.
    assert!(h.refused > 2_000 && h.refused < 6_000, "{h:?}");
    let zones = &nine.services["api"].zones;
    assert!(zones["a"].routed_fraction < 0.2 && zones["b"].routed_fraction > 0.4);
    assert!(nine.error_rate < 0.02, "{}", nine.error_rate);
    let six = summary_of(&results, "six-instances");
    assert!(six.outcomes[Outcome::Rejected.name()] as f64 / 240_000.0 > 0.05);
    // Only the requests the dead processes held fail (a handful).
    let unchecked = summary_of(&results, "nine-no-checks");
    assert!(unchecked.outcomes[Outcome::Crashed.name()] < 20);
    let errors: u64 = unchecked
        .outcomes
        .iter()
        .filter(|(k, _)| k.as_str() != Outcome::Ok.name())
        .map(|(_, n)| n)
        .sum();
    assert_eq!(errors, unchecked.outcomes[Outcome::Crashed.name()]);
}

#[test]
fn zone_faults_name_a_zone_of_the_service() {
    let base = crash_model("").replace(
        r#""replicas": 4,"#,
        r#""replicas": 4, "zones": ["a", "b"],"#,
    );
    for (tag, from, to, path, words) in [
        (
            "zone-unknown",
            r#""instances": 1 }"#,
            r#""zone": "c" }"#,
            "model.services.api.faults[0].zone",
            "unknown zone `c` (the service's zones: a, b)",
        ),
        (
            "zone-twice",
            r#""zones": ["a", "b"]"#,
            r#""zones": ["a", "a"]"#,
            "model.services.api.zones[1]",
            "named twice",
        ),
        (
            "zone-none",
            r#""zones": ["a", "b"]"#,
            r#""zones": []"#,
            "model.services.api.zones",
            "1 to 16 zones",
        ),
    ] {
        assert!(base.contains(from), "{tag}");
        let e = load_error(tag, &base.replacen(from, to, 1));
        assert_error_at(&e, path, words);
    }
}

/// Failures at random: one instance failing with MTBF 60 s and repaired with MTTR 10 s (no
/// start-up) is an alternating renewal process, ready a share MTBF / (MTBF + MTTR) = 6/7 of
/// the time; the requests that arrive while it is down find no instance. Over 20 h, about
/// 72,000 / 70 = 1,029 cycles: the down share's standard error is about 0.0054 (delta method
/// on the cycles' exponential up and down times), the failure count's about 28.
#[test]
fn failures_at_random_leave_an_instance_up_mtbf_over_mtbf_plus_mttr() {
    let json = r#"{ "duration": "20h", "warmup": "0s", "seed": 4, "resolution": "1h",
      "model": { "services": { "api": { "replicas": 1, "instance": { "cores": 1 },
        "failures": { "mtbf": "60s", "mttr": "10s" },
        "endpoints": { "e": { "steps": [ { "cpu": "1ms" } ] } } } } },
      "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 10 },
                       "mix": [ { "service": "api", "endpoint": "e" } ] } ] }"#;
    let results = run_conserved(&experiment("failures-random", json));
    let s = summary_of(&results, "base");
    let ended: u64 = s.outcomes.values().sum();
    let down = s.outcomes[Outcome::NoInstance.name()] as f64 / ended as f64;
    assert!((down - 1.0 / 7.0).abs() < 4.0 * 0.0054, "down {down}");
    let failures = s.services["api"].failures as f64;
    assert!(
        (failures - 72_000.0 / 70.0).abs() < 4.0 * 28.0,
        "{failures}"
    );
    let e = load_error(
        "failures-zero",
        &json.replace(r#""mttr": "10s""#, r#""mttr": "0s""#),
    );
    assert_error_at(&e, "model.services.api.failures.mttr", "mttr");
}
