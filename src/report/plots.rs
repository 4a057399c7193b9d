//! Plots written beside `report.json`, as SVG: load against replicas, p99 latency over time,
//! and cost (or instance-hours) against SLO-violation minutes.
//!
//! Time-series plots show replication 0 of each variant; the scatter shows the means over
//! replications from the report. Each variant keeps one colour, in variant order, across every
//! plot. Rendering is deterministic: the same report and results give byte-identical files (no
//! timestamps, no unordered maps, and plotters' SVG backend prints coordinates as integers).
//!
//! Long runs are downsampled before drawing: consecutive buckets are grouped so that a line has
//! at most [`MAX_GROUPS`] groups, and each group contributes its lowest and its highest point,
//! in the order they occurred. A line therefore has at most 2 x [`MAX_GROUPS`] points, and
//! every spike and dip still reaches its true height (a stride would drop those narrower than
//! the stride). A 24-hour run at 1 s resolution draws at most 2,000 points per line.
//!
//! A bucket without a value (no successful response, hence no p99) breaks its line rather than
//! being bridged by a straight segment; a lone point between two gaps is drawn as a dot.
//! Values that are not finite count as missing: never drawn, never stretching an axis.

use super::Report;
use crate::experiment::RunResult;
use crate::metrics::timeseries::{ServiceBucket, TimeSeriesRow};
use crate::simulation::SloSummary;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Every file name this module may write, so that a caller can clear stale ones.
pub const FILE_NAMES: [&str; 4] = [
    REPLICAS_FILE,
    LATENCY_FILE,
    COST_SLO_FILE,
    INSTANCE_HOURS_SLO_FILE,
];

/// Load and replicas over time, one row of panels per variant.
pub const REPLICAS_FILE: &str = "replicas.svg";
/// p99 latency over time, one line per variant, with the SLO target.
pub const LATENCY_FILE: &str = "latency.svg";
/// Cost against SLO-violation minutes, one point per variant.
pub const COST_SLO_FILE: &str = "cost-slo.svg";
/// Instance-hours against SLO-violation minutes, written instead of [`COST_SLO_FILE`] when the
/// experiment has an SLO but no prices: the file name says what the x axis is.
pub const INSTANCE_HOURS_SLO_FILE: &str = "instance-hours-slo.svg";

/// Most groups a time-series line is reduced to; each gives at most two points.
pub const MAX_GROUPS: usize = 1_000;

/// A rendered plot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plot {
    /// File name, one of [`FILE_NAMES`].
    pub file_name: &'static str,
    /// The SVG document.
    pub svg: String,
}

/// A plot could not be drawn.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot draw {file_name}: {message}")]
pub struct PlotError {
    /// The plot's file name.
    pub file_name: &'static str,
    /// What the drawing library reported.
    pub message: String,
}

/// Renders every plot the data supports, in a fixed order: [`replicas`], [`latency`],
/// [`cost_slo`]. A plot without data is left out, never written empty.
pub fn render(report: &Report, results: &[RunResult]) -> Result<Vec<Plot>, PlotError> {
    Ok([
        replicas(report, results)?,
        latency(report, results)?,
        cost_slo(report)?,
    ]
    .into_iter()
    .flatten()
    .collect())
}

type DrawResult<T = ()> = Result<T, DrawingAreaErrorKind<std::io::Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

const WIDTH: u32 = 1_000;
const PANEL_HEIGHT: u32 = 220;
const HEADER_HEIGHT: u32 = 44;
const LEGEND_WIDTH: u32 = 220;
const FONT: &str = "sans-serif";

/// Ten colours that stay apart from one another and from the SLO's red (Tableau 10 without its
/// red and grey, plus indigo and dark gold); variants beyond ten reuse them in order.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
    RGBColor(57, 59, 121),
    RGBColor(140, 109, 49),
];
const SLO_RED: RGBColor = RGBColor(220, 0, 0);
const LOAD_GREY: RGBColor = RGBColor(150, 150, 150);
/// Near-black, so that desired-replica lines are told apart from black axes.
const DESIRED: RGBColor = RGBColor(30, 30, 30);
const GRID: RGBColor = RGBColor(228, 228, 228);
const WARMUP_SHADE: RGBColor = RGBColor(243, 243, 243);

/// The colour of the variant at `index` in report order.
fn variant_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// A variant as the time-series plots show it: its replication 0, if it ran.
struct Shown<'a> {
    name: &'a str,
    colour: RGBColor,
    run: Option<&'a RunResult>,
}

impl Shown<'_> {
    fn rows(&self) -> &[TimeSeriesRow] {
        self.run.map_or(&[], |r| &r.output.timeseries)
    }
}

