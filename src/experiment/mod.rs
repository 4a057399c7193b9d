//! Experiments: a model, a workload and settings, expanded into runs (variant x replication)
//! that execute independently, on any thread, and are gathered in a fixed order.

mod execute;
pub mod load;
pub mod stats;

pub use execute::{ExecuteOptions, RunError, RunResult, run_experiment, run_one, with_threads};

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

/// Most time-series rows one run may have (a day at 0.1 s resolution is 864,000).
pub const MAX_ROWS_PER_RUN: u64 = 1_000_000;
/// Most time-series rows `surge run` holds for all its runs until it writes them (about
/// 1 GB with a handful of services).
pub const MAX_ROWS_HELD: u64 = 5_000_000;
/// Most replications of one experiment.
pub const MAX_REPLICATIONS: u32 = 100_000;

impl Experiment {
    /// Time-series rows of one run.
    pub fn rows_per_run(&self) -> u64 {
        self.duration
            .as_nanos()
            .div_ceil(self.resolution.as_nanos().max(1))
    }

    /// Why the runs' time series would not fit in memory together, if they would not.
    pub fn check_rows_held(&self) -> Result<(), String> {
        let runs = self.variants.len() as u64 * u64::from(self.replications);
        let held = self.rows_per_run().saturating_mul(runs);
        if held > MAX_ROWS_HELD {
            return Err(format!(
                "{runs} runs x {} time-series rows each (duration {} at resolution {}) is {held} rows held in memory, more than {MAX_ROWS_HELD}; use a coarser resolution or fewer replications (`surge sweep` keeps no time series)",
                self.rows_per_run(),
                self.duration,
                self.resolution
            ));
        }
        Ok(())
    }

    /// Sets the master seed (`--seed`), in the configuration the report records too.
    pub fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
        self.config["seed"] = seed.into();
    }

    /// Where `surge run` writes when given no `--out`: `results/<name>`.
    pub fn default_out(&self) -> PathBuf {
        crate::output::results_dir(&self.name)
    }

    /// Sets the number of replications (`--replications`), with the file's rules.
    pub fn set_replications(&mut self, r: u32) -> Result<(), String> {
        if !(1..=MAX_REPLICATIONS).contains(&r) {
            return Err(format!("replications must be from 1 to {MAX_REPLICATIONS}"));
        }
        if r > 1 && self.batch_means.is_some() {
            return Err(
                "batch means are for one long run, and the file asks for batch_means; drop one of them"
                    .into(),
            );
        }
        let before = self.replications;
        self.replications = r;
        if let Err(e) = self.check_rows_held() {
            self.replications = before;
            return Err(e);
        }
        self.config["replications"] = r.into();
        Ok(())
    }

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
