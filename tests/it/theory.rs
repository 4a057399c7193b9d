//! Results against queueing theory.
//!
//! A single-instance model with a `thread_pool` runtime, `c` cores, one exponential `cpu` step
//! and Poisson arrivals is exactly an M/M/c queue (FIFO run queue, c servers); with a constant
//! step it is M/D/c, with a `mixture` of exponentials M/H2/c; a client with an `interarrival`
//! distribution instead of a `rate` makes it GI/M/c. Each case runs R independent replications (different seeds) and compares
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

/// Runs the single-instance queue fed by Poisson arrivals and gathers per-replication means.
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
    let poisson = format!(r#""rate": {{ "kind": "constant", "rps": {lambda} }}"#);
    queue_fed_by(&poisson, lambda, c, service, customers, reps, seed)
}

/// Runs the single-instance queue with the client's arrivals as given (`"rate": ...` or
/// `"interarrival": ...`, at `lambda` per second on average).
fn queue_fed_by(
    arrivals: &str,
    lambda: f64,
    c: u32,
    service: &str,
    customers: u64,
    reps: u32,
    seed: u64,
) -> Measured {
    let duration = customers as f64 / lambda;
    let json = format!(
        r#"{{
        "model": {{ "services": {{ "q": {{ "replicas": 1,
            "instance": {{ "cores": {c}, "runtime": "thread_pool" }},
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": {service} }} ] }} }} }} }} }},
        "workload": [ {{ "kind": "open", {arrivals},
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

/// A two-branch hyperexponential as a `mixture` of exponentials: (probability, mean in s).
fn h2_json(branches: [(f64, f64); 2]) -> String {
    let [(p1, m1), (p2, m2)] = branches;
    format!(
        r#"{{ "kind": "mixture", "components": [
            {{ "weight": {p1}, "dist": {{ "kind": "exponential", "mean": "{}us" }} }},
            {{ "weight": {p2}, "dist": {{ "kind": "exponential", "mean": "{}us" }} }} ] }}"#,
        m1 * 1e6,
        m2 * 1e6
    )
}

/// GI/M/1: sigma is the root in (0, 1) of sigma = A*(mu (1 - sigma)), A* the Laplace
/// transform of the inter-arrival time. Iterating from 0 climbs monotonically to it (the other
/// root, 1, is above).
fn gim1_sigma(laplace: impl Fn(f64) -> f64, mu: f64) -> f64 {
    let mut sigma = 0.0;
    for _ in 0..100_000 {
        let next = laplace(mu * (1.0 - sigma));
        if (next - sigma).abs() < 1e-15 {
            return next;
        }
        sigma = next;
    }
    panic!("the fixed-point iteration for sigma did not settle")
}

#[test]
fn gi_m_1_with_renewal_arrivals_matches_its_exact_solution() {
    // GI/M/1: an arrival finds the server busy with probability sigma, waits
    // Wq = sigma / (mu (1 - sigma)), and its sojourn is exponential with mean
    // W = 1 / (mu (1 - sigma)).
    let s = 0.01;
    let mu = 1.0 / s;
    // D/M/1 at rho 0.8: a request every 12.5 ms, A*(x) = exp(-x a).
    let gap = s / 0.8;
    let d = gim1_sigma(|x| (-x * gap).exp(), mu);
    // H2/M/1 at rho 0.7: gaps of 0.5 a with probability 0.9 and 5.5 a otherwise (mean a, SCV
    // 5.5), A*(x) = sum p_i / (1 + x m_i).
    let a = s / 0.7;
    let h2 = [(0.9, 0.5 * a), (0.1, 5.5 * a)];
    let h = gim1_sigma(|x| h2.iter().map(|(p, m)| p / (1.0 + x * m)).sum(), mu);
    for (what, interarrival, lambda, sigma, customers, seed) in [
        (
            "D/M/1 rho=0.8",
            r#""12500us""#.to_string(),
            0.8 / s,
            d,
            200_000,
            21,
        ),
        ("H2/M/1 rho=0.7", h2_json(h2), 0.7 / s, h, 300_000, 22),
    ] {
        let m = queue_fed_by(
            &format!(r#""interarrival": {interarrival}"#),
            lambda,
            1,
            r#"{"kind":"exponential","mean":"10ms"}"#,
            customers * scale(),
            8,
            seed,
        );
        let w = 1.0 / (mu * (1.0 - sigma));
        check(&format!("{what} P(wait) = sigma"), &m.p_wait, sigma, 0.05);
        check(&format!("{what} Wq"), &m.wait, sigma * w, 0.15);
        check(&format!("{what} W"), &m.response, w, 0.1);
        check(
            &format!("{what} arrival rate"),
            &m.arrival_rate,
            lambda,
            0.02,
        );
    }
    // Where theory gives a reference: D/M/1 at rho 0.8 has sigma = 0.6286 (tables), and more
    // regular arrivals wait less than Poisson's (sigma = rho), burstier ones more.
    assert!((d - 0.6286).abs() < 1e-4, "D/M/1 sigma {d}");
    assert!(h > 0.7);
}

#[test]
fn mg1_with_hyperexponential_service_matches_pollaczek_khinchine() {
    // M/G/1 (Pollaczek-Khinchine): Wq = lambda E[S^2] / (2 (1 - rho)), W = Wq + E[S],
    // P(wait) = rho. H2 service: 5 ms with probability 0.9, 55 ms otherwise (mean 10 ms,
    // E[S^2] = 2 sum p_i m_i^2 = 650e-6 s^2, SCV 5.5).
    let branches = [(0.9, 0.005), (0.1, 0.055)];
    let mean: f64 = branches.iter().map(|(p, m)| p * m).sum();
    let second: f64 = branches.iter().map(|(p, m)| 2.0 * p * m * m).sum();
    let rho = 0.7;
    let lambda = rho / mean;
    let wq = lambda * second / (2.0 * (1.0 - rho));
    let m = queue(1, rho, &h2_json(branches), mean, 400_000 * scale(), 8, 23);
    check("M/H2/1 rho=0.7 P(wait)", &m.p_wait, rho, 0.05);
    check("M/H2/1 rho=0.7 Wq", &m.wait, wq, 0.15);
    check("M/H2/1 rho=0.7 W", &m.response, wq + mean, 0.15);
}

#[test]
fn erlang_c_formula_matches_a_table_value() {
    // C(2, 1) = 1/3 and C(4, 3.6) = 0.78775 (a standard table / hand calculation).
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    assert!((erlang_c(4, 3.6) - 0.787_753).abs() < 1e-6);
}
