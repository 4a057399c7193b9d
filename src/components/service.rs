//! Services: identical instances behind a balancer, serving a set of endpoints.

use crate::components::balancer::BalancerSpec;
use crate::components::endpoint::EndpointSpec;
use crate::components::instance::InstanceSpec;
use crate::components::lifecycle::LifecycleSpec;

/// A service as configured.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Name, unique within the model.
    pub name: String,
    /// Instances at the start.
    pub replicas: u32,
    /// Every instance's shape.
    pub instance: InstanceSpec,
    /// How requests are spread.
    pub balancer: BalancerSpec,
    /// Endpoints, in file order.
    pub endpoints: Vec<EndpointSpec>,
    /// Delays of starting and stopping instances.
    pub lifecycle: LifecycleSpec,
    /// Changes of replica count decided in advance (scheduled scaling), in time order.
    pub schedule: Vec<ScheduledScaling>,
    /// A policy that changes the replica count from what it observes.
    pub autoscaler: Option<crate::autoscaler::AutoscalerSpec>,
    /// How its instances are billed, if priced.
    pub cost: Option<crate::components::cost::CostSpec>,
}

/// A scheduled change of the replica count, as AWS scheduled actions or a cron job scaling a
/// Deployment do: at `at`, set the desired replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledScaling {
    /// When.
    pub at: crate::kernel::SimDuration,
    /// Desired replicas from then on.
    pub replicas: u32,
}

impl ServiceSpec {
    /// Offered CPU seconds per request of `endpoint`, where every step's mean is finite.
    pub fn mean_cpu_s(&self, endpoint: usize) -> Option<f64> {
        use crate::components::endpoint::Step;
        self.endpoints[endpoint]
            .steps
            .iter()
            .try_fold(0.0, |acc, s| match s {
                Step::Cpu(d) | Step::Block(d) => d.mean().map(|m| acc + m),
                Step::Io(_) => Some(acc),
            })
    }
}
