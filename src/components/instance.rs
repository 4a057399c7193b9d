//! Instances: cores, admission (concurrency limit and accept queue), and CPU scheduling.
//!
//! An instance has one or more *executors*, each a run queue with some cores:
//! - `thread_pool`: one executor holding all cores; any free core takes the next CPU segment
//!   (Go, the JVM, a thread-per-request server). With exponential CPU steps and Poisson
//!   arrivals this is exactly an M/M/c queue.
//! - `event_loop`: one executor per core; a request stays on the loop that accepted it, as in
//!   Node.js cluster mode. With one core it is a single Node process: a 3 s `block` step delays
//!   every other request on it by up to 3 s, which is what event-loop lag measures.
//!
//! Event-loop lag is measured as the time a ready CPU segment waits for a core, which is the
//! delay Node's own monitor (a timer callback waiting for the loop) observes.

use crate::components::lifecycle::Phase;
use crate::ids::{ServiceId, SpanId, SpanRef};
use crate::kernel::{SimDuration, SimTime};
use crate::metrics::TimeAverage;
use std::collections::VecDeque;

/// How an instance's cores run CPU work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// One shared run queue for all cores.
    ThreadPool,
    /// One event loop per core, requests pinned to the loop that accepted them.
    EventLoop,
}

/// The shape of every instance of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceSpec {
    /// CPU cores.
    pub cores: u32,
    /// How the cores run CPU work.
    pub runtime: Runtime,
    /// Maximum requests in progress; `u32::MAX` means no limit.
    pub concurrency_limit: u32,
    /// Maximum requests waiting for admission; `u32::MAX` means no limit.
    pub queue_limit: u32,
    /// Time slice for `cpu` steps; `None` runs them to completion.
    pub cpu_quantum: Option<SimDuration>,
    /// Event loops of an `event_loop` instance: `cores` in cluster mode (one worker per
    /// core), 1 for a single process that leaves the other cores idle.
    pub workers: u32,
    /// Memory use and limit; `None`: memory is not modelled.
    pub memory: Option<MemorySpec>,
    /// Work that grows with the open requests, if any.
    pub contention: Option<Contention>,
}

/// Work that grows with concurrency: a CPU step started with `n` requests in progress on its
/// instance takes `1 + per_request x (n - above)` times its work when `n > above`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contention {
    pub per_request: f64,
    pub above: u32,
}

impl Contention {
    /// The factor on a step's work with `open` requests open.
    #[inline]
    pub fn factor(&self, open: u32) -> f64 {
        1.0 + self.per_request * f64::from(open.saturating_sub(self.above))
    }
}

impl InstanceSpec {
    /// A plain shape for unit tests: `cores` cores of `runtime`, no limits, no memory model.
    #[cfg(test)]
    pub fn plain(cores: u32, runtime: Runtime) -> InstanceSpec {
        InstanceSpec {
            cores,
            runtime,
            concurrency_limit: u32::MAX,
            queue_limit: 0,
            cpu_quantum: None,
            workers: 1,
            memory: None,
            contention: None,
        }
    }

    /// Cores the runtime can keep busy: all of them for a thread pool, one per event loop
    /// (a single Node process uses one core of many).
    pub fn usable_cores(&self) -> u32 {
        match self.runtime {
            Runtime::ThreadPool => self.cores,
            Runtime::EventLoop => self.workers.min(self.cores),
        }
    }

    /// The CPU a pod of this shape requests by default, millicores: its cores.
    pub fn cpu_request_milli(&self) -> i64 {
        1000 * i64::from(self.cores)
    }

    /// The memory a pod of this shape requests, milli-bytes: its request, else its limit.
    pub fn memory_request_milli(&self) -> Option<i64> {
        let m = self.memory?;
        let bytes = m.request_bytes.or(m.limit_bytes)?;
        Some(i64::try_from(u128::from(bytes) * 1000).unwrap_or(i64::MAX))
    }
}

