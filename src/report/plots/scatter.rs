//! Cost (or instance-hours) against SLO-violation minutes, one point per variant, with the
//! Pareto front of the variants no other beats on both.

use super::chart::*;
use super::{COST_SLO_FILE, INSTANCE_HOURS_SLO_FILE, Plot, PlotError, describe_slo, slo};
use crate::experiment::stats::Estimate;
use crate::report::{Report, VariantReport};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Cost against SLO-violation minutes, one labelled point per variant at its mean over
/// replications, with 95% intervals as whiskers when there are several replications.
/// Written as [`COST_SLO_FILE`] when every variant has a cost; when the experiment has an SLO
/// but no prices, total instance-hours take the x axis and the file is
/// [`INSTANCE_HOURS_SLO_FILE`]. `None` without an SLO.
pub fn cost_slo(report: &Report) -> Result<Option<Plot>, PlotError> {
    const VIOLATION: &str = "slo.violation_minutes";
    const COST: &str = "cost_usd";
    let with_slo: Vec<(usize, &str, &VariantReport)> = report
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
    let means: Vec<(f64, f64)> = points.iter().map(|p| (p.x.mean, p.y.mean)).collect();
    let front = pareto_front(&means);
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
        let marks = chart.plotting_area().strip_coord_spec();
        // Whiskers first, so that no interval is drawn over another variant's point.
        for p in &points {
            let whisker = p.colour.stroke_width(1);
            let area = chart.plotting_area();
            in_series(&marks, &format!("{}: 95% interval", p.name), || {
                if let (Some(lo), Some(hi)) = (p.x.low, p.x.high) {
                    area.draw(&PathElement::new([(lo, p.y.mean), (hi, p.y.mean)], whisker))?;
                }
                if let (Some(lo), Some(hi)) = (p.y.low, p.y.high) {
                    area.draw(&PathElement::new([(p.x.mean, lo), (p.x.mean, hi)], whisker))?;
                }
                Ok(())
            })?;
        }
        // The front under the points, so that it never hides one.
        let front_points: Vec<(f64, f64)> = front
            .iter()
            .map(|&i| (points[i].x.mean, points[i].y.mean))
            .collect();
        in_series(&marks, "Pareto front", || {
            let area = chart.plotting_area();
            if front_points.len() > 1 {
                area.draw(&PathElement::new(
                    front_points.clone(),
                    FRONT.mix(0.7).stroke_width(3),
                ))?;
            }
            for &p in &front_points {
                area.draw(&Circle::new(p, 11, FRONT.stroke_width(2)))?;
            }
            Ok(())
        })?;
        for p in &points {
            begin_series(&marks, p.name)?;
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
            end_series(&marks)?;
        }
        let mut legend: Vec<(String, Swatch)> = points
            .iter()
            .map(|p| (p.name.to_string(), Swatch::Block(p.colour)))
            .collect();
        legend.push((String::new(), Swatch::None));
        legend.push(("Pareto front: no other".into(), Swatch::Outline(FRONT)));
        legend.push(("variant is lower on both".into(), Swatch::None));
        if let Some(slo) = slo(report) {
            legend.push((String::new(), Swatch::None));
            legend.extend(describe_slo(slo).into_iter().map(|l| (l, Swatch::None)));
        }
        draw_legend(&legend_area, 60, &legend)
    })
    .map_err(|e| plot_error(file_name, &e))?;
    Ok(Some(Plot {
        file_name: file_name.to_string(),
        svg,
    }))
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
    fn of(e: &Estimate) -> Interval {
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
fn instance_hours(v: &VariantReport) -> Interval {
    let per_service: Vec<&Estimate> = v
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

/// The Pareto front's colour: dark, so that it stands apart from every variant's.
const FRONT: RGBColor = RGBColor(60, 60, 60);

/// The indices of the points no other point dominates, where lower is better on both axes (a
/// point dominates another when it is no worse on both and better on one), ordered by x then
/// y, so that joining them draws the front from the cheapest to the one with fewest minutes.
/// Equal points do not dominate each other, so ties are all on the front; points with a
/// coordinate that is not finite are never on it. O(n^2) in the variants, which are few.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let dominates =
        |a: &(f64, f64), b: &(f64, f64)| a.0 <= b.0 && a.1 <= b.1 && (a.0 < b.0 || a.1 < b.1);
    let mut front: Vec<usize> = (0..points.len())
        .filter(|&i| finite(&points[i]))
        .filter(|&i| !points.iter().any(|q| finite(q) && dominates(q, &points[i])))
        .collect();
    front.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[a].1.total_cmp(&points[b].1))
            .then(a.cmp(&b))
    });
    front
}

#[cfg(test)]
mod tests {
    use super::pareto_front;

    #[test]
    fn the_front_keeps_exactly_the_non_dominated_points() {
        /// Points, and the expected front in x order.
        type Case<'a> = (&'a [(f64, f64)], &'a [usize]);
        let cases: [Case; 8] = [
            (&[], &[]),
            (&[(3.0, 2.0)], &[0]),
            // A trade-off: every point is on the front, given in any order.
            (&[(3.0, 1.0), (1.0, 3.0), (2.0, 2.0)], &[1, 2, 0]),
            // One point is better on both axes than every other.
            (&[(2.0, 5.0), (1.0, 1.0), (3.0, 3.0), (1.0, 4.0)], &[1]),
            // Equal points do not dominate each other: both stay.
            (&[(2.0, 2.0), (2.0, 2.0), (3.0, 3.0)], &[0, 1]),
            // Equal cost, fewer minutes wins; equal minutes, lower cost wins.
            (&[(1.0, 3.0), (1.0, 2.0), (4.0, 0.0), (5.0, 0.0)], &[1, 2]),
            // Zero minutes (the SLO met) at several costs: the cheapest.
            (&[(5.0, 0.0), (2.0, 0.0), (1.0, 7.0)], &[2, 1]),
            // Not finite: never on the front, never dominating.
            (&[(f64::NAN, 0.0), (2.0, 2.0), (0.0, f64::INFINITY)], &[1]),
        ];
        for (points, expected) in cases {
            assert_eq!(pareto_front(points), expected, "{points:?}");
        }
    }
}
