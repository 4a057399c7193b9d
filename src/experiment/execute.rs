//! Executes runs on a rayon pool. Each run is independent and deterministic; results are
//! gathered in [`Experiment::runs`] order, so the report does not depend on which thread
//! finished first.

use super::{Experiment, RunId};
use crate::kernel::{Scheduler, SimTime};
use crate::simulation::{RunOutput, Simulation};
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How to execute.
#[derive(Debug, Clone, Default)]
pub struct ExecuteOptions {
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Incremented by simulated nanoseconds as runs advance, for progress bars. It is only
    /// written, never read, by the simulation.
    pub progress: Option<Arc<AtomicU64>>,
}

/// One finished run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Which run.
    pub id: RunId,
    /// Variant name.
    pub variant: String,
    /// The experiment's master seed (with `id.replication` it reproduces the run).
    pub seed: u64,
    /// What it measured.
    pub output: RunOutput,
}

/// Simulates one run.
pub fn run_one(experiment: &Experiment, id: RunId, progress: Option<&AtomicU64>) -> RunResult {
    let variant = &experiment.variants[id.variant];
    let mut scheduler = Scheduler::new();
    let sim = Simulation::new(experiment, variant, id.replication, &mut scheduler);
    let mut reported = SimTime::ZERO;
    let output = sim.run(&mut scheduler, |now| {
        if let Some(p) = progress {
            p.fetch_add(now.since(reported).as_nanos(), Ordering::Relaxed);
            reported = now;
        }
    });
    RunResult {
        id,
        variant: variant.name.clone(),
        seed: experiment.seed,
        output,
    }
}

/// Simulates every run of the experiment, in parallel, returning results in run order.
pub fn run_experiment(experiment: &Experiment, options: &ExecuteOptions) -> Vec<RunResult> {
    let runs = experiment.runs();
    let progress = options.progress.as_deref();
    let work = || {
        runs.par_iter()
            .map(|id| run_one(experiment, *id, progress))
            .collect()
    };
    with_threads(options.threads, work)
}

/// Runs `work` on a rayon pool of `threads` workers (all cores when `None`, or if the pool
/// cannot be built).
pub fn with_threads<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> T {
    match threads {
        Some(n) => match rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
        {
            Ok(pool) => pool.install(work),
            Err(_) => work(),
        },
        None => work(),
    }
}
