//! Load balancers: which instance of a service gets the next request.
//!
//! Adding an algorithm is local to this file and the config's `RawBalancer`: a variant of
//! [`BalancerSpec`], its state in [`Balancer`], and one arm in [`Balancer::pick`].

use crate::components::instance::Instance;
use crate::components::shard::{Ring, key_hash};
use crate::ids::InstanceId;
use crate::kernel::{SimDuration, SimTime, Stream};
use rand::RngExt;

mod latency;
mod load_tree;
mod view;
mod weighted;

use view::Views;
pub use view::{LoadView, MAX_BALANCERS};

use latency::Latencies;
use load_tree::LoadTree;
use weighted::Strides;

/// A balancing algorithm as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalancerSpec {
    /// Each instance in turn (nginx's default).
    RoundRobin,
    /// Each instance in proportion to its weight, interleaved (nginx's smooth weighted
    /// round robin: weights 3:2 give A B A B A).
    WeightedRoundRobin,
    /// Uniformly at random.
    Random,
    /// Fewest open requests; ties go round robin so equal instances share load evenly
    /// (nginx `least_conn`).
    LeastConnections,
    /// The request's key on a hash ring of the ready instances, `vnodes` tokens each (ketama,
    /// as memcached and Redis clients place keys on nodes): one key always reaches the same
    /// instance while the fleet stands still, and an instance leaving or joining moves only
    /// the keys of its own arcs. An instance's tokens follow its ordinal (a StatefulSet
    /// pod's number), so a replacement takes back the arcs of the one it replaces.
    ConsistentHash {
        /// Tokens per instance (1 to 4096; ketama uses 160).
        vnodes: u32,
    },
    /// The power of d choices: `d` candidates drawn at random (distinct ones unless
    /// `replacement`), the one with the fewest open requests picked (ties: the first drawn).
    /// Nearly as good as least connections at O(d) a pick, and robust where every balancer
    /// sees the same stale loads (Mitzenmacher's supermarket model).
    PowerOfD {
        /// Candidates drawn per pick (1 to [`MAX_D`]).
        d: u32,
        /// Whether one candidate may be drawn twice.
        replacement: bool,
    },
    /// The least cost, exactly: each candidate's peak-EWMA response time times its open
    /// requests plus one (nginx Plus's `least_time`, with Finagle's estimate). O(log n) a
    /// pick and an update.
    LeastResponseTime {
        /// The estimate's time constant.
        decay: SimDuration,
    },
    /// The power of d choices by the same cost (Finagle's and linkerd's default balancer,
    /// `p2c` over peak EWMA): O(d) a pick.
    PeakEwma {
        /// Candidates drawn per pick (1 to [`MAX_D`]).
        d: u32,
        /// The estimate's time constant.
        decay: SimDuration,
    },
    /// A worker pool pulling from a queue (SQS, RabbitMQ, Celery): requests wait in one FIFO
    /// of at most `max_length` messages, and a worker with a free slot takes the oldest. The
    /// simulation routes these itself; [`Balancer::pick`] is not used for them.
    Queue {
        /// Most messages waiting; more are refused.
        max_length: u32,
    },
}

impl BalancerSpec {
    /// The name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            BalancerSpec::RoundRobin => "round_robin",
            BalancerSpec::WeightedRoundRobin => "weighted_round_robin",
            BalancerSpec::Random => "random",
            BalancerSpec::LeastConnections => "least_connections",
            BalancerSpec::ConsistentHash { .. } => "consistent_hash",
            BalancerSpec::PowerOfD { .. } => "power_of_d",
            BalancerSpec::LeastResponseTime { .. } => "least_response_time",
            BalancerSpec::PeakEwma { .. } => "peak_ewma",
            BalancerSpec::Queue { .. } => "queue",
        }
    }
}

/// A balancer's running state.
#[derive(Debug)]
pub struct Balancer {
    spec: BalancerSpec,
    /// Rotating start positions (round robin, and tie-breaks for least connections and
    /// least response time), one per view.
    cursors: Vec<usize>,
    /// Draws for random choice; a stream of its own, so other streams are untouched.
    rng: Stream,
    /// The loads it sees (exact, published or each balancer instance's own).
    views: Views,
    /// The candidates' loads as each view sees them (least connections; least response
    /// time's costs in the one tree), kept current by [`Balancer::candidates_changed`],
    /// [`Balancer::load_changed`], [`Balancer::sent`], [`Balancer::ended`] and
    /// [`Balancer::refresh`].
    loads: Vec<LoadTree>,
    /// The candidates' tokens (consistent hashing only); owners are candidate positions.
    ring: Ring,
    /// The candidates' passes (weighted round robin only).
    strides: Strides,
    /// The candidates' response-time estimates (least response time and peak EWMA only).
    latencies: Latencies,
}

