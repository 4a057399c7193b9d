//! Experiments: a model, a workload and settings, expanded into runs (variant x replication)
//! that execute independently, on any thread, and are gathered in a fixed order.

mod execute;
pub mod stats;

pub use execute::{ExecuteOptions, RunResult, run_experiment, run_one, with_threads};

use crate::kernel::SimDuration;
use crate::model::Model;
use crate::workload::ClientSpec;
use std::path::PathBuf;

/// A validated experiment, ready to run.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// Name (default: the file stem).
    pub name: String,
    /// What it shows.
    pub description: Option<String>,
    /// The file it was read from.
    pub file: PathBuf,
    /// Master seed.
    pub seed: u64,
    /// Replications per variant.
    pub replications: u32,
    /// Simulated time per run.
    pub duration: SimDuration,
    /// Excluded from the summary.
    pub warmup: SimDuration,
    /// Time-series bucket width.
    pub resolution: SimDuration,
    /// Batches for batch-means intervals of a single run (None: intervals come from
    /// replications).
    pub batch_means: Option<u32>,
    /// Service-level objective, if any.
    pub slo: Option<Slo>,
    /// Variants, in file order; one called "base" when the file has none.
    pub variants: Vec<Variant>,
    /// The experiment as written, with the base model inlined, for the report.
    pub config: serde_json::Value,
}

/// One named configuration of the system.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Name from the file.
    pub name: String,
    /// The model with this variant's patch applied.
    pub model: Model,
    /// The workload resolved against that model.
    pub workload: Vec<ClientSpec>,
}

/// A service-level objective.
#[derive(Debug, Clone, Copy)]
pub struct Slo {
    /// Which latency quantile (0.99 for p99).
    pub quantile: f64,
    /// Target at that quantile.
    pub latency: Option<SimDuration>,
    /// Highest acceptable error fraction.
    pub error_rate: Option<f64>,
    /// Window for violation minutes.
    pub window: SimDuration,
}

/// Identifies one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunId {
    /// Index into the experiment's variants.
    pub variant: usize,
    /// Replication number, from 0.
    pub replication: u32,
}

impl Experiment {
    /// All runs, in report order: variant-major, then replication.
    pub fn runs(&self) -> Vec<RunId> {
        (0..self.variants.len())
            .flat_map(|v| {
                (0..self.replications).map(move |r| RunId {
                    variant: v,
                    replication: r,
                })
            })
            .collect()
    }
}
