//! Drawing primitives every plot shares: the palette, axes with ticks we choose, number
//! formatting, downsampled lines, legends, series groups, and rendering to an SVG string.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{MAX_GROUPS, PlotError};

pub(super) type Drawn<T = ()> = Result<T, DrawingAreaErrorKind<std::io::Error>>;
pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

pub(super) const WIDTH: u32 = 1_000;
pub(super) const PANEL_HEIGHT: u32 = 220;
pub(super) const HEADER_HEIGHT: u32 = 44;
pub(super) const LEGEND_WIDTH: u32 = 220;
pub(super) const FONT: &str = "sans-serif";

/// Ten colours that stay apart from one another and from the SLO's red (Tableau 10 without its
/// red and grey, plus indigo and dark gold); variants beyond ten reuse them in order.
pub(super) const PALETTE: [RGBColor; 10] = [
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
pub(super) const SLO_RED: RGBColor = RGBColor(220, 0, 0);
pub(super) const LOAD_GREY: RGBColor = RGBColor(150, 150, 150);
/// Near-black, so that desired-replica lines are told apart from black axes.
pub(super) const DESIRED: RGBColor = RGBColor(30, 30, 30);
pub(super) const GRID: RGBColor = RGBColor(228, 228, 228);
pub(super) const WARMUP_SHADE: RGBColor = RGBColor(243, 243, 243);

/// The colour of the variant at `index` in report order.
pub(super) fn variant_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Whether a linear axis of non-negative values starts at zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FromZero {
    /// From zero, so that heights compare as ratios.
    Yes,
    /// From the smallest value, as for a swept parameter.
    No,
}

/// A value axis with ticks we choose (plotters' own may land on 2.5 replicas). With `log`, a
/// point is drawn at log10 of its value and ticks sit at 1, 2 and 5 times powers of ten.
pub(super) struct ValueAxis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
    pub(super) log: bool,
}

impl ValueAxis {
    /// From 0 to a round value at or above `max`, with a little headroom so that a line at
    /// the maximum does not run along the frame.
    pub(super) fn linear(max: f64, intervals: usize, min_step: f64) -> ValueAxis {
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

    /// From a round value at or below `lo` (0 when `lo` is not negative and `from_zero`) to
    /// one at or above `hi`, with ticks at a round step.
    pub(super) fn span(lo: f64, hi: f64, intervals: usize, from_zero: FromZero) -> ValueAxis {
        let lo = match from_zero {
            FromZero::Yes if lo >= 0.0 => 0.0,
            _ => lo,
        };
        if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
            // One value (or none): a range around it, from zero when it may start there.
            let centre = if lo.is_finite() { lo } else { 0.0 };
            if from_zero == FromZero::Yes && centre >= 0.0 {
                return ValueAxis::span(0.0, centre.max(1.0) * 1.5, intervals, FromZero::Yes);
            }
            return ValueAxis::span(
                centre - centre.abs().max(1.0) * 0.5,
                centre + centre.abs().max(1.0) * 0.5,
                intervals,
                FromZero::No,
            );
        }
        let step = nice_step((hi - lo) / intervals.max(1) as f64);
        let bottom = (lo / step).floor() * step;
        let top = (hi / step).ceil() * step;
        let pad = (top - bottom) * 0.04;
        ValueAxis {
            lo: if bottom == 0.0 { 0.0 } else { bottom - pad },
            hi: top + pad,
            ticks: (0..=((top - bottom) / step).round() as i64)
                .map(|k| bottom + k as f64 * step)
                .collect(),
            log: false,
        }
    }