/// Memory of an instance: a base (runtime, caches) plus an amount per open request (buffers,
/// per-request state). Over its limit the process is killed (OOM) and restarted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemorySpec {
    /// Bytes used with no request open.
    pub base_bytes: u64,
    /// Bytes per open request (in progress or waiting for admission).
    pub per_request_bytes: u64,
    /// The kill threshold (a container's memory limit, or the VM's memory).
    pub limit_bytes: Option<u64>,
    /// What the pod requests (the denominator of a Kubernetes memory utilisation); defaults to
    /// the limit.
    pub request_bytes: Option<u64>,
}

impl MemorySpec {
    /// Bytes in use with `open` requests.
    pub fn used_bytes(&self, open: u32) -> u64 {
        self.base_bytes
            .saturating_add(self.per_request_bytes.saturating_mul(u64::from(open)))
    }

    /// Most open requests that fit under the limit (`u32::MAX` if nothing can exceed it).
    fn max_open(&self) -> u32 {
        match self.limit_bytes {
            None => u32::MAX,
            Some(_) if self.per_request_bytes == 0 => u32::MAX,
            Some(limit) => {
                let room = limit.saturating_sub(self.base_bytes) / self.per_request_bytes;
                u32::try_from(room).unwrap_or(u32::MAX)
            }
        }
    }

    /// The denominator of memory utilisation: the limit, else the request.
    pub fn capacity_bytes(&self) -> Option<u64> {
        self.limit_bytes.or(self.request_bytes)
    }
}

/// A CPU segment waiting for a core.
#[derive(Debug, Clone, Copy)]
pub struct ReadySegment {
    /// The span whose segment it is (stale if the span was cancelled meanwhile).
    pub span: SpanRef,
    /// When it became ready, for lag.
    pub ready_at: SimTime,
}

/// A run queue and the cores that serve it.
#[derive(Debug)]
pub struct Executor {
    /// Cores in this executor.
    pub cores: u32,
    /// Cores busy now.
    pub busy: u32,
    /// Segments waiting for a core, in arrival order.
    pub run_queue: VecDeque<ReadySegment>,
}

/// A scraper's view of an instance: the last cumulative reading, and the rates between the two
/// last readings (what metrics-server serves).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScrapeState {
    /// The last reading: (when, busy core-ns since ready, requests completed).
    pub reading: Option<(SimTime, u128, u64)>,
    /// The latest sample.
    pub sample: Option<MetricSample>,
}

/// Usage rates over a scrape window.
#[derive(Debug, Clone, Copy)]
pub struct MetricSample {
    /// When it was taken (its timestamp is the end of its window).
    pub at: SimTime,
    /// Window length, seconds.
    pub window_s: f64,
    /// CPU usage, millicores.
    pub cpu_milli: i64,
    /// Requests answered per second, milli-requests.
    pub rps_milli: i64,
    /// Memory in use at the scrape (a working-set reading, not a rate), milli-bytes.
    pub memory_milli: i64,
}

impl Instance {
    /// Takes a reading at `now` and, if there was one before, a sample of the rates between.
    pub fn scrape(&mut self, now: SimTime) {
        let busy = self.stats.busy_cores.lifetime_area(now);
        if let Some((t, b, c)) = self.scrape.reading {
            let dt = now.since(t).as_nanos();
            if dt > 0 {
                let milli = |x: f64| (x * 1000.0).round() as i64;
                self.scrape.sample = Some(MetricSample {
                    at: now,
                    window_s: dt as f64 / 1e9,
                    cpu_milli: milli((busy - b) as f64 / dt as f64),
                    rps_milli: milli((self.completed - c) as f64 / (dt as f64 / 1e9)),
                    memory_milli: self.memory_bytes().map_or(0, |b| {
                        i64::try_from(u128::from(b) * 1000).unwrap_or(i64::MAX)
                    }),
                });
            }
        }
        self.scrape.reading = Some((now, busy, self.completed));
    }
}

/// What admission decided for an arriving request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// It may start now.
    Admitted,
    /// It waits in the accept queue.
    Queued,
    /// The accept queue is full: answer 503.
    Rejected,
}

