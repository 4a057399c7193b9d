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
