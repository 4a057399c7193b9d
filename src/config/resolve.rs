//! From raw file types to the typed specs the simulation reads: names resolved to indices,
//! durations to ticks, impossible values refused with their JSON path.

use super::error::ConfigError;
use super::quantity::{Duration, Quantity, Size};
use super::raw::*;
use crate::components::balancer::BalancerSpec;
use crate::components::cost::SpotSpec;
use crate::components::endpoint::{EndpointSpec, Step};
use crate::components::instance::{InstanceSpec, MemorySpec, Runtime};
use crate::components::lifecycle::LifecycleSpec;
use crate::components::service::ServiceSpec;
use crate::components::service::{Resize, ScheduledScaling};
use crate::distribution::{self, Dist, MAX_MIXTURE_COMPONENTS, MAX_MIXTURE_DEPTH};
use crate::experiment::Slo;
use crate::kernel::SimDuration;
use crate::model::Model;
use crate::workload::client::{ClientKind, ClientSpec, Mix, MixEntry};
use crate::workload::rate::{Arrivals, Interpolation, RateProfile};
use crate::workload::renewal::Renewal;
use crate::workload::trace::{Replay, Trace};
use std::path::Path;
use std::sync::Arc;

/// Where errors point: a file and a path prefix within it.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub file: &'a Path,
    /// Path of the value being resolved, e.g. `variants.big.services.api`.
    pub prefix: &'a str,
    /// Put before every message, e.g. "in variant `big`: ".
    pub context: &'a str,
    /// Where relative file names in the value are resolved (the directory of the file that
    /// holds the model or experiment as written).
    pub dir: &'a Path,
}

impl At<'_> {
    pub(crate) fn path(&self, rel: &str) -> String {
        super::error::join_path(self.prefix, rel)
    }
    pub(crate) fn err(&self, rel: &str, msg: impl AsRef<str>) -> ConfigError {
        ConfigError::invalid(
            self.file,
            self.path(rel),
            format!("{}{}", self.context, msg.as_ref()),
        )
    }
}

/// Most instances one service may have: far beyond any real fleet, low enough that a typo of
/// a few extra zeros is an error rather than an out-of-memory crash.
pub(crate) const MAX_INSTANCES: i64 = 100_000;
/// Most cores one instance may have.
const MAX_CORES: i64 = 1024;
/// Most closed-loop connections one client may have.
const MAX_CONNECTIONS: i64 = 1_000_000;
/// Highest arrival rate, requests per second.
const MAX_RPS: f64 = 1e9;

fn positive_int(at: At, rel: &str, v: i64, what: &str) -> Result<u32, ConfigError> {
    int_in(at, rel, v, 1, i64::from(u32::MAX), what)
}

/// `v` as a u32 if it is within [lo, hi].
pub(crate) fn int_in(
    at: At,
    rel: &str,
    v: i64,
    lo: i64,
    hi: i64,
    what: &str,
) -> Result<u32, ConfigError> {
    if v < lo || v > hi {
        return Err(at.err(
            rel,
            format!("{what} must be a whole number from {lo} to {hi}, got {v}"),
        ));
    }
    Ok(v as u32)
}

pub(crate) fn positive_duration(
    at: At,
    rel: &str,
    d: Duration,
    what: &str,
) -> Result<SimDuration, ConfigError> {
    if d.0.is_zero() {
        return Err(at.err(
            rel,
            format!("{what} must be longer than zero, got \"{}\"", d.0),
        ));
    }
    Ok(d.0)
}

/// Shortest time slice, think time or error pause: below it a run spends its events on
/// pacing that no real system has.
pub(crate) const MIN_PACING: SimDuration = SimDuration::from_micros(100);

/// `d` if it is at least `min`; `why` says why shorter is refused.
fn at_least(
    at: At,
    rel: &str,
    d: Duration,
    min: SimDuration,
    what: &str,
    why: &str,
) -> Result<SimDuration, ConfigError> {
    if d.0 < min {
        return Err(at.err(
            rel,
            format!("{what} must be at least {min} ({why}), got \"{}\"", d.0),
        ));
    }
    Ok(d.0)
}

fn rate(at: At, rel: &str, v: f64, zero_ok: bool) -> Result<f64, ConfigError> {
    let ok = v.is_finite() && v <= MAX_RPS && if zero_ok { v >= 0.0 } else { v > 0.0 };
    if !ok {
        let want = if zero_ok {
            "zero or more, and at most 1e9"
        } else {
            "more than zero, and at most 1e9"
        };
        return Err(at.err(
            rel,
            format!("a rate in requests per second must be {want}, got {v}"),
        ));
    }
    Ok(v)
}

/// Resolves a model.
pub(crate) fn model(raw: &RawModel, at: At, default_name: &str) -> Result<Model, ConfigError> {
    if raw.services.is_empty() {
        return Err(at.err("services", "a model needs at least one service"));
    }
    let types = instance_types(raw, at)?;
    let mut services = Vec::with_capacity(raw.services.len());
    for (name, s) in &raw.services {
        let rel = format!("services.{name}");
        check_name(at, &rel, name, "service")?;
        services.push(service(name, s, at, &rel, &types)?);
    }
    super::steps::link(&mut services, at)?;
    Ok(Model::new(
        raw.name.clone().unwrap_or_else(|| default_name.to_string()),
        raw.description.clone(),
        services,
    ))
}

fn check_name(at: At, rel: &str, name: &str, what: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(at.err(
            rel,
            format!("{what} name `{name}` must be non-empty and use only letters, digits, `-` and `_` (it appears in report keys such as `service.endpoint`)"),
        ));
    }
    Ok(())
}

