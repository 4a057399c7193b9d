//! Services: identical instances behind a balancer, serving a set of endpoints.

use crate::components::balancer::BalancerSpec;
use crate::components::endpoint::EndpointSpec;
use crate::components::instance::InstanceSpec;

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