/// Per-instance measurements, all since the end of warm-up (or since the instance started).
#[derive(Debug, Default, Clone)]
pub struct InstanceStats {
    /// Busy cores over time.
    pub busy_cores: TimeAverage,
    /// Requests waiting (accept queue plus CPU run queues) over time.
    pub queue_length: TimeAverage,
    /// CPU segments started, and how many of them had to wait for a core.
    pub segments: u64,
    /// Segments that waited for a core.
    pub segments_waited: u64,
    /// Sum of the waits, in nanoseconds.
    pub wait_ns: u128,
    /// Longest wait (event-loop lag), in nanoseconds.
    pub max_lag_ns: u64,
    /// Longest wait within the current time-series bucket.
    pub bucket_max_lag_ns: u64,
    /// Requests routed to it (admitted, queued or refused).
    pub routed: u64,
}

/// One running instance.
#[derive(Debug)]
pub struct Instance {
    /// The service it belongs to.
    pub service: ServiceId,
    /// Its place in the order instances were started in, over the whole run (the run's
    /// instance arena numbers it; a reused slot does not keep its old occupant's).
    pub serial: u32,
    /// Its number among its service's instances, as a StatefulSet numbers its pods: the
    /// smallest no other live instance of the service holds. It names the instance's
    /// tokens on a consistent-hash ring.
    pub ordinal: u32,
    /// Where it is in its life.
    pub phase: Phase,
    /// Its service's instance group, if it is in one (its shape is the group's, and a resize
    /// leaves it alone).
    pub group: Option<u16>,
    /// Its balancing weight (a weighted balancer sends it that share of the requests).
    pub weight: u32,
    /// Work that grows with its open requests, if any (its shape's).
    pub contention: Option<Contention>,
    /// What its service's health checks believe of it: it passed its probes (always, without
    /// active checks), and it is not ejected for failing answers.
    pub passing: bool,
    pub ejected: bool,
    /// Probes in a row that passed (positive) or failed (negative).
    pub probe_streak: i32,
    /// Answers in a row that failed (passive checks).
    pub error_streak: u32,
    /// Since when its accept queue has been non-empty (load shedding's overload test).
    pub standing_since: SimTime,
    /// Its own rate limit's tokens (a per-instance limit).
    pub bucket: Option<crate::components::protection::TokenBucket>,
    /// When it was asked for (billing starts here).
    pub created_at: SimTime,
    /// When it stopped, if it has.
    pub stopped_at: Option<SimTime>,
    /// When it became ready, if it has.
    pub ready_at: Option<SimTime>,
    /// Part of the fleet the run starts with (ready at time zero, long running).
    pub initial: bool,
    /// When its process last started after a crash (OOM) or a resize, if it has.
    pub restarted_at: Option<SimTime>,
    /// Crashes in a row without ten minutes of serving between them (for the back-off).
    pub crash_streak: u32,
    /// Times its process was killed for using too much memory.
    pub oom_kills: u32,
    /// Times its process restarted (a crash, an OOM kill, a resize): what it held in memory
    /// is gone each time.
    pub restarts: u32,
    /// Runs on spot capacity (may be interrupted).
    pub spot: bool,
    /// Got the cloud's interruption notice while it existed.
    pub spot_notified: bool,
    /// The cloud's interruption of it is still to come (drawn at launch, within the run's
    /// reach).
    pub interruption_due: bool,
    /// Which of its service's shapes it has (0: the model's; each resize adds one).
    pub shape_version: u32,
    /// Requests it has answered (a monotonic counter, for request-rate metrics).
    pub completed: u64,
    /// What a metrics scraper read last: (when, busy core-ns, completed) and the sample it
    /// made from the reading before.
    pub scrape: ScrapeState,
    /// Requests admitted and not yet answered.
    pub in_progress: u32,
    /// Requests waiting for admission (an entry whose span was cancelled is stale and
    /// skipped when it reaches the front).
    pub accept_queue: VecDeque<SpanRef>,
    /// The first of the spans it holds (queued, in progress, or branches of those): a list
    /// threaded through the spans, so a crash visits what it holds and nothing else.
    pub held: Option<SpanId>,
    /// Run queues with their cores.
    pub executors: Vec<Executor>,
    /// Which executor the next admitted request is pinned to (event-loop runtime).
    next_executor: u32,
    /// CPU segments waiting in all run queues (kept, so the queue length costs no scan).
    segments_waiting: u64,
    concurrency_limit: u32,
    queue_limit: u32,
    /// Cores of the machine (event-loop workers may use fewer).
    cores: u32,
    /// Time slice for `cpu` steps (`None`: run to completion).
    pub cpu_quantum: Option<SimDuration>,
    memory: Option<MemorySpec>,
    /// Most open requests before the memory limit is crossed.
    max_open: u32,
    /// Measurements.
    pub stats: InstanceStats,
}