/// The bundled catalogue with the model's own types added (a model's type of the same name
/// replaces the bundled one).
fn instance_types(
    raw: &RawModel,
    at: At,
) -> Result<Vec<crate::components::cost::InstanceType>, ConfigError> {
    let mut types = crate::components::cost::catalogue();
    for (name, t) in &raw.instance_types {
        let rel = format!("instance_types.{name}");
        for (field, v) in [
            ("on_demand_per_hour", Some(t.on_demand_per_hour)),
            ("reserved_per_hour", t.reserved_per_hour),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(at.err(
                        &format!("{rel}.{field}"),
                        format!("a price is zero or more USD per hour, got {v}"),
                    ));
                }
            }
        }
        types.retain(|x| &x.name != name);
        types.push(crate::components::cost::InstanceType {
            name: name.clone(),
            vcpus: t.vcpus.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
            memory_gib: t.memory.map_or(0.0, |m| m.0 / (1u64 << 30) as f64),
            on_demand_per_hour: t.on_demand_per_hour,
            reserved_per_hour: t.reserved_per_hour.unwrap_or(t.on_demand_per_hour),
        });
    }
    Ok(types)
}

fn resolve_cost(
    raw: &RawCost,
    types: &[crate::components::cost::InstanceType],
    at: At,
    rel: &str,
) -> Result<crate::components::cost::CostSpec, ConfigError> {
    use crate::components::cost::CostSpec;
    let Some(t) = types.iter().find(|t| t.name == raw.instance_type) else {
        let known: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
        return Err(at.err(
            &format!("{rel}.instance_type"),
            format!(
                "unknown instance type `{}` (known: {}); add it under the model's `instance_types`",
                raw.instance_type,
                known.join(", ")
            ),
        ));
    };
    let reserved = match raw.reserved {
        Some(r) if r < 0 || r > i64::from(u32::MAX) => {
            return Err(at.err(
                &format!("{rel}.reserved"),
                format!("reserved instances must be zero or more, got {r}"),
            ));
        }
        Some(r) => r as u32,
        None => 0,
    };
    let spot = match &raw.spot {
        None => None,
        Some(sp) => {
            let srel = format!("{rel}.spot");
            let rate = sp.interruptions_per_hour;
            // Once a minute is already far beyond any real spot market; shorter lifetimes
            // than a start-up only churn instances.
            if !(rate.is_finite() && (0.0..=60.0).contains(&rate)) {
                return Err(at.err(
                    &format!("{srel}.interruptions_per_hour"),
                    format!("interruptions_per_hour is between 0 and 60, got {rate}"),
                ));
            }
            if sp
                .notice
                .is_some_and(|n| n.0 > SimDuration::from_secs(3600))
            {
                return Err(at.err(
                    &format!("{srel}.notice"),
                    "a spot notice is at most an hour (AWS gives 2 minutes)",
                ));
            }
            if let Some(p) = sp.price_per_hour {
                if !(p.is_finite() && p >= 0.0) {
                    return Err(at.err(
                        &format!("{srel}.price_per_hour"),
                        format!("a price is zero or more, got {p}"),
                    ));
                }
            }
            Some(SpotSpec {
                price_per_hour: sp.price_per_hour.unwrap_or(
                    t.on_demand_per_hour * crate::components::cost::DEFAULT_SPOT_FRACTION,
                ),
                interruptions_per_hour: rate,
                notice: sp.notice.map_or(SimDuration::ZERO, |d| d.0),
            })
        }
    };
    Ok(CostSpec {
        instance_type: t.name.clone(),
        on_demand_per_hour: t.on_demand_per_hour,
        reserved,
        reserved_per_hour: t.reserved_per_hour,
        spot,
    })
}

