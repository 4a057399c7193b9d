//! An instance's life: provisioning (a node or VM boots, the image is pulled), start-up (the
//! process starts), readiness (the first successful readiness probe), serving, and draining
//! (no new requests; in-flight ones finish up to a deadline, then the instance is killed).

use crate::kernel::SimDuration;

/// The delays of an instance's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleSpec {
    /// From the decision to add an instance until its process can start.
    pub provisioning: SimDuration,
    /// From process start until it could serve.
    pub startup: SimDuration,
    /// From able to serve until the balancer sends it traffic (readiness probe period).
    pub readiness: SimDuration,
    /// How long a removed instance may finish in-flight requests before it is killed.
    pub drain_timeout: SimDuration,
}

impl Default for LifecycleSpec {
    /// Instant start; Kubernetes' default termination grace period of 30 s.
    fn default() -> Self {
        LifecycleSpec {
            provisioning: SimDuration::ZERO,
            startup: SimDuration::ZERO,
            readiness: SimDuration::ZERO,
            drain_timeout: SimDuration::from_secs(30),
        }
    }
}

impl LifecycleSpec {
    /// From the scale-up decision to receiving traffic.
    pub fn time_to_ready(&self) -> SimDuration {
        self.provisioning + self.startup + self.readiness
    }
}

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Being provisioned or starting; takes no traffic.
    Starting,
    /// Serving traffic.
    Ready,
    /// Removed from the balancer, finishing in-flight requests.
    Draining,
    /// Gone.
    Stopped,
}
