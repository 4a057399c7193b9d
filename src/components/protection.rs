//! How a server protects itself from more work than it can do, besides its admission limits
//! (`concurrency_limit`, `queue_limit`):
//!
//! - a **rate limit**: a token bucket of `burst` tokens refilled at `rps` (Envoy's local rate
//!   limit, API Gateway's throttling, nginx `limit_req ... nodelay`), for the whole service (at
//!   its balancer) or for each instance; a request that finds no token is refused at once
//!   (`rate_limited`, HTTP 429);
//! - **controlled delay** (the CoDel variant of Facebook's "Fail at Scale"): a request may wait
//!   in an instance's accept queue up to `interval`, but once the queue has stood non-empty for
//!   `interval` (a standing queue: overload, not a burst) only `target`; one that waited longer
//!   is dropped unserved when it reaches the front (`shed`). With `lifo`, an instance in that
//!   state serves its newest request first (adaptive LIFO): the ones most likely to still have
//!   a caller waiting.

use crate::kernel::{SimDuration, SimTime};

/// A token bucket's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub rps: f64,
    /// Most tokens held (the burst let through at once).
    pub burst: f64,
    /// One bucket per instance (else one for the service).
    pub per_instance: bool,
}

/// A token bucket, full at the start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    at: SimTime,
}

impl TokenBucket {
    /// A full bucket.
    pub fn full(limit: &RateLimit) -> TokenBucket {
        TokenBucket {
            tokens: limit.burst,
            at: SimTime::ZERO,
        }
    }

    /// Takes a token at `now` if there is one, after refilling for the time since the last.
    #[inline]
    pub fn take(&mut self, now: SimTime, limit: &RateLimit) -> bool {
        let refill = now.since(self.at).as_secs_f64() * limit.rps;
        self.tokens = (self.tokens + refill).min(limit.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Controlled delay's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shedding {
    /// The longest wait once the queue stands (Facebook's M: 5 ms).
    pub target: SimDuration,
    /// The longest wait otherwise, and how long the queue must stand to count as overload
    /// (Facebook's N: 100 ms).
    pub interval: SimDuration,
    /// Serve newest first while overloaded.
    pub lifo: bool,
}

impl Shedding {
    /// Whether a queue non-empty since `standing_since` counts as standing at `now`.
    #[inline]
    pub fn overloaded(&self, standing_since: SimTime, now: SimTime) -> bool {
        now.since(standing_since) > self.interval
    }

    /// The longest a request may have waited to be served at `now`.
    #[inline]
    pub fn allowed(&self, standing_since: SimTime, now: SimTime) -> SimDuration {
        if self.overloaded(standing_since, now) {
            self.target
        } else {
            self.interval
        }
    }
}