impl Instance {
    /// A fresh, idle instance of `spec` in `phase` (`Ready` or `Starting`).
    pub fn new(service: ServiceId, spec: &InstanceSpec, phase: Phase, now: SimTime) -> Self {
        let executors = executors(spec);
        let mut stats = InstanceStats::default();
        stats.busy_cores.start(now);
        stats.queue_length.start(now);
        Instance {
            service,
            serial: 0,
            ordinal: 0,
            phase,
            group: None,
            weight: 1,
            contention: spec.contention,
            passing: true,
            ejected: false,
            probe_streak: 0,
            error_streak: 0,
            standing_since: now,
            bucket: None,
            created_at: now,
            stopped_at: None,
            ready_at: (phase == Phase::Ready).then_some(now),
            initial: phase == Phase::Ready,
            restarted_at: None,
            crash_streak: 0,
            oom_kills: 0,
            restarts: 0,
            spot: false,
            spot_notified: false,
            interruption_due: false,
            shape_version: 0,
            completed: 0,
            scrape: ScrapeState::default(),
            in_progress: 0,
            accept_queue: VecDeque::new(),
            held: None,
            executors,
            next_executor: 0,
            segments_waiting: 0,
            concurrency_limit: spec.concurrency_limit,
            queue_limit: spec.queue_limit,
            cores: spec.cores,
            cpu_quantum: spec.cpu_quantum,
            memory: spec.memory,
            max_open: spec.memory.map_or(u32::MAX, |m| m.max_open()),
            stats,
        }
    }

    /// Open requests: in progress plus waiting for admission. What "connections" means to a
    /// least-connections balancer.
    #[inline]
    pub fn open_requests(&self) -> u32 {
        self.in_progress + self.accept_queue.len() as u32
    }

    /// Whether it could start one more request now (a free worker of a worker pool).
    #[inline]
    pub fn has_free_slot(&self) -> bool {
        self.in_progress < self.concurrency_limit
    }

    /// Requests waiting: for admission or for a core.
    #[inline]
    pub fn waiting(&self) -> u64 {
        self.accept_queue.len() as u64 + self.segments_waiting
    }

    /// Whether it holds nothing at all (no request in progress or queued, no branch left
    /// running in the background).
    pub fn is_idle(&self) -> bool {
        self.held.is_none()
    }

    /// Starts serving at `now`: utilisation is measured over ready time only.
    pub fn become_ready(&mut self, now: SimTime) {
        self.phase = Phase::Ready;
        if self.ready_at.is_none() {
            self.stats.busy_cores.start(now);
            self.stats.queue_length.start(now);
        }
        // After a restart the measurements go on: the downtime counts against the instance,
        // and the lifetime counters a scraper reads must never go backwards.
        self.ready_at = Some(now);
    }

    /// Stops at `now`, dropping whatever it still held (the caller answers those requests).
    pub fn stop(&mut self, now: SimTime) {
        self.phase = Phase::Stopped;
        self.stopped_at = Some(now);
        self.drop_work(now);
    }

    /// Its process dies at `now` (out of memory, or a restart to resize) and starts again at
    /// `process_start`: not ready until it passes start-up and readiness. Whatever it held is dropped (the
    /// caller answers those requests).
    pub fn restart(&mut self, now: SimTime, process_start: SimTime) {
        self.phase = Phase::Starting;
        self.restarts += 1;
        self.restarted_at = Some(process_start);
        self.drop_work(now);
    }

