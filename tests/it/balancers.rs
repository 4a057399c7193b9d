//! Balancers against their queueing results: the power of d choices against the supermarket
//! model, and bad balancer settings refused.

use crate::support::{assert_error_at, experiment, load_error, run};
use surge::experiment::stats::t_quantile;

/// `n` single-core instances (exponential service, mean 1 ms, FIFO) behind `balancer`, fed
/// Poisson arrivals at load `rho`: `reps` replications of `secs` seconds.
fn fleet(n: u32, rho: f64, balancer: &str, secs: u32, reps: u32) -> String {
    let rate = rho * f64::from(n) * 1000.0;
    format!(
        r#"{{ "model": {{ "services": {{ "q": {{ "replicas": {n},
            "instance": {{ "cores": 1, "runtime": "thread_pool" }},
            "balancer": {{ {balancer} }},
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "1ms" }} }} ] }} }} }} }} }},
          "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": {rate} }},
                           "mix": [ {{ "service": "q", "endpoint": "e" }} ] }} ],
          "duration": "{secs}s", "warmup": "1s", "seed": 41, "replications": {reps} }}"#
    )
}

fn mean_latencies_ms(json: &str, tag: &str) -> Vec<f64> {
    run(&experiment(tag, json))
        .iter()
        .map(|r| {
            assert_eq!(r.output.summary.error_rate, 0.0);
            r.output.summary.latency_s.mean * 1e3
        })
        .collect()
}

/// The supermarket model (Mitzenmacher; Vvedenskaya, Dobrushin and Karpelevich): with d
/// choices at load lambda, as the number of servers grows, the mean time in system is
/// sum_{k>=1} lambda^((d^k - d) / (d - 1)) service times, 2.6135 for d = 2 at 0.9 (M/M/1,
/// one choice, gives 10). 100 servers are close to the limit (finite fleets do slightly worse,
/// by O(1/n)): the replications' mean must lie within their 99.9% t half-width plus 2% of
/// the limit, and far from random's 10 and above least connections' (JSQ) near 1.
#[test]
fn power_of_two_choices_approaches_the_supermarket_limit() {
    let (lambda, d) = (0.9f64, 2u32);
    let limit: f64 = (1..=12)
        .map(|k| lambda.powf((d.pow(k) - d) as f64 / (d - 1) as f64))
        .sum();
    assert!((limit - 2.6135).abs() < 1e-3, "{limit}");
    let two = mean_latencies_ms(
        &fleet(100, lambda, r#""kind": "power_of_d", "d": 2"#, 4, 10),
        "p2-supermarket",
    );
    let n = two.len() as f64;
    let mean = two.iter().sum::<f64>() / n;
    let sd = (two.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let half = t_quantile(0.9995, n - 1.0) * sd / n.sqrt();
    assert!(half < 0.05 * limit, "too noisy to judge: +- {half}");
    assert!(
        (mean - limit).abs() <= half + 0.02 * limit,
        "power of two: {mean:.4} ms +- {half:.4}, limit {limit:.4}"
    );
    eprintln!("power of two: {mean:.4} ms +- {half:.4} (99.9%), limit {limit:.4}");
    let jsq = mean_latencies_ms(
        &fleet(100, lambda, r#""kind": "least_connections""#, 4, 1),
        "p2-jsq",
    );
    let random = mean_latencies_ms(
        &fleet(100, lambda, r#""kind": "random""#, 4, 1),
        "p2-random",
    );
    assert!(
        jsq[0] < 1.2 && jsq[0] < mean,
        "least connections {}",
        jsq[0]
    );
    assert!(random[0] > 8.0, "random {}", random[0]);
    // With replacement a pick sometimes compares an instance with itself: a little worse.
    let with = mean_latencies_ms(
        &fleet(
            100,
            lambda,
            r#""kind": "power_of_d", "d": 2, "replacement": true"#,
            8,
            1,
        ),
        "p2-replacement",
    );
    assert!(
        with[0] > limit && with[0] < 3.0,
        "with replacement {}",
        with[0]
    );
}

#[test]
fn bad_power_of_d_settings_are_refused_with_their_path() {
    for (tag, balancer, words) in [
        ("p2-zero", r#""kind": "power_of_d", "d": 0"#, "1 to 64"),
        ("p2-large", r#""kind": "power_of_d", "d": 65"#, "1 to 64"),
        (
            "p2-fleet",
            r#""kind": "power_of_d", "d": 5"#,
            "larger than the fleet (4 replicas)",
        ),
    ] {
        let e = load_error(tag, &fleet(4, 0.5, balancer, 2, 1));
        assert_error_at(&e, "model.services.q.balancer.d", words);
    }
    let ok = fleet(
        4,
        0.5,
        r#""kind": "power_of_d", "d": 5, "replacement": true"#,
        2,
        1,
    );
    let path = crate::support::write_experiment("p2-ok", &ok);
    if let Err(e) = surge::config::load_experiment(&path) {
        panic!("d above the fleet with replacement is fine: {e}");
    }
}

/// Two big instances (4 cores) and two small ones (1 core) behind `balancer`, each group
/// weighted by its cores, offered 60% of the fleet's 10 cores.
fn mixed_fleet(balancer: &str) -> String {
    r#"{ "model": { "services": { "q": { "replicas": 4,
        "instance": { "cores": 1, "runtime": "thread_pool" }, "weight": 1,
        "groups": [ { "name": "big", "instances": 2,
                      "instance": { "cores": 4, "runtime": "thread_pool" }, "weight": 4 } ],
        "balancer": { BALANCER },
        "endpoints": { "e": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } } ] } } } } },
      "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 600 },
                       "mix": [ { "service": "q", "endpoint": "e" } ] } ],
      "duration": "60s", "warmup": "5s", "seed": 7 }"#
        .replace("BALANCER", balancer)
}

