//! The call graph as expectations: how many times, on average, one visit of an endpoint calls
//! (or enqueues to) each other endpoint. From it: whether a cycle of calls ends (its expected
//! calls per visit, the spectral radius of the cycle's matrix, must be below 1), and how many
//! visits of every endpoint one entry request makes (`v = e + v M`), which turn per-visit CPU
//! into the load a workload offers each service.

use crate::components::endpoint::Step;
use crate::components::service::ServiceSpec;
use crate::ids::EndpointRef;

/// Expected calls between endpoints per visit, sparse by caller.
#[derive(Debug, Clone)]
pub struct CallRates {
    /// First flat index of each service's endpoints.
    offsets: Vec<usize>,
    /// Per caller (flat index): (callee flat index, expected calls per visit).
    out: Vec<Vec<(usize, f64)>>,
}

/// A cycle whose calls never end on average.
#[derive(Debug, Clone, PartialEq)]
pub struct EndlessCycle {
    /// The endpoints around one cycle, as (service, endpoint), starting and ending at the same.
    pub path: Vec<EndpointRef>,
    /// Its expected calls per visit (the spectral radius): 1 or more.
    pub radius: f64,
}

impl CallRates {
    /// The rates of `services`' programs.
    pub fn new(services: &[ServiceSpec]) -> CallRates {
        let mut offsets = Vec::with_capacity(services.len());
        let mut n = 0;
        for s in services {
            offsets.push(n);
            n += s.endpoints.len();
        }
        let mut out = vec![Vec::new(); n];
        for (s, svc) in services.iter().enumerate() {
            for (e, ep) in svc.endpoints.iter().enumerate() {
                let mut calls: Vec<(usize, f64)> = Vec::new();
                collect(&ep.steps, 1.0, &offsets, &mut calls);
                calls.sort_by_key(|c| c.0);
                calls.dedup_by(|b, a| {
                    if a.0 == b.0 {
                        a.1 += b.1;
                        true
                    } else {
                        false
                    }
                });
                out[offsets[s] + e] = calls;
            }
        }
        CallRates { offsets, out }
    }

    fn flat(&self, r: EndpointRef) -> usize {
        self.offsets[r.service as usize] + r.endpoint as usize
    }

    fn unflat(&self, i: usize) -> EndpointRef {
        let s = self.offsets.partition_point(|&o| o <= i) - 1;
        EndpointRef {
            service: s as u32,
            endpoint: (i - self.offsets[s]) as u32,
        }
    }

    /// The first cycle (in endpoint order) whose expected calls per visit reach 1, if any.
    pub fn endless_cycle(&self) -> Option<EndlessCycle> {
        for component in self.cycles() {
            let radius = self.spectral_radius(&component);
            if radius >= 1.0 - 1e-9 {
                return Some(EndlessCycle {
                    path: self.cycle_path(&component),
                    radius,
                });
            }
        }
        None
    }

    /// Expected visits of every endpoint, by service then endpoint, per request entering at
    /// `entry`. Only meaningful when no cycle is endless.
    pub fn visits(&self, entry: EndpointRef) -> Vec<Vec<f64>> {
        let n = self.out.len();
        let mut v = vec![0.0; n];
        let mut frontier = vec![0.0; n];
        frontier[self.flat(entry)] = 1.0;
        // The series e + eM + eM^2 + ...: each term is the visits one more call deep.
        for _ in 0..100_000 {
            let mut next = vec![0.0; n];
            let mut mass = 0.0;
            for (i, &f) in frontier.iter().enumerate() {
                if f == 0.0 {
                    continue;
                }
                v[i] += f;
                for &(j, rate) in &self.out[i] {
                    next[j] += f * rate;
                    mass += f * rate;
                }
            }
            frontier = next;
            if mass < 1e-12 {
                break;
            }
        }
        let mut by_service = Vec::with_capacity(self.offsets.len());
        for (s, &start) in self.offsets.iter().enumerate() {
            let end = self.offsets.get(s + 1).copied().unwrap_or(n);
            by_service.push(v[start..end].to_vec());
        }
        by_service
    }

