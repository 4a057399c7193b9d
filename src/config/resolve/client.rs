//! Clients from their file form: an open client's arrivals (checked before the model is
//! known), then the client against the model: its mix, timeout, connections and pauses.

use super::{At, MIN_PACING, at_least, check_name, dist, int_in, positive_duration, rate_profile};
use crate::components::endpoint::Step;
use crate::config::ConfigError;
use crate::config::quantity::Duration;
use crate::config::raw::{RawClient, RawClientKind, RawDist};
use crate::distribution::Dist;
use crate::kernel::SimDuration;
use crate::model::Model;
use crate::workload::client::{ClientKind, ClientSpec, Mix, MixEntry};
use crate::workload::rate::Arrivals;
use crate::workload::renewal::Renewal;
use std::path::Path;
use std::sync::Arc;

/// Most closed-loop connections one client may have.
const MAX_CONNECTIONS: i64 = 1_000_000;

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
    let key = match &c.key {
        None => None,
        Some(name) => {
            let names: Vec<String> = model
                .data
                .keyspaces
                .iter()
                .map(|k| k.name.clone())
                .collect();
            let space =
                super::steps::lookup(&names, name, "key space", "keyspaces", at, &f("key"))?;
            let keys = model.data.keyspaces[space as usize].n;
            if let ClientKind::Closed { connections, .. } = &kind {
                if u64::from(*connections) > keys {
                    return Err(workload_at.err(
                        &f("key"),
                        format!(
                            "each connection is one user with a key of its own: `{name}` has {keys} keys for {connections} connections"
                        ),
                    ));
                }
            }
            Some(crate::ids::KeySpaceId(space))
        }
    };
    Ok(ClientSpec {
        name,
        kind,
        mix: Mix::new(weighted),
        timeout,
        key,
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
        // A hit skips the miss's steps.
        Step::CacheGet(_)
        | Step::CacheSet(_)
        | Step::Invalidate(_)
        | Step::CacheProbe(_)
        | Step::Fail(_) => true,
    })
}

/// Whether a distribution can only ever give zero: its values are never negative, so a mean
/// of zero is all the mass at zero (a constant, an empirical or a mixture of nothing but zeros).
fn always_zero(d: &Dist) -> bool {
    d.mean() == Some(0.0)
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
