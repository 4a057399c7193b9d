//! The seed claims issue 12 made testable (balancers, health checks, faults, retries), one
//! test per experiment in `experiments/seeds/`, at a horizon short enough for the suite; the
//! full runs' figures are in docs/seeds.md.

use crate::seeds_b::{keep, seed, set};
use crate::support::{run_conserved, summary_of};
use serde_json::json;
use surge::metrics::Outcome;

/// F-11, G-02, C-07: weights 3:2 give 60/40 and 9:1 give 90/10, to the request (the picks are
/// deterministic); weighted by cores a mixed fleet runs every core near the offered 51%,
/// where round robin saturates the 1-core instances.
#[test]
fn f11_weights_split_traffic_and_even_a_mixed_fleet() {
    let exp = seed("f11-weighted-round-robin", |_| {});
    let results = run_conserved(&exp);
    let share = |v: &str, g: &str| summary_of(&results, v).services["api"].groups[g].clone();
    assert!((share("canary-3-2", "stable").routed_fraction - 0.6).abs() < 1e-3);
    assert!((share("canary-9-1", "stable").routed_fraction - 0.9).abs() < 1e-3);
    // About 390 requests per small instance in the 110 s measured: each one's utilisation
    // has a standard error near 0.04, the six's mean 0.016.
    for g in ["big", "rest"] {
        let u = share("capacity-weighted", g).cpu_utilisation;
        assert!((u - 0.51).abs() < 0.07, "{g}: {u}");
    }
    assert!(share("capacity-round-robin", "rest").cpu_utilisation > 0.99);
}

/// C-09: with one instance ten times slower, least response time and peak EWMA send it under
/// 1% of the requests (round robin: its 10%, so that its queue grows all run and its answers
/// mostly not within the run), and answer faster on average than least connections.
#[test]
fn c09_least_response_time_avoids_the_slow_server() {
    let exp = seed("c09-least-response-time", |d| {
        set(d, "/duration", json!("40s"));
        set(d, "/replications", json!(1));
    });
    let results = run_conserved(&exp);
    let slow_share = |v: &str| {
        let per = &summary_of(&results, v).services["api"].per_instance;
        per[0].routed as f64 / per.iter().map(|p| p.routed).sum::<u64>() as f64
    };
    let mean = |v: &str| summary_of(&results, v).latency_s.mean;
    assert!((slow_share("round-robin") - 0.1).abs() < 1e-3);
    // Its tenth of the requests mostly never come back within the run.
    let ok = |v: &str| summary_of(&results, v).outcomes[Outcome::Ok.name()] as f64;
    assert!(
        ok("round-robin") < 0.95 * ok("least-connections"),
        "{} vs {}",
        ok("round-robin"),
        ok("least-connections")
    );
    for v in ["least-response-time", "peak-ewma"] {
        assert!(slow_share(v) < 0.01, "{v}: {}", slow_share(v));
    }
    assert!(mean("least-response-time") < mean("least-connections"));
}

/// M-17, G-06, C-10, F-04: a crash at 61 s, the process back at 91 s and ready at 101 s. Each
/// check finds it as its probes allow: every 10 s with 2 failures at 80 s (19 s of a quarter
/// of 400 req/s refused: 1,900, sd 22), every 5 s with one failure at 65 s (400), passively
/// after exactly 5 refusals and, let back while still down, 5 more (10); the guide's 30 s
/// probes see it fail once (at 90 s) and never take it out, so all its 40 s of downtime is
/// refused (4,000). Without checks the balancer knows at once.
#[test]
fn m17_health_checks_find_a_crash_as_their_probes_allow() {
    let results = run_conserved(&seed("m17-health-checks", |_| {}));
    let health = |v: &str| summary_of(&results, v).services["api"].health.unwrap();
    let near = |v: &str, want: f64, tol: f64| {
        let h = health(v);
        assert!((h.refused as f64 - want).abs() < tol, "{v}: {h:?}");
        h
    };
    let h = near("every-10s-2-2", 1900.0, 110.0);
    assert_eq!(
        (h.probes_failed, h.marked_unhealthy, h.marked_healthy),
        (4, 1, 1)
    );
    let h = near("every-5s-1-1", 400.0, 50.0);
    assert_eq!((h.marked_unhealthy, h.marked_healthy), (1, 1));
    let h = near("every-30s-2-2", 4000.0, 160.0);
    assert_eq!((h.probes_failed, h.marked_unhealthy), (1, 0));
    let h = health("passive-5-errors");
    assert_eq!((h.refused, h.ejections), (10, 2));
    let s = summary_of(&results, "no-checks");
    assert!(s.services["api"].health.is_none());
    assert!(
        s.outcomes
            .get(Outcome::Crashed.name())
            .copied()
            .unwrap_or(0)
            < 20
    );
}

/// C-20: N retries of a call that fails with probability 0.2 whatever the load succeed with
/// probability 1 - 0.2^(N+1), within four binomial standard errors.
#[test]
fn c20_retries_recover_transient_failures_geometrically() {
    let exp = seed("c20-retries", |d| {
        set(d, "/duration", json!("60s"));
        keep(d, &["no-retries", "1-retry", "2-retries"]);
    });
    let results = run_conserved(&exp);
    for (v, n) in [("no-retries", 0), ("1-retry", 1), ("2-retries", 2)] {
        let s = summary_of(&results, v);
        let want = 0.2f64.powi(n + 1);
        let ended: u64 = s.outcomes.values().sum();
        let sd = (want * (1.0 - want) / ended as f64).sqrt();
        assert!(
            (s.error_rate - want).abs() < 4.0 * sd,
            "{v}: {} vs {want} (sd {sd})",
            s.error_rate
        );
    }
}

/// M-24: at 1.5 times what its database can do, an API without a limit times out every
/// request (the database works through queries whose callers have gone); a token bucket,
/// shared or one per instance, passes its 760/s (to within its burst) and refuses the rest at
/// once, and what passes is answered within 100 ms at p99.
#[test]
fn m24_a_rate_limit_turns_a_collapse_into_fast_refusals() {
    let exp = seed("m24-rate-limiting", |d| set(d, "/duration", json!("60s")));
    let results = run_conserved(&exp);
    let none = summary_of(&results, "no-limit");
    assert!(none.error_rate > 0.95, "{}", none.error_rate);
    for v in ["shared-limit", "local-limits"] {
        let s = summary_of(&results, v);
        assert!(
            (s.throughput_rps - 760.0).abs() < 5.0,
            "{v}: {}",
            s.throughput_rps
        );
        assert!(s.latency_s.p99 < 0.1, "{v}: {}", s.latency_s.p99);
        assert_eq!(s.outcomes[Outcome::TimedOut.name()], 0, "{v}");
    }
}