fn service(
    name: &str,
    s: &RawService,
    at: At,
    rel: &str,
    types: &[crate::components::cost::InstanceType],
) -> Result<ServiceSpec, ConfigError> {
    int_in(
        at,
        &format!("{rel}.replicas"),
        s.replicas,
        0,
        MAX_INSTANCES,
        "replicas",
    )?;
    let i = &s.instance;
    let irel = format!("{rel}.instance");
    let instance = instance_shape(i, at, &irel)?;
    let balancer = match s.balancer {
        None | Some(RawBalancer::RoundRobin {}) => BalancerSpec::RoundRobin,
        Some(RawBalancer::Random {}) => BalancerSpec::Random,
        Some(RawBalancer::LeastConnections {}) => BalancerSpec::LeastConnections,
        Some(RawBalancer::Queue { max_length }) => BalancerSpec::Queue {
            max_length: match max_length {
                Some(v) if v < 0 || v > i64::from(u32::MAX) => {
                    return Err(at.err(
                        &format!("{rel}.balancer.max_length"),
                        format!("max_length must be between 0 and {}, got {v}", u32::MAX),
                    ));
                }
                Some(v) => v as u32,
                None => u32::MAX,
            },
        },
    };
    if matches!(balancer, BalancerSpec::Queue { .. }) && i.concurrency_limit.is_none() {
        return Err(at.err(
            &format!("{irel}.concurrency_limit"),
            "a worker pool (`queue` balancer) takes messages while a worker is free: set the instance's concurrency_limit (workers per instance)",
        ));
    }
    if matches!(balancer, BalancerSpec::Queue { .. }) && i.queue_limit.is_some() {
        return Err(at.err(
            &format!("{irel}.queue_limit"),
            "messages of a worker pool wait in the queue (`balancer.max_length`), not on an instance",
        ));
    }
    if s.endpoints.is_empty() {
        return Err(at.err(
            &format!("{rel}.endpoints"),
            "a service needs at least one endpoint",
        ));
    }
    let mut endpoints = Vec::new();
    for (ename, e) in &s.endpoints {
        let erel = format!("{rel}.endpoints.{ename}");
        check_name(at, &erel, ename, "endpoint")?;
        if e.steps.is_empty() {
            return Err(at.err(
                &format!("{erel}.steps"),
                "an endpoint needs at least one step (cpu, block, io, call, enqueue, parallel or branch)",
            ));
        }
        let steps = super::steps::steps(&e.steps, at, &format!("{erel}.steps"), 0)?;
        endpoints.push(EndpointSpec {
            name: ename.clone(),
            steps,
        });
    }
    let lifecycle = match &s.lifecycle {
        None => LifecycleSpec::default(),
        Some(l) => {
            let d = LifecycleSpec::default();
            LifecycleSpec {
                provisioning: l.provisioning.map_or(d.provisioning, |x| x.0),
                startup: l.startup.map_or(d.startup, |x| x.0),
                readiness: l.readiness.map_or(d.readiness, |x| x.0),
                drain_timeout: l.drain_timeout.map_or(d.drain_timeout, |x| x.0),
            }
        }
    };
    let cost = match &s.cost {
        Some(c) => Some(resolve_cost(c, types, at, &format!("{rel}.cost"))?),
        None => None,
    };
    let mut schedule: Vec<ScheduledScaling> = Vec::new();
    for (k, a) in s.schedule.iter().flatten().enumerate() {
        let arel = format!("{rel}.schedule[{k}]");
        let replicas = match a.replicas {
            Some(r) => Some(int_in(
                at,
                &format!("{arel}.replicas"),
                r,
                0,
                MAX_INSTANCES,
                "replicas",
            )?),
            None => None,
        };
        if schedule.last().is_some_and(|p| a.at.0 < p.at) {
            return Err(at.err(
                &format!("{arel}.at"),
                format!(
                    "scheduled actions must be in time order; \"{}\" comes before the previous one",
                    a.at.0
                ),
            ));
        }
        let resize = match &a.resize {
            None => None,
            Some(r) => {
                let rrel = format!("{arel}.resize");
                let shape = instance_shape(&r.instance, at, &format!("{rrel}.instance"))?;
                if matches!(balancer, BalancerSpec::Queue { .. })
                    && shape.concurrency_limit == u32::MAX
                {
                    return Err(at.err(
                        &format!("{rrel}.instance.concurrency_limit"),
                        "a worker pool's instances need a concurrency_limit (workers per instance)",
                    ));
                }
                let new_cost = match (&r.instance_type, &s.cost) {
                    (None, _) => None,
                    (Some(_), None) => {
                        return Err(at.err(
                            &format!("{rrel}.instance_type"),
                            "the service has no `cost`, so an instance type would price nothing; give the service a cost first",
                        ));
                    }
                    (Some(name), Some(c)) => {
                        let raw = RawCost {
                            instance_type: name.clone(),
                            reserved: c.reserved,
                            spot: None,
                        };
                        let mut priced = resolve_cost(&raw, types, at, &rrel)?;
                        // The spot market, if any, carries over at the same discount.
                        if let (Some(fraction), Some(old)) = (
                            cost_spot_fraction(c, types),
                            cost.as_ref().and_then(|c| c.spot),
                        ) {
                            priced.spot = Some(SpotSpec {
                                price_per_hour: priced.on_demand_per_hour * fraction,
                                ..old
                            });
                        }
                        Some(priced)
                    }
                };
                Some(Resize {
                    instance: shape,
                    cost: new_cost,
                    rolling: matches!(r.strategy, Some(RawResizeStrategy::Rolling)),
                })
            }
        };
        if replicas.is_none() && resize.is_none() {
            return Err(at.err(
                &arel,
                "a scheduled action sets `replicas`, `resize`, or both",
            ));
        }
        schedule.push(ScheduledScaling {
            at: a.at.0,
            replicas,
            resize,
        });
    }
    Ok(ServiceSpec {
        name: name.to_string(),
        replicas: s.replicas as u32,
        balancer,
        endpoints,
        lifecycle,
        schedule,
        cost,
        autoscaler: match &s.autoscaler {
            Some(a) => Some(super::autoscaler::autoscaler(
                a,
                at,
                &format!("{rel}.autoscaler"),
                &instance,
                &lifecycle,
            )?),
            None => None,
        },
        instance,
        deadlines: crate::components::service::DeadlineSpec {
            queue_timeout: match s.queue_timeout {
                Some(d) => Some(positive_duration(
                    at,
                    &format!("{rel}.queue_timeout"),
                    d,
                    "queue_timeout",
                )?),
                None => None,
            },
            propagate: s.propagate_deadlines.unwrap_or(false),
            cancel_abandoned: s.cancel_abandoned.unwrap_or(false),
        },
    })
}

/// The spot price as a fraction of on-demand, for a priced service on spot capacity.
fn cost_spot_fraction(c: &RawCost, types: &[crate::components::cost::InstanceType]) -> Option<f64> {
    let spot = c.spot.as_ref()?;
    let t = types.iter().find(|t| t.name == c.instance_type)?;
    Some(match spot.price_per_hour {
        Some(p) if t.on_demand_per_hour > 0.0 => p / t.on_demand_per_hour,
        _ => crate::components::cost::DEFAULT_SPOT_FRACTION,
    })
}

