//! What a run measures: the summary after warm-up, one time-series row per bucket, and SLO
//! windows. Bucket and window edges are crossed lazily, when the first event at or after an
//! edge arrives, so measuring costs no events of its own.

use super::RunOutput;
use super::instances::InstanceArena;
use super::service::ServiceState;
use super::span::{ANSWERED, ARRIVED, COUNTED, EDGE_DONE, SpanArena, SpanKind, SpanState};
use crate::components::cache::{CacheScope, Eviction, Lookup};
use crate::components::instance::{Instance, Runtime};
use crate::components::lifecycle::Phase;
use crate::experiment::{Experiment, Slo};
use crate::ids::{CacheId, EdgeId, EndpointRef};
use crate::kernel::{SimDuration, SimTime};
use crate::metrics::batch_means::{BatchMeansSummary, Batches};
use crate::metrics::cache::{CacheCounts, CacheSummary, WriteBehindSummary};
use crate::metrics::timeseries::{ServiceBucket, TimeSeriesRow};
use crate::metrics::{LatencyHistogram, LatencySummary, Outcome, OutcomeCounts, TimeAverage};
use crate::model::Model;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The figures of one run, after warm-up. Part of the report contract (see README).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunSummary {
    /// Simulated seconds the summary covers (duration minus warm-up).
    pub measured_s: f64,
    /// Requests sent after warm-up.
    pub arrivals: u64,
    /// How those requests ended, by cause.
    pub outcomes: IndexMap<String, u64>,
    /// Requests in flight when measurement began (sent during warm-up, not yet answered).
    pub in_flight_at_start: u64,
    /// Requests sent after warm-up and still unanswered when the run stopped.
    pub in_flight_at_end: u64,
    /// Requests answered successfully.
    pub completed: u64,
    /// Errors over ended requests.
    pub error_rate: f64,
    /// Each error cause over ended requests.
    pub error_rates: IndexMap<String, f64>,
    /// Successful responses per second.
    pub throughput_rps: f64,
    /// Latency of successful responses, seconds.
    pub latency_s: LatencySummary,
    /// Mean time from send to outcome over all ended requests (errors included), seconds.
    pub mean_response_s: f64,
    /// Arrivals per second.
    pub arrival_rate_rps: f64,
    /// Time-averaged requests in flight; Little's law says it equals
    /// arrival_rate_rps x mean_response_s.
    pub mean_in_flight: f64,
    /// Per endpoint, keyed `service.endpoint`.
    pub endpoints: IndexMap<String, EndpointSummary>,
    /// Per service.
    pub services: IndexMap<String, ServiceSummary>,
    /// The SLO verdict, if the experiment has one.
    pub slo: Option<SloSummary>,
    /// The bill of the priced services over the measured window, USD (absent if none is priced).
    pub cost_usd: Option<f64>,
    /// That bill per million successful requests, USD.
    pub cost_per_million_ok_usd: Option<f64>,
    /// Batch-means intervals of this run (only when the experiment asks for them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_means: Option<BatchMeansSummary>,
    /// Every change of desired replicas, in time order (whole run).
    pub scaling_actions: Vec<ScalingAction>,
    /// Events the kernel processed (whole run).
    pub events: u64,
    /// Most spans (requests at a service, calls, branches) held in memory at once (whole run).
    pub peak_requests_in_memory: u64,
    /// Each edge of the call graph ("caller.endpoint -> callee.endpoint", "=>" for a message
    /// to a worker pool): its calls after warm-up and how each ended.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub calls: IndexMap<String, CallSummary>,
    /// Requests that failed because a dependency did, by the edge where the failure began.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub dependency_failures: IndexMap<String, u64>,
    /// Each cache of the model: lookups after warm-up, hits, misses and what the stores did.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub caches: IndexMap<String, CacheSummary>,
    /// Each database (by its service's name): writes, where reads went, stale reads,
    /// replication lag and failovers.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub databases: IndexMap<String, crate::metrics::database::DatabaseSummary>,
    /// Each sharded service (by its name in the file): queries per shard, the hottest
    /// shard's share, and its resharding.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub shards: IndexMap<String, crate::metrics::shard::ShardingSummary>,
    /// Each connection pool: connections taken, waits, timeouts, refusals.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub pools: IndexMap<String, crate::metrics::pool::PoolSummary>,
}

/// One edge's figures. Every call ends in exactly one outcome or is in flight at the end:
/// `calls` = the sum of `outcomes` + `in_flight_at_end`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallSummary {
    /// Calls made (messages sent) after warm-up, retries included.
    pub calls: u64,
    /// Of those, retries of a failed call.
    #[serde(default)]
    pub retries: u64,
    /// Retries not made: the edge's retry throttle had half its tokens or fewer.
    #[serde(default)]
    pub retries_throttled: u64,
    /// Calls its open circuit breaker failed at once (never sent: not in `calls`).
    #[serde(default)]
    pub short_circuited: u64,
    /// Times its breaker opened.
    #[serde(default)]
    pub breaker_opens: u64,
    /// How they ended, as the caller saw it (`timed_out`: the caller stopped waiting;
    /// `cancelled`: the caller's own request ended first).
    pub outcomes: IndexMap<String, u64>,
    /// Calls still unanswered when the run stopped.
    pub in_flight_at_end: u64,
    /// Latency of the successful calls, as the caller saw it (network both ways included).
    /// Per-hop histograms keep two significant digits.
    pub latency_s: LatencySummary,
}

/// One endpoint's figures as its service saw them: every request that reached it, calls
/// and jobs included. `arrivals` = the sum of `outcomes` + `in_flight_at_end`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServedSummary {
    /// Requests that reached the service for it after warm-up.
    pub arrivals: u64,
    /// How the service ended them.
    pub outcomes: IndexMap<String, u64>,
    /// Still in the service when the run stopped.
    pub in_flight_at_end: u64,
    /// Server-side latency of the successful ones: from reaching the service to its answer
    /// (three significant digits, as the client's).
    pub latency_s: LatencySummary,
    /// Fan-out branches a satisfied join left running in the background.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub branches_left_running: u64,
    /// Fan-out branches a join cancelled.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub branches_cancelled: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One endpoint's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EndpointSummary {
    /// Requests sent to it.
    pub arrivals: u64,
    /// How they ended.
    pub outcomes: IndexMap<String, u64>,
    /// Latency of its successful responses.
    pub latency_s: LatencySummary,
}

