//! How spans start, end, and wake whoever waits for them; how callers time out and how
//! abandoned work is cancelled.
//!
//! Work that one event sets off (a finished span waking its caller, a freed slot admitting
//! the next request, a cancellation travelling down a call chain) goes through one FIFO that
//! the handler drains after the event: no recursion however deep the call tree, and no extra
//! heap event. Each item names its span with the generation it had, so an item about a span
//! freed meanwhile is dropped.
//!
//! A span ends exactly once (`finish`), with one outcome; its parent reads it once
//! (`deliver`), and only then is the span freed. A caller that stops waiting (a timeout, its
//! own failure) detaches its child first: the child's edge outcome is recorded then, and the
//! child runs on (or is cancelled, if its service cancels abandoned work) with nobody to tell.

use super::observe::EdgeEvent;
use super::span::{
    ANSWERED, ARRIVED, CANCELLED, COUNTED, EDGE_DONE, HELD, HOLDS_SLOT, SpanKind, SpanState,
};
use super::{Event, Simulation};
use crate::components::balancer::BalancerSpec;
use crate::components::endpoint::{Leftovers, OnError};
use crate::components::instance::Admission;
use crate::components::lifecycle::Phase;
use crate::components::program::{CallOp, ForkOp, Op};
use crate::components::session::OnMiss;
use crate::ids::{EdgeId, EndpointRef, InstanceId, SpanId, SpanRef};
use crate::kernel::{RequestRng, Scheduler, SimDuration, SimTime, keyed_seed};
use crate::metrics::Outcome;
use rand::RngExt;

/// Draw key of a call's answer leg over the network (the request leg is the call op's key).
const REPLY_KEY: u64 = 0x0072_6570_6c79; // "reply"
/// Draw key of a retry's jitter (with the caller's seed and the tries so far).
const RETRY_DRAW: u64 = 0x0072_6574_7279_6a74; // "retryjt"

/// Something to do before the next event.
#[derive(Debug, Clone, Copy)]
pub(super) enum Work {
    /// A span reaches its service.
    Dispatch(SpanRef),
    /// An admitted span starts its program.
    Start(SpanRef),
    /// A span goes on from its program counter.
    Resume(SpanRef),
    /// A finished span hands its outcome to whoever waits for it.
    Deliver(SpanRef),
    /// A span's caller gave up on it and its server stops the work.
    Cancel(SpanRef),
}

impl<'a> Simulation<'a> {
    /// Does everything the last event set off.
    #[inline]
    pub(super) fn drain_work(&mut self, now: SimTime, s: &mut Scheduler<Event>) {
        while let Some(w) = self.work.pop_front() {
            match w {
                Work::Dispatch(r) if self.is_at(r, SpanState::Travelling) => {
                    self.dispatch(r.id, now, s)
                }
                Work::Start(r) if self.is_at(r, SpanState::Queued) => self.start(r.id, now, s),
                Work::Resume(r) if self.is_at(r, SpanState::Running) => self.resume(r.id, now, s),
                Work::Deliver(r) if self.is_at(r, SpanState::Finished) => {
                    self.deliver(r.id, now, s)
                }
                Work::Cancel(r) if self.spans.is_current(r) => self.cancel(r.id, now, s),
                _ => {}
            }
        }
    }

    #[inline]
    fn is_at(&self, r: SpanRef, state: SpanState) -> bool {
        self.is_live(r.id, r.generation, state)
    }

    /// Whether an event about (`id`, `generation`) still concerns the span that scheduled it,
    /// and the span is still where the event expects it.
    #[inline]
    pub(super) fn is_live(&self, id: SpanId, generation: u32, state: SpanState) -> bool {
        let sp = self.spans.get(id);
        sp.generation == generation && sp.state == state
    }

