//! The call graph against queueing theory: requests that call other services, fan out and
//! join, take random paths, and give up waiting.
//!
//! Every station is a single-instance `thread_pool` service whose endpoint starts with one
//! exponential (or constant, or Erlang) `cpu` step: with no concurrency limit a request is
//! admitted at once, its CPU step waits in the instance's FIFO run queue, and a caller waiting
//! for a call holds no core. So each station is a FIFO single server, and a request's route
//! through the graph is its route through a queueing network:
//! - a call after the CPU step is the next station of a tandem (Burke's theorem);
//! - a random `branch` after it is Markov routing (an open Jackson network, feedback included);
//! - `parallel` with `join: all` over calls is a fork-join queue (Flatto-Hahn, Nelson-Tantawi);
//! - `parallel` over `io` waits is the order statistics of independent exponentials;
//! - `queue_timeout` with `concurrency_limit: 1` is M/M/1 with deterministic patience (M/M/1+D);
//! - a call `timeout` to an M/M/1 times out with its sojourn's tail, and with
//!   `cancel_abandoned` the callee becomes an M/M/1+D;
//! - an `interarrival` mixture feeding a constant or Erlang step is H2/D/1 or H2/E2/1, against
//!   its exact spectral solution and Kingman's bound.
//!
//! As in `theory`, each case runs R independent replications and compares the mean over them
//! with the formula, within the two-sided 99.9% Student-t half-width
//! t(0.9995, R-1) s / sqrt(R), s the standard deviation across replications; a guard requires
//! that half-width to be small against the value, so a noisy run cannot pass by being vague.
//! Where the formula is an approximation its stated error is added to the tolerance, and where
//! it is a bound the check is one-sided.

use crate::support::{assert_conserved, experiment, run, slow};
use serde_json::{Value, json};
use surge::experiment::RunResult;
use surge::experiment::stats::t_quantile;
use surge::simulation::RunSummary;

/// Replications of every case.
const REPS: u32 = 8;

fn scale() -> u64 {
    if slow() { 5 } else { 1 }
}

/// The mean of `values` and its two-sided 99.9% Student-t half-width.
fn interval(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, t_quantile(0.9995, n - 1.0) * var.sqrt() / n.sqrt())
}

/// Asserts the replication mean of `values` is within the 99.9% t half-width plus
/// `model_rel * expected` (the stated error of an approximation; 0 for an exact result) of
/// `expected`, and that the half-width is below `max_rel` of `expected`.
fn check_within(what: &str, values: &[f64], expected: f64, model_rel: f64, max_rel: f64) {
    let (mean, half) = interval(values);
    assert!(
        half <= max_rel * expected.abs(),
        "{what}: the sample is too noisy to judge (half-width {half:.6} vs value {expected:.6}); simulate more"
    );
    let tolerance = half + model_rel * expected.abs();
    assert!(
        (mean - expected).abs() <= tolerance,
        "{what}: measured {mean:.6} +- {half:.6} (99.9%), theory {expected:.6} (tolerance {tolerance:.6})"
    );
}

/// [`check_within`] for an exact result.
fn check(what: &str, values: &[f64], expected: f64, max_rel: f64) {
    check_within(what, values, expected, 0.0, max_rel);
}

/// Asserts the replication mean of `values` does not exceed `bound` by more than its 99.9% t
/// half-width.
fn check_at_most(what: &str, values: &[f64], bound: f64) {
    let (mean, half) = interval(values);
    assert!(
        mean - half <= bound,
        "{what}: measured {mean:.6} +- {half:.6} (99.9%) exceeds the bound {bound:.6}"
    );
}

/// `f` of every replication's summary.
fn per_rep(results: &[RunResult], f: impl Fn(&RunSummary) -> f64) -> Vec<f64> {
    results.iter().map(|r| f(&r.output.summary)).collect()
}

/// A duration in whole nanoseconds, as the file format writes it.
fn ns(seconds: f64) -> String {
    format!("{}ns", (seconds * 1e9).round() as u64)
}

/// An exponential distribution with mean `seconds`.
fn exp(seconds: f64) -> Value {
    json!({"kind": "exponential", "mean": ns(seconds)})
}

/// One single-core `thread_pool` instance serving endpoint `e` with `steps`.
fn station(steps: Value) -> Value {
    json!({
        "replicas": 1,
        "instance": {"cores": 1, "runtime": "thread_pool"},
        "endpoints": {"e": {"steps": steps}}
    })
}

/// A call to endpoint `e` of `service`.
fn call(service: &str) -> Value {
    json!({"call": {"service": service, "endpoint": "e"}})
}

