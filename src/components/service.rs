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

/// A change decided in advance, as AWS scheduled actions or a cron job patching a Deployment:
/// at `at`, set the desired replicas, resize the instances, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledScaling {
    /// When.
    pub at: crate::kernel::SimDuration,
    /// Desired replicas from then on, if it changes them.
    pub replicas: Option<u32>,
    /// A new instance shape, if it resizes them.
    pub resize: Option<Resize>,
}

/// Vertical scaling: every instance restarts with a new shape (a VM stopped, resized and
/// booted again; a pod recreated with new requests). A restart drops what the instance held
/// (as `killed`) and takes the instance's provisioning, start-up and readiness.
#[derive(Debug, Clone, PartialEq)]
pub struct Resize {
    /// The new shape (cores, workers, memory, limits).
    pub instance: InstanceSpec,
    /// The new type and its price, when it changes.
    pub cost: Option<crate::components::cost::CostSpec>,
    /// All at once (`false`: the whole service is down for the restart), or one instance at a
    /// time, each waiting for the previous to be ready again.
    pub rolling: bool,
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
