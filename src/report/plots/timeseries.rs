//! A run's plots over time: load and replicas, p99 latency, throughput, CPU utilisation and
//! errors by cause, each from replication 0 of every variant.

use super::chart::*;
use super::{
    CPU_FILE, ERRORS_FILE, LATENCY_FILE, Plot, PlotError, REPLICAS_FILE, THROUGHPUT_FILE,
    quantile_name, slo,
};
use crate::experiment::RunResult;
use crate::metrics::Outcome;
use crate::metrics::timeseries::{ServiceBucket, TimeSeriesRow};
use crate::report::Report;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A variant as the time-series plots show it: its replication 0, if it ran.
pub(super) struct Shown<'a> {
    pub(super) name: &'a str,
    pub(super) colour: RGBColor,
    pub(super) run: Option<&'a RunResult>,
}

impl Shown<'_> {
    pub(super) fn rows(&self) -> &[TimeSeriesRow] {
        self.run.map_or(&[], |r| &r.output.timeseries)
    }
}

pub(super) fn shown<'a>(report: &'a Report, results: &'a [RunResult]) -> Vec<Shown<'a>> {
    report
        .variants
        .keys()
        .enumerate()
        .map(|(i, name)| Shown {
            name,
            colour: variant_colour(i),
            run: results
                .iter()
                .find(|r| r.variant == *name && r.id.replication == 0),
        })
        .collect()
}

/// Load and replicas: a row per variant and a column per service; the requests sent to that
/// service per second on the left axis, desired, ready and starting replicas on the right.
/// Scales are shared down each column so rows compare at a glance. Each column is at least
/// [`MIN_SERVICE_WIDTH`] pixels wide, so many services widen the document instead of crowding
/// their ticks. `None` without time-series rows or services.
pub fn replicas(report: &Report, results: &[RunResult]) -> Result<Option<Plot>, PlotError> {
    let shown = shown(report, results);
    if shown.iter().all(|s| s.rows().is_empty()) {
        return Ok(None);
    }
    let services = services(report);
    if services.is_empty() {
        return Ok(None);
    }
    let time = TimeAxis::new(report, &shown);
    let load_axes: Vec<ValueAxis> = services
        .iter()
        .map(|name| {
            let max = service_buckets(&shown, name)
                .filter_map(|(row, b)| service_arrival_rate(row, b))
                .fold(0.0, f64::max);
            ValueAxis::linear(max, 5, 0.0)
        })
        .collect();
    let replica_axes: Vec<ValueAxis> = services
        .iter()
        .map(|name| {
            let max = service_buckets(&shown, name)
                .map(|(_, b)| b.desired.max(b.instances).max(b.starting))
                .max()
                .unwrap_or(0);
            ValueAxis::linear(f64::from(max), 5, 1.0)
        })
        .collect();
    let cells_width = (WIDTH - LEGEND_WIDTH + 60).max(MIN_SERVICE_WIDTH * services.len() as u32);
    let width = cells_width + LEGEND_WIDTH - 60;
    let height = HEADER_HEIGHT + PANEL_HEIGHT * shown.len() as u32;
    let svg = render_svg((width, height), |root| {
        let (header, body) = root.split_vertically(HEADER_HEIGHT);
        draw_title(
            &header,
            &format!(
                "{}: load and replicas per service over time (replication 0)",
                report.experiment
            ),
        )?;
        let rows = body.split_evenly((shown.len(), 1));
        for (s, row) in shown.iter().zip(&rows) {
            let (cells, legend_area) = row.split_horizontally(cells_width);
            let cells = cells.split_evenly((1, services.len()));
            for (((svc, cell), load), replica_axis) in services
                .iter()
                .zip(&cells)
                .zip(&load_axes)
                .zip(&replica_axes)
            {
                let caption = if services.len() > 1 {
                    format!("{} · {svc}", s.name)
                } else {
                    s.name.to_string()
                };
                let axes = PanelAxes {
                    time: &time,
                    load,
                    replicas: replica_axis,
                };
                replica_panel(cell, s, svc, &caption, &axes, report)?;
            }
            draw_legend(
                &legend_area,
                40,
                &[
                    (
                        "arrivals/s (left)".into(),
                        Swatch::Line(LOAD_GREY.into(), 2),
                    ),
                    ("ready replicas".into(), Swatch::Line(s.colour.into(), 3)),
                    ("desired replicas".into(), Swatch::Line(DESIRED.into(), 1)),
                    (
                        "starting replicas".into(),
                        Swatch::Line(starting_colour(s.colour), 2),
                    ),
                ]
                .into_iter()
                .chain(
                    services
                        .iter()
                        .any(|svc| rotation_differs(s, svc))
                        .then(|| ("in rotation".into(), Swatch::Line(ROTATION.into(), 2))),
                )
                .collect::<Vec<_>>(),
            )?;
        }
        Ok(())
    })
    .map_err(|e| plot_error(REPLICAS_FILE, &e))?;
    Ok(Some(Plot {
        file_name: REPLICAS_FILE.to_string(),
        svg,
    }))
}

