//! Services: identical instances behind a balancer, serving a set of endpoints.

use crate::components::balancer::BalancerSpec;
use crate::components::endpoint::EndpointSpec;
use crate::components::instance::InstanceSpec;
use crate::components::lifecycle::LifecycleSpec;

/// A service as configured.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Name, unique within the model.
    pub name: String,
    /// Instances at the start.
    pub replicas: u32,
    /// The shape of every instance outside `groups`.
    pub instance: InstanceSpec,
    /// Instances of other shapes, in order: each takes the lowest ordinals after the groups
    /// before it.
    pub groups: Vec<InstanceGroup>,
    /// The balancing weight of instances outside `groups`.
    pub weight: u32,
    /// Its availability zones, if it names any: the instance of ordinal k runs in zone
    /// k mod n (as a zone-spread scheduler places replicas in turn).
    pub zones: Vec<String>,
    /// How requests are spread.
    pub balancer: BalancerSpec,
    /// The loads the balancer sees.
    pub load_view: crate::components::balancer::LoadView,
    /// Endpoints, in file order.
    pub endpoints: Vec<EndpointSpec>,
    /// Delays of starting and stopping instances.
    pub lifecycle: LifecycleSpec,
    /// Changes of replica count decided in advance (scheduled scaling), in time order.
    pub schedule: Vec<ScheduledScaling>,
    /// Faults at set times.
    pub faults: Vec<Fault>,
    /// Failures at random, if it has them.
    pub failures: Option<crate::components::health::FailureSpec>,
    /// How its balancer finds out which instances are up.
    pub health: crate::components::health::HealthSpec,
    /// Its rate limit, if any.
    pub rate_limit: Option<crate::components::protection::RateLimit>,
    /// Its instances' load shedding, if any.
    pub shedding: Option<crate::components::protection::Shedding>,
    /// Sessions kept in its instances' memory, if it keeps any.
    pub sessions: Option<crate::components::session::SessionSpec>,
    /// A policy that changes the replica count from what it observes.
    pub autoscaler: Option<crate::autoscaler::AutoscalerSpec>,
    /// How its instances are billed, if priced.
    pub cost: Option<crate::components::cost::CostSpec>,
    /// What it does with time limits: its own queue deadline, and its callers' deadlines.
    pub deadlines: DeadlineSpec,
    /// A database: a primary, read replicas, and what fails when.
    pub database: Option<crate::components::database::DatabaseSpec>,
    /// Keys split over shards (until the model copies the service per shard; the copies
    /// keep it for the record).
    pub sharding: Option<crate::components::shard::ShardingSpec>,
}

/// Instances of one shape within a service (a canary, the bigger machines of a mixed fleet).
#[derive(Debug, Clone)]
pub struct InstanceGroup {
    /// Its name in reports.
    pub name: String,
    /// Most instances it holds.
    pub instances: u32,
    /// Their shape.
    pub shape: InstanceSpec,
    /// Their balancing weight.
    pub weight: u32,
}

/// How a service treats time limits. Real servers differ: nginx, Node's http server, Go's
/// net/http and Tomcat keep a queued request however long it has waited and finish work whose
/// client has gone (defaults here); gRPC servers see the caller's deadline, drop a request
/// dequeued after it, and cancel the handler's context when the caller gives up
/// (`propagate` and `cancel_abandoned`); a server-side queue timeout is opt-in everywhere
/// (Envoy's `max_pending_requests` bounds length, not age; Finagle and Netflix's concurrency
/// limiters offer age).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeadlineSpec {
    /// A request that waited longer than this in an accept queue (or a worker pool's queue)
    /// is dropped unserved when it reaches the front: `expired`.
    pub queue_timeout: Option<crate::kernel::SimDuration>,
    /// It knows each request's deadline (its caller's remaining budget): a request that
    /// reaches the front of a queue after its deadline is `expired`, and its own calls wait at
    /// most until that deadline.
    pub propagate: bool,
    /// It stops working on a request whose caller has given up (at the request's next step;
    /// a CPU slice in progress runs to its end), and so on down its own calls.
    pub cancel_abandoned: bool,
}

/// A change decided in advance, as AWS scheduled actions or a cron job patching a Deployment:
/// at `at`, set the desired replicas, resize the instances, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledScaling {
    /// When.
    pub at: crate::kernel::SimDuration,
    /// Desired replicas from then on, if it changes them.
    pub replicas: Option<u32>,
    /// A new instance shape, if it resizes them.
    pub resize: Option<Resize>,
}

