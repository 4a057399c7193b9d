//! Time-weighted averages of a level (busy cores, queue length, requests in flight), kept as
//! exact integer areas so results do not depend on floating-point summation order.

use crate::kernel::SimTime;

/// A level that changes at instants, with its area since the last reset and since the start
/// of the current time-series bucket.
#[derive(Debug, Clone, Default)]
pub struct TimeAverage {
    /// Never negative (an `i64` so that deltas can be).
    level: i64,
    last: SimTime,
    since: SimTime,
    peak: i64,
    bucket_peak: i64,
    /// Area since `start`, never reset: a monotonic counter, like the CPU-seconds counter a
    /// metrics agent scrapes. The areas since the last reset and since the bucket began are
    /// differences from it, so a change of level adds to one sum, not three.
    lifetime_area: u128,
    /// `lifetime_area` at the last reset, and at the start of the bucket.
    reset_mark: u128,
    bucket_mark: u128,
}

impl TimeAverage {
    /// Starts measuring at `now` with level zero.
    pub fn start(&mut self, now: SimTime) {
        *self = TimeAverage {
            last: now,
            since: now,
            ..Default::default()
        };
    }

    #[inline]
    fn accrue(&mut self, now: SimTime) {
        let dt = now.since(self.last).as_nanos();
        if dt > 0 {
            debug_assert!(self.level >= 0, "a level is a count");
            // 64 x 64 -> 128 bits: one multiplication.
            self.lifetime_area += u128::from(self.level as u64) * u128::from(dt);
            self.last = now;
        }
    }

    /// Sets the level from `now` on.
    #[inline]
    pub fn set(&mut self, now: SimTime, level: i64) {
        self.accrue(now);
        self.level = level;
        self.peak = self.peak.max(level);
        self.bucket_peak = self.bucket_peak.max(level);
    }

    /// Changes the level by `delta` from `now` on.
    #[inline]
    pub fn add(&mut self, now: SimTime, delta: i64) {
        let level = self.level + delta;
        self.set(now, level);
    }

    /// The current level.
    pub fn level(&self) -> i64 {
        self.level
    }

    /// Forgets the history before `now` (end of warm-up); the level stays.
    pub fn reset(&mut self, now: SimTime) {
        self.accrue(now);
        self.last = now;
        self.since = now;
        self.reset_mark = self.lifetime_area;
        self.peak = self.level;
    }

    /// Mean level from the last reset to `now`.
    pub fn mean(&mut self, now: SimTime) -> f64 {
        self.accrue(now);
        let span = now.since(self.since).as_nanos();
        if span == 0 {
            self.level as f64
        } else {
            (self.lifetime_area - self.reset_mark) as f64 / span as f64
        }
    }

    /// Level x nanoseconds from the last reset to `now`.
    pub fn area(&mut self, now: SimTime) -> u128 {
        self.accrue(now);
        self.lifetime_area - self.reset_mark
    }

    /// Level x nanoseconds from `start` to `now`, never reset.
    pub fn lifetime_area(&mut self, now: SimTime) -> u128 {
        self.accrue(now);
        self.lifetime_area
    }

    /// Highest level since the last reset.
    pub fn peak(&self) -> i64 {
        self.peak
    }

    /// Closes the bucket ending at `now`: returns its area (level x nanoseconds) and peak, and
    /// starts the next bucket.
    pub fn take_bucket(&mut self, now: SimTime) -> (u128, i64) {
        self.accrue(now);
        let out = (self.lifetime_area - self.bucket_mark, self.bucket_peak);
        self.bucket_mark = self.lifetime_area;
        self.bucket_peak = self.level;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_is_time_weighted() {
        let t = SimTime::from_nanos;
        let mut a = TimeAverage::default();
        a.start(t(0));
        a.set(t(10), 4); // 0 for 10 ns
        a.set(t(20), 1); // 4 for 10 ns
        assert_eq!(a.mean(t(40)), (40.0 + 20.0) / 40.0); // 1 for 20 ns
        assert_eq!(a.peak(), 4);
        a.reset(t(40));
        assert_eq!(a.mean(t(50)), 1.0);
        assert_eq!(a.peak(), 1);
    }
}
