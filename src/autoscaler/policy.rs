//! The autoscaling policies a service can have, and their running state. Each policy is a
//! variant here and a module of its own; the simulation asks [`Policy::evaluate`] once per
//! period with the signals the policy is allowed to see.

use super::threshold::{Datapoint, Decision, ThresholdPolicy, ThresholdSpec};

/// A policy as configured.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoscalerSpec {
    /// Threshold (step) rules on CPU, queue length and response time.
    Threshold(ThresholdSpec),
}

impl AutoscalerSpec {
    /// Seconds between evaluations.
    pub fn period_s(&self) -> f64 {
        match self {
            AutoscalerSpec::Threshold(t) => t.period_s,
        }
    }
}

/// A policy's running state.
#[derive(Debug, Clone)]
pub enum Policy {
    /// See [`ThresholdPolicy`].
    Threshold(ThresholdPolicy),
}

impl Policy {
    /// A fresh policy.
    pub fn new(spec: &AutoscalerSpec) -> Self {
        match spec {
            AutoscalerSpec::Threshold(t) => Policy::Threshold(ThresholdPolicy::new(t.clone())),
        }
    }

    /// Decides at `now_s` from the period's datapoint and the current desired replicas.
    pub fn evaluate(&mut self, now_s: f64, current: u32, dp: Datapoint) -> Option<Decision> {
        match self {
            Policy::Threshold(p) => p.evaluate(now_s, current, dp),
        }
    }
}