    /// Takes a new shape (vertical scaling). Only while it holds nothing: a resize restarts
    /// the instance first.
    pub fn reshape(&mut self, spec: &InstanceSpec, version: u32) {
        debug_assert!(self.is_idle());
        self.executors = executors(spec);
        self.next_executor = 0;
        self.concurrency_limit = spec.concurrency_limit;
        self.queue_limit = spec.queue_limit;
        self.cores = spec.cores;
        self.cpu_quantum = spec.cpu_quantum;
        self.memory = spec.memory;
        self.contention = spec.contention;
        self.max_open = spec.memory.map_or(u32::MAX, |m| m.max_open());
        self.shape_version = version;
    }

    /// Bytes in use now, if memory is modelled.
    pub fn memory_bytes(&self) -> Option<u64> {
        self.memory.map(|m| m.used_bytes(self.open_requests()))
    }

    /// Memory in use over its capacity (limit, else request), if both are known.
    pub fn memory_utilisation(&self) -> Option<f64> {
        let m = self.memory?;
        let cap = m.capacity_bytes()?;
        Some(m.used_bytes(self.open_requests()) as f64 / cap.max(1) as f64)
    }

    /// Whether its open requests have pushed it over its memory limit.
    #[inline]
    pub fn out_of_memory(&self) -> bool {
        self.open_requests() > self.max_open
    }

    fn drop_work(&mut self, now: SimTime) {
        debug_assert!(self.held.is_none(), "the spans it held were taken first");
        self.in_progress = 0;
        self.accept_queue.clear();
        self.segments_waiting = 0;
        for ex in &mut self.executors {
            ex.busy = 0;
            ex.run_queue.clear();
        }
        self.stats.busy_cores.set(now, 0);
        self.stats.queue_length.set(now, 0);
    }

    /// Cores of its machine (what is billed and what utilisation is measured against, even
    /// when a single event loop can use only one of them).
    pub fn cores(&self) -> u32 {
        self.cores
    }

    /// Decides what happens to a request that reaches this instance.
    #[inline]
    pub fn admit(&mut self, request: SpanRef, now: SimTime) -> Admission {
        self.stats.routed += 1;
        if self.in_progress < self.concurrency_limit {
            self.in_progress += 1;
            Admission::Admitted
        } else if (self.accept_queue.len() as u32) < self.queue_limit {
            if self.accept_queue.is_empty() {
                self.standing_since = now;
            }
            self.accept_queue.push_back(request);
            self.note_queue_change(now);
            Admission::Queued
        } else {
            Admission::Rejected
        }
    }

    /// Frees the slot of an answered request.
    #[inline]
    pub fn release(&mut self) {
        self.in_progress -= 1;
    }

    /// The oldest (or, `newest`, the newest) request waiting for admission, if a slot is
    /// free: it leaves the queue (the caller admits it with [`Instance::take_slot`], or drops
    /// it if it is stale, expired or shed).
    #[inline]
    pub fn take_queued(&mut self, now: SimTime, newest: bool) -> Option<SpanRef> {
        if self.in_progress >= self.concurrency_limit {
            return None;
        }
        let next = if newest {
            self.accept_queue.pop_back()?
        } else {
            self.accept_queue.pop_front()?
        };
        self.note_queue_change(now);
        Some(next)
    }

    /// The oldest request waiting, if a slot is free (load shedding looks at it first).
    pub fn oldest_queued(&self) -> Option<SpanRef> {
        if self.in_progress >= self.concurrency_limit {
            return None;
        }
        self.accept_queue.front().copied()
    }

    /// Takes a request that will never start (its caller gave up and it was cancelled) out of
    /// the accept queue, so queue lengths and least-connections loads stop counting it.
    /// O(queue length): cancellation is rare next to admission.
    pub fn remove_queued(&mut self, request: SpanRef, now: SimTime) -> bool {
        let Some(k) = self.accept_queue.iter().position(|r| *r == request) else {
            return false;
        };
        self.accept_queue.remove(k);
        self.note_queue_change(now);
        true
    }

