//! From raw file types to the typed specs the simulation reads: names resolved to indices,
//! durations to ticks, impossible values refused with their JSON path.
//!
//! Here: where errors point ([`At`]), the checks every component shares, and the model as a
//! whole. Each component has its file: `service.rs` (with its cost, balancer, life cycle and
//! schedule), `instance.rs` (the shape and its memory), `steps.rs` (endpoint steps, the
//! binding of calls to their targets, the call-cycle check), `autoscaler/` (target tracking
//! and threshold rules; `predictive.rs`; `hpa.rs` with KEDA), `client.rs`, `rate.rs`
//! (arrival-rate profiles), `dist.rs` (distributions) and `slo.rs`.

mod autoscaler;
mod balancer;
mod cache_nodes;
mod client;
mod data;
mod database;
mod dist;
mod faults;
mod groups;
mod instance;
mod protection;
mod rate;
mod service;
mod shard;
mod slo;
mod steps;

pub(crate) use client::{client, client_arrivals};
pub(crate) use dist::dist;
pub(crate) use rate::rate_profile;
pub(crate) use slo::slo;

use super::error::ConfigError;
use super::quantity::Duration;
use super::raw::RawModel;
use crate::kernel::SimDuration;
use crate::model::Model;
use std::path::Path;

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

/// Resolves a model.
pub(crate) fn model(raw: &RawModel, at: At, default_name: &str) -> Result<Model, ConfigError> {
    if raw.services.is_empty() {
        return Err(at.err("services", "a model needs at least one service"));
    }
    let types = service::instance_types(raw, at)?;
    let mut services = Vec::with_capacity(raw.services.len());
    for (name, s) in &raw.services {
        let rel = format!("services.{name}");
        check_name(at, &rel, name, "service")?;
        services.push(service::service(name, s, at, &rel, &types)?);
    }
    let keyspaces = data::keyspaces(raw, at)?;
    for ((name, s), spec) in raw.services.iter().zip(&mut services) {
        if let Some(sh) = &s.shards {
            let rel = format!("services.{name}");
            spec.sharding = Some(shard::sharding(s, sh, &keyspaces, at, &rel)?);
        }
    }
    let caches = data::caches(&raw.caches, &keyspaces, at)?;
    let pools = data::pools(&raw.pools, at)?;
    let names = steps::DataNames {
        keyspaces: keyspaces.iter().map(|k| k.name.clone()).collect(),
        caches: caches.iter().map(|c| c.name.clone()).collect(),
        pools: pools.iter().map(|p| p.name.clone()).collect(),
    };
    let node_of = cache_nodes::give_operations(raw, &mut services, &caches, at)?;
    if let Some(s) = services.iter().find(|s| s.endpoints.is_empty()) {
        return Err(at.err(
            &format!("services.{}.endpoints", s.name),
            "a service needs at least one endpoint (a cache's nodes have theirs from the cache)",
        ));
    }
    steps::link(&mut services, &names, at)?;
    cache_nodes::rewrite(&mut services, &caches, &node_of);
    let (services, shards) = shard::expand(services, &keyspaces, at)?;
    let mut caches = caches;
    data::cache_targets(raw, &mut caches, &services, at)?;
    data::stale_needs_writes(&caches, &services, at)?;
    Ok(Model::new(
        raw.name.clone().unwrap_or_else(|| default_name.to_string()),
        raw.description.clone(),
        services,
        crate::model::DataTier {
            keyspaces,
            caches,
            shards,
            pools,
        },
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
