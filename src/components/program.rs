//! An endpoint's steps compiled once into a flat program of ops, which a run interprets with
//! one `match` per op at a span's program counter. Nested steps become jumps: a fan-out is a
//! `Fork` naming each branch's first op (each branch ends in `EndBranch`), a random branch is
//! a `Pick` naming each arm's first op (each arm ends in a `Jump` past the others).
//!
//! Every op that draws carries a `key` derived from its service, endpoint and position in the
//! file, and a span draws from (its seed, the op's key): adding a call or a branch to one
//! endpoint shifts no draw of any other op, so variants keep common random numbers.

use crate::components::endpoint::{EndpointSpec, Leftovers, OnError, Step};
use crate::distribution::Dist;
use crate::ids::{CacheId, EdgeId, EndpointRef};
use crate::kernel::SimDuration;

/// Deepest nesting of `parallel` and `branch` steps inside one another.
pub const MAX_NESTING: usize = 16;
/// Most ops one endpoint compiles to.
pub const MAX_OPS: usize = 100_000;

/// One instruction of an endpoint's program.
#[derive(Debug, Clone)]
pub enum Op {
    /// Compute on a core (time-sliced under a CPU quantum).
    Cpu { work: Dist, key: u64 },
    /// Compute that holds its core until done.
    Block { work: Dist, key: u64 },
    /// A wait that holds no core.
    Io { wait: Dist, key: u64 },
    /// A synchronous call.
    Call(Box<CallOp>),
    /// A message to a worker pool; the span goes on at once.
    Enqueue(Box<EnqueueOp>),
    /// Start every branch; wait at this op until the join is satisfied, then go to `next`.
    Fork(Box<ForkOp>),
    /// Go to one arm at random: the first whose cumulative probability exceeds the draw.
    Pick { arms: Box<[(f64, u32)]>, key: u64 },
    /// Go to `to`.
    Jump { to: u32 },
    /// Look the span's key up in a cache: a hit goes to `hit` (past the miss's steps), a
    /// miss to the next op.
    CacheGet { cache: CacheId, hit: u32 },
    /// A miss's steps are done: store the key (if `store`) and wake the lookups that waited
    /// for this fill.
    CacheFill { cache: CacheId, store: bool },
    /// Store the span's key; a write-behind cache also marks it to be written, by a message
    /// on edge `flush`, later.
    CacheSet {
        cache: CacheId,
        flush: Option<EdgeId>,
    },
    /// Drop the span's key.
    Invalidate { cache: CacheId },
    /// A node cache's lookup, on the node: look the key up in this instance's store and
    /// answer hit or miss to the caller.
    CacheProbe { cache: CacheId },
    /// A node cache's lookup, on the caller, after the call to the node: a hit goes to `hit`
    /// (past the miss's steps), a miss or a failed call to the next op.
    CacheAnswer { hit: u32 },
    /// Fail the span with probability `p` (drawn with its seed and `key`), else go on.
    Fail { p: f64, key: u64 },
    /// A fan-out branch is done.
    EndBranch,
    /// The endpoint's answer is ready.
    Return,
}

/// A compiled call.
#[derive(Debug, Clone)]
pub struct CallOp {
    /// The edge its outcomes are counted on.
    pub edge: EdgeId,
    /// The callee.
    pub target: EndpointRef,
    /// How long the caller waits.
    pub timeout: Option<SimDuration>,
    /// Network latency each way.
    pub latency: Option<Dist>,
    /// What a failure does to the caller.
    pub on_error: OnError,
    /// A sharded callee's group: the request's key picks the shard.
    pub shards: Option<u32>,
    /// The pool the call holds a connection of while it runs.
    pub pool: Option<crate::ids::PoolId>,
    /// Tries again after a failure.
    pub retry: Option<crate::components::endpoint::Retry>,
    /// Fails at once while open.
    pub breaker: Option<crate::components::endpoint::Breaker>,
    /// Draw key: the callee's seed and the latency draws.
    pub key: u64,
}

/// A compiled enqueue.
#[derive(Debug, Clone)]
pub struct EnqueueOp {
    /// The edge the message is counted on.
    pub edge: EdgeId,
    /// The worker pool's endpoint.
    pub target: EndpointRef,
    /// Delay to the queue.
    pub latency: Option<Dist>,
    /// Draw key: the job's seed and the latency draw.
    pub key: u64,
}

/// A compiled fan-out.
#[derive(Debug, Clone)]
pub struct ForkOp {
    /// Each branch's first op.
    pub branches: Box<[u32]>,
    /// Branch successes that satisfy the join.
    pub needed: u32,
    /// What happens to branches not waited for.
    pub leftovers: Leftovers,
    /// Where the span goes on.
    pub next: u32,
    /// Draw key: the branches' seeds.
    pub key: u64,
}

