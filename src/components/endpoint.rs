//! Endpoints: what serving one request costs, as a short program of steps.

use crate::distribution::Dist;

/// An endpoint of a service.
#[derive(Debug, Clone)]
pub struct EndpointSpec {
    /// Name, unique within its service.
    pub name: String,
    /// Steps run in order; a request is answered after the last.
    pub steps: Vec<Step>,
}

/// One step of an endpoint.
#[derive(Debug, Clone)]
pub enum Step {
    /// Compute on a core. If the instance has a CPU quantum, the step runs in slices and other
    /// CPU work interleaves (OS threads); otherwise it runs to completion once started.
    Cpu(Dist),
    /// Synchronous compute that holds its core (the event loop) until it finishes: no other
    /// CPU step runs on that core meanwhile, whatever the quantum.
    Block(Dist),
    /// An asynchronous wait (a downstream call, disk, sleep) that holds no core.
    Io(Dist),
}
