//! Replication as two pure structures on virtual time: the primary's `WriteLog` (a sequence
//! number per commit, and each key's newest write while some replica may lack it) and one
//! `ReplicaStream` per replica (the writes it has not applied yet).
//!
//! A replica's applier is a single FIFO server: write i, committed at c_i, arrives at
//! r_i = max(c_i + network_i, r_(i-1)) (the stream keeps commit order) and is applied at
//! a_i = max(r_i, a_(i-1)) + 1/apply_rate. Every a_i is known at commit, so replication
//! schedules no event: a read at time t on a replica sees every write with a_i <= t. While
//! writes come faster than the apply rate, a_i - c_i grows linearly: the lag.
//!
//! Memory follows what is in flight: a replica keeps only writes not yet applied (32 bytes
//! each), and the log forgets a key once every replica has its newest write and any
//! read-your-writes window is over.

use crate::kernel::{SimDuration, SimTime};
use std::collections::{HashMap, VecDeque};

/// Only ever looked up, never iterated: a fixed hasher keeps even the layout reproducible.
type Fixed = crate::kernel::FixedHash;

/// One write on its way into a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    seq: u64,
    committed: SimTime,
    arrives: SimTime,
    applied: SimTime,
}

/// What one replica has applied, and what it has still to apply.
#[derive(Debug, Clone)]
pub struct ReplicaStream {
    /// Writes not yet applied (as of the last `advance`), in commit order.
    pending: VecDeque<Pending>,
    /// The highest sequence number applied.
    applied_seq: u64,
    /// When the applier finishes the last write it was given.
    free_at: SimTime,
    /// When the last write given arrives.
    last_arrival: SimTime,
}

impl ReplicaStream {
    /// A replica that has every write up to `seq` at `now` (new, or rebuilt from a backup).
    pub fn caught_up(seq: u64, now: SimTime) -> ReplicaStream {
        ReplicaStream {
            pending: VecDeque::new(),
            applied_seq: seq,
            free_at: now,
            last_arrival: now,
        }
    }

    /// Write `seq`, committed at `committed`, sent after `network`; it takes `apply` to
    /// apply. Returns its lag: when it is applied, less when it was committed.
    pub fn receive(
        &mut self,
        seq: u64,
        committed: SimTime,
        network: SimDuration,
        apply: SimDuration,
    ) -> SimDuration {
        let arrives = (committed + network).max(self.last_arrival);
        let applied = arrives.max(self.free_at) + apply;
        self.last_arrival = arrives;
        self.free_at = applied;
        self.pending.push_back(Pending {
            seq,
            committed,
            arrives,
            applied,
        });
        applied.since(committed)
    }

    /// Applies what is done by `now`; returns the highest sequence number applied.
    pub fn advance(&mut self, now: SimTime) -> u64 {
        while let Some(p) = self.pending.front() {
            if p.applied > now {
                break;
            }
            self.applied_seq = p.seq;
            self.pending.pop_front();
        }
        self.applied_seq
    }

    /// Its lag at `now`: how long ago the oldest write it has not applied was committed
    /// (zero when it has them all).
    pub fn lag(&mut self, now: SimTime) -> SimDuration {
        self.advance(now);
        self.pending
            .front()
            .map_or(SimDuration::ZERO, |p| now.since(p.committed))
    }

    /// Writes not yet applied.
    pub fn backlog(&self) -> usize {
        self.pending.len()
    }

    /// The primary died at `failed`: writes that had not reached this replica by then never
    /// will. Returns how many were dropped.
    pub fn cut(&mut self, failed: SimTime) -> u64 {
        let mut dropped = 0;
        while self.pending.back().is_some_and(|p| p.arrives > failed) {
            self.pending.pop_back();
            dropped += 1;
        }
        self.last_arrival = self.pending.back().map_or(failed, |p| p.arrives);
        self.free_at = self.pending.back().map_or(failed, |p| p.applied);
        dropped
    }

    /// The highest sequence number it has received (applied or not).
    pub fn received(&self) -> u64 {
        self.pending.back().map_or(self.applied_seq, |p| p.seq)
    }

    /// Promotion at `now`: it applies what it received first, and takes writes from the
    /// returned time on.
    pub fn promote(&mut self, now: SimTime) -> SimTime {
        let ready = self.pending.back().map_or(now, |p| p.applied.max(now));
        self.applied_seq = self.received();
        self.pending.clear();
        self.free_at = ready;
        self.last_arrival = ready;
        ready
    }
}

/// The primary's commits: sequence numbers, and each key's newest write while it matters.
#[derive(Debug, Default)]
pub struct WriteLog {
    /// The last sequence number given (0: none yet).
    seq: u64,
    /// Each remembered key's newest write: (sequence number, commit time).
    newest: HashMap<u64, (u64, SimTime), Fixed>,
    /// Commits in order, for forgetting: (sequence number, key, commit time).
    order: VecDeque<(u64, u64, SimTime)>,
}