/// Resolves an instance shape.
fn instance_shape(i: &RawInstance, at: At, irel: &str) -> Result<InstanceSpec, ConfigError> {
    let cores = int_in(at, &format!("{irel}.cores"), i.cores, 1, MAX_CORES, "cores")?;
    let concurrency_limit = match i.concurrency_limit {
        Some(v) => positive_int(
            at,
            &format!("{irel}.concurrency_limit"),
            v,
            "concurrency_limit",
        )?,
        None => u32::MAX,
    };
    let queue_limit = match i.queue_limit {
        Some(v) if v < 0 || v > i64::from(u32::MAX) => {
            return Err(at.err(
                &format!("{irel}.queue_limit"),
                format!("queue_limit must be zero or more, got {v}"),
            ));
        }
        Some(v) => v as u32,
        None => u32::MAX,
    };
    if i.queue_limit.is_some() && i.concurrency_limit.is_none() {
        return Err(at.err(
            &format!("{irel}.queue_limit"),
            "queue_limit only applies to requests waiting for a concurrency slot; set concurrency_limit too",
        ));
    }
    let cpu_quantum = match i.cpu_quantum {
        Some(q) => Some(at_least(
            at,
            &format!("{irel}.cpu_quantum"),
            q,
            MIN_PACING,
            "cpu_quantum",
            "Linux gives a thread at least 0.75 ms; a shorter slice only multiplies events",
        )?),
        None => None,
    };
    let runtime = match i.runtime {
        None | Some(RawRuntime::ThreadPool) => Runtime::ThreadPool,
        Some(RawRuntime::EventLoop) => Runtime::EventLoop,
    };
    let workers = match i.workers {
        None => cores,
        Some(_) if runtime != Runtime::EventLoop => {
            return Err(at.err(
                &format!("{irel}.workers"),
                "workers applies to the event_loop runtime (a thread pool uses every core)",
            ));
        }
        Some(w) => int_in(
            at,
            &format!("{irel}.workers"),
            w,
            1,
            i64::from(cores),
            "workers",
        )?,
    };
    let memory = match &i.memory {
        Some(m) => Some(memory(m, at, &format!("{irel}.memory"))?),
        None => None,
    };
    Ok(InstanceSpec {
        cores,
        runtime,
        concurrency_limit,
        queue_limit,
        cpu_quantum,
        workers,
        memory,
    })
}

/// Resolves an instance's memory model.
fn memory(m: &RawMemory, at: At, rel: &str) -> Result<MemorySpec, ConfigError> {
    // Up to a petabyte: anything more is a typo, and the arithmetic stays far from overflow.
    let bytes = |v: Size, field: &str, zero_ok: bool| -> Result<u64, ConfigError> {
        if !v.0.is_finite() || v.0 < 0.0 || (!zero_ok && v.0 < 1.0) || v.0 > 1e15 {
            let least = if zero_ok { "zero" } else { "one byte" };
            return Err(at.err(
                &format!("{rel}.{field}"),
                format!(
                    "{field} must be between {least} and 1 PB, got {} bytes",
                    v.0
                ),
            ));
        }
        Ok(v.0.round() as u64)
    };
    let spec = MemorySpec {
        base_bytes: bytes(m.base, "base", true)?,
        per_request_bytes: match m.per_request {
            Some(v) => bytes(v, "per_request", true)?,
            None => 0,
        },
        limit_bytes: m.limit.map(|v| bytes(v, "limit", false)).transpose()?,
        request_bytes: m.request.map(|v| bytes(v, "request", false)).transpose()?,
    };
    if let Some(limit) = spec.limit_bytes {
        if spec.base_bytes >= limit {
            return Err(at.err(
                &format!("{rel}.base"),
                format!(
                    "an instance whose base memory ({} bytes) is not under its limit ({limit} bytes) could never start",
                    spec.base_bytes
                ),
            ));
        }
    }
    Ok(spec)
}

/// Resolves a distribution over any quantity.
pub(crate) fn dist<Q: Quantity>(raw: &RawDist<Q>, at: At, rel: &str) -> Result<Dist, ConfigError> {
    nested_dist(raw, at, rel, 1)
}

/// Resolves a distribution that, if it is a mixture, would be `depth` mixtures deep.
fn nested_dist<Q: Quantity>(
    raw: &RawDist<Q>,
    at: At,
    rel: &str,
    depth: usize,
) -> Result<Dist, ConfigError> {
    let b = |q: &Q| q.base();
    let built = match raw {
        RawDist::Shorthand(q) => Dist::constant(b(q)),
        RawDist::Spec(spec) => match spec {
            DistSpec::Constant { value } => Dist::constant(b(value)),
            DistSpec::Exponential { mean } => Dist::exponential(b(mean)),
            DistSpec::Uniform { min, max } => Dist::uniform(b(min), b(max)),
            DistSpec::Normal { mean, std_dev } => Dist::normal(b(mean), b(std_dev)),
            DistSpec::Lognormal {
                mean,
                p99,
                mu,
                sigma,
            } => match (mean, p99, mu, sigma) {
                (Some(m), Some(p), None, None) => Dist::lognormal_mean_p99(b(m), b(p)),
                (None, None, Some(mu), Some(s)) => Dist::lognormal_mu_sigma(*mu, *s),
                _ => {
                    return Err(at.err(rel, "a lognormal needs either `mean` and `p99`, or `mu` and `sigma` (of the natural log of the value in seconds or bytes)"));
                }
            },
            DistSpec::Gamma { shape, scale, mean } => match (scale, mean) {
                (Some(s), None) => Dist::gamma(*shape, b(s)),
                (None, Some(m)) if *shape > 0.0 => Dist::gamma(*shape, b(m) / shape),
                (None, Some(_)) => Dist::gamma(*shape, 1.0),
                _ => {
                    return Err(at.err(
                        rel,
                        "a gamma needs `shape` and exactly one of `scale` or `mean`",
                    ));
                }
            },
            DistSpec::Pareto { scale, shape } => Dist::pareto(b(scale), *shape),
            DistSpec::Empirical { values, weights } => {
                Dist::empirical(values.iter().map(b).collect(), weights.clone())
            }
            DistSpec::Mixture { components } => return mixture(components, at, rel, depth),
        },
    };
    built.map_err(|e| at.err(rel, format!("impossible distribution: {}", e.0)))
}

