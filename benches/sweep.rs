//! Sweep scaling with cores: `experiments/hpa-target-sweep.json` (6 CPU targets x 2 HPA
//! behaviours x 4 replications = 48 runs) with 1 thread and with every core, and the speedup.
//! The outputs must be byte-identical; the bench checks that too.
//!
//!     cargo bench --bench sweep

use std::path::Path;
use std::time::Instant;
use surge::sweep::{SweepOptions, load_sweep, run_sweep};

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/hpa-target-sweep.json");
    let mut sweep = load_sweep(&path).expect("hpa-target-sweep.json is valid");
    for p in &mut sweep.points {
        p.replications = 4;
    }
    let runs = sweep.runs().len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let time = |threads: usize| {
        let t = Instant::now();
        let r = run_sweep(
            &sweep,
            &SweepOptions {
                threads: Some(threads),
                ..SweepOptions::default()
            },
            None,
        )
        .expect("the run stays within its limits");
        (t.elapsed().as_secs_f64(), r.to_json())
    };
    let (one, a) = time(1);
    let (all, b) = time(cores);
    assert_eq!(a, b, "sweep.json must not depend on the thread count");
    println!("hpa-target-sweep: {runs} runs");
    println!("-j 1: {one:.2} s ({:.1} runs/s)", runs as f64 / one);
    println!("-j {cores}: {all:.2} s ({:.1} runs/s)", runs as f64 / all);
    println!(
        "speedup: {:.2}x on {cores} cores; outputs byte-identical",
        one / all
    );
}