/// Vertical scaling: every instance restarts with a new shape (a VM stopped, resized and
/// booted again; a pod recreated with new requests). A restart drops what the instance held
/// (as `killed`) and takes the instance's provisioning, start-up and readiness.
#[derive(Debug, Clone, PartialEq)]
pub struct Resize {
    /// The new shape (cores, workers, memory, limits).
    pub instance: InstanceSpec,
    /// The new type and its price, when it changes.
    pub cost: Option<crate::components::cost::CostSpec>,
    /// All at once (`false`: the whole service is down for the restart), or one instance at a
    /// time, each waiting for the previous to be ready again.
    pub rolling: bool,
}

/// A fault of some of a service's instances from `start` for `lasts`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    pub start: crate::kernel::SimDuration,
    pub lasts: crate::kernel::SimDuration,
    pub kind: FaultKind,
    /// It hits the instances whose ordinal is below this (`None`: all).
    pub instances: Option<u32>,
    /// It hits only the instances of this zone: (the zone's index, the service's zone count).
    pub zone: Option<(u32, u32)>,
}

/// What a fault does to the instances it hits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// Each step that starts meanwhile takes `factor` times its time (a gray failure: the
    /// instance is up and answers, late).
    Slow { factor: f64 },
    /// The process stops making progress (a deadlock, a stuck event loop, a full disk): a
    /// CPU slice that gets a core meanwhile, and an I/O wait that starts meanwhile, end only
    /// after the hang does (plus their own time), and health probes go unanswered.
    Hang,
    /// Each request that starts being served meanwhile fails at once with probability
    /// `rate` (a bad deploy's 500s).
    Errors { rate: f64 },
    /// The process dies at `start`: what it holds fails (`crashed`), and it starts again
    /// after `lasts` (a supervisor's restart delay), taking start-up and readiness.
    Crash,
}

impl Fault {
    /// Whether it hits the instance of `ordinal` at `now`.
    #[inline]
    pub fn hits(&self, ordinal: u32, now: crate::kernel::SimTime) -> bool {
        let since = now.as_nanos();
        let start = self.start.as_nanos();
        since >= start && since < self.end_ns() && self.covers(ordinal)
    }

    /// Whether it hits the instance of `ordinal` when it does strike.
    #[inline]
    pub fn covers(&self, ordinal: u32) -> bool {
        self.instances.is_none_or(|n| ordinal < n)
            && self.zone.is_none_or(|(z, zones)| ordinal % zones == z)
    }

    /// When it ends, in nanoseconds from the start of the run.
    #[inline]
    pub fn end_ns(&self) -> u64 {
        self.start.as_nanos().saturating_add(self.lasts.as_nanos())
    }

    /// The time a step of `ns` takes on an instance this fault slows.
    #[inline]
    pub fn stretch(&self, ns: u64) -> u64 {
        match self.kind {
            FaultKind::Slow { factor } => (ns as f64 * factor).min(u64::MAX as f64 / 4.0) as u64,
            _ => ns,
        }
    }
}

impl ServiceSpec {
    /// The group the instance of `ordinal` belongs to, if any: groups fill the lowest
    /// ordinals in order. O(groups).
    pub fn group_of(&self, ordinal: u32) -> Option<u16> {
        let mut upto = 0u32;
        for (g, group) in self.groups.iter().enumerate() {
            upto = upto.saturating_add(group.instances);
            if ordinal < upto {
                return Some(g as u16);
            }
        }
        None
    }

    /// A new instance of the service numbered `ordinal`, in `phase` at `now`: in its group's
    /// shape and weight, or else in `shape` (the service's current one, which a resize may
    /// have changed) and the service's weight.
    pub fn new_instance(
        &self,
        id: crate::ids::ServiceId,
        ordinal: u32,
        shape: &InstanceSpec,
        phase: crate::components::lifecycle::Phase,
        now: crate::kernel::SimTime,
    ) -> crate::components::instance::Instance {
        let group = self.group_of(ordinal);
        let (shape, weight) = match group {
            Some(g) => (
                &self.groups[g as usize].shape,
                self.groups[g as usize].weight,
            ),
            None => (shape, self.weight),
        };
        let mut inst = crate::components::instance::Instance::new(id, shape, phase, now);
        inst.ordinal = ordinal;
        inst.group = group;
        inst.weight = weight;
        inst.bucket = self
            .rate_limit
            .filter(|r| r.per_instance)
            .map(|r| crate::components::protection::TokenBucket::full(&r));
        inst
    }

    /// Offered CPU seconds per visit of `endpoint` (its own steps, not its callees'), where
    /// every step's mean is finite.
    pub fn mean_cpu_s(&self, endpoint: usize) -> Option<f64> {
        crate::model::graph::mean_cpu_s(&self.endpoints[endpoint].steps)
    }
}
