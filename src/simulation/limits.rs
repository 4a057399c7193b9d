//! Limits that keep one run finite: an event budget and a ceiling on the requests held in
//! memory. Both are checked between chunks of events, never per event, and a run that crosses
//! one stops with a message naming what drove it there.

use super::{Event, Simulation};
use crate::kernel::SimTime;

/// Events one run may process by default: the bundled Black Friday day needs about 2 billion
/// (250 million requests at 8 events each), and one core processes 5 to 30 million a second.
pub const DEFAULT_MAX_EVENTS: u64 = 5_000_000_000;
/// Requests one run may hold at once by default (in progress, queued, or timed out at the
/// client while the server still works on them): about 1 GB of slab and event queue.
pub const DEFAULT_MAX_IN_FLIGHT: u64 = 5_000_000;
/// Events after which a run whose pace projects past the budget stops early, rather than
/// spend minutes before it could cross the budget itself.
const PROJECTION_AFTER: u64 = 1 << 24;

/// What one run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// Most events (see [`DEFAULT_MAX_EVENTS`]).
    pub max_events: u64,
    /// Most requests in memory at once (see [`DEFAULT_MAX_IN_FLIGHT`]).
    pub max_in_flight: u64,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            max_events: DEFAULT_MAX_EVENTS,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Why a run stopped before its horizon.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RunAborted(pub String);

/// Events by kind, counted as they are handled (one add per event).
#[derive(Debug, Default, Clone)]
pub(super) struct EventTally {
    counts: [u64; KINDS],
}

const KINDS: usize = 31;

impl EventTally {
    #[inline]
    pub(super) fn record(&mut self, event: &Event) {
        self.counts[kind(event)] += 1;
    }

    /// The kind with most events, and how many.
    fn top(&self) -> (usize, u64) {
        let mut best = (0, 0);
        for (k, &n) in self.counts.iter().enumerate() {
            if n > best.1 {
                best = (k, n);
            }
        }
        best
    }
}

fn kind(event: &Event) -> usize {
    match event {
        Event::Arrival { .. } => 0,
        Event::Send { .. } => 1,
        Event::SliceDone { .. } => 2,
        Event::IoDone { .. } => 3,
        Event::Deadline { .. } => 4,
        Event::InstanceReady { .. } => 5,
        Event::DrainDeadline { .. } => 6,
        Event::Scheduled { .. } => 7,
        Event::Evaluate { .. } => 8,
        Event::Scrape { .. } => 9,
        Event::SpotNotice { .. } => 10,
        Event::SpotInterruption { .. } => 11,
        Event::Resize { .. } => 12,
        Event::Deliver { .. } => 13,
        Event::Reply { .. } => 14,
        Event::CallTimeout { .. } => 15,
        Event::DatabaseFailure { .. } => 16,
        Event::Promote { .. } => 17,
        Event::Reshard { .. } => 18,
        Event::ReshardSwitch { .. } => 19,
        Event::AcquireTimeout { .. } => 20,
        Event::Flush { .. } => 21,
        Event::Migrate { .. } => 22,
        Event::Reload { .. } => 23,
        Event::Retry { .. } => 24,
        Event::RefreshLoads { .. } => 25,
        Event::Probe { .. } => 26,
        Event::ProbeTimedOut { .. } => 27,
        Event::Readmit { .. } => 28,
        Event::Crash { .. } => 29,
        Event::Failure { .. } => 30,
    }
}

const KIND_NAMES: [&str; KINDS] = [
    "open-loop arrivals",
    "closed-loop sends",
    "CPU slices",
    "I/O completions",
    "client deadlines",
    "instances becoming ready",
    "drain deadlines",
    "scheduled actions",
    "autoscaler evaluations",
    "metric scrapes",
    "spot notices",
    "spot interruptions",
    "resizes",
    "calls reaching a service over the network",
    "answers reaching a caller over the network",
    "call timeouts",
    "database failures",
    "database promotions",
    "reshardings",
    "resharding switches",
    "connection waits timing out",
    "write-behind flushes",
    "resharding copies",
    "cache reloads",
    "call retries",
    "balancer load refreshes",
    "health probes",
    "health probe timeouts",
    "ejections ending",
    "crash faults",
    "random failures",
];