/// A change of a service's desired replica count.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScalingAction {
    /// When, seconds from the start.
    pub t_s: f64,
    /// Which service.
    pub service: String,
    /// Desired replicas before.
    pub from: u32,
    /// Desired replicas after.
    pub to: u32,
    /// Why, in words.
    pub reason: String,
}

/// One service's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceSummary {
    /// Instances serving at the end.
    pub instances: u32,
    /// Replicas asked for at the end.
    pub desired_replicas: u32,
    /// Most instances serving at once (after warm-up).
    pub peak_instances: u32,
    /// Instances that existed during the run, initial ones included.
    pub instances_started: u32,
    /// Changes of desired replicas (whole run).
    pub scaling_actions: u64,
    /// Instances killed for going over their memory limit (whole run; each restarts).
    pub oom_kills: u64,
    /// Spot instances the cloud took back (whole run).
    pub spot_interruptions: u64,
    /// Instances that failed at random, by the service's MTBF (whole run).
    #[serde(default)]
    pub failures: u64,
    /// Instance-hours within the measured window, from the request for an instance until it
    /// stopped (provisioning is billed, as clouds bill it).
    pub instance_hours: f64,
    /// The bill for the measured window, if the service is priced.
    pub cost: Option<ServiceCost>,
    /// Cores per instance.
    pub cores_per_instance: u32,
    /// How its instances run CPU work, `thread_pool` or `event_loop`, so that a summary shows
    /// event-loop lag only where there is an event loop (absent in reports from before it was
    /// recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Busy core-time over serving (ready or draining) core-time.
    pub cpu_utilisation: f64,
    /// Busy core-time over the measured window: the CPU seconds per second the service
    /// spends, over all its instances (a database's "busy time per second").
    #[serde(default)]
    pub busy_cores: f64,
    /// Time-averaged requests waiting (for admission or a core), summed over instances.
    pub mean_queue_length: f64,
    /// Longest queue any one instance had.
    pub peak_queue_length: u64,
    /// Fraction of CPU segments that had to wait for a core (Erlang C's P(wait) for M/M/c).
    pub cpu_wait_probability: f64,
    /// Mean wait of a CPU segment for a core, seconds.
    pub mean_cpu_wait_s: f64,
    /// Longest wait of a CPU segment for a core (event-loop lag), seconds.
    pub peak_event_loop_lag_s: f64,
    /// Each endpoint as the service saw it.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub endpoints: IndexMap<String, ServedSummary>,
    /// What its requests found of their sessions, when it keeps them in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<super::SessionSummary>,
    /// What its health checks did (whole run), when it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<super::HealthSummary>,
    /// Per zone, when the service names zones.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub zones: IndexMap<String, super::groups::ZoneSummary>,
    /// Per instance group (and `rest`, the instances in none), when the service has groups.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub groups: IndexMap<String, super::groups::GroupSummary>,
    /// Per instance, in creation order.
    pub per_instance: Vec<InstanceSummary>,
}

/// A service's bill over the measured window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceCost {
    /// Instance type.
    pub instance_type: String,
    /// Reserved instances, paid for the whole window.
    pub reserved: u32,
    /// USD.
    pub usd: f64,
    /// USD per hour on average.
    pub usd_per_hour: f64,
}

/// One instance's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceSummary {
    /// When it was asked for, seconds.
    pub created_s: f64,
    /// When it stopped, if it did.
    pub stopped_s: Option<f64>,
    /// Busy core-time over available core-time.
    pub cpu_utilisation: f64,
    /// Time-averaged requests waiting.
    pub mean_queue_length: f64,
    /// Longest queue.
    pub peak_queue_length: u64,
    /// Longest wait for a core, seconds.
    pub peak_event_loop_lag_s: f64,
    /// Requests routed to it within the measured window (admitted, queued or refused).
    #[serde(default)]
    pub routed: u64,
    /// Its instance group, if it is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Its zone, if the service names zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// The SLO verdict.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SloSummary {
    /// Which latency quantile the target is for.
    pub quantile: f64,
    /// Latency target, seconds.
    pub latency_target_s: Option<f64>,
    /// Observed latency at that quantile over the whole measured period, seconds.
    pub latency_observed_s: f64,
    /// Error-rate target.
    pub error_rate_target: Option<f64>,
    /// Observed error rate.
    pub error_rate_observed: f64,
    /// Whether the whole measured period meets every target.
    pub met: bool,
    /// Window length, seconds.
    pub window_s: f64,
    /// Windows judged.
    pub windows: u64,
    /// Windows that missed a target.
    pub windows_violated: u64,
    /// Minutes in violating windows.
    pub violation_minutes: f64,
}

/// An endpoint's figures at its service.
#[derive(Debug, Clone)]
struct ServedStats {
    arrivals: u64,
    outcomes: OutcomeCounts,
    latency: LatencyHistogram,
    left_running: u64,
    cancelled: u64,
}

/// An edge's figures.
#[derive(Debug, Clone)]
struct EdgeStats {
    calls: u64,
    /// Calls that were a retry of a failed one.
    retries: u64,
    /// Retries not made because the edge's throttle was below half.
    throttled: u64,
    /// Calls failed at once by the edge's open breaker, and the times it opened.
    short_circuited: u64,
    breaker_opens: u64,
    outcomes: OutcomeCounts,
    latency: LatencyHistogram,
    /// Logical requests whose failure began at this edge.
    caused: u64,
}

