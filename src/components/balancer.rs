//! Load balancers: which instance of a service gets the next request.
//!
//! Adding an algorithm is local to this file and the config's `RawBalancer`: a variant of
//! [`BalancerSpec`], its state in [`Balancer`], and one arm in [`Balancer::pick`].

use crate::components::instance::Instance;
use crate::kernel::Stream;
use rand::RngExt;

/// A balancing algorithm as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalancerSpec {
    /// Each instance in turn (nginx's default).
    RoundRobin,
    /// Uniformly at random.
    Random,
    /// Fewest open requests; ties go round robin so equal instances share load evenly
    /// (nginx `least_conn`).
    LeastConnections,
    /// A worker pool pulling from a queue (SQS, RabbitMQ, Celery): requests wait in one FIFO
    /// of at most `max_length` messages, and a worker with a free slot takes the oldest. The
    /// simulation routes these itself; [`Balancer::pick`] is not used for them.
    Queue {
        /// Most messages waiting; more are refused.
        max_length: u32,
    },
}

impl BalancerSpec {
    /// The name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            BalancerSpec::RoundRobin => "round_robin",
            BalancerSpec::Random => "random",
            BalancerSpec::LeastConnections => "least_connections",
            BalancerSpec::Queue { .. } => "queue",
        }
    }
}

/// A balancer's running state.
#[derive(Debug)]
pub struct Balancer {
    spec: BalancerSpec,
    /// Rotating start position (round robin, and tie-breaks for least connections).
    cursor: usize,
    /// Draws for random choice; a stream of its own, so other streams are untouched.
    rng: Stream,
}

impl Balancer {
    /// A balancer with its own random stream.
    pub fn new(spec: BalancerSpec, rng: Stream) -> Self {
        Balancer {
            spec,
            cursor: 0,
            rng,
        }
    }

    /// The algorithm.
    pub fn spec(&self) -> BalancerSpec {
        self.spec
    }

    /// Picks one of `candidates` (indices into `instances`); `None` if there are none.
    ///
    /// Cost: O(1) for round robin and random, O(n) for least connections.
    #[inline]
    pub fn pick(&mut self, candidates: &[u32], instances: &[Instance]) -> Option<u32> {
        let n = candidates.len();
        if n == 0 {
            return None;
        }
        let i = match self.spec {
            // A queue has no push routing; round robin stands in if ever asked.
            BalancerSpec::RoundRobin | BalancerSpec::Queue { .. } => {
                let i = self.cursor % n;
                self.cursor = (i + 1) % n;
                i
            }
            BalancerSpec::Random => self.rng.random_range(0..n),
            BalancerSpec::LeastConnections => {
                let start = self.cursor % n;
                let mut best = start;
                let mut best_open = u32::MAX;
                for k in 0..n {
                    let i = (start + k) % n;
                    let open = instances[candidates[i] as usize].open_requests();
                    if open < best_open {
                        best_open = open;
                        best = i;
                    }
                }
                self.cursor = (best + 1) % n;
                best
            }
        };
        Some(candidates[i])
    }
}
