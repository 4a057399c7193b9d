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
        let (px, py) = chart.plotting_area().get_pixel_range();
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
            in_series(&marks, p.name, || {
                chart.draw_series([Circle::new((p.x.mean, p.y.mean), 6, p.colour.filled())])?;
                Ok(())
            })?;
        }
        // Labels last, so that no point is drawn over one, each where it overlaps no point,
        // ring or label placed before it.
        let centres: Vec<(i32, i32)> = points
            .iter()
            .map(|p| chart.backend_coord(&(p.x.mean, p.y.mean)))
            .collect();
        let mut obstacles: Vec<LabelBox> = centres
            .iter()
            .map(|&(x, y)| LabelBox::around((x, y), 7))
            .collect();
        obstacles.extend(front.iter().map(|&i| LabelBox::around(centres[i], 12)));
        let bounds = LabelBox {
            left: px.start,
            top: py.start,
            right: px.end,
            bottom: py.end,
        };
        let mut labels = Vec::with_capacity(points.len());
        for (p, &at) in points.iter().zip(&centres) {
            let width = LABEL_PX_PER_CHAR * p.name.chars().count() as i32;
            let placed = place_label(at, width, bounds, &obstacles);
            obstacles.push(placed.label);
            labels.push(placed);
        }
        // Leader lines under every label, so that none crosses a label's text.
        for ((p, &at), placed) in points.iter().zip(&centres).zip(&labels) {
            if placed.far {
                chart_area.draw(&PathElement::new(
                    [at, placed.label.nearest(at)],
                    p.colour.mix(0.8).stroke_width(1),
                ))?;
            }
        }
        for (p, placed) in points.iter().zip(&labels) {
            chart_area.draw(&Text::new(
                p.name.to_string(),
                (
                    placed.label.left,
                    (placed.label.top + placed.label.bottom) / 2,
                ),
                text_style(14, p.colour).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
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

/// Pixels per character of a 14-unit label (11.3 px DejaVu Sans; SVG text has no measured
/// width, so labels are estimated, generously).
const LABEL_PX_PER_CHAR: i32 = 7;
/// A label's height in pixels.
const LABEL_HEIGHT: i32 = 16;

/// A rectangle in pixels, for label placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LabelBox {
    left: i32,
    top: i32,
    right: i32,
    bottom: i32,
}

impl LabelBox {
    /// The square of half-side `r` around `c`.
    fn around(c: (i32, i32), r: i32) -> LabelBox {
        LabelBox {
            left: c.0 - r,
            top: c.1 - r,
            right: c.0 + r,
            bottom: c.1 + r,
        }
    }

    fn overlaps(&self, o: &LabelBox) -> bool {
        self.left < o.right && o.left < self.right && self.top < o.bottom && o.top < self.bottom
    }

    fn inside(&self, o: &LabelBox) -> bool {
        self.left >= o.left && self.right <= o.right && self.top >= o.top && self.bottom <= o.bottom
    }

    /// The point of the box nearest to `p`, where a leader line ends.
    fn nearest(&self, p: (i32, i32)) -> (i32, i32) {
        (
            p.0.clamp(self.left, self.right),
            p.1.clamp(self.top, self.bottom),
        )
    }
}

/// Where a label went: its box, and whether it sits away from its point (then a leader line
/// joins them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PlacedLabel {
    label: LabelBox,
    far: bool,
}

/// Places a label `width` pixels wide for the point at `at`: the first of the candidate
/// positions (right, left, above, below, then the four diagonals, at growing distances) that
/// stays within `bounds` and overlaps none of `obstacles` (points, rings and labels already
/// placed); when every candidate overlaps something, the one that overlaps fewest. Greedy and
/// deterministic: the same points give the same places. O(candidates x obstacles).
fn place_label(
    at: (i32, i32),
    width: i32,
    bounds: LabelBox,
    obstacles: &[LabelBox],
) -> PlacedLabel {
    let h = LABEL_HEIGHT;
    let candidates = (0..4).flat_map(|ring| {
        let d = 14 + 18 * ring;
        let (x, y) = at;
        let boxes = [
            (x + d, y - h / 2),
            (x - d - width, y - h / 2),
            (x - width / 2, y - d - h),
            (x - width / 2, y + d),
            (x + d - 4, y - d - h + 4),
            (x + d - 4, y + d - 4),
            (x - d - width + 4, y - d - h + 4),
            (x - d - width + 4, y + d - 4),
        ];
        boxes.into_iter().map(move |(left, top)| PlacedLabel {
            label: LabelBox {
                left,
                top,
                right: left + width,
                bottom: top + h,
            },
            far: ring > 0,
        })
    });
    let mut best: Option<(usize, PlacedLabel)> = None;
    for c in candidates {
        if !c.label.inside(&bounds) {
            continue;
        }
        let hits = obstacles.iter().filter(|o| o.overlaps(&c.label)).count();
        if hits == 0 {
            return c;
        }
        if best.is_none_or(|(fewest, _)| hits < fewest) {
            best = Some((hits, c));
        }
    }
    best.map_or(
        PlacedLabel {
            label: LabelBox {
                left: at.0 + 14,
                top: at.1 - h / 2,
                right: at.0 + 14 + width,
                bottom: at.1 + h / 2,
            },
            far: false,
        },
        |(_, c)| c,
    )
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
    use super::{LabelBox, pareto_front, place_label};

    #[test]
    fn labels_of_coinciding_points_avoid_the_points_and_each_other() {
        let bounds = LabelBox {
            left: 0,
            top: 0,
            right: 600,
            bottom: 400,
        };
        // Five points on one spot, and one beside it.
        let centres = [(300, 200); 5]
            .into_iter()
            .chain([(330, 200)])
            .collect::<Vec<_>>();
        let mut obstacles: Vec<LabelBox> =
            centres.iter().map(|&c| LabelBox::around(c, 7)).collect();
        let points = obstacles.clone();
        let mut labels = Vec::new();
        for &c in &centres {
            let placed = place_label(c, 70, bounds, &obstacles);
            obstacles.push(placed.label);
            labels.push(placed.label);
        }
        for (i, a) in labels.iter().enumerate() {
            assert!(a.inside(&bounds));
            assert!(
                !points.iter().any(|p| p.overlaps(a)),
                "label {i} on a point"
            );
            for b in &labels[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} and {b:?}");
            }
        }
        // The same input, the same places.
        let again = place_label(centres[0], 70, bounds, &points);
        assert_eq!(again.label, labels[0]);
        // At the frame's right edge the label goes to the left.
        let edge = place_label((595, 200), 70, bounds, &[]);
        assert!(edge.label.right <= 595 && !edge.far);
    }

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