    /// A span reaches its service: the balancer picks an instance, which admits, queues or
    /// rejects it (a worker pool's queue takes it instead).
    #[inline]
    pub(super) fn dispatch(&mut self, id: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let sp = self.spans.get_mut(id);
        sp.arrived = now;
        sp.state = SpanState::Travelling;
        sp.flags |= ARRIVED;
        let at = EndpointRef {
            service: sp.service,
            endpoint: sp.endpoint,
        };
        let (root, counted, key, seed) =
            (sp.kind == SpanKind::Root, sp.has(COUNTED), sp.key, sp.seed);
        let svc = &mut self.services[at.service as usize];
        svc.counters.arrivals += 1;
        self.observer.served_arrival(at, root, counted);
        let limit = self.variant.model.services[at.service as usize].rate_limit;
        if let (Some(bucket), Some(limit)) = (&mut svc.bucket, limit) {
            if !bucket.take(now, &limit) {
                self.finish(id, Outcome::RateLimited, None, now, s);
                return;
            }
        }
        let svc = &mut self.services[at.service as usize];
        let balancer = &mut svc.routing.balancer;
        if let BalancerSpec::Queue { max_length } = balancer.spec() {
            self.enqueue_message(id, max_length, now, s);
            return;
        }
        let picked = match self.databases.of(at.service) {
            Some(db) => self.route_query(db, id, at, now),
            None => balancer.pick(svc.fleet.candidates(), self.instances.slots(), key, seed),
        };
        let Some(instance) = picked else {
            self.finish(id, Outcome::NoInstance, None, now, s);
            return;
        };
        if self.instances[instance].phase != Phase::Ready {
            // Still in rotation, but its process is down: the connection is refused.
            self.services[at.service as usize].counters.health.refused += 1;
            self.answered(instance, false, now, s);
            self.finish(id, Outcome::Crashed, None, now, s);
            return;
        }
        if let (Some(bucket), Some(limit)) = (&mut self.instances[instance].bucket, limit) {
            if !bucket.take(now, &limit) {
                self.finish(id, Outcome::RateLimited, None, now, s);
                return;
            }
        }
        let r = self.spans.reference(id);
        let inst = &mut self.instances[instance];
        let admission = inst.admit(r, now);
        let open = inst.open_requests();
        self.services[at.service as usize]
            .routing
            .balancer
            .load_changed(instance, open, self.instances.slots());
        if admission != Admission::Rejected && self.databases.of(at.service).is_none() {
            // A balancer instance counting its own connections counts this one.
            self.services[at.service as usize]
                .routing
                .balancer
                .sent(seed, instance);
        }
        match admission {
            Admission::Rejected => {
                self.answered(instance, false, now, s);
                self.finish(id, Outcome::Rejected, None, now, s);
                return;
            }
            Admission::Admitted => {
                self.hold(instance, id);
                self.spans.get_mut(id).flags |= HOLDS_SLOT;
            }
            Admission::Queued => {
                self.hold(instance, id);
                self.spans.get_mut(id).state = SpanState::Queued;
            }
        }
        if self.instances[instance].out_of_memory() {
            // One request too many: the process dies with everything it held, this one too.
            self.oom_kill(instance, now, s);
            return;
        }
        if admission == Admission::Admitted {
            self.start(id, now, s);
        }
    }

    /// An admitted span begins its program on the executor it is pinned to.
    #[inline]
    pub(super) fn start(&mut self, id: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let instance = self.spans.get(id).instance;
        let sp = self.spans.get(id);
        if self.fails_by_fault(instance, sp.seed, now) {
            // A bad deploy's error: answered at once, with no work done.
            self.finish(id, Outcome::Failed, None, now, s);
            return;
        }
        let (service, key, counted) = (sp.service as usize, sp.key, sp.has(COUNTED));
        if let Some(table) = &mut self.services[service].sessions {
            let found = table.visit(key, instance, self.instances.slots(), counted);
            let spec = self.variant.model.services[service].sessions;
            if !found && spec.is_some_and(|s| s.on_miss == OnMiss::Fail) {
                // Its session is on another instance, or was lost: it must log in again.
                self.finish(id, Outcome::Failed, None, now, s);
                return;
            }
        }
        let executor = self.instances[instance].pin_executor();
        let sp = self.spans.get_mut(id);
        sp.executor = executor;
        sp.pc = self.variant.model.code.entry(EndpointRef {
            service: sp.service,
            endpoint: sp.endpoint,
        });
        sp.state = SpanState::Running;
        self.resume(id, now, s);
    }