/// What a call edge's retries or breaker did, for [`Observer::edge_event`].
#[derive(Debug, Clone, Copy)]
pub(super) enum EdgeEvent {
    /// A failed call is tried again.
    Retry,
    /// A retry is not made: the edge's throttle is at half or below.
    RetryThrottled,
    /// A call fails at once: the edge's breaker is open.
    ShortCircuited,
    /// The edge's breaker opened.
    BreakerOpened,
}

/// What is still in flight when the run stops, counted from the spans themselves (not
/// from the counters), so conservation checks compare two independent tallies.
#[derive(Debug, Clone)]
pub(super) struct InFlight {
    roots: u64,
    served: Vec<Vec<u64>>,
    edges: Vec<u64>,
}

impl InFlight {
    pub(super) fn count(spans: &SpanArena, model: &Model) -> InFlight {
        let mut f = InFlight {
            roots: 0,
            served: model
                .services
                .iter()
                .map(|s| vec![0; s.endpoints.len()])
                .collect(),
            edges: vec![0; model.edges.len()],
        };
        for sp in spans.iter_live().filter(|sp| sp.has(COUNTED)) {
            if sp.kind == SpanKind::Root && !sp.has(ANSWERED) {
                f.roots += 1;
            }
            if matches!(sp.kind, SpanKind::Call | SpanKind::Job) && !sp.has(EDGE_DONE) {
                f.edges[sp.edge_or_client as usize] += 1;
            }
            if sp.kind.is_served() && sp.has(ARRIVED) && sp.state != SpanState::Finished {
                f.served[sp.service as usize][sp.endpoint as usize] += 1;
            }
        }
        f
    }
}

#[derive(Debug, Clone)]
struct EndpointStats {
    arrivals: u64,
    outcomes: OutcomeCounts,
    latency: LatencyHistogram,
}

/// Counts over a span (a bucket or an SLO window).
#[derive(Debug, Clone)]
struct SpanStats {
    arrivals: u64,
    outcomes: OutcomeCounts,
    ok_latency: LatencyHistogram,
}

impl SpanStats {
    fn new() -> Self {
        SpanStats {
            arrivals: 0,
            outcomes: OutcomeCounts::default(),
            ok_latency: LatencyHistogram::coarse(),
        }
    }
    fn clear(&mut self) {
        self.arrivals = 0;
        self.outcomes = OutcomeCounts::default();
        self.ok_latency.clear();
    }
}

pub(super) struct Observer {
    resolution: SimDuration,
    warmup_end: SimTime,
    warm: bool,
    next_mark: SimTime,
    bucket_start: SimTime,
    window_start: SimTime,
    slo: Option<Slo>,
    // After warm-up.
    arrivals: u64,
    outcomes: OutcomeCounts,
    response_ns: u128,
    endpoints: Vec<Vec<EndpointStats>>,
    served: Vec<Vec<ServedStats>>,
    edges: Vec<EdgeStats>,
    in_flight: TimeAverage,
    in_flight_at_start: u64,
    // Current bucket and SLO window.
    bucket: SpanStats,
    /// Arrivals in the current bucket by service, in model order (sized once, so counting
    /// an arrival does not allocate).
    bucket_service_arrivals: Vec<u64>,
    /// Per cache, after warm-up.
    caches: Vec<CacheCounts>,
    /// Per cache, in the current bucket.
    bucket_caches: Vec<CacheCounts>,
    /// Per database: after warm-up, in the current bucket, and lags.
    pub(super) db: crate::metrics::database::DatabaseMeter,
    window: SpanStats,
    windows: u64,
    windows_violated: u64,
    violation_ns: u128,
    rows: Vec<TimeSeriesRow>,
    /// Per-batch counters when the experiment asks for batch means.
    batches: Option<Batches>,
    /// By service, the figures of its instances that have stopped (summarised when they
    /// stop, so their slots can be reused).
    retired: Vec<InstanceFigures>,
}

/// What a service's instances measured within the measured window, summed (or the maximum)
/// over instances, and each instance's own figures with its serial.
#[derive(Debug, Clone, Default)]
struct InstanceFigures {
    /// (serial, group, ordinal, figures).
    per_instance: Vec<(u32, Option<u16>, u32, InstanceSummary)>,
    busy_core_ns: u128,
    queue_ns: u128,
    peak_queue: u64,
    peak_lag_ns: u64,
    segments: u64,
    segments_waited: u64,
    wait_ns: u128,
    /// Instance-nanoseconds billed within the window.
    instance_ns: u128,
}

impl InstanceFigures {
    /// Adds `inst`'s figures over the measured window `(from, horizon)`: until it stopped, or
    /// until the horizon if it runs on. One stopped before the window began measured nothing
    /// in it (the warm-up's end would have reset its measurements to nothing).
    fn add(&mut self, inst: &mut Instance, (from, horizon): (SimTime, SimTime)) {
        let mut summary = InstanceSummary {
            created_s: inst.created_at.as_secs_f64(),
            stopped_s: inst.stopped_at.map(SimTime::as_secs_f64),
            cpu_utilisation: 0.0,
            mean_queue_length: 0.0,
            peak_queue_length: 0,
            peak_event_loop_lag_s: 0.0,
            routed: 0,
            group: None,
            zone: None,
        };
        let end = inst.stopped_at.unwrap_or(horizon);
        if end >= from {
            let c = inst.cores();
            // Billed from the request for the instance until it stops, within the window.
            self.instance_ns += u128::from(end.since(inst.created_at.max(from)).as_nanos());
            let st = &mut inst.stats;
            summary.cpu_utilisation = st.busy_cores.mean(end) / f64::from(c.max(1));
            summary.mean_queue_length = st.queue_length.mean(end);
            self.busy_core_ns += st.busy_cores.area(end);
            self.queue_ns += st.queue_length.area(end);
            summary.peak_queue_length = st.queue_length.peak().max(0) as u64;
            self.peak_queue = self.peak_queue.max(summary.peak_queue_length);
            self.peak_lag_ns = self.peak_lag_ns.max(st.max_lag_ns);
            self.segments += st.segments;
            self.segments_waited += st.segments_waited;
            self.wait_ns += st.wait_ns;
            summary.peak_event_loop_lag_s = st.max_lag_ns as f64 / 1e9;
        }
        if end >= from {
            summary.routed = inst.stats.routed;
        }
        self.per_instance
            .push((inst.serial, inst.group, inst.ordinal, summary));
    }