/// nginx's smooth weighted round robin sends each instance its weight's share: weights 4:4:1:1
/// give the two big instances 80% of the requests, within one request of it (the picks are
/// deterministic), and so load every core alike, where plain round robin gives each instance a
/// quarter and runs the small ones at 1.5 times their capacity (rho = 150 x 10 ms / 1 core).
#[test]
fn weighted_round_robin_splits_by_weight_and_evens_a_mixed_fleet() {
    let wrr = run(&experiment(
        "wrr-mixed",
        &mixed_fleet(r#""kind": "weighted_round_robin""#),
    ));
    let svc = &wrr[0].output.summary.services["q"];
    let (big, rest) = (&svc.groups["big"], &svc.groups["rest"]);
    let total = (big.routed + rest.routed) as f64;
    assert!(
        (big.routed as f64 - 0.8 * total).abs() <= 2.0,
        "big routed {} of {total}",
        big.routed
    );
    for p in &svc.per_instance {
        let share = p.routed as f64 / total;
        let want = if p.group.is_some() { 0.4 } else { 0.1 };
        assert!((share - want).abs() < 1e-3, "{p:?}");
    }
    // Every core at the offered 60% (sd of a 55 s utilisation estimate at 10 ms service
    // times is under 1%).
    for g in [big, rest] {
        assert!((g.cpu_utilisation - 0.6).abs() < 0.04, "{g:?}");
    }
    assert_eq!(wrr[0].output.summary.error_rate, 0.0);

    let rr = run(&experiment(
        "rr-mixed",
        &mixed_fleet(r#""kind": "round_robin""#),
    ));
    let svc = &rr[0].output.summary.services["q"];
    assert!((svc.groups["big"].routed_fraction - 0.5).abs() < 1e-3);
    // The small instances saturate: their queues grow all run, the big ones idle at 37.5%.
    assert!(svc.groups["rest"].cpu_utilisation > 0.99, "{svc:?}");
    assert!((svc.groups["big"].cpu_utilisation - 0.375).abs() < 0.03);
    assert!(
        rr[0].output.summary.latency_s.p99 > 10.0 * wrr[0].output.summary.latency_s.p99,
        "round robin p99 {} vs weighted {}",
        rr[0].output.summary.latency_s.p99,
        wrr[0].output.summary.latency_s.p99
    );
}

#[test]
fn bad_weights_and_groups_are_refused_with_their_path() {
    let base = mixed_fleet(r#""kind": "weighted_round_robin""#);
    for (tag, from, to, path, words) in [
        (
            "w-zero",
            r#""weight": 4 }"#,
            r#""weight": 0 }"#,
            "model.services.q.groups[0].weight",
            "from 1 to 1000",
        ),
        (
            "w-negative",
            r#""weight": 1,"#,
            r#""weight": -2,"#,
            "model.services.q.weight",
            "from 1 to 1000",
        ),
        (
            "g-rest",
            r#""name": "big""#,
            r#""name": "rest""#,
            "model.services.q.groups[0].name",
            "names the instances in no group",
        ),
        (
            "g-empty",
            r#""instances": 2,"#,
            r#""instances": 0,"#,
            "model.services.q.groups[0].instances",
            "from 1 to",
        ),
        (
            "g-runtime",
            r#""cores": 4, "runtime": "thread_pool""#,
            r#""cores": 4, "runtime": "event_loop""#,
            "model.services.q.groups[0].instance.runtime",
            "the service's runtime",
        ),
        (
            "g-resize",
            r#""weight": 1,"#,
            r#""weight": 1, "schedule": [ { "at": "10s", "resize": { "instance": { "cores": 2, "runtime": "thread_pool" } } } ],"#,
            "model.services.q.schedule[0].resize",
            "instance groups",
        ),
    ] {
        assert!(base.contains(from), "{tag}");
        let e = load_error(tag, &base.replacen(from, to, 1));
        assert_error_at(&e, path, words);
    }
}

/// Ten single-core instances, the first ten times slower all run (a gray failure: it answers,
/// late), at 60% of the healthy capacity: 600 requests/s of 10 ms.
fn gray_fleet(balancer: &str) -> String {
    r#"{ "model": { "services": { "q": { "replicas": 10,
        "instance": { "cores": 1, "runtime": "thread_pool" },
        "balancer": { BALANCER },
        "faults": [ { "at": "0s", "for": "60s", "kind": "slow", "factor": 10, "instances": 1 } ],
        "endpoints": { "e": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } } ] } } } } },
      "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 600 },
                       "mix": [ { "service": "q", "endpoint": "e" } ] } ],
      "duration": "60s", "warmup": "5s", "seed": 11 }"#
        .replace("BALANCER", balancer)
}

