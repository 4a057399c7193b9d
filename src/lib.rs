//! # Surge
//!
//! A deterministic discrete-event simulator for comparing scalability strategies before the
//! traffic arrives. Describe a system (services, instances with cores and event loops,
//! balancers) in a model file and the traffic in an experiment file; Surge simulates every
//! request in virtual time and reports latency, errors, utilisation and queueing.
//!
//! The flow, which the modules follow:
//!
//! 1. [`config::load_experiment`] reads an experiment file (and its model and traces), applies
//!    each variant's JSON merge patch, and validates everything into an [`Experiment`].
//! 2. [`Experiment::runs`] expands it into runs (variant x replication).
//! 3. [`experiment::run_experiment`] executes the runs in parallel; each run is a
//!    [`simulation::Simulation`] driven by the [`kernel`]'s event loop.
//! 4. [`report`] turns the results into `report.json`, `timeseries.csv`, SVG plots, a
//!    terminal table and, on request, a self-contained `report.html`.
//!
//! A file with a `sweep` expands into many such experiments, one per point ([`sweep`]).
//!
//! ```no_run
//! use surge::{config, experiment, report};
//! let exp = config::load_experiment(std::path::Path::new("experiments/quickstart.json"))?;
//! // A run that crosses its limits (events, requests in memory) is an error, not a hang.
//! let results = experiment::run_experiment(&exp, &experiment::ExecuteOptions::default())?;
//! let report = report::Report::new(&exp, &results);
//! println!("{}", report::table::render(&report));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Same file and same seed give a byte-identical report, whatever the thread count.

pub mod autoscaler;
pub mod compare;
pub mod components;
pub mod config;
pub mod distribution;
pub mod experiment;
pub mod ids;
pub mod input;
pub mod kernel;
pub mod metrics;
pub mod model;
pub mod output;
pub mod report;
pub mod simulation;
pub mod sweep;
pub mod terminal;
pub mod workload;

pub use experiment::Experiment;

/// The version written into every report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
