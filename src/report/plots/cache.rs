//! `cache.svg`: each cache's hit ratio over time and the misses it passes on (those that run
//! the miss's steps, not those waiting for another's fill: the load its miss path, typically
//! a database, sees), one line per variant, from replication 0.

use super::chart::*;
use super::timeseries::{Shown, TimeAxis, shown, time_chart};
use super::{CACHE_FILE, Plot, PlotError};
use crate::experiment::RunResult;
use crate::metrics::timeseries::TimeSeriesRow;
use crate::report::Report;
use plotters::prelude::*;

/// The caches of the run, in model order.
fn caches(report: &Report) -> Vec<&str> {
    crate::report::union_keys(report.runs.iter().map(|r| &r.summary.caches))
        .into_iter()
        .map(String::as_str)
        .collect()
}

/// Hit ratio (%) and misses passed on per second over time: two panels per cache, one line per
/// variant; a bucket without lookups leaves a gap in the hit ratio. `None` without caches or
/// time-series rows.
pub fn cache(report: &Report, results: &[RunResult]) -> Result<Option<Plot>, PlotError> {
    let shown = shown(report, results);
    let caches = caches(report);
    if shown.iter().all(|s| s.rows().is_empty()) || caches.is_empty() {
        return Ok(None);
    }
    let time = TimeAxis::new(report, &shown);
    let ratio_axis = ValueAxis {
        lo: 0.0,
        hi: 104.0,
        ticks: vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0],
        log: false,
    };
    let at = |r: &TimeSeriesRow| time.x(r.t_s + r.width_s / 2.0);
    let misses_per_s = |r: &TimeSeriesRow, k: usize| -> Option<f64> {
        let c = r.caches.get(k)?;
        // Waiters for another request's fill pass nothing on.
        let passed = c.misses() - c.coalesced.min(c.misses());
        (r.width_s > 0.0).then(|| passed as f64 / r.width_s)
    };
    let height = HEADER_HEIGHT + 2 * PANEL_HEIGHT * caches.len() as u32;
    let svg = render_svg((WIDTH, height), |root| {
        let (header, body) = root.split_vertically(HEADER_HEIGHT);
        draw_title(
            &header,
            &format!(
                "{}: cache hit ratio and misses passed on (replication 0)",
                report.experiment
            ),
        )?;
        let (charts, legend_area) = body.split_horizontally(WIDTH - LEGEND_WIDTH);
        let cells = charts.split_evenly((2 * caches.len(), 1));
        for (k, name) in caches.iter().enumerate() {
            let ratio = time_chart(
                &cells[2 * k],
                (&format!("{name}: hit ratio"), BLACK),
                &time,
                &ratio_axis,
                "hits (%)",
                report,
            )?;
            let marks = ratio.plotting_area().strip_coord_spec();
            for s in &shown {
                let points: Vec<Option<(f64, f64)>> = s
                    .rows()
                    .iter()
                    .map(|r| {
                        let c = r.caches.get(k)?;
                        if c.lookups == 0 {
                            return None;
                        }
                        finite_point(at(r), 100.0 * c.hit_ratio())
                    })
                    .collect();
                in_series(&marks, &format!("{name} hit ratio: {}", s.name), || {
                    draw_lines(ratio.plotting_area(), &points, s.colour.stroke_width(2))
                })?;
            }
            let max = shown
                .iter()
                .flat_map(|s| s.rows().iter().filter_map(|r| misses_per_s(r, k)))
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            let misses = time_chart(
                &cells[2 * k + 1],
                (
                    &format!("{name}: misses passed on (the load on what a miss calls)"),
                    BLACK,
                ),
                &time,
                &ValueAxis::linear(max, 5, 0.0),
                "misses/s",
                report,
            )?;
            let marks = misses.plotting_area().strip_coord_spec();
            for s in &shown {
                let points: Vec<Option<(f64, f64)>> = s
                    .rows()
                    .iter()
                    .map(|r| finite_point(at(r), misses_per_s(r, k)?))
                    .collect();
                in_series(&marks, &format!("{name} misses: {}", s.name), || {
                    draw_lines(misses.plotting_area(), &points, s.colour.stroke_width(2))
                })?;
            }
        }
        let mut legend: Vec<(String, Swatch)> = shown
            .iter()
            .map(|s: &Shown<'_>| (s.name.to_string(), Swatch::Line(s.colour.into(), 3)))
            .collect();
        if report.warmup_s > 0.0 {
            legend.push(("warm-up".into(), Swatch::Block(WARMUP_SHADE)));
        }
        draw_legend(&legend_area, 20, &legend)
    })
    .map_err(|e| plot_error(CACHE_FILE, &e))?;
    Ok(Some(Plot {
        file_name: CACHE_FILE.to_string(),
        svg,
    }))
}