/// The slow instance's share of the requests, and the run's mean and p99 latency.
fn gray(tag: &str, balancer: &str) -> (f64, f64, f64) {
    let r = run(&experiment(tag, &gray_fleet(balancer)));
    let s = &r[0].output.summary;
    assert_eq!(s.error_rate, 0.0, "{tag}");
    let per = &s.services["q"].per_instance;
    let total: u64 = per.iter().map(|p| p.routed).sum();
    (
        per[0].routed as f64 / total as f64,
        s.latency_s.mean,
        s.latency_s.p99,
    )
}

/// A slow instance is what latency-aware balancers are for. Round robin sends it its tenth
/// and, at 10 x 60% offered, it never catches up; least connections sends it less (its
/// requests pile up); least response time and peak EWMA rank it by its answers' latency times
/// its open requests plus one and send it under 1%, but not nothing: its estimate decays
/// between answers, so it is tried again (an instance avoided for ever could never be seen to
/// recover).
#[test]
fn latency_aware_balancers_avoid_a_slow_instance_but_keep_probing_it() {
    let (rr_share, rr_mean, _) = gray("gray-rr", r#""kind": "round_robin""#);
    assert!((rr_share - 0.1).abs() < 1e-3, "{rr_share}");
    let (lc_share, lc_mean, lc_p99) = gray("gray-lc", r#""kind": "least_connections""#);
    let (lrt_share, lrt_mean, lrt_p99) = gray("gray-lrt", r#""kind": "least_response_time""#);
    let (ewma_share, ewma_mean, _) = gray("gray-ewma", r#""kind": "peak_ewma""#);
    eprintln!(
        "slow share: rr {rr_share:.4} lc {lc_share:.4} lrt {lrt_share:.4} ewma {ewma_share:.4}"
    );
    // Round robin overloads it: its queue grows all run.
    assert!(rr_mean > 0.2, "round robin mean {rr_mean}");
    assert!(lc_share < 0.03 && lc_mean < 0.03, "{lc_share} {lc_mean}");
    for (what, share) in [
        ("least response time", lrt_share),
        ("peak EWMA", ewma_share),
    ] {
        assert!(share > 0.0 && share < 0.01, "{what}: {share}");
    }
    assert!(
        lrt_mean < lc_mean && lrt_p99 < lc_p99,
        "{lrt_mean} {lrt_p99}"
    );
    assert!(ewma_mean < 0.03, "{ewma_mean}");
}

/// On equal instances least response time's cost is ranked by open requests times nearly
/// equal estimates, so it queues as join-the-shortest-queue does: within 10% of least
/// connections' mean at load 0.9 over 20 servers (both far below random's M/M/1 10 ms).
#[test]
fn least_response_time_on_equal_instances_queues_as_least_connections_does() {
    let lc = mean_latencies_ms(
        &fleet(20, 0.9, r#""kind": "least_connections""#, 20, 1),
        "lrt-jsq-lc",
    )[0];
    let lrt = mean_latencies_ms(
        &fleet(20, 0.9, r#""kind": "least_response_time""#, 20, 1),
        "lrt-jsq-lrt",
    )[0];
    eprintln!("least connections {lc:.3} ms, least response time {lrt:.3} ms");
    assert!((lrt - lc).abs() < 0.1 * lc, "{lrt} vs {lc}");
}

/// Mitzenmacher, "How useful is old information?" (2000): when every balancer sees loads
/// as of the last refresh, "pick the least loaded" sends everything between two refreshes to
/// the instances that looked idle, and herds; the power of two choices spreads its picks over
/// two random candidates and stays robust. 20 M/M/1 servers (1 ms) at load 0.9, loads
/// refreshed every 5 ms (five service times): least connections does worse than random's
/// 10 ms (M/M/1), power of two still better than half of it. Several balancer instances that
/// each count only their own connections (nginx workers, a fleet of proxies) see less than
/// one exact view but do not herd: far better than random.
#[test]
fn stale_loads_make_least_connections_herd_while_power_of_two_stays_robust() {
    let mean =
        |balancer: &str, tag: &str| mean_latencies_ms(&fleet(20, 0.9, balancer, 10, 1), tag)[0];
    let random = mean(r#""kind": "random""#, "stale-random");
    let exact = mean(r#""kind": "least_connections""#, "stale-exact");
    let herding = mean(
        r#""kind": "least_connections", "view": { "refresh": "5ms" }"#,
        "stale-lc",
    );
    let two = mean(
        r#""kind": "power_of_d", "view": { "refresh": "5ms" }"#,
        "stale-p2",
    );
    let own = mean(
        r#""kind": "least_connections", "view": { "balancers": 4 }"#,
        "stale-own",
    );
    eprintln!(
        "random {random:.2} ms, exact {exact:.2}, stale least connections {herding:.2}, stale power of two {two:.2}, four own views {own:.2}"
    );
    // M/M/1 at 0.9: 10 ms, within the run's sampling error.
    assert!((random - 10.0).abs() < 1.0, "{random}");
    assert!(
        herding > random,
        "stale least connections {herding} vs random {random}"
    );
    assert!(two < 0.5 * random, "stale power of two {two}");
    assert!(
        exact < own && own < 0.3 * random,
        "exact {exact}, own views {own}"
    );
}

#[test]
fn bad_load_views_are_refused_with_their_path() {
    for (tag, view, path, words) in [
        (
            "view-both",
            r#"{ "refresh": "1s", "balancers": 2 }"#,
            "model.services.q.balancer.view",
            "either",
        ),
        (
            "view-none",
            r#"{}"#,
            "model.services.q.balancer.view",
            "either",
        ),
        (
            "view-one",
            r#"{ "balancers": 1 }"#,
            "model.services.q.balancer.view.balancers",
            "from 2 to 256",
        ),
        (
            "view-zero",
            r#"{ "refresh": "0s" }"#,
            "model.services.q.balancer.view.refresh",
            "refresh",
        ),
    ] {
        let balancer = format!(r#""kind": "least_connections", "view": {view}"#);
        let e = load_error(tag, &fleet(4, 0.5, &balancer, 2, 1));
        assert_error_at(&e, path, words);
    }
}

/// The bundled comparison: on the even fleet least connections beats round robin, which
/// beats random, and 100 ms stale loads make least connections worse than random; on the
/// mixed fleet round robin saturates the small instances while weights by capacity keep every
/// core near the offered 51%.
#[test]
fn the_bundled_balancer_comparison_ranks_the_algorithms() {
    let path = crate::support::repo().join("experiments/lb-algorithms.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(r#""replications": 3"#, r#""replications": 1"#);
    let results = crate::support::run_conserved(&experiment("lb-algorithms", &text));
    let mean = |v: &str| crate::support::summary_of(&results, v).latency_s.mean;
    assert!(mean("even-least-conn") < mean("even-round-robin"));
    assert!(mean("even-round-robin") < mean("even-random"));
    assert!(mean("even-least-conn-stale") > mean("even-random"));
    assert!(mean("even-power-of-two-stale") < mean("even-least-conn-stale"));
    let mixed = |v: &str, g: &str| {
        crate::support::summary_of(&results, v).services["api"].groups[g].cpu_utilisation
    };
    assert!(mixed("mixed-round-robin", "rest") > 0.99);
    assert!((mixed("mixed-weighted", "rest") - 0.51).abs() < 0.05);
}