/// The most candidates a power-of-d pick draws.
pub const MAX_D: u32 = 64;

/// Places every consistent-hashing balancer's tokens: a ring depends only on its instances'
/// ordinals, so every run and replication places keys alike (as node names fix a ketama
/// ring).
const RING_SEED: u64 = 0x6b65_7461_6d61; // "ketama"

/// `i % n`, without the division when `i` is in range already (a cursor almost always is;
/// it leaves the range only when the candidates shrink).
#[inline]
fn wrap(i: usize, n: usize) -> usize {
    if i < n { i } else { i % n }
}

impl Balancer {
    /// A balancer with its own random stream, seeing loads through `view`.
    pub fn new(spec: BalancerSpec, view: LoadView, rng: Stream) -> Self {
        let views = Views::new(view);
        let count = views.count();
        Balancer {
            spec,
            cursors: vec![0; count],
            rng,
            views,
            loads: (0..count).map(|_| LoadTree::default()).collect(),
            ring: Ring::default(),
            strides: Strides::default(),
            latencies: Latencies::new(match spec {
                BalancerSpec::LeastResponseTime { decay }
                | BalancerSpec::PeakEwma { decay, .. } => decay,
                _ => SimDuration::from_secs(1),
            }),
        }
    }

    /// The candidates changed (an instance became ready or left service, or its health
    /// checks changed their verdict). O(n) a view for least connections and least response
    /// time, which re-read every candidate's load or cost, and for weighted round robin and
    /// peak EWMA, which carry their candidates' passes and estimates over; O(n v log(n v)) for
    /// consistent hashing, which rebuilds its ring; nothing for the others.
    pub fn candidates_changed(&mut self, candidates: &[InstanceId], instances: &[Instance]) {
        self.views.candidates_changed(candidates, instances);
        match self.spec {
            BalancerSpec::LeastConnections => self.rebuild_loads(candidates, instances),
            BalancerSpec::LeastResponseTime { .. } => {
                self.latencies.rebuild(candidates, instances.len());
                let latencies = &self.latencies;
                self.loads[0].rebuild(candidates, instances.len(), |c| {
                    latencies.cost(c, instances)
                });
            }
            BalancerSpec::PeakEwma { .. } => self.latencies.rebuild(candidates, instances.len()),
            BalancerSpec::WeightedRoundRobin => self.strides.rebuild(candidates, instances),
            BalancerSpec::ConsistentHash { vnodes } => {
                let nodes = candidates
                    .iter()
                    .enumerate()
                    .map(|(pos, c)| (instances[c.index()].ordinal, pos as u32));
                self.ring.rebuild(nodes, vnodes, RING_SEED);
            }
            _ => {}
        }
    }

    /// `instance`'s open requests are now `open`. O(log n) for least connections and least
    /// response time, nothing for the others. Instances that are not candidates are ignored.
    #[inline]
    pub fn load_changed(&mut self, instance: InstanceId, open: u32, instances: &[Instance]) {
        match self.spec {
            BalancerSpec::LeastConnections if self.views.view == LoadView::Exact => {
                self.loads[0].set(instance, u64::from(open))
            }
            BalancerSpec::LeastResponseTime { .. } => {
                let cost = self.latencies.cost(instance, instances);
                self.loads[0].set(instance, cost);
            }
            _ => {}
        }
    }

    /// Every least-connections tree from the loads its view sees. O(n) a view.
    fn rebuild_loads(&mut self, candidates: &[InstanceId], instances: &[Instance]) {
        for (b, tree) in self.loads.iter_mut().enumerate() {
            let views = &self.views;
            tree.rebuild(candidates, instances.len(), |c| {
                u64::from(views.load(b, c, instances))
            });
        }
    }

    /// A published view's refresh: the candidates' loads are copied as they are now. O(n).
    pub fn refresh(&mut self, candidates: &[InstanceId], instances: &[Instance]) {
        self.views.publish(candidates, instances);
        if self.spec == BalancerSpec::LeastConnections {
            self.rebuild_loads(candidates, instances);
        }
    }