/// The least width of one service's column in the replicas plot: room for its two value axes
/// and a time axis with a few readable ticks.
const MIN_SERVICE_WIDTH: u32 = 300;

/// The buckets of service `name` in each shown variant's rows, with their rows.
fn service_buckets<'a>(
    shown: &'a [Shown<'a>],
    name: &'a str,
) -> impl Iterator<Item = (&'a TimeSeriesRow, &'a ServiceBucket)> + 'a {
    shown.iter().flat_map(move |s| {
        let idx = s
            .run
            .and_then(|r| r.output.summary.services.get_index_of(name));
        s.rows().iter().filter_map(move |row| {
            let b = idx.and_then(|i| row.services.get(i))?;
            Some((row, b))
        })
    })
}

/// Requests sent to one service per second in a bucket.
fn service_arrival_rate(r: &TimeSeriesRow, b: &ServiceBucket) -> Option<f64> {
    let rate = b.arrivals as f64 / r.width_s;
    (r.width_s > 0.0 && rate.is_finite()).then_some(rate)
}

fn starting_colour(c: RGBColor) -> RGBAColor {
    c.mix(0.45)
}

/// The axes one panel of the replicas plot shares with the others.
struct PanelAxes<'a> {
    time: &'a TimeAxis,
    load: &'a ValueAxis,
    replicas: &'a ValueAxis,
}

fn replica_panel(
    cell: &Area<'_>,
    s: &Shown<'_>,
    service: &str,
    caption: &str,
    axes: &PanelAxes<'_>,
    report: &Report,
) -> Drawn {
    let PanelAxes {
        time,
        load,
        replicas,
    } = *axes;
    let x_fmt = |v: &f64| fmt_num(*v);
    let y_fmt = |v: &f64| fmt_num(*v);
    let mut chart = ChartBuilder::on(cell)
        .caption(
            caption,
            (FONT, 15, FontStyle::Bold).into_font().color(&s.colour),
        )
        .margin(6)
        .margin_top(2)
        .x_label_area_size(34)
        .y_label_area_size(58)
        .right_y_label_area_size(46)
        .build_cartesian_2d(time.coord(plot_width(cell, 6 + 6 + 58 + 46)), load.coord())?
        .set_secondary_coord(
            time.coord(plot_width(cell, 6 + 6 + 58 + 46)),
            replicas.coord(),
        );
    shade_warmup(&mut chart, report, time, load)?;
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_desc(time.desc)
        .y_desc("arrivals/s")
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(text_style(13, BLACK))
        .axis_desc_style(text_style(14, BLACK))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("replicas")
        .y_label_formatter(&y_fmt)
        .label_style(text_style(13, BLACK))
        .axis_desc_style(text_style(14, BLACK))
        .draw()?;
    let rows = s.rows();
    let marks = chart.plotting_area().strip_coord_spec();
    let Some(idx) = s
        .run
        .and_then(|r| r.output.summary.services.get_index_of(service))
    else {
        return Ok(());
    };
    let load_points: Vec<Option<(f64, f64)>> = rows
        .iter()
        .map(|r| {
            let b = r.services.get(idx)?;
            finite_point(time.x(r.t_s + r.width_s / 2.0), service_arrival_rate(r, b)?)
        })
        .collect();
    in_series(&marks, &format!("{caption}: arrivals/s"), || {
        draw_lines(
            chart.plotting_area(),
            &load_points,
            LOAD_GREY.stroke_width(1),
        )
    })?;
    // Counts hold at the end of a bucket.
    let series = |pick: fn(&ServiceBucket) -> u32| -> Vec<Option<(f64, f64)>> {
        rows.iter()
            .map(|r| {
                let b = r.services.get(idx)?;
                finite_point(time.x(r.t_s + r.width_s), f64::from(pick(b)))
            })
            .collect()
    };
    // Back to front: starting, desired, then ready on top.
    let area = chart.secondary_plotting_area();
    in_series(&marks, &format!("{caption}: starting replicas"), || {
        draw_lines(
            area,
            &series(|b| b.starting),
            starting_colour(s.colour).stroke_width(2),
        )
    })?;
    in_series(&marks, &format!("{caption}: desired replicas"), || {
        draw_lines(area, &series(|b| b.desired), DESIRED.stroke_width(1))
    })?;
    in_series(&marks, &format!("{caption}: ready replicas"), || {
        draw_lines(area, &series(|b| b.instances), s.colour.stroke_width(2))
    })?;
    // What the balancer sends to, where health checks make it differ from what is ready: a
    // dead instance not yet found out, a new one not yet passed.
    if rotation_differs(s, service) {
        in_series(&marks, &format!("{caption}: in rotation"), || {
            draw_lines(area, &series(|b| b.in_rotation), ROTATION.stroke_width(2))
        })?;
    }
    Ok(())
}

