//! The bundled Black Friday experiment end to end: a 24 h day with a 10x evening event peaking
//! above 20,000 req/s, every variant (static fleets, HPA, threshold rules, target tracking,
//! schedule, predictive) through the whole path (balancer, instances, memory, autoscaler,
//! metrics, time series), the variants in parallel on every core, as `surge run` runs them.
//!
//!     cargo bench --bench black_friday
//!
//! Prints, per variant, the requests simulated, the wall time of its run and requests per
//! second on its core; then the whole experiment's wall time and throughput over all cores.
//! `SURGE_BENCH_HOURS=6` simulates only the first hours (the event is at 18:00). The warm-up is
//! set to zero so every simulated request is counted; the work is the same.

use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;
use surge::experiment::{RunId, run_one};
use surge::kernel::SimDuration;
use surge::simulation::RunLimits;

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/black-friday.json");
    let mut exp = surge::config::load_experiment(&path).expect("black-friday.json is valid");
    if let Some(h) = std::env::var("SURGE_BENCH_HOURS")
        .ok()
        .and_then(|h| h.parse::<u64>().ok())
    {
        exp.duration = SimDuration::from_secs(h * 3600);
    }
    exp.warmup = SimDuration::ZERO;
    let threads = rayon::current_num_threads();
    println!(
        "black-friday: {} variants, {:.0} h simulated, {threads} threads",
        exp.variants.len(),
        exp.duration.as_secs_f64() / 3600.0
    );
    let start = Instant::now();
    let runs: Vec<(String, u64, f64)> = (0..exp.variants.len())
        .into_par_iter()
        .map(|variant| {
            let t = Instant::now();
            let id = RunId {
                variant,
                replication: 0,
            };
            let r = run_one(&exp, id, &RunLimits::default(), None)
                .expect("the run stays within its limits");
            (
                r.variant,
                r.output.summary.arrivals,
                t.elapsed().as_secs_f64(),
            )
        })
        .collect();
    let wall = start.elapsed().as_secs_f64();
    println!(
        "{:<24} {:>14} {:>10} {:>16}",
        "variant", "requests", "wall (s)", "req/s per core"
    );
    let mut total = 0;
    for (name, requests, secs) in &runs {
        total += requests;
        println!(
            "{name:<24} {requests:>14} {secs:>10.1} {:>16.0}",
            *requests as f64 / secs
        );
    }
    println!(
        "all: {total} requests in {wall:.1} s wall on {threads} threads: {:.0} req/s, {:.0} req/s per core",
        total as f64 / wall,
        total as f64 / wall / threads as f64
    );
}
