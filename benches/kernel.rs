//! The kernel alone: schedule and pop with a small pending set (the "hold" model: every
//! popped event schedules one more), which is what a simulation's queue mostly does.
//!
//!     cargo bench --bench kernel

use divan::counter::ItemsCount;
use surge::kernel::{Handler, Scheduler, SimDuration, SimTime, run_until};

fn main() {
    divan::main();
}

/// Pops one event, schedules another a pseudo-random delay later (xorshift, no RNG crate in
/// the loop so only the queue is measured).
struct Hold {
    state: u64,
}

impl Handler for Hold {
    type Event = u32;
    #[inline]
    fn handle(&mut self, event: u32, s: &mut Scheduler<u32>) {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        s.schedule_in(SimDuration::from_nanos(self.state % 1_000_000), event);
    }
}

const EVENTS: u64 = 1_000_000;

#[divan::bench(args = [4, 16, 64, 1024])]
fn hold(bencher: divan::Bencher, pending: u32) {
    bencher.counter(ItemsCount::new(EVENTS)).bench_local(|| {
        let mut s = Scheduler::new();
        for i in 0..pending {
            s.schedule_at(SimTime::from_nanos(u64::from(i)), i);
        }
        let mut h = Hold {
            state: 0x9e37_79b9_7f4a_7c15,
        };
        run_until(&mut h, &mut s, SimTime::MAX, EVENTS)
    });
}