/// Runs `services` fed by an open client whose arrivals are `arrivals` (a `"rate"` or an
/// `"interarrival"` member, `lambda` per second on average) at `mix`, for about `customers`
/// requests per replication after a 5% warm-up. Every replication conserves requests, calls
/// and served requests.
fn simulate(
    tag: &str,
    services: Value,
    arrivals: (&str, Value),
    lambda: f64,
    mix: Value,
    customers: u64,
    seed: u64,
) -> Vec<RunResult> {
    let duration = customers as f64 / lambda / 0.95;
    let mut client = json!({"name": "c", "kind": "open", "mix": mix});
    client[arrivals.0] = arrivals.1;
    let exp = json!({
        "name": tag,
        "model": {"services": services},
        "workload": [client],
        "duration": format!("{duration:.3}s"),
        "warmup": format!("{:.3}s", duration * 0.05),
        "resolution": format!("{:.3}s", duration / 10.0),
        "seed": seed,
        "replications": REPS
    });
    let results = run(&experiment(tag, &exp.to_string()));
    for r in &results {
        assert_conserved(tag, &r.output.summary);
    }
    results
}

/// Poisson arrivals at `lambda` per second.
fn poisson(lambda: f64) -> (&'static str, Value) {
    ("rate", json!({"kind": "constant", "rps": lambda}))
}

/// The client's mix: every request to `service.e`.
fn to(service: &str) -> Value {
    json!([{"service": service, "endpoint": "e"}])
}

