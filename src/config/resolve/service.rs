//! A service from its file form: replicas, balancer, endpoints, life cycle, the bill (its
//! instance type, reservation and spot market) and scheduled actions.

use super::instance::instance_shape;
use super::{At, MAX_INSTANCES, check_name, int_in, positive_duration};
use crate::components::balancer::BalancerSpec;
use crate::components::cost::SpotSpec;
use crate::components::endpoint::EndpointSpec;
use crate::components::lifecycle::LifecycleSpec;
use crate::components::service::{Resize, ScheduledScaling, ServiceSpec};
use crate::config::ConfigError;
use crate::config::raw::{RawCost, RawModel, RawResizeStrategy, RawService};
use crate::kernel::SimDuration;

/// The bundled catalogue with the model's own types added (a model's type of the same name
/// replaces the bundled one).
pub(super) fn instance_types(
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

pub(super) fn service(
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
    let (balancer, load_view) = super::balancer::balancer(s, at, rel)?;
    let groups = super::groups::groups(s, &instance, at, rel)?;
    let unlimited = std::iter::once((irel.clone(), &instance)).chain(
        groups
            .iter()
            .enumerate()
            .map(|(k, g)| (format!("{rel}.groups[{k}].instance"), &g.shape)),
    );
    if let Some((unlimited, _)) = unlimited
        .filter(|(_, shape)| shape.concurrency_limit == u32::MAX)
        .find(|_| matches!(balancer, BalancerSpec::Queue { .. }))
    {
        return Err(at.err(
            &format!("{unlimited}.concurrency_limit"),
            "a worker pool (`queue` balancer) takes messages while a worker is free: set the instance's concurrency_limit (workers per instance)",
        ));
    }
    if matches!(balancer, BalancerSpec::Queue { .. }) && i.queue_limit.is_some() {
        return Err(at.err(
            &format!("{irel}.queue_limit"),
            "messages of a worker pool wait in the queue (`balancer.max_length`), not on an instance",
        ));
    }
    if matches!(
        s.autoscaler,
        Some(crate::config::raw::RawAutoscaler::DatabaseReplicas(_))
    ) && s.database.as_ref().is_none_or(|d| d.replication.is_none())
    {
        return Err(at.err(
            &format!("{rel}.autoscaler"),
            "a `database_replicas` scaler scales read replicas: the service needs a `database` with `replication`",
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
        let query = super::database::query(s, e, at, &erel)?;
        endpoints.push(EndpointSpec {
            name: ename.clone(),
            steps,
            key_name: e.key.clone(),
            key: None,
            query,
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
    let zones = super::faults::zones(s, at, rel)?;
    let faults = super::faults::faults(s, &zones, at, rel)?;
    let health = super::faults::health(s, at, rel)?;
    let failures = super::faults::failures(s, at, rel)?;
    let sessions = sessions(s, at, rel)?;
    let (rate_limit, shedding) = super::protection::protection(s, at, rel)?;
    Ok(ServiceSpec {
        faults,
        failures,
        health,
        sessions,
        rate_limit,
        shedding,
        name: name.to_string(),
        replicas: s.replicas as u32,
        balancer,
        load_view,
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
        groups,
        weight: super::groups::weight(at, &format!("{rel}.weight"), s.weight)?,
        zones,
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
        sharding: None, // checked with the key spaces (`shard`)
        database: match &s.database {
            Some(d) => Some(super::database::database(s, d, at, rel)?),
            None => None,
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

/// The service's in-memory sessions: keyed by the request's key, so every endpoint names one.
fn sessions(
    s: &RawService,
    at: At,
    rel: &str,
) -> Result<Option<crate::components::session::SessionSpec>, ConfigError> {
    use crate::components::session::{OnMiss, SessionSpec};
    let Some(raw) = &s.sessions else {
        return Ok(None);
    };
    if let Some((name, _)) = s.endpoints.iter().find(|(_, e)| e.key.is_none()) {
        return Err(at.err(
            &format!("{rel}.endpoints.{name}.key"),
            "a service that keeps sessions finds them by the request's key: give each of its endpoints a `key` (the user's key space)",
        ));
    }
    if s.database.is_some()
        || matches!(
            s.balancer,
            Some(crate::config::raw::RawBalancer::Queue { .. })
        )
    {
        return Err(at.err(
            &format!("{rel}.sessions"),
            "sessions live on instances a balancer picks; a database or a worker pool routes its own way",
        ));
    }
    Ok(Some(SessionSpec {
        on_miss: match raw.on_miss {
            None | Some(crate::config::raw::RawOnMiss::Reauthenticate) => OnMiss::Reauthenticate,
            Some(crate::config::raw::RawOnMiss::Fail) => OnMiss::Fail,
        },
    }))
}
