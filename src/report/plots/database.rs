//! `database.svg`: each database's replication lag over time (how long after its commit on
//! the primary a write reached a replica: mean and longest per bucket) and the share of
//! replica reads that were stale, one line per variant, from replication 0.

use super::chart::*;
use super::timeseries::{Shown, TimeAxis, YLabels, shown, time_chart_labelled};
use super::{DATABASE_FILE, Plot, PlotError};
use crate::experiment::RunResult;
use crate::metrics::database::DatabaseCounts;
use crate::metrics::timeseries::TimeSeriesRow;
use crate::report::Report;
use plotters::prelude::*;

/// The databases of the run, in model order.
fn databases(report: &Report) -> Vec<&str> {
    report
        .runs
        .first()
        .map(|r| r.summary.databases.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Most tick labels on a lag axis: a panel's plotting area is about 160 pixels high, and
/// labels closer than about 25 pixels crowd one another.
const MAX_LAG_TICKS: usize = 6;

/// Where one variant's typical lag is more than this factor another's, the lag axis is
/// logarithmic, as `latency.svg`'s is past the same factor: a lag of milliseconds beside one
/// of seconds.
const LOG_SPAN: f64 = 20.0;

/// The width of the y tick labels and axis description: room for `500 ms`.
const Y_LABEL_PX: u32 = 74;

/// The lag axis: seconds shown in the unit that suits them.
struct LagScale {
    axis: ValueAxis,
    /// Seconds per axis unit (1 on a log axis, whose ticks carry their own unit).
    per: f64,
    desc: &'static str,
}

impl LagScale {
    /// Over lags (seconds, positive) from `lo` to `hi`, whose variants' typical (median)
    /// lags span `typical` (largest over smallest): log when that is more than [`LOG_SPAN`],
    /// linear from zero otherwise, in µs, ms or s by the largest. The typical lags decide,
    /// not the extremes: one variant whose lag grows from nothing to seconds reads best as
    /// the straight line it is, and its first buckets alone would make any range look wide.
    fn new(lo: f64, hi: f64, typical: f64) -> LagScale {
        if !(hi > 0.0 && hi.is_finite()) {
            return LagScale {
                axis: ValueAxis::linear(1.0, 5, 0.0),
                per: 1e-3,
                desc: "lag (ms)",
            };
        }
        if lo > 0.0 && typical > LOG_SPAN {
            // From the power of ten below the shortest lag, so that a tick is labelled
            // under the lowest line even when only powers of ten are left.
            let floor = 10f64.powf((lo.log10() + 1e-9).floor());
            return LagScale {
                axis: thin_log(ValueAxis::log(floor, hi), MAX_LAG_TICKS),
                per: 1.0,
                desc: "lag (log scale)",
            };
        }
        let (per, desc) = if hi >= 1.0 {
            (1.0, "lag (s)")
        } else if hi >= 1e-3 {
            (1e-3, "lag (ms)")
        } else {
            (1e-6, "lag (µs)")
        };
        LagScale {
            axis: ValueAxis::linear(hi / per, 5, 0.0),
            per,
            desc,
        }
    }

    /// Where a lag of `seconds` is drawn; `None` where a log axis cannot show it.
    fn y(&self, seconds: f64) -> Option<f64> {
        if self.axis.log && seconds <= 0.0 {
            return None;
        }
        Some(self.axis.position(seconds / self.per))
    }

    /// A tick's label: a number in the axis' unit, or on a log axis a duration with its unit.
    fn label(&self, position: f64) -> String {
        if self.axis.log {
            fmt_duration(self.axis.value(position))
        } else {
            fmt_num(position)
        }
    }
}

/// A log axis with at most `max` ticks: its powers of ten when 1-2-5 steps are too many,
/// then every second (third, ...) power of ten.
fn thin_log(mut axis: ValueAxis, max: usize) -> ValueAxis {
    if axis.ticks.len() <= max {
        return axis;
    }
    axis.ticks.retain(|t| (t - t.round()).abs() < 1e-9);
    let decades = axis.ticks.clone();
    let mut every = 2;
    while axis.ticks.len() > max {
        axis.ticks = decades
            .iter()
            .copied()
            .filter(|t| (t.round() as i64).rem_euclid(every) == 0)
            .collect();
        every += 1;
    }
    axis
}

/// `250 µs`, `1.5 ms`, `20 s`: a duration in seconds with the unit that keeps the number
/// between 1 and 1000 (below one microsecond, in µs).
fn fmt_duration(seconds: f64) -> String {
    // A tick at 10^-3 computed as 0.000999... is 1 ms, not 1000 µs.
    let at_least = |unit: f64| seconds * (1.0 + 1e-9) >= unit;
    if at_least(1.0) {
        format!("{} s", fmt_num(seconds))
    } else if at_least(1e-3) {
        format!("{} ms", fmt_num(seconds * 1e3))
    } else {
        format!("{} µs", fmt_num(seconds * 1e6))
    }
}

/// The bucket's mean and longest lag (seconds) of database `k`; `None` when no replica
/// applied a write committed in it.
fn lags(r: &TimeSeriesRow, k: usize) -> Option<(f64, f64)> {
    let d: &DatabaseCounts = r.databases.get(k)?;
    // The mean from the counts as `timeseries.csv` reads them back, so that `surge plot`
    // redraws this file byte for byte.
    (d.applied > 0).then(|| (d.mean_lag_s(), d.max_lag_ns as f64 / 1e9))
}

/// Stale reads, % of the replica reads answered in the bucket; `None` without any.
fn stale_percent(r: &TimeSeriesRow, k: usize) -> Option<f64> {
    let d = r.databases.get(k)?;
    (d.checked_reads > 0).then(|| 100.0 * d.stale_fraction())
}

/// The median of `values` (`None` when empty); NaN-free input assumed.
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// Stroke widths for one panel's lines, one per variant in drawing order: `base`, plus 2
/// pixels for every later variant whose line is the same. Variants share their random
/// streams, so two of them often measure exactly the same (every replica applies the same
/// writes at the same times, however many replicas there are); the one drawn first then
/// shows as a border around the one drawn over it instead of vanishing. O(n^2) lines.
fn nested_widths(lines: &[Vec<Option<(f64, f64)>>], base: u32) -> Vec<u32> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let drawn = line.iter().any(Option::is_some);
            let under = lines[i + 1..].iter().filter(|l| *l == line).count() as u32;
            if drawn { base + 2 * under } else { base }
        })
        .collect()
}

