//! The request path's one interpreter: a span runs its endpoint's program from its program
//! counter, one `match` per op, until an op makes it wait (a core, an I/O, a call, a join)
//! or its program ends. Adding an op kind is one arm here and its compilation in
//! `components::program`.

use super::caching::Looked;
use super::observe::EdgeEvent;
use super::span::{CANCELLED, COUNTED, SLICED, Span, SpanKind, SpanState};
use super::tree::Work;
use super::{Event, Simulation};
use crate::components::program::{CallOp, EnqueueOp, ForkOp, Op};
use crate::components::service::FaultKind;
use crate::distribution::Dist;
use crate::ids::{EdgeId, EndpointRef, SpanId};
use crate::kernel::{RequestRng, Scheduler, SimDuration, SimTime, keyed_seed};
use crate::metrics::Outcome;
use rand::RngExt;

/// A draw from `d` keyed by (`seed`, `key`).
#[inline]
fn draw(d: &Dist, seed: u64, key: u64) -> SimDuration {
    d.sample_duration(&mut RequestRng::new(keyed_seed(seed, key)))
}

impl<'a> Simulation<'a> {
    /// Runs span `id` from its program counter until it waits or ends.
    #[inline]
    pub(super) fn resume(&mut self, id: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let variant: &'a crate::experiment::Variant = self.variant;
        let code = &variant.model.code;
        loop {
            let sp = self.spans.get_mut(id);
            sp.state = SpanState::Running;
            match code.op(sp.pc) {
                Op::Cpu { work, key } => {
                    let work = draw(work, sp.seed, *key).as_nanos();
                    let (service, instance) = (sp.service, sp.instance);
                    let work = self.contended(service, instance, work, now);
                    let sp = self.spans.get_mut(id);
                    sp.remaining_cpu = work;
                    sp.flags |= SLICED;
                    self.offer_cpu(id, now, s);
                    return;
                }
                Op::Block { work, key } => {
                    let work = draw(work, sp.seed, *key).as_nanos();
                    let (service, instance) = (sp.service, sp.instance);
                    let work = self.contended(service, instance, work, now);
                    let sp = self.spans.get_mut(id);
                    sp.remaining_cpu = work;
                    sp.flags &= !SLICED;
                    self.offer_cpu(id, now, s);
                    return;
                }
                Op::Io { wait, key } => {
                    let wait = draw(wait, sp.seed, *key);
                    let (service, instance) = (sp.service, sp.instance);
                    let slowed = self.slowed(service, instance, wait.as_nanos(), now);
                    // A hung process sees no answer until it runs again.
                    let wait = SimDuration::from_nanos(
                        slowed.saturating_add(self.hung_for(instance, now)),
                    );
                    let sp = self.spans.get_mut(id);
                    sp.state = SpanState::Io;
                    let generation = sp.generation;
                    s.schedule_in(
                        wait,
                        Event::IoDone {
                            span: id,
                            generation,
                        },
                    );
                    return;
                }
                Op::Call(call) => {
                    // A fresh call: no tries failed yet (a span at a call is not joining,
                    // so the branch-failure count is free to count them) and no wait yet
                    // (decorrelated jitter reads the previous one from the CPU remainder).
                    sp.failed = 0;
                    sp.remaining_cpu = 0;
                    self.call(id, call, now, s);
                    return;
                }
                Op::Fail { p, key } => {
                    let u: f64 = RequestRng::new(keyed_seed(sp.seed, *key)).random();
                    if u < *p {
                        self.finish(id, Outcome::Failed, None, now, s);
                        return;
                    }
                    sp.pc += 1;
                }
                Op::Enqueue(q) => {
                    self.enqueue_job(id, q, now, s);
                    self.spans.get_mut(id).pc += 1;
                }
                Op::Fork(fork) => {
                    self.fork(id, fork, now);
                    return;
                }
                Op::Pick { arms, key } => {
                    let u: f64 = RequestRng::new(keyed_seed(sp.seed, *key)).random();
                    let arm = arms.partition_point(|&(cumulative, _)| cumulative <= u);
                    sp.pc = arms[arm.min(arms.len() - 1)].1;
                }
                Op::Jump { to } => sp.pc = *to,
                Op::CacheGet { cache, hit } => match self.cache_lookup(id, *cache, now) {
                    Looked::Hit => self.spans.get_mut(id).pc = *hit,
                    Looked::Miss => self.spans.get_mut(id).pc += 1,
                    Looked::Wait => return,
                },
                Op::CacheFill { cache, store } => {
                    self.cache_fill(id, *cache, *store, now);
                    if self.refreshed(id) {
                        self.finish(id, Outcome::Ok, None, now, s);
                        return;
                    }
                    self.spans.get_mut(id).pc += 1;
                }
                Op::CacheSet { cache, flush } => {
                    let slot = self.cache_store(id, *cache, now);
                    if let Some(edge) = flush {
                        self.write_behind(id, *cache, slot, *edge, now, s);
                    }
                    self.spans.get_mut(id).pc += 1;
                }
                Op::Invalidate { cache } => {
                    self.cache_invalidate(id, *cache, now);
                    self.spans.get_mut(id).pc += 1;
                }
                Op::CacheProbe { cache } => {
                    self.cache_probe(id, *cache, now);
                    self.spans.get_mut(id).pc += 1;
                }
                Op::CacheAnswer { hit } => {
                    if sp.succeeded == 1 {
                        sp.succeeded = 0;
                        sp.pc = *hit;
                    } else {
                        sp.pc += 1;
                    }
                }
                Op::EndBranch | Op::Return => {
                    self.finish(id, Outcome::Ok, None, now, s);
                    return;
                }
            }
        }
    }