/// The t with P(T > t) = 1 - q for T the sum of independent exponentials of rates `a` != `b`
/// (hypoexponential): P(T > t) = (b e^{-a t} - a e^{-b t}) / (b - a).
fn hypoexponential_quantile(a: f64, b: f64, q: f64) -> f64 {
    let tail = |t: f64| (b * (-a * t).exp() - a * (-b * t).exp()) / (b - a);
    let (mut lo, mut hi) = (0.0, 100.0 / a.min(b));
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > 1.0 - q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn tandem_mm1_mm1_sojourn_is_the_sum_of_two_mm1_sojourns_burke() {
    // Burke: an M/M/1's departures are Poisson at rate lambda, so the second station of a
    // tandem is an M/M/1 too; Reich: a customer's sojourns at the two are independent. The
    // end-to-end sojourn T is then the sum of independent Exp(mu1 - lambda) and
    // Exp(mu2 - lambda): E[T] = 1/(mu1 - lambda) + 1/(mu2 - lambda), and its quantiles are the
    // hypoexponential's. Station a is [cpu, call b], b is [cpu]: one exponential visit each;
    // a's request waits for b without holding a core. With an exponential network latency of
    // mean l on the call, each way, the request crosses an infinite-server delay, whose
    // output is still Poisson: b is unchanged and E[T] grows by 2 l.
    let (lambda, mu1, mu2) = (60.0, 100.0, 80.0);
    let (a, b) = (mu1 - lambda, mu2 - lambda);
    for (latency, seed) in [(0.0, 31), (0.005, 30)] {
        let mut to_b = call("b");
        if latency > 0.0 {
            to_b["call"]["latency"] = exp(latency);
        }
        let services = json!({
            "a": station(json!([{"cpu": exp(1.0 / mu1)}, to_b])),
            "b": station(json!([{"cpu": exp(1.0 / mu2)}])),
        });
        let results = simulate(
            "tandem",
            services,
            poisson(lambda),
            lambda,
            to("a"),
            400_000 * scale(),
            seed,
        );
        let case = format!("tandem, latency {latency}s each way:");
        check(
            &format!("{case} E[T] = 1/(mu1-lambda) + 2 l + 1/(mu2-lambda)"),
            &per_rep(&results, |s| s.latency_s.mean),
            1.0 / a + 2.0 * latency + 1.0 / b,
            0.04,
        );
        if latency == 0.0 {
            for (q, measured, max_rel) in [
                (0.5, per_rep(&results, |s| s.latency_s.p50), 0.04),
                (0.99, per_rep(&results, |s| s.latency_s.p99), 0.06),
            ] {
                check(
                    &format!("{case} T quantile {q} (independent sojourns: hypoexponential)"),
                    &measured,
                    hypoexponential_quantile(a, b, q),
                    max_rel,
                );
            }
        }
        // Station b alone is an M/M/1 fed by a's Poisson departures.
        let b_served = per_rep(&results, |s| s.services["b"].endpoints["e"].latency_s.mean);
        check(
            &format!("{case} station b W = 1/(mu2-lambda)"),
            &b_served,
            1.0 / b,
            0.05,
        );
        let edge = per_rep(&results, |s| s.calls["a.e -> b.e"].latency_s.mean);
        check(
            &format!("{case} call a -> b as a saw it = 2 l + 1/(mu2-lambda)"),
            &edge,
            2.0 * latency + 1.0 / b,
            0.05,
        );
        for (name, mu) in [("a", mu1), ("b", mu2)] {
            let rho = lambda / mu;
            check(
                &format!("{case} station {name} utilisation = lambda/mu"),
                &per_rep(&results, |s| s.services[name].cpu_utilisation),
                rho,
                0.02,
            );
            check(
                &format!(
                    "{case} station {name} P(wait) = rho (Poisson arrivals see time averages)"
                ),
                &per_rep(&results, |s| s.services[name].cpu_wait_probability),
                rho,
                0.02,
            );
            check(
                &format!("{case} station {name} Wq = rho/(mu-lambda)"),
                &per_rep(&results, |s| s.services[name].mean_cpu_wait_s),
                rho / (mu - lambda),
                0.06,
            );
        }
    }
}

#[test]
fn open_jackson_network_with_feedback_matches_the_product_form() {
    // Station 1 routes to 2 with probability 0.6 and to 3 otherwise; 2 goes to 3; after 3 a
    // request visits 1 again with probability p (a new pass) or leaves. Traffic equations:
    // lambda_i = gamma_i + sum_j lambda_j P_ji. Jackson's theorem: in equilibrium each station
    // is marginally an M/M/1 at load rho_i = lambda_i / mu_i, and (arrival theorem) a visit
    // sees its time-stationary state, so per visit P(wait) = rho_i and
    // Wq_i = rho_i / (mu_i - lambda_i); Lq_i = rho_i^2 / (1 - rho_i). The end-to-end sojourn is
    // sum_i V_i / (mu_i - lambda_i), V_i = lambda_i / gamma the visits per request (Little on
    // the whole network). A request's served latency at a station includes its callees, so
    // the per-station figures come from the CPU queue, which is the station.
    let (gamma, p): (f64, f64) = (40.0, 0.3);
    let mu = [100.0, 50.0, 80.0];
    let routing = [[0.0, 0.6, 0.4], [0.0, 0.0, 1.0], [p, 0.0, 0.0]];
    // Solve lambda = gamma e_1 + lambda P by iteration (P's spectral radius is below one).
    let mut lambda = [gamma, 0.0, 0.0];
    for _ in 0..10_000 {
        let mut next = [gamma, 0.0, 0.0];
        for (j, row) in routing.iter().enumerate() {
            for (i, &pji) in row.iter().enumerate() {
                next[i] += lambda[j] * pji;
            }
        }
        lambda = next;
    }
    assert!((lambda[0] - gamma / (1.0 - p)).abs() < 1e-9, "{lambda:?}");
    let services = json!({
        "s1": station(json!([
            {"cpu": exp(1.0 / mu[0])},
            {"branch": [{"p": 0.6, "steps": [call("s2")]}, {"p": 0.4, "steps": [call("s3")]}]}
        ])),
        "s2": station(json!([{"cpu": exp(1.0 / mu[1])}, call("s3")])),
        "s3": station(json!([
            {"cpu": exp(1.0 / mu[2])},
            {"branch": [{"p": p, "steps": [call("s1")]}, {"p": 1.0 - p, "steps": []}]}
        ])),
    });
    let results = simulate(
        "jackson",
        services,
        poisson(gamma),
        gamma,
        to("s1"),
        400_000 * scale(),
        32,
    );
    let sojourn: f64 = (0..3)
        .map(|i| lambda[i] / gamma / (mu[i] - lambda[i]))
        .sum();
    check(
        "Jackson E[T] = sum V_i/(mu_i-lambda_i)",
        &per_rep(&results, |s| s.latency_s.mean),
        sojourn,
        0.04,
    );
    for i in 0..3 {
        let name = format!("s{}", i + 1);
        let rho = lambda[i] / mu[i];
        let visits = per_rep(&results, |s| {
            s.services[&name].endpoints["e"].arrivals as f64 / s.arrivals as f64
        });
        check(
            &format!("{name} visits per request V = lambda_i/gamma"),
            &visits,
            lambda[i] / gamma,
            0.01,
        );
        check(
            &format!("{name} utilisation = lambda_i/mu_i"),
            &per_rep(&results, |s| s.services[&name].cpu_utilisation),
            rho,
            0.02,
        );
        check(
            &format!("{name} P(wait) = rho_i"),
            &per_rep(&results, |s| s.services[&name].cpu_wait_probability),
            rho,
            0.02,
        );
        check(
            &format!("{name} Wq per visit = rho_i/(mu_i-lambda_i)"),
            &per_rep(&results, |s| s.services[&name].mean_cpu_wait_s),
            rho / (mu[i] - lambda[i]),
            0.06,
        );
        check(
            &format!("{name} Lq = rho_i^2/(1-rho_i)"),
            &per_rep(&results, |s| s.services[&name].mean_queue_length),
            rho * rho / (1.0 - rho),
            0.08,
        );
    }
}

/// H_n = 1 + 1/2 + ... + 1/n.
fn harmonic(n: u32) -> f64 {
    (1..=n).map(|i| 1.0 / f64::from(i)).sum()
}

/// A fork-join over `k` identical M/M/1 stations at load `rho` (service mean 10 ms): the
/// entry `f` is `parallel` over calls to `q0..q{k-1}`, `join: all`. Returns the replications'
/// mean response times and the stations' mean sojourns.
fn fork_join(k: u32, rho: f64, customers: u64, seed: u64) -> (Vec<f64>, Vec<f64>, f64) {
    let s = 0.01;
    let lambda = rho / s;
    let mut services = serde_json::Map::new();
    let branches: Vec<Value> = (0..k).map(|i| json!([call(&format!("q{i}"))])).collect();
    services.insert(
        "f".into(),
        station(json!([{"parallel": branches, "join": "all"}])),
    );
    for i in 0..k {
        services.insert(format!("q{i}"), station(json!([{"cpu": exp(s)}])));
    }
    let results = simulate(
        &format!("fork-join-{k}"),
        Value::Object(services),
        poisson(lambda),
        lambda,
        to("f"),
        customers,
        seed,
    );
    let response = per_rep(&results, |s| s.latency_s.mean);
    let station = per_rep(&results, |s| {
        (0..k)
            .map(|i| s.services[&format!("q{i}")].endpoints["e"].latency_s.mean)
            .sum::<f64>()
            / f64::from(k)
    });
    (response, station, 1.0 / (1.0 / s - lambda))
}

#[test]
fn fork_join_of_two_mm1_matches_flatto_hahn_nelson_tantawi() {
    // Two identical M/M/1 queues fed by one Poisson stream, each request forking into both
    // and leaving when both are done: R_2 = (12 - rho)/8 * 1/(mu - lambda). For K = 2 this is
    // exact (Flatto and Hahn 1984; Nelson and Tantawi 1988, eq. 2; Thomasian 2014, ACM
    // Computing Surveys 47(2), eq. 6), so the tolerance is the sampling error alone. It lies
    // between one station's 1/(mu - lambda) and the max of two independent ones, H_2/(mu -
    // lambda): the shared arrivals correlate the two sojourns.
    for (rho, customers, seed) in [(0.5, 300_000, 33), (0.75, 300_000, 34)] {
        let (response, station, r) = fork_join(2, rho, customers * scale(), seed);
        check(
            &format!("fork-join K=2 rho={rho} station W = 1/(mu-lambda)"),
            &station,
            r,
            0.04,
        );
        check(
            &format!("fork-join K=2 rho={rho} R_2 = (12-rho)/8 /(mu-lambda)"),
            &response,
            (12.0 - rho) / 8.0 * r,
            0.04,
        );
    }
}

#[test]
fn fork_join_of_four_mm1_is_within_nelson_tantawis_stated_error() {
    // K > 2 has no closed form; Nelson and Tantawi's scaling approximation
    // R_K ~ [H_K/H_2 + (1 - H_K/H_2) 4 rho/11] R_2, R_2 = (12 - rho)/8 /(mu - lambda), has a
    // relative error below 5% for K <= 32 (their simulations). The tolerance is the sampling
    // half-width plus those 5%.
    let (k, rho) = (4, 0.7);
    let (response, station, r) = fork_join(k, rho, 200_000 * scale(), 35);
    check("fork-join K=4 station W = 1/(mu-lambda)", &station, r, 0.04);
    let ratio = harmonic(k) / harmonic(2);
    let approx = (ratio + (1.0 - ratio) * 4.0 * rho / 11.0) * (12.0 - rho) / 8.0 * r;
    check_within(
        "fork-join K=4 rho=0.7 Nelson-Tantawi R_4",
        &response,
        approx,
        0.05,
        0.04,
    );
}

#[test]
fn fan_out_to_idle_backends_waits_for_the_order_statistics_of_exponentials() {
    // N branches each waiting an independent Exp(mean m), nothing queueing: join all waits for
    // the maximum, E = m H_N; join any for the minimum, E = m / N; a quorum of k for the k-th
    // smallest, E = m (H_N - H_{N-k}) (Renyi: the gaps between order statistics of
    // exponentials are independent exponentials of rates N, N-1, ...). `calls10` reaches ten
    // calls to a service whose endpoint is one `io` wait (it holds no core: an M/M/infinity
    // station), so the same holds through the call path.
    let m = 0.01;
    let io = json!([{"io": exp(m)}]);
    let fan = |n: usize, join: Value, leftovers: &str| {
        json!({"steps": [{
            "parallel": vec![io.clone(); n], "join": join, "leftovers": leftovers
        }]})
    };
    let cases: [(&str, Value, f64); 8] = [
        ("all1", fan(1, json!("all"), "finish"), m * harmonic(1)),
        ("all10", fan(10, json!("all"), "finish"), m * harmonic(10)),
        (
            "all100",
            fan(100, json!("all"), "finish"),
            m * harmonic(100),
        ),
        ("any10", fan(10, json!("any"), "finish"), m / 10.0),
        ("any100", fan(100, json!("any"), "cancel"), m / 100.0),
        (
            "quorum3of10",
            fan(10, json!({"quorum": 3}), "finish"),
            m * (harmonic(10) - harmonic(7)),
        ),
        (
            "quorum90of100",
            fan(100, json!({"quorum": 90}), "cancel"),
            m * (harmonic(100) - harmonic(10)),
        ),
        (
            "calls10",
            json!({"steps": [{"parallel": vec![json!([call("idle")]); 10]}]}),
            m * harmonic(10),
        ),
    ];
    let endpoints: serde_json::Map<String, Value> = cases
        .iter()
        .map(|(name, ep, _)| (name.to_string(), ep.clone()))
        .collect();
    let services = json!({
        "f": {"replicas": 1, "instance": {"cores": 1}, "endpoints": endpoints},
        "idle": station(io.clone()),
    });
    let mix: Vec<Value> = cases
        .iter()
        .map(|(name, _, _)| json!({"service": "f", "endpoint": name}))
        .collect();
    let lambda = 400.0;
    let per_endpoint = 5_000 * scale();
    let results = simulate(
        "fan-out",
        services,
        poisson(lambda),
        lambda,
        Value::Array(mix),
        per_endpoint * cases.len() as u64,
        36,
    );
    for (name, _, expected) in &cases {
        check(
            &format!("fan-out {name}: mean wait"),
            &per_rep(&results, |s| {
                s.endpoints[&format!("f.{name}")].latency_s.mean
            }),
            *expected,
            0.07,
        );
    }
    // Every satisfied join leaves the others behind at once (ties have probability zero):
    // N - k branches per request, left running or cancelled as the fan-out says.
    for r in &results {
        let f = &r.output.summary.services["f"].endpoints;
        for (name, left, finish) in [
            ("any10", 9, true),
            ("any100", 99, false),
            ("quorum3of10", 7, true),
            ("quorum90of100", 10, false),
        ] {
            let e = &f[name];
            let count = if finish {
                e.branches_left_running
            } else {
                e.branches_cancelled
            };
            assert_eq!(count, left * e.outcomes["ok"], "{name}: leftovers");
        }
    }
}

/// M/M/1+D in closed form: the abandonment probability, the mean wait of the customers
/// served, and the mean time E[min(V, D)] a customer spends waiting (served or not), for
/// arrival rate `lambda`, service rate `mu` and patience `d` (any rho, as abandonment keeps
/// the queue stable).
///
/// The virtual waiting time V (the work of the admitted customers) jumps by an Exp(mu)
/// service when an arrival finds V <= D and otherwise stays; it drains at rate 1. Level
/// crossing gives its density f(x) = lambda pi0 e^{-(mu-lambda) x} on (0, D] and
/// f(D) e^{-mu (x - D)} beyond, and normalising, with rho = lambda/mu and
/// E = e^{-(mu-lambda) D}: pi0 = (1 - rho) / (1 - rho^2 E). By PASTA an arrival abandons with
/// probability P(V > D) = rho E pi0 = (1 - rho) rho E / (1 - rho^2 E) (Barrer 1957; Gross and
/// Harris, Fundamentals of Queueing Theory, M/M/1 with constant reneging), and a served one
/// waits E[V; V <= D] / P(V <= D), with
/// E[V; V <= D] = lambda pi0 (1 - E (1 + (mu - lambda) D)) / (mu - lambda)^2, and
/// E[min(V, D)] = E[V; V <= D] + D P(V > D).
/// Checked independently against a simulation of the workload recursion
/// V' = max(0, V + S 1{V <= D} - A) (3 million arrivals at each case below: 0.1073 vs 0.1073,
/// 0.3989 vs 0.3985, 0.2757 vs 0.2752 abandoning; waits within 0.3%).
fn mm1_patience(lambda: f64, mu: f64, d: f64) -> (f64, f64, f64) {
    let rho = lambda / mu;
    let a = mu - lambda;
    let e = (-a * d).exp();
    let pi0 = (1.0 - rho) / (1.0 - rho * rho * e);
    let abandon = rho * e * pi0;
    let below = lambda * pi0 * (1.0 - e * (1.0 + a * d)) / (a * a);
    (abandon, below / (1.0 - abandon), below + d * abandon)
}

#[test]
fn mm1_with_a_queue_deadline_matches_mm1_plus_d() {
    // One core, one request at a time, the accept queue drops a request that waited more than
    // D when it reaches the front (`expired`): whoever is served waited at most D, and the
    // dropped ones took no service, so the served customers see exactly M/M/1+D. Utilisation
    // is the served load: rho (1 - P(abandon)) = 1 - pi0. Cases: moderate load with a long
    // patience, overload (rho = 1.5, stable only through abandonment), a short patience.
    let mu = 100.0;
    for (lambda, d, seed) in [(90.0, 0.05, 37), (150.0, 0.02, 38), (80.0, 0.01, 39)] {
        let (abandon, wait, _) = mm1_patience(lambda, mu, d);
        let services = json!({"q": {
            "replicas": 1,
            "instance": {"cores": 1, "runtime": "thread_pool", "concurrency_limit": 1},
            "queue_timeout": ns(d),
            "endpoints": {"e": {"steps": [{"cpu": exp(1.0 / mu)}]}}
        }});
        let results = simulate(
            "mm1-patience",
            services,
            poisson(lambda),
            lambda,
            to("q"),
            200_000 * scale(),
            seed,
        );
        let case = format!("M/M/1+D lambda={lambda} mu={mu} D={d}");
        check(
            &format!("{case} P(abandon) = (1-rho) rho E / (1 - rho^2 E)"),
            &per_rep(&results, |s| {
                s.outcomes.get("expired").copied().unwrap_or(0) as f64 / s.arrivals as f64
            }),
            abandon,
            0.05,
        );
        // A served request's latency is its wait plus its own Exp(mu) service, drawn
        // independently of the wait.
        check(
            &format!("{case} mean wait of the served"),
            &per_rep(&results, |s| s.latency_s.mean - 1.0 / mu),
            wait,
            0.08,
        );
        check(
            &format!("{case} utilisation = rho (1 - P(abandon))"),
            &per_rep(&results, |s| s.services["q"].cpu_utilisation),
            lambda / mu * (1.0 - abandon),
            0.02,
        );
        for r in &results {
            let o = &r.output.summary.outcomes;
            let other: u64 = o
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "ok" | "expired"))
                .map(|(_, v)| v)
                .sum();
            assert_eq!(other, 0, "{case}: only ok and expired: {o:?}");
        }
    }
}