/// The colour of the replicas plot's in-rotation line.
const ROTATION: RGBColor = RGBColor(214, 39, 40);

/// Whether `service`'s instances in rotation differ from its ready ones in some bucket of `s`.
fn rotation_differs(s: &Shown, service: &str) -> bool {
    let Some(idx) = s
        .run
        .and_then(|r| r.output.summary.services.get_index_of(service))
    else {
        return false;
    };
    s.rows()
        .iter()
        .filter_map(|r| r.services.get(idx))
        .any(|b| b.in_rotation != b.instances)
}

/// p99 latency per bucket, one line per variant, in milliseconds; a log scale when the lines
/// span more than a factor of 20 (a drowning variant next to a healthy one), linear otherwise.
/// The SLO's latency target, when there is one, is a dashed red line, labelled with the SLO's
/// own quantile (the time series keeps p50 and p99 only, so the lines stay p99). Buckets
/// without a successful response (p99 of 0) break the lines. `None` when nothing has a latency.
pub fn latency(report: &Report, results: &[RunResult]) -> Result<Option<Plot>, PlotError> {
    let shown = shown(report, results);
    let time = TimeAxis::new(report, &shown);
    let lines: Vec<Vec<Option<(f64, f64)>>> = shown
        .iter()
        .map(|s| {
            s.rows()
                .iter()
                .map(|r| {
                    let p99_ms = r.p99_s * 1e3;
                    let point = finite_point(time.x(r.t_s + r.width_s / 2.0), p99_ms);
                    point.filter(|_| p99_ms > 0.0)
                })
                .collect()
        })
        .collect();
    let (mut lo, mut hi) = lines
        .iter()
        .flatten()
        .flatten()
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), &(_, y)| {
            (lo.min(y), hi.max(y))
        });
    if hi <= 0.0 {
        return Ok(None);
    }
    let slo = slo(report);
    let target_ms = slo
        .and_then(|s| s.latency_target_s)
        .map(|t| t * 1e3)
        .filter(|t| t.is_finite() && *t > 0.0);
    if let Some(t) = target_ms {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    let scale = if hi / lo > 20.0 {
        ValueAxis::log(lo, hi)
    } else {
        ValueAxis::linear(hi, 6, 0.0)
    };
    let svg = render_svg((WIDTH, 600), |root| {
        let (chart_area, legend_area) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let x_fmt = |v: &f64| fmt_num(*v);
        let y_fmt = |v: &f64| fmt_num(scale.value(*v));
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(
                format!(
                    "{}: p99 latency per {} s bucket (replication 0)",
                    report.experiment,
                    fmt_num(report.resolution_s)
                ),
                text_style(17, BLACK),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(
                time.coord(plot_width(&chart_area, 10 + 10 + 64)),
                scale.coord(),
            )?;
        shade_warmup(&mut chart, report, &time, &scale)?;
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_desc(time.desc)
            .y_desc(if scale.log {
                "p99 latency (ms, log scale)"
            } else {
                "p99 latency (ms)"
            })
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(text_style(13, BLACK))
            .axis_desc_style(text_style(14, BLACK))
            .draw()?;
        let marks = chart.plotting_area().strip_coord_spec();
        for (s, points) in shown.iter().zip(&lines) {
            let points: Vec<Option<(f64, f64)>> = points
                .iter()
                .map(|p| p.map(|(x, y)| (x, scale.position(y))))
                .collect();
            in_series(&marks, s.name, || {
                draw_lines(chart.plotting_area(), &points, s.colour.stroke_width(2))
            })?;
        }
        let mut legend: Vec<(String, Swatch)> = shown
            .iter()
            .map(|s| (s.name.to_string(), Swatch::Line(s.colour.into(), 3)))
            .collect();
        if let (Some(t), Some(slo)) = (target_ms, slo) {
            let y = scale.position(t);
            begin_series(&marks, "SLO target")?;
            chart.draw_series(DashedLineSeries::new(
                [(time.start, y), (time.end, y)],
                10,
                6,
                SLO_RED.stroke_width(2),
            ))?;
            end_series(&marks)?;
            legend.push((
                format!("SLO: {} ≤ {} ms", quantile_name(slo.quantile), fmt_num(t)),
                Swatch::Dashed(SLO_RED),
            ));
        }
        if report.warmup_s > 0.0 {
            legend.push(("warm-up (excluded)".into(), Swatch::Block(WARMUP_SHADE)));
        }
        if lines.iter().flatten().any(Option::is_none) {
            legend.push(("gap: no request succeeded".into(), Swatch::None));
        }
        draw_legend(&legend_area, 60, &legend)
    })
    .map_err(|e| plot_error(LATENCY_FILE, &e))?;
    Ok(Some(Plot {
        file_name: LATENCY_FILE.to_string(),
        svg,
    }))
}

fn arrival_rate(r: &TimeSeriesRow) -> Option<f64> {
    let rate = r.arrivals as f64 / r.width_s;
    (r.width_s > 0.0 && rate.is_finite()).then_some(rate)
}

/// The time axis: seconds for runs up to 5 minutes, minutes up to 5 hours, hours beyond.
pub(super) struct TimeAxis {
    per: f64,
    desc: &'static str,
    start: f64,
    end: f64,
}

impl TimeAxis {
    pub(super) fn new(report: &Report, shown: &[Shown<'_>]) -> TimeAxis {
        let from_rows = shown
            .iter()
            .flat_map(|s| s.rows().iter().map(|r| r.t_s + r.width_s))
            .filter(|t| t.is_finite())
            .fold(0.0, f64::max);
        let duration = if report.duration_s.is_finite() && report.duration_s > 0.0 {
            report.duration_s
        } else if from_rows > 0.0 {
            from_rows
        } else {
            1.0
        };
        let (per, desc) = if duration <= 300.0 {
            (1.0, "time (s)")
        } else if duration <= 5.0 * 3600.0 {
            (60.0, "time (min)")
        } else {
            (3600.0, "time (h)")
        };
        let end = duration / per;
        TimeAxis {
            per,
            desc,
            start: 0.0,
            end,
        }
    }

    pub(super) fn x(&self, seconds: f64) -> f64 {
        (seconds / self.per).min(self.end)
    }

    /// The axis across a plotting area `width_px` pixels wide: up to 8 intervals, fewer
    /// when their labels would run together.
    fn coord(&self, width_px: f64) -> Coord {
        let ticks = fitting_ticks(self.start, self.end, width_px, 8, fmt_num);
        Coord::new(self.start, self.end, &ticks)
    }
}

/// The plotting width left in `cell` once `taken` pixels of margins and label areas are
/// drawn beside it.
fn plot_width(cell: &Area<'_>, taken: u32) -> f64 {
    f64::from(cell.dim_in_pixel().0.saturating_sub(taken).max(1))
}

fn shade_warmup(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<Coord, Coord>>,
    report: &Report,
    time: &TimeAxis,
    y: &ValueAxis,
) -> Drawn {
    let end = time.x(report.warmup_s);
    if end.is_finite() && end > 0.0 {
        chart.draw_series([Rectangle::new(
            [(time.start, y.lo), (end, y.hi)],
            WARMUP_SHADE.filled(),
        )])?;
    }
    Ok(())
}

/// Arrivals and successful responses per second over time: a row per variant, on one shared
/// scale, so the gap between the grey and the coloured line is what the variant did not
/// serve (errors, or requests still queued). `None` without time-series rows.
pub fn throughput(report: &Report, results: &[RunResult]) -> Result<Option<Plot>, PlotError> {
    let shown = shown(report, results);
    if shown.iter().all(|s| s.rows().is_empty()) {
        return Ok(None);
    }
    let time = TimeAxis::new(report, &shown);
    let max = shown
        .iter()
        .flat_map(|s| s.rows())
        .flat_map(|r| [arrival_rate(r), Some(r.throughput_rps)])
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y = ValueAxis::linear(max, 5, 0.0);
    let title = format!(
        "{}: arrivals and successful responses per second (replication 0)",
        report.experiment
    );
    let svg = rows_of_panels(&title, shown.len(), |i, cell, legend_area| {
        let s = &shown[i];
        let chart = time_chart(cell, (s.name, s.colour), &time, &y, "requests/s", report)?;
        let marks = chart.plotting_area().strip_coord_spec();
        let rows = s.rows();
        let at = |r: &TimeSeriesRow| time.x(r.t_s + r.width_s / 2.0);
        let arrivals: Vec<Option<(f64, f64)>> = rows
            .iter()
            .map(|r| finite_point(at(r), arrival_rate(r)?))
            .collect();
        let ok: Vec<Option<(f64, f64)>> = rows
            .iter()
            .map(|r| finite_point(at(r), r.throughput_rps))
            .collect();
        in_series(&marks, &format!("{}: arrivals/s", s.name), || {
            draw_lines(chart.plotting_area(), &arrivals, LOAD_GREY.stroke_width(1))
        })?;
        in_series(&marks, &format!("{}: ok/s", s.name), || {
            draw_lines(chart.plotting_area(), &ok, s.colour.stroke_width(2))
        })?;
        let mut legend = vec![
            ("arrivals/s".into(), Swatch::Line(LOAD_GREY.into(), 2)),
            ("successful (ok)/s".into(), Swatch::Line(s.colour.into(), 3)),
        ];
        if report.warmup_s > 0.0 {
            legend.push(("warm-up".into(), Swatch::Block(WARMUP_SHADE)));
        }
        draw_legend(legend_area, 40, &legend)
    })
    .map_err(|e| plot_error(THROUGHPUT_FILE, &e))?;
    Ok(Some(Plot {
        file_name: THROUGHPUT_FILE.to_string(),
        svg,
    }))
}

/// CPU utilisation (busy over serving core-time, 0-100%) over time: a row per service, one
/// line per variant. `None` without time-series rows or services.
pub fn cpu(report: &Report, results: &[RunResult]) -> Result<Option<Plot>, PlotError> {
    let shown = shown(report, results);
    let services = services(report);
    if shown.iter().all(|s| s.rows().is_empty()) || services.is_empty() {
        return Ok(None);
    }
    let time = TimeAxis::new(report, &shown);
    let y = ValueAxis {
        lo: 0.0,
        hi: 104.0,
        ticks: vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0],
        log: false,
    };
    // One service alone gets a taller panel: a flat strip hides the shape of the load.
    let panel = if services.len() == 1 {
        360
    } else {
        PANEL_HEIGHT
    };
    let height = HEADER_HEIGHT + panel * services.len() as u32;
    let svg = render_svg((WIDTH, height), |root| {
        let (header, body) = root.split_vertically(HEADER_HEIGHT);
        draw_title(
            &header,
            &format!(
                "{}: CPU utilisation per service (replication 0)",
                report.experiment
            ),
        )?;
        let (charts, legend_area) = body.split_horizontally(WIDTH - LEGEND_WIDTH);
        for (svc, cell) in services
            .iter()
            .zip(charts.split_evenly((services.len(), 1)))
        {
            let chart = time_chart(&cell, (svc, BLACK), &time, &y, "CPU (%)", report)?;
            let marks = chart.plotting_area().strip_coord_spec();
            for s in &shown {
                let Some(idx) = s
                    .run
                    .and_then(|r| r.output.summary.services.get_index_of(*svc))
                else {
                    continue;
                };
                let points: Vec<Option<(f64, f64)>> = s
                    .rows()
                    .iter()
                    .map(|r| {
                        let b = r.services.get(idx)?;
                        finite_point(time.x(r.t_s + r.width_s / 2.0), 100.0 * b.cpu_utilisation)
                    })
                    .collect();
                in_series(&marks, &format!("{svc}: {}", s.name), || {
                    draw_lines(chart.plotting_area(), &points, s.colour.stroke_width(2))
                })?;
            }
        }
        let mut legend: Vec<(String, Swatch)> = shown
            .iter()
            .map(|s| (s.name.to_string(), Swatch::Line(s.colour.into(), 3)))
            .collect();
        if report.warmup_s > 0.0 {
            legend.push(("warm-up".into(), Swatch::Block(WARMUP_SHADE)));
        }
        draw_legend(&legend_area, 20, &legend)
    })
    .map_err(|e| plot_error(CPU_FILE, &e))?;
    Ok(Some(Plot {
        file_name: CPU_FILE.to_string(),
        svg,
    }))
}

/// Line colours for the errors plot, by cause: apart from one another, and dark or saturated
/// so that thin lines read on white. (Variants are named by panel, so causes may share hues
/// with the variant palette without confusion.)
fn cause_colour(o: Outcome) -> RGBColor {
    match o {
        Outcome::Rejected => RGBColor(214, 39, 40),
        Outcome::TimedOut => RGBColor(20, 20, 20),
        Outcome::NoInstance => RGBColor(127, 127, 127),
        Outcome::Killed => RGBColor(128, 0, 38),
        Outcome::OomKilled => RGBColor(197, 27, 138),
        Outcome::Interrupted => RGBColor(1, 102, 94),
        Outcome::Crashed => RGBColor(84, 39, 143),
        Outcome::RateLimited => RGBColor(31, 119, 180),
        Outcome::Shed => RGBColor(140, 86, 75),
        _ => RGBColor(255, 127, 14),
    }
}

/// Errors per second by cause over time: a row per variant on one shared scale, one line per
/// cause that occurs in any variant (every outcome but `ok`), so every panel has the same
/// lines and a variant without errors shows them flat at zero, marked "no errors".
/// `None` when no variant had a single error: the file is then left out, as every plot
/// without data is.
pub fn errors(report: &Report, results: &[RunResult]) -> Result<Option<Plot>, PlotError> {
    let shown = shown(report, results);
    let causes: Vec<Outcome> = Outcome::ALL
        .into_iter()
        .filter(|o| *o != Outcome::Ok)
        .filter(|o| {
            shown
                .iter()
                .flat_map(|s| s.rows())
                .any(|r| r.outcomes.get(*o) > 0)
        })
        .collect();
    if causes.is_empty() {
        return Ok(None);
    }
    let time = TimeAxis::new(report, &shown);
    let rate = |r: &TimeSeriesRow, o: Outcome| {
        let v = r.outcomes.get(o) as f64 / r.width_s;
        (r.width_s > 0.0 && v.is_finite()).then_some(v)
    };
    let max = shown
        .iter()
        .flat_map(|s| s.rows())
        .flat_map(|r| causes.iter().filter_map(move |o| rate(r, *o)))
        .fold(0.0, f64::max);
    let y = ValueAxis::linear(max, 5, 0.0);
    let title = format!(
        "{}: errors per second by cause (replication 0)",
        report.experiment
    );
    let svg = rows_of_panels(&title, shown.len(), |i, cell, legend_area| {
        let s = &shown[i];
        let chart = time_chart(cell, (s.name, s.colour), &time, &y, "errors/s", report)?;
        let marks = chart.plotting_area().strip_coord_spec();
        for o in &causes {
            let points: Vec<Option<(f64, f64)>> = s
                .rows()
                .iter()
                .map(|r| finite_point(time.x(r.t_s + r.width_s / 2.0), rate(r, *o)?))
                .collect();
            in_series(&marks, &format!("{}: {}", s.name, o.name()), || {
                draw_lines(
                    chart.plotting_area(),
                    &points,
                    cause_colour(*o).stroke_width(2),
                )
            })?;
        }
        if s.rows().iter().all(|r| r.outcomes.errors() == 0) {
            let width = marks.dim_in_pixel().0 as i32;
            marks.draw(&Text::new(
                "no errors",
                (width / 2, 16),
                text_style(15, BLACK).pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        let mut legend: Vec<(String, Swatch)> = causes
            .iter()
            .map(|o| {
                (
                    o.name().replace('_', " "),
                    Swatch::Line(cause_colour(*o).into(), 3),
                )
            })
            .collect();
        if report.warmup_s > 0.0 {
            legend.push(("warm-up".into(), Swatch::Block(WARMUP_SHADE)));
        }
        draw_legend(legend_area, 30, &legend)
    })
    .map_err(|e| plot_error(ERRORS_FILE, &e))?;
    Ok(Some(Plot {
        file_name: ERRORS_FILE.to_string(),
        svg,
    }))
}

/// The services of the run, in model order.
fn services(report: &Report) -> Vec<&str> {
    crate::report::union_keys(report.runs.iter().map(|r| &r.summary.services))
        .into_iter()
        .map(String::as_str)
        .collect()
}

/// A document of a title and `rows` rows, each a panel and its legend to the right; `draw`
/// fills row `i`'s panel and legend.
fn rows_of_panels(
    title: &str,
    rows: usize,
    mut draw: impl FnMut(usize, &Area<'_>, &Area<'_>) -> Drawn,
) -> Drawn<String> {
    let height = HEADER_HEIGHT + PANEL_HEIGHT * rows as u32;
    render_svg((WIDTH, height), |root| {
        let (header, body) = root.split_vertically(HEADER_HEIGHT);
        draw_title(&header, title)?;
        for (i, row) in body.split_evenly((rows, 1)).iter().enumerate() {
            let (cell, legend_area) = row.split_horizontally(WIDTH - LEGEND_WIDTH + 60);
            draw(i, &cell, &legend_area)?;
        }
        Ok(())
    })
}

/// A panel over time: caption (in the variant's colour), axes with units, warm-up shaded.
pub(super) fn time_chart<'a, 'b>(
    cell: &'a Area<'b>,
    caption: (&str, RGBColor),
    time: &TimeAxis,
    y: &ValueAxis,
    y_desc: &str,
    report: &Report,
) -> Drawn<ChartContext<'a, SVGBackend<'b>, Cartesian2d<Coord, Coord>>> {
    let y_labels = YLabels {
        label: &fmt_num,
        width_px: Y_LABEL_PX,
    };
    time_chart_labelled(cell, caption, time, (y, y_labels), y_desc, report)
}

/// The width of a time panel's y tick labels and axis description: room for `1500`.
pub(super) const Y_LABEL_PX: u32 = 58;

/// How a time panel labels its y ticks.
pub(super) struct YLabels<'a> {
    /// A tick's label, of its position on the axis (its log10 on a log axis).
    pub(super) label: &'a dyn Fn(f64) -> String,
    /// The width of the labels and the axis description beside them.
    pub(super) width_px: u32,
}

/// [`time_chart`] with the y ticks labelled as `y_labels` says.
pub(super) fn time_chart_labelled<'a, 'b>(
    cell: &'a Area<'b>,
    (caption, colour): (&str, RGBColor),
    time: &TimeAxis,
    (y, y_labels): (&ValueAxis, YLabels<'_>),
    y_desc: &str,
    report: &Report,
) -> Drawn<ChartContext<'a, SVGBackend<'b>, Cartesian2d<Coord, Coord>>> {
    let fmt = |v: &f64| fmt_num(*v);
    let y_fmt = |v: &f64| (y_labels.label)(*v);
    let mut chart = ChartBuilder::on(cell)
        .caption(
            caption,
            (FONT, 15, FontStyle::Bold).into_font().color(&colour),
        )
        .margin(6)
        .margin_top(2)
        .x_label_area_size(34)
        .y_label_area_size(y_labels.width_px)
        .build_cartesian_2d(
            time.coord(plot_width(cell, 6 + 6 + y_labels.width_px)),
            y.coord(),
        )?;
    shade_warmup(&mut chart, report, time, y)?;
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_desc(time.desc)
        .y_desc(y_desc)
        .x_label_formatter(&fmt)
        .y_label_formatter(&y_fmt)
        .label_style(text_style(13, BLACK))
        .axis_desc_style(text_style(14, BLACK))
        .draw()?;
    Ok(chart)
}