    /// `work` nanoseconds of a CPU step starting on `instance` of `service`, grown by the
    /// service's contention with the requests in progress there (admitted, holding a slot;
    /// not those in the accept queue), unchanged without one.
    #[inline]
    fn contended(
        &self,
        service: u32,
        instance: crate::ids::InstanceId,
        work: u64,
        now: SimTime,
    ) -> u64 {
        let inst = &self.instances[instance];
        let work = match inst.contention {
            None => work,
            Some(c) => (work as f64 * c.factor(inst.in_progress)) as u64,
        };
        self.slowed(service, instance, work, now)
    }

    /// `ns` of a step starting on `instance` of `service` at `now`, times the factor of every
    /// slow fault hitting it then.
    #[inline]
    fn slowed(&self, service: u32, instance: crate::ids::InstanceId, ns: u64, now: SimTime) -> u64 {
        let faults = &self.variant.model.services[service as usize].faults;
        if faults.is_empty() {
            return ns;
        }
        let ordinal = self.instances[instance].ordinal;
        faults
            .iter()
            .filter(|f| f.hits(ordinal, now))
            .fold(ns, |ns, f| f.stretch(ns))
    }

    /// How long `instance` stays hung from `now` (0 when no hang fault hits it): a slice
    /// given a core meanwhile holds it without progress until then.
    #[inline]
    fn hung_for(&self, instance: crate::ids::InstanceId, now: SimTime) -> u64 {
        let inst = &self.instances[instance];
        let faults = &self.variant.model.services[inst.service.index()].faults;
        faults
            .iter()
            .filter(|f| f.kind == FaultKind::Hang && f.hits(inst.ordinal, now))
            .map(|f| f.end_ns() - now.as_nanos())
            .max()
            .unwrap_or(0)
    }

    /// The span's CPU step asks its executor for a core.
    #[inline]
    fn offer_cpu(&mut self, id: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let r = self.spans.reference(id);
        let sp = self.spans.get_mut(id);
        if self.instances[sp.instance].offer_segment(sp.executor, r, now) {
            self.start_slice(id, now, s);
        } else {
            sp.state = SpanState::CpuQueued;
        }
    }

