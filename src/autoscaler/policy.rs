//! The autoscaling policies a service can have, and their running state. Each policy is a
//! variant here and a module of its own; once per period the simulation hands each policy what
//! it is allowed to see (a datapoint for threshold rules, pods with scraped samples for the
//! HPA) and applies its decision.

use super::hpa_controller::{HpaController, HpaSpec};
use super::threshold::{ThresholdPolicy, ThresholdSpec};

/// A policy as configured.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoscalerSpec {
    /// Threshold (step) rules on CPU, queue length and response time.
    Threshold(ThresholdSpec),
    /// The Kubernetes HorizontalPodAutoscaler.
    Hpa(Box<HpaSpec>),
}

impl AutoscalerSpec {
    /// Seconds between evaluations.
    pub fn period_s(&self) -> f64 {
        match self {
            AutoscalerSpec::Threshold(t) => t.period_s,
            AutoscalerSpec::Hpa(h) => h.sync_period_s,
        }
    }

    /// Seconds between metric scrapes, for policies that read per-instance samples.
    pub fn scrape_interval_s(&self) -> Option<f64> {
        match self {
            AutoscalerSpec::Threshold(_) => None,
            AutoscalerSpec::Hpa(h) => Some(h.metric_resolution_s),
        }
    }
}

/// A policy's running state.
#[derive(Debug, Clone)]
pub enum Policy {
    /// See [`ThresholdPolicy`].
    Threshold(ThresholdPolicy),
    /// See [`HpaController`]. Boxed: it carries the whole HPA spec.
    Hpa(Box<HpaController>),
}

impl Policy {
    /// A fresh policy.
    pub fn new(spec: &AutoscalerSpec) -> Self {
        match spec {
            AutoscalerSpec::Threshold(t) => Policy::Threshold(ThresholdPolicy::new(t.clone())),
            AutoscalerSpec::Hpa(h) => Policy::Hpa(Box::new(HpaController::new((**h).clone()))),
        }
    }
}