    /// Strongly connected components that contain a cycle (Tarjan's algorithm, iterative).
    fn cycles(&self) -> Vec<Vec<usize>> {
        let n = self.out.len();
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut next_index = 0;
        let mut found = Vec::new();
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            // (node, next edge to look at)
            let mut work = vec![(root, 0usize)];
            index[root] = next_index;
            low[root] = next_index;
            next_index += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(&(v, k)) = work.last() {
                if let Some(&(w, _)) = self.out[v].get(k) {
                    if let Some(top) = work.last_mut() {
                        top.1 += 1;
                    }
                    if index[w] == usize::MAX {
                        index[w] = next_index;
                        low[w] = next_index;
                        next_index += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    loop {
                        let w = stack.pop().expect("v is on the stack");
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    let self_loop = self.out[v].iter().any(|&(w, _)| w == v);
                    if component.len() > 1 || self_loop {
                        component.sort_unstable();
                        found.push(component);
                    }
                }
            }
        }
        found.sort();
        found
    }

    /// The Perron root of the component's matrix, by power iteration on I + M (primitive, so
    /// the iteration converges even for a periodic cycle).
    fn spectral_radius(&self, component: &[usize]) -> f64 {
        let pos = |i: usize| component.binary_search(&i).ok();
        let mut x = vec![1.0 / component.len() as f64; component.len()];
        let mut radius = 0.0;
        for _ in 0..10_000 {
            let mut y = x.clone();
            for (a, &i) in component.iter().enumerate() {
                for &(j, rate) in &self.out[i] {
                    if let Some(b) = pos(j) {
                        y[b] += x[a] * rate;
                    }
                }
            }
            let norm: f64 = y.iter().sum();
            let next = norm / x.iter().sum::<f64>() - 1.0;
            for v in &mut y {
                *v /= norm;
            }
            x = y;
            if (next - radius).abs() < 1e-12 {
                return next;
            }
            radius = next;
        }
        radius
    }

    /// One cycle through the component's first endpoint, by breadth-first search.
    fn cycle_path(&self, component: &[usize]) -> Vec<EndpointRef> {
        let start = component[0];
        let inside = |i: usize| component.binary_search(&i).is_ok();
        let mut previous = vec![usize::MAX; self.out.len()];
        let mut queue = std::collections::VecDeque::from([start]);
        let mut back = None;
        while let Some(v) = queue.pop_front() {
            for &(w, _) in &self.out[v] {
                if w == start {
                    back = Some(v);
                    break;
                }
                if inside(w) && previous[w] == usize::MAX {
                    previous[w] = v;
                    queue.push_back(w);
                }
            }
            if back.is_some() {
                break;
            }
        }
        let mut path = vec![start];
        let mut v = back.unwrap_or(start);
        while v != start {
            path.push(v);
            v = previous[v];
        }
        path.push(start);
        let last = path.len() - 1;
        path[1..last].reverse();
        path.into_iter().map(|i| self.unflat(i)).collect()
    }
}

/// Adds the expected calls of `steps`, each run with probability `weight`.
fn collect(steps: &[Step], weight: f64, offsets: &[usize], calls: &mut Vec<(usize, f64)>) {
    for step in steps {
        match step {
            Step::Call(c) => calls.push((flat(offsets, c.target), weight)),
            Step::Enqueue(q) => calls.push((flat(offsets, q.target), weight)),
            Step::Parallel(p) => {
                for b in &p.branches {
                    collect(b, weight, offsets, calls);
                }
            }
            Step::Branch(arms) => {
                for a in arms {
                    collect(&a.steps, weight * a.p, offsets, calls);
                }
            }
            // A miss's work runs at most once per lookup: counted as if every lookup missed
            // (the hit ratio emerges in the run), so a cycle refused here is endless at worst.
            Step::CacheGet(g) => collect(&g.miss, weight, offsets, calls),
            Step::Cpu(_)
            | Step::Block(_)
            | Step::Io(_)
            | Step::CacheSet(_)
            | Step::Invalidate(_)
            | Step::CacheProbe(_)
            | Step::Fail(_) => {}
        }
    }
}

fn flat(offsets: &[usize], r: EndpointRef) -> usize {
    offsets[r.service as usize] + r.endpoint as usize
}

/// Mean CPU seconds of one visit of an endpoint's own steps (branches weighted by their
/// probability, every fan-out branch counted, every cache lookup a miss), where every mean
/// is finite.
pub fn mean_cpu_s(steps: &[Step]) -> Option<f64> {
    steps.iter().try_fold(0.0, |acc, s| {
        Some(
            acc + match s {
                Step::Cpu(d) | Step::Block(d) => d.mean()?,
                Step::Io(_)
                | Step::Call(_)
                | Step::Enqueue(_)
                | Step::CacheSet(_)
                | Step::Invalidate(_)
                | Step::CacheProbe(_)
                | Step::Fail(_) => 0.0,
                // As if every lookup missed: an upper bound (the hit ratio emerges in the run).
                Step::CacheGet(g) => mean_cpu_s(&g.miss)?,
                Step::Parallel(p) => p
                    .branches
                    .iter()
                    .try_fold(0.0, |a, b| mean_cpu_s(b).map(|m| a + m))?,
                Step::Branch(arms) => arms
                    .iter()
                    .try_fold(0.0, |a, arm| mean_cpu_s(&arm.steps).map(|m| a + arm.p * m))?,
            },
        )
    })
}
