//! Surge's integration tests, in one binary (faster to build and link than one per file).
//!
//! - `theory`: results against closed-form queueing theory.
//! - `graph_theory`: the call graph against queueing theory: tandems (Burke), a Jackson network
//!   with feedback, fork-join, fan-out order statistics, M/M/1+D deadlines, H2/G/1.
//! - `scenarios`: every bundled experiment runs; conservation and Little's law hold.
//! - `determinism`: same file and seed give byte-identical reports; common random numbers.
//! - `cli`: the `surge` binary, including each class of bad input.
//! - `compare`: `surge compare`, its t-tests and `--fail-if` thresholds.
//! - `coverage`: 95% intervals (replications and batch means) cover M/M/1's mean at 95%.
//! - `policies`: autoscaling policies, memory and OOM, worker pools, scenario rate profiles.
//! - `capacity`: spot instances and their interruptions, vertical scaling, the bill.
//! - `html`: the self-contained `report.html` from `surge run --html` and `surge report --html`.
//! - `graph_experiments`: the bundled service-graph experiments (microservices, fan-out, a
//!   shared database, nginx in front of the Node gateway) and their headline figures.
//! - `plots`: every plot of a run and a sweep, as SVG and PNG, and `surge plot`.
//! - `schema`: the JSON Schemas of the file formats are current and neither too loose nor too
//!   strict for the bundled files.
//!
//! Slow, more exhaustive variants run when `SURGE_SLOW_TESTS=1`.

mod balancers;
mod cache_nodes;
mod capacity;
mod cli;
mod compare;
mod conservation;
mod coverage;
mod data_tier;
mod determinism;
mod graph_experiments;
mod graph_theory;
mod health;
mod html;
mod mutation;
mod plots;
mod policies;
mod pools;
mod protection;
mod regression;
mod reliability;
mod replication;
mod resilience;
mod retries;
mod scenarios;
mod schema;
mod seeds_a;
mod seeds_b;
mod seeds_c;
mod sessions;
mod sharding;
mod staleness;
mod support;
mod sweep;
mod theory;
mod warming;
mod write_behind;
