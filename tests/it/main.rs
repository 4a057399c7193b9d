//! Surge's integration tests, in one binary (faster to build and link than one per file).
//!
//! - `theory`: results against closed-form queueing theory.
//! - `scenarios`: every bundled experiment runs; conservation and Little's law hold.
//! - `determinism`: same file and seed give byte-identical reports; common random numbers.
//! - `cli`: the `surge` binary, including each class of bad input.
//! - `policies`: autoscaling policies, memory and OOM, worker pools, scenario rate profiles.
//! - `capacity`: spot instances and their interruptions, vertical scaling, the bill.
//! - `schema`: the JSON Schemas of the file formats are current and neither too loose nor too
//!   strict for the bundled files.
//!
//! Slow, more exhaustive variants run when `SURGE_SLOW_TESTS=1`.

mod capacity;
mod cli;
mod determinism;
mod policies;
mod regression;
mod scenarios;
mod schema;
mod support;
mod sweep;
mod theory;