/// Resolves a mixture `depth` mixtures deep, each error at its component's path.
fn mixture<Q: Quantity>(
    components: &[RawMixtureComponent<Q>],
    at: At,
    rel: &str,
    depth: usize,
) -> Result<Dist, ConfigError> {
    if depth > MAX_MIXTURE_DEPTH {
        return Err(at.err(
            rel,
            format!(
                "mixtures nest at most {MAX_MIXTURE_DEPTH} deep; a mixture of mixtures is itself one mixture (weights multiply down the levels), so write this one flatter"
            ),
        ));
    }
    let crel = format!("{rel}.components");
    if components.is_empty() || components.len() > MAX_MIXTURE_COMPONENTS {
        return Err(at.err(
            &crel,
            format!(
                "a mixture needs 1 to {MAX_MIXTURE_COMPONENTS} components, each {{\"weight\": 0.9, \"dist\": ...}}; got {}",
                components.len()
            ),
        ));
    }
    let mut parts = Vec::with_capacity(components.len());
    for (i, c) in components.iter().enumerate() {
        let irel = format!("{crel}[{i}]");
        distribution::check_weight(c.weight).map_err(|e| at.err(&format!("{irel}.weight"), e.0))?;
        let d = nested_dist(&c.dist, at, &format!("{irel}.dist"), depth + 1)?;
        parts.push((c.weight, d));
    }
    Dist::mixture(parts).map_err(|e| at.err(&crel, format!("impossible mixture: {}", e.0)))
}

/// Resolves an open client's inter-arrival distribution: its mean must be finite (or the
/// client has no rate) and at least [`MIN_PACING`] (a zero mean sends infinitely often at one
/// instant; a tiny one only multiplies events).
fn interarrival(raw: &RawDist<Duration>, at: At, rel: &str) -> Result<Renewal, ConfigError> {
    let gap = dist(raw, at, rel)?;
    let Some(mean) = gap.mean() else {
        return Err(at.err(
            rel,
            "the time between arrivals needs a finite mean, or the client has no rate (a Pareto needs a shape above 1)",
        ));
    };
    if mean < MIN_PACING.as_secs_f64() {
        return Err(at.err(
            rel,
            format!(
                "the time between arrivals must average at least {MIN_PACING} ({:.0} requests/s per client), got {}; for more traffic use a `rate` or several clients",
                1.0 / MIN_PACING.as_secs_f64(),
                SimDuration::from_secs_f64(mean)
            ),
        ));
    }
    Renewal::new(gap).map_err(|e| at.err(rel, e.0))
}