/// Where a call waits at an M/M/1 callee: in the CPU run queue (no concurrency limit) or in
/// the accept queue (one request at a time).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Waits {
    ForACore,
    ForASlot,
}

/// The client's request at `a` calls `b`, an M/M/1 at `lambda`, `mu`, with timeout `d`;
/// `cancel`: b cancels abandoned work.
fn call_with_timeout(
    lambda: f64,
    mu: f64,
    d: f64,
    cancel: bool,
    waits: Waits,
    seed: u64,
) -> Vec<RunResult> {
    let mut instance = json!({"cores": 1, "runtime": "thread_pool"});
    if waits == Waits::ForASlot {
        instance["concurrency_limit"] = json!(1);
    }
    let services = json!({
        "a": station(json!([{"call": {"service": "b", "endpoint": "e", "timeout": ns(d)}}])),
        "b": {
            "replicas": 1,
            "instance": instance,
            "cancel_abandoned": cancel,
            "endpoints": {"e": {"steps": [{"cpu": exp(1.0 / mu)}]}}
        },
    });
    simulate(
        "call-timeout",
        services,
        poisson(lambda),
        lambda,
        to("a"),
        200_000 * scale(),
        seed,
    )
}

#[test]
fn call_timeouts_match_mm1_and_with_cancellation_mm1_with_reneging() {
    // The client's request at `a` calls `b` (an M/M/1) with timeout D and fails if it fires.
    // If b keeps working on abandoned calls, b is a plain M/M/1 and the call times out when
    // b's sojourn exceeds D: P = e^{-(mu - lambda) D}; b's load and waits are M/M/1's. If b
    // cancels abandoned work, a call still waiting at D (for the core, or for b's one slot)
    // leaves unserved, and one on the core at D finishes its (unsliced) step first: a
    // customer is served iff its wait is at most D, which is M/M/1+D (`mm1_patience`) with
    // the patience running from arrival (the call has no network latency). Then b's
    // utilisation is rho (1 - P(abandon)), and the call times out iff V + S > D, V the
    // virtual wait: P(V > D) + P(V <= D, V + S > D) = rho E pi0 + pi0 e^{-mu D} (1 + lambda
    // int_0^D e^{lambda x} dx) = (1 + rho) E pi0, i.e. (1 - rho^2) E / (1 - rho^2 E) with
    // E = e^{-(mu - lambda) D}; b ends each of those calls as `cancelled`.
    let (lambda, mu, d): (f64, f64, f64) = (80.0, 100.0, 0.03);
    let rho = lambda / mu;
    let e = (-(mu - lambda) * d).exp();
    for (cancel, waits, seed) in [
        (false, Waits::ForACore, 43),
        (true, Waits::ForACore, 44),
        (true, Waits::ForASlot, 45),
    ] {
        let results = call_with_timeout(lambda, mu, d, cancel, waits, seed);
        let (timeout, utilisation) = if cancel {
            let (abandon, _, _) = mm1_patience(lambda, mu, d);
            (
                (1.0 - rho * rho) * e / (1.0 - rho * rho * e),
                rho * (1.0 - abandon),
            )
        } else {
            (e, rho)
        };
        let case = format!("call timeout D={d} to M/M/1 rho={rho}, cancel={cancel}, {waits:?}:");
        let edge = |s: &RunSummary| {
            let c = &s.calls["a.e -> b.e"];
            c.outcomes["timed_out"] as f64 / c.calls as f64
        };
        check(
            &format!("{case} P(call timed out)"),
            &per_rep(&results, edge),
            timeout,
            0.04,
        );
        check(
            &format!("{case} P(client fails) = P(call timed out)"),
            &per_rep(&results, |s| {
                s.outcomes["failed"] as f64 / s.arrivals as f64
            }),
            timeout,
            0.04,
        );
        check(
            &format!("{case} b's utilisation"),
            &per_rep(&results, |s| s.services["b"].cpu_utilisation),
            utilisation,
            0.02,
        );
        let b_cancelled = per_rep(&results, |s| {
            let e = &s.services["b"].endpoints["e"];
            e.outcomes["cancelled"] as f64 / e.arrivals as f64
        });
        if cancel {
            check(
                &format!("{case} b cancels the calls it did not answer by D"),
                &b_cancelled,
                timeout,
                0.04,
            );
        } else {
            assert!(
                b_cancelled.iter().all(|&c| c == 0.0),
                "{case} {b_cancelled:?}"
            );
            check(
                &format!("{case} b's Wq = rho/(mu-lambda)"),
                &per_rep(&results, |s| s.services["b"].mean_cpu_wait_s),
                rho / (mu - lambda),
                0.08,
            );
        }
    }
}

