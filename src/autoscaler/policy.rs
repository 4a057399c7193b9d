//! The autoscaling policies a service can have, and their running state. Each policy is a
//! variant here and a module of its own; once per period the simulation hands each policy what
//! it is allowed to see (a datapoint for threshold rules and target tracking, pods with scraped
//! samples for the HPA, measured rates for the predictive policy, the queue for KEDA) and
//! applies its decision.

use super::database_replicas::DatabaseReplicasSpec;
use super::hpa_controller::{HpaController, HpaSpec};
use super::keda::{KedaPolicy, KedaSpec};
use super::predictive::{PredictivePolicy, PredictiveSpec};
use super::target_tracking::{TargetTrackingPolicy, TargetTrackingSpec};
use super::threshold::{ThresholdPolicy, ThresholdSpec};

/// A policy as configured.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoscalerSpec {
    /// Threshold (step) rules on CPU, memory, queue length and response time.
    Threshold(ThresholdSpec),
    /// The Kubernetes HorizontalPodAutoscaler.
    Hpa(Box<HpaSpec>),
    /// AWS-style target tracking.
    TargetTracking(TargetTrackingSpec),
    /// Forecast-driven sizing.
    Predictive(Box<PredictiveSpec>),
    /// KEDA-style scaling on queue length, for worker pools.
    Keda(Box<KedaSpec>),
    /// Go Coffee's read-replica scaler, for databases.
    DatabaseReplicas(DatabaseReplicasSpec),
}

impl AutoscalerSpec {
    /// Seconds between evaluations.
    pub fn period_s(&self) -> f64 {
        match self {
            AutoscalerSpec::Threshold(t) => t.period_s,
            AutoscalerSpec::Hpa(h) => h.sync_period_s,
            AutoscalerSpec::TargetTracking(t) => t.period_s,
            AutoscalerSpec::Predictive(p) => p.period_s,
            AutoscalerSpec::Keda(k) => k.polling_interval_s,
            AutoscalerSpec::DatabaseReplicas(d) => d.period_s,
        }
    }

    /// Seconds between metric scrapes, for policies that read per-instance samples.
    pub fn scrape_interval_s(&self) -> Option<f64> {
        match self {
            AutoscalerSpec::Hpa(h) => Some(h.metric_resolution_s),
            // The CloudWatch agent publishes each instance's datapoint once per period.
            AutoscalerSpec::TargetTracking(t) => Some(t.period_s),
            AutoscalerSpec::Threshold(_)
            | AutoscalerSpec::Predictive(_)
            | AutoscalerSpec::Keda(_)
            | AutoscalerSpec::DatabaseReplicas(_) => None,
        }
    }

    /// The policy's name in reports.
    pub fn kind(&self) -> &'static str {
        match self {
            AutoscalerSpec::Threshold(_) => "threshold",
            AutoscalerSpec::Hpa(_) => "hpa",
            AutoscalerSpec::TargetTracking(_) => "target_tracking",
            AutoscalerSpec::Predictive(_) => "predictive",
            AutoscalerSpec::Keda(_) => "keda",
            AutoscalerSpec::DatabaseReplicas(_) => "database_replicas",
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
    /// See [`TargetTrackingPolicy`].
    TargetTracking(TargetTrackingPolicy),
    /// See [`PredictivePolicy`].
    Predictive(Box<PredictivePolicy>),
    /// See [`KedaPolicy`].
    Keda(Box<KedaPolicy>),
    /// See [`DatabaseReplicasSpec`]: stateless but for the counters of the last reading.
    DatabaseReplicas(DatabaseReplicasSpec),
}

impl Policy {
    /// A fresh policy.
    pub fn new(spec: &AutoscalerSpec) -> Self {
        match spec {
            AutoscalerSpec::Threshold(t) => Policy::Threshold(ThresholdPolicy::new(t.clone())),
            AutoscalerSpec::Hpa(h) => Policy::Hpa(Box::new(HpaController::new((**h).clone()))),
            AutoscalerSpec::TargetTracking(t) => {
                Policy::TargetTracking(TargetTrackingPolicy::new(t.clone()))
            }
            AutoscalerSpec::Predictive(p) => {
                Policy::Predictive(Box::new(PredictivePolicy::new((**p).clone())))
            }
            AutoscalerSpec::Keda(k) => Policy::Keda(Box::new(KedaPolicy::new((**k).clone()))),
            AutoscalerSpec::DatabaseReplicas(d) => Policy::DatabaseReplicas(d.clone()),
        }
    }
}