fn shown<'a>(report: &'a Report, results: &'a [RunResult]) -> Vec<Shown<'a>> {
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

/// Load and replicas: a row per variant and a column per service; arrivals per second on the
/// left axis, desired, ready and starting replicas on the right. Scales are shared down each
/// column so rows compare at a glance. `None` without time-series rows or services.
pub fn replicas(report: &Report, results: &[RunResult]) -> Result<Option<Plot>, PlotError> {
    let shown = shown(report, results);
    if shown.iter().all(|s| s.rows().is_empty()) {
        return Ok(None);
    }
    let services: Vec<&str> = report
        .runs
        .first()
        .map(|r| r.summary.services.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if services.is_empty() {
        return Ok(None);
    }
    let time = TimeAxis::new(report, &shown);
    let load_max = shown
        .iter()
        .flat_map(|s| s.rows().iter().filter_map(arrival_rate))
        .fold(0.0, f64::max);
    let load = ValueAxis::linear(load_max, 5, 0.0);
    let replica_axes: Vec<ValueAxis> = services
        .iter()
        .map(|name| {
            let max = shown
                .iter()
                .flat_map(|s| {
                    let idx = s
                        .run
                        .and_then(|r| r.output.summary.services.get_index_of(*name));
                    s.rows()
                        .iter()
                        .filter_map(move |row| idx.and_then(|i| row.services.get(i)))
                })
                .map(|b| b.desired.max(b.instances).max(b.starting))
                .max()
                .unwrap_or(0);
            ValueAxis::linear(f64::from(max), 5, 1.0)
        })
        .collect();
    let height = HEADER_HEIGHT + PANEL_HEIGHT * shown.len() as u32;
    let svg = render_svg((WIDTH, height), |root| {
        let (header, body) = root.split_vertically(HEADER_HEIGHT);
        header.draw(&Text::new(
            format!(
                "{}: load and replicas over time (replication 0)",
                report.experiment
            ),
            (12, 12),
            text_style(17, BLACK).pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
        let rows = body.split_evenly((shown.len(), 1));
        for (s, row) in shown.iter().zip(&rows) {
            let (cells, legend_area) = row.split_horizontally(WIDTH - LEGEND_WIDTH + 60);
            let cells = cells.split_evenly((1, services.len()));
            for ((svc, cell), replica_axis) in services.iter().zip(&cells).zip(&replica_axes) {
                let caption = if services.len() > 1 {
                    format!("{} · {svc}", s.name)
                } else {
                    s.name.to_string()
                };
                let axes = PanelAxes {
                    time: &time,
                    load: &load,
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
                ],
            )?;
        }
        Ok(())
    })
    .map_err(|e| plot_error(REPLICAS_FILE, &e))?;
    Ok(Some(Plot {
        file_name: REPLICAS_FILE,
        svg,
    }))
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
) -> DrawResult {
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
        .build_cartesian_2d(time.coord(), load.coord())?
        .set_secondary_coord(time.coord(), replicas.coord());
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
    let load_points: Vec<Option<(f64, f64)>> = rows
        .iter()
        .map(|r| finite_point(time.x(r.t_s + r.width_s / 2.0), arrival_rate(r)?))
        .collect();
    draw_lines(
        chart.plotting_area(),
        &load_points,
        LOAD_GREY.stroke_width(1),
    )?;
    let Some(idx) = s
        .run
        .and_then(|r| r.output.summary.services.get_index_of(service))
    else {
        return Ok(());
    };
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
    draw_lines(
        area,
        &series(|b| b.starting),
        starting_colour(s.colour).stroke_width(2),
    )?;
    draw_lines(area, &series(|b| b.desired), DESIRED.stroke_width(1))?;
    draw_lines(area, &series(|b| b.instances), s.colour.stroke_width(2))
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
            .build_cartesian_2d(time.coord(), scale.coord())?;
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
        for (s, points) in shown.iter().zip(&lines) {
            let points: Vec<Option<(f64, f64)>> = points
                .iter()
                .map(|p| p.map(|(x, y)| (x, scale.position(y))))
                .collect();
            draw_lines(chart.plotting_area(), &points, s.colour.stroke_width(2))?;
        }
        let mut legend: Vec<(String, Swatch)> = shown
            .iter()
            .map(|s| (s.name.to_string(), Swatch::Line(s.colour.into(), 3)))
            .collect();
        if let (Some(t), Some(slo)) = (target_ms, slo) {
            let y = scale.position(t);
            chart.draw_series(DashedLineSeries::new(
                [(time.start, y), (time.end, y)],
                10,
                6,
                SLO_RED.stroke_width(2),
            ))?;
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
        file_name: LATENCY_FILE,
        svg,
    }))
}

/// Cost against SLO-violation minutes, one labelled point per variant at its mean over
/// replications, with 95% intervals as whiskers when there are several replications.
/// Written as [`COST_SLO_FILE`] when every variant has a cost; when the experiment has an SLO
/// but no prices, total instance-hours take the x axis and the file is
/// [`INSTANCE_HOURS_SLO_FILE`]. `None` without an SLO.
pub fn cost_slo(report: &Report) -> Result<Option<Plot>, PlotError> {
    const VIOLATION: &str = "slo.violation_minutes";
    const COST: &str = "cost_usd";
    let with_slo: Vec<(usize, &str, &super::VariantReport)> = report
        .variants
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| v.metrics.contains_key(VIOLATION))
        .map(|(i, (name, v))| (i, name.as_str(), v))
        .collect();
    if with_slo.is_empty() {
        return Ok(None);
    }
    let by_cost = with_slo
        .iter()
        .all(|(_, _, v)| v.metrics.contains_key(COST));
    let (file_name, x_desc) = if by_cost {
        (COST_SLO_FILE, "cost (USD)")
    } else {
        (INSTANCE_HOURS_SLO_FILE, "instance-hours (all services)")
    };
    let points: Vec<ScatterPoint> = with_slo
        .iter()
        .filter_map(|&(i, name, v)| {
            let x = if by_cost {
                Interval::of(&v.metrics[COST])
            } else {
                instance_hours(v)
            };
            let y = Interval::of(&v.metrics[VIOLATION]);
            (x.mean.is_finite() && y.mean.is_finite()).then(|| ScatterPoint {
                name,
                colour: variant_colour(i),
                x,
                y,
            })
        })
        .collect();
    if points.is_empty() {
        return Ok(None);
    }
    let x_max = points.iter().map(|p| p.x.high()).fold(0.0, f64::max);
    let y_max = points.iter().map(|p| p.y.high()).fold(0.0, f64::max);
    // Room on the right for labels of the costliest variants, and below zero so that a point
    // at zero minutes (the SLO met) and its label sit clear of the axis.
    let x_axis = ValueAxis::linear(x_max * 1.1, 6, 0.0);
    let mut y_axis = ValueAxis::linear(y_max, 6, 0.0);
    y_axis.lo = -0.05 * y_axis.hi;
    let replications = match report.replications {
        1 => "1 replication".to_string(),
        n => format!("mean of {n} replications"),
    };
    let svg = render_svg((WIDTH, 600), |root| {
        let (chart_area, legend_area) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let fmt = |v: &f64| fmt_num(*v);
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(
                format!(
                    "{}: {} vs SLO violation ({replications})",
                    report.experiment,
                    if by_cost { "cost" } else { "instance-hours" },
                ),
                text_style(17, BLACK),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x_axis.coord(), y_axis.coord())?;
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_desc(x_desc)
            .y_desc("SLO violation (minutes)")
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .label_style(text_style(13, BLACK))
            .axis_desc_style(text_style(14, BLACK))
            .draw()?;
        let (px, _) = chart.plotting_area().get_pixel_range();
        let mid = (px.start + px.end) / 2;
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
        // Whiskers first, so that no interval is drawn over another variant's point.
        for p in &points {
            let whisker = p.colour.stroke_width(1);
            let area = chart.plotting_area();
            if let (Some(lo), Some(hi)) = (p.x.low, p.x.high) {
                area.draw(&PathElement::new([(lo, p.y.mean), (hi, p.y.mean)], whisker))?;
            }
            if let (Some(lo), Some(hi)) = (p.y.low, p.y.high) {
                area.draw(&PathElement::new([(p.x.mean, lo), (p.x.mean, hi)], whisker))?;
            }
        }
        for p in &points {
            let at = chart.backend_coord(&(p.x.mean, p.y.mean));
            let (dx, anchor) = if at.0 > mid {
                (-10, HPos::Right)
            } else {
                (10, HPos::Left)
            };
            let dy = label_offset(at, dx, anchor, p.name, &mut placed);
            chart.draw_series([EmptyElement::at((p.x.mean, p.y.mean))
                + Circle::new((0, 0), 6, p.colour.filled())
                + Text::new(
                    p.name.to_string(),
                    (dx, dy),
                    text_style(14, p.colour).pos(Pos::new(anchor, VPos::Center)),
                )])?;
        }
        let mut legend: Vec<(String, Swatch)> = points
            .iter()
            .map(|p| (p.name.to_string(), Swatch::Block(p.colour)))
            .collect();
        if let Some(slo) = slo(report) {
            legend.push((String::new(), Swatch::None));
            legend.extend(describe_slo(slo).into_iter().map(|l| (l, Swatch::None)));
        }
        draw_legend(&legend_area, 60, &legend)
    })
    .map_err(|e| plot_error(file_name, &e))?;
    Ok(Some(Plot { file_name, svg }))
}

struct ScatterPoint<'a> {
    name: &'a str,
    colour: RGBColor,
    x: Interval,
    y: Interval,
}