/// Found by the test below (a measurement bug, not fixed here): a call that b cancels while
/// it waits (for a core, or for b's one slot) ends at once, but its entry stays in b's CPU
/// run queue (or accept queue) until the core (or the slot) reaches it, and the instance
/// measures it as waiting all that time. So b's `mean_queue_length` is lambda E[V] (V the
/// unbounded virtual wait) instead of lambda E[min(V, D)], its `mean_cpu_wait_s` is E[V]
/// (the cancelled calls' phantom waits included), and its `peak_event_loop_lag_s` exceeds D,
/// which no request can wait. The dynamics are right (utilisation, timeouts and
/// cancellations match M/M/1+D above); only what the instance measures is off. Minimal
/// reproduction: `call_with_timeout(80, 100, 30 ms, cancel, ..)`, i.e. service a
/// `[call b (timeout 30ms)]`, b one core with `cancel_abandoned` and `[cpu exp(10ms)]`,
/// Poisson 80/s into a: expected b's queue length 0.926 (either queue), CPU wait at most
/// 0.0116 s and peak lag at most 0.030 s; measured 1.035 (run queue) and 1.038 (accept
/// queue), 0.0129 s (E[V] = 0.01293 exactly) and 0.12 to 0.16 s.
#[test]
fn a_cancelled_call_stops_counting_as_waiting() {
    // Little's law on the requests really waiting at b: each waits min(V, D) (served ones V,
    // cancelled ones until D), so Lq = lambda E[min(V, D)]; no wait for a core exceeds D, and
    // the mean wait per segment is at most E[min(V, D)] however cancelled segments count.
    let (lambda, mu, d) = (80.0, 100.0, 0.03);
    let (_, _, capped) = mm1_patience(lambda, mu, d);
    for (waits, seed) in [(Waits::ForACore, 44), (Waits::ForASlot, 45)] {
        let results = call_with_timeout(lambda, mu, d, true, waits, seed);
        let case = format!("cancelled calls, {waits:?}:");
        check(
            &format!("{case} b's Lq = lambda E[min(V, D)]"),
            &per_rep(&results, |s| s.services["b"].mean_queue_length),
            lambda * capped,
            0.04,
        );
        if waits == Waits::ForACore {
            check_at_most(
                &format!("{case} b's CPU wait <= E[min(V, D)]"),
                &per_rep(&results, |s| s.services["b"].mean_cpu_wait_s),
                capped,
            );
            for r in &results {
                let lag = r.output.summary.services["b"].peak_event_loop_lag_s;
                assert!(lag <= d + 1e-9, "{case} a wait for a core of {lag} s > D");
            }
        }
    }
}

