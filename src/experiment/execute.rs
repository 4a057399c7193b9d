//! Executes runs on a rayon pool. Each run is independent and deterministic; results are
//! gathered in [`Experiment::runs`] order, so the report does not depend on which thread
//! finished first.

use super::{Experiment, RunId};
use crate::kernel::{Scheduler, SimTime};
use crate::simulation::{RunAborted, RunLimits, RunOutput, Simulation};
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
    /// What each run may use.
    pub limits: RunLimits,
}

/// A run stopped by its limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("variant `{variant}`, replication {replication}: {reason}")]
pub struct RunError {
    /// The variant.
    pub variant: String,
    /// The replication.
    pub replication: u32,
    /// Why it stopped.
    pub reason: RunAborted,
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

/// Simulates one run within `limits`.
pub fn run_one(
    experiment: &Experiment,
    id: RunId,
    limits: &RunLimits,
    progress: Option<&AtomicU64>,
) -> Result<RunResult, RunError> {
    let variant = &experiment.variants[id.variant];
    let mut scheduler = Scheduler::new();
    let sim = Simulation::new(experiment, variant, id.replication, &mut scheduler);
    let mut reported = SimTime::ZERO;
    let output = sim
        .run(&mut scheduler, limits, |now| {
            if let Some(p) = progress {
                p.fetch_add(now.since(reported).as_nanos(), Ordering::Relaxed);
                reported = now;
            }
        })
        .map_err(|reason| RunError {
            variant: variant.name.clone(),
            replication: id.replication,
            reason,
        })?;
    Ok(RunResult {
        id,
        variant: variant.name.clone(),
        seed: experiment.seed,
        output,
    })
}

/// Simulates every run of the experiment, in parallel, returning results in run order, or
/// the first run (in run order) that crossed its limits.
pub fn run_experiment(
    experiment: &Experiment,
    options: &ExecuteOptions,
) -> Result<Vec<RunResult>, RunError> {
    let runs = experiment.runs();
    let progress = options.progress.as_deref();
    let work = || {
        runs.par_iter()
            .map(|id| run_one(experiment, *id, &options.limits, progress))
            .collect::<Vec<_>>()
    };
    with_threads(options.threads, work).into_iter().collect()
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