impl WriteLog {
    /// Records a write of `key` at `now`; returns its sequence number (from 1).
    pub fn commit(&mut self, key: u64, now: SimTime) -> u64 {
        self.seq += 1;
        self.newest.insert(key, (self.seq, now));
        self.order.push_back((self.seq, key, now));
        self.seq
    }

    /// The last sequence number given.
    pub fn last_seq(&self) -> u64 {
        self.seq
    }

    /// `key`'s newest remembered write: (sequence number, commit time).
    pub fn newest(&self, key: u64) -> Option<(u64, SimTime)> {
        self.newest.get(&key).copied()
    }

    /// Whether a replica that has applied up to `applied` would serve `key` stale.
    pub fn is_stale(&self, key: u64, applied: u64) -> bool {
        self.newest(key).is_some_and(|(seq, _)| seq > applied)
    }

    /// Forgets writes every replica has applied (`applied_everywhere`) and committed before
    /// `before` (the read-your-writes window's start).
    pub fn forget(&mut self, applied_everywhere: u64, before: SimTime) {
        while let Some(&(seq, key, at)) = self.order.front() {
            if seq > applied_everywhere || at >= before {
                break;
            }
            self.order.pop_front();
            if self.newest.get(&key).is_some_and(|&(s, _)| s == seq) {
                self.newest.remove(&key);
            }
        }
    }

    /// Writes from `from` on were lost (a failover): they are forgotten, so their keys read
    /// as never written since (the write before them is not remembered either).
    pub fn roll_back(&mut self, from: u64) {
        while let Some(&(seq, key, _)) = self.order.back() {
            if seq < from {
                break;
            }
            self.order.pop_back();
            if self.newest.get(&key).is_some_and(|&(s, _)| s == seq) {
                self.newest.remove(&key);
            }
        }
    }

    /// Keys remembered.
    pub fn remembered(&self) -> usize {
        self.newest.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> SimDuration {
        SimDuration::from_millis(v)
    }
    fn at(v: u64) -> SimTime {
        SimTime::ZERO + ms(v)
    }

    #[test]
    fn a_replica_applies_in_commit_order_one_write_at_a_time() {
        let mut r = ReplicaStream::caught_up(0, SimTime::ZERO);
        // Two writes 1 ms apart, 10 ms of network, 5 ms to apply each: the second waits.
        assert_eq!(r.receive(1, at(0), ms(10), ms(5)), ms(15));
        assert_eq!(r.receive(2, at(1), ms(10), ms(5)), ms(19));
        assert_eq!(r.advance(at(14)), 0);
        assert_eq!(r.advance(at(15)), 1);
        assert_eq!(r.lag(at(16)), ms(15));
        assert_eq!(r.advance(at(20)), 2);
        assert_eq!(r.lag(at(20)), SimDuration::ZERO);
        assert_eq!(r.backlog(), 0);
    }

    #[test]
    fn the_stream_keeps_commit_order_when_a_later_write_travels_faster() {
        let mut r = ReplicaStream::caught_up(0, SimTime::ZERO);
        r.receive(1, at(0), ms(50), ms(1));
        // Sent 1 ms later over a faster path: still applied after the first.
        assert_eq!(r.receive(2, at(1), ms(1), ms(1)), ms(51));
    }

    #[test]
    fn promotion_loses_what_had_not_arrived_and_applies_the_rest_first() {
        let mut r = ReplicaStream::caught_up(0, SimTime::ZERO);
        r.receive(1, at(0), ms(10), ms(100)); // arrives 10, applied 110
        r.receive(2, at(20), ms(10), ms(100)); // arrives 30, applied 210
        // The primary dies at 25 ms: write 2 never arrives.
        assert_eq!(r.cut(at(25)), 1);
        assert_eq!(r.received(), 1);
        assert_eq!(r.promote(at(50)), at(110));
        assert_eq!(r.advance(at(50)), 1);
        let mut log = WriteLog::default();
        log.commit(5, at(0));
        log.commit(6, at(20));
        log.roll_back(2);
        assert!(log.newest(6).is_none() && log.newest(5).is_some());
    }

    #[test]
    fn the_log_forgets_a_key_once_everyone_has_it_and_its_window_is_over() {
        let mut log = WriteLog::default();
        assert_eq!(log.commit(7, at(0)), 1);
        assert_eq!(log.commit(8, at(1)), 2);
        assert_eq!(log.commit(7, at(2)), 3);
        assert!(log.is_stale(7, 2));
        assert!(!log.is_stale(7, 3));
        assert!(!log.is_stale(9, 0), "a key never written is never stale");
        log.forget(2, at(100));
        // Key 7's newest write (3) is not applied everywhere: still remembered.
        assert_eq!(log.remembered(), 1);
        assert_eq!(log.newest(7), Some((3, at(2))));
        log.forget(3, at(2));
        assert_eq!(log.remembered(), 1, "within the window");
        log.forget(3, at(3));
        assert_eq!(log.remembered(), 0);
    }
}