    /// Puts `id` on instance `instance`'s list of held spans.
    #[inline]
    pub(super) fn hold(&mut self, instance: InstanceId, id: SpanId) {
        let head = self.instances[instance].held;
        let sp = self.spans.get_mut(id);
        sp.instance = instance;
        sp.held_prev = None;
        sp.held_next = head;
        sp.flags |= HELD;
        if let Some(h) = head {
            self.spans.get_mut(h).held_prev = Some(id);
        }
        self.instances[instance].held = Some(id);
    }

    /// Takes `id` (whose links are `sp`'s) off its instance's list of held spans.
    #[inline]
    fn unhold(&mut self, id: SpanId, sp: &super::span::Span) {
        match sp.held_prev {
            Some(p) => self.spans.get_mut(p).held_next = sp.held_next,
            None => self.instances[sp.instance].held = sp.held_next,
        }
        if let Some(n) = sp.held_next {
            self.spans.get_mut(n).held_prev = sp.held_prev;
        }
        self.spans.get_mut(id).flags &= !HELD;
    }

    /// Attaches `child` under `parent` (who now waits for it).
    pub(super) fn link_child(&mut self, parent: SpanId, child: SpanId) {
        let head = self.spans.get(parent).first_child;
        let c = self.spans.get_mut(child);
        c.parent = Some(parent);
        c.prev_sibling = None;
        c.next_sibling = head;
        if let Some(h) = head {
            self.spans.get_mut(h).prev_sibling = Some(child);
        }
        self.spans.get_mut(parent).first_child = Some(child);
    }

    /// Detaches `child` from its parent: nobody waits for it any more.
    fn unlink_child(&mut self, child: SpanId) {
        let c = *self.spans.get(child);
        let Some(parent) = c.parent else { return };
        match c.prev_sibling {
            Some(p) => self.spans.get_mut(p).next_sibling = c.next_sibling,
            None => self.spans.get_mut(parent).first_child = c.next_sibling,
        }
        if let Some(n) = c.next_sibling {
            self.spans.get_mut(n).prev_sibling = c.prev_sibling;
        }
        let c = self.spans.get_mut(child);
        c.parent = None;
        c.prev_sibling = None;
        c.next_sibling = None;
    }

