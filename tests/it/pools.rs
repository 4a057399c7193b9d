//! Connection pools: a pool of c connections held for exponential query times under Poisson
//! calls is an M/M/c queue (M/M/c/K with a client limit), checked against Erlang's formulas,
//! and Mercenary's pgbouncer and City Explorer's per-instance pool as scenarios.

use crate::support::{assert_conserved, assert_error_at, erlang_c, experiment, load_error};
use crate::support::{only, repo, run, summary_of};

fn model(pool: &str, rps: f64, duration: &str) -> String {
    format!(
        r#"{{ "model": {{ "pools": {{ "p": {pool} }},
      "services": {{
        "api": {{ "replicas": 2, "instance": {{ "cores": 4 }}, "endpoints": {{ "e": {{ "steps": [
          {{ "call": {{ "service": "db", "endpoint": "q", "pool": "p" }} }} ] }} }} }},
        "db": {{ "replicas": 1, "instance": {{ "cores": 64 }}, "endpoints": {{ "q": {{ "steps": [
          {{ "io": {{ "kind": "exponential", "mean": "10ms" }} }} ] }} }} }} }} }},
      "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": {rps} }}, "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ],
      "duration": "{duration}", "warmup": "20s", "seed": 5 }}"#
    )
}

/// A shared pool of c = 10 connections, each call holding one for an exponential 10 ms
/// (mu = 100/s), Poisson calls at lambda = 800/s: an M/M/c queue with a = 8. The share of
/// calls that wait is Erlang C(10, 8) = 0.409 and the mean wait of those C / (c mu - lambda)
/// / C = 1 / (c mu - lambda) = 5 ms. 280 s of calls at this load are about 3,000 independent
/// stretches of the queue's relaxation time (about 0.09 s), so the waiting share has a
/// standard error near 0.009: tolerance 0.04; the mean wait 10%.
#[test]
fn a_shared_pool_is_an_mmc_queue_erlang_c() {
    let exp = experiment(
        "pool-mmc",
        &model(r#"{ "scope": "shared", "size": 10 }"#, 800.0, "300s"),
    );
    let results = run(&exp);
    let s = &only(&results).output.summary;
    assert_conserved("pool-mmc", s);
    let p = &s.pools["p"];
    let c = erlang_c(10, 8.0);
    assert!(
        (p.exhausted_fraction - c).abs() < 0.04,
        "waited {} vs Erlang C {c}",
        p.exhausted_fraction
    );
    let w = 1.0 / (1000.0 - 800.0);
    assert!(
        (p.mean_wait_s - w).abs() < 0.1 * w,
        "mean wait {} vs {w}",
        p.mean_wait_s
    );
    assert_eq!(p.peak_in_use, 10);
    assert_eq!((p.timeouts, p.refused), (0, 0));
}

/// M/M/c/K: c connections, at most K callers holding or waiting; an arrival finding K is
/// refused with probability P_K = (a^K / (c! c^(K - c))) P_0.
fn mmck_blocking(c: u32, k: u32, a: f64) -> f64 {
    let mut terms = Vec::new();
    let mut t = 1.0; // a^n / n! for n <= c
    for n in 0..=k {
        if n > 0 {
            t *= if n <= c {
                a / f64::from(n)
            } else {
                a / f64::from(c)
            };
        }
        terms.push(t);
    }
    terms[k as usize] / terms.iter().sum::<f64>()
}

/// `experiments/connection-pools.json` (M-12, C-21): 2,500 queries/s of 10 ms against
/// pgbouncer's 20 connections and 100 clients is M/M/20/100 at a = 25: it refuses P_100 of
/// the calls (0.2000; 150,000 calls give a standard error near 0.001 before correlation:
/// tolerance 0.01). A pool of 100 and four per-instance pools of 20 never wait long enough
/// to time out; four pools of 5 with no client limit queue until the 2 s timeout.
#[test]
fn pgbouncer_refuses_what_twenty_connections_cannot_queue() {
    let exp = surge::config::load_experiment(&repo().join("experiments/connection-pools.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let results = run(&exp);
    for r in &results {
        assert_conserved(&r.variant, &r.output.summary);
    }
    let bouncer = &summary_of(&results, "pgbouncer-20").pools["pgbouncer"];
    let asked = bouncer.acquired + bouncer.refused;
    let refused = bouncer.refused as f64 / asked as f64;
    let expected = mmck_blocking(20, 100, 25.0);
    assert!(
        (refused - expected).abs() < 0.01,
        "refused {refused} vs M/M/c/K {expected}"
    );
    assert_eq!(bouncer.peak_in_use, 20);
    let big = &summary_of(&results, "pgbouncer-100");
    assert_eq!(big.error_rate, 0.0);
    let per = &summary_of(&results, "per-instance-20");
    assert_eq!(per.error_rate, 0.0);
    assert!(per.pools["pgbouncer"].peak_in_use <= 20);
    let small = &summary_of(&results, "per-instance-5").pools["pgbouncer"];
    assert!(small.timeouts > 1000, "{small:?}");
    assert_eq!(small.refused, 0);
}

#[test]
fn bad_pools_are_refused_with_their_path() {
    for (tag, pool, path, words) in [
        (
            "zero-size",
            r#"{ "size": 0 }"#,
            "pools.p.size",
            "1 to 100000",
        ),
        (
            "clients-below-size",
            r#"{ "size": 10, "max_clients": 5 }"#,
            "pools.p.max_clients",
            "from the pool's size",
        ),
        (
            "zero-timeout",
            r#"{ "size": 10, "acquire_timeout": "0s" }"#,
            "pools.p.acquire_timeout",
            "longer than zero",
        ),
    ] {
        let e = load_error(tag, &model(pool, 1.0, "1s"));
        assert_error_at(&e, &format!("model.{path}"), words);
    }
    let json = model(r#"{ "size": 1 }"#, 1.0, "1s").replace(r#""pool": "p""#, r#""pool": "q""#);
    let e = load_error("unknown-pool", &json);
    assert_error_at(
        &e,
        "model.services.api.endpoints.e.steps[0].call.pool",
        "no pool `q`",
    );
}