    /// Takes a cancelled span's CPU segment out of executor `e`'s run queue (it will never
    /// run, so it must not count as waiting, nor its wait as lag).
    pub fn remove_segment(&mut self, e: u32, span: SpanRef, now: SimTime) -> bool {
        let ex = &mut self.executors[e as usize];
        let Some(k) = ex.run_queue.iter().position(|seg| seg.span == span) else {
            return false;
        };
        ex.run_queue.remove(k);
        self.segments_waiting -= 1;
        self.note_queue_change(now);
        true
    }

    /// A request taken from the queue starts: it holds a slot.
    #[inline]
    pub fn take_slot(&mut self) {
        self.in_progress += 1;
    }

    /// Chooses the executor for a newly admitted request.
    #[inline]
    pub fn pin_executor(&mut self) -> u32 {
        let n = self.executors.len() as u32;
        if n == 1 {
            return 0;
        }
        let e = self.next_executor;
        self.next_executor = (e + 1) % n;
        e
    }

    /// Offers a CPU segment to executor `e`. Returns true if a core took it at once (the
    /// caller schedules its end); otherwise it waits in the run queue.
    #[inline]
    pub fn offer_segment(&mut self, e: u32, span: SpanRef, now: SimTime) -> bool {
        let ex = &mut self.executors[e as usize];
        if ex.busy < ex.cores && ex.run_queue.is_empty() {
            ex.busy += 1;
            self.stats.busy_cores.add(now, 1);
            self.stats.segments += 1;
            true
        } else {
            ex.run_queue.push_back(ReadySegment {
                span,
                ready_at: now,
            });
            self.segments_waiting += 1;
            self.note_queue_change(now);
            false
        }
    }

    /// A core of executor `e` finished a segment. Returns the next segment it takes, if any
    /// (the core stays busy with it); otherwise the core goes idle.
    #[inline]
    pub fn finish_segment(&mut self, e: u32, now: SimTime) -> Option<SpanRef> {
        let ex = &mut self.executors[e as usize];
        match ex.run_queue.pop_front() {
            Some(seg) => {
                let wait = now.since(seg.ready_at).as_nanos();
                let s = &mut self.stats;
                s.segments += 1;
                if wait > 0 {
                    s.segments_waited += 1;
                    s.wait_ns += u128::from(wait);
                }
                s.max_lag_ns = s.max_lag_ns.max(wait);
                s.bucket_max_lag_ns = s.bucket_max_lag_ns.max(wait);
                self.segments_waiting -= 1;
                self.note_queue_change(now);
                Some(seg.span)
            }
            None => {
                ex.busy -= 1;
                self.stats.busy_cores.add(now, -1);
                None
            }
        }
    }

    #[inline]
    fn note_queue_change(&mut self, now: SimTime) {
        let w = self.waiting();
        self.stats.queue_length.set(now, w as i64);
    }

    /// Restarts the summary's measurements at `now` (end of warm-up), keeping current levels.
    pub fn reset_stats(&mut self, now: SimTime) {
        let s = &mut self.stats;
        s.busy_cores.reset(now);
        s.queue_length.reset(now);
        s.segments = 0;
        s.segments_waited = 0;
        s.wait_ns = 0;
        s.max_lag_ns = 0;
        s.routed = 0;
        // The time-series bucket ending here still reports its lag: it is closed after this.
    }
}

/// The run queues of an instance of `spec`.
fn executors(spec: &InstanceSpec) -> Vec<Executor> {
    match spec.runtime {
        Runtime::ThreadPool => vec![Executor::new(spec.cores)],
        Runtime::EventLoop => (0..spec.workers.clamp(1, spec.cores))
            .map(|_| Executor::new(1))
            .collect(),
    }
}

impl Executor {
    fn new(cores: u32) -> Self {
        Executor {
            cores,
            busy: 0,
            run_queue: VecDeque::new(),
        }
    }
}