/// Resolves a rate profile; trace files are read relative to `base_dir`.
pub(crate) fn rate_profile(
    raw: &RawRate,
    at: At,
    rel: &str,
    base_dir: &Path,
) -> Result<RateProfile, ConfigError> {
    let f = |field: &str| format!("{rel}.{field}");
    let secs = |d: &Duration| d.secs();
    let linear = |times: Vec<f64>, rates: Vec<f64>| RateProfile::Piecewise {
        times,
        rates,
        interpolation: Interpolation::Linear,
    };
    let profile = match raw {
        RawRate::Constant { rps } => RateProfile::constant(rate(at, &f("rps"), *rps, false)?),
        RawRate::Ramp {
            from_rps,
            to_rps,
            start,
            over,
        } => {
            let a = rate(at, &f("from_rps"), *from_rps, true)?;
            let z = rate(at, &f("to_rps"), *to_rps, true)?;
            let over = positive_duration(at, &f("over"), *over, "a ramp's `over`")?.as_secs_f64();
            let s = start.as_ref().map_or(0.0, secs);
            if a + z == 0.0 {
                return Err(at.err(rel, "a ramp from 0 to 0 sends nothing"));
            }
            linear(vec![s, s + over], vec![a, z])
        }
        RawRate::Step {
            from_rps,
            to_rps,
            at: when,
        } => {
            let a = rate(at, &f("from_rps"), *from_rps, true)?;
            let z = rate(at, &f("to_rps"), *to_rps, true)?;
            if a + z == 0.0 {
                return Err(at.err(rel, "a step from 0 to 0 sends nothing"));
            }
            RateProfile::Piecewise {
                times: vec![0.0, secs(when)],
                rates: vec![a, z],
                interpolation: Interpolation::Step,
            }
        }
        RawRate::Spike {
            baseline_rps,
            peak_rps,
            start,
            rise,
            plateau,
            decay,
        } => {
            let b = rate(at, &f("baseline_rps"), *baseline_rps, true)?;
            let p = rate(at, &f("peak_rps"), *peak_rps, false)?;
            let t0 = secs(start);
            let t1 = t0 + secs(rise);
            let t2 = t1 + secs(plateau);
            let t3 = t2 + secs(decay);
            // A zero-length phase gives two points at one time: a jump, which the piecewise
            // profile handles (the later point holds from that time on).
            let times = vec![0.0, t0, t1, t2, t3];
            let rates = vec![b, b, p, p, b];
            RateProfile::Piecewise {
                times,
                rates,
                interpolation: Interpolation::Linear,
            }
        }
        RawRate::Diurnal {
            mean_rps,
            amplitude,
            period,
            peak_at,
        } => {
            let mean = rate(at, &f("mean_rps"), *mean_rps, false)?;
            if !(0.0..=1.0).contains(amplitude) {
                return Err(at.err(
                    &f("amplitude"),
                    format!("amplitude is a fraction of the mean between 0 and 1, got {amplitude}"),
                ));
            }
            let period = match period {
                Some(p) => positive_duration(at, &f("period"), *p, "period")?.as_secs_f64(),
                None => 86_400.0,
            };
            let peak_at = peak_at.as_ref().map_or(period / 2.0, secs);
            RateProfile::Diurnal {
                mean,
                amplitude: *amplitude,
                period,
                peak_at,
            }
        }
        RawRate::Points {
            points,
            interpolation,
        } => {
            if points.is_empty() {
                return Err(at.err(&f("points"), "a points profile needs at least one point"));
            }
            let mut times = Vec::new();
            let mut rates = Vec::new();
            for (k, p) in points.iter().enumerate() {
                let t = secs(&p.at);
                if let Some(&prev) = times.last() {
                    if t < prev {
                        return Err(at.err(&format!("{rel}.points[{k}].at"), format!("points must be in time order; \"{}\" comes before the previous point (two points at one time make a jump)", p.at.0)));
                    }
                }
                times.push(t);
                rates.push(rate(at, &format!("{rel}.points[{k}].rps"), p.rps, true)?);
            }
            if rates.iter().all(|r| *r == 0.0) {
                return Err(at.err(&f("points"), "every point has rate 0, so nothing is sent"));
            }
            RateProfile::Piecewise {
                times,
                rates,
                interpolation: interp(*interpolation),
            }
        }
        RawRate::Trace {
            file,
            from,
            to,
            peak_rps,
            factor,
            interpolation,
        } => {
            let path = base_dir.join(file);
            let text = crate::input::read_text(&path, crate::input::MAX_TRACE_BYTES).map_err(
                |source| ConfigError::Read {
                    file: path.clone(),
                    what: "the trace file",
                    referenced_from: Some(super::error::Location {
                        file: at.file.to_path_buf(),
                        path: at.path(&f("file")),
                        line_column: None,
                    }),
                    source,
                },
            )?;
            let trace = Trace::parse(&text)
                .map_err(|e| at.err(&f("file"), format!("trace file {}: {e}", path.display())))?;
            if let Some(p) = peak_rps {
                rate(at, &f("peak_rps"), *p, false)?;
            }
            if let Some(x) = factor {
                if !(x.is_finite() && *x > 0.0) {
                    return Err(at.err(
                        &f("factor"),
                        format!("factor must be more than zero, got {x}"),
                    ));
                }
            }
            let replay = Replay {
                from: from.as_ref().map_or(trace.starts[0], secs),
                to: to.as_ref().map(secs),
                peak_rps: *peak_rps,
                factor: *factor,
                interpolation: match interpolation {
                    Some(RawInterpolation::Linear) => Interpolation::Linear,
                    _ => Interpolation::Step,
                },
            };
            trace
                .profile(&replay)
                .map_err(|e| at.err(rel, format!("trace file {}: {e}", path.display())))?
        }
        RawRate::Sum { of } => {
            if of.is_empty() {
                return Err(at.err(&f("of"), "a sum needs at least one profile"));
            }
            let parts = of
                .iter()
                .enumerate()
                .map(|(k, r)| rate_profile(r, at, &format!("{rel}.of[{k}]"), base_dir))
                .collect::<Result<Vec<_>, _>>()?;
            RateProfile::Sum(parts)
        }
        RawRate::Product { of } => {
            if of.is_empty() {
                return Err(at.err(&f("of"), "a product needs at least one profile"));
            }
            let parts = of
                .iter()
                .enumerate()
                .map(|(k, r)| rate_profile(r, at, &format!("{rel}.of[{k}]"), base_dir))
                .collect::<Result<Vec<_>, _>>()?;
            RateProfile::Product(parts)
        }
        RawRate::BlackFriday {
            baseline_mean_rps,
            amplitude,
            baseline_peak_at,
            event_start,
            peak_multiplier,
            pre_event_multiplier,
            ramp,
            surge,
            peak,
            tail,
        } => {
            let mean = rate(at, &f("baseline_mean_rps"), *baseline_mean_rps, false)?;
            let amplitude = amplitude.unwrap_or(0.5);
            if !(0.0..=1.0).contains(&amplitude) {
                return Err(at.err(
                    &f("amplitude"),
                    format!("amplitude is a fraction of the mean between 0 and 1, got {amplitude}"),
                ));
            }
            let peak_x = multiplier(at, &f("peak_multiplier"), *peak_multiplier)?;
            let pre_x = multiplier(
                at,
                &f("pre_event_multiplier"),
                pre_event_multiplier.or(Some(2.0)),
            )?;
            let d = |v: &Option<Duration>, default_s: f64| v.as_ref().map_or(default_s, secs);
            let start = secs(event_start);
            let ramp = d(ramp, 7200.0).min(start);
            let t_surge = start + d(surge, 300.0);
            let t_peak_end = t_surge + d(peak, 3600.0);
            let t_tail_end = t_peak_end + d(tail, 14_400.0);
            RateProfile::Product(vec![
                RateProfile::Diurnal {
                    mean,
                    amplitude,
                    period: 86_400.0,
                    peak_at: baseline_peak_at.as_ref().map_or(72_000.0, secs),
                },
                linear(
                    vec![start - ramp, start, t_surge, t_peak_end, t_tail_end],
                    vec![1.0, pre_x, peak_x, peak_x, 1.0],
                ),
            ])
        }
        RawRate::FlashSale {
            baseline_rps,
            start,
            multiplier: m,
            rise,
            duration,
            fall,
        } => {
            let b = rate(at, &f("baseline_rps"), *baseline_rps, false)?;
            let x = multiplier(at, &f("multiplier"), *m)?;
            let t0 = secs(start);
            let t1 = t0 + rise.as_ref().map_or(10.0, secs);
            let t2 = t1 + duration.as_ref().map_or(900.0, secs);
            let t3 = t2 + fall.as_ref().map_or(60.0, secs);
            linear(vec![0.0, t0, t1, t2, t3], vec![b, b, b * x, b * x, b])
        }
        RawRate::ProductLaunch {
            baseline_rps,
            start,
            multiplier: m,
            rise,
            duration,
            decay,
        } => {
            let b = rate(at, &f("baseline_rps"), *baseline_rps, false)?;
            let x = multiplier(at, &f("multiplier"), *m)?;
            let t0 = secs(start);
            let t1 = t0 + rise.as_ref().map_or(600.0, secs);
            let t2 = t1 + duration.as_ref().map_or(10_800.0, secs);
            let t3 = t2 + decay.as_ref().map_or(1800.0, secs);
            linear(vec![0.0, t0, t1, t2, t3], vec![b, b, b * x, b * x, b])
        }
    };
    // Composite profiles multiply and add: their peak is checked, not just their parts.
    let peak = profile.max_rate();
    if peak.is_nan() || peak > MAX_RPS {
        return Err(at.err(
            rel,
            format!("this profile peaks at {peak:e} requests/s, above the limit of {MAX_RPS:e}"),
        ));
    }
    Ok(profile)
}