    /// Adds what `other` holds.
    fn merge(&mut self, other: InstanceFigures) {
        self.per_instance.extend(other.per_instance);
        self.busy_core_ns += other.busy_core_ns;
        self.queue_ns += other.queue_ns;
        self.peak_queue = self.peak_queue.max(other.peak_queue);
        self.peak_lag_ns = self.peak_lag_ns.max(other.peak_lag_ns);
        self.segments += other.segments;
        self.segments_waited += other.segments_waited;
        self.wait_ns += other.wait_ns;
        self.instance_ns += other.instance_ns;
    }
}

impl Observer {
    pub(super) fn new(experiment: &Experiment, model: &Model) -> Self {
        let warmup_end = SimTime::ZERO + experiment.warmup;
        let endpoints = model
            .services
            .iter()
            .map(|s| {
                s.endpoints
                    .iter()
                    .map(|_| EndpointStats {
                        arrivals: 0,
                        outcomes: OutcomeCounts::default(),
                        latency: LatencyHistogram::precise(),
                    })
                    .collect()
            })
            .collect();
        let served = model
            .services
            .iter()
            .map(|s| {
                s.endpoints
                    .iter()
                    .map(|_| ServedStats {
                        arrivals: 0,
                        outcomes: OutcomeCounts::default(),
                        latency: LatencyHistogram::precise(),
                        left_running: 0,
                        cancelled: 0,
                    })
                    .collect()
            })
            .collect();
        let edges = model
            .edges
            .iter()
            .map(|_| EdgeStats {
                calls: 0,
                retries: 0,
                throttled: 0,
                short_circuited: 0,
                breaker_opens: 0,
                outcomes: OutcomeCounts::default(),
                latency: LatencyHistogram::coarse(),
                caused: 0,
            })
            .collect();
        let buckets =
            (experiment.duration.as_nanos() / experiment.resolution.as_nanos().max(1)) as usize;
        let mut o = Observer {
            resolution: experiment.resolution,
            warmup_end,
            warm: experiment.warmup.is_zero(),
            next_mark: SimTime::ZERO,
            bucket_start: SimTime::ZERO,
            window_start: warmup_end,
            slo: experiment.slo,
            arrivals: 0,
            outcomes: OutcomeCounts::default(),
            response_ns: 0,
            endpoints,
            served,
            edges,
            in_flight: TimeAverage::default(),
            in_flight_at_start: 0,
            bucket: SpanStats::new(),
            bucket_service_arrivals: vec![0; model.services.len()],
            caches: vec![CacheCounts::default(); model.data.caches.len()],
            bucket_caches: vec![CacheCounts::default(); model.data.caches.len()],
            db: crate::metrics::database::DatabaseMeter::new(
                model
                    .services
                    .iter()
                    .filter(|s| s.database.is_some())
                    .count(),
            ),
            window: SpanStats::new(),
            windows: 0,
            windows_violated: 0,
            violation_ns: 0,
            rows: Vec::with_capacity(buckets.min(1 << 20) + 1),
            retired: vec![InstanceFigures::default(); model.services.len()],
            batches: experiment.batch_means.map(|n| {
                Batches::new(
                    warmup_end,
                    SimDuration::from_nanos(
                        experiment.duration.as_nanos() - experiment.warmup.as_nanos(),
                    ),
                    n,
                )
            }),
        };
        o.in_flight.start(SimTime::ZERO);
        o.next_mark = o.compute_next_mark();
        o
    }

    /// `inst` has stopped: its figures are final (nothing changes its measurements any
    /// more), so they are summarised now, into its service's retired figures.
    pub(super) fn instance_stopped(&mut self, inst: &mut Instance) {
        debug_assert_eq!(inst.phase, Phase::Stopped);
        // The window's end does not matter to an instance that has stopped.
        let window = (self.warmup_end, SimTime::MAX);
        self.retired[inst.service.index()].add(inst, window);
    }

    fn next_bucket_end(&self) -> SimTime {
        self.bucket_start + self.resolution
    }

    fn next_window_end(&self) -> Option<SimTime> {
        self.slo.map(|slo| self.window_start + slo.window)
    }

    fn compute_next_mark(&self) -> SimTime {
        let mut m = self.next_bucket_end();
        if !self.warm {
            m = m.min(self.warmup_end);
        }
        if let Some(w) = self.next_window_end() {
            m = m.min(w);
        }
        m
    }

    /// The earliest edge (bucket, window, warm-up end) not yet crossed.
    #[inline]
    pub(super) fn next_mark(&self) -> SimTime {
        self.next_mark
    }

    /// Crosses every edge at or before `now`, in time order. Returns whether a bucket closed
    /// (after which instances stopped before it are read no more).
    pub(super) fn cross_marks(
        &mut self,
        now: SimTime,
        instances: &mut InstanceArena,
        services: &mut [ServiceState],
    ) -> bool {
        let mut closed = false;
        while self.next_mark <= now {
            let mark = self.next_mark;
            if !self.warm && mark == self.warmup_end {
                self.warm = true;
                self.in_flight.reset(mark);
                self.in_flight_at_start = self.in_flight.level() as u64;
                for svc in services.iter_mut() {
                    svc.fleet.reset_measurements(mark, instances);
                    svc.billing.reset(mark);
                }
            }
            if mark == self.next_bucket_end() {
                self.close_bucket(mark, instances, services);
                closed = true;
            }
            if self.next_window_end() == Some(mark) {
                self.close_window(mark);
            }
            self.next_mark = self.compute_next_mark();
        }
        closed
    }