/// Replication lag and stale reads over time: two panels per database, one line per variant.
/// The lag panel draws each bucket's mean lag (solid) and longest lag (dashed) of the writes
/// committed in it, on a log axis when the variants' typical lags differ by more than 20x;
/// the stale panel draws stale reads as a percentage of the replica reads answered. A bucket
/// without a write applied (or without a replica read) leaves a gap, not a zero. Lines that
/// coincide are nested (see [`nested_widths`]). `None` without databases or time-series rows.
pub fn database(report: &Report, results: &[RunResult]) -> Result<Option<Plot>, PlotError> {
    let shown = shown(report, results);
    let databases = databases(report);
    if shown.iter().all(|s| s.rows().is_empty()) || databases.is_empty() {
        return Ok(None);
    }
    let time = TimeAxis::new(report, &shown);
    let at = |r: &TimeSeriesRow| time.x(r.t_s + r.width_s / 2.0);
    // A variant with no replica traffic in any database draws nothing; the legend says so.
    let silent: Vec<bool> = shown
        .iter()
        .map(|s| {
            s.rows().iter().all(|r| {
                (0..databases.len()).all(|k| lags(r, k).is_none() && stale_percent(r, k).is_none())
            })
        })
        .collect();
    if silent.iter().all(|&s| s) {
        // No replica in any variant applied a write or served a read: nothing to draw.
        return Ok(None);
    }
    let number = |p: f64| fmt_num(p);
    let height = HEADER_HEIGHT + 2 * PANEL_HEIGHT * databases.len() as u32;
    let svg = render_svg((WIDTH, height), |root| {
        let (header, body) = root.split_vertically(HEADER_HEIGHT);
        draw_title(
            &header,
            &format!(
                "{}: database replication lag and stale reads (replication 0)",
                report.experiment
            ),
        )?;
        let (charts, legend_area) = body.split_horizontally(WIDTH - LEGEND_WIDTH);
        let cells = charts.split_evenly((2 * databases.len(), 1));
        let mut gaps = false;
        let mut nested = false;
        for (k, name) in databases.iter().enumerate() {
            let (lo, hi) = shown
                .iter()
                .flat_map(|s| s.rows().iter().filter_map(|r| lags(r, k)))
                .flat_map(|(mean, max)| [mean, max])
                .filter(|v| v.is_finite() && *v > 0.0)
                .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            let typical: Vec<f64> = shown
                .iter()
                .filter_map(|s| {
                    median(
                        s.rows()
                            .iter()
                            .filter_map(|r| Some(lags(r, k)?.0))
                            .filter(|v| v.is_finite() && *v > 0.0)
                            .collect(),
                    )
                })
                .collect();
            let spread = typical.iter().copied().fold(0.0, f64::max)
                / typical.iter().copied().fold(f64::INFINITY, f64::min);
            let scale = LagScale::new(lo, hi, spread);
            let label = |p: f64| scale.label(p);
            let lag = time_chart_labelled(
                &cells[2 * k],
                (
                    &format!("{name}: replication lag (from commit on the primary to a replica)"),
                    BLACK,
                ),
                &time,
                (
                    &scale.axis,
                    YLabels {
                        label: &label,
                        width_px: Y_LABEL_PX,
                    },
                ),
                scale.desc,
                report,
            )?;
            let marks = lag.plotting_area().strip_coord_spec();
            let line = |s: &Shown<'_>, pick: fn((f64, f64)) -> f64| -> Vec<Option<(f64, f64)>> {
                s.rows()
                    .iter()
                    .map(|r| finite_point(at(r), scale.y(pick(lags(r, k)?))?))
                    .collect()
            };
            let means: Vec<_> = shown.iter().map(|s| line(s, |l| l.0)).collect();
            let maxes: Vec<_> = shown.iter().map(|s| line(s, |l| l.1)).collect();
            let (mean_widths, max_widths) = (nested_widths(&means, 2), nested_widths(&maxes, 1));
            nested |= mean_widths.iter().any(|w| *w > 2);
            for (i, s) in shown.iter().enumerate() {
                let means = &means[i];
                gaps |= means.iter().any(Option::is_none) && means.iter().any(Option::is_some);
                in_series(&marks, &format!("{name} longest lag: {}", s.name), || {
                    draw_dashed_lines(
                        lag.plotting_area(),
                        &maxes[i],
                        (6, 4),
                        s.colour.stroke_width(max_widths[i]),
                    )
                })?;
                in_series(&marks, &format!("{name} mean lag: {}", s.name), || {
                    draw_lines(
                        lag.plotting_area(),
                        means,
                        s.colour.stroke_width(mean_widths[i]),
                    )
                })?;
            }
            let max = shown
                .iter()
                .flat_map(|s| s.rows().iter().filter_map(|r| stale_percent(r, k)))
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            let stale_axis = if max > 50.0 {
                ValueAxis {
                    lo: 0.0,
                    hi: 104.0,
                    ticks: vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0],
                    log: false,
                }
            } else {
                ValueAxis::linear(max, 4, 0.0)
            };
            let stale = time_chart_labelled(
                &cells[2 * k + 1],
                (&format!("{name}: stale reads (% of replica reads)"), BLACK),
                &time,
                (
                    &stale_axis,
                    YLabels {
                        label: &number,
                        width_px: Y_LABEL_PX,
                    },
                ),
                "stale reads (%)",
                report,
            )?;
            let marks = stale.plotting_area().strip_coord_spec();
            let lines: Vec<Vec<Option<(f64, f64)>>> = shown
                .iter()
                .map(|s| {
                    s.rows()
                        .iter()
                        .map(|r| finite_point(at(r), stale_percent(r, k)?))
                        .collect()
                })
                .collect();
            let widths = nested_widths(&lines, 2);
            nested |= widths.iter().any(|w| *w > 2);
            for ((s, points), width) in shown.iter().zip(&lines).zip(widths) {
                gaps |= points.iter().any(Option::is_none) && points.iter().any(Option::is_some);
                in_series(&marks, &format!("{name} stale reads: {}", s.name), || {
                    draw_lines(stale.plotting_area(), points, s.colour.stroke_width(width))
                })?;
            }
        }
        let mut legend: Vec<(String, Swatch)> = Vec::new();
        for (s, silent) in shown.iter().zip(&silent) {
            legend.push((s.name.to_string(), Swatch::Line(s.colour.into(), 3)));
            if *silent {
                legend.push(("no replica traffic".into(), Swatch::None));
            }
        }
        legend.push((String::new(), Swatch::None));
        legend.push(("mean lag".into(), Swatch::Line(DESIRED.into(), 2)));
        legend.push(("longest lag".into(), Swatch::Dashed(DESIRED)));
        if report.warmup_s > 0.0 {
            legend.push(("warm-up".into(), Swatch::Block(WARMUP_SHADE)));
        }
        if gaps {
            legend.push(("gap: nothing to measure".into(), Swatch::None));
        }
        if nested {
            legend.push(("a wide line beneath one:".into(), Swatch::None));
            legend.push(("the same values".into(), Swatch::None));
        }
        draw_legend(&legend_area, 20, &legend)
    })
    .map_err(|e| plot_error(DATABASE_FILE, &e))?;
    Ok(Some(Plot {
        file_name: DATABASE_FILE.to_string(),
        svg,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lags_are_labelled_in_the_unit_that_suits_them() {
        for (s, label) in [
            (0.000_25, "250 µs"),
            (0.001, "1 ms"),
            (10f64.powf(-3.0), "1 ms"),
            (0.0015, "1.5 ms"),
            (0.2, "200 ms"),
            (1.0, "1 s"),
            (20.0, "20 s"),
        ] {
            assert_eq!(fmt_duration(s), label, "{s}");
        }
        // 1.5 ms to 3 ms: linear, in ms.
        let near = LagScale::new(0.0015, 0.003, 1.2);
        assert!(!near.axis.log);
        assert_eq!(near.desc, "lag (ms)");
        assert_eq!(near.y(0.002), Some(2.0));
        // 1 ms to 20 s: log, at most six ticks, each a power of ten with its unit.
        let wide = LagScale::new(0.001, 20.0, 8_000.0);
        assert!(wide.axis.log);
        let labels: Vec<String> = wide.axis.ticks.iter().map(|t| wide.label(*t)).collect();
        assert_eq!(labels, ["1 ms", "10 ms", "100 ms", "1 s", "10 s"]);
        assert_eq!(wide.y(0.0), None, "no zero on a log axis");
        // 1.7 ms beside 17 s: from 1 ms, so that the lower line has a tick below it.
        let apart = LagScale::new(0.0017, 17.0, 5_000.0);
        let labels: Vec<String> = apart.axis.ticks.iter().map(|t| apart.label(*t)).collect();
        assert_eq!(labels, ["1 ms", "10 ms", "100 ms", "1 s", "10 s"]);
        let huge = LagScale::new(1e-6, 1e4, 1e10);
        assert!(
            huge.axis.ticks.len() <= MAX_LAG_TICKS,
            "{:?}",
            huge.axis.ticks
        );
        // One variant whose lag grows from 0.1 s to 17 s: linear, in s.
        let growing = LagScale::new(0.1, 17.0, 1.0);
        assert!(!growing.axis.log);
        assert_eq!(growing.desc, "lag (s)");
        // No lag at all: an empty linear axis in ms.
        assert!(!LagScale::new(f64::INFINITY, 0.0, f64::NAN).axis.log);
    }
}
