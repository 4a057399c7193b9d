//! The M/M/4 model of experiments/mm4.json (Poisson arrivals at 3.6/s, exponential 1 s CPU
//! steps, one instance with 4 cores, utilisation 0.9) as an ordinary Surge run with every
//! metric on: requests per second of wall time through the whole request path.
//!
//!     cargo bench --bench mm4

use divan::counter::ItemsCount;
use std::path::Path;
use surge::experiment::{RunId, run_one};
use surge::kernel::SimDuration;
use surge::simulation::RunLimits;

fn main() {
    divan::main();
}

/// Simulated seconds per iteration: 3.6/s x 277,778 s = 1 million requests.
const SECONDS: u64 = 277_778;

#[divan::bench(sample_count = 10)]
fn mm4_one_million_requests(bencher: divan::Bencher) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/mm4.json");
    let mut exp = surge::config::load_experiment(&path).expect("mm4.json is valid");
    exp.duration = SimDuration::from_secs(SECONDS);
    let id = RunId {
        variant: 0,
        replication: 0,
    };
    let arrivals = run_one(&exp, id, &RunLimits::default(), None)
        .expect("the run stays within its limits")
        .output
        .summary
        .arrivals;
    bencher
        .counter(ItemsCount::new(arrivals))
        .bench_local(|| run_one(&exp, id, &RunLimits::default(), None));
}