    /// Closes the time-series bucket ending at `end`. O(instances not yet released).
    fn close_bucket(
        &mut self,
        end: SimTime,
        instances: &mut InstanceArena,
        services: &mut [ServiceState],
    ) {
        let width = end.since(self.bucket_start);
        let width_ns = width.as_nanos().max(1) as f64;
        let mut per_service: Vec<ServiceBucket> = services
            .iter()
            .zip(self.bucket_service_arrivals.iter_mut())
            .map(|(s, arrivals)| ServiceBucket {
                arrivals: std::mem::take(arrivals),
                desired: s.fleet.desired(),
                starting: s.fleet.starting().len() as u32,
                instances: s.fleet.ready().len() as u32,
                draining: s.fleet.draining().len() as u32,
                in_rotation: s.fleet.candidates().len() as u32,
                ..Default::default()
            })
            .collect();
        let mut ready_core_ns: Vec<u128> = services
            .iter_mut()
            .map(|s| s.fleet.serving_cores().take_bucket(end).0)
            .collect();
        for (b, svc) in per_service.iter_mut().zip(services.iter()) {
            // In creation order: the sums below are in floating point.
            for &id in svc.fleet.members() {
                let inst = &mut instances[id];
                if inst.stopped_at.is_some_and(|t| t < self.bucket_start) {
                    continue; // gone before this bucket: nothing to add
                }
                let (busy, _) = inst.stats.busy_cores.take_bucket(end);
                let (queue, _) = inst.stats.queue_length.take_bucket(end);
                b.cpu_utilisation += busy as f64;
                b.queue_length += queue as f64 / width_ns;
                b.max_event_loop_lag_s = b
                    .max_event_loop_lag_s
                    .max(inst.stats.bucket_max_lag_ns as f64 / 1e9);
                inst.stats.bucket_max_lag_ns = 0;
            }
        }
        for (b, svc) in per_service.iter_mut().zip(services.iter_mut()) {
            // A worker pool's messages wait in its queue, not on an instance.
            b.queue_length += svc.routing.take_backlog_bucket(end) as f64 / width_ns;
        }
        for (b, core_ns) in per_service.iter_mut().zip(ready_core_ns.drain(..)) {
            b.cpu_utilisation = if core_ns == 0 {
                0.0
            } else {
                b.cpu_utilisation / core_ns as f64
            };
        }
        let (in_flight_area, _) = self.in_flight.take_bucket(end);
        let ok = self.bucket.outcomes.get(Outcome::Ok);
        self.rows.push(TimeSeriesRow {
            t_s: self.bucket_start.as_secs_f64(),
            width_s: width.as_secs_f64(),
            arrivals: self.bucket.arrivals,
            outcomes: self.bucket.outcomes,
            throughput_rps: ok as f64 / width.as_secs_f64().max(1e-9),
            p50_s: self.bucket.ok_latency.quantile_s(0.5),
            p99_s: self.bucket.ok_latency.quantile_s(0.99),
            in_flight: in_flight_area as f64 / width_ns,
            services: per_service,
            caches: self.bucket_caches.clone(),
            databases: self.db.take_bucket(),
        });
        self.bucket_caches.fill(CacheCounts::default());
        self.bucket.clear();
        self.bucket_start = end;
    }

    fn close_window(&mut self, end: SimTime) {
        let Some(slo) = self.slo else { return };
        let len = end.since(self.window_start).as_nanos();
        self.window_start = end;
        if len == 0 {
            return;
        }
        self.windows += 1;
        if window_violates(&slo, &self.window) {
            self.windows_violated += 1;
            self.violation_ns += u128::from(len);
        }
        self.window.clear();
    }

    /// The counters of `cache` a span changes: the bucket's, and the summary's if it is
    /// counted.
    #[inline]
    fn cache_counts(&mut self, cache: CacheId, counted: bool, f: impl Fn(&mut CacheCounts)) {
        f(&mut self.bucket_caches[cache.index()]);
        if counted {
            f(&mut self.caches[cache.index()]);
        }
    }

    /// A lookup in `cache` found its key or not.
    #[inline]
    pub(super) fn cache_lookup(&mut self, cache: CacheId, found: Lookup, counted: bool) {
        self.cache_counts(cache, counted, |c| {
            c.lookups += 1;
            match found {
                Lookup::Hit => c.hits += 1,
                Lookup::Stale => {
                    c.hits += 1;
                    c.stale_hits += 1;
                }
                Lookup::Expired => c.expired += 1,
                Lookup::Miss => {}
            }
        });
    }

    /// A scheduled reload sent a fetch for a store of `cache`.
    #[inline]
    pub(super) fn cache_reload_sent(&mut self, cache: CacheId, counted: bool) {
        self.cache_counts(cache, counted, |c| c.reload_fetches += 1);
    }

    /// A reload's fetch ended, its key `stored` or not.
    #[inline]
    pub(super) fn cache_reload_ended(&mut self, cache: CacheId, stored: bool, counted: bool) {
        self.cache_counts(cache, counted, |c| {
            if stored {
                c.reload_stored += 1;
            } else {
                c.reload_dropped += 1;
            }
        });
    }

    /// A miss in `cache` waits for another request's fill.
    #[inline]
    pub(super) fn cache_coalesced(&mut self, cache: CacheId, counted: bool) {
        self.cache_counts(cache, counted, |c| c.coalesced += 1);
    }

    /// A key was stored in `cache`, evicting `evicted` entries.
    #[inline]
    pub(super) fn cache_stored(&mut self, cache: CacheId, evicted: u64, counted: bool) {
        self.cache_counts(cache, counted, |c| {
            c.stores += 1;
            c.evictions += evicted;
        });
    }

    /// A write to write-behind `cache` is to be written later.
    #[inline]
    pub(super) fn cache_write_deferred(&mut self, cache: CacheId, counted: bool) {
        self.cache_counts(cache, counted, |c| c.writes_deferred += 1);
    }

    /// A write to write-behind `cache` merged into one waiting already.
    #[inline]
    pub(super) fn cache_write_merged(&mut self, cache: CacheId, counted: bool) {
        self.cache_counts(cache, counted, |c| c.writes_merged += 1);
    }

