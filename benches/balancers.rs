//! Issue 12's speed bar: the CPU time per request of one service behind each balancer with
//! 10 instances and with 1,000, at the same utilisation (0.5, single-core instances,
//! exponential 1 ms CPU work, Poisson arrivals), so that per-request work is the same and only
//! the fleet's size differs. A pick must stay O(1), O(d) or O(log n): 1,000 instances should
//! cost at most twice the time per request of 10.
//!
//!     cargo bench --bench balancers

use divan::counter::ItemsCount;
use std::path::Path;
use surge::experiment::{Experiment, RunId, run_one};
use surge::simulation::RunLimits;

fn main() {
    divan::main();
}

/// Requests per iteration (about; Poisson).
const REQUESTS: u64 = 500_000;

const BALANCERS: &[&str] = &[
    "round_robin",
    "weighted_round_robin",
    "random",
    "least_connections",
    "power_of_d",
    "least_response_time",
    "peak_ewma",
    "consistent_hash",
];

fn experiment(balancer: &str, instances: u64) -> Experiment {
    // Utilisation 0.5: n instances x 1,000 req/s of capacity each, half of it offered.
    let rps = instances * 500;
    let secs = (REQUESTS / rps).max(1);
    let json = format!(
        r#"{{ "duration": "{secs}s", "warmup": "0s", "seed": 1, "resolution": "{secs}s",
          "model": {{ "keyspaces": {{ "k": {{ "kind": "uniform", "keys": 1000000 }} }},
            "services": {{ "q": {{ "replicas": {instances},
            "instance": {{ "cores": 1, "runtime": "thread_pool" }},
            "balancer": {{ "kind": "{balancer}" }},
            "endpoints": {{ "e": {{ "key": "k", "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "1ms" }} }} ] }} }} }} }} }},
          "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": {rps} }},
                           "mix": [ {{ "service": "q", "endpoint": "e" }} ] }} ] }}"#
    );
    surge::config::load_experiment_text(Path::new("balancers.json"), &json)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn bench(bencher: divan::Bencher, balancer: &str, instances: u64) {
    let exp = experiment(balancer, instances);
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

#[divan::bench(args = BALANCERS, sample_count = 5)]
fn ten_instances(bencher: divan::Bencher, balancer: &str) {
    bench(bencher, balancer, 10);
}

#[divan::bench(args = BALANCERS, sample_count = 5)]
fn thousand_instances(bencher: divan::Bencher, balancer: &str) {
    bench(bencher, balancer, 1000);
}