    /// A core starts running the span's CPU step: all of it, or one quantum of a `cpu` step
    /// on an instance with time slicing.
    #[inline]
    fn start_slice(&mut self, id: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let sp = self.spans.get_mut(id);
        let slice = match self.instances[sp.instance].cpu_quantum {
            Some(q) if sp.has(SLICED) => sp.remaining_cpu.min(q.as_nanos()),
            _ => sp.remaining_cpu,
        };
        sp.remaining_cpu -= slice;
        sp.state = SpanState::OnCore;
        let (generation, instance) = (sp.generation, sp.instance);
        let hung = self.hung_for(instance, now);
        s.schedule_at(
            now + SimDuration::from_nanos(slice.saturating_add(hung)),
            Event::SliceDone {
                span: id,
                generation,
            },
        );
    }

    /// A slice ended: the core takes the next waiting segment, and the span goes on (or, if
    /// it was cancelled meanwhile, ends).
    #[inline]
    pub(super) fn slice_done(&mut self, id: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let sp = self.spans.get(id);
        let (instance, executor) = (sp.instance, sp.executor);
        let (cancelled, more) = (sp.has(CANCELLED), sp.remaining_cpu > 0);
        while let Some(next) = self.instances[instance].finish_segment(executor, now) {
            if self.spans.is_current(next) && self.spans.get(next.id).state == SpanState::CpuQueued
            {
                self.start_slice(next.id, now, s);
                break;
            }
            // A segment whose span was cancelled while it waited: the core moves on.
        }
        if cancelled {
            self.finish(id, Outcome::Cancelled, None, now, s);
        } else if more {
            // Preempted at the end of its quantum: back of the run queue.
            self.offer_cpu(id, now, s);
        } else {
            self.spans.get_mut(id).pc += 1;
            self.resume(id, now, s);
        }
    }

    /// A call or a job from `parent`'s op with draw key `key` to `target`, counted on `edge`:
    /// its seed derives from the parent's and the op's, so it draws the same in every variant.
    fn spawn_request(
        &mut self,
        parent: &Span,
        kind: SpanKind,
        target: EndpointRef,
        edge: EdgeId,
        key: u64,
        now: SimTime,
    ) -> Span {
        let mut child = Span::new(
            kind,
            target.service,
            target.endpoint,
            keyed_seed(parent.seed, key),
            now,
        );
        child.key = self.key_for(target, child.seed, parent.key);
        child.edge_or_client = edge.0;
        let counted = now >= self.warmup_end;
        child.flags = if counted { COUNTED } else { 0 };
        self.observer.edge_call(edge, counted);
        child
    }