/// A mean and, with several replications, its 95% interval (clamped at zero: these are costs
/// and minutes).
#[derive(Debug, Clone, Copy)]
struct Interval {
    mean: f64,
    low: Option<f64>,
    high: Option<f64>,
}

impl Interval {
    fn of(e: &crate::experiment::stats::Estimate) -> Interval {
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        Interval {
            mean: e.mean,
            low: finite(e.ci95_low).map(|v| v.max(0.0)),
            high: finite(e.ci95_high),
        }
    }

    fn high(&self) -> f64 {
        self.high.unwrap_or(self.mean).max(self.mean)
    }
}

/// Total instance-hours over services; with one service its interval too (intervals of a sum
/// are not the sum of intervals, so several services get none).
fn instance_hours(v: &super::VariantReport) -> Interval {
    let per_service: Vec<&crate::experiment::stats::Estimate> = v
        .metrics
        .iter()
        .filter(|(k, _)| k.starts_with("services.") && k.ends_with(".instance_hours"))
        .map(|(_, e)| e)
        .collect();
    match per_service.as_slice() {
        [one] => Interval::of(one),
        many => Interval {
            mean: many.iter().map(|e| e.mean).sum(),
            low: None,
            high: None,
        },
    }
}

/// Vertical offset for a label so that it does not overlap one already placed; labels are
/// estimated at 7 px per character and 16 px high (SVG text has no measured width).
fn label_offset(
    at: (i32, i32),
    dx: i32,
    anchor: HPos,
    text: &str,
    placed: &mut Vec<(i32, i32, i32, i32)>,
) -> i32 {
    let width = 7 * text.chars().count() as i32;
    let x0 = match anchor {
        HPos::Right => at.0 + dx - width,
        _ => at.0 + dx,
    };
    let boxed = |dy: i32| (x0, at.1 + dy - 8, x0 + width, at.1 + dy + 8);
    let overlaps = |b: &(i32, i32, i32, i32)| {
        placed
            .iter()
            .any(|p| b.0 < p.2 && p.0 < b.2 && b.1 < p.3 && p.1 < b.3)
    };
    let dy = (0..40)
        .map(|k| {
            if k % 2 == 0 {
                k / 2 * 16
            } else {
                -(k / 2 + 1) * 16
            }
        })
        .find(|&dy| !overlaps(&boxed(dy)))
        .unwrap_or(0);
    placed.push(boxed(dy));
    dy
}