impl Simulation<'_> {
    /// Checks the limits after `events` events at `now`; `Err` stops the run.
    pub(super) fn check_limits(
        &self,
        limits: &RunLimits,
        events: u64,
        now: SimTime,
    ) -> Result<(), RunAborted> {
        let live = self.spans.live() as u64;
        if live > limits.max_in_flight {
            return Err(RunAborted(format!(
                "{live} requests were in memory (each call and fan-out branch counted) at {now} of simulated time, more than the limit of {} (--max-in-flight raises it): {}",
                limits.max_in_flight,
                self.largest_queue()
            )));
        }
        let horizon = self.horizon.as_nanos();
        let projected = if now.as_nanos() == 0 {
            u64::MAX
        } else {
            (u128::from(events) * u128::from(horizon) / u128::from(now.as_nanos()))
                .min(u128::from(u64::MAX)) as u64
        };
        let over = events > limits.max_events
            || (events >= PROJECTION_AFTER && projected > limits.max_events);
        if over {
            let (k, n) = self.tally.top();
            return Err(RunAborted(format!(
                "the run would never end in reasonable time: {events} events by {now} of {} simulated, so about {} at this pace, more than the budget of {} events per run (--max-events raises it). Most events are {} ({n}), driven by {}",
                self.horizon,
                if projected == u64::MAX {
                    "infinitely many (simulated time does not advance)".to_string()
                } else {
                    format!("{projected:.3e}")
                },
                limits.max_events,
                KIND_NAMES[k],
                self.driver(k)
            )));
        }
        Ok(())
    }

    /// Which component produces the events of kind `k`.
    fn driver(&self, k: usize) -> String {
        match k {
            0 | 1 => {
                let (c, spec) = self
                    .variant
                    .workload
                    .iter()
                    .enumerate()
                    .max_by_key(|(c, _)| (self.clients[*c].sent, std::cmp::Reverse(*c)))
                    .expect("a run has clients");
                format!(
                    "client `{}` ({} requests sent): its rate, connections, think time or error pause make more requests than a run can simulate",
                    spec.name, self.clients[c].sent
                )
            }
            _ => {
                let s = self.busiest_service();
                let svc = &self.variant.model.services[s];
                let quantum = svc
                    .instance
                    .cpu_quantum
                    .map_or(String::new(), |q| format!(", cpu_quantum {q}"));
                format!(
                    "service `{}` ({} requests routed to it{quantum}): its steps or timers fire more often than a run can simulate",
                    svc.name, self.services[s].counters.arrivals
                )
            }
        }
    }

    fn busiest_service(&self) -> usize {
        (0..self.services.len())
            .max_by_key(|&s| (self.services[s].counters.arrivals, std::cmp::Reverse(s)))
            .unwrap_or(0)
    }

    /// The queue holding the most requests, in words.
    fn largest_queue(&self) -> String {
        let mut best: Option<(u64, String)> = None;
        let mut consider = |n: u64, what: String| {
            if best.as_ref().is_none_or(|(m, _)| n > *m) {
                best = Some((n, what));
            }
        };
        for (s, svc) in self.services.iter().enumerate() {
            let name = &self.variant.model.services[s].name;
            let shape = &self.variant.model.services[s].instance;
            consider(
                svc.routing.backlog_len() as u64,
                format!(
                    "the worker queue of service `{name}` grew (set the queue balancer's max_length to refuse messages beyond it)"
                ),
            );
            let (mut admitted, mut queued, mut holders) = (0u64, 0u64, 0u64);
            for inst in svc.fleet.live().map(|id| &self.instances[id]) {
                admitted += u64::from(inst.in_progress);
                queued += inst.accept_queue.len() as u64;
                holders += 1;
            }
            let limits = if shape.concurrency_limit == u32::MAX {
                "it has no concurrency_limit, so every request is admitted and waits for a core; set concurrency_limit and queue_limit to answer the excess with 503s, as a real server's accept backlog does"
            } else {
                "raise its capacity or lower queue_limit"
            };
            consider(
                admitted + queued,
                format!(
                    "service `{name}` held them on {holders} instance(s), {admitted} admitted and {queued} in accept queues: {limits}"
                ),
            );
        }
        best.map_or_else(|| "no queue".into(), |(_, w)| w)
    }
}