    /// A deferred write of `cache` was written.
    pub(super) fn cache_flushed(&mut self, cache: CacheId, counted: bool) {
        self.cache_counts(cache, counted, |c| c.writes_flushed += 1);
    }

    /// A deferred write of `cache` was lost with its store's process.
    pub(super) fn cache_write_lost(&mut self, cache: CacheId, counted: bool) {
        self.cache_counts(cache, counted, |c| c.writes_lost += 1);
    }

    /// A hit in `cache` started a refresh-ahead.
    pub(super) fn cache_refreshed(&mut self, cache: CacheId, counted: bool) {
        self.cache_counts(cache, counted, |c| c.refreshes += 1);
    }

    /// A key was invalidated in `cache`.
    #[inline]
    pub(super) fn cache_invalidated(&mut self, cache: CacheId, counted: bool) {
        self.cache_counts(cache, counted, |c| c.invalidations += 1);
    }

    /// A request reached a service (from a client, a caller or a queue). A root's arrival is
    /// its client's, counted there already (a root reaches its service when it is sent), so
    /// only the bucket's count per service is kept for it here.
    #[inline]
    pub(super) fn served_arrival(&mut self, at: EndpointRef, root: bool, counted: bool) {
        self.bucket_service_arrivals[at.service as usize] += 1;
        if counted && !root {
            self.served[at.service as usize][at.endpoint as usize].arrivals += 1;
        }
    }

    /// A service ended a request that reached it, other than a root its client still waits
    /// for: that one's outcome and latency are its client's, recorded there, and merged into
    /// the service's at the end.
    #[inline]
    pub(super) fn served(
        &mut self,
        service: u32,
        endpoint: u32,
        outcome: Outcome,
        latency: SimDuration,
        counted: bool,
    ) {
        if counted {
            let st = &mut self.served[service as usize][endpoint as usize];
            st.outcomes.record(outcome);
            if outcome == Outcome::Ok {
                st.latency.record(latency.as_nanos());
            }
        }
    }

    /// A fan-out branch was no longer waited for: left running or cancelled.
    pub(super) fn leftover_branch(
        &mut self,
        service: u32,
        endpoint: u32,
        cancelled: bool,
        counted: bool,
    ) {
        if counted {
            let st = &mut self.served[service as usize][endpoint as usize];
            if cancelled {
                st.cancelled += 1;
            } else {
                st.left_running += 1;
            }
        }
    }

    /// Something a call edge's retries or breaker did.
    #[inline]
    pub(super) fn edge_event(&mut self, edge: EdgeId, event: EdgeEvent, counted: bool) {
        if !counted {
            return;
        }
        let e = &mut self.edges[edge.index()];
        match event {
            EdgeEvent::Retry => e.retries += 1,
            EdgeEvent::RetryThrottled => e.throttled += 1,
            EdgeEvent::ShortCircuited => e.short_circuited += 1,
            EdgeEvent::BreakerOpened => e.breaker_opens += 1,
        }
    }

    /// A call was made (or a message sent) on `edge`.
    #[inline]
    pub(super) fn edge_call(&mut self, edge: EdgeId, counted: bool) {
        if counted {
            self.edges[edge.index()].calls += 1;
        }
    }

    /// A call on `edge` ended, as its caller saw it.
    #[inline]
    pub(super) fn edge_outcome(
        &mut self,
        edge: EdgeId,
        outcome: Outcome,
        latency: SimDuration,
        counted: bool,
    ) {
        if counted {
            let st = &mut self.edges[edge.index()];
            st.outcomes.record(outcome);
            if outcome == Outcome::Ok {
                st.latency.record(latency.as_nanos());
            }
        }
    }

    /// A request was sent.
    #[inline]
    pub(super) fn arrival(&mut self, now: SimTime, service: u32, endpoint: u32, counted: bool) {
        self.bucket.arrivals += 1;
        self.in_flight.add(now, 1);
        if counted {
            self.arrivals += 1;
            self.window.arrivals += 1;
            self.endpoints[service as usize][endpoint as usize].arrivals += 1;
        }
    }

    /// A request ended with `outcome` after `latency`.
    #[inline]
    pub(super) fn outcome(
        &mut self,
        now: SimTime,
        at: EndpointRef,
        outcome: Outcome,
        latency: SimDuration,
        cause: Option<EdgeId>,
        counted: bool,
    ) {
        let ns = latency.as_nanos();
        self.in_flight.add(now, -1);
        self.bucket.outcomes.record(outcome);
        if outcome == Outcome::Ok {
            self.bucket.ok_latency.record(ns);
        }
        if !counted {
            return;
        }
        self.outcomes.record(outcome);
        if let Some(edge) = cause {
            self.edges[edge.index()].caused += 1;
        }
        self.response_ns += u128::from(ns);
        if let Some(b) = &mut self.batches {
            b.record(now, outcome, ns);
        }
        let ep = &mut self.endpoints[at.service as usize][at.endpoint as usize];
        ep.outcomes.record(outcome);
        if outcome == Outcome::Ok {
            // The overall histogram is the merge of these, built once at the end.
            ep.latency.record(ns);
        }
        if self.slo.is_some() {
            self.window.outcomes.record(outcome);
            if outcome == Outcome::Ok {
                self.window.ok_latency.record(ns);
            }
        }
    }