/// A traffic multiplier: at least 1 (default 10), at most a million.
fn multiplier(at: At, rel: &str, v: Option<f64>) -> Result<f64, ConfigError> {
    let x = v.unwrap_or(10.0);
    if x.is_finite() && (1.0..=1e6).contains(&x) {
        Ok(x)
    } else {
        Err(at.err(
            rel,
            format!("a multiplier is between 1 and 1,000,000, got {x}"),
        ))
    }
}

fn interp(i: Option<RawInterpolation>) -> Interpolation {
    match i {
        None | Some(RawInterpolation::Linear) => Interpolation::Linear,
        Some(RawInterpolation::Step) => Interpolation::Step,
    }
}

/// Checks what of a client does not depend on the model, and returns an open client's
/// arrivals (`None` for a closed client).
pub(crate) fn client_arrivals(
    c: &RawClient,
    k: usize,
    at: At,
    base_dir: &Path,
) -> Result<Option<Arrivals>, ConfigError> {
    let rel = format!("workload[{k}]");
    let f = |field: &str| format!("{rel}.{field}");
    match c.kind {
        RawClientKind::Open => {
            for (present, field) in [
                (c.connections.is_some(), "connections"),
                (c.think.is_some(), "think"),
                (c.ramp_up.is_some(), "ramp_up"),
                (c.error_pause.is_some(), "error_pause"),
            ] {
                if present {
                    return Err(at.err(&f(field), format!("`{field}` only applies to closed-loop clients (\"kind\": \"closed\"); an open client sends at its `rate` or `interarrival` whatever the responses")));
                }
            }
            match (&c.rate, &c.interarrival) {
                (Some(r), None) => {
                    let profile = rate_profile(r, at, &f("rate"), base_dir)?;
                    Ok(Some(Arrivals::Poisson(Arc::new(profile))))
                }
                (None, Some(d)) => {
                    let renewal = interarrival(d, at, &f("interarrival"))?;
                    Ok(Some(Arrivals::Renewal(Arc::new(renewal))))
                }
                (Some(_), Some(_)) => Err(at.err(&f("interarrival"), "an open client has a `rate` (Poisson arrivals following a profile) or an `interarrival` distribution (the time between arrivals), not both; remove one")),
                (None, None) => Err(at.err(&rel, "an open client needs a `rate` profile, e.g. {\"kind\": \"constant\", \"rps\": 100}, or an `interarrival` distribution, e.g. \"10ms\"")),
            }
        }
        RawClientKind::Closed => {
            for (present, field) in [
                (c.rate.is_some(), "rate"),
                (c.interarrival.is_some(), "interarrival"),
            ] {
                if present {
                    return Err(at.err(&f(field), format!("a closed-loop client has no `{field}`: it sends when its previous response arrives; set `connections` (and optionally `think`)")));
                }
            }
            Ok(None)
        }
    }
}

