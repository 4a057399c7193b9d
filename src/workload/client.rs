//! Clients: open-loop (arrivals from a rate profile or an inter-arrival distribution, whatever
//! the responses) and closed-loop (N connections, each sending, waiting for its response,
//! thinking, and sending again, as hey, autocannon -c, wrk and k6 drive load).

use super::rate::Arrivals;
use crate::distribution::Dist;
use crate::kernel::SimDuration;
use rand::{Rng, RngExt};

/// A validated client.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    /// Names its random streams and its rows in reports.
    pub name: String,
    /// How it sends.
    pub kind: ClientKind,
    /// Where its requests go.
    pub mix: Mix,
    /// The client gives up on a request after this long.
    pub timeout: Option<SimDuration>,
    /// The key space of its users: a closed client's connection k is key k, an open client's
    /// requests draw theirs.
    pub key: Option<crate::ids::KeySpaceId>,
}

/// Open or closed loop.
#[derive(Debug, Clone)]
pub enum ClientKind {
    /// Arrivals that do not wait for responses.
    Open {
        /// Poisson following a rate profile, or a renewal process.
        arrivals: Arrivals,
    },
    /// A fixed number of connections.
    Closed {
        /// Connections, each with at most one request outstanding.
        connections: u32,
        /// Pause between a response and the next request.
        think: Option<Dist>,
        /// Connections start evenly spread over this span.
        ramp_up: SimDuration,
        /// Pause after an error before sending again. An immediate 503 followed by an
        /// immediate retry would otherwise spin at one instant of virtual time.
        error_pause: SimDuration,
    },
}

/// One destination of a client's requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixEntry {
    /// Service index in the model.
    pub service: u32,
    /// Endpoint index in that service.
    pub endpoint: u32,
}

/// A weighted choice of endpoints.
#[derive(Debug, Clone)]
pub struct Mix {
    entries: Vec<MixEntry>,
    cumulative: Vec<f64>,
}

impl Mix {
    /// From (entry, weight) pairs with positive total weight.
    pub fn new(weighted: Vec<(MixEntry, f64)>) -> Self {
        let total: f64 = weighted.iter().map(|w| w.1).sum();
        let mut acc = 0.0;
        let mut cumulative = Vec::with_capacity(weighted.len());
        let mut entries = Vec::with_capacity(weighted.len());
        for (e, w) in weighted {
            acc += w / total;
            cumulative.push(acc);
            entries.push(e);
        }
        Mix {
            entries,
            cumulative,
        }
    }

    /// The destinations.
    pub fn entries(&self) -> &[MixEntry] {
        &self.entries
    }

    /// The share of requests that go to entry `i`.
    pub fn share(&self, i: usize) -> f64 {
        self.cumulative[i] - if i == 0 { 0.0 } else { self.cumulative[i - 1] }
    }

    /// Draws a destination. A single-entry mix draws nothing, so adding a weight of zero
    /// elsewhere never shifts the stream.
    #[inline]
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> MixEntry {
        if self.entries.len() == 1 {
            return self.entries[0];
        }
        let u: f64 = rng.random();
        let i = self
            .cumulative
            .partition_point(|&c| c <= u)
            .min(self.entries.len() - 1);
        self.entries[i]
    }
}
