//! A predictive policy from its file form: its forecasters, whole numbers of periods, what it
//! sizes by, and the history that trains it.

use super::{bounds, number_in, period_s};
use crate::autoscaler::forecast::ForecasterSpec;
use crate::autoscaler::predictive::PredictiveSpec;
use crate::components::lifecycle::LifecycleSpec;
use crate::config::raw::{RawForecaster, RawPredictive};
use crate::config::resolve::{At, rate_profile};
use crate::config::{ConfigError, quantity};
use crate::kernel::SimDuration;

pub(super) fn predictive(
    p: &RawPredictive,
    at: At,
    rel: &str,
    lifecycle: &LifecycleSpec,
) -> Result<PredictiveSpec, ConfigError> {
    let f = |field: &str| format!("{rel}.{field}");
    let (min_replicas, max_replicas) = bounds(at, rel, p.min_replicas, p.max_replicas, false)?;
    let period = period_s(at, rel, p.period, 60, "period")?;
    // Whole periods, so a season or window is a number of observations.
    let periods = |d: quantity::Duration, field: &str| -> Result<u32, ConfigError> {
        let n = d.secs() / period;
        if (n - n.round()).abs() > 1e-9 || n.round() < 1.0 || n > 1e6 {
            return Err(at.err(
                field,
                format!(
                    "must be a whole number of periods ({period} s), at most a million, got \"{}\"",
                    d.0
                ),
            ));
        }
        Ok(n.round() as u32)
    };
    let mut forecasters = Vec::new();
    match &p.forecasters {
        None => {
            forecasters.push(ForecasterSpec::HoltWinters {
                alpha: 0.3,
                beta: 0.05,
                gamma: 0.3,
                season_periods: periods(
                    quantity::Duration(SimDuration::from_secs(86_400)),
                    &f("period"),
                )?,
            });
            forecasters.push(ForecasterSpec::LinearTrend { window_periods: 10 });
        }
        Some(list) if list.is_empty() => {
            return Err(at.err(
                &f("forecasters"),
                "a predictive policy needs at least one forecaster",
            ));
        }
        Some(list) => {
            for (k, raw) in list.iter().enumerate() {
                let frel = f(&format!("forecasters[{k}]"));
                let unit = |v: Option<f64>, field: &str, default: f64| {
                    number_in(
                        at,
                        &format!("{frel}.{field}"),
                        v.unwrap_or(default),
                        0.0,
                        1.0,
                        field,
                    )
                };
                forecasters.push(match raw {
                    RawForecaster::HoltWinters {
                        alpha,
                        beta,
                        gamma,
                        season,
                    } => ForecasterSpec::HoltWinters {
                        alpha: unit(*alpha, "alpha", 0.3)?,
                        beta: unit(*beta, "beta", 0.05)?,
                        gamma: unit(*gamma, "gamma", 0.3)?,
                        season_periods: periods(
                            season.unwrap_or(quantity::Duration(SimDuration::from_secs(86_400))),
                            &format!("{frel}.season"),
                        )?,
                    },
                    RawForecaster::LinearTrend { window } => {
                        let n = match window {
                            Some(w) => periods(*w, &format!("{frel}.window"))?,
                            None => 10,
                        };
                        // The fit is O(window) per evaluation: a bound keeps runs finite.
                        if !(2..=10_000).contains(&n) {
                            return Err(at.err(
                                &format!("{frel}.window"),
                                format!("a line is fitted to 2 to 10,000 periods, got {n}"),
                            ));
                        }
                        ForecasterSpec::LinearTrend { window_periods: n }
                    }
                });
            }
        }
    }
    if p.requests_per_replica.is_none() && p.cpu_target.is_none() {
        return Err(at.err(rel, "a predictive policy sizes by `requests_per_replica`, `cpu_target` or both; give at least one"));
    }
    let requests_per_replica = p
        .requests_per_replica
        .map(|v| {
            number_in(
                at,
                &f("requests_per_replica"),
                v,
                1e-6,
                1e9,
                "requests_per_replica",
            )
        })
        .transpose()?;
    let cpu_target = match p.cpu_target {
        Some(v) if v > 0.0 && v <= 1.0 => Some(v),
        Some(v) => {
            return Err(at.err(
                &f("cpu_target"),
                format!("cpu_target is a utilisation above 0 and at most 1 (0.7 for 70%), got {v}"),
            ));
        }
        None => None,
    };
    let history = match &p.history {
        None => Vec::new(),
        Some(h) => {
            let hrel = f("history");
            let dir = at.dir;
            let profile = rate_profile(&h.rate, at, &format!("{hrel}.rate"), dir)?;
            let n = periods(h.duration, &format!("{hrel}.duration"))?;
            // The mean rate of each period, from eight points within it.
            (0..n)
                .map(|k| {
                    (0..8)
                        .map(|j| {
                            profile.rate_at((f64::from(k) + (f64::from(j) + 0.5) / 8.0) * period)
                        })
                        .sum::<f64>()
                        / 8.0
                })
                .collect()
        }
    };
    Ok(PredictiveSpec {
        min_replicas,
        max_replicas,
        period_s: period,
        look_ahead_s: p
            .look_ahead
            .map_or(lifecycle.time_to_ready().as_secs_f64(), |d| d.secs()),
        forecasters,
        requests_per_replica,
        cpu_target,
        scale_in_stabilization_s: p.scale_in_stabilization.map_or(300.0, |d| d.secs()),
        history,
    })
}
