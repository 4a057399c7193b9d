//! The simulation kernel: virtual time, the event queue, the run loop and random streams.
//!
//! The kernel does no I/O and knows nothing of the model, serde or clap. A model plugs in by
//! implementing [`Handler`] for its own event enum, so dispatch is a `match`, not a boxed closure.

mod hash;
mod queue;
mod rng;
mod time;

pub use hash::{FixedHash, MixHasher};
pub use queue::EventQueue;
pub use rng::{RequestRng, Stream, keyed_seed, stream, stream_seed};
pub use time::{SimDuration, SimTime};

/// Reacts to one event at a time. Implemented by the model that owns the simulation state.
pub trait Handler {
    /// The model's event type: a small plain enum.
    type Event: Copy;

    /// Handles `event`, which fires at `scheduler.now()`, possibly scheduling more events.
    fn handle(&mut self, event: Self::Event, scheduler: &mut Scheduler<Self::Event>);
}

/// The clock and the pending events of one run.
#[derive(Debug)]
pub struct Scheduler<E> {
    now: SimTime,
    queue: EventQueue<E>,
}

impl<E: Copy> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Scheduler<E> {
    /// An empty scheduler at time zero.
    pub fn new() -> Self {
        Scheduler {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
        }
    }

    /// The current virtual time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at absolute time `at`; times in the past are clamped to now, so
    /// causality holds even if a caller rounds badly.
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, event: E) {
        self.queue.push(at.max(self.now), event);
    }

    /// Schedules `event` after `delay`.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.queue.push(self.now + delay, event);
    }

    /// How many events are pending.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// Why [`run_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// The next event lies at or beyond the horizon, or there is none: the run is over.
    ReachedHorizon,
    /// The event budget ran out first; call again to continue.
    BudgetSpent,
}

/// Processes events in (time, insertion order) strictly before `horizon`, at most `budget` of
/// them, so a run covers [0, horizon). Returns the status and the number of events processed.
/// At the horizon the clock is advanced to `horizon`, so time-averaged metrics can be closed
/// there.
///
/// Cost: O(log n) per event for n pending events.
pub fn run_until<H: Handler>(
    handler: &mut H,
    scheduler: &mut Scheduler<H::Event>,
    horizon: SimTime,
    budget: u64,
) -> (RunStatus, u64) {
    let mut processed = 0;
    while processed < budget {
        match scheduler.queue.pop_if_before(horizon) {
            Some((time, event)) => {
                scheduler.now = time;
                handler.handle(event, scheduler);
                processed += 1;
            }
            None => {
                scheduler.now = scheduler.now.max(horizon);
                return (RunStatus::ReachedHorizon, processed);
            }
        }
    }
    (RunStatus::BudgetSpent, processed)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Recorder {
        seen: Vec<(SimTime, u32)>,
    }

    impl Handler for Recorder {
        type Event = u32;
        fn handle(&mut self, event: u32, s: &mut Scheduler<u32>) {
            self.seen.push((s.now(), event));
            if event == 1 {
                // Same-time events fire after those already queued for that time.
                s.schedule_in(SimDuration::ZERO, 10);
            }
        }
    }

    #[test]
    fn events_fire_in_time_then_insertion_order() {
        let mut s = Scheduler::new();
        s.schedule_at(SimTime::from_nanos(5), 2);
        s.schedule_at(SimTime::from_nanos(1), 1);
        s.schedule_at(SimTime::from_nanos(1), 3);
        s.schedule_at(SimTime::from_nanos(9), 4);
        let mut r = Recorder { seen: vec![] };
        let (status, n) = run_until(&mut r, &mut s, SimTime::from_nanos(8), u64::MAX);
        assert_eq!(status, RunStatus::ReachedHorizon);
        assert_eq!(n, 4);
        let order: Vec<u32> = r.seen.iter().map(|e| e.1).collect();
        assert_eq!(order, vec![1, 3, 10, 2]);
        assert_eq!(s.now(), SimTime::from_nanos(8));
        assert_eq!(s.pending(), 1, "the event after the horizon stays pending");
    }

    #[test]
    fn budget_pauses_and_resumes() {
        let mut s = Scheduler::new();
        for i in 0..10 {
            s.schedule_at(SimTime::from_nanos(i), i as u32 + 100);
        }
        let mut r = Recorder { seen: vec![] };
        assert_eq!(
            run_until(&mut r, &mut s, SimTime::MAX, 4),
            (RunStatus::BudgetSpent, 4)
        );
        assert_eq!(
            run_until(&mut r, &mut s, SimTime::MAX, 100),
            (RunStatus::ReachedHorizon, 6)
        );
        assert_eq!(r.seen.len(), 10);
    }
}