    /// Span `caller` calls another endpoint and waits for the answer.
    pub(super) fn call(
        &mut self,
        caller: SpanId,
        call: &CallOp,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        if let Some(b) = &call.breaker {
            if !self.edge_guards.admits(call.edge, b, now) {
                // Open: the call fails at once, never sent.
                let counted = now >= self.warmup_end;
                self.observer
                    .edge_event(call.edge, EdgeEvent::ShortCircuited, counted);
                self.no_connection(caller, call, now, s);
                return;
            }
        }
        let mut connection = None;
        if let Some(pool) = call.pool {
            match self.acquire(pool, caller, now, s) {
                super::pools::Acquire::Got(e) => connection = Some(e),
                super::pools::Acquire::Wait => return,
                super::pools::Acquire::Refused => {
                    self.no_connection(caller, call, now, s);
                    return;
                }
            }
        }
        let p = *self.spans.get(caller);
        // A retry is a new request: its own seed, so its draws (and failures) are its own.
        let key = match p.failed {
            0 => call.key,
            tries => keyed_seed(call.key, u64::from(tries)),
        };
        let mut child = self.spawn_request(&p, SpanKind::Call, call.target, call.edge, key, now);
        if p.failed > 0 {
            let counted = now >= self.warmup_end;
            self.observer
                .edge_event(call.edge, EdgeEvent::Retry, counted);
        }
        child.connection = connection;
        if let Some(group) = call.shards {
            child.service = self.shard_for(group, &child);
        }
        let timeout_at = call.timeout.map_or(SimTime::MAX, |t| now + t);
        // The callee gets the caller's remaining budget, or the call's own, if shorter.
        child.deadline = timeout_at.min(p.deadline);
        let (seed, deadline) = (child.seed, child.deadline);
        let id = self.spans.insert(child);
        self.link_child(caller, id);
        self.spans.get_mut(caller).state = SpanState::Calling;
        let generation = self.spans.get(id).generation;
        // A caller that knows its own deadline waits no longer than it.
        let bounded = self.variant.model.services[p.service as usize]
            .deadlines
            .propagate;
        let give_up = if bounded { deadline } else { timeout_at };
        if give_up < SimTime::MAX {
            s.schedule_at(
                give_up.max(now),
                Event::CallTimeout {
                    span: id,
                    generation,
                },
            );
        }
        self.travel(id, generation, call.latency.as_ref(), seed, now, s);
    }

    /// Sends `sp`, a request nobody waits for (a migration's copy, a reload's fetch), to its
    /// service now: counted if sent after warm-up, no network latency.
    pub(super) fn send_unawaited(&mut self, mut sp: Span, now: SimTime, s: &mut Scheduler<Event>) {
        sp.flags = if now >= self.warmup_end { COUNTED } else { 0 };
        let seed = sp.seed;
        let id = self.spans.insert(sp);
        let generation = self.spans.get(id).generation;
        self.travel(id, generation, None, seed, now, s);
    }

    /// A span starts towards its service: over the network if the edge has latency.
    pub(super) fn travel(
        &mut self,
        id: SpanId,
        generation: u32,
        latency: Option<&Dist>,
        seed: u64,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        match latency {
            Some(d) => {
                s.schedule_at(
                    now + draw(d, seed, 0),
                    Event::Deliver {
                        span: id,
                        generation,
                    },
                );
            }
            None => self
                .work
                .push_back(Work::Dispatch(self.spans.reference(id))),
        }
    }

    /// Span `from` puts a message on a worker pool's queue and goes on.
    fn enqueue_job(&mut self, from: SpanId, q: &EnqueueOp, now: SimTime, s: &mut Scheduler<Event>) {
        let p = *self.spans.get(from);
        let job = self.spawn_request(&p, SpanKind::Job, q.target, q.edge, q.key, now);
        let seed = job.seed;
        let id = self.spans.insert(job);
        let generation = self.spans.get(id).generation;
        self.travel(id, generation, q.latency.as_ref(), seed, now, s);
    }

    /// Span `id` starts every branch of a fan-out on its own instance and waits for the join.
    fn fork(&mut self, id: SpanId, fork: &ForkOp, now: SimTime) {
        let p = self.spans.get_mut(id);
        p.state = SpanState::Joining;
        p.succeeded = 0;
        p.failed = 0;
        p.cause = None;
        let p = *p;
        for (b, &entry) in fork.branches.iter().enumerate() {
            let mut branch = Span::new(
                SpanKind::Branch,
                p.service,
                p.endpoint,
                keyed_seed(p.seed, fork.key.wrapping_add(b as u64)),
                now,
            );
            branch.executor = p.executor;
            branch.pc = entry;
            branch.deadline = p.deadline;
            branch.key = p.key;
            branch.flags = p.flags & COUNTED;
            branch.state = SpanState::Running;
            let bid = self.spans.insert(branch);
            self.link_child(id, bid);
            self.hold(p.instance, bid);
            self.work.push_back(Work::Resume(self.spans.reference(bid)));
        }
    }
}
