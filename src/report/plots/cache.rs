//! `cache.svg`: each cache's hit ratio over time and the misses it passes on (those that run
//! the miss's steps, not those waiting for another's fill: the load its miss path, typically
//! a database, sees), and a write-behind cache's writes to its database (solid) and those it
//! lost (dashed), one line per variant, from replication 0.

use super::chart::*;
use super::timeseries::{Shown, TimeAxis, shown, time_chart};
use super::{CACHE_FILE, Plot, PlotError};
use crate::experiment::RunResult;
use crate::metrics::timeseries::TimeSeriesRow;
use crate::report::Report;
use plotters::prelude::*;

/// The panels of a cache: its lookups (two panels) if any variant looked in it, its writes
/// behind (one) if any variant's writes behind.
struct Panels<'a> {
    name: &'a str,
    /// Its position among the caches (and in each time-series row's).
    index: usize,
    looked: bool,
    behind: bool,
}

/// The caches of the run with something to draw, in model order.
fn caches(report: &Report) -> Vec<Panels<'_>> {
    crate::report::union_keys(report.runs.iter().map(|r| &r.summary.caches))
        .into_iter()
        .enumerate()
        .map(|(index, name)| {
            let of = |f: &dyn Fn(&crate::metrics::cache::CacheSummary) -> bool| {
                report
                    .runs
                    .iter()
                    .filter_map(|r| r.summary.caches.get(name))
                    .any(f)
            };
            Panels {
                name: name.as_str(),
                index,
                looked: of(&|c| c.lookups > 0),
                behind: of(&|c| c.write_behind.is_some()),
            }
        })
        .filter(|p| p.looked || p.behind)
        .collect()
}

/// Hit ratio (%) and misses passed on per second over time, two panels per cache looked in,
/// and writes behind per second, a panel per write-behind cache; one line per variant; a
/// bucket without lookups leaves a gap in the hit ratio. `None` without such caches or
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
    let per_second = |r: &TimeSeriesRow, n: u64| (r.width_s > 0.0).then(|| n as f64 / r.width_s);
    let panels: usize = caches
        .iter()
        .map(|p| 2 * usize::from(p.looked) + usize::from(p.behind))
        .sum();
    let height = HEADER_HEIGHT + PANEL_HEIGHT * panels as u32;
    let svg = render_svg((WIDTH, height), |root| {
        let (header, body) = root.split_vertically(HEADER_HEIGHT);
        draw_title(
            &header,
            &format!(
                "{}: {} (replication 0)",
                report.experiment,
                if caches.iter().any(|p| p.looked) {
                    "cache hit ratio and misses passed on"
                } else {
                    "cache writes behind"
                }
            ),
        )?;
        let (charts, legend_area) = body.split_horizontally(WIDTH - LEGEND_WIDTH);
        let cells = charts.split_evenly((panels, 1));
        let mut cell = cells.iter();
        for p in &caches {
            let (name, k) = (p.name, p.index);
            if p.behind {
                let flushed = |r: &TimeSeriesRow| per_second(r, r.caches.get(k)?.writes_flushed);
                let lost = |r: &TimeSeriesRow| per_second(r, r.caches.get(k)?.writes_lost);
                let max = shown
                    .iter()
                    .flat_map(|s| s.rows().iter().flat_map(|r| [flushed(r), lost(r)]))
                    .flatten()
                    .filter(|v| v.is_finite())
                    .fold(0.0, f64::max);
                let chart = time_chart(
                    cell.next().expect("a cell per panel"),
                    (
                        &format!("{name}: writes behind, written (solid) and lost (dashed)"),
                        BLACK,
                    ),
                    &time,
                    &ValueAxis::linear(max, 5, 0.0),
                    "writes/s",
                    report,
                )?;
                let marks = chart.plotting_area().strip_coord_spec();
                let writes_behind = |s: &&Shown<'_>| {
                    s.run.is_some_and(|r| {
                        r.output
                            .summary
                            .caches
                            .get(name)
                            .is_some_and(|c| c.write_behind.is_some())
                    })
                };
                for s in shown.iter().filter(writes_behind) {
                    let written: Vec<Option<(f64, f64)>> = s
                        .rows()
                        .iter()
                        .map(|r| finite_point(at(r), flushed(r)?))
                        .collect();
                    let lost: Vec<Option<(f64, f64)>> = s
                        .rows()
                        .iter()
                        .map(|r| finite_point(at(r), lost(r)?))
                        .collect();
                    in_series(&marks, &format!("{name} written: {}", s.name), || {
                        draw_lines(chart.plotting_area(), &written, s.colour.stroke_width(2))
                    })?;
                    in_series(&marks, &format!("{name} lost: {}", s.name), || {
                        draw_dashed_lines(
                            chart.plotting_area(),
                            &lost,
                            (6, 4),
                            s.colour.stroke_width(2),
                        )
                    })?;
                }
            }
            if !p.looked {
                continue;
            }
            let ratio = time_chart(
                cell.next().expect("a cell per panel"),
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
                cell.next().expect("a cell per panel"),
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
