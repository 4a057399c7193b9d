//! Do the 95% confidence intervals cover the truth 95% of the time? M/M/1 has a known mean
//! response time, W = 1 / (mu - lambda), so a sweep over independent seeds gives many
//! independent intervals whose coverage is a binomial proportion: with k intervals its
//! standard deviation is sqrt(0.95 x 0.05 / k), and the tests accept 3.5 of those around 0.95.
//! Both kinds of interval are checked: over replications (Student's t on n - 1 degrees of
//! freedom), and batch means within one long run.

use crate::support::write_experiment;
use surge::sweep::{SweepOptions, load_sweep, run_sweep};

/// An M/M/1 sweep at utilisation `rho` (10 ms mean service) over `seeds` independent seeds.
fn mm1_over_seeds(rho: f64, seeds: u32, settings: &str) -> String {
    let values: Vec<String> = (1..=seeds).map(|s| s.to_string()).collect();
    format!(
        r#"{{
        "model": {{ "services": {{ "api": {{ "replicas": 1, "instance": {{ "cores": 1 }},
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "10ms" }} }} ] }} }} }} }} }},
        "workload": [ {{ "name": "users", "kind": "open", "rate": {{ "kind": "constant", "rps": {} }},
            "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ],
        {settings},
        "sweep": {{ "parameters": [ {{ "path": "seed", "values": [{}] }} ] }}
    }}"#,
        rho * 100.0,
        values.join(", ")
    )
}

/// The fraction of points whose interval for the mean response time holds `truth`.
fn coverage(tag: &str, json: &str, truth: f64) -> (f64, usize) {
    let sweep = load_sweep(&write_experiment(tag, json)).unwrap_or_else(|e| panic!("{e}"));
    let report =
        run_sweep(&sweep, &SweepOptions::default(), None).expect("the run stays within its limits");
    let hits: Vec<bool> = report
        .points
        .iter()
        .map(|p| {
            let e = p.variants["base"].metrics["mean_response_s"];
            e.ci95_low.unwrap() <= truth && truth <= e.ci95_high.unwrap()
        })
        .collect();
    let covered = hits.iter().filter(|h| **h).count();
    (covered as f64 / hits.len() as f64, hits.len())
}

fn assert_nominal(what: &str, (cover, k): (f64, usize)) {
    let sd = (0.95 * 0.05 / k as f64).sqrt();
    eprintln!("{what}: {:.1}% of {k} intervals cover", 100.0 * cover);
    assert!(
        (cover - 0.95).abs() <= 3.5 * sd,
        "{what}: {:.1}% of {k} intervals cover the truth; expected 95% +- {:.1}%",
        100.0 * cover,
        350.0 * sd
    );
}

/// Coverage over 100 seeds at utilisation 0.5 (W = 20 ms) and 100 at 0.8 (W = 50 ms), pooled.
fn assert_nominal_at_two_loads(what: &str, tag: &str, settings: &str) {
    let (a, ka) = coverage(
        &format!("{tag}-50"),
        &mm1_over_seeds(0.5, 100, settings),
        1.0 / 50.0,
    );
    let (b, kb) = coverage(
        &format!("{tag}-80"),
        &mm1_over_seeds(0.8, 100, settings),
        1.0 / 20.0,
    );
    assert_nominal(
        what,
        ((a * ka as f64 + b * kb as f64) / (ka + kb) as f64, ka + kb),
    );
}

#[test]
fn replication_intervals_cover_the_mm1_mean_response_at_the_nominal_rate() {
    // 10 replications of 5 minutes per seed.
    assert_nominal_at_two_loads(
        "replications, rho 0.5 and 0.8",
        "coverage-reps",
        r#""duration": "5m", "warmup": "30s", "replications": 10"#,
    );
}

#[test]
fn batch_means_intervals_cover_the_mm1_mean_response_at_the_nominal_rate() {
    // One 40-minute run per seed cut into 20 batches of 117 s: far longer than M/M/1's
    // relaxation time at rho 0.8 (about 1 / (mu (1 - sqrt rho)^2) = 0.9 s).
    assert_nominal_at_two_loads(
        "batch means, rho 0.5 and 0.8",
        "coverage-batches",
        r#""duration": "40m", "warmup": "1m", "batch_means": 20"#,
    );
}