    /// Closes the run at `horizon` and builds the summary.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish(
        mut self,
        horizon: SimTime,
        model: &Model,
        instances: &mut InstanceArena,
        services: &mut [ServiceState],
        actions: Vec<ScalingAction>,
        in_flight: InFlight,
        events: u64,
        peak_requests: u64,
        cache_stores: Vec<(u64, u64)>,
        failovers: Vec<Vec<crate::metrics::database::FailoverSummary>>,
    ) -> RunOutput {
        self.cross_marks(horizon, instances, services);
        if horizon > self.bucket_start {
            self.close_bucket(horizon, instances, services);
        }
        if self.slo.is_some() && horizon > self.window_start {
            self.close_window(horizon);
        }
        let measured = horizon.since(self.warmup_end).as_secs_f64();
        let ended = self.outcomes.total();
        let ratio = |n: u64| {
            if ended == 0 {
                0.0
            } else {
                n as f64 / ended as f64
            }
        };
        let error_rates = Outcome::ALL
            .iter()
            .filter(|o| **o != Outcome::Ok)
            .map(|o| (o.name().to_string(), ratio(self.outcomes.get(*o))))
            .collect();
        let per_second = |n: u64| {
            if measured > 0.0 {
                n as f64 / measured
            } else {
                0.0
            }
        };
        let mut endpoints = IndexMap::new();
        let mut service_summaries = IndexMap::new();
        for (s, spec) in model.services.iter().enumerate() {
            for (e, ep) in spec.endpoints.iter().enumerate() {
                let st = &self.endpoints[s][e];
                endpoints.insert(
                    format!("{}.{}", spec.name, ep.name),
                    EndpointSummary {
                        arrivals: st.arrivals,
                        outcomes: st.outcomes.to_map(),
                        latency_s: st.latency.summary(),
                    },
                );
            }
            let mut summary = summarise_service(
                instances,
                &mut services[s],
                std::mem::take(&mut self.retired[s]),
                (self.warmup_end, horizon),
                actions.iter().filter(|a| a.service == spec.name).count() as u64,
                spec,
            );
            for (e, ep) in spec.endpoints.iter().enumerate() {
                // The roots answered to waiting clients were recorded by the clients only:
                // their arrivals, their outcomes (all but the timeouts, which the client
                // decided, not the service) and their latencies.
                let client = &self.endpoints[s][e];
                let st = &mut self.served[s][e];
                st.arrivals += client.arrivals;
                st.outcomes
                    .merge(&client.outcomes.without(Outcome::TimedOut));
                st.latency.merge(&client.latency);
                let st = &self.served[s][e];
                summary.endpoints.insert(
                    ep.name.clone(),
                    ServedSummary {
                        arrivals: st.arrivals,
                        outcomes: st.outcomes.to_map(),
                        in_flight_at_end: in_flight.served[s][e],
                        latency_s: st.latency.summary(),
                        branches_left_running: st.left_running,
                        branches_cancelled: st.cancelled,
                    },
                );
            }
            service_summaries.insert(spec.name.clone(), summary);
        }
        let mut calls = IndexMap::new();
        let mut dependency_failures = IndexMap::new();
        for (k, edge) in model.edges.iter().enumerate() {
            let st = &self.edges[k];
            calls.insert(
                edge.name.clone(),
                CallSummary {
                    calls: st.calls,
                    retries: st.retries,
                    retries_throttled: st.throttled,
                    short_circuited: st.short_circuited,
                    breaker_opens: st.breaker_opens,
                    outcomes: st.outcomes.to_map(),
                    in_flight_at_end: in_flight.edges[k],
                    latency_s: st.latency.summary(),
                },
            );
            if st.caused > 0 {
                dependency_failures.insert(edge.name.clone(), st.caused);
            }
        }
        let caches = model
            .data
            .caches
            .iter()
            .zip(&self.caches)
            .zip(cache_stores)
            .map(|((spec, c), (entries, bytes))| {
                let summary = CacheSummary {
                    scope: match (spec.scope, &spec.nodes) {
                        (_, Some(_)) => "nodes",
                        (CacheScope::Instance, None) => "instance",
                        (CacheScope::Shared, None) => "shared",
                    }
                    .to_string(),
                    nodes: spec.nodes.as_ref().map(|n| n.service.clone()),
                    capacity: spec.store.capacity,
                    eviction: match spec.store.eviction {
                        Eviction::Lru => "lru",
                        Eviction::Lfu => "lfu",
                        Eviction::Fifo => "fifo",
                        Eviction::Random => "random",
                    }
                    .to_string(),
                    lookups: c.lookups,
                    hits: c.hits,
                    misses: c.misses(),
                    hit_ratio: c.hit_ratio(),
                    expired: c.expired,
                    coalesced: c.coalesced,
                    stores: c.stores,
                    evictions: c.evictions,
                    invalidations: c.invalidations,
                    refreshes: c.refreshes,
                    entries_at_end: entries,
                    memory_bytes: bytes,
                    write_behind: spec.write_behind.as_ref().map(|_| WriteBehindSummary {
                        writes: c.writes_deferred + c.writes_merged,
                        merged: c.writes_merged,
                        flushed: c.writes_flushed,
                        lost: c.writes_lost,
                        pending_at_end: c.writes_deferred - c.writes_flushed - c.writes_lost,
                    }),
                    reloads: spec
                        .reload
                        .as_ref()
                        .map(|_| crate::metrics::cache::ReloadSummary {
                            fetches: c.reload_fetches,
                            stored: c.reload_stored,
                            dropped: c.reload_dropped,
                            in_flight_at_end: c.reload_fetches - c.reload_stored - c.reload_dropped,
                        }),
                    stale: spec
                        .count_stale
                        .then(|| crate::metrics::cache::StaleSummary::new(c)),
                };
                (spec.name.clone(), summary)
            })
            .collect();
        let databases = model
            .services
            .iter()
            .filter(|s| s.database.is_some())
            .zip(failovers)
            .enumerate()
            .map(|(k, (spec, f))| {
                let summary = crate::metrics::database::DatabaseSummary::new(
                    &self.db.counts[k],
                    &self.db.lag[k],
                    f,
                );
                (spec.name.clone(), summary)
            })
            .collect();
        let mut overall = LatencyHistogram::precise();
        for ep in self.endpoints.iter().flatten() {
            overall.merge(&ep.latency);
        }
        let latency = overall.summary();
        let error_rate = ratio(self.outcomes.errors());
        let slo = self.slo.map(|slo| {
            let observed = overall.quantile_s(slo.quantile);
            // A request is good if it succeeded within the target; errors count against it.
            let good =
                |t: SimDuration| overall.count_at_most(t.as_nanos()) as f64 / ended.max(1) as f64;
            let latency_ok = slo.latency.is_none_or(|t| good(t) >= slo.quantile);
            let errors_ok = slo.error_rate.is_none_or(|t| error_rate <= t);
            SloSummary {
                quantile: slo.quantile,
                latency_target_s: slo.latency.map(|d| d.as_secs_f64()),
                latency_observed_s: observed,
                error_rate_target: slo.error_rate,
                error_rate_observed: error_rate,
                met: latency_ok && errors_ok,
                window_s: slo.window.as_secs_f64(),
                windows: self.windows,
                windows_violated: self.windows_violated,
                violation_minutes: self.violation_ns as f64 / 60e9,
            }
        });
        let priced: Vec<f64> = service_summaries
            .values()
            .filter_map(|s: &ServiceSummary| s.cost.as_ref().map(|c| c.usd))
            .collect();
        let cost_usd = (!priced.is_empty()).then(|| priced.iter().sum::<f64>());
        let completed = self.outcomes.get(Outcome::Ok);
        let summary = RunSummary {
            measured_s: measured,
            arrivals: self.arrivals,
            outcomes: self.outcomes.to_map(),
            in_flight_at_start: self.in_flight_at_start,
            in_flight_at_end: in_flight.roots,
            completed: self.outcomes.get(Outcome::Ok),
            error_rate,
            error_rates,
            throughput_rps: per_second(self.outcomes.get(Outcome::Ok)),
            latency_s: latency,
            mean_response_s: if ended == 0 {
                0.0
            } else {
                self.response_ns as f64 / ended as f64 / 1e9
            },
            arrival_rate_rps: per_second(self.arrivals),
            mean_in_flight: self.in_flight.mean(horizon),
            endpoints,
            services: service_summaries,
            slo,
            cost_usd,
            cost_per_million_ok_usd: cost_usd.map(|c| {
                if completed == 0 {
                    0.0
                } else {
                    c / completed as f64 * 1e6
                }
            }),
            batch_means: self.batches.as_ref().map(Batches::summary),
            scaling_actions: actions,
            events,
            peak_requests_in_memory: peak_requests,
            calls,
            dependency_failures,
            caches,
            databases,
            shards: IndexMap::new(),
            pools: IndexMap::new(),
        };
        RunOutput {
            summary,
            timeseries: self.rows,
        }
    }
}