/// The SLO of the experiment, as the first run that measured one reports it.
fn slo(report: &Report) -> Option<&SloSummary> {
    report.runs.iter().find_map(|r| r.summary.slo.as_ref())
}

/// The SLO as legend lines: what a window must meet, and the window.
fn describe_slo(s: &SloSummary) -> Vec<String> {
    let mut lines = vec![format!("SLO per {} s window:", fmt_num(s.window_s))];
    if let Some(t) = s.latency_target_s.filter(|t| t.is_finite()) {
        lines.push(format!(
            "{} ≤ {} ms",
            quantile_name(s.quantile),
            fmt_num(t * 1e3)
        ));
    }
    if let Some(e) = s.error_rate_target.filter(|e| e.is_finite()) {
        lines.push(format!("errors ≤ {}%", fmt_num(e * 100.0)));
    }
    lines
}

/// `p99` for 0.99, `p99.9` for 0.999, `p99.99` for 0.9999.
fn quantile_name(q: f64) -> String {
    let percent = format!("{:.4}", q * 100.0);
    format!("p{}", percent.trim_end_matches('0').trim_end_matches('.'))
}

fn arrival_rate(r: &TimeSeriesRow) -> Option<f64> {
    let rate = r.arrivals as f64 / r.width_s;
    (r.width_s > 0.0 && rate.is_finite()).then_some(rate)
}

/// The time axis: seconds for runs up to 5 minutes, minutes up to 5 hours, hours beyond.
struct TimeAxis {
    per: f64,
    desc: &'static str,
    start: f64,
    end: f64,
    ticks: Vec<f64>,
}

impl TimeAxis {
    fn new(report: &Report, shown: &[Shown<'_>]) -> TimeAxis {
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
            ticks: nice_ticks(0.0, end, 8, 0.0),
        }
    }

    fn x(&self, seconds: f64) -> f64 {
        (seconds / self.per).min(self.end)
    }

    fn coord(&self) -> Coord {
        Coord::new(self.start, self.end, &self.ticks)
    }
}

/// A value axis with ticks we choose (plotters' own may land on 2.5 replicas). With `log`, a
/// point is drawn at log10 of its value and ticks sit at 1, 2 and 5 times powers of ten.
struct ValueAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    log: bool,
}

impl ValueAxis {
    /// From 0 to a round value at or above `max`, with a little headroom so that a line at
    /// the maximum does not run along the frame.
    fn linear(max: f64, intervals: usize, min_step: f64) -> ValueAxis {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let step = nice_step(max / intervals as f64).max(min_step);
        let steps = (max / step).ceil().max(1.0) as u32;
        let top = f64::from(steps) * step;
        ValueAxis {
            lo: 0.0,
            hi: top * 1.04,
            ticks: (0..=steps).map(|k| f64::from(k) * step).collect(),
            log: false,
        }
    }

