//! The service-level objective from its file form.

use super::{At, positive_duration};
use crate::config::ConfigError;
use crate::config::raw::RawSlo;
use crate::experiment::Slo;
use crate::kernel::SimDuration;

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