    /// The view's refresh interval, if it is a published one.
    pub fn refresh_interval(&self) -> Option<SimDuration> {
        match self.views.view {
            LoadView::Published { refresh } => Some(refresh),
            _ => None,
        }
    }

    /// The request of `seed` was sent to `instance` (after [`Balancer::pick`], when the
    /// instance took it). O(log n) with own views, nothing otherwise.
    #[inline]
    pub fn sent(&mut self, seed: u64, instance: InstanceId) {
        let b = self.views.balancer_of(seed);
        let count = self.views.sent(b, instance);
        self.own_count_changed(b, instance, count);
    }

    /// The request of `seed`, sent to `instance`, has ended there. O(log n) with own views,
    /// nothing otherwise.
    #[inline]
    pub fn ended(&mut self, seed: u64, instance: InstanceId) {
        let b = self.views.balancer_of(seed);
        let count = self.views.ended(b, instance);
        self.own_count_changed(b, instance, count);
    }

    /// Balancer instance `b`'s own count of `instance` is now `count` (`None`: the view keeps
    /// no own counts); least connections' tree of that view follows it.
    #[inline]
    fn own_count_changed(&mut self, b: usize, instance: InstanceId, count: Option<u32>) {
        if let (Some(count), BalancerSpec::LeastConnections) = (count, self.spec) {
            self.loads[b].set(instance, u64::from(count));
        }
    }

    /// `instance` answered a request `latency` after it arrived (before [`Balancer::load_changed`]
    /// tells its new load). O(1); only the latency-aware balancers keep anything.
    #[inline]
    pub fn responded(&mut self, instance: InstanceId, latency: SimDuration, now: SimTime) {
        if matches!(
            self.spec,
            BalancerSpec::LeastResponseTime { .. } | BalancerSpec::PeakEwma { .. }
        ) {
            self.latencies.responded(instance, latency, now);
        }
    }

    /// The algorithm.
    pub fn spec(&self) -> BalancerSpec {
        self.spec
    }

    /// Picks one of `candidates` (slots of `instances`) for a request about `key` (which
    /// only consistent hashing reads) whose seed is `seed` (which names the balancer instance
    /// it goes through, with own views); `None` if there are none. The candidates must be those
    /// last given to [`Balancer::candidates_changed`].
    ///
    /// Cost: O(1) for round robin and random, O(log n) for least connections, least response
    /// time and weighted round robin, O(1) expected for consistent hashing (the ring's sliced
    /// lookup), O(d) for the power of d choices and peak EWMA.
    #[inline]
    pub fn pick(
        &mut self,
        candidates: &[InstanceId],
        instances: &[Instance],
        key: u64,
        seed: u64,
    ) -> Option<InstanceId> {
        let n = candidates.len();
        if n == 0 {
            return None;
        }
        let b = self.views.balancer_of(seed);
        let i = match self.spec {
            // A queue has no push routing; round robin stands in if ever asked.
            BalancerSpec::RoundRobin | BalancerSpec::Queue { .. } => {
                let i = wrap(self.cursors[b], n);
                self.cursors[b] = wrap(i + 1, n);
                i
            }
            BalancerSpec::WeightedRoundRobin => {
                debug_assert_eq!(self.strides.len(), n, "candidates_changed was not called");
                self.strides.pick(candidates, instances)
            }
            BalancerSpec::Random => self.rng.random_range(0..n),
            BalancerSpec::LeastResponseTime { .. } => {
                debug_assert_eq!(self.loads[0].len(), n, "candidates_changed was not called");
                let best = self.loads[0].first_least_from(wrap(self.cursors[0], n));
                self.cursors[0] = wrap(best + 1, n);
                best
            }
            BalancerSpec::PeakEwma { d, .. } => {
                let latencies = &self.latencies;
                let cost = |c: InstanceId| latencies.cost(c, instances);
                power_of_d(&mut self.rng, candidates, d as usize, false, cost)
            }
            BalancerSpec::LeastConnections => {
                // The first candidate with the fewest open requests, scanning round from
                // the cursor: ties go round robin.
                let tree = &self.loads[b];
                debug_assert_eq!(tree.len(), n, "candidates_changed was not called");
                let best = tree.first_least_from(wrap(self.cursors[b], n));
                debug_assert_eq!(
                    tree.min[tree.width + best],
                    u64::from(self.views.load(b, candidates[best], instances)),
                    "load_changed was not called"
                );
                self.cursors[b] = wrap(best + 1, n);
                best
            }
            BalancerSpec::ConsistentHash { .. } => {
                debug_assert!(!self.ring.is_empty(), "candidates_changed was not called");
                self.ring.shard_of(key_hash(key)) as usize
            }
            BalancerSpec::PowerOfD { d, replacement } => {
                let views = &self.views;
                let open = |c: InstanceId| u64::from(views.load(b, c, instances));
                power_of_d(&mut self.rng, candidates, d as usize, replacement, open)
            }
        };
        Some(candidates[i])
    }
}