/// Whether a call or an enqueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// A synchronous call.
    Call,
    /// A message to a worker pool.
    Enqueue,
}

/// An edge of the call graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The calling endpoint.
    pub caller: EndpointRef,
    /// The called endpoint.
    pub callee: EndpointRef,
    /// Call or enqueue.
    pub kind: EdgeKind,
    /// "caller.endpoint -> callee.endpoint" (enqueue: "=>"), its key in reports.
    pub name: String,
}

/// Every endpoint's program, one after another in one array, jumps and branch entries
/// already absolute: a span's program counter indexes it directly.
#[derive(Debug, Clone, Default)]
pub struct Code {
    /// The ops of every program.
    pub ops: Vec<Op>,
    /// Where each endpoint's program starts, by service then endpoint.
    pub entries: Vec<Vec<u32>>,
}

impl Code {
    /// The op at `pc`.
    #[inline]
    pub fn op(&self, pc: u32) -> &Op {
        &self.ops[pc as usize]
    }

    /// The first op of `r`'s program.
    #[inline]
    pub fn entry(&self, r: EndpointRef) -> u32 {
        self.entries[r.service as usize][r.endpoint as usize]
    }
}

/// Compiles every endpoint of every service; edges are numbered in the order the programs
/// first name them. (The op count fits a `u32`: each op is at least a few bytes of an input
/// file whose size is capped far below 4 GiB.)
pub fn compile_all(
    services: &[crate::components::service::ServiceSpec],
    caches: &[crate::components::cache::CacheTierSpec],
) -> (Code, Vec<Edge>) {
    let mut edges = Vec::new();
    let mut ops = Vec::new();
    let mut entries = Vec::with_capacity(services.len());
    for (s, svc) in services.iter().enumerate() {
        let mut starts = Vec::with_capacity(svc.endpoints.len());
        for (e, ep) in svc.endpoints.iter().enumerate() {
            starts.push(ops.len() as u32);
            let mut c = Compiler {
                ops: &mut ops,
                edges: &mut edges,
                services,
                caches,
                caller: EndpointRef {
                    service: s as u32,
                    endpoint: e as u32,
                },
                prefix: format!("{}.{}", svc.name, ep.name),
            };
            c.emit(&ep.steps, "steps");
            c.ops.push(Op::Return);
        }
        entries.push(starts);
    }
    (Code { ops, entries }, edges)
}

/// The ops an endpoint compiles to, without building them (for the size limit).
pub fn op_count(ep: &EndpointSpec) -> usize {
    fn count(steps: &[Step]) -> usize {
        steps
            .iter()
            .map(|s| match s {
                Step::Parallel(p) => 1 + p.branches.iter().map(|b| count(b) + 1).sum::<usize>(),
                Step::Branch(arms) => 1 + arms.iter().map(|a| count(&a.steps) + 1).sum::<usize>(),
                Step::CacheGet(g) => 2 + count(&g.miss),
                _ => 1,
            })
            .sum()
    }
    count(&ep.steps) + 1
}

struct Compiler<'a> {
    /// Every program so far: targets are positions in it.
    ops: &'a mut Vec<Op>,
    edges: &'a mut Vec<Edge>,
    services: &'a [crate::components::service::ServiceSpec],
    caches: &'a [crate::components::cache::CacheTierSpec],
    caller: EndpointRef,
    /// "service.endpoint", the first part of every key.
    prefix: String,
}

