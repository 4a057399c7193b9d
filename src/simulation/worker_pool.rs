//! Worker pools: services whose balancer is a queue. Requests wait as messages in one FIFO
//! per service and a worker (a free concurrency slot of a ready instance) takes the oldest,
//! so no instance ever queues work of its own and a slow worker never holds messages that a
//! free one could take.
//!
//! Invariant: while the backlog is not empty, no ready instance of the service has a free
//! slot (a slot that frees takes the next message at once). So an arriving message scans for a
//! free worker only when nothing waits.

use super::{Event, Simulation};
use crate::components::lifecycle::Phase;
use crate::kernel::{Scheduler, SimTime};
use crate::metrics::Outcome;

impl Simulation<'_> {
    /// A message arrives at worker pool `service`: a free worker takes it, else it waits (or is
    /// refused when the queue is at `max_length`).
    pub(super) fn enqueue(
        &mut self,
        slot: u32,
        max_length: u32,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let service = self.requests.get(slot).service as usize;
        let svc = &mut self.services[service];
        if svc.backlog.is_empty() {
            let n = svc.ready.len();
            let start = svc.pull_cursor;
            for k in 0..n {
                let id = svc.ready[(start + k) % n];
                if self.instances[id as usize].has_free_slot() {
                    svc.pull_cursor = (start + k + 1) % n;
                    self.take(id, slot, now, s);
                    return;
                }
            }
        }
        let svc = &mut self.services[service];
        if svc.backlog.len() >= max_length as usize {
            self.server_done(slot);
            self.answer(slot, Outcome::Rejected, now, s);
            return;
        }
        svc.backlog.push_back(slot);
        svc.backlog_len.set(now, svc.backlog.len() as i64);
    }

    /// Worker `id` takes message `slot`.
    fn take(&mut self, id: u32, slot: u32, now: SimTime, s: &mut Scheduler<Event>) {
        self.requests.get_mut(slot).instance = id;
        let inst = &mut self.instances[id as usize];
        inst.admit(slot, now);
        if inst.out_of_memory() {
            self.oom_kill(id, now, s);
            return;
        }
        self.start(slot, now, s);
    }

    /// A ready worker with free slots takes the oldest waiting messages.
    pub(super) fn pull(&mut self, id: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let service = self.instances[id as usize].service as usize;
        loop {
            let inst = &self.instances[id as usize];
            if inst.phase != Phase::Ready || !inst.has_free_slot() {
                return;
            }
            let svc = &mut self.services[service];
            let Some(slot) = svc.backlog.pop_front() else {
                return;
            };
            svc.backlog_len.set(now, svc.backlog.len() as i64);
            self.take(id, slot, now, s);
        }
    }
}
