//! How a balancer finds out which instances are up. Without health checks it knows at once
//! (an orchestrator removing a dead pod's endpoint the moment its process exits, the
//! idealisation every earlier run made). With them it finds out the way load balancers do:
//!
//! - active checks (AWS ELB, nginx Plus, Envoy, HAProxy): every `interval` each instance is
//!   probed; `unhealthy` failures in a row take it out of rotation, `healthy` successes in a
//!   row put it back. A dead process refuses a probe at once; a hung one is known to have
//!   failed only when the probe's `timeout` passes. An instance the checker has not yet seen
//!   pass stays out of rotation (a new instance needs `healthy` passing probes), and one that
//!   died stays in rotation until it is seen to fail: requests sent to it meanwhile fail
//!   (`crashed`: connection refused);
//! - passive checks (Envoy's outlier detection, nginx's `max_fails`): an instance whose
//!   answers fail `consecutive_errors` times in a row is ejected for `eject_for`, at most a
//!   `max_ejected` share of the fleet at once (at least one instance).

use crate::kernel::SimDuration;

/// A service's health checking.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HealthSpec {
    pub active: Option<ActiveCheck>,
    pub passive: Option<OutlierDetection>,
}

/// Active health checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActiveCheck {
    /// Between probes of one instance.
    pub interval: SimDuration,
    /// How long a probe waits for its answer.
    pub timeout: SimDuration,
    /// Failed probes in a row that take an instance out of rotation.
    pub unhealthy: u32,
    /// Passed probes in a row that put it back.
    pub healthy: u32,
}

/// Passive health checks: outlier ejection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutlierDetection {
    /// Failed answers in a row that eject an instance.
    pub consecutive_errors: u32,
    /// How long an ejection lasts.
    pub eject_for: SimDuration,
    /// The largest share of the fleet ejected at once (at least one instance may be).
    pub max_ejected: f64,
}

impl HealthSpec {
    /// Whether the balancer learns of instances only through probes.
    pub fn probed(&self) -> bool {
        self.active.is_some()
    }
}

/// Failures at random (a fleet's MTBF and MTTR): each ready instance's process dies after an
/// exponential time of mean `mtbf`, with what it holds (`crashed`), and starts again after an
/// exponential time of mean `mttr`, then takes start-up and readiness. Without start-up, one
/// instance is ready a share mtbf / (mtbf + mttr) of the time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailureSpec {
    pub mtbf: SimDuration,
    pub mttr: SimDuration,
}
