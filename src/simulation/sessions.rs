//! In-memory sessions at run time: which instance (slot, serial and process) holds each key's
//! session, and what each request found. A table per service, one entry per key seen: a
//! hash map with a fixed hasher, only looked up and written, never iterated, so runs stay
//! deterministic.

use crate::components::instance::Instance;
use crate::components::lifecycle::Phase;
use crate::ids::InstanceId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Where a key's session lives: the instance slot, the serial of its occupant, and how many
/// times its process had restarted (a restart loses the memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Holder {
    slot: u32,
    serial: u32,
    restarts: u32,
}

impl Holder {
    fn of(id: InstanceId, inst: &Instance) -> Holder {
        Holder {
            slot: id.index() as u32,
            serial: inst.serial,
            restarts: inst.restarts,
        }
    }

    /// Whether the process that holds it still runs.
    fn alive(&self, instances: &[Instance]) -> bool {
        instances.get(self.slot as usize).is_some_and(|i| {
            i.serial == self.serial && i.restarts == self.restarts && i.phase != Phase::Stopped
        })
    }
}

/// What requests found, counted for the requests measured (after the warm-up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Requests that looked for their session.
    pub requests: u64,
    /// Found it on their instance.
    pub found: u64,
    /// Their key had no session yet (a first visit).
    pub new: u64,
    /// It was on another instance, still running (the balancer sent them elsewhere).
    pub elsewhere: u64,
    /// Its instance had stopped or restarted since (lost with the process).
    pub lost: u64,
}

impl SessionSummary {
    /// The share of the requests whose session was somewhere (not new) but not here.
    pub fn miss_fraction(&self) -> f64 {
        let looked = self.requests - self.new;
        if looked == 0 {
            0.0
        } else {
            (self.elsewhere + self.lost) as f64 / looked as f64
        }
    }
}

/// One service's sessions.
#[derive(Debug, Default)]
pub(super) struct SessionTable {
    holders: HashMap<u64, Holder, crate::kernel::FixedHash>,
    pub(super) counts: SessionSummary,
}

impl SessionTable {
    /// A request for `key` starts on `id`: whether its session was there; the session is
    /// there from now on. `counted`: the request is measured.
    pub(super) fn visit(
        &mut self,
        key: u64,
        id: InstanceId,
        instances: &[Instance],
        counted: bool,
    ) -> bool {
        let here = Holder::of(id, &instances[id.index()]);
        let before = self.holders.insert(key, here);
        let c = &mut self.counts;
        let found = before == Some(here);
        if counted {
            c.requests += 1;
            match before {
                None => c.new += 1,
                Some(h) if h == here => c.found += 1,
                Some(h) if h.alive(instances) => c.elsewhere += 1,
                Some(_) => c.lost += 1,
            }
        }
        found || before.is_none()
    }
}
