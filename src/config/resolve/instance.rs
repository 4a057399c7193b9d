//! An instance shape from its file form: cores, runtime, admission limits, time slices,
//! event-loop workers and memory.

use super::{At, MIN_PACING, at_least, int_in};
use crate::components::instance::{InstanceSpec, MemorySpec, Runtime};
use crate::config::ConfigError;
use crate::config::quantity::Size;
use crate::config::raw::{RawInstance, RawMemory, RawRuntime};

/// Most cores one instance may have.
const MAX_CORES: i64 = 1024;

fn positive_int(at: At, rel: &str, v: i64, what: &str) -> Result<u32, ConfigError> {
    int_in(at, rel, v, 1, i64::from(u32::MAX), what)
}

/// Resolves an instance shape.
pub(super) fn instance_shape(
    i: &RawInstance,
    at: At,
    irel: &str,
) -> Result<InstanceSpec, ConfigError> {
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
    let contention = match &i.contention {
        None => None,
        Some(c) => {
            let crel = format!("{irel}.contention");
            if !(c.per_request > 0.0 && c.per_request <= 10.0) {
                return Err(at.err(
                    &format!("{crel}.per_request"),
                    format!("extra work per open request: above 0 and at most 10 (a fraction of the step's), got {}", c.per_request),
                ));
            }
            let above = match c.above {
                None => 1,
                Some(a) => int_in(
                    at,
                    &format!("{crel}.above"),
                    a,
                    0,
                    i64::from(u32::MAX),
                    "open requests",
                )?,
            };
            Some(crate::components::instance::Contention {
                per_request: c.per_request,
                above,
            })
        }
    };
    Ok(InstanceSpec {
        cores,
        runtime,
        concurrency_limit,
        queue_limit,
        cpu_quantum,
        workers,
        memory,
        contention,
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
