//! Results against queueing theory.
//!
//! A single-instance model with a `thread_pool` runtime, `c` cores, one exponential `cpu` step
//! and Poisson arrivals is exactly an M/M/c queue (FIFO run queue, c servers); with a constant
//! step it is M/D/c. Each case runs R independent replications (different seeds) and compares
//! the replication mean with the closed form. The tolerance follows from the sample: the
//! two-sided 99.9% Student-t half-width, t(0.9995, R-1) * s / sqrt(R), where s is the standard
//! deviation across replications (each replication mean is approximately normal by the CLT for
//! regenerative processes). A guard also requires that half-width to be small against the
//! value, so a noisy run cannot pass by being vague.

use crate::support::{erlang_c, experiment, run, slow};
use surge::experiment::stats::t_quantile;

struct Measured {
    response: Vec<f64>,
    wait: Vec<f64>,
    p_wait: Vec<f64>,
    queue: Vec<f64>,
    arrival_rate: Vec<f64>,
}

/// Runs the single-instance queue and gathers per-replication means.
fn queue(
    c: u32,
    rho: f64,
    service: &str,
    mean_s: f64,
    customers: u64,
    reps: u32,
    seed: u64,
) -> Measured {
    let lambda = rho * f64::from(c) / mean_s;
    let duration = customers as f64 / lambda;
    let json = format!(
        r#"{{
        "model": {{ "services": {{ "q": {{ "replicas": 1,
            "instance": {{ "cores": {c}, "runtime": "thread_pool" }},
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": {service} }} ] }} }} }} }} }},
        "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": {lambda} }},
                         "mix": [ {{ "service": "q", "endpoint": "e" }} ] }} ],
        "duration": "{duration:.3}s", "warmup": "{:.3}s", "seed": {seed}, "replications": {reps},
        "resolution": "{:.3}s"
    }}"#,
        duration * 0.05,
        duration / 10.0
    );
    let exp = experiment("queue", &json);
    let results = run(&exp);
    let mut m = Measured {
        response: vec![],
        wait: vec![],
        p_wait: vec![],
        queue: vec![],
        arrival_rate: vec![],
    };
    for r in &results {
        let s = &r.output.summary;
        let q = &s.services["q"];
        assert_eq!(s.error_rate, 0.0);
        m.response.push(s.latency_s.mean);
        m.wait.push(q.mean_cpu_wait_s);
        m.p_wait.push(q.cpu_wait_probability);
        m.queue.push(q.mean_queue_length);
        m.arrival_rate.push(s.arrival_rate_rps);
        // Little's law on a long stationary run: L = lambda W within 1%.
        let little = s.arrival_rate_rps * s.mean_response_s;
        assert!(
            (s.mean_in_flight - little).abs() <= 0.01 * little,
            "Little's law: L = {} but lambda W = {little}",
            s.mean_in_flight
        );
    }
    m
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Asserts the replication mean is within the 99.9% t half-width of `expected`, and that the
/// half-width is below `max_rel` of `expected`.
fn check(what: &str, values: &[f64], expected: f64, max_rel: f64) {
    let (mean, sd) = mean_sd(values);
    let n = values.len() as f64;
    let half = t_quantile(0.9995, n - 1.0) * sd / n.sqrt();
    assert!(
        half <= max_rel * expected,
        "{what}: the sample is too noisy to judge (half-width {half:.5} vs value {expected:.5}); simulate more"
    );
    assert!(
        (mean - expected).abs() <= half,
        "{what}: measured {mean:.5} +- {half:.5} (99.9%), theory {expected:.5}"
    );
}

fn scale() -> u64 {
    if slow() { 5 } else { 1 }
}

#[test]
fn mm1_mean_response_time_is_s_over_one_minus_rho() {
    // M/M/1: W = 1/(mu - lambda) = S/(1 - rho); Wq = rho S/(1 - rho); Lq = lambda Wq.
    let s = 0.01;
    for (rho, customers) in [
        (0.5, 200_000),
        (0.7, 200_000),
        (0.8, 300_000),
        (0.9, 500_000),
        (0.95, 1_000_000),
    ] {
        let m = queue(
            1,
            rho,
            r#"{"kind":"exponential","mean":"10ms"}"#,
            s,
            customers * scale(),
            8,
            11,
        );
        check(
            &format!("M/M/1 rho={rho} W"),
            &m.response,
            s / (1.0 - rho),
            0.15,
        );
        check(
            &format!("M/M/1 rho={rho} Wq"),
            &m.wait,
            rho * s / (1.0 - rho),
            0.15,
        );
        check(&format!("M/M/1 rho={rho} P(wait)"), &m.p_wait, rho, 0.05);
        let lq: Vec<f64> = m
            .wait
            .iter()
            .zip(&m.arrival_rate)
            .map(|(w, l)| w * l)
            .collect();
        check(
            &format!("M/M/1 rho={rho} Lq (Little)"),
            &m.queue,
            mean_sd(&lq).0,
            0.15,
        );
    }
}

#[test]
fn mmc_matches_erlang_c() {
    // M/M/c: P(wait) = C(c, a), Wq = C(c, a) / (c mu - lambda), W = Wq + 1/mu.
    let s = 0.01;
    for (c, rho, customers) in [
        (2, 0.7, 200_000),
        (4, 0.5, 200_000),
        (4, 0.8, 300_000),
        (4, 0.9, 500_000),
        (4, 0.95, 1_000_000),
        (8, 0.9, 500_000),
    ] {
        let a = rho * f64::from(c);
        let pw = erlang_c(c, a);
        let wq = pw / (f64::from(c) / s - a / s);
        let m = queue(
            c,
            rho,
            r#"{"kind":"exponential","mean":"10ms"}"#,
            s,
            customers * scale(),
            8,
            12,
        );
        check(&format!("M/M/{c} rho={rho} P(wait)"), &m.p_wait, pw, 0.05);
        check(&format!("M/M/{c} rho={rho} Wq"), &m.wait, wq, 0.15);
        check(&format!("M/M/{c} rho={rho} W"), &m.response, wq + s, 0.1);
    }
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    // M/D/1 (Pollaczek-Khinchine with zero service variance): Wq = rho S / (2 (1 - rho)).
    let s = 0.01;
    for (rho, customers) in [(0.5, 200_000), (0.8, 300_000), (0.9, 500_000)] {
        let m = queue(1, rho, r#""10ms""#, s, customers * scale(), 8, 13);
        let wq = rho * s / (2.0 * (1.0 - rho));
        check(&format!("M/D/1 rho={rho} Wq"), &m.wait, wq, 0.15);
        check(&format!("M/D/1 rho={rho} W"), &m.response, wq + s, 0.1);
    }
}

#[test]
fn erlang_c_formula_matches_a_table_value() {
    // C(2, 1) = 1/3 and C(4, 3.6) = 0.78775 (a standard table / hand calculation).
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    assert!((erlang_c(4, 3.6) - 0.787_753).abs() < 1e-6);
}