/// Resolves a client against a model.
pub(crate) fn client(
    c: &RawClient,
    k: usize,
    arrivals: Option<Arrivals>,
    model: &Model,
    at: At,
    workload_at: At,
) -> Result<ClientSpec, ConfigError> {
    let rel = format!("workload[{k}]");
    let f = |field: &str| format!("{rel}.{field}");
    let name = c.name.clone().unwrap_or_else(|| format!("client{k}"));
    check_name(workload_at, &f("name"), &name, "client")?;
    if c.mix.is_empty() {
        return Err(workload_at.err(
            &f("mix"),
            "a client needs at least one `mix` entry naming a service and endpoint",
        ));
    }
    let mut weighted = Vec::new();
    for (m, e) in c.mix.iter().enumerate() {
        let mrel = format!("{rel}.mix[{m}]");
        let Some(s) = model.service_index(&e.service) else {
            let known: Vec<&str> = model.services.iter().map(|s| s.name.as_str()).collect();
            return Err(at.err(
                &format!("{mrel}.service"),
                format!(
                    "no service `{}` in the model (it has: {})",
                    e.service,
                    known.join(", ")
                ),
            ));
        };
        let svc = &model.services[s];
        let Some(ep) = svc.endpoints.iter().position(|x| x.name == e.endpoint) else {
            let known: Vec<&str> = svc.endpoints.iter().map(|x| x.name.as_str()).collect();
            return Err(at.err(
                &format!("{mrel}.endpoint"),
                format!(
                    "service `{}` has no endpoint `{}` (it has: {})",
                    e.service,
                    e.endpoint,
                    known.join(", ")
                ),
            ));
        };
        let w = e.weight.unwrap_or(1.0);
        // Weights are relative; a bound keeps their sum finite.
        if !(w > 0.0 && w <= 1e12) {
            return Err(workload_at.err(
                &format!("{mrel}.weight"),
                format!(
                    "weight must be more than zero and at most 1e12 (weights are relative), got {w}"
                ),
            ));
        }
        weighted.push((
            MixEntry {
                service: s as u32,
                endpoint: ep as u32,
            },
            w,
        ));
    }
    let timeout = match c.timeout {
        Some(t) => Some(positive_duration(workload_at, &f("timeout"), t, "timeout")?),
        None => None,
    };
    let kind = match arrivals {
        Some(arrivals) => ClientKind::Open { arrivals },
        None => {
            let Some(n) = c.connections else {
                return Err(workload_at.err(
                    &rel,
                    "a closed-loop client needs `connections`, e.g. 50 as in `autocannon -c 50`",
                ));
            };
            let connections = int_in(
                workload_at,
                &f("connections"),
                n,
                1,
                MAX_CONNECTIONS,
                "connections",
            )?;
            ClientKind::Closed {
                connections,
                think: match &c.think {
                    Some(d) => {
                        let think = dist(d, workload_at, &f("think"))?;
                        if think
                            .mean()
                            .is_some_and(|m| m > 0.0 && m < MIN_PACING.as_secs_f64())
                        {
                            return Err(workload_at.err(
                                &f("think"),
                                format!(
                                    "a think time averaging below {MIN_PACING} is no pause a person or a load generator makes, and only multiplies events; leave `think` out (no think time) or make it at least {MIN_PACING}"
                                ),
                            ));
                        }
                        Some(think)
                    }
                    None => None,
                },
                ramp_up: c.ramp_up.map_or(SimDuration::ZERO, |d| d.0),
                error_pause: match c.error_pause {
                    // Zero would let a connection whose requests all fail at once spin at one
                    // instant of virtual time for ever.
                    Some(d) => at_least(
                        workload_at,
                        &f("error_pause"),
                        d,
                        MIN_PACING,
                        "error_pause",
                        "shorter pauses only multiply the events of a connection whose requests fail at once",
                    )?,
                    None => SimDuration::from_millis(1),
                },
            }
        }
    };
    if let ClientKind::Closed { think, .. } = &kind {
        let no_think = think.as_ref().is_none_or(always_zero);
        for (m, e) in c.mix.iter().enumerate() {
            let svc = &model.services[model.service_index(&e.service).expect("resolved above")];
            let ep = svc
                .endpoints
                .iter()
                .find(|x| x.name == e.endpoint)
                .expect("resolved above");
            let instant = can_take_no_time(&ep.steps);
            if no_think && instant {
                return Err(at.err(
                    &format!("{rel}.mix[{m}]"),
                    format!("endpoint `{}.{}` takes no time and the client does not think, so its connections would send infinitely often at one instant; give the endpoint a duration or the client a `think` time", e.service, e.endpoint),
                ));
            }
        }
    }
    Ok(ClientSpec {
        name,
        kind,
        mix: Mix::new(weighted),
        timeout,
    })
}

/// Whether every step of `steps` can only take zero time of its own: its CPU and I/O always
/// zero and no network latency. (A call's callee may still take time; treating a call as
/// instant errs towards refusing a closed loop that could spin.)
fn can_take_no_time(steps: &[Step]) -> bool {
    steps.iter().all(|st| match st {
        Step::Cpu(d) | Step::Block(d) | Step::Io(d) => always_zero(d),
        Step::Call(c) => c.latency.as_ref().is_none_or(always_zero) && c.timeout.is_none(),
        Step::Enqueue(_) => true,
        Step::Parallel(p) => p.branches.iter().any(|b| can_take_no_time(b)),
        Step::Branch(arms) => arms.iter().any(|a| can_take_no_time(&a.steps)),
    })
}

/// Whether a distribution can only ever give zero: its values are never negative, so a mean
/// of zero is all the mass at zero (a constant, an empirical or a mixture of nothing but zeros).
fn always_zero(d: &Dist) -> bool {
    d.mean() == Some(0.0)
}

/// Resolves the SLO.
pub(crate) fn slo(raw: &RawSlo, at: At) -> Result<Slo, ConfigError> {
    let quantile = raw.quantile.unwrap_or(0.99);
    if !(quantile > 0.0 && quantile < 1.0) {
        return Err(at.err(
            "slo.quantile",
            format!("quantile must be between 0 and 1 (0.99 for p99), got {quantile}"),
        ));
    }
    if raw.latency.is_none() && raw.error_rate.is_none() {
        return Err(at.err(
            "slo",
            "an SLO needs a `latency` target, an `error_rate` target, or both",
        ));
    }
    let latency = match raw.latency {
        Some(l) => Some(positive_duration(
            at,
            "slo.latency",
            l,
            "the latency target",
        )?),
        None => None,
    };
    if let Some(e) = raw.error_rate {
        if !(0.0..=1.0).contains(&e) {
            return Err(at.err(
                "slo.error_rate",
                format!("error_rate is a fraction between 0 and 1, got {e}"),
            ));
        }
    }
    let window = match raw.window {
        Some(w) => positive_duration(at, "slo.window", w, "the SLO window")?,
        None => SimDuration::from_secs(60),
    };
    Ok(Slo {
        quantile,
        latency,
        error_rate: raw.error_rate,
        window,
    })
}
