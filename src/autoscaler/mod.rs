//! Autoscaling decisions as pure functions of an explicit state: no I/O, no wall clock, no
//! simulation types, so a command line tool and the simulated control plane can share them.
//!
//! - [`hpa`]: the Kubernetes HorizontalPodAutoscaler (`autoscaling/v2`) decision, faithful to
//!   the upstream controller (`pkg/controller/podautoscaler`).

pub mod database_replicas;
pub mod forecast;
pub mod hpa;
pub mod hpa_controller;
pub mod keda;
pub mod policy;
pub mod predictive;
pub mod target_tracking;
pub mod threshold;

pub use policy::{AutoscalerSpec, Policy};