/// Exact mean wait in H2/G/1: inter-arrival times Exp(`rates[i]`) with probability `p[i]`,
/// service with Laplace transform `lst` and moments `es`, `es2`.
///
/// Lindley's W' = max(0, W + S - A): E[e^{-s(W+S-A)}] = W*(s) A*(-s) B*(s) = W*(s) + Phi(s),
/// where Phi(s) = E[e^{-s(W+S-A)} - 1; W+S-A < 0]. Given W + S = x, the undershoot A - x of
/// an H2 gap is Exp(l_i) with weight p_i e^{-l_i x} (memorylessness in each phase), so
/// Phi(s) = sum q_i s / (l_i - s) for unknown q_i >= 0. Hence, with
/// G(s) = p1 l1 (l2 - s) + p2 l2 (l1 - s) and H(s) = (l1 - s)(l2 - s),
/// W*(s) = s (q1 (l2 - s) + q2 (l1 - s)) / D(s), D(s) = B*(s) G(s) - H(s).
/// D has two zeros in Re s >= 0 when rho < 1: 0 and one real s* > 0, which the numerator must
/// cancel, and W*(0) = 1; so q1 (l2 - s*) + q2 (l1 - s*) = 0 and
/// q1 l2 + q2 l1 = D'(0) = l1 l2 (E[A] - E[S]). Expanding at 0,
/// E[W] = -W*'(0) = (q1 + q2) / D'(0) + D''(0) / (2 D'(0)), with
/// D''(0) = E[S^2] l1 l2 + 2 E[S] (p1 l1 + p2 l2) - 2.
/// The test checks it against GI/M/1's exact solution; independently, simulations of
/// Lindley's recursion (8 x 10^8 customers) gave H2/D/1 at rho 0.95 0.52229 +- 0.00075
/// against 0.52258 here, and H2/E2/1 at rho 0.8 0.118774 +- 0.000065 against 0.118779.
fn h2_g1_wait(p: [f64; 2], rates: [f64; 2], lst: impl Fn(f64) -> f64, es: f64, es2: f64) -> f64 {
    let ([p1, p2], [l1, l2]) = (p, rates);
    let d = |s: f64| lst(s) * (p1 * l1 * (l2 - s) + p2 * l2 * (l1 - s)) - (l1 - s) * (l2 - s);
    // D > 0 just right of 0 and D -> -infinity: one sign change, at s*.
    let mut hi = 1e-9 * l1.min(l2);
    while d(hi) > 0.0 {
        hi *= 2.0;
    }
    let mut lo = hi / 2.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if d(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let star = 0.5 * (lo + hi);
    let ea = p1 / l1 + p2 / l2;
    let d1 = l1 * l2 * (ea - es);
    // q1 (l2 - s*) + q2 (l1 - s*) = 0, q1 l2 + q2 l1 = d1.
    let det = (l2 - star) * l1 - (l1 - star) * l2;
    let q1 = -(l1 - star) * d1 / det;
    let q2 = (l2 - star) * d1 / det;
    let d2 = es2 * l1 * l2 + 2.0 * es * (p1 * l1 + p2 * l2) - 2.0;
    (q1 + q2) / d1 + d2 / (2.0 * d1)
}

#[test]
fn h2_g_1_waits_match_the_spectral_solution_and_stay_under_kingmans_bound() {
    // GI/G/1, Kingman (1962): Wq <= lambda (var A + var S) / (2 (1 - rho)), and as rho -> 1
    // Wq (1 - rho) tends to the same limit, so in heavy traffic Wq approaches the bound and
    // Kingman's approximation rho/(1 - rho) (ca^2 + cs^2)/2 E[S]. Arrivals are H2 (gaps of
    // 0.5 a with probability 0.9 and 5.5 a otherwise: mean a, ca^2 = 5.5); service a constant
    // or Erlang-2 10 ms. The exact mean wait (see `h2_g1_wait`) is what each case must meet;
    // the bound is checked one-sided, and at rho = 0.95 the wait must be close to it (the
    // exact ratio is 0.90) and to the approximation (stated error: 2%; the exact difference
    // there is below 0.1%).
    let s = 0.01;
    let (p, gaps) = ([0.9, 0.1], [0.5, 5.5]);
    // The formula against GI/M/1's exact W_q = sigma / (mu (1 - sigma)) for H2/M/1.
    {
        let (mu, a) = (1.0 / s, s / 0.7);
        let rates = [1.0 / (gaps[0] * a), 1.0 / (gaps[1] * a)];
        let mut sigma = 0.0;
        for _ in 0..100_000 {
            sigma = (0..2)
                .map(|i| p[i] / (1.0 + mu * (1.0 - sigma) / rates[i]))
                .sum();
        }
        let exact = sigma / (mu * (1.0 - sigma));
        let spectral = h2_g1_wait(p, rates, |x| mu / (mu + x), s, 2.0 * s * s);
        assert!(
            (spectral / exact - 1.0).abs() < 1e-9,
            "{spectral} vs {exact}"
        );
    }
    for (service, rho, customers, seed) in [
        ("D", 0.7, 500_000, 40),
        ("E2", 0.8, 500_000, 41),
        ("D", 0.95, 3_000_000, 42),
    ] {
        let a = s / rho;
        let lambda = 1.0 / a;
        let rates = [1.0 / (gaps[0] * a), 1.0 / (gaps[1] * a)];
        let var_a: f64 = (0..2).map(|i| 2.0 * p[i] / rates[i].powi(2)).sum::<f64>() - a * a;
        let (step, var_s, exact) = match service {
            "D" => (
                json!(ns(s)),
                0.0,
                h2_g1_wait(p, rates, |x| (-x * s).exp(), s, s * s),
            ),
            _ => (
                json!({"kind": "gamma", "shape": 2.0, "mean": ns(s)}),
                s * s / 2.0,
                h2_g1_wait(p, rates, |x| (1.0 + x * s / 2.0).powi(-2), s, 1.5 * s * s),
            ),
        };
        let interarrival = json!({"kind": "mixture", "components": [
            {"weight": p[0], "dist": exp(gaps[0] * a)},
            {"weight": p[1], "dist": exp(gaps[1] * a)}
        ]});
        let results = simulate(
            "h2-g-1",
            json!({"q": station(json!([{"cpu": step}]))}),
            ("interarrival", interarrival),
            lambda,
            to("q"),
            customers * scale(),
            seed,
        );
        let case = format!("H2/{service}/1 rho={rho}");
        let wait = per_rep(&results, |s| s.services["q"].mean_cpu_wait_s);
        check(&format!("{case} Wq exact"), &wait, exact, 0.1);
        let bound = lambda * (var_a + var_s) / (2.0 * (1.0 - rho));
        assert!(exact < bound, "{case}: exact {exact} vs bound {bound}");
        check_at_most(&format!("{case} Wq <= Kingman's bound"), &wait, bound);
        check(
            &format!("{case} arrival rate"),
            &per_rep(&results, |s| s.arrival_rate_rps),
            lambda,
            0.02,
        );
        if rho >= 0.95 {
            let (mean, half) = interval(&wait);
            assert!(
                mean + half >= 0.85 * bound,
                "{case}: in heavy traffic Wq {mean:.5} +- {half:.5} should near the bound {bound:.5}"
            );
            let cs2 = var_s / (s * s);
            let ca2 = var_a / (a * a);
            check_within(
                &format!("{case} Kingman's heavy-traffic approximation"),
                &wait,
                rho / (1.0 - rho) * (ca2 + cs2) / 2.0 * s,
                0.02,
                0.1,
            );
        }
    }
}