    /// The call `caller` waits at.
    pub(super) fn call_op(&self, caller: SpanId) -> Option<&'a CallOp> {
        match self.variant.model.code.op(self.spans.get(caller).pc) {
            Op::Call(c) => Some(c),
            _ => None,
        }
    }

    /// The fan-out `span` waits at.
    fn fork_op(&self, span: SpanId) -> Option<&'a ForkOp> {
        match self.variant.model.code.op(self.spans.get(span).pc) {
            Op::Fork(f) => Some(f),
            _ => None,
        }
    }

    /// Ends span `id` with `outcome` (and, for a failure passed on, the edge that caused it):
    /// frees its slot (admitting whoever waits for one), records it at its service, lets go
    /// of its children, and hands the outcome to whoever waits for it.
    #[inline]
    pub(super) fn finish(
        &mut self,
        id: SpanId,
        outcome: Outcome,
        cause: Option<EdgeId>,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let sp = *self.spans.get(id);
        debug_assert!(
            !matches!(sp.state, SpanState::Finished | SpanState::Free),
            "a span ends once"
        );
        let instance = sp.instance;
        let held = sp.has(HELD);
        if held {
            // A span that ends while it waits (cancelled, or expired on its way) leaves its
            // queue now, so no queue length or wait keeps counting it.
            let r = self.spans.reference(id);
            let inst = &mut self.instances[instance];
            match sp.state {
                SpanState::Queued if !sp.has(HOLDS_SLOT) => {
                    inst.remove_queued(r, now);
                    let (open, service) = (inst.open_requests(), inst.service);
                    self.services[service.index()]
                        .routing
                        .balancer
                        .load_changed(instance, open, self.instances.slots());
                }
                SpanState::CpuQueued => {
                    inst.remove_segment(sp.executor, r, now);
                }
                _ => {}
            }
            self.unhold(id, &sp);
            if sp.kind.is_served() && self.databases.of(sp.service).is_none() {
                // It ends where its balancer sent it (branches are held, never sent).
                self.services[sp.service as usize]
                    .routing
                    .balancer
                    .ended(sp.seed, instance);
                // Passive checks judge the answers someone still waits for (a call that
                // timed out was judged when it did).
                if !sp.has(EDGE_DONE | ANSWERED) && outcome != Outcome::Cancelled {
                    self.answered(instance, outcome == Outcome::Ok, now, s);
                }
            }
        } else if sp.state == SpanState::Backlogged {
            // Ended while it waited in a worker pool's queue.
            let r = self.spans.reference(id);
            self.services[sp.service as usize]
                .routing
                .remove_message(r, now);
        }
        if sp.flight.is_some() {
            // It was filling a miss others wait for: they look again.
            self.abandon_flights(id);
        }
        {
            let m = self.spans.get_mut(id);
            m.state = SpanState::Finished;
            m.outcome = outcome;
            m.cause = cause;
            m.flags &= !HOLDS_SLOT;
        }
        if sp.has(HOLDS_SLOT) {
            let inst = &mut self.instances[instance];
            inst.release();
            if outcome == Outcome::Ok {
                inst.completed += 1;
            }
            self.fill_slots(instance, now, s);
            // After the queue has moved: expired and stale entries left it too.
            let inst = &self.instances[instance];
            let open = inst.open_requests();
            let balancer = &mut self.services[inst.service.index()].routing.balancer;
            if sp.has(ARRIVED) {
                // What the balancer sees of the instance's speed: the request's whole stay.
                balancer.responded(instance, now.since(sp.arrived), now);
            }
            balancer.load_changed(instance, open, self.instances.slots());
        }
        // Only a request that reached its service is the service's to count (one cancelled
        // on its way there was never seen by it).
        if sp.kind.is_served() && sp.has(ARRIVED) {
            let latency = now.since(sp.arrived);
            // What a policy's response-time metric sees: answers someone still waited for
            // (a balancer's or caller's view), not work finished after its client left.
            let awaited = match sp.kind {
                SpanKind::Root => !sp.has(ANSWERED),
                SpanKind::Call => sp.parent.is_some(),
                SpanKind::Job
                | SpanKind::Branch
                | SpanKind::Refresh
                | SpanKind::Migration
                | SpanKind::Reload => true,
            };
            // A root its client still waits for has the client's outcome and latency, which
            // the client records: the service's counts are merged from it at the end.
            if !(sp.kind == SpanKind::Root && awaited) {
                self.observer
                    .served(sp.service, sp.endpoint, outcome, latency, sp.has(COUNTED));
            }
            if outcome == Outcome::Ok && awaited {
                let counters = &mut self.services[sp.service as usize].counters;
                counters.ok_count += 1;
                counters.ok_latency_ns += u128::from(latency.as_nanos());
            }
        }
        if outcome == Outcome::Ok && sp.kind.is_served() {
            if let Some(db) = self.databases.of(sp.service) {
                self.query_done(db, &sp, now);
            }
        }
        self.abandon_children(id, now);
        if held {
            match self.instances[instance].phase {
                Phase::Draining => {
                    self.stop_if_drained(instance, now);
                }
                Phase::Ready
                    if sp.has(HOLDS_SLOT)
                        && self.services[self.instances[instance].service.index()].pulls() =>
                {
                    self.pull(instance, now, s);
                }
                _ => {}
            }
        }
        // The answer crosses the network back to a caller that still waits.
        if let (SpanKind::Call, Some(parent)) = (sp.kind, sp.parent) {
            if let Some(latency) = self.call_op(parent).and_then(|c| c.latency.as_ref()) {
                let mut rng = RequestRng::new(keyed_seed(sp.seed, REPLY_KEY));
                s.schedule_in(
                    latency.sample_duration(&mut rng),
                    Event::Reply {
                        span: id,
                        generation: sp.generation,
                    },
                );
                return;
            }
        }
        if sp.parent.is_none() {
            // Nobody to wake (a root answers its client, a job or an abandoned call just
            // ends): no chain of resumptions can start here, so it is done at once.
            self.deliver(id, now, s);
        } else {
            self.work.push_back(Work::Deliver(self.spans.reference(id)));
        }
    }

    /// A slot of `instance` is free: the oldest queued request that is still wanted and
    /// within its deadlines takes it; expired ones are dropped unserved on the way.
    #[inline]
    fn fill_slots(&mut self, instance: InstanceId, now: SimTime, s: &mut Scheduler<Event>) {
        let service = self.instances[instance].service.index();
        let shedding = self.variant.model.services[service].shedding;
        loop {
            let newest = match shedding {
                None => false,
                Some(sh) => {
                    if self.shed_oldest(instance, &sh, now, s) {
                        continue;
                    }
                    sh.lifo && sh.overloaded(self.instances[instance].standing_since, now)
                }
            };
            let Some(r) = self.instances[instance].take_queued(now, newest) else {
                break;
            };
            if !self.spans.is_current(r) || self.spans.get(r.id).state != SpanState::Queued {
                continue; // cancelled while it waited
            }
            if self.expired(r.id, now) {
                self.finish(r.id, Outcome::Expired, None, now, s);
                continue;
            }
            self.instances[instance].take_slot();
            self.spans.get_mut(r.id).flags |= HOLDS_SLOT;
            self.work.push_back(Work::Start(r));
        }
    }

    /// Load shedding: drops the oldest request waiting on `instance`, if a slot is free for
    /// it and it has waited longer than the queue allows now; whether it did.
    fn shed_oldest(
        &mut self,
        instance: InstanceId,
        sh: &crate::components::protection::Shedding,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) -> bool {
        let inst = &self.instances[instance];
        let Some(r) = inst.oldest_queued() else {
            return false;
        };
        let current = self.spans.is_current(r) && self.spans.get(r.id).state == SpanState::Queued;
        let allowed = sh.allowed(inst.standing_since, now);
        if current && now.since(self.spans.get(r.id).arrived) <= allowed {
            return false;
        }
        // Past its allowed wait (or cancelled while it waited): out of the queue.
        self.instances[instance].take_queued(now, false);
        if current {
            self.finish(r.id, Outcome::Shed, None, now, s);
        }
        true
    }

    /// Whether a span that waited in a queue is past its server's queue deadline, or past its
    /// caller's deadline at a server that knows it.
    #[inline]
    pub(super) fn expired(&self, id: SpanId, now: SimTime) -> bool {
        let sp = self.spans.get(id);
        let d = &self.variant.model.services[sp.service as usize].deadlines;
        d.queue_timeout.is_some_and(|t| now.since(sp.arrived) > t)
            || (d.propagate && now >= sp.deadline)
    }

    /// Lets go of every child of `id`, which has ended: calls are abandoned (their edge
    /// outcome is `cancelled`), branches are left to finish or cancelled as their fan-out says.
    #[inline]
    fn abandon_children(&mut self, id: SpanId, now: SimTime) {
        while let Some(child) = self.spans.get(id).first_child {
            match self.spans.get(child).kind {
                SpanKind::Branch => {
                    let leftovers = self.fork_op(id).map_or(Leftovers::Cancel, |f| f.leftovers);
                    self.let_go_of_branch(id, child, leftovers);
                }
                _ => {
                    self.record_edge(child, Outcome::Cancelled, now);
                    self.let_go_of_call(child);
                }
            }
        }
    }

    /// Detaches a call nobody waits for any more; its server stops it if it cancels
    /// abandoned work.
    fn let_go_of_call(&mut self, child: SpanId) {
        self.unlink_child(child);
        let c = self.spans.get(child);
        let cancels = self.variant.model.services[c.service as usize]
            .deadlines
            .cancel_abandoned;
        if cancels && c.state != SpanState::Finished {
            self.work
                .push_back(Work::Cancel(self.spans.reference(child)));
        }
    }

    /// Detaches a branch the join no longer waits for.
    fn let_go_of_branch(&mut self, parent: SpanId, child: SpanId, leftovers: Leftovers) {
        self.unlink_child(child);
        let p = self.spans.get(parent);
        let counted = p.has(COUNTED);
        let (service, endpoint) = (p.service, p.endpoint);
        if self.spans.get(child).state == SpanState::Finished {
            return; // done already; its delivery frees it
        }
        self.observer
            .leftover_branch(service, endpoint, leftovers == Leftovers::Cancel, counted);
        if leftovers == Leftovers::Cancel {
            self.work
                .push_back(Work::Cancel(self.spans.reference(child)));
        }
    }

    /// Records a call's or a job's outcome on its edge, once.
    fn record_edge(&mut self, id: SpanId, outcome: Outcome, now: SimTime) {
        let sp = self.spans.get_mut(id);
        if sp.has(EDGE_DONE) || !matches!(sp.kind, SpanKind::Call | SpanKind::Job) {
            return;
        }
        sp.flags |= EDGE_DONE;
        let sp = *sp;
        if let (SpanKind::Call, Some(e)) = (sp.kind, sp.connection) {
            self.release(e, now); // its pool's connection comes back
        }
        self.observer.edge_outcome(
            EdgeId(sp.edge_or_client),
            outcome,
            now.since(sp.created),
            sp.has(COUNTED),
        );
    }

    /// A finished span's outcome reaches whoever waits for it; then the span is freed.
    #[inline]
    fn deliver(&mut self, id: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let sp = self.spans.get(id);
        debug_assert_eq!(sp.state, SpanState::Finished);
        if sp.parent.is_none() {
            // The common end of a request: nobody waits but (for a root) its client.
            match sp.kind {
                SpanKind::Root => {
                    let outcome = sp.outcome;
                    self.answer_client(id, outcome, now, s);
                }
                SpanKind::Job => {
                    let outcome = sp.outcome;
                    self.record_edge(id, outcome, now);
                }
                SpanKind::Migration => {
                    let sp = *sp;
                    self.migration_ended(&sp, now, s);
                }
                SpanKind::Reload => {
                    let sp = *sp;
                    self.reload_ended(&sp, now);
                }
                SpanKind::Call | SpanKind::Branch | SpanKind::Refresh => {}
            }
            self.spans.remove(id);
            return;
        }
        let sp = *sp;
        match sp.parent {
            Some(parent) => {
                self.unlink_child(id);
                match sp.kind {
                    SpanKind::Call => {
                        self.record_edge(id, sp.outcome, now);
                        self.spans.remove(id);
                        self.call_returned(parent, &sp, now, s);
                        return;
                    }
                    SpanKind::Branch => {
                        self.spans.remove(id);
                        self.branch_returned(parent, &sp, now, s);
                        return;
                    }
                    SpanKind::Root
                    | SpanKind::Job
                    | SpanKind::Refresh
                    | SpanKind::Migration
                    | SpanKind::Reload => {}
                }
            }
            None => match sp.kind {
                SpanKind::Root => self.answer_client(id, sp.outcome, now, s),
                SpanKind::Job => self.record_edge(id, sp.outcome, now),
                SpanKind::Migration => self.migration_ended(&sp, now, s),
                SpanKind::Reload => self.reload_ended(&sp, now),
                SpanKind::Call | SpanKind::Branch | SpanKind::Refresh => {}
            },
        }
        self.spans.remove(id);
    }

    /// A caller gets its call's answer: it goes on, or fails naming the dependency.
    fn call_returned(
        &mut self,
        caller: SpanId,
        child: &super::span::Span,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let edge = EdgeId(child.edge_or_client);
        let on_error = self.call_op(caller).map_or(OnError::Fail, |c| c.on_error);
        self.try_ended(caller, child.outcome == Outcome::Ok, now);
        if child.outcome != Outcome::Ok && self.retry_later(caller, now, s) {
            return;
        }
        if child.outcome == Outcome::Ok || on_error == OnError::Continue {
            let p = self.spans.get_mut(caller);
            // A cache node's answer, for the op after the call (a failed lookup is a miss).
            p.succeeded = if child.outcome == Outcome::Ok {
                child.succeeded
            } else {
                0
            };
            p.pc += 1;
            p.state = SpanState::Running;
            self.resume(caller, now, s);
        } else {
            // The deepest failure is the one worth naming.
            let cause = match child.outcome {
                Outcome::Failed => child.cause.or(Some(edge)),
                _ => Some(edge),
            };
            self.finish(caller, Outcome::Failed, cause, now, s);
        }
    }

    /// Span `caller`'s call failed: if the call retries and has tries left that its throttle
    /// allows and that can start before the caller's deadline, the caller waits its backoff
    /// (a `Retry` event) and the failure is not passed on. Returns whether it will retry.
    fn retry_later(&mut self, caller: SpanId, now: SimTime, s: &mut Scheduler<Event>) -> bool {
        let Some((edge, retry)) = self.call_op(caller).and_then(|c| Some((c.edge, c.retry?)))
        else {
            return false;
        };
        let tries = self.spans.get(caller).failed;
        if tries >= retry.retries {
            return false;
        }
        if !self.edge_guards.retry_allowed(edge, &retry) {
            self.observer
                .edge_event(edge, EdgeEvent::RetryThrottled, now >= self.warmup_end);
            return false;
        }
        let p = self.spans.get_mut(caller);
        // A decorrelated wait grows from the previous one, kept in the calling span's
        // otherwise unused CPU remainder (it has no CPU step under way).
        let previous = SimDuration::from_nanos(p.remaining_cpu);
        let u: f64 = RequestRng::new(keyed_seed(p.seed, RETRY_DRAW ^ u64::from(tries))).random();
        let wait = retry.wait(tries, previous, u);
        if now + wait >= p.deadline {
            return false;
        }
        p.failed = tries + 1;
        p.remaining_cpu = wait.as_nanos();
        p.state = SpanState::Backoff;
        let generation = p.generation;
        s.schedule_at(
            now + wait,
            Event::Retry {
                span: caller,
                generation,
            },
        );
        true
    }

    /// A try of `caller`'s call ended: its edge's breaker and throttle count it.
    fn try_ended(&mut self, caller: SpanId, ok: bool, now: SimTime) {
        let Some(call) = self.call_op(caller) else {
            return;
        };
        if self.edge_guards.tried(call, ok, now) {
            self.observer
                .edge_event(call.edge, EdgeEvent::BreakerOpened, now >= self.warmup_end);
        }
    }

    /// A caller's backoff is over: it makes its call again.
    pub(super) fn retry_due(&mut self, caller: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let Some(call) = self.call_op(caller) else {
            return;
        };
        self.call(caller, call, now, s);
    }

    /// A forking span hears from one branch: it goes on once the join is satisfied, and
    /// fails once it no longer can be.
    fn branch_returned(
        &mut self,
        parent: SpanId,
        child: &super::span::Span,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let p = self.spans.get_mut(parent);
        if child.outcome == Outcome::Ok {
            p.succeeded += 1;
        } else {
            p.failed += 1;
            if p.cause.is_none() {
                p.cause = child.cause;
            }
        }
        let (succeeded, failed) = (u32::from(p.succeeded), u32::from(p.failed));
        let Some(fork) = self.fork_op(parent) else {
            return;
        };
        let (branches, needed) = (fork.branches.len() as u32, fork.needed);
        if succeeded >= needed {
            self.settle(parent, fork.leftovers);
            let p = self.spans.get_mut(parent);
            p.cause = None;
            p.pc = fork.next;
            p.state = SpanState::Running;
            self.resume(parent, now, s);
        } else if failed > branches - needed {
            self.settle(parent, fork.leftovers);
            let cause = self.spans.get(parent).cause;
            self.finish(parent, Outcome::Failed, cause, now, s);
        }
    }

    /// A join is decided: the branches still running are left to finish or cancelled.
    fn settle(&mut self, parent: SpanId, leftovers: Leftovers) {
        while let Some(child) = self.spans.get(parent).first_child {
            self.let_go_of_branch(parent, child, leftovers);
        }
    }

    /// A span whose caller gave up, at a server that stops abandoned work: it ends now, or
    /// at the end of the CPU slice it is running.
    fn cancel(&mut self, id: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        match self.spans.get(id).state {
            SpanState::OnCore => self.spans.get_mut(id).flags |= CANCELLED,
            SpanState::Finished | SpanState::Free | SpanState::Running => {}
            _ => self.finish(id, Outcome::Cancelled, None, now, s),
        }
    }

    /// The caller of `child` stops waiting for it: the call timed out.
    pub(super) fn call_timeout(&mut self, child: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let c = *self.spans.get(child);
        let Some(caller) = c.parent else {
            return; // abandoned already
        };
        if c.has(EDGE_DONE) {
            return;
        }
        if c.has(HELD) && c.kind.is_served() && self.databases.of(c.service).is_none() {
            // What the callee's balancer sees: a request that got no answer in time.
            self.answered(c.instance, false, now, s);
        }
        self.record_edge(child, Outcome::TimedOut, now);
        self.let_go_of_call(child);
        self.try_ended(caller, false, now);
        if self.retry_later(caller, now, s) {
            return;
        }
        let on_error = self.call_op(caller).map_or(OnError::Fail, |op| op.on_error);
        match on_error {
            OnError::Continue => {
                let p = self.spans.get_mut(caller);
                p.pc += 1;
                p.state = SpanState::Running;
                self.resume(caller, now, s);
            }
            OnError::Fail => self.finish(
                caller,
                Outcome::Failed,
                Some(EdgeId(c.edge_or_client)),
                now,
                s,
            ),
        }
    }

    /// The spans instance `id` holds, taken off it (it is about to stop or restart, which
    /// drops its queues and cores): O(held), not a scan of every span in flight.
    pub(super) fn held_by(&mut self, id: InstanceId) -> Vec<SpanRef> {
        let mut victims = Vec::new();
        let mut next = self.instances[id].held.take();
        while let Some(v) = next {
            let sp = self.spans.get_mut(v);
            next = sp.held_next;
            sp.held_prev = None;
            sp.held_next = None;
            sp.flags &= !(HELD | HOLDS_SLOT);
            victims.push(self.spans.reference(v));
        }
        victims
    }

    /// Ends every span in `victims` with `outcome` (its server side is gone).
    pub(super) fn fail_all(
        &mut self,
        victims: Vec<SpanRef>,
        outcome: Outcome,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        for r in victims {
            if self.spans.is_current(r) && self.spans.get(r.id).state != SpanState::Finished {
                self.finish(r.id, outcome, None, now, s);
            }
        }
    }
}