/// Whether a window misses the SLO: fewer than `quantile` of its ended requests succeeded within
/// the latency target (errors count as misses), or its error rate is above target. A window with
/// nothing ended meets it.
fn window_violates(slo: &Slo, w: &SpanStats) -> bool {
    let ended = w.outcomes.total();
    if ended == 0 {
        return false;
    }
    let latency_bad = slo.latency.is_some_and(|t| {
        (w.ok_latency.count_at_most(t.as_nanos()) as f64) < slo.quantile * ended as f64
    });
    let errors_bad = slo
        .error_rate
        .is_some_and(|t| w.outcomes.errors() as f64 / ended as f64 > t);
    latency_bad || errors_bad
}

fn summarise_service(
    instances: &mut InstanceArena,
    svc: &mut ServiceState,
    retired: InstanceFigures,
    window: (SimTime, SimTime),
    actions: u64,
    spec: &crate::components::service::ServiceSpec,
) -> ServiceSummary {
    let (from, horizon) = window;
    let span_ns = horizon.since(from).as_nanos().max(1);
    let cost = spec.cost.as_ref().map(|c| svc.billing.cost(c, window));
    // The instances still running, then those that stopped (summarised then), in creation
    // order.
    let mut figures = InstanceFigures::default();
    for &id in svc.fleet.members() {
        if instances[id].phase != Phase::Stopped {
            figures.add(&mut instances[id], window);
        }
    }
    figures.merge(retired);
    figures
        .per_instance
        .sort_unstable_by_key(|&(serial, _, _, _)| serial);
    let per_instance: Vec<InstanceSummary> = figures
        .per_instance
        .into_iter()
        .map(|(_, group, ordinal, mut p)| {
            p.group = group.map(|g| spec.groups[g as usize].name.clone());
            let zones = spec.zones.len() as u32;
            p.zone = (zones > 0).then(|| spec.zones[(ordinal % zones) as usize].clone());
            p
        })
        .collect();
    let ready_core_ns = svc.fleet.serving_cores().area(horizon);
    let ratio = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
    let shape = svc.fleet.shape();
    ServiceSummary {
        instances: svc.fleet.ready().len() as u32,
        desired_replicas: svc.fleet.desired(),
        peak_instances: svc.fleet.peak_ready(),
        oom_kills: svc.counters.oom_kills,
        spot_interruptions: svc.counters.spot_interruptions,
        failures: svc.counters.failures,
        instances_started: per_instance.len() as u32,
        scaling_actions: actions,
        instance_hours: figures.instance_ns as f64 / 3600e9,
        cost,
        // The shape at the end (after any resize).
        cores_per_instance: shape.cores,
        runtime: Some(
            match shape.runtime {
                Runtime::ThreadPool => "thread_pool",
                Runtime::EventLoop => "event_loop",
            }
            .to_string(),
        ),
        cpu_utilisation: ratio(figures.busy_core_ns as f64, ready_core_ns as f64),
        busy_cores: figures.busy_core_ns as f64 / span_ns as f64,
        mean_queue_length: figures.queue_ns as f64 / span_ns as f64,
        peak_queue_length: figures.peak_queue,
        cpu_wait_probability: ratio(figures.segments_waited as f64, figures.segments as f64),
        mean_cpu_wait_s: ratio(figures.wait_ns as f64, figures.segments as f64) / 1e9,
        peak_event_loop_lag_s: figures.peak_lag_ns as f64 / 1e9,
        endpoints: IndexMap::new(),
        groups: super::groups::summarise(spec, &per_instance),
        zones: super::groups::by_zone(spec, &per_instance),
        sessions: svc.sessions.as_ref().map(|t| t.counts),
        health: (spec.health.active.is_some() || spec.health.passive.is_some())
            .then_some(svc.counters.health),
        per_instance,
    }
}