    /// Logarithmic, `lo` and `hi` positive.
    pub(super) fn log(lo: f64, hi: f64) -> ValueAxis {
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

    pub(super) fn position(&self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    pub(super) fn value(&self, position: f64) -> f64 {
        if self.log {
            10f64.powf(position)
        } else {
            position
        }
    }

    pub(super) fn coord(&self) -> Coord {
        Coord::new(self.lo, self.hi, &self.ticks)
    }
}

/// A linear coordinate with ticks we choose. (plotters' `WithKeyPoints` over `f64` loses the
/// label formatting that `configure_mesh` needs.)
#[derive(Debug, Clone)]
pub(super) struct Coord {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Coord {
    pub(super) fn new(lo: f64, hi: f64, ticks: &[f64]) -> Coord {
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
pub(super) fn nice_step(raw: f64) -> f64 {
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
pub(super) fn nice_ticks(lo: f64, hi: f64, intervals: usize, min_step: f64) -> Vec<f64> {
    let step = nice_step((hi - lo) / intervals.max(1) as f64).max(min_step);
    let first = (lo / step).ceil() as i64;
    (first..)
        .map(|k| k as f64 * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .take(100)
        .collect()
}

/// Pixels a tick label's character takes (13-unit labels are 10.5 px of DejaVu Sans, whose
/// digits are 0.64 em wide), and the least gap between two neighbouring labels.
pub(super) const LABEL_CHAR_PX: f64 = 7.0;
const LABEL_GAP_PX: f64 = 12.0;

/// Whether labels at positions `at` (in axis units over `lo..hi`, drawn across `width_px`
/// pixels) leave room between neighbours, given each label's text.
pub(super) fn labels_fit(lo: f64, hi: f64, width_px: f64, at: &[(f64, String)]) -> bool {
    if !(hi - lo).is_finite() || hi <= lo {
        return at.len() <= 1;
    }
    let px = |v: f64| (v - lo) / (hi - lo) * width_px;
    let half = |s: &str| s.chars().count() as f64 * LABEL_CHAR_PX / 2.0;
    at.windows(2)
        .all(|w| px(w[1].0) - px(w[0].0) >= half(&w[0].1) + half(&w[1].1) + LABEL_GAP_PX)
}

/// Round ticks from `lo` to `hi`, about `intervals` apart, or fewer when their labels
/// (`label` of each) would run together across `width_px` pixels: the count comes from the
/// panel's width, so narrow panels (five services side by side) get fewer ticks.
pub(super) fn fitting_ticks(
    lo: f64,
    hi: f64,
    width_px: f64,
    intervals: usize,
    label: impl Fn(f64) -> String,
) -> Vec<f64> {
    let mut ticks = Vec::new();
    for n in (1..=intervals.max(1)).rev() {
        ticks = nice_ticks(lo, hi, n, 0.0);
        let labelled: Vec<(f64, String)> = ticks.iter().map(|&t| (t, label(t))).collect();
        if labels_fit(lo, hi, width_px, &labelled) {
            return ticks;
        }
    }
    // Even one interval is too tight: the two ends, or the first alone.
    ticks.truncate(1);
    ticks
}

/// Which of `n` evenly spaced categories (at 0, 1, ..., n - 1 over `-0.5..n - 0.5`) get a
/// label across `width_px` pixels: every `k`-th, the smallest `k` whose labels do not run
/// together.
pub(super) fn category_stride(labels: &[String], width_px: f64) -> usize {
    let n = labels.len();
    (1..=n.max(1))
        .find(|&k| {
            let shown: Vec<(f64, String)> = labels
                .iter()
                .enumerate()
                .step_by(k)
                .map(|(i, l)| (i as f64, l.clone()))
                .collect();
            labels_fit(-0.5, n as f64 - 0.5, width_px, &shown)
        })
        .unwrap_or(n.max(1))
}

/// A number as a tick label: no trailing zeros, three significant digits for small values.
pub(super) fn fmt_num(v: f64) -> String {
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
pub(super) fn downsample(points: &[Option<(f64, f64)>], groups: usize) -> Vec<Vec<(f64, f64)>> {
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
pub(super) fn finite_point(x: f64, y: f64) -> Option<(f64, f64)> {
    (x.is_finite() && y.is_finite()).then_some((x, y))
}

/// Draws buckets as lines (see [`downsample`]); a line of one point is a dot.
pub(super) fn draw_lines(
    area: &DrawingArea<SVGBackend<'_>, Cartesian2d<Coord, Coord>>,
    points: &[Option<(f64, f64)>],
    style: ShapeStyle,
) -> Drawn {
    for line in downsample(points, MAX_GROUPS) {
        if let [only] = line.as_slice() {
            area.draw(&Circle::new(*only, 2, style.filled()))?;
        } else {
            area.draw(&PathElement::new(line, style))?;
        }
    }
    Ok(())
}

/// [`draw_lines`], dashed: `dash` pixels drawn, `gap` pixels left out, along each line.
pub(super) fn draw_dashed_lines(
    area: &DrawingArea<SVGBackend<'_>, Cartesian2d<Coord, Coord>>,
    points: &[Option<(f64, f64)>],
    (dash, gap): (u32, u32),
    style: ShapeStyle,
) -> Drawn {
    for line in downsample(points, MAX_GROUPS) {
        if let [only] = line.as_slice() {
            area.draw(&Circle::new(*only, 2, style.filled()))?;
        } else {
            area.draw(&DashedPathElement::new(line, dash, gap, style))?;
        }
    }
    Ok(())
}

/// The colour of a 95% band around a line of colour `c`.
pub(super) fn band(c: RGBColor) -> RGBAColor {
    c.mix(0.18)
}

/// How a legend entry is drawn.
pub(super) enum Swatch {
    Line(RGBAColor, u32),
    Dashed(RGBColor),
    Block(RGBColor),
    /// An outlined square, for a ring drawn around points.
    Outline(RGBColor),
    /// A line over a pale band: a mean and its interval.
    Band(RGBColor),
    /// Text only.
    None,
}

/// Entries down a column, from `top`; swatches are rectangles, so a legend adds no
/// `<polyline>` or `<circle>` to the document.
pub(super) fn draw_legend(area: &Area<'_>, top: i32, entries: &[(String, Swatch)]) -> Drawn {
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
            Swatch::Outline(c) => {
                area.draw(&Rectangle::new(
                    [(13, y - 7), (27, y + 7)],
                    c.stroke_width(2),
                ))?;
            }
            Swatch::Band(c) => {
                area.draw(&Rectangle::new(
                    [(8, y - 7), (34, y + 7)],
                    band(*c).filled(),
                ))?;
                area.draw(&Rectangle::new([(8, y - 1), (34, y + 1)], c.filled()))?;
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
pub(super) fn text_style(size: u32, colour: RGBColor) -> TextStyle<'static> {
    TextStyle {
        color: colour.to_backend_color(),
        ..TextStyle::from((FONT, size).into_font())
    }
}

/// A plot's title, top left of its header strip.
pub(super) fn draw_title(header: &Area<'_>, title: &str) -> Drawn {
    header.draw(&Text::new(
        title.to_string(),
        (12, 12),
        text_style(17, BLACK).pos(Pos::new(HPos::Left, VPos::Top)),
    ))
}

pub(super) fn render_svg(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> Drawn) -> Drawn<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(group_series(&svg))
}

pub(super) fn plot_error(file_name: &str, e: &DrawingAreaErrorKind<std::io::Error>) -> PlotError {
    PlotError {
        file_name: file_name.to_string(),
        message: e.to_string(),
    }
}

/// Starts a series or ends one (an empty name): a text element that [`group_series`] turns
/// into `<g>` or `</g>`. A private-use character, which no label contains, marks it.
const SERIES_MARK: char = '\u{E000}';

/// Puts what is drawn from now on, until [`end_series`] or the next `begin_series`, in
/// `<g class="series" data-series="NAME">`. `area` is any area of the document (the marker is
/// removed, so where it is drawn does not matter); for a chart, `plotting_area()
/// .strip_coord_spec()`.
pub(super) fn begin_series(area: &Area<'_>, name: &str) -> Drawn {
    // A line break would split the marker over lines; an empty name would end the group.
    let name: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let name = if name.trim().is_empty() {
        "series".to_string()
    } else {
        name
    };
    mark(area, &name)
}

/// Ends the series [`begin_series`] started.
pub(super) fn end_series(area: &Area<'_>) -> Drawn {
    mark(area, "")
}

/// Draws what `draw` draws as one series (see [`begin_series`]).
pub(super) fn in_series(area: &Area<'_>, name: &str, draw: impl FnOnce() -> Drawn) -> Drawn {
    begin_series(area, name)?;
    draw()?;
    end_series(area)
}

fn mark(area: &Area<'_>, name: &str) -> Drawn {
    area.draw(&Text::new(
        format!("{SERIES_MARK}{name}"),
        (0, 0),
        text_style(10, BLACK),
    ))
}

/// Replaces series markers with groups. plotters writes one element per line and a text
/// element as three lines (`<text ...>`, the escaped text, `</text>`), so a marker is a
/// `<text` line followed by a line that starts with [`SERIES_MARK`]; its text is already
/// escaped for XML, quotes included, so it can stand in an attribute. O(length).
fn group_series(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len());
    let mut lines = svg.lines().peekable();
    let mut open = false;
    while let Some(line) = lines.next() {
        if line.starts_with("<text") && lines.peek().is_some_and(|l| l.starts_with(SERIES_MARK)) {
            let name = &lines.next().unwrap_or_default()[SERIES_MARK.len_utf8()..];
            lines.next(); // </text>
            if std::mem::take(&mut open) {
                out.push_str("</g>\n");
            }
            if !name.is_empty() {
                out.push_str("<g class=\"series\" data-series=\"");
                out.push_str(name);
                out.push_str("\">\n");
                open = true;
            }
            continue;
        }
        if line == "</svg>" && std::mem::take(&mut open) {
            out.push_str("</g>\n");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