impl Compiler<'_> {
    fn key(&self, path: &str) -> u64 {
        crate::kernel::stream_seed(0, 0, &self.prefix, path)
    }

    /// The edge to `callee` (named `service` instead of its own name: a sharded callee is
    /// named by its group).
    fn edge(&mut self, callee: EndpointRef, kind: EdgeKind, service: Option<&str>) -> EdgeId {
        if let Some(i) = self
            .edges
            .iter()
            .position(|e| e.caller == self.caller && e.callee == callee && e.kind == kind)
        {
            return EdgeId(i as u32);
        }
        let name_of = |r: EndpointRef| {
            let s = &self.services[r.service as usize];
            format!("{}.{}", s.name, s.endpoints[r.endpoint as usize].name)
        };
        let arrow = match kind {
            EdgeKind::Call => "->",
            EdgeKind::Enqueue => "=>",
        };
        let to = match service {
            Some(group) => format!(
                "{group}.{}",
                self.services[callee.service as usize].endpoints[callee.endpoint as usize].name
            ),
            None => name_of(callee),
        };
        let name = format!("{} {arrow} {to}", name_of(self.caller));
        self.edges.push(Edge {
            caller: self.caller,
            callee,
            kind,
            name,
        });
        EdgeId((self.edges.len() - 1) as u32)
    }

    fn emit(&mut self, steps: &[Step], path: &str) {
        for (k, step) in steps.iter().enumerate() {
            let at = format!("{path}[{k}]");
            match step {
                Step::Cpu(d) => {
                    let key = self.key(&at);
                    self.ops.push(Op::Cpu {
                        work: d.clone(),
                        key,
                    });
                }
                Step::Block(d) => {
                    let key = self.key(&at);
                    self.ops.push(Op::Block {
                        work: d.clone(),
                        key,
                    });
                }
                Step::Io(d) => {
                    let key = self.key(&at);
                    self.ops.push(Op::Io {
                        wait: d.clone(),
                        key,
                    });
                }
                Step::Call(c) => {
                    let callee = c.shards.map(|_| c.service_name.as_str());
                    let edge = self.edge(c.target, EdgeKind::Call, callee);
                    let key = self.key(&at);
                    self.ops.push(Op::Call(Box::new(CallOp {
                        edge,
                        target: c.target,
                        timeout: c.timeout,
                        latency: c.latency.clone(),
                        on_error: c.on_error,
                        shards: c.shards,
                        pool: c.pool,
                        retry: c.retry,
                        breaker: c.breaker,
                        key,
                    })));
                }
                Step::Enqueue(q) => {
                    let edge = self.edge(q.target, EdgeKind::Enqueue, None);
                    let key = self.key(&at);
                    self.ops.push(Op::Enqueue(Box::new(EnqueueOp {
                        edge,
                        target: q.target,
                        latency: q.latency.clone(),
                        key,
                    })));
                }
                Step::CacheGet(g) if g.answered_by_call => {
                    let answer = self.ops.len();
                    self.ops.push(Op::Jump { to: 0 }); // replaced below
                    self.emit(&g.miss, &format!("{at}.cache_get.miss"));
                    self.ops[answer] = Op::CacheAnswer {
                        hit: self.ops.len() as u32,
                    };
                }
                Step::CacheGet(g) => {
                    let get = self.ops.len();
                    self.ops.push(Op::Jump { to: 0 }); // replaced below
                    self.emit(&g.miss, &format!("{at}.cache_get.miss"));
                    let cache = g.cache.cache;
                    self.ops.push(Op::CacheFill {
                        cache,
                        store: g.fill,
                    });
                    self.ops[get] = Op::CacheGet {
                        cache,
                        hit: self.ops.len() as u32,
                    };
                }
                Step::CacheSet(c) => {
                    let behind = self.caches[c.cache.index()].write_behind.as_ref();
                    let flush = behind.map(|w| self.edge(w.target, EdgeKind::Enqueue, None));
                    self.ops.push(Op::CacheSet {
                        cache: c.cache,
                        flush,
                    });
                }
                Step::Invalidate(c) => self.ops.push(Op::Invalidate { cache: c.cache }),
                Step::CacheProbe(c) => self.ops.push(Op::CacheProbe { cache: c.cache }),
                Step::Fail(p) => {
                    let key = self.key(&at);
                    self.ops.push(Op::Fail { p: *p, key });
                }
                Step::Parallel(p) => {
                    let fork = self.ops.len();
                    self.ops.push(Op::Jump { to: 0 }); // replaced below
                    let mut entries = Vec::with_capacity(p.branches.len());
                    for (b, branch) in p.branches.iter().enumerate() {
                        entries.push(self.ops.len() as u32);
                        self.emit(branch, &format!("{at}.parallel[{b}]"));
                        self.ops.push(Op::EndBranch);
                    }
                    let key = self.key(&at);
                    self.ops[fork] = Op::Fork(Box::new(ForkOp {
                        branches: entries.into_boxed_slice(),
                        needed: p.needed(),
                        leftovers: p.leftovers,
                        next: self.ops.len() as u32,
                        key,
                    }));
                }
                Step::Branch(arms) => {
                    let pick = self.ops.len();
                    self.ops.push(Op::Jump { to: 0 }); // replaced below
                    let mut table = Vec::with_capacity(arms.len());
                    let mut jumps = Vec::with_capacity(arms.len());
                    let mut cumulative = 0.0;
                    for (a, arm) in arms.iter().enumerate() {
                        cumulative += arm.p;
                        table.push((cumulative, self.ops.len() as u32));
                        self.emit(&arm.steps, &format!("{at}.branch[{a}].steps"));
                        jumps.push(self.ops.len());
                        self.ops.push(Op::Jump { to: 0 });
                    }
                    // Rounding must never leave a draw past the last arm.
                    if let Some(last) = table.last_mut() {
                        last.0 = f64::INFINITY;
                    }
                    let end = self.ops.len() as u32;
                    for j in jumps {
                        self.ops[j] = Op::Jump { to: end };
                    }
                    let key = self.key(&at);
                    self.ops[pick] = Op::Pick {
                        arms: table.into_boxed_slice(),
                        key,
                    };
                }
            }
        }
    }
}