/// The least costly of `d` random candidates (positions in `candidates`; ties: the first
/// drawn); distinct ones unless `replacement`, at most all of them. O(d) draws, O(d^2)
/// duplicate checks for d <= 64 (cheaper than a set at that size).
#[inline]
fn power_of_d(
    rng: &mut Stream,
    candidates: &[InstanceId],
    d: usize,
    replacement: bool,
    cost: impl Fn(InstanceId) -> u64,
) -> usize {
    let n = candidates.len();
    let draws = if replacement { d } else { d.min(n) };
    let mut drawn = [0usize; MAX_D as usize];
    let (mut best, mut best_cost) = (0, u64::MAX);
    let mut k = 0;
    while k < draws {
        let i = rng.random_range(0..n);
        if !replacement && drawn[..k].contains(&i) {
            continue;
        }
        drawn[k] = i;
        k += 1;
        let c = cost(candidates[i]);
        if c < best_cost {
            (best, best_cost) = (i, c);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::instance::InstanceSpec;
    use crate::components::lifecycle::Phase;
    use crate::ids::ServiceId;
    use crate::kernel::{SimTime, stream};

    /// The pick of the scan it replaces: first fewest-open candidate from the cursor.
    fn scan(cursor: usize, candidates: &[InstanceId], instances: &[Instance]) -> usize {
        let n = candidates.len();
        let start = cursor % n;
        (0..n)
            .map(|k| (start + k) % n)
            .min_by_key(|&i| {
                (
                    instances[candidates[i].index()].open_requests(),
                    (i + n - start) % n,
                )
            })
            .unwrap()
    }

    #[test]
    fn least_connections_picks_as_a_scan_from_the_cursor_would() {
        let spec = InstanceSpec::plain(1, crate::components::instance::Runtime::ThreadPool);
        let mut instances: Vec<Instance> = (0..37)
            .map(|_| Instance::new(ServiceId(0), &spec, Phase::Ready, SimTime::ZERO))
            .collect();
        let mut candidates: Vec<InstanceId> = (0..37).map(InstanceId::from_index).collect();
        let mut b = Balancer::new(
            BalancerSpec::LeastConnections,
            LoadView::Exact,
            stream(1, 0, "t", "b"),
        );
        b.candidates_changed(&candidates, &instances);
        let mut rng = stream(2, 0, "t", "ops");
        let mut slot = 0;
        for step in 0..20_000 {
            match rng.random_range(0..10) {
                // Route a request to the pick.
                0..=5 => {
                    let want = candidates[scan(b.cursors[0], &candidates, &instances)];
                    let got = b.pick(&candidates, &instances, 0, 0).unwrap();
                    assert_eq!(got, want, "step {step}");
                    let r = crate::ids::SpanRef {
                        id: crate::ids::SpanId::from_index(slot),
                        generation: 0,
                    };
                    instances[got.index()].admit(r, SimTime::ZERO);
                    slot += 1;
                    let open = instances[got.index()].open_requests();
                    b.load_changed(got, open, &instances);
                }
                // Finish one somewhere.
                6..=8 => {
                    let i = candidates[rng.random_range(0..candidates.len())];
                    if instances[i.index()].open_requests() > 0 {
                        instances[i.index()].release();
                        let open = instances[i.index()].open_requests();
                        b.load_changed(i, open, &instances);
                    }
                }
                // An instance leaves or comes back.
                _ => {
                    if candidates.len() > 1 && rng.random_range(0..2) == 0 {
                        let k = rng.random_range(0..candidates.len());
                        candidates.remove(k);
                    } else if let Some(missing) = (0..37)
                        .map(InstanceId::from_index)
                        .find(|i| !candidates.contains(i))
                    {
                        candidates.push(missing);
                    }
                    b.candidates_changed(&candidates, &instances);
                }
            }
        }
    }

    /// Ready instances with the ordinals `ordinals`, in that order.
    fn nodes(ordinals: &[u32]) -> (Vec<Instance>, Vec<InstanceId>) {
        let spec = InstanceSpec::plain(1, crate::components::instance::Runtime::EventLoop);
        let instances: Vec<Instance> = ordinals
            .iter()
            .map(|&o| {
                let mut i = Instance::new(ServiceId(0), &spec, Phase::Ready, SimTime::ZERO);
                i.ordinal = o;
                i
            })
            .collect();
        let ids = (0..ordinals.len()).map(InstanceId::from_index).collect();
        (instances, ids)
    }

    /// Each key's node, by ordinal, for keys 0..n.
    fn owners(b: &mut Balancer, candidates: &[InstanceId], instances: &[Instance]) -> Vec<u32> {
        (0..20_000u64)
            .map(|k| instances[b.pick(candidates, instances, k, 0).unwrap().index()].ordinal)
            .collect()
    }

    /// Karger et al.'s monotonicity: a node leaving moves exactly the keys it held (each to
    /// some other node), a node joining takes keys only for itself, and a replacement with
    /// the same ordinal takes back exactly what its predecessor held, whatever the order the
    /// candidates are listed in.
    #[test]
    fn consistent_hashing_moves_only_the_keys_of_the_node_that_changed() {
        let spec = BalancerSpec::ConsistentHash { vnodes: 160 };
        let mut b = Balancer::new(spec, LoadView::Exact, stream(1, 0, "t", "b"));
        let (instances, all) = nodes(&[0, 1, 2, 3]);
        b.candidates_changed(&all[..3], &instances);
        let three = owners(&mut b, &all[..3], &instances);
        for o in 0..3 {
            let share = three.iter().filter(|&&x| x == o).count() as f64 / three.len() as f64;
            // 160 tokens a node: each share within 0.1 of 1/3 (its sd is about 0.037).
            assert!((share - 1.0 / 3.0).abs() < 0.1, "node {o} holds {share}");
        }

        let two = [all[0], all[2]];
        b.candidates_changed(&two, &instances);
        let after_loss = owners(&mut b, &two, &instances);
        for (k, (&before, &after)) in three.iter().zip(&after_loss).enumerate() {
            if before == 1 {
                assert_ne!(after, 1, "key {k} stayed on the lost node");
            } else {
                assert_eq!(after, before, "key {k} moved though its node stayed");
            }
        }

        b.candidates_changed(&all, &instances);
        let four = owners(&mut b, &all, &instances);
        for (k, (&before, &after)) in three.iter().zip(&four).enumerate() {
            assert!(
                after == before || after == 3,
                "key {k} moved from {before} to {after}, not to the new node"
            );
        }

        let shuffled = [all[2], all[0], all[1]];
        b.candidates_changed(&shuffled, &instances);
        assert_eq!(
            owners(&mut b, &shuffled, &instances),
            three,
            "the order of candidates matters"
        );
    }

    /// Smooth weighted round robin: weights 3:2 give nginx's A B A B A, every run of five
    /// picks holds three of A and two of B, and an instance that joins late takes its share
    /// from then on (no burst to catch up on picks it missed).
    #[test]
    fn weighted_round_robin_interleaves_in_proportion() {
        let (mut instances, all) = nodes(&[0, 1, 2]);
        instances[0].weight = 3;
        instances[1].weight = 2;
        instances[2].weight = 5;
        let mut b = Balancer::new(
            BalancerSpec::WeightedRoundRobin,
            LoadView::Exact,
            stream(1, 0, "t", "b"),
        );
        let two = &all[..2];
        b.candidates_changed(two, &instances);
        let picks: Vec<usize> = (0..1000)
            .map(|_| b.pick(two, &instances, 0, 0).unwrap().index())
            .collect();
        assert_eq!(&picks[..5], &[0, 1, 0, 1, 0]);
        for w in picks.chunks(5) {
            assert_eq!(w.iter().filter(|&&i| i == 0).count(), 3, "{w:?}");
        }
        b.candidates_changed(&all, &instances);
        let picks: Vec<usize> = (0..1000)
            .map(|_| b.pick(&all, &instances, 0, 0).unwrap().index())
            .collect();
        // Weights 3:2:5 over ten picks, from the first ten after the join on.
        for w in picks.chunks(10) {
            let count = |k| w.iter().filter(|&&i| i == k).count();
            assert_eq!((count(0), count(1), count(2)), (3, 2, 5), "{w:?}");
        }
    }
}
