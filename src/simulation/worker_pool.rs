//! Worker pools: services whose balancer is a queue. Requests wait as messages in one FIFO
//! per service and a worker (a free concurrency slot of a ready instance) takes the oldest,
//! so no instance ever queues work of its own and a slow worker never holds messages that a
//! free one could take.
//!
//! Invariant: while the backlog is not empty, no ready instance of the service has a free
//! slot (a slot that frees takes the next message at once). So an arriving message scans for a
//! free worker only when nothing waits.

use super::span::{HOLDS_SLOT, SpanState};
use super::tree::Work;
use super::{Event, Simulation};
use crate::components::lifecycle::Phase;
use crate::ids::{InstanceId, SpanId};
use crate::kernel::{Scheduler, SimTime};
use crate::metrics::Outcome;

impl Simulation<'_> {
    /// A message arrives at worker pool `service`: a free worker takes it, else it waits (or is
    /// refused when the queue is at `max_length`).
    pub(super) fn enqueue_message(
        &mut self,
        id: SpanId,
        max_length: u32,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let service = self.spans.get(id).service as usize;
        let svc = &mut self.services[service];
        if svc.routing.backlog_len() == 0 {
            let ready = svc.fleet.ready();
            let n = ready.len();
            let start = svc.routing.pull_cursor;
            for k in 0..n {
                let worker = ready[(start + k) % n];
                if self.instances[worker].has_free_slot() {
                    svc.routing.pull_cursor = (start + k + 1) % n;
                    self.take(worker, id, now, s);
                    return;
                }
            }
        }
        let routing = &mut self.services[service].routing;
        if routing.backlog_len() >= max_length as usize {
            self.finish(id, Outcome::Rejected, None, now, s);
            return;
        }
        routing.push_message(self.spans.reference(id), now);
        self.spans.get_mut(id).state = SpanState::Backlogged;
    }

    /// Worker `worker` takes message `id`: it starts on the next pass of the work queue.
    fn take(&mut self, worker: InstanceId, id: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let r = self.spans.reference(id);
        self.instances[worker].admit(r, now);
        self.hold(worker, id);
        let sp = self.spans.get_mut(id);
        sp.flags |= HOLDS_SLOT;
        sp.state = SpanState::Queued;
        if self.instances[worker].out_of_memory() {
            self.oom_kill(worker, now, s);
            return;
        }
        self.work.push_back(Work::Start(r));
    }

    /// A ready worker with free slots takes the oldest waiting messages that are still
    /// wanted; messages past their queue deadline are dropped unserved (`expired`).
    pub(super) fn pull(&mut self, worker: InstanceId, now: SimTime, s: &mut Scheduler<Event>) {
        let service = self.instances[worker].service.index();
        loop {
            let inst = &self.instances[worker];
            if inst.phase != Phase::Ready || !inst.has_free_slot() {
                return;
            }
            let Some(r) = self.services[service].routing.pop_message(now) else {
                return;
            };
            if !self.is_live(r.id, r.generation, SpanState::Backlogged) {
                continue; // cancelled while it waited
            }
            // Out of the queue (so ending it now has no queue entry to remove).
            self.spans.get_mut(r.id).state = SpanState::Travelling;
            if self.expired(r.id, now) {
                self.finish(r.id, Outcome::Expired, None, now, s);
                continue;
            }
            self.take(worker, r.id, now, s);
        }
    }
}
