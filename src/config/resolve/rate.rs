//! Arrival-rate profiles from their file form: rates bounded, points in order, traces read
//! and scaled, composite profiles checked at their peak.

use super::{At, positive_duration};
use crate::config::ConfigError;
use crate::config::quantity::Duration;
use crate::config::raw::{RawInterpolation, RawRate};
use crate::workload::rate::{Interpolation, RateProfile};
use crate::workload::trace::{Replay, Trace};
use std::path::Path;

/// Highest arrival rate, requests per second.
const MAX_RPS: f64 = 1e9;

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
                    referenced_from: Some(crate::config::Location {
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