    /// Logarithmic, `lo` and `hi` positive.
    fn log(lo: f64, hi: f64) -> ValueAxis {
        let (a, b) = (lo.log10(), hi.log10());
        let pad = (b - a) * 0.04;
        let mut ticks = Vec::new();
        for decade in (a.floor() as i32)..=(b.ceil() as i32) {
            for m in [1.0, 2.0, 5.0] {
                let v = m * 10f64.powi(decade);
                if v >= lo / 1.0001 && v <= hi * 1.0001 {
                    ticks.push(v.log10());
                }
            }
        }
        ValueAxis {
            lo: a - pad,
            hi: b + pad,
            ticks,
            log: true,
        }
    }

    fn position(&self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    fn value(&self, position: f64) -> f64 {
        if self.log {
            10f64.powf(position)
        } else {
            position
        }
    }

    fn coord(&self) -> Coord {
        Coord::new(self.lo, self.hi, &self.ticks)
    }
}

/// A linear coordinate with ticks we choose. (plotters' `WithKeyPoints` over `f64` loses the
/// label formatting that `configure_mesh` needs.)
#[derive(Debug, Clone)]
struct Coord {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Coord {
    fn new(lo: f64, hi: f64, ticks: &[f64]) -> Coord {
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        Coord {
            lo,
            hi,
            ticks: ticks
                .iter()
                .copied()
                .filter(|t| *t >= lo && *t <= hi)
                .collect(),
        }
    }
}

impl Ranged for Coord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let fraction = (v - self.lo) / (self.hi - self.lo);
        // `as` saturates, and a NaN becomes 0: no value can panic here.
        limit.0 + (f64::from(limit.1 - limit.0) * fraction + 1e-3).floor() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// 1, 2 or 5 times a power of ten, at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * magnitude
}

/// Round ticks from `lo` to `hi`, about `intervals` of them apart.
fn nice_ticks(lo: f64, hi: f64, intervals: usize, min_step: f64) -> Vec<f64> {
    let step = nice_step((hi - lo) / intervals.max(1) as f64).max(min_step);
    let first = (lo / step).ceil() as i64;
    (first..)
        .map(|k| k as f64 * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .take(100)
        .collect()
}

/// A number as a tick label: no trailing zeros, three significant digits for small values.
fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    let s = if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// Turns buckets (in x order; `None` where a bucket has no value) into lines: a run of buckets
/// without a value ends a line. When there are more than `2 * groups` buckets, consecutive ones
/// are grouped (`groups` groups at most) and each group keeps its lowest and highest point, in
/// their original order; a group with no value at all ends the line. O(n).
fn downsample(points: &[Option<(f64, f64)>], groups: usize) -> Vec<Vec<(f64, f64)>> {
    let size = if points.len() <= 2 * groups {
        1
    } else {
        points.len().div_ceil(groups.max(1))
    };
    let mut lines = Vec::new();
    let mut line = Vec::new();
    for chunk in points.chunks(size) {
        // (index in the chunk, point) of the lowest and the highest value.
        let mut lo: Option<(usize, (f64, f64))> = None;
        let mut hi: Option<(usize, (f64, f64))> = None;
        for (i, p) in chunk.iter().enumerate() {
            let Some(p) = *p else { continue };
            if lo.is_none_or(|(_, l)| p.1 < l.1) {
                lo = Some((i, p));
            }
            if hi.is_none_or(|(_, h)| p.1 > h.1) {
                hi = Some((i, p));
            }
        }
        match lo.zip(hi) {
            Some((lo, hi)) => {
                let (first, second) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
                line.push(first.1);
                if first.0 != second.0 {
                    line.push(second.1);
                }
            }
            None if !line.is_empty() => lines.push(std::mem::take(&mut line)),
            None => {}
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A point, or `None` when either coordinate is not finite.
fn finite_point(x: f64, y: f64) -> Option<(f64, f64)> {
    (x.is_finite() && y.is_finite()).then_some((x, y))
}

/// Draws buckets as lines (see [`downsample`]); a line of one point is a dot.
fn draw_lines(
    area: &DrawingArea<SVGBackend<'_>, Cartesian2d<Coord, Coord>>,
    points: &[Option<(f64, f64)>],
    style: ShapeStyle,
) -> DrawResult {
    for line in downsample(points, MAX_GROUPS) {
        if let [only] = line.as_slice() {
            area.draw(&Circle::new(*only, 2, style.filled()))?;
        } else {
            area.draw(&PathElement::new(line, style))?;
        }
    }
    Ok(())
}

fn shade_warmup(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<Coord, Coord>>,
    report: &Report,
    time: &TimeAxis,
    y: &ValueAxis,
) -> DrawResult {
    let end = time.x(report.warmup_s);
    if end.is_finite() && end > 0.0 {
        chart.draw_series([Rectangle::new(
            [(time.start, y.lo), (end, y.hi)],
            WARMUP_SHADE.filled(),
        )])?;
    }
    Ok(())
}

/// How a legend entry is drawn.
enum Swatch {
    Line(RGBAColor, u32),
    Dashed(RGBColor),
    Block(RGBColor),
    /// Text only.
    None,
}

/// Entries down a column, from `top`; swatches are rectangles, so a legend adds no
/// `<polyline>` or `<circle>` to the document.
fn draw_legend(area: &Area<'_>, top: i32, entries: &[(String, Swatch)]) -> DrawResult {
    for (i, (label, swatch)) in entries.iter().enumerate() {
        let y = top + 22 * i as i32;
        match swatch {
            Swatch::Line(c, w) => {
                let half = (*w as i32).max(1) / 2;
                area.draw(&Rectangle::new(
                    [(8, y - half), (34, y - half + *w as i32)],
                    c.filled(),
                ))?;
            }
            Swatch::Dashed(c) => {
                for x in [8, 20, 32] {
                    area.draw(&Rectangle::new([(x, y - 1), (x + 7, y + 1)], c.filled()))?;
                }
            }
            Swatch::Block(c) => {
                area.draw(&Rectangle::new([(14, y - 6), (26, y + 6)], c.filled()))?;
            }
            Swatch::None => {}
        }
        if label.is_empty() {
            continue;
        }
        area.draw(&Text::new(
            label.clone(),
            (42, y),
            text_style(14, BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// plotters sizes fonts in its own unit; the SVG gets `size / 1.24` px.
fn text_style(size: u32, colour: RGBColor) -> TextStyle<'static> {
    TextStyle {
        color: colour.to_backend_color(),
        ..TextStyle::from((FONT, size).into_font())
    }
}

fn render_svg(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> DrawResult) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(svg)
}

fn plot_error(file_name: &'static str, e: &DrawingAreaErrorKind<std::io::Error>) -> PlotError {
    PlotError {
        file_name,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::stats::estimate;
    use crate::experiment::{ExecuteOptions, run_experiment};
    use std::path::PathBuf;

    /// Two variants (3 and 4 instances), two replications, 20 s with an SLO; no prices.
    const EXPERIMENT: &str = r#"{
      "name": "plots-test",
      "model": {
        "name": "tiny",
        "services": {
          "api": {
            "replicas": 3,
            "instance": { "cores": 1, "runtime": "thread_pool", "concurrency_limit": 16, "queue_limit": 32 },
            "balancer": { "kind": "round_robin" },
            "endpoints": { "work": { "steps": [ { "cpu": { "kind": "exponential", "mean": "5ms" } } ] } }
          }
        }
      },
      "workload": [ {
        "name": "users", "kind": "open",
        "rate": { "kind": "spike", "baseline_rps": 200, "peak_rps": 700, "start": "6s", "rise": "2s", "plateau": "5s", "decay": "2s" },
        "mix": [ { "service": "api", "endpoint": "work" } ],
        "timeout": "2s"
      } ],
      "duration": "20s",
      "warmup": "2s",
      "seed": 3,
      "replications": 2,
      "resolution": "1s",
      "slo": { "quantile": 0.99, "latency": "50ms", "window": "5s" },
      "variants": { "three": {}, "four": { "services": { "api": { "replicas": 4 } } } }
    }"#;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("surge-plots-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn fixture(tag: &str) -> (Report, Vec<RunResult>) {
        let path = temp_dir(tag).join("plots-test.json");
        std::fs::write(&path, EXPERIMENT).unwrap();
        let exp = crate::config::load_experiment(&path).unwrap_or_else(|e| panic!("{e}"));
        if let Some(dir) = path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
        let results = run_experiment(&exp, &ExecuteOptions::default());
        (Report::new(&exp, &results), results)
    }

    fn hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    /// `<polyline>` elements drawn in `colour` at full `opacity`.
    fn polylines(svg: &str, colour: RGBColor, opacity: &str) -> usize {
        let stroke = format!("stroke=\"{}\"", hex(colour));
        let opacity = format!("opacity=\"{opacity}\"");
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&stroke) && l.contains(&opacity))
            .count()
    }

    fn well_formed(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "a non-finite value was drawn"
        );
    }

    #[test]
    fn every_plot_is_well_formed_svg() {
        let (report, results) = fixture("well-formed");
        let plots = render(&report, &results).unwrap();
        let names: Vec<&str> = plots.iter().map(|p| p.file_name).collect();
        // No prices in the model: instance-hours take the cost axis.
        assert_eq!(
            names,
            [REPLICAS_FILE, LATENCY_FILE, INSTANCE_HOURS_SLO_FILE]
        );
        for p in &plots {
            well_formed(&p.svg);
        }
    }

    #[test]
    fn replicas_draws_load_and_three_replica_lines_per_variant() {
        let (report, results) = fixture("replicas");
        let svg = replicas(&report, &results).unwrap().unwrap().svg;
        well_formed(&svg);
        assert!(svg.contains("height=\"484\""), "44 + 2 x 220 px");
        assert_eq!(polylines(&svg, LOAD_GREY, "1"), 2);
        assert_eq!(polylines(&svg, DESIRED, "1"), 2);
        for i in 0..2 {
            assert_eq!(polylines(&svg, variant_colour(i), "1"), 1, "ready");
            assert_eq!(polylines(&svg, variant_colour(i), "0.45"), 1, "starting");
        }
        for text in [
            "arrivals/s",
            "replicas",
            "time (s)",
            "\nthree\n",
            "\nfour\n",
        ] {
            assert!(svg.contains(text), "{text}");
        }
    }

    #[test]
    fn latency_draws_a_line_per_variant_and_the_slo_target() {
        let (mut report, results) = fixture("latency");
        let svg = latency(&report, &results).unwrap().unwrap().svg;
        well_formed(&svg);
        for i in 0..2 {
            assert_eq!(polylines(&svg, variant_colour(i), "1"), 1);
        }
        assert!(polylines(&svg, SLO_RED, "1") >= 2, "a dashed line");
        assert!(svg.contains("SLO: p99 ≤ 50 ms"));

        for run in &mut report.runs {
            run.summary.slo = None;
        }
        let svg = latency(&report, &results).unwrap().unwrap().svg;
        assert_eq!(polylines(&svg, SLO_RED, "1"), 0);
        assert!(!svg.contains("SLO"));
    }

    #[test]
    fn cost_slo_has_one_labelled_point_per_variant() {
        let (mut report, _) = fixture("cost");
        let plot = cost_slo(&report).unwrap().unwrap();
        assert_eq!(plot.file_name, INSTANCE_HOURS_SLO_FILE);
        assert!(plot.svg.contains("instance-hours"));

        for (i, v) in report.variants.values_mut().enumerate() {
            v.metrics.insert(
                "cost_usd".into(),
                estimate(&[1.0 + i as f64, 1.5 + i as f64]),
            );
        }
        let plot = cost_slo(&report).unwrap().unwrap();
        assert_eq!(plot.file_name, COST_SLO_FILE);
        well_formed(&plot.svg);
        assert_eq!(plot.svg.matches("<circle").count(), 2);
        for name in ["three", "four"] {
            // The label beside the point and the legend entry.
            assert_eq!(
                plot.svg.matches(&format!("\n{name}\n")).count(),
                2,
                "{name}"
            );
        }
        assert!(plot.svg.contains("cost (USD)"));

        for v in report.variants.values_mut() {
            v.metrics.shift_remove("slo.violation_minutes");
        }
        assert_eq!(cost_slo(&report).unwrap(), None, "no SLO, no plot");
    }

    #[test]
    fn no_rows_no_time_series_plots() {
        let (report, mut results) = fixture("no-rows");
        for r in &mut results {
            r.output.timeseries.clear();
        }
        assert_eq!(replicas(&report, &results).unwrap(), None);
        assert_eq!(latency(&report, &results).unwrap(), None);
        let names: Vec<&str> = render(&report, &results)
            .unwrap()
            .iter()
            .map(|p| p.file_name)
            .collect();
        assert_eq!(names, [INSTANCE_HOURS_SLO_FILE]);
    }

    #[test]
    fn non_finite_values_are_skipped() {
        let (mut report, mut results) = fixture("non-finite");
        for r in &mut results {
            for (i, row) in r.output.timeseries.iter_mut().enumerate() {
                match i % 4 {
                    0 => row.p99_s = f64::NAN,
                    1 => row.p99_s = f64::INFINITY,
                    2 => row.width_s = 0.0,
                    _ => {}
                }
            }
        }
        for (i, v) in report.variants.values_mut().enumerate() {
            let cost = if i == 0 { f64::NAN } else { 2.0 };
            v.metrics.insert("cost_usd".into(), estimate(&[cost, cost]));
        }
        report.duration_s = f64::NAN;
        for p in render(&report, &results).unwrap() {
            well_formed(&p.svg);
        }
        // The variant without a finite cost is left off; the other keeps its point.
        let plot = cost_slo(&report).unwrap().unwrap();
        assert_eq!(plot.file_name, COST_SLO_FILE);
        assert_eq!(plot.svg.matches("<circle").count(), 1);
    }

    #[test]
    fn long_runs_are_downsampled_to_bounded_lines() {
        let (report, mut results) = fixture("long");
        // A day at 1 s resolution, with one 1-second spike in the middle.
        for r in &mut results {
            let template = r.output.timeseries[5].clone();
            r.output.timeseries = (0..86_400)
                .map(|t| TimeSeriesRow {
                    t_s: f64::from(t),
                    width_s: 1.0,
                    arrivals: if t == 43_210 { 9_000 } else { 300 },
                    p99_s: if t == 43_210 { 1.5 } else { 0.02 },
                    ..template.clone()
                })
                .collect();
        }
        let mut report = report;
        report.duration_s = 86_400.0;
        for p in [
            replicas(&report, &results).unwrap().unwrap(),
            latency(&report, &results).unwrap().unwrap(),
        ] {
            well_formed(&p.svg);
            assert!(p.svg.contains("time (h)"));
            for line in p.svg.lines().filter(|l| l.starts_with("<polyline")) {
                let points = line.matches(',').count();
                assert!(points <= 2 * MAX_GROUPS, "{points} points");
            }
        }
    }

    #[test]
    fn downsampling_keeps_peaks_and_dips() {
        let mut points: Vec<Option<(f64, f64)>> =
            (0..86_400).map(|t| Some((f64::from(t), 10.0))).collect();
        points[40_001] = Some((40_001.0, 99.0));
        points[60_002] = Some((60_002.0, -5.0));
        let lines = downsample(&points, MAX_GROUPS);
        let [out] = lines.as_slice() else {
            panic!("one line, got {}", lines.len())
        };
        assert!(out.len() <= 2 * MAX_GROUPS);
        assert!(out.contains(&(40_001.0, 99.0)));
        assert!(out.contains(&(60_002.0, -5.0)));
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "in x order");
        assert_eq!(out.first(), Some(&(0.0, 10.0)));
        let short: Vec<(f64, f64)> = points[..100].iter().flatten().copied().collect();
        assert_eq!(downsample(&points[..100], MAX_GROUPS), [short]);
    }

    #[test]
    fn missing_values_break_lines() {
        let p = |x: f64| Some((x, x));
        let points = [p(0.0), p(1.0), None, None, p(4.0), None, p(6.0), p(7.0)];
        assert_eq!(
            downsample(&points, MAX_GROUPS),
            [
                vec![(0.0, 0.0), (1.0, 1.0)],
                vec![(4.0, 4.0)],
                vec![(6.0, 6.0), (7.0, 7.0)]
            ]
        );
        // Grouped: a group with any value continues the line; an empty one breaks it.
        let mut long: Vec<Option<(f64, f64)>> = (0..10_000).map(|t| p(f64::from(t))).collect();
        long[5_000..5_030].fill(None);
        long[7_000] = None;
        assert_eq!(downsample(&long, 1_000).len(), 2);
        assert_eq!(
            downsample(&[None, None], MAX_GROUPS),
            Vec::<Vec<(f64, f64)>>::new()
        );
    }

    #[test]
    fn latency_lines_break_where_no_request_succeeded() {
        let (report, mut results) = fixture("gaps");
        let run = results
            .iter_mut()
            .find(|r| r.variant == "three" && r.id.replication == 0)
            .unwrap();
        for row in &mut run.output.timeseries[8..11] {
            row.p99_s = 0.0;
        }
        run.output.timeseries[12].p99_s = 0.0;
        let svg = latency(&report, &results).unwrap().unwrap().svg;
        // Rows 0-7, 11 (a dot) and 13-19.
        assert_eq!(polylines(&svg, variant_colour(0), "1"), 2);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert_eq!(polylines(&svg, variant_colour(1), "1"), 1);
    }

    #[test]
    fn writing_twice_gives_identical_files() {
        let (report, results) = fixture("twice");
        let dir = temp_dir("twice-out");
        let first = super::super::write_outputs(&dir, &report, &results).unwrap();
        let names: Vec<String> = first
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "report.json",
                "timeseries.csv",
                REPLICAS_FILE,
                LATENCY_FILE,
                INSTANCE_HOURS_SLO_FILE
            ]
        );
        let bytes: Vec<Vec<u8>> = first.iter().map(|p| std::fs::read(p).unwrap()).collect();
        let second = super::super::write_outputs(&dir, &report, &results).unwrap();
        assert_eq!(first, second);
        for (p, b) in second.iter().zip(&bytes) {
            assert_eq!(&std::fs::read(p).unwrap(), b, "{}", p.display());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tick_labels_and_steps_are_round() {
        for (v, s) in [
            (0.0, "0"),
            (1500.0, "1500"),
            (12.5, "12.5"),
            (2.0, "2"),
            (0.25, "0.25"),
            (-0.0001, "0"),
        ] {
            assert_eq!(fmt_num(v), s);
        }
        assert_eq!(
            nice_ticks(0.0, 15.0, 8, 0.0),
            [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]
        );
        assert_eq!(
            nice_ticks(0.0, 3.0, 5, 1.0),
            [0.0, 1.0, 2.0, 3.0],
            "whole replicas"
        );
        assert_eq!(quantile_name(0.99), "p99");
        assert_eq!(quantile_name(0.999), "p99.9");
        assert_eq!(quantile_name(0.9999), "p99.99");
        let log = ValueAxis::log(8.0, 2_000.0);
        let labels: Vec<String> = log.ticks.iter().map(|t| fmt_num(log.value(*t))).collect();
        assert_eq!(
            labels,
            ["10", "20", "50", "100", "200", "500", "1000", "2000"]
        );
    }
}
